"""Helpers for the import config view."""

import json
import yaml


def parse_config(text):
    return yaml.load(text, Loader=yaml.Loader)
