"""Saving runs to the history database and loading them back exactly.

``load_run(db, save_run(db, result)) == result``, field by field: the steps with their raw
findings, provider calls and analyzer notes, the changed files with skipped reasons, and the
run's merged findings (and those a verify step rejected: scope 'run', verification
'rejected'). That is what lets ``tokyo show RUN_ID`` re-render a report from the
database alone. Nothing in ``RunResult`` holds an API key, and every text is masked by the
one secret detector (:mod:`tokyo_cli.safety.masking`) before it is written, so nothing secret is
stored; keep it that way (``StepResult.credential_env`` holds variable *names*, never values).

Row mapping: model fields map one-to-one onto same-named columns (see ``migrations.py``);
list fields are JSON text, enums their ``.value``, datetimes ``isoformat()`` text (offset
kept), booleans 0/1. A model field without a column makes ``save_run`` fail loudly rather
than drop data.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlite_utils import Database
from sqlite_utils.db import Table

from tokyo_cli.errors import StoreError
from tokyo_cli.findings import Finding, Severity
from tokyo_cli.results import (
    AnalyzerNote,
    CallRecord,
    FileEntry,
    MergeInfo,
    RunResult,
    ShardInfo,
    StepResult,
    Walkthrough,
    new_uid,
)
from tokyo_cli.safety.masking import mask_data
from tokyo_cli.store.db import db_path, translate_errors, write_transaction
from tokyo_cli.store.ledger import record_seen

SEVERITY_COLUMNS = {s.value: f"findings_{s.value}" for s in Severity}
"""Severity value -> its count column in ``runs`` (merged findings only)."""


class RunSummary(BaseModel):
    """One line of ``tokyo history``: a run's identity, outcome and totals.

    ``findings`` maps every severity value ("critical" ... "info") to the number of merged
    findings; ``cost_usd`` is USD (``None`` when no call had a known price); ``tokens_in``
    and ``tokens_out`` are provider tokens; ``seconds`` is wall time; ``suppressed`` counts
    findings the ledger had dismissed.
    """

    id: int
    started_at: datetime
    repo: str
    target: str
    target_description: str
    workflow: str
    status: str
    findings: dict[str, int]
    cost_usd: float | None
    tokens_in: int
    tokens_out: int
    seconds: float
    suppressed: int = 0


def _table(db: Database, name: str) -> Table:
    table = db[name]
    assert isinstance(table, Table)
    return table


def _insert(db: Database, table: str, row: dict[str, Any]) -> int:
    """Insert one row and return its integer primary key."""
    pk = _table(db, table).insert(row).last_pk
    assert pk is not None  # an INTEGER PRIMARY KEY always gets one
    return int(pk)


# --- model -> row ---------------------------------------------------------------------


def _run_row(result: RunResult) -> dict[str, Any]:
    row = result.model_dump(exclude={"run_id", "files", "steps", "findings", "rejected"})
    row["fail_on"] = result.fail_on.value
    row["shard"] = result.shard.model_dump_json() if result.shard else None
    row["merged"] = result.merged.model_dump_json() if result.merged else None
    row["started_at"] = result.started_at.isoformat()
    row["finished_at"] = result.finished_at.isoformat() if result.finished_at else None
    row["offline"] = int(result.offline)
    row["notices"] = json.dumps(result.notices)
    row["seconds"] = result.seconds
    if result.block_on == "all":  # the column's default: a run also fits a database before m009
        del row["block_on"]
    if result.walkthrough is None:  # likewise before m010
        del row["walkthrough"]
    else:
        row["walkthrough"] = result.walkthrough.model_dump_json()
    row["tokens_in"] = result.tokens_in
    row["tokens_out"] = result.tokens_out
    row["cost_usd"] = result.cost_usd
    calls = result.calls
    row["calls"] = len(calls)
    row["failed_calls"] = sum(1 for c in calls if c.status != "ok")
    row["cache_hits"] = sum(1 for c in calls if c.cache_hit)
    for severity, count in result.severity_counts().items():
        row[SEVERITY_COLUMNS[severity]] = count
    return row


def _step_row(run_id: int, step: StepResult) -> dict[str, Any]:
    row = step.model_dump(exclude={"findings", "calls", "analyzers"})
    row["run_id"] = run_id
    row["credential_env"] = json.dumps(step.credential_env)
    row["files"] = json.dumps(step.files)
    row["analyzers"] = json.dumps([a.model_dump() for a in step.analyzers])
    row["not_reviewed"] = json.dumps(step.not_reviewed)
    return row


def _call_row(run_id: int, step_row_id: int, call: CallRecord) -> dict[str, Any]:
    row = call.model_dump()
    row.update(run_id=run_id, step_row_id=step_row_id, cache_hit=int(call.cache_hit))
    return row


def _finding_row(run_id: int, step_row_id: int | None, finding: Finding) -> dict[str, Any]:
    row = finding.model_dump()
    row.update(
        run_id=run_id,
        scope="run" if step_row_id is None else "step",
        step_row_id=step_row_id,
        severity=finding.severity.value,
        agents=json.dumps(finding.agents),
        corroborated=int(finding.corroborated),
    )
    row["members"] = json.dumps([m.model_dump(mode="json") for m in finding.members])
    row["cwe"] = json.dumps(finding.cwe)
    return row


def _finding_rows(run_id: int, step_row_id: int | None, findings: list[Finding]) -> list[dict[str, Any]]:
    """The rows of ``findings``. ``members`` is written only when one of them is a group,
    ``cwe`` only when one of them has a CWE id, ``file_line`` only when one of them has one,
    the verification columns only when a verify step judged one of them, ``patch`` only
    when one of them has one:
    every row of one insert must have the same keys (sqlite-utils writes NULL for a key a row
    lacks), and a run without them then also fits a history database from before
    ``m006_finding_members``, ``m007_finding_cwe``, ``m008_finding_file_line`` or
    ``m009_verification`` or ``m011_finding_patch`` (the column's default is written instead)."""
    rows = [_finding_row(run_id, step_row_id, f) for f in findings]
    judged = any(f.verification is not None for f in findings)
    for key, used in (
        ("members", any(f.members for f in findings)),
        ("cwe", any(f.cwe for f in findings)),
        ("file_line", any(f.file_line is not None for f in findings)),
        ("verification", judged),
        ("verification_reason", judged),
        ("verified_by", judged),
        ("patch", any(f.patch is not None for f in findings)),
    ):
        if not used:
            for row in rows:
                del row[key]
    return rows


def _file_row(run_id: int, entry: FileEntry) -> dict[str, Any]:
    return {"run_id": run_id, **entry.model_dump(), "reviewed_by": json.dumps(entry.reviewed_by)}


# --- row -> model ---------------------------------------------------------------------


def _fields(model: type[BaseModel], row: dict[str, Any]) -> dict[str, Any]:
    """The row's values for ``model``'s fields (missing column -> KeyError, on purpose)."""
    return {name: row[name] for name in model.model_fields}


def _finding(row: dict[str, Any]) -> Finding:
    data = _fields(Finding, row)
    data["agents"] = json.loads(row["agents"])
    data["corroborated"] = bool(row["corroborated"])
    data["members"] = json.loads(row["members"] or "[]")
    data["cwe"] = json.loads(row["cwe"] or "[]")
    return Finding(**data)


def _call(row: dict[str, Any]) -> CallRecord:
    return CallRecord(**_fields(CallRecord, row))


def _file(row: dict[str, Any]) -> FileEntry:
    return FileEntry(**{**_fields(FileEntry, row), "reviewed_by": json.loads(row["reviewed_by"])})


def _step(row: dict[str, Any], calls: list[CallRecord], findings: list[Finding]) -> StepResult:
    data = {k: v for k, v in row.items() if k in StepResult.model_fields}
    data.update(
        credential_env=json.loads(row["credential_env"]),
        files=json.loads(row["files"]),
        analyzers=[AnalyzerNote(**a) for a in json.loads(row["analyzers"])],
        not_reviewed=json.loads(row["not_reviewed"]),
        calls=calls,
        findings=findings,
    )
    return StepResult(**data)


def _run(row: dict[str, Any], **children: Any) -> RunResult:
    data = {k: v for k, v in row.items() if k in RunResult.model_fields}
    data.update(
        run_id=row["id"],
        fail_on=Severity(row["fail_on"]),
        started_at=datetime.fromisoformat(row["started_at"]),
        finished_at=datetime.fromisoformat(row["finished_at"]) if row["finished_at"] else None,
        offline=bool(row["offline"]),
        notices=json.loads(row["notices"]),
        walkthrough=Walkthrough.model_validate_json(row["walkthrough"]) if row["walkthrough"] else None,
        shard=ShardInfo.model_validate_json(row["shard"]) if row["shard"] else None,
        merged=MergeInfo.model_validate_json(row["merged"]) if row["merged"] else None,
        **children,
    )
    return RunResult(**data)


# --- public API -----------------------------------------------------------------------


def save_run(db: Database, result: RunResult) -> int:
    """Insert ``result`` as a new run (one transaction) and return its id.

    Writes one ``runs`` row, its ``files``, its merged ``findings`` (scope 'run'), and per
    step a ``steps`` row with its ``llm_calls`` and raw ``findings`` (scope 'step'), and
    records the merged findings in the ledger (:func:`~tokyo_cli.store.ledger.record_seen`), all
    with secrets masked (:func:`tokyo_cli.safety.masking.mask_data`; a run from ``run_review`` already
    is, this makes sure of it for every caller). Sets
    ``result.run_id`` to the new id once the transaction has committed. A ``result`` that
    already has a ``run_id`` is saved again as a new run (updates are not supported), under a
    new ``uid`` when its own is already stored (or it has none).

    Raises:
        StoreError: database locked past the busy timeout, disk full, read-only or corrupt
            file. Nothing of the run is written in that case.
    """
    with translate_errors(db_path(db)), write_transaction(db):
        run_id = insert_run(db, result)
    result.run_id = run_id
    return run_id


def insert_run(db: Database, result: RunResult) -> int:
    """:func:`save_run`'s writes inside the caller's transaction (``tokyo history import``
    stores a whole file in one); returns the new run id and sets ``result.uid`` when it had
    none or the database already holds it, but not ``result.run_id``.

    Raises:
        sqlite3.Error: the caller's transaction decides what a failure means.
    """
    identity = "uid" in _table(db, "runs").columns_dict  # False before m012_run_identity
    if identity and (not result.uid or db.execute("SELECT 1 FROM runs WHERE uid = ?", [result.uid]).fetchone()):
        result.uid = new_uid()  # a run saved again is a new run (tokyo history import keeps uids)
    stored = mask_data(result)  # the one secret detector over every text (tokyo_cli.safety.masking)
    row = _run_row(stored)
    if not identity:
        for key in ("uid", "shard", "merged"):
            del row[key]
    run_id = _insert(db, "runs", row)
    _table(db, "files").insert_all(_file_row(run_id, f) for f in stored.files)
    _table(db, "findings").insert_all(_finding_rows(run_id, None, [*stored.findings, *stored.rejected]))
    for step in stored.steps:
        step_row_id = _insert(db, "steps", _step_row(run_id, step))
        _table(db, "llm_calls").insert_all(_call_row(run_id, step_row_id, c) for c in step.calls)
        _table(db, "findings").insert_all(_finding_rows(run_id, step_row_id, step.findings))
    record_seen(db, run_id, stored)
    return run_id


def _rows(db: Database, table: str, run_id: int) -> list[dict[str, Any]]:
    return list(_table(db, table).rows_where("run_id = ?", [run_id], order_by="id"))


def load_run(db: Database, run_id: int) -> RunResult:
    """The run saved under ``run_id``, equal field by field to what was saved.

    Raises:
        StoreError: "no run with id N" (exit code 2) when it does not exist; or an unreadable
            database.
    """
    with translate_errors(db_path(db)):
        found = list(_table(db, "runs").rows_where("id = ?", [run_id]))
        if not found:
            raise StoreError(f"no run with id {run_id} (see tokyo history)", exit_code=2)
        calls: dict[int, list[CallRecord]] = defaultdict(list)
        for row in _rows(db, "llm_calls", run_id):
            calls[row["step_row_id"]].append(_call(row))
        merged: list[Finding] = []
        rejected: list[Finding] = []
        raw: dict[int, list[Finding]] = defaultdict(list)
        for row in _rows(db, "findings", run_id):
            if row["scope"] == "run":
                (rejected if row["verification"] == "rejected" else merged).append(_finding(row))
            else:
                raw[row["step_row_id"]].append(_finding(row))
        steps = [_step(row, calls[row["id"]], raw[row["id"]]) for row in _rows(db, "steps", run_id)]
        files = [_file(row) for row in _rows(db, "files", run_id)]
        return _run(found[0], files=files, steps=steps, findings=merged, rejected=rejected)


def list_runs(
    db: Database,
    *,
    limit: int | None = 20,
    repo: str | None = None,
    workflow: str | None = None,
    status: str | None = None,
) -> list[RunSummary]:
    """Saved runs, newest first (``started_at`` descending, then id), optionally filtered.

    Args:
        limit: at most this many runs; ``None`` for all.
        repo, workflow, status: exact matches on the stored values when given.

    Raises:
        StoreError: an unreadable database.
    """
    clauses: list[str] = []
    params: list[Any] = []
    for column, value in (("repo", repo), ("workflow", workflow), ("status", status)):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    where = " AND ".join(clauses) if clauses else None
    with translate_errors(db_path(db)):
        rows = _table(db, "runs").rows_where(where, params, order_by="started_at DESC, id DESC", limit=limit)
        return [_summary(row) for row in rows]


def _summary(row: dict[str, Any]) -> RunSummary:
    return RunSummary(
        id=row["id"],
        started_at=datetime.fromisoformat(row["started_at"]),
        repo=row["repo"],
        target=row["target"],
        target_description=row["target_description"] or "",
        workflow=row["workflow"],
        status=row["status"],
        findings={sev: row[col] or 0 for sev, col in SEVERITY_COLUMNS.items()},
        cost_usd=row["cost_usd"],
        tokens_in=row["tokens_in"] or 0,
        tokens_out=row["tokens_out"] or 0,
        seconds=row["seconds"] or 0.0,
        suppressed=row["suppressed"] or 0,
    )


def known_repo(db: Database, path: str) -> str | None:
    """The stored repository that contains ``path`` (an absolute path), deepest first.

    ``tokyo history --repo .`` run in a subdirectory finds its repository's runs. One
    indexed lookup over ``path`` and its parents; ``None`` when no run has any of them.
    """
    parts = path.rstrip("/").split("/")
    candidates = ["/".join(parts[:i]) or "/" for i in range(len(parts), 0, -1)]
    marks = ", ".join("?" * len(candidates))
    with translate_errors(db_path(db)):
        rows = db.execute(f"SELECT DISTINCT repo FROM runs WHERE repo IN ({marks})", candidates).fetchall()
    found = {r[0] for r in rows}
    return next((c for c in candidates if c in found), None)


def prune_runs(db: Database, *, before: datetime | None, dry_run: bool = False) -> int:
    """Delete the runs that started before ``before`` (aware datetime; ``None``: every run),
    with their steps, calls, findings and files (``ON DELETE CASCADE``); the ledger keeps
    every fingerprint and decision. Returns how many runs were (or, with ``dry_run``, would
    be) deleted. Their ids are never given to a later run (``AUTOINCREMENT``).

    One transaction. Compares instants (``julianday``), so runs stored with any UTC offset
    are judged correctly.

    Raises:
        StoreError: locked past the busy timeout, read-only or full database.
    """
    where = "julianday(started_at) < julianday(?)" if before is not None else "1"
    cutoff = [before.isoformat()] if before is not None else []
    with translate_errors(db_path(db)):
        if dry_run:
            return int(db.execute(f"SELECT COUNT(*) FROM runs WHERE {where}", cutoff).fetchone()[0])
        with write_transaction(db):
            return int(db.execute(f"DELETE FROM runs WHERE {where}", cutoff).rowcount)


def last_reviewed_head(db: Database, *, repo: str, branch: str) -> str | None:
    """The head SHA of the newest completed or partial run of ``repo`` on ``branch``, if any.

    Raises:
        StoreError: an unreadable database.
    """
    with translate_errors(db_path(db)):
        rows = list(
            _table(db, "runs").rows_where(
                "repo = ? AND branch = ? AND head_sha IS NOT NULL AND status IN ('completed', 'partial')",
                [repo, branch],
                order_by="started_at DESC, id DESC",
                limit=1,
            )
        )
    return rows[0]["head_sha"] if rows else None
