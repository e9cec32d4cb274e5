"""Helpers for the report view."""

import json
import os
from pathlib import Path


REPORTS = os.environ.get("REPORT_DIR", "/srv/reports")


def read_report(name):
    path = Path(REPORTS) / name
    return path.read_text()
