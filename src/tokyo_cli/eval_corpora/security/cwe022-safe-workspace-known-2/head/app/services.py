"""Helpers for the workspace known view."""

import os
import shutil


WORKSPACES = "/srv/workspaces"


def list_workspaces():
    return {entry.name for entry in os.scandir(WORKSPACES) if entry.is_dir()}
