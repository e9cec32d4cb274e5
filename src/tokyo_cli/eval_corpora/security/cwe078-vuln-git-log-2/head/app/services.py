"""Helpers for the git log view."""

import os
import subprocess


REPO_DIR = os.environ.get("REPO_DIR", "/srv/repo")


def recent_commits(branch):
    out = subprocess.check_output("git log --oneline -n 20 " + branch, shell=True, cwd=REPO_DIR)
    return out.decode().splitlines()
