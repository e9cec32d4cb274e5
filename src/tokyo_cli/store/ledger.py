"""The findings ledger: what a person decided about each finding, by fingerprint.

A finding's fingerprint (:func:`tokyo_cli.findings.fingerprint`: path, rule or agent,
normalised text of the anchored line, normalised title — not the line number) stays the same
when the code around it moves, so a decision made once holds in every later run:

* ``open``: nobody decided yet (every finding starts here);
* ``accepted``: a real issue, acknowledged; still reported, with ``status = "accepted"``;
* ``dismissed``: not worth reporting (false positive, intended); left out of every later
  run by :func:`apply_ledger`, which :func:`tokyo_cli.review.run_review` calls for every
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
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel
from sqlite_utils import Database

from tokyo_cli.errors import StoreError
from tokyo_cli.findings import Finding
from tokyo_cli.results import RunResult
from tokyo_cli.store.db import db_path, translate_errors, write_transaction

LedgerStatus = Literal["open", "accepted", "dismissed"]
STATUSES: tuple[str, ...] = ("open", "accepted", "dismissed")
MIN_PREFIX = 4
"""Shortest fingerprint prefix :func:`resolve_fingerprint` accepts (like a short git sha)."""

_CHUNK = 500  # bound parameters per IN (...) query; SQLite's default limit is 32 766


class LedgerEntry(BaseModel):
    """One fingerprint's ledger row: the decision and the finding as last seen.

    Times are timezone-aware datetimes (UTC); ``seen`` counts stored runs that reported the
    finding (suppressed runs do not store it). ``first_run_id``/``last_run_id`` may name
    runs that ``tokyo history prune`` has since deleted.
    """

    fingerprint: str
    status: LedgerStatus
    reason: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    repo: str | None = None
    path: str | None = None
    line: int | None = None
    rule: str | None = None
    agent: str | None = None
    severity: str | None = None
    category: str | None = None
    title: str | None = None
    first_seen_at: datetime | None = None
    last_seen_at: datetime | None = None
    first_run_id: int | None = None
    last_run_id: int | None = None
    seen: int = 0


class LedgerEvent(BaseModel):
    """One decision in a fingerprint's history (``action``: dismiss | accept | reopen)."""

    action: str
    reason: str | None = None
    who: str | None = None
    at: datetime


def default_who() -> str:
    """The name recorded when a caller gives none: the OS login name, else ``"unknown"``."""
    try:
        return getpass.getuser()
    except Exception:  # no login name (some containers): getuser raises OSError/KeyError
        return "unknown"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


# --- decisions ------------------------------------------------------------------------


def _lookup(db: Database, fingerprint: str) -> tuple[dict[str, Any], bool] | None:
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
        "fingerprint": fingerprint, "status": "open", "repo": repo, "path": path, "line": line,
        "rule": rule, "agent": agent, "severity": severity, "category": category, "title": title,
        "first_seen_at": started, "last_seen_at": started, "first_run_id": first_run or run_id,
        "last_run_id": run_id, "seen": seen,
    }
    return built, False


def _not_found(fingerprint: str) -> StoreError:
    return StoreError(f"no finding with fingerprint {fingerprint}", exit_code=2)


def _decide(
    db: Database, fingerprint: str, status: LedgerStatus, *, reason: str | None, who: str | None
) -> None:
    action = {"dismissed": "dismiss", "accepted": "accept", "open": "reopen"}[status]
    reason = reason.strip() if reason else None
    who = (who or "").strip() or default_who()
    with translate_errors(db_path(db)), write_transaction(db):
        found = _lookup(db, fingerprint)
        if found is None:
            raise _not_found(fingerprint)
        row, stored = found
        if not stored:
            db["ledger"].insert(row)
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
                "UPDATE ledger SET status = ?, reason = ?, decided_by = ?, decided_at = ? "
                "WHERE fingerprint = ?",
                [status, reason, who, at, fingerprint],
            )
        db["ledger_events"].insert(
            {"fingerprint": fingerprint, "action": action, "reason": reason, "who": who, "at": at}
        )


def dismiss(db: Database, fingerprint: str, *, reason: str, who: str | None = None) -> None:
    """Mark a finding dismissed: later runs leave it out and count it as suppressed.

    Args:
        fingerprint: the full 16-hex-digit fingerprint (see :func:`resolve_fingerprint`
            for short prefixes).
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

    The decision history (:func:`ledger_events`) keeps the earlier decisions.

    Raises:
        StoreError: as :func:`dismiss` (unknown fingerprint, database errors).
    """
    _decide(db, fingerprint, "open", reason=None, who=who)


# --- reading --------------------------------------------------------------------------


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
    get ``status = "accepted"``. The number removed from ``result.findings`` is added to
    ``result.suppressed`` (applying twice adds 0) and returned. A summary the engine
    generated offline is regenerated without the dismissed findings; a model's synthesis
    is left as written.

    Raises:
        StoreError: an unreadable database.
    """
    everything = [*result.findings, *(f for s in result.steps for f in s.findings)]
    status = ledger_status(db, (f.fingerprint for f in everything))

    def keep(findings: list[Finding]) -> list[Finding]:
        kept = []
        for f in findings:
            decided = status.get(f.fingerprint, "open")
            if decided == "dismissed":
                continue
            if decided == "accepted":
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
            (fp, result.repo, f.path, f.line, f.rule, f.agent, f.severity.value, f.category,
             f.title, at, at, run_id, run_id)
            for fp, f in latest.items()
        ],
    )


def resolve_fingerprint(db: Database, text: str) -> str:
    """The full fingerprint that ``text`` (a whole fingerprint or a unique prefix) names.

    Looks in the ledger, then in stored findings.

    Raises:
        StoreError (exit code 2): shorter than 4 characters, not hexadecimal, unknown, or a
            prefix shared by several fingerprints (the message lists a few).
    """
    prefix = text.strip().lower()
    if len(prefix) < MIN_PREFIX or any(c not in "0123456789abcdef" for c in prefix):
        raise StoreError(
            f"{text!r} is not a fingerprint: give at least {MIN_PREFIX} hex digits "
            "(see tokyo findings list)",
            exit_code=2,
        )
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)  # [prefix, upper) is every extension
    found: list[str] = []
    with translate_errors(db_path(db)):
        for table in ("ledger", "findings"):
            rows = db.execute(
                f"SELECT DISTINCT fingerprint FROM {table} WHERE fingerprint >= ? AND fingerprint < ? LIMIT 6",
                [prefix, upper],
            ).fetchall()
            found = list(dict.fromkeys([*found, *(r[0] for r in rows)]))
    if not found:
        raise _not_found(prefix)
    if len(found) > 1:
        shown = ", ".join(found[:5])
        raise StoreError(f"fingerprint {prefix} is ambiguous: {shown}; give more digits", exit_code=2)
    return found[0]


_COLUMNS = ", ".join(LedgerEntry.model_fields)
_SEVERITY_RANK = "CASE severity WHEN 'critical' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2 WHEN 'low' THEN 1 ELSE 0 END"


def _entry(row: tuple[Any, ...]) -> LedgerEntry:
    return LedgerEntry(**dict(zip(LedgerEntry.model_fields, row)))


def list_ledger(
    db: Database,
    *,
    status: str | None = "open",
    repo: str | None = None,
    search: str | None = None,
    limit: int | None = 50,
) -> list[LedgerEntry]:
    """Ledger entries, most severe first, then most recently seen.

    Args:
        status: "open", "accepted", "dismissed", or ``None`` for all.
        repo: only findings last seen in this repository (exact path).
        search: full-text query over stored findings' titles and bodies (words are ANDed,
            Porter-stemmed: "injections" matches "injection"); FTS syntax is not
            interpreted, so any text is safe.
        limit: at most this many; ``None`` for all.

    Raises:
        StoreError: an unknown status (exit code 2) or an unreadable database.
    """
    clauses: list[str] = []
    params: list[Any] = []
    if status is not None:
        if status not in STATUSES:
            raise StoreError(f"unknown status {status!r}: choose {', '.join(STATUSES)}", exit_code=2)
        clauses.append("status = ?")
        params.append(status)
    if repo is not None:
        clauses.append("repo = ?")
        params.append(repo)
    if search:
        clauses.append(
            "fingerprint IN (SELECT f.fingerprint FROM findings_fts JOIN findings AS f "
            "ON f.id = findings_fts.rowid WHERE findings_fts MATCH ?)"
        )
        params.append(db.quote_fts(search))
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    sql = f"SELECT {_COLUMNS} FROM ledger {where} ORDER BY {_SEVERITY_RANK} DESC, last_seen_at DESC, fingerprint"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    with translate_errors(db_path(db)):
        return [_entry(row) for row in db.execute(sql, params).fetchall()]


def get_entry(db: Database, fingerprint: str) -> LedgerEntry:
    """The ledger entry for ``fingerprint`` (built from its stored findings, ``open``, when
    nobody decided about it yet). Read-only.

    Raises:
        StoreError: "no finding with fingerprint X" (exit code 2); an unreadable database.
    """
    with translate_errors(db_path(db)):
        found = _lookup(db, fingerprint)
    if found is None:
        raise _not_found(fingerprint)
    return LedgerEntry(**{k: v for k, v in found[0].items() if k in LedgerEntry.model_fields})


def ledger_events(db: Database, fingerprint: str) -> list[LedgerEvent]:
    """Every decision made about ``fingerprint``, oldest first (``[]`` when none)."""
    with translate_errors(db_path(db)):
        rows = db.execute(
            "SELECT action, reason, who, at FROM ledger_events WHERE fingerprint = ? ORDER BY id",
            [fingerprint],
        ).fetchall()
    return [LedgerEvent(action=a, reason=r, who=w, at=datetime.fromisoformat(t)) for a, r, w, t in rows]
