"""Runtime configuration from the environment."""

import os
from pathlib import Path


def home() -> Path:
    """The data directory: $SHOP_HOME, default ~/.shop."""
    return Path(os.environ.get("SHOP_HOME", "~/.shop")).expanduser()
