"""``tokyo findings``: the findings ledger — list findings, dismiss, accept or reopen them.

A dismissed finding is left out of every later run (CLI, pre-commit hook, GitHub Action,
TUI) and counted as suppressed in the report. Fingerprints may be shortened to any unique
prefix of at least 4 hex digits, like git commit ids.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tokyo_cli.cli.common import DbOption, JsonOption, exits
from tokyo_cli.cli.listing import emit_json, emit_table, note, open_history, repo_filter

if TYPE_CHECKING:
    from tokyo_cli.store.ledger_query import LedgerEntry

app = typer.Typer(
    help="The findings ledger: what you decided about each finding (dismissed ones stay quiet).",
    no_args_is_help=True,
)

FingerprintArg = Annotated[
    str, typer.Argument(metavar="FINGERPRINT", help="A finding's fingerprint, or a unique prefix (4+ hex digits).")
]
ByOption = Annotated[str | None, typer.Option("--by", metavar="NAME", help="Who decides. [default: your login name]")]


class StatusChoice(str, Enum):
    open = "open"
    accepted = "accepted"
    dismissed = "dismissed"
    all = "all"


def _location(e: LedgerEntry) -> str:
    if not e.path:
        return ""
    from tokyo_cli.safety.textsafe import quote_path

    return f"{quote_path(e.path)}:{e.line}" if e.line else quote_path(e.path)


@app.command("list")
@exits
def list_findings(
    status: Annotated[StatusChoice, typer.Option("--status", "-s", help="Which findings.")] = StatusChoice.open,
    repo: Annotated[
        Path | None,
        typer.Option("--repo", help="Only findings last seen in the repository containing PATH.", file_okay=False),
    ] = None,
    search: Annotated[
        str | None, typer.Option("--search", "-q", metavar="TEXT", help="Full-text search over titles and bodies.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many findings.")] = 50,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> int:
    """List findings from the ledger, most severe first, then most recently seen."""
    from tokyo_cli.store.ledger_query import list_ledger

    database = open_history(db)
    repo_path = repo_filter(database, repo)
    entries = list_ledger(
        database,
        status=None if status is StatusChoice.all else status.value,
        repo=repo_path,
        search=search,
        limit=limit,
    )
    database.close()
    if as_json:
        emit_json([e.model_dump(mode="json") for e in entries])
        return 0
    if not entries:
        note(
            f"No {'' if status is StatusChoice.all else status.value + ' '}findings"
            + (" match." if search or repo else ".")
        )
        return 0
    rows = [
        [
            e.fingerprint,
            e.status,
            e.severity or "",
            _location(e),
            e.title or "",
            e.rule or e.agent or "",
            e.seen,
            e.last_seen_at.astimezone().strftime("%Y-%m-%d") if e.last_seen_at else "",
            e.reason or "",
        ]
        for e in entries
    ]
    columns = ["fingerprint", "status", "severity", "location", "title", "by", "seen", "last seen", "reason"]
    emit_table(columns, rows, right=["seen"], wide=["location", "title", "reason"])
    return 0


def _decide(fingerprint: str, db: Path | None, action: str, **kwargs: object) -> int:
    from tokyo_cli.report import one_line
    from tokyo_cli.store import ledger
    from tokyo_cli.store.ledger_query import get_entry, resolve_fingerprint

    database = open_history(db)
    full = resolve_fingerprint(database, fingerprint)
    getattr(ledger, action)(database, full, **kwargs)
    entry = get_entry(database, full)
    database.close()
    what = f"{_location(entry)} — {one_line(entry.title)}" if entry.path else one_line(entry.title)
    typer.echo(f"{entry.status.capitalize() if entry.status != 'open' else 'Reopened'} {full}: {what}")
    return 0


@app.command("dismiss")
@exits
def dismiss(
    fingerprint: FingerprintArg,
    reason: Annotated[str, typer.Option("--reason", "-r", metavar="TEXT", help="Why it is not worth reporting.")],
    by: ByOption = None,
    db: DbOption = None,
) -> int:
    """Dismiss a finding: later runs leave it out and count it as suppressed."""
    code = _decide(fingerprint, db, "dismiss", reason=reason, who=by)
    note("Later runs will leave it out; undo with `tokyo findings reopen FINGERPRINT`.")
    return code


@app.command("accept")
@exits
def accept(
    fingerprint: FingerprintArg,
    reason: Annotated[str | None, typer.Option("--reason", "-r", metavar="TEXT", help="A note.")] = None,
    by: ByOption = None,
    db: DbOption = None,
) -> int:
    """Accept a finding as a real issue: it is still reported, marked accepted."""
    return _decide(fingerprint, db, "accept", reason=reason, who=by)


@app.command("reopen")
@exits
def reopen(fingerprint: FingerprintArg, by: ByOption = None, db: DbOption = None) -> int:
    """Undo a dismiss or accept: the finding is reported as open again."""
    return _decide(fingerprint, db, "reopen", who=by)


@app.command("show")
@exits
def show(fingerprint: FingerprintArg, db: DbOption = None, as_json: JsonOption = False) -> int:
    """One finding: where it was last seen, its decision and the decision history."""
    from tokyo_cli.report import one_line
    from tokyo_cli.store.ledger_query import get_entry, ledger_events, resolve_fingerprint

    database = open_history(db)
    full = resolve_fingerprint(database, fingerprint)
    entry = get_entry(database, full)
    events = ledger_events(database, full)
    database.close()
    if as_json:
        emit_json({**entry.model_dump(mode="json"), "events": [e.model_dump(mode="json") for e in events]})
        return 0

    def day(value: object) -> str:
        return value.astimezone().strftime("%Y-%m-%d %H:%M") if hasattr(value, "astimezone") else "—"

    lines = [
        ("fingerprint", entry.fingerprint),
        ("status", entry.status + (f" by {entry.decided_by} on {day(entry.decided_at)}" if entry.decided_at else "")),
        ("reason", entry.reason or "—"),
        ("severity", entry.severity or "—"),
        ("location", _location(entry) or "—"),
        ("title", entry.title or "—"),
        ("raised by", entry.rule or entry.agent or "—"),
        ("repository", entry.repo or "—"),
        (
            "seen",
            f"{entry.seen} run(s), first {day(entry.first_seen_at)} (run {entry.first_run_id}), "
            f"last {day(entry.last_seen_at)} (run {entry.last_run_id})",
        ),
    ]
    for label, value in lines:
        typer.echo(f"{label:12} {one_line(str(value))}")
    for e in events:
        reason = f": {one_line(e.reason)}" if e.reason else ""
        typer.echo(f"{'history':12} {day(e.at)} {e.action} by {one_line(e.who or '?')}{reason}")
    return 0
