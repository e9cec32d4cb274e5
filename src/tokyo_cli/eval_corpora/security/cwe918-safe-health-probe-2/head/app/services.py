"""Helpers for the health probe view."""

import os
import urllib.request


HEALTH_URL = os.environ.get("HEALTH_URL", "https://status.example.com/health")


def probe():
    with urllib.request.urlopen(HEALTH_URL, timeout=2) as resp:
        return resp.status == 200
