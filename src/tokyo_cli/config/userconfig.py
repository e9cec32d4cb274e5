"""The user config file: the user's own settings, in the platform's config directory.

``config.toml`` in ``platformdirs.user_config_path("tokyo")`` (``~/.config/tokyo/config.toml``
on Linux, or under ``XDG_CONFIG_HOME``; ``~/Library/Application Support/tokyo`` on macOS;
``%LOCALAPPDATA%\\tokyo`` on Windows), or the file ``TOKYO_CONFIG`` names. Keys are the
settings' names (the ``TOKYO_*`` variables, lower-case) at the top level::

    model = "openai/gpt-4o-mini"
    fail_on = "medium"
    callbacks = ["langfuse"]

It is the user's file, so every key is trusted (unlike a reviewed repository's
``.tokyo.toml``, see :mod:`tokyo_cli.config.repository`). Precedence: :mod:`tokyo_cli.config.settings`.
This module only reads the file (no pydantic-settings import), so listings that need one
value (``tokyo history``'s database) stay fast.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tokyo_cli.errors import ConfigError

USER_CONFIG_FILE = "config.toml"
HISTORY_FILE = "history.db"
CONFIG_ENV = "TOKYO_CONFIG"
"""Environment variable naming the user config file (instead of the platform's location)."""


def user_config_path() -> Path:
    """The user config file: ``$TOKYO_CONFIG`` when set, else
    ``platformdirs.user_config_path("tokyo") / "config.toml"`` (it may not exist)."""
    named = os.environ.get(CONFIG_ENV, "").strip()
    if named:
        return Path(named).expanduser()
    import platformdirs

    return platformdirs.user_config_path("tokyo", appauthor=False) / USER_CONFIG_FILE


def default_history_path() -> Path:
    """The default history database (it may not exist): ``$TOKYO_HOME/history.db``, else
    ``platformdirs.user_data_dir("tokyo") / "history.db"``. Here, not in :mod:`tokyo_cli.store`,
    so that a command can ask whether a history exists without loading sqlite-utils
    (:func:`tokyo_cli.engine.early.start_import_early` asks before anything else is loaded)."""
    home = os.environ.get("TOKYO_HOME")
    if home:
        return Path(home).expanduser() / HISTORY_FILE
    import platformdirs

    return Path(platformdirs.user_data_dir("tokyo", appauthor=False)) / HISTORY_FILE


def load_user_config(path: Path | None = None) -> dict[str, Any]:
    """The user config file as ``{setting: value}`` (``{}`` when the platform's file does not
    exist): ``-`` in keys read as ``_``, ``~`` expanded in ``home`` and ``db``. Keys are not
    checked here (:func:`tokyo_cli.config.settings.load_settings` does).

    Raises:
        ConfigError: a file ``TOKYO_CONFIG`` names does not exist, or the file is unreadable,
            over the 1 MB limit or not valid TOML (one line naming the file).
    """
    from tokyo_cli.config.limits import load_toml_text, read_config_text

    path = path or user_config_path()
    if not path.is_file():
        if path.exists():
            raise ConfigError(f"{path}: the user config file is not a file")
        if os.environ.get(CONFIG_ENV, "").strip():
            raise ConfigError(f"{path}: no such user config file ({CONFIG_ENV})")
        return {}
    shown = str(path)
    out: dict[str, Any] = {}
    for raw_key, value in load_toml_text(read_config_text(path, shown), shown).items():
        key = raw_key.replace("-", "_")
        if key in ("home", "db") and isinstance(value, str):
            value = str(Path(value).expanduser())
        out[key] = value
    return out
