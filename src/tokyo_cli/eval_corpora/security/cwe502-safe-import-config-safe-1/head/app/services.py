"""Helpers for the import config safe view."""

import yaml


def parse_config(text):
    return yaml.safe_load(text)
