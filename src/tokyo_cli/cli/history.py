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


def _since(text: str) -> datetime:
    """``--since``: ``7d`` (days ago), ``12h`` (hours ago) or an ISO 8601 date or time (UTC
    when it names no offset).

    Raises:
        ConfigError: anything else.
    """
    import re
    from datetime import timedelta

    from tokyo_cli.errors import ConfigError

    m = re.fullmatch(r"\s*(\d{1,6})\s*([dh])\s*", text)
    if m:
        unit = timedelta(days=1) if m.group(2) == "d" else timedelta(hours=1)
        return datetime.now(UTC) - int(m.group(1)) * unit
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(f"--since takes 7d, 12h or an ISO 8601 date such as 2026-05-01, not {text!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@app.command("export")
@exits
def export(
    run_ids: Annotated[list[int] | None, typer.Argument(metavar="[RUN_ID]...", help="Runs to export.")] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", metavar="WHEN", help="Every run that started since WHEN: 7d, 12h or an ISO date."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", dir_okay=False, help="Write to FILE (default: stdout).")
    ] = None,
    db: DbOption = None,
) -> int:
    """Write runs (steps, calls, findings) and their ledger decisions as JSON lines.

    `tokyo history import FILE...` merges such files into another database, once per run
    however often a file is imported. Secrets are masked; no API key is ever in a run.
    """
    import sys

    from tokyo_cli.errors import ConfigError
    from tokyo_cli.store.portable import export_lines, run_ids_since

    if bool(run_ids) == (since is not None):
        raise ConfigError("say which runs to export: RUN_ID... or --since WHEN (not both)")
    database = open_history(db)
    try:
        ids = list(run_ids or []) if since is None else run_ids_since(database, _since(since))
        lines = export_lines(database, ids)
        if output is None:
            for line in lines:
                sys.stdout.write(line)
            return 0
        _write_atomically(output, lines)
    finally:
        database.close()
    note(f"Exported {len(ids)} run{'' if len(ids) == 1 else 's'} to {output}")
    return 0


def _write_atomically(output: Path, lines: object) -> None:
    """Write ``lines`` to ``output`` through a temporary file renamed into place, so a failed
    export never leaves half a file where a collector would read it."""
    import os
    import tempfile

    from tokyo_cli.errors import TokyoError

    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                for line in lines:  # type: ignore[attr-defined]
                    handle.write(line)
            os.replace(tmp, output)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise TokyoError(f"cannot write {output}: {exc.strerror or exc}", exit_code=3) from None


@app.command("import")
@exits
def import_(
    files: Annotated[list[Path], typer.Argument(help="Files written by tokyo history export.", dir_okay=False)],
    db: DbOption = None,
) -> int:
    """Merge exported runs and ledger decisions into this history database.

    A run already here (same uid) is skipped, so importing a file twice stores its runs
    once; a ledger decision keeps the newest one made anywhere. Every file is checked
    before anything is written; a bad file is refused whole.
    """
    from tokyo_cli.store.portable import import_files

    database = open_history(db)
    try:
        report = import_files(database, list(files))
    finally:
        database.close()
    typer.echo(
        f"Imported {report.runs_added} run(s) ({report.runs_present} already present) from "
        f"{len(report.files)} file(s); {report.events_added} ledger event(s) added, "
        f"{report.decisions_changed} decision(s) changed."
    )
    return 0
