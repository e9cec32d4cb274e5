"""Helpers for the cleanup confirm view."""

import os


CLEANUP_CMD = "find /tmp/app-cache -type f -mtime +1 -delete"


def run_cleanup():
    os.system(CLEANUP_CMD)
