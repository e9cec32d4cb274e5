"""History export and import: runs carried between databases as JSON lines.

One history per organisation, fed from many CI runners: each runner exports its runs
(``tokyo history export``), a collector imports every file into one database
(``tokyo history import``) that Datasette or ``sqlite-utils`` can serve.

File format (UTF-8, one JSON object per line, ``kind`` first)::

    {"kind": "tokyo-history", "version": 1, "exported_at": ISO 8601, "tokyo": "0.1.0"}
    {"kind": "run", "run": {...}}        # a RunResult (steps with calls and raw findings,
                                         # files, merged findings), keyed by run.uid
    {"kind": "ledger", "fingerprint": str, "status": "open"|"accepted"|"dismissed",
     "reason", "decided_by", "decided_at", "repo", "path", "line", "rule", "agent",
     "severity", "category", "title",
     "events": [{"action": "dismiss"|"accept"|"reopen", "reason", "who", "at"}]}

Import is idempotent: a run whose ``uid`` the database holds is skipped (stored once however
often it is imported), a ledger event already recorded (same fingerprint, action, time, who
and reason) is not added again, and a fingerprint's decision is its newest event's, wherever
that event was made (ISO 8601 times compared as instants). Every file is read and validated
whole before anything is written, and each file is imported in one transaction: a
malformed or truncated file is refused with the line at fault and leaves the database as
it was. Every text is masked again on the way out and on the way in
(:mod:`tokyo_cli.safety.masking`): no key reaches an export file or the database.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlite_utils import Database

from tokyo_cli import __version__
from tokyo_cli.errors import ConfigError
from tokyo_cli.results import RunResult
from tokyo_cli.safety.masking import mask_data
from tokyo_cli.store.db import db_path, translate_errors, write_transaction
from tokyo_cli.store.history import insert_run, load_run
from tokyo_cli.store.ledger_query import LedgerEntry
from tokyo_cli.store.ledger_query import LedgerEvent as StoredEvent

FORMAT = "tokyo-history"
VERSION = 1
_ACTION_STATUS = {"dismiss": "dismissed", "accept": "accepted", "reopen": "open"}
_LEDGER_FIELDS = ("repo", "path", "line", "rule", "agent", "severity", "category", "title")


class LedgerEvent(StoredEvent):
    """One decision as exported: ``action`` by ``who`` at ``at``, with its reason."""

    model_config = ConfigDict(extra="ignore")

    action: Literal["dismiss", "accept", "reopen"]


class LedgerRecord(LedgerEntry):
    """A fingerprint's ledger row (:class:`~tokyo_cli.store.ledger_query.LedgerEntry`) and its
    decision history, as exported."""

    model_config = ConfigDict(extra="ignore")

    kind: Literal["ledger"] = "ledger"
    fingerprint: str = Field(min_length=1, max_length=64)
    events: list[LedgerEvent] = Field(default_factory=list)


class _Header(BaseModel):
    model_config = ConfigDict(extra="ignore")

    kind: Literal["tokyo-history"]
    version: int


class _RunLine(BaseModel):
    model_config = ConfigDict(extra="ignore")

    kind: Literal["run"]
    run: RunResult


@dataclass
class ImportReport:
    """What an import did: runs stored and skipped (already present, by uid), ledger
    events added, and fingerprints whose decision changed."""

    runs_added: int = 0
    runs_present: int = 0
    events_added: int = 0
    decisions_changed: int = 0
    files: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- export


def run_ids_since(db: Database, since: datetime) -> list[int]:
    """Ids of the runs that started at or after ``since`` (an aware datetime), oldest first.

    Raises:
        StoreError: an unreadable database.
    """
    with translate_errors(db_path(db)):
        rows = db.execute(
            "SELECT id FROM runs WHERE julianday(started_at) >= julianday(?) ORDER BY started_at, id",
            [since.isoformat()],
        ).fetchall()
    return [int(r[0]) for r in rows]


def export_lines(db: Database, run_ids: Iterable[int]) -> Iterator[str]:
    """The export file's lines (each ends with ``\\n``): the header, one line per run, then
    the ledger rows with a decision or an event for the fingerprints those runs reported.

    Raises:
        StoreError: "no run with id N" (exit code 2), or an unreadable database.
    """
    yield (
        json.dumps(
            {
                "kind": FORMAT,
                "version": VERSION,
                "exported_at": datetime.now(UTC).isoformat(),
                "tokyo": __version__,
            }
        )
        + "\n"
    )
    fingerprints: set[str] = set()
    for run_id in run_ids:
        run = mask_data(load_run(db, run_id))
        fingerprints.update(f.fingerprint for f in run.findings)
        fingerprints.update(m.fingerprint for f in run.findings for m in f.members)
        fingerprints.update(f.fingerprint for s in run.steps for f in s.findings)
        yield (
            json.dumps({"kind": "run", "run": run.model_dump(mode="json", exclude={"run_id"})}, ensure_ascii=False)
            + "\n"
        )
    for record in _ledger_records(db, sorted(fingerprints)):
        yield json.dumps(mask_data(record.model_dump(mode="json")), ensure_ascii=False) + "\n"


def _ledger_records(db: Database, fingerprints: list[str]) -> Iterator[LedgerRecord]:
    with translate_errors(db_path(db)):
        for start in range(0, len(fingerprints), 500):
            chunk = fingerprints[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            cur = db.execute(f"SELECT * FROM ledger WHERE fingerprint IN ({marks}) ORDER BY fingerprint", chunk)
            names = [d[0] for d in cur.description]
            rows = [dict(zip(names, row)) for row in cur.fetchall()]
            events: dict[str, list[LedgerEvent]] = {}
            for fp, action, reason, who, at in db.execute(
                f"SELECT fingerprint, action, reason, who, at FROM ledger_events WHERE fingerprint IN ({marks}) "
                "ORDER BY id",
                chunk,
            ).fetchall():
                events.setdefault(fp, []).append(LedgerEvent(action=action, reason=reason, who=who, at=at))
            for row in rows:
                if row["status"] != "open" or row["fingerprint"] in events:
                    yield LedgerRecord(
                        **{k: v for k, v in row.items() if k in LedgerRecord.model_fields},
                        events=events.get(row["fingerprint"], []),
                    )


# --------------------------------------------------------------------------- import


def read_export(path: Path) -> tuple[list[RunResult], list[LedgerRecord]]:
    """Parse and validate a whole export file (nothing is written).

    Raises:
        ConfigError: unreadable, not an export, a malformed, truncated or invalid line
            ("FILE:LINE: ..."), or a newer format version (exit code 2).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text, so not a tokyo history export") from None
    lines = text.split("\n")
    if text and not text.endswith("\n"):
        raise ConfigError(f"{path}:{len(lines)}: the last line has no newline: the file is truncated")
    runs: list[RunResult] = []
    ledger: list[LedgerRecord] = []
    header = False
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}:{number}: malformed JSON: {exc.msg} at column {exc.colno}") from None
        kind = data.get("kind") if isinstance(data, dict) else None
        try:
            if not header:
                if kind != FORMAT:
                    raise ConfigError(f"{path}:{number}: not a tokyo history export (tokyo history export writes one)")
                version = _Header.model_validate(data).version
                if version != VERSION:
                    raise ConfigError(f"{path}: export format version {version}; this tokyo reads version {VERSION}")
                header = True
            elif kind == "run":
                runs.append(mask_data(_RunLine.model_validate(data).run))
            elif kind == "ledger":
                ledger.append(mask_data(LedgerRecord.model_validate(data)))
            else:
                raise ConfigError(f"{path}:{number}: unknown line kind {str(kind)[:40]!r}")
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ())) or "line"
            raise ConfigError(
                f"{path}:{number}: invalid {kind or 'line'}: {where}: {first.get('msg', 'invalid')}"
            ) from None
    if not header:
        raise ConfigError(f"{path}: empty, not a tokyo history export")
    for run in runs:
        if not run.uid:
            raise ConfigError(f"{path}: a run has no uid, so it cannot be imported once and only once")
    return runs, ledger


def import_files(db: Database, paths: list[Path]) -> ImportReport:
    """Import every file of ``paths`` into ``db`` (see the module docstring). All files are
    validated before the first is written; each is then imported in one transaction.

    Raises:
        ConfigError: a file is not a valid export (nothing is imported).
        StoreError: locked, full or read-only database (that file's transaction is rolled back).
    """
    parsed = [(path, *read_export(path)) for path in paths]
    report = ImportReport()
    for path, runs, ledger in parsed:
        with translate_errors(db_path(db)), write_transaction(db):
            for run in runs:
                if db.execute("SELECT 1 FROM runs WHERE uid = ?", [run.uid]).fetchone():
                    report.runs_present += 1
                    continue
                insert_run(db, run)
                report.runs_added += 1
            for record in ledger:
                added, changed = _merge_ledger(db, record)
                report.events_added += added
                report.decisions_changed += changed
        report.files.append(str(path))
    return report


def _instant(text: str) -> datetime | str:
    """A stored event time as a datetime (so equal instants match), or the text as it is."""
    try:
        return datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return text


def _merge_ledger(db: Database, record: LedgerRecord) -> tuple[int, int]:
    """Add ``record``'s events this database lacks and set the decision of the newest event.
    Returns (events added, 1 when the stored decision changed else 0)."""
    cur = db.execute("SELECT * FROM ledger WHERE fingerprint = ?", [record.fingerprint])
    row = cur.fetchone()
    if row is None:
        values = {k: getattr(record, k) for k in _LEDGER_FIELDS}
        db.table("ledger").insert({"fingerprint": record.fingerprint, "status": "open", "seen": 0, **values})
        before = "open"
    else:
        before = dict(zip([d[0] for d in cur.description], row))["status"]
    known = {
        (action, _instant(at), who, reason)
        for action, at, who, reason in db.execute(
            "SELECT action, at, who, reason FROM ledger_events WHERE fingerprint = ?", [record.fingerprint]
        ).fetchall()
    }
    added = 0
    for event in record.events:
        mark = (event.action, event.at, event.who, event.reason)
        if mark in known:
            continue
        db.table("ledger_events").insert(
            {
                "fingerprint": record.fingerprint,
                "action": event.action,
                "reason": event.reason,
                "who": event.who,
                "at": event.at.isoformat(),
            }
        )
        known.add(mark)
        added += 1
    newest = db.execute(
        "SELECT action, reason, who, at FROM ledger_events WHERE fingerprint = ? "
        "ORDER BY julianday(at) DESC, id DESC LIMIT 1",
        [record.fingerprint],
    ).fetchone()
    if newest is None:
        return added, 0
    action, reason, who, at = newest
    status = _ACTION_STATUS[action]
    if status == "open":
        db.execute(
            "UPDATE ledger SET status = 'open', reason = NULL, decided_by = NULL, decided_at = NULL "
            "WHERE fingerprint = ?",
            [record.fingerprint],
        )
    else:
        db.execute(
            "UPDATE ledger SET status = ?, reason = ?, decided_by = ?, decided_at = ? WHERE fingerprint = ?",
            [status, reason, who, at, record.fingerprint],
        )
    return added, int(status != before)


__all__ = [
    "FORMAT",
    "VERSION",
    "ImportReport",
    "LedgerEvent",
    "LedgerRecord",
    "export_lines",
    "import_files",
    "read_export",
    "run_ids_since",
]
