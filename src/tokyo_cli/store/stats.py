"""Usage statistics over the history database: what the team ran, spent and found.

``compute_stats(db, by="agent")`` returns one :class:`StatsRow` per agent (or model, local
calendar day, repository; one row ``"all"`` without ``by``): runs, provider calls, failed
calls, tokens, USD, call latency p50/p95 (seconds), cache hit rate and findings by severity.

Which findings a row counts depends on the grouping: per agent and per model they are the
steps' raw findings (what each agent said, before merging; a model's row counts the steps
that model answered, ``"(offline)"`` the steps that ran analyzers only); per day, per repo
and overall they are the runs' merged findings, as reported, plus the suppressed count.
Per CWE (``"CWE-89"``) they are the runs' merged findings that name it (a finding with two
CWE ids counts in both rows) and ``runs`` the runs with one; calls, tokens, cost and latency
belong to no CWE and stay 0/``None``. That grouping reads every run finding that has a CWE
(``findings.cwe``, JSON, through ``json_each``): no index covers it.

Without a ``since``/``repo`` filter every query reads a covering index (``m002c``/``m002d``
migrations) and percentiles are indexed ``ORDER BY latency_s LIMIT 1 OFFSET k`` lookups.
With one, the matching runs (from an index) drive the joins and their calls' latencies are
sorted in Python; a ``since`` that excludes no run is dropped. 100,000 runs: see
``benchmarks/bench_history.py``.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlite_utils import Database

from tokyo_cli.findings import Severity
from tokyo_cli.store.db import db_path, translate_errors

GROUPINGS = ("agent", "model", "day", "repo", "cwe")
OFFLINE_KEY = "(offline)"
"""The ``--by model`` key for steps that ran without a model (analyzers only)."""

SEVERITY_VALUES = [s.value for s in Severity]


class StatsRow(BaseModel):
    """Totals for one group.

    ``key``: agent id, model id, ``YYYY-MM-DD`` (local time), repository path, ``CWE-<id>``,
    or ``"all"``.
    ``runs``: runs in the group (per agent: runs where the agent had a step; per model:
    runs that called it). ``calls``/``failed_calls``: provider calls after retries, and those
    that errored or returned unusable output. ``tokens_in``/``tokens_out``: provider tokens.
    ``cost_usd``: USD, ``None`` when no call had a known price. ``latency_p50_s`` and
    ``latency_p95_s``: nearest-rank percentiles of call latency in seconds (``None`` without
    calls). ``cache_hit_rate``: share of calls answered from the response cache, 0..1.
    ``findings``: severity value -> count, every severity present. ``suppressed``: findings
    the ledger left out (``None`` per agent/model: suppression is per run).
    """

    key: str
    runs: int = 0
    calls: int = 0
    failed_calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float | None = None
    latency_p50_s: float | None = None
    latency_p95_s: float | None = None
    cache_hit_rate: float | None = None
    findings: dict[str, int] = Field(default_factory=dict)
    suppressed: int | None = None


_AGE = re.compile(r"^(\d+)\s*([hdw])$")
_AGE_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """An aware datetime from ``7d``/``12h``/``2w`` (ago), ``2025-03-01`` (local midnight) or
    an ISO 8601 date-time (local time unless it has an offset).

    Raises:
        ValueError: anything else, with a message that shows the accepted forms.
    """
    now = now or datetime.now().astimezone()
    value = text.strip().lower()
    age = _AGE.match(value)
    if age:
        return now - timedelta(**{_AGE_UNITS[age.group(2)]: int(age.group(1))})
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"--since {text!r}: expected a date (2025-03-01), a date-time (2025-03-01T14:00) or an age (12h, 7d, 2w)"
        ) from None
    return parsed if parsed.tzinfo else parsed.astimezone()


def _percentile(ordered: list[float], p: float) -> float | None:
    """Nearest-rank percentile of an ascending list (``None`` when empty)."""
    if not ordered:
        return None
    return ordered[max(1, math.ceil(p * len(ordered))) - 1]


class _Query:
    """SQL pieces for one (by, since, repo) combination."""

    def __init__(self, by: str | None, since: datetime | None, repo: str | None) -> None:
        self.by = by
        conds: list[str] = []
        params: list[Any] = []
        if since is not None:
            # started_at is ISO text with its UTC offset. The text range (a day early, wider
            # than any offset) lets idx_runs_started_at pick the candidate runs; julianday()
            # then compares instants exactly.
            conds.append("r.started_at >= ? AND julianday(r.started_at) >= julianday(?)")
            early = (since - timedelta(days=1)).astimezone(UTC)
            params += [early.isoformat(), since.isoformat()]
        if repo is not None:
            conds.append("r.repo = ?")
            params.append(repo)
        self.filtered = bool(conds)
        self.conds, self.params = conds, params
        self.run_key = {"day": "date(r.started_at, 'localtime')", "repo": "r.repo"}.get(by or "", "'all'")

    def source(self, table: str, alias: str, *, join: str = "", extra: Iterable[str] = ()) -> tuple[str, list[Any]]:
        """``FROM [runs r ...] table alias [join] [WHERE ...]`` and its parameters.

        A filter selects runs, so the runs drive the join (CROSS JOIN fixes SQLite's loop
        order): the matching runs come from an index and their rows by ``run_id``, instead
        of every row of ``table`` probing ``runs``.
        """
        if self.filtered:
            sql = f"FROM runs AS r CROSS JOIN {table} AS {alias} ON {alias}.run_id = r.id"
        elif self.by in ("day", "repo"):
            sql = f"FROM {table} AS {alias} JOIN runs AS r ON r.id = {alias}.run_id"
        else:
            sql = f"FROM {table} AS {alias}"
        sql += f" {join}" if join else ""
        where = [*self.conds, *extra]
        return sql + (f" WHERE {' AND '.join(where)}" if where else ""), list(self.params)

    def call_key(self) -> str:
        return {"agent": "c.agent", "model": "c.model"}.get(self.by or "", self.run_key)


def compute_stats(
    db: Database, *, by: str | None = None, since: datetime | None = None, repo: str | None = None
) -> list[StatsRow]:
    """Statistics grouped ``by`` "agent" | "model" | "day" | "repo" | "cwe" (``None``: one row).

    Args:
        since: only runs that started at or after this instant (aware datetime).
        repo: only runs of this repository (the stored path).

    Returns:
        Rows ordered by key (days oldest first, CWE ids by number); groups with no runs are
        absent, so an empty database gives ``[]``.

    Raises:
        ValueError: an unknown ``by``.
        StoreError: an unreadable database.
    """
    if by is not None and by not in GROUPINGS:
        raise ValueError(f"unknown grouping {by!r}: choose {', '.join(GROUPINGS)}")
    with translate_errors(db_path(db)):
        if since is not None and repo is None and not _any_run_before(db, since):
            since = None  # a no-op filter: the unfiltered queries read covering indexes
    q = _Query(by, since, repo)
    rows: dict[str, StatsRow] = {}

    def row(key: str | None) -> StatsRow:
        key = key if key is not None else OFFLINE_KEY
        if key not in rows:
            rows[key] = StatsRow(key=key, findings=dict.fromkeys(SEVERITY_VALUES, 0))
        return rows[key]

    with translate_errors(db_path(db)):
        if by == "cwe":
            _cwe_findings(db, q, row)
            return [rows[k] for k in sorted(rows, key=lambda k: int(k[4:])) if rows[k].runs]
        if by in ("agent", "model"):
            _calls(db, q, row)
            _step_runs_and_findings(db, q, row)
        else:
            _run_totals(db, q, row)
        _latency_percentiles(db, q, rows)
    return [rows[k] for k in sorted(rows) if rows[k].runs or rows[k].calls]


def _cwe_findings(db: Database, q: _Query, row: _RowFor) -> None:
    """Per CWE id: the runs' merged findings that name it, by severity, and their runs."""
    src, params = q.source(
        "findings",
        "f",
        join="JOIN json_each(f.cwe) AS j",
        extra=["f.scope = 'run'", "f.cwe != '[]'", "j.type = 'integer'"],
    )
    sql = f"SELECT j.value, f.severity, COUNT(*) {src} GROUP BY 1, 2"
    for cwe, severity, n in db.execute(sql, params):
        r = row(f"CWE-{int(cwe)}")
        if severity in r.findings:
            r.findings[severity] += n
    sql = f"SELECT j.value, COUNT(DISTINCT f.run_id) {src} GROUP BY 1"
    for cwe, runs in db.execute(sql, params):
        row(f"CWE-{int(cwe)}").runs = runs


def _any_run_before(db: Database, since: datetime) -> bool:
    """Whether some run started before ``since`` (one indexed range probe)."""
    late = (since + timedelta(days=1)).astimezone(UTC)  # see _Query: offsets
    sql = "SELECT EXISTS (SELECT 1 FROM runs WHERE started_at < ? AND julianday(started_at) < julianday(?))"
    return bool(db.execute(sql, [late.isoformat(), since.isoformat()]).fetchone()[0])


_RowFor = Callable[[str | None], StatsRow]


def _calls(db: Database, q: _Query, row: _RowFor) -> None:
    """Per agent or model: call totals from ``llm_calls`` (a covering index when unfiltered)."""
    src, params = q.source("llm_calls", "c")
    # COUNT(DISTINCT) needs a temporary b-tree over every call: only --by model uses it.
    runs = "COUNT(DISTINCT c.run_id)" if q.by == "model" else "0"
    sql = (
        f"SELECT {q.call_key()}, COUNT(*), SUM(c.status != 'ok'), SUM(c.tokens_in), "
        f"SUM(c.tokens_out), SUM(c.cost_usd), SUM(c.cache_hit), {runs} {src} GROUP BY 1"
    )
    for k, calls, failed, t_in, t_out, cost, hits, runs_seen in db.execute(sql, params):
        r = row(k)
        r.calls, r.failed_calls, r.tokens_in, r.tokens_out = calls, failed or 0, t_in or 0, t_out or 0
        r.cost_usd, r.cache_hit_rate = cost, (hits or 0) / calls
        if q.by == "model":
            r.runs = runs_seen


def _step_runs_and_findings(db: Database, q: _Query, row: _RowFor) -> None:
    """Per agent or model: runs from ``steps``, raw step findings by severity."""
    if q.by == "agent":
        src, params = q.source("steps", "s")
        for k, runs in db.execute(f"SELECT s.agent, COUNT(DISTINCT s.run_id) {src} GROUP BY 1", params):
            row(k).runs = runs
        src, params = q.source("findings", "f", extra=["f.scope = 'step'"])
        sql = f"SELECT f.agent, f.severity, COUNT(*) {src} GROUP BY 1, 2"
    else:
        src, params = q.source("steps", "s", extra=["s.model IS NULL"])
        for (runs,) in db.execute(f"SELECT COUNT(DISTINCT s.run_id) {src}", params):
            if runs:
                row(None).runs = runs
        join = "JOIN steps AS s ON s.id = f.step_row_id"
        src, params = q.source("findings", "f", join=join, extra=["f.scope = 'step'"])
        sql = f"SELECT s.model, f.severity, COUNT(*) {src} GROUP BY 1, 2"
    for k, severity, n in db.execute(sql, params):
        if severity in row(k).findings:
            row(k).findings[severity] += n


def _run_totals(db: Database, q: _Query, row: _RowFor) -> None:
    """Per day, repo or overall: everything but latency from the ``runs`` rows alone."""
    counts = ", ".join(f"SUM(r.findings_{s})" for s in SEVERITY_VALUES)
    where = f" WHERE {' AND '.join(q.conds)}" if q.conds else ""
    sql = (
        f"SELECT {q.run_key}, COUNT(*), SUM(r.calls), SUM(r.failed_calls), SUM(r.tokens_in), "
        f"SUM(r.tokens_out), SUM(r.cost_usd), SUM(r.cache_hits), SUM(r.suppressed), {counts} "
        f"FROM runs AS r{where}" + (" GROUP BY 1" if q.by else "")
    )
    for k, runs, calls, failed, t_in, t_out, cost, hits, suppressed, *by_severity in db.execute(sql, q.params):
        r = row(k)
        r.runs, r.calls, r.failed_calls = runs, calls or 0, failed or 0
        r.tokens_in, r.tokens_out, r.cost_usd = t_in or 0, t_out or 0, cost
        r.cache_hit_rate = (hits or 0) / calls if calls else None
        r.suppressed = suppressed or 0
        r.findings = {s: n or 0 for s, n in zip(SEVERITY_VALUES, by_severity)}


def _latency_percentiles(db: Database, q: _Query, rows: dict[str, StatsRow]) -> None:
    groups = [r for r in rows.values() if r.calls]
    if q.by in (None, "agent", "model") and not q.filtered:
        where = f"WHERE {q.by} = ?" if q.by else ""
        for r in groups:
            for p, attr in ((0.5, "latency_p50_s"), (0.95, "latency_p95_s")):
                offset = max(1, math.ceil(p * r.calls)) - 1
                value = db.execute(
                    f"SELECT latency_s FROM llm_calls {where} ORDER BY latency_s LIMIT 1 OFFSET ?",
                    [r.key, offset] if q.by else [offset],
                ).fetchone()
                setattr(r, attr, value[0] if value else None)
        return
    src, params = q.source("llm_calls", "c")
    values: dict[str, list[float]] = defaultdict(list)
    for k, latency in db.execute(f"SELECT {q.call_key()}, c.latency_s {src}", params):
        values[k].append(latency)
    for r in groups:
        ordered = sorted(values.get(r.key, []))
        r.latency_p50_s, r.latency_p95_s = _percentile(ordered, 0.5), _percentile(ordered, 0.95)
