"""The findings ledger: what a person decided about each finding, by fingerprint.

A finding's fingerprint (:func:`tokyo_cli.findings.fingerprint`: path, rule or agent,
normalised text of the anchored line, normalised title — not the line number) stays the same
when the code around it moves, so a decision made once holds in every later run:

* ``open``: nobody decided yet (every finding starts here);
* ``accepted``: a real issue, acknowledged; still reported, with ``status = "accepted"``;
* ``dismissed``: not worth reporting (false positive, intended); left out of every later
  run by :func:`apply_ledger`, which :func:`tokyo_cli.engine.review.run_review` calls for every
  entry point (CLI, hook, Action, TUI), and counted in ``RunResult.suppressed``.

The ledger is keyed by fingerprint alone, not by repository: dismissing a finding also
dismisses the identical finding (same path, rule, line text and title) in another
repository that shares the database.

Typical use::

    with open_db() as db:
        dismiss(db, "3fa2b1c0d9e8f7a6", reason="test fixture, not real code", who="mei")
        apply_ledger(db, result)        # before save_run / rendering
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, Literal

from sqlite_utils import Database

from tokyo_cli.errors import StoreError
from tokyo_cli.findings import Finding
from tokyo_cli.results import RunResult
from tokyo_cli.store.db import db_path, translate_errors, write_transaction

LedgerStatus = Literal["open", "accepted", "dismissed"]
STATUSES: tuple[str, ...] = ("open", "accepted", "dismissed")

_CHUNK = 500  # bound parameters per IN (...) query; SQLite's default limit is 32 766


def default_who() -> str:
    """The name recorded when a caller gives none: the OS login name, else ``"unknown"``."""
    try:
        return getpass.getuser()
    except Exception:  # no login name (some containers): getuser raises OSError/KeyError
        return "unknown"


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


# --- decisions ------------------------------------------------------------------------


def lookup_row(db: Database, fingerprint: str) -> tuple[dict[str, Any], bool] | None:
    """The ledger row for ``fingerprint`` and True; else one built from its latest stored
    finding and False (not inserted); ``None`` when neither knows it."""
    cur = db.execute("SELECT * FROM ledger WHERE fingerprint = ?", [fingerprint])
    row = cur.fetchone()
    if row is not None:
        return dict(zip([d[0] for d in cur.description], row)), True
    latest = db.execute(
        """SELECT f.path, f.line, f.rule, f.agent, f.severity, f.category, f.title, f.run_id,
                  r.repo, r.started_at
           FROM findings AS f JOIN runs AS r ON r.id = f.run_id
           WHERE f.fingerprint = ? ORDER BY f.id DESC LIMIT 1""",
        [fingerprint],
    ).fetchone()
    if latest is None:
        return None
    path, line, rule, agent, severity, category, title, run_id, repo, started = latest
    first_run, seen = db.execute(
        "SELECT MIN(run_id), COUNT(DISTINCT run_id) FROM findings WHERE fingerprint = ? AND scope = 'run'",
        [fingerprint],
    ).fetchone()
    built = {
        "fingerprint": fingerprint,
        "status": "open",
        "repo": repo,
        "path": path,
        "line": line,
        "rule": rule,
        "agent": agent,
        "severity": severity,
        "category": category,
        "title": title,
        "first_seen_at": started,
        "last_seen_at": started,
        "first_run_id": first_run or run_id,
        "last_run_id": run_id,
        "seen": seen,
    }
    return built, False


def not_found_error(fingerprint: str) -> StoreError:
    """The one-line usage error (exit code 2) for a fingerprint nothing has seen."""
    return StoreError(f"no finding with fingerprint {fingerprint}", exit_code=2)


def _decide(db: Database, fingerprint: str, status: LedgerStatus, *, reason: str | None, who: str | None) -> None:
    reason = reason.strip() if reason else None
    who = (who or "").strip() or default_who()
    with translate_errors(db_path(db)), write_transaction(db):
        found = lookup_row(db, fingerprint)
        if found is None:
            raise not_found_error(fingerprint)
        row, stored = found
        if not stored:
            db.table("ledger").insert(row)
        # A grouped finding's decision is its members' decision too (tokyo_cli.engine.grouping).
        for member in _group_members(db, fingerprint, row):
            _record(db, member, status, reason=reason, who=who)
        _record(db, row, status, reason=reason, who=who)


def _group_members(db: Database, fingerprint: str, group: dict[str, Any]) -> list[dict[str, Any]]:
    """Ledger rows (stored, or built from the group's latest stored finding and inserted) for
    the members of the grouped finding ``fingerprint``; ``[]`` when it is not a group."""
    latest = db.execute(
        "SELECT members FROM findings WHERE fingerprint = ? ORDER BY id DESC LIMIT 1", [fingerprint]
    ).fetchone()
    members = json.loads(latest[0] or "[]") if latest else []
    rows = []
    for m in members:
        cur = db.execute("SELECT * FROM ledger WHERE fingerprint = ?", [m["fingerprint"]])
        found = cur.fetchone()
        if found is not None:
            rows.append(dict(zip([d[0] for d in cur.description], found)))
            continue
        row = {
            **group,
            "fingerprint": m["fingerprint"],
            "status": "open",
            "path": m["path"],
            "line": m["line"],
            "title": m["title"],
            "severity": m["severity"],
            "reason": None,
            "decided_by": None,
            "decided_at": None,
        }
        db.table("ledger").insert(row)
        rows.append(row)
    return rows


def _record(db: Database, row: dict[str, Any], status: LedgerStatus, *, reason: str | None, who: str) -> None:
    """Set one ledger row's status and add the decision event (nothing for open -> open)."""
    fingerprint = row["fingerprint"]
    action = {"dismissed": "dismiss", "accepted": "accept", "open": "reopen"}[status]
    if status == "open" and row["status"] == "open":
        return  # reopening an open finding changes nothing; no event either
    at = _now()
    if status == "open":
        db.execute(
            "UPDATE ledger SET status = 'open', reason = NULL, decided_by = NULL, "
            "decided_at = NULL WHERE fingerprint = ?",
            [fingerprint],
        )
    else:
        db.execute(
            "UPDATE ledger SET status = ?, reason = ?, decided_by = ?, decided_at = ? WHERE fingerprint = ?",
            [status, reason, who, at, fingerprint],
        )
    db.table("ledger_events").insert(
        {"fingerprint": fingerprint, "action": action, "reason": reason, "who": who, "at": at}
    )


def dismiss(db: Database, fingerprint: str, *, reason: str, who: str | None = None) -> None:
    """Mark a finding dismissed: later runs leave it out and count it as suppressed.

    Args:
        fingerprint: the full 16-hex-digit fingerprint (short prefixes: see
            :func:`~tokyo_cli.store.ledger_query.resolve_fingerprint`).
        reason: why (required, non-blank): "false positive", "test fixture", ...
        who: who decided; default :func:`default_who`.

    Raises:
        StoreError: "no finding with fingerprint X" (exit code 2) when no stored run ever
            reported it and the ledger does not know it; a blank reason (exit code 2); or
            the database is locked, full or read-only.
    """
    if not reason or not reason.strip():
        raise StoreError("a dismissal needs a reason (--reason TEXT)", exit_code=2)
    _decide(db, fingerprint, "dismissed", reason=reason, who=who)


def accept(db: Database, fingerprint: str, *, who: str | None = None, reason: str | None = None) -> None:
    """Mark a finding accepted (acknowledged as real): still reported, ``status="accepted"``.

    Raises:
        StoreError: as :func:`dismiss` (unknown fingerprint, database errors).
    """
    _decide(db, fingerprint, "accepted", reason=reason, who=who)


def reopen(db: Database, fingerprint: str, *, who: str | None = None) -> None:
    """Undo a decision: the finding is ``open`` again and reported in later runs.

    The decision history (:func:`~tokyo_cli.store.ledger_query.ledger_events`) keeps the
    earlier decisions.

    Raises:
        StoreError: as :func:`dismiss` (unknown fingerprint, database errors).
    """
    _decide(db, fingerprint, "open", reason=None, who=who)


def record_decision(db: Database, fingerprint: str, status: LedgerStatus, *, reason: str | None, who: str) -> bool:
    """Record a decision taken elsewhere (a ``/tokyo dismiss`` reply on GitHub), also for a
    fingerprint this database has never seen (a fresh runner's empty history): a bare ledger
    row is created for it. Returns False when the ledger already holds this exact decision
    (every run replays the pull request's decisions; only changes become events).

    Raises:
        StoreError: the database is locked, full or read-only.
    """
    reason = reason.strip() if reason else None
    with translate_errors(db_path(db)), write_transaction(db):
        found = lookup_row(db, fingerprint)
        if found is None:
            row: dict[str, Any] = {"fingerprint": fingerprint, "status": "open", "seen": 0}
            db.table("ledger").insert(row)
        else:
            row, stored = found
            if not stored:
                db.table("ledger").insert(row)
            elif row["status"] == status and row.get("reason") == reason and row.get("decided_by") == who:
                return False
        _record(db, row, status, reason=reason, who=who)
    return True


# --- applying -------------------------------------------------------------------------


def ledger_status(db: Database, fingerprints: Iterable[str]) -> dict[str, str]:
    """``{fingerprint: "open" | "accepted" | "dismissed"}`` for every given fingerprint.

    Fingerprints the ledger has never seen are ``"open"``. One indexed query per 500
    fingerprints.

    Raises:
        StoreError: an unreadable database.
    """
    wanted = list(dict.fromkeys(fingerprints))
    status = dict.fromkeys(wanted, "open")
    with translate_errors(db_path(db)):
        for chunk in _chunks(wanted):
            marks = ", ".join("?" * len(chunk))
            rows = db.execute(
                f"SELECT fingerprint, status FROM ledger WHERE status != 'open' AND fingerprint IN ({marks})",
                chunk,
            )
            status.update(dict(rows.fetchall()))
    return status


def apply_ledger(db: Database, result: RunResult) -> int:
    """Apply the ledger's decisions to a finished run, before it is stored or reported.

    Dismissed findings are removed from ``result.findings`` and from every step's raw
    findings (so step tables, SARIF and PR comments agree with the report); accepted ones
    still ``open`` get ``status = "accepted"``. The number removed from ``result.findings`` is added to
    ``result.suppressed`` (applying twice adds 0) and returned. A summary the engine
    generated offline is regenerated without the dismissed findings; a model's synthesis
    is left as written.

    Raises:
        StoreError: an unreadable database.
    """
    everything = [*result.findings, *(f for s in result.steps for f in s.findings)]
    status = ledger_status(db, [fp for f in everything for fp in (f.fingerprint, *(m.fingerprint for m in f.members))])

    def decision(f: Finding) -> str:
        if not f.members:
            return status.get(f.fingerprint, "open")
        # A group is decided by its members: dismissed when every member is, so a new member
        # reopens it; the group's own fingerprint only records the decision.
        member = {status.get(m.fingerprint, "open") for m in f.members}
        return member.pop() if len(member) == 1 else "open"

    def keep(findings: list[Finding]) -> list[Finding]:
        kept = []
        for f in findings:
            decided = decision(f)
            if decided == "dismissed":
                continue
            if decided == "accepted" and f.status == "open":  # keep e.g. a model's "dismissed"
                f.status = "accepted"
            kept.append(f)
        return kept

    from tokyo_cli.summary import offline_summary

    # The engine's generated summary counts and names findings: redo it without the
    # dismissed ones. A model-written synthesis is kept as written.
    generated = "dismissed" in status.values() and result.summary == offline_summary(result)
    before = len(result.findings)
    result.findings = keep(result.findings)
    for step in result.steps:
        step.findings = keep(step.findings)
    removed = before - len(result.findings)
    result.suppressed += removed
    if generated:
        result.summary = offline_summary(result)
    return removed


def record_seen(db: Database, run_id: int, result: RunResult) -> None:
    """Upsert a ledger row for each of the run's merged findings (new ones ``open``).

    Updates the last-seen fields and ``seen``; never changes a decision. Called by
    :func:`tokyo_cli.store.history.save_run` inside its transaction.
    """
    at = result.started_at.isoformat()
    latest = {f.fingerprint: f for f in result.findings if f.fingerprint}
    db.conn.executemany(
        """INSERT INTO ledger (fingerprint, status, repo, path, line, rule, agent, severity,
                               category, title, first_seen_at, last_seen_at, first_run_id,
                               last_run_id, seen)
           VALUES (?, 'open', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
           ON CONFLICT (fingerprint) DO UPDATE SET
               repo = excluded.repo, path = excluded.path, line = excluded.line,
               rule = excluded.rule, agent = excluded.agent, severity = excluded.severity,
               category = excluded.category, title = excluded.title,
               last_seen_at = excluded.last_seen_at, last_run_id = excluded.last_run_id,
               seen = seen + 1""",
        [
            (
                fp,
                result.repo,
                f.path,
                f.line,
                f.rule,
                f.agent,
                f.severity.value,
                f.category,
                f.title,
                at,
                at,
                run_id,
                run_id,
            )
            for fp, f in latest.items()
        ],
    )
