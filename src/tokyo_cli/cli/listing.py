"""What the history commands share: opening the database and printing listings.

A listing prints as a table on a terminal and as tab-separated lines (a header line, then
one line per row, no colour) when stdout is a pipe or file, so ``tokyo history | cut -f1``
and ``grep`` work; ``--json`` prints JSON. Rich drops colour when ``NO_COLOR`` is set.
Cell text may come from models or repositories (finding titles, paths): it is printed as
plain text, never as Rich markup, with control characters removed.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from sqlite_utils import Database


def open_history(db: Path | None) -> Database:
    """The history database for ``--db`` (``None``: TOKYO_DB, TOKYO_HOME, user data dir).

    Raises:
        StoreError: the database cannot be opened (one line).
    """
    from tokyo_cli.store.db import open_db

    if db is not None:  # the flag outranks every other source
        return open_db(db)
    # The same precedence as Settings.db_path() (db: TOKYO_DB, then the user config file; else
    # home/history.db: TOKYO_HOME, then the user config; else the user data dir), read
    # directly: pydantic-settings costs ~0.15 s of start-up that a listing should not.
    from tokyo_cli.config.userconfig import load_user_config

    user = load_user_config()
    db_path = os.environ.get("TOKYO_DB", "").strip() or str(user.get("db") or "")
    if db_path:
        return open_db(Path(db_path).expanduser())
    home = os.environ.get("TOKYO_HOME", "").strip() or str(user.get("home") or "")
    return open_db(Path(home).expanduser() / "history.db" if home else None)


def repo_filter(database: Database, repo: Path | None) -> str | None:
    """The stored repository path a ``--repo PATH`` option means (``None`` without one).

    PATH may be the repository or any directory inside it; a path no run has is kept as
    given (it matches nothing).
    """
    if repo is None:
        return None
    from tokyo_cli.store.history import known_repo

    resolved = str(repo.expanduser().resolve())
    return known_repo(database, resolved) or resolved


def emit_json(data: Any) -> None:
    """``data`` as indented JSON on stdout (UTF-8 kept)."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def emit_table(
    columns: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    right: Sequence[str] = (),
    wide: Sequence[str] = (),
    tty: bool | None = None,
) -> None:
    """Print ``rows`` under ``columns``: a table on a terminal, tab-separated otherwise.

    Args:
        right: columns to right-align (numbers); they never wrap.
        wide: columns that take the spare width (titles, paths). Text columns wrap rather
            than disappear when the terminal is narrow.
        tty: force one form (tests); default: whether stdout is a terminal.
    """
    from tokyo_cli.report import one_line

    cells = [[one_line(str(v)) if v is not None else "" for v in row] for row in rows]
    if not (sys.stdout.isatty() if tty is None else tty):
        lines = ["\t".join(columns), *("\t".join(c.replace("\t", " ") for c in row) for row in cells)]
        sys.stdout.write("\n".join(lines) + "\n")
        return
    from rich.table import Table
    from rich.text import Text

    from tokyo_cli.cli.common import console

    # One-space gaps; numbers never break, text columns wrap (never hide) on narrow terminals.
    table = Table(box=None, pad_edge=False, padding=(0, 1), collapse_padding=True, header_style="bold")
    for name in columns:
        number = name in right
        table.add_column(
            name,
            justify="right" if number else "left",
            no_wrap=number,
            overflow="fold",
            ratio=1 if name in wide else None,
        )
    for row in cells:
        table.add_row(*(Text(c) for c in row))
    console().print(table)


def note(message: str) -> None:
    """A diagnostic line on stderr (plain text, never markup)."""
    from rich.text import Text

    from tokyo_cli.cli.common import console

    console(stderr=True).print(Text(message))
