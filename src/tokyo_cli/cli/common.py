"""Options shared by several commands, and the consoles results and diagnostics go to.

Results go to stdout, diagnostics to stderr. Rich honours NO_COLOR and drops colour and
cursor codes when the stream is not a terminal, so piped output reads plainly.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from tokyo_cli.config.settings import Settings

DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db",
        help="History database file. Default: TOKYO_DB, else $TOKYO_HOME/history.db (or db/home in the user "
        "config file), else the user data dir.",
        dir_okay=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
# Target and model options shared by `tokyo review`, `tokyo describe` and `tokyo fix`.
PathArgument = Annotated[Path, typer.Argument(help="Repository (any path inside it).")]
StagedOption = Annotated[bool, typer.Option("--staged", help="Staged changes.")]
WorkingOption = Annotated[bool, typer.Option("--working", help="All uncommitted changes.")]
BaseOption = Annotated[str | None, typer.Option("--base", metavar="REF", help="REF...HEAD.")]
AllOption = Annotated[bool, typer.Option("--all", help="Every tracked file (audit).")]
PathsOption = Annotated[
    list[str] | None, typer.Option("--path", metavar="GLOB", help="Only files matching GLOB (repeatable).")
]
ModelOption = Annotated[
    str | None, typer.Option("--model", "-m", help="litellm model id for every agent (or TOKYO_MODEL).")
]
ApiBaseOption = Annotated[
    str | None, typer.Option("--api-base", metavar="URL", help="OpenAI-compatible server for all calls.")
]
OfflineOption = Annotated[bool | None, typer.Option("--offline", help="Analyzers only; no provider calls.")]
NoCacheOption = Annotated[bool, typer.Option("--no-cache", help="Ignore stored answers; call the models.")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")]
OutputOption = Annotated[Path | None, typer.Option("--output", "-o", dir_okay=False, help="Write to FILE.")]
RepoOption = Annotated[
    Path,
    typer.Option("--repo", "-C", help="Repository to read agents.yaml and workflows/ from.", file_okay=False),
]


def exits(command: Callable[..., int]) -> Callable[..., None]:
    """Make a command's returned exit code the process exit code.

    Commands return an int (0 success); click ignores return values in standalone mode,
    so a non-zero code is raised as ``typer.Exit``. The signature is kept for Typer.
    """

    @functools.wraps(command)
    def wrapper(*args: object, **kwargs: object) -> None:
        code = command(*args, **kwargs)
        if code:
            raise typer.Exit(code)

    return wrapper


UNWRAPPED_WIDTH = 10_000
"""Columns of a console that must not wrap: longer than any line a report prints."""


def console(*, stderr: bool = False) -> Console:
    """A rich Console on stdout (results) or stderr (diagnostics).

    On a terminal, rich fits the output to the window. Elsewhere (a pipe, a file, a CI log)
    the width is ``$COLUMNS`` when set; else nothing is wrapped (``soft_wrap``, width
    UNWRAPPED_WIDTH), so a model id or a title is never broken mid-word at rich's default
    of 80 columns.
    """
    from rich.console import Console

    out = Console(stderr=stderr, highlight=False)
    if out.is_terminal or os.environ.get("COLUMNS", "").strip().isdigit():
        return out
    return Console(stderr=stderr, highlight=False, width=UNWRAPPED_WIDTH, soft_wrap=True)


def settings_for(**flags: object) -> Settings:
    """Settings for a command: flags over TOKYO_* over defaults (never the reviewed repository)."""
    from tokyo_cli.config.settings import load_settings

    return load_settings(**flags)


def warn_plugins() -> None:
    """Load the plugins (once per process) and print one warning line on stderr when some
    failed; a command that may use a plugin's analyzer, format, agents or workflows calls it.
    A process that never calls it (``tokyo --help``) never loads a plugin."""
    from tokyo_cli.plugins import warning_line

    line = warning_line()
    if line:
        from tokyo_cli.safety.textsafe import one_line

        sys.stderr.write(f"tokyo: {one_line(line)}\n")


def repo_root_or_none(path: Path) -> Path | None:
    """The git top-level directory containing ``path``, or ``None`` outside a repository."""
    from tokyo_cli.errors import RepoError
    from tokyo_cli.git.repo import open_repo

    try:
        repo = open_repo(path)
    except RepoError:
        return None
    return Path(repo.working_tree_dir).resolve() if repo.working_tree_dir else None


def require_repo_root(path: Path) -> Path:
    """The git top-level directory containing ``path``.

    Raises:
        RepoError: ``path`` does not exist, is not inside a git repository, or is inside a bare
            one (open_repo's message, which says how to get a working tree).
    """
    from tokyo_cli.errors import RepoError
    from tokyo_cli.git.repo import open_repo

    if not path.exists():
        raise RepoError(f"no such directory: {path}")
    with open_repo(path.resolve()) as repo:
        return Path(str(repo.working_tree_dir)).resolve()
