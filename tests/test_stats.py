"""``compute_stats``: exact numbers on a known history, both percentile paths, and query plans."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlite_utils import Database

from tokyo_cli.findings import Finding, Severity
from tokyo_cli.results import CallRecord, RunResult, StepResult
from tokyo_cli.store import list_runs, open_db, save_run
from tokyo_cli.store.stats import OFFLINE_KEY, compute_stats, parse_since

DAY1 = datetime(2025, 5, 1, 10, 0, tzinfo=UTC)
DAY3 = datetime(2025, 5, 3, 10, 0, tzinfo=UTC)


def call(
    agent: str, model: str, latency: float, *, usd: float | None = 0.5, status: str = "ok", hit: bool = False
) -> CallRecord:
    return CallRecord(
        step_id=agent,
        agent=agent,
        model=model,
        provider=model.split("/")[0],
        tokens_in=100,
        tokens_out=10,
        cost_usd=usd,
        latency_s=latency,
        status=status,
        cache_hit=hit,
    )  # type: ignore[arg-type]


def finding(agent: str, severity: Severity, title: str) -> Finding:
    return Finding(path="a.py", line=1, severity=severity, title=title, agent=agent)


def run(repo: str, started: datetime, steps: list[StepResult], merged: list[Finding], suppressed: int = 0) -> RunResult:
    return RunResult(
        repo=repo,
        target="range",
        target_description="main...HEAD",
        workflow="review",
        status="completed",
        started_at=started,
        finished_at=started + timedelta(seconds=9),
        steps=steps,
        findings=merged,
        suppressed=suppressed,
    )


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_db(tmp_path / "history.db")
    akira_1 = StepResult(
        step_id="akira",
        agent="akira",
        agent_name="Akira",
        status="ok",
        model="openai/o3",
        calls=[call("akira", "openai/o3", s) for s in (4.0, 1.0, 3.0)]
        + [call("akira", "openai/o3", 2.0, usd=None, status="error", hit=True)],
        findings=[finding("akira", Severity.HIGH, "h1"), finding("akira", Severity.LOW, "l1")],
    )
    yuki_1 = StepResult(
        step_id="yuki",
        agent="yuki",
        agent_name="Yuki",
        status="offline",
        findings=[finding("yuki", Severity.LOW, "l2")],
    )
    akira_2 = StepResult(
        step_id="akira",
        agent="akira",
        agent_name="Akira",
        status="ok",
        model="openai/o3",
        calls=[call("akira", "openai/o3", 10.0)],
        findings=[finding("akira", Severity.HIGH, "h1")],
    )
    kenji_2 = StepResult(
        step_id="kenji",
        agent="kenji",
        agent_name="Kenji",
        status="ok",
        model="gemini/flash",
        calls=[call("kenji", "gemini/flash", 5.0, usd=None), call("kenji", "gemini/flash", 6.0, hit=True)],
        findings=[finding("kenji", Severity.MEDIUM, "m1")],
    )
    save_run(database, run("/src/a", DAY1, [akira_1, yuki_1], [finding("akira", Severity.HIGH, "h1")], suppressed=2))
    save_run(
        database,
        run(
            "/src/b",
            DAY3,
            [akira_2, kenji_2],
            [finding("akira", Severity.HIGH, "h1"), finding("kenji", Severity.MEDIUM, "m1")],
        ),
    )
    yield database
    database.close()


def test_by_agent(db: Database) -> None:
    rows = {r.key: r for r in compute_stats(db, by="agent")}
    assert list(rows) == ["akira", "kenji", "yuki"]
    akira = rows["akira"]
    assert (akira.runs, akira.calls, akira.failed_calls, akira.tokens_in, akira.tokens_out) == (2, 5, 1, 500, 50)
    assert akira.cost_usd == pytest.approx(2.0)  # the unpriced call adds nothing
    # nearest rank over [1, 2, 3, 4, 10]: p50 is the 3rd value, p95 the 5th
    assert (akira.latency_p50_s, akira.latency_p95_s, akira.cache_hit_rate) == (3.0, 10.0, 0.2)
    assert akira.findings == {"critical": 0, "high": 2, "medium": 0, "low": 1, "info": 0}  # raw step findings
    assert akira.suppressed is None
    yuki = rows["yuki"]  # offline: a run and findings, no calls
    assert (yuki.runs, yuki.calls, yuki.cost_usd, yuki.latency_p50_s, yuki.cache_hit_rate) == (1, 0, None, None, None)
    assert yuki.findings["low"] == 1
    kenji = rows["kenji"]
    assert (kenji.latency_p50_s, kenji.latency_p95_s, kenji.cost_usd) == (5.0, 6.0, 0.5)


def test_by_model_counts_offline_steps_apart(db: Database) -> None:
    rows = {r.key: r for r in compute_stats(db, by="model")}
    assert list(rows) == [OFFLINE_KEY, "gemini/flash", "openai/o3"]
    assert (rows["openai/o3"].runs, rows["openai/o3"].calls, rows["openai/o3"].findings["high"]) == (2, 5, 2)
    assert (rows[OFFLINE_KEY].runs, rows[OFFLINE_KEY].calls, rows[OFFLINE_KEY].findings["low"]) == (1, 0, 1)
    assert rows["gemini/flash"].cache_hit_rate == 0.5


def test_overall_by_day_and_by_repo_use_merged_findings_and_suppressed(db: Database) -> None:
    (overall,) = compute_stats(db)
    assert (overall.key, overall.runs, overall.calls, overall.failed_calls, overall.suppressed) == ("all", 2, 7, 1, 2)
    assert (overall.tokens_in, overall.tokens_out) == (700, 70)
    assert overall.cost_usd == pytest.approx(2.5)
    assert overall.cache_hit_rate == pytest.approx(2 / 7)
    assert (overall.latency_p50_s, overall.latency_p95_s) == (4.0, 10.0)  # [1,2,3,4,5,6,10]
    assert overall.findings == {"critical": 0, "high": 2, "medium": 1, "low": 0, "info": 0}  # merged
    days = compute_stats(db, by="day")
    local = [DAY1.astimezone().date().isoformat(), DAY3.astimezone().date().isoformat()]
    assert [d.key for d in days] == local
    assert [(d.runs, d.calls, d.suppressed) for d in days] == [(1, 4, 2), (1, 3, 0)]
    assert days[0].latency_p50_s == 2.0 and days[1].latency_p95_s == 10.0
    repos = {r.key: r for r in compute_stats(db, by="repo")}
    assert list(repos) == ["/src/a", "/src/b"]
    assert repos["/src/b"].findings["medium"] == 1


def test_filters_since_and_repo(db: Database) -> None:
    rows = {r.key: r for r in compute_stats(db, by="agent", since=DAY1 + timedelta(days=1))}
    assert list(rows) == ["akira", "kenji"]
    assert (rows["akira"].runs, rows["akira"].calls, rows["akira"].latency_p50_s) == (1, 1, 10.0)
    (only_a,) = compute_stats(db, repo="/src/a")
    assert (only_a.runs, only_a.calls, only_a.suppressed) == (1, 4, 2)
    assert compute_stats(db, since=DAY3 + timedelta(seconds=1)) == []


def test_the_indexed_and_the_filtered_paths_agree(db: Database) -> None:
    """Without a filter, totals come from covering indexes and percentiles from indexed OFFSET
    lookups; with one, the matching runs drive the joins and percentiles are computed in
    Python. A filter that leaves out only an empty run must give the same numbers."""
    unfiltered = {by: compute_stats(db, by=by) for by in (None, "agent", "model")}
    save_run(db, run("/src/a", DAY1 - timedelta(days=30), [], []))  # no steps, calls or findings
    since = DAY1 - timedelta(days=1)
    for by in ("agent", "model"):
        assert compute_stats(db, by=by, since=since) == unfiltered[by], by
    (overall,) = compute_stats(db, since=since)
    assert overall == unfiltered[None][0]
    assert compute_stats(db)[0].runs == 3


def test_a_since_that_keeps_every_run_is_dropped(db: Database) -> None:
    """Then the fast unfiltered queries run, with the same result."""
    seen: list[str] = []
    db.conn.set_trace_callback(seen.append)
    rows = compute_stats(db, by="agent", since=DAY1 - timedelta(days=1))
    db.conn.set_trace_callback(None)
    assert rows == compute_stats(db, by="agent")
    assert not any("CROSS JOIN" in sql for sql in seen)


def test_empty_database_and_bad_grouping(tmp_path: Path) -> None:
    db = open_db(tmp_path / "empty.db")
    for by in (None, "agent", "model", "day", "repo", "cwe"):
        assert compute_stats(db, by=by) == []
    with pytest.raises(ValueError, match="unknown grouping 'week'"):
        compute_stats(db, by="week")
    db.close()


def test_parse_since() -> None:
    now = datetime(2025, 6, 10, 12, 0, tzinfo=UTC)
    assert parse_since("7d", now) == now - timedelta(days=7)
    assert parse_since("12h", now) == now - timedelta(hours=12)
    assert parse_since(" 2W ", now) == now - timedelta(weeks=2)
    midnight = parse_since("2025-03-01")
    assert (midnight.year, midnight.month, midnight.day, midnight.hour) == (2025, 3, 1, 0)
    assert midnight.utcoffset() == datetime(2025, 3, 1).astimezone().utcoffset()  # local time
    assert parse_since("2025-03-01T14:00+09:00") == datetime(2025, 3, 1, 5, 0, tzinfo=UTC)
    for bad in ("last week", "7 days", "2025-13-01", ""):
        with pytest.raises(ValueError, match="expected a date"):
            parse_since(bad, now)


def _plans(db: Database, work: object) -> list[tuple[str, list[str]]]:
    """Every SELECT ``work()`` runs, with its EXPLAIN QUERY PLAN lines."""
    seen: list[str] = []
    db.conn.set_trace_callback(seen.append)  # gets the SQL with its parameters bound
    try:
        work()  # type: ignore[operator]
    finally:
        db.conn.set_trace_callback(None)
    selects = [s for s in seen if s.lstrip().upper().startswith("SELECT") and "sqlite_master" not in s]
    return [(s, [row[3] for row in db.execute("EXPLAIN QUERY PLAN " + s).fetchall()]) for s in selects]


def test_history_and_stats_by_agent_read_indexes(db: Database) -> None:
    """No full table scan and no sort of all rows: what keeps `tokyo history` and
    `tokyo stats --by agent` fast on 100,000 runs (benchmarks/bench_history.py)."""
    checked = _plans(
        db,
        lambda: (
            list_runs(db),
            list_runs(db, repo="/src/a"),
            list_runs(db, status="completed"),
            compute_stats(db, by="agent"),
        ),
    )
    assert len(checked) >= 9
    for sql, plan in checked:
        for line in plan:
            assert not line.startswith("SCAN") or "INDEX" in line, (sql, plan)
            assert "TEMP B-TREE FOR ORDER BY" not in line, (sql, plan)
        if "FROM runs" in sql:
            assert any("INDEX idx_runs_" in line for line in plan), (sql, plan)


def test_by_cwe_counts_the_runs_merged_findings_that_name_it(db: Database) -> None:
    def cwe(severity: Severity, title: str, ids: list[int]) -> Finding:
        return Finding(path="a.py", line=1, severity=severity, title=title, agent="akira", cwe=ids)

    step = StepResult(
        step_id="akira",
        agent="akira",
        agent_name="Akira",
        status="offline",
        findings=[cwe(Severity.HIGH, "raw only", [22])],
    )  # step findings are not counted
    save_run(db, run("/src/a", DAY3, [step], [cwe(Severity.HIGH, "sqli", [89]), cwe(Severity.LOW, "both", [89, 79])]))
    save_run(db, run("/src/b", DAY3 + timedelta(hours=1), [], [cwe(Severity.CRITICAL, "sqli again", [89])]))
    rows = compute_stats(db, by="cwe")
    assert [r.key for r in rows] == ["CWE-79", "CWE-89"]  # by number, not by text
    by_key = {r.key: r for r in rows}
    assert by_key["CWE-89"].runs == 2
    assert by_key["CWE-89"].findings == {"critical": 1, "high": 1, "medium": 0, "low": 1, "info": 0}
    assert (by_key["CWE-79"].runs, by_key["CWE-79"].findings["low"]) == (1, 1)
    assert (by_key["CWE-89"].calls, by_key["CWE-89"].cost_usd, by_key["CWE-89"].suppressed) == (0, None, None)
    assert [r.key for r in compute_stats(db, by="cwe", repo="/src/b")] == ["CWE-89"]
    assert compute_stats(db, by="cwe", repo="/src/b")[0].findings["critical"] == 1
