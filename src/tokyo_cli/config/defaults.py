"""Where the packaged team and workflows live: the one source of truth for both.

Its own module (not team.py) so the reviewed repository's configuration (``repository``),
the team and the workflows can all find the defaults without importing each other in a
circle.
"""

from __future__ import annotations

from pathlib import Path

from tokyo_cli.errors import ConfigError

AGENTS_FILE = "agents.yaml"
_PACKAGE_DIR = Path(__file__).resolve().parents[1]  # src/tokyo_cli, above config/


def defaults_dir() -> Path:
    """The directory holding the packaged agents.yaml and workflows/.

    An installed wheel carries them as ``tokyo_cli/defaults/`` (hatch force-include of the
    repository-root files, see pyproject.toml); an editable or source checkout has no such
    directory, so the repository root (two levels above the package: ``src/tokyo_cli``) is
    used — one source of truth either way.

    Raises:
        ConfigError: neither location holds an agents.yaml (a broken installation).
    """
    packaged = _PACKAGE_DIR / "defaults"
    if (packaged / AGENTS_FILE).is_file():
        return packaged
    root = _PACKAGE_DIR.parents[1]
    if (root / AGENTS_FILE).is_file() and (root / "pyproject.toml").is_file():
        return root
    raise ConfigError(f"packaged defaults not found (looked in {packaged} and {root}): reinstall tokyo-cli")
