"""Reading the findings ledger: entries, listing and search, prefixes, decision history.

The decisions themselves (dismiss, accept, reopen) and applying them to a run live in
:mod:`tokyo_cli.store.ledger`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlite_utils import Database

from tokyo_cli.errors import StoreError
from tokyo_cli.store.db import db_path, translate_errors
from tokyo_cli.store.ledger import STATUSES, LedgerStatus, lookup_row, not_found_error

MIN_PREFIX = 4
"""Shortest fingerprint prefix :func:`resolve_fingerprint` accepts (like a short git sha)."""


class LedgerEntry(BaseModel):
    """One fingerprint's ledger row: the decision and the finding as last seen.

    Times keep the offset they were stored with (UTC for runs ``tokyo review`` records and
    for decisions); ``seen`` counts stored runs that reported the finding (suppressed runs
    do not store it). ``first_run_id``/``last_run_id`` may name runs that
    ``tokyo history prune`` has since deleted.
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
            f"{text!r} is not a fingerprint: give at least {MIN_PREFIX} hex digits (see tokyo findings list)",
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
        raise not_found_error(prefix)
    if len(found) > 1:
        shown = ", ".join(found[:5])
        raise StoreError(f"fingerprint {prefix} is ambiguous: {shown}; give more digits", exit_code=2)
    return found[0]


_COLUMNS = ", ".join(LedgerEntry.model_fields)
_SEVERITY_RANK = (
    "CASE severity WHEN 'critical' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2 WHEN 'low' THEN 1 ELSE 0 END"
)


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
        found = lookup_row(db, fingerprint)
    if found is None:
        raise not_found_error(fingerprint)
    return LedgerEntry(**{k: v for k, v in found[0].items() if k in LedgerEntry.model_fields})


def ledger_events(db: Database, fingerprint: str) -> list[LedgerEvent]:
    """Every decision made about ``fingerprint``, oldest first (``[]`` when none)."""
    with translate_errors(db_path(db)):
        rows = db.execute(
            "SELECT action, reason, who, at FROM ledger_events WHERE fingerprint = ? ORDER BY id",
            [fingerprint],
        ).fetchall()
    return [LedgerEvent(action=a, reason=r, who=w, at=datetime.fromisoformat(t)) for a, r, w, t in rows]
