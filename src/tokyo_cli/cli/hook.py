"""``tokyo hook``: review what is about to be committed or pushed, for git hooks.

A command of its own rather than ``tokyo review --staged --hook``: its target comes from
pre-commit's environment (the staged change, or the pushed commits on pre-push), it has
options ``review`` has not (``--time-limit``, ``--hook-id``) and none of the ones that make
no sense in a hook (``--format``, ``--github``, ``--tui``, ``--base``); and it deliberately
takes no ``--api-base`` or ``--db``: a hook's arguments come from the repository's
``.pre-commit-config.yaml``, which must not be able to send your code to another server.
The work is in :mod:`tokyo_cli.hook`.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated

import typer

from tokyo_cli.cli.common import require_repo_root, settings_for, warn_plugins

HELP = """Review the staged change (on pre-push: the pushed commits) for a git hook.

Made for the pre-commit framework: hook ids tokyo-review (offline analyzers
always, each agent's model when its key is set) and tokyo-review-offline
(analyzers only). Works from a plain .git/hooks script too:

  tokyo hook      what `git commit` would commit; with PRE_COMMIT_FROM_REF and
                  PRE_COMMIT_TO_REF set (pre-push), the commits FROM..TO

Stops after --time-limit seconds: what finished is reported, what did not
never blocks. Prints one line per blocking finding, a summary and how to skip.
The run is stored in history; findings dismissed with `tokyo findings dismiss`
stay silent. Keys and TOKYO_API_BASE come from your environment only.

Exit codes (as for tokyo review): 0 nothing at/above --fail-on (also when a
provider is unreachable or the time limit stopped a model: the analyzers'
findings count), 1 findings at/above it, 2 configuration error, 3 nothing
usable came back (every step failed and no analyzer found anything), 4 the run
was not saved to history, 130 interrupted.
"""


def hook(
    path: Annotated[Path, typer.Argument(help="Repository (any path inside it).")] = Path("."),
    offline: Annotated[bool, typer.Option("--offline", help="Analyzers only; no provider calls.")] = False,
    time_limit: Annotated[
        float,
        typer.Option(
            "--time-limit",
            metavar="SECONDS",
            min=1,
            envvar="TOKYO_HOOK_TIME_LIMIT",
            help="For the review; what has not finished by then is left out.",
        ),
    ] = 60.0,
    fail_on: Annotated[
        str | None,
        typer.Option(
            "--fail-on", metavar="SEVERITY", help="critical|high|medium|low|info. Default: the workflow's (high)."
        ),
    ] = None,
    workflow: Annotated[
        str | None, typer.Option("--workflow", "-w", help="Workflow name or YAML file. Default: review.")
    ] = None,
    hook_id: Annotated[
        str, typer.Option("--hook-id", metavar="ID", help="The pre-commit hook id, for the SKIP=ID hint.")
    ] = "tokyo-review",
) -> int:
    started = time.monotonic()
    from tokyo_cli.hook import prepare_hook, render_hook, run_hook, scope_from_env

    root = require_repo_root(path)
    warn_plugins()
    settings = settings_for(workflow=workflow, offline=True if offline else None, fail_on=fail_on)
    scope = scope_from_env(os.environ)
    prepared = prepare_hook(root, settings, scope)
    if not prepared.changeset.files:
        typer.echo(f"tokyo: nothing to review in {prepared.target.description}")
        return 0
    from tokyo_cli.engine.early import start_import_early

    start_import_early(settings)
    outcome = run_hook(prepared, settings, time_limit=time_limit)
    lines = render_hook(
        outcome,
        scope=scope,
        hook_id=hook_id,
        under_pre_commit=os.environ.get("PRE_COMMIT") == "1",
        width=_width(),
        seconds=time.monotonic() - started,
    )
    typer.echo("\n".join(lines))
    return outcome.exit_code()


def _width() -> int | None:
    """Columns to fit finding lines in: $COLUMNS or the terminal's; ``None`` (no limit) when
    stdout is a pipe, as under pre-commit, which shows the lines in a terminal of unknown width."""
    if os.environ.get("COLUMNS", "").isdigit():
        return int(os.environ["COLUMNS"])
    try:
        return os.get_terminal_size(1).columns
    except OSError:
        return None
