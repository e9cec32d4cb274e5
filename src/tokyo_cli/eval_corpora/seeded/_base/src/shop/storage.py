"""Saving carts as JSON files."""

import json
from pathlib import Path


def save(path: Path, data: dict) -> None:
    """Write ``data`` to ``path`` as JSON."""
    path.write_text(json.dumps(data))


def load(path: Path) -> dict:
    """Read the JSON object saved at ``path``."""
    return json.loads(path.read_text())
