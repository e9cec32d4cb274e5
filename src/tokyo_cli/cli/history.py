"""``tokyo history``: recent runs from the history database, and ``history prune``."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from tokyo_cli.cli.common import DbOption, JsonOption, exits
from tokyo_cli.cli.listing import emit_json, emit_table, note, open_history, repo_filter

app = typer.Typer(help="Past runs stored in the history database.", invoke_without_command=True)


class RunStatusChoice(str, Enum):
    running = "running"
    completed = "completed"
    partial = "partial"
    failed = "failed"
    cancelled = "cancelled"


@app.callback(invoke_without_command=True)
@exits
def history(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many runs.")] = 20,
    repo: Annotated[
        Path | None, typer.Option("--repo", help="Only runs of the repository containing PATH.", file_okay=False)
    ] = None,
    workflow: Annotated[str | None, typer.Option("--workflow", "-w", help="Only runs of this workflow.")] = None,
    status: Annotated[RunStatusChoice | None, typer.Option("--status", help="Only runs with this status.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> int:
    """List recent runs, newest first (tab-separated when piped; `tokyo show ID` for one)."""
    if ctx.invoked_subcommand is not None:
        return 0
    from tokyo_cli.store.history import list_runs

    database = open_history(db)
    repo_path = repo_filter(database, repo)
    runs = list_runs(database, limit=limit, repo=repo_path, workflow=workflow, status=status.value if status else None)
    database.close()
    if as_json:
        emit_json([r.model_dump(mode="json") for r in runs])
        return 0
    if not runs:
        filtered = repo or workflow or status
        note("No runs match." if filtered else "No runs yet. Run `tokyo review` in a git repository.")
        return 0
    import sys

    tty = sys.stdout.isatty()
    # A terminal gets short cells and the suppressed column only when it says something.
    show_suppressed = not tty or any(r.suppressed for r in runs)
    rows = []
    for r in runs:
        counts = " ".join(f"{n}{sev[0].upper()}" for sev, n in r.findings.items() if n) or "0"
        cost = "—" if r.cost_usd is None else f"{r.cost_usd:.4f}"
        when = r.started_at.astimezone()
        rows.append(
            [
                r.id,
                _when(when) if tty else when.isoformat(timespec="seconds"),
                Path(r.repo).name if tty else r.repo,
                r.target,
                r.workflow,
                r.status,
                counts,
                *([r.suppressed] if show_suppressed else []),
                cost,
                f"{r.seconds:.1f}",
            ]
        )
    columns = [
        "id",
        "when",
        "repo",
        "target",
        "workflow",
        "status",
        "findings",
        *(["suppressed"] if show_suppressed else []),
        "USD",
        "s",
    ]
    emit_table(columns, rows, right=["id", "suppressed", "USD", "s"], wide=["repo", "workflow"], tty=tty)
    return 0


def _when(when: datetime) -> str:
    """``Dec 13 05:20`` this year, ``2024-12-13`` before (fits narrow terminals)."""
    if when.year == datetime.now().year:
        return when.strftime("%b %d %H:%M")
    return when.strftime("%Y-%m-%d")


@app.command("prune")
@exits
def prune(
    older_than: Annotated[
        int | None,
        typer.Option("--older-than", metavar="DAYS", min=0, help="Delete runs that started more than DAYS days ago."),
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Delete every run (what --older-than 0 means).")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation on a terminal.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only say how many runs would be deleted.")] = False,
    vacuum: Annotated[bool, typer.Option("--vacuum", help="Then shrink the database file (VACUUM).")] = False,
    db: DbOption = None,
) -> int:
    """Delete old runs with their steps, calls, findings and files.

    The findings ledger is kept: every fingerprint and every dismiss/accept decision
    survives, so dismissed findings stay suppressed. Run ids are never reused: a deleted
    run's id stays unused. On a terminal it asks first (--yes skips the question);
    --older-than 0 deletes every run, so it needs --all.
    """
    import sys
    from datetime import timedelta

    from tokyo_cli.errors import ConfigError
    from tokyo_cli.store.db import db_path, translate_errors
    from tokyo_cli.store.history import prune_runs

    if every and older_than:
        raise ConfigError("choose --older-than DAYS or --all, not both")
    if older_than == 0 and not every:
        raise ConfigError("--older-than 0 deletes every run: pass --all if that is what you mean")
    if older_than is None and not every:
        raise ConfigError("say which runs to delete: --older-than DAYS, or --all")
    cutoff = None if every else datetime.now(UTC) - timedelta(days=older_than or 0)
    database = open_history(db)
    try:
        count = prune_runs(database, before=cutoff, dry_run=True)
        runs = f"{count:,} run{'' if count == 1 else 's'}"
        when = "" if cutoff is None else f" that started before {cutoff.astimezone():%Y-%m-%d %H:%M}"
        which = "every run" if cutoff is None else f"{runs}{when}"
        if dry_run:
            typer.echo(f"Would delete {which}" + (f" ({runs})." if every else "."))
            return 0
        if count == 0:
            typer.echo("Nothing to delete.")
            return 0
        if not yes and sys.stdin.isatty():
            question = f"Delete {which}" + (f" ({runs})" if every else "") + " (the findings ledger is kept)?"
            if not typer.confirm(question, default=False):
                typer.echo("Nothing deleted.")
                return 0
        count = prune_runs(database, before=cutoff)
        runs = f"{count:,} run{'' if count == 1 else 's'}"
        typer.echo(f"Deleted {runs}{when}; the findings ledger is kept.")
        if vacuum:
            with translate_errors(db_path(database)):
                database.vacuum()
    finally:
        database.close()
    return 0
