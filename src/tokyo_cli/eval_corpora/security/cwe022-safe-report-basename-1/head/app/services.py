"""Helpers for the report basename view."""

import os
from pathlib import Path


REPORTS = os.environ.get("REPORT_DIR", "/srv/reports")


def read_report(name):
    path = Path(REPORTS) / os.path.basename(name)
    return path.read_text()
