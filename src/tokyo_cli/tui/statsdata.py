"""Cost and findings per agent, per model and per day, computed from the history database.

Read-only SQL over ``runs``, ``steps``, ``llm_calls`` and ``findings`` (see
``store/migrations.py``). Findings per agent and per model count what each step raised (scope
``step``: before the run merged duplicates), so an issue two agents found counts for both;
findings per day count the runs' merged findings. USD sums known call costs (``None`` when no
call of the group had a price). Days are calendar days in the given time zone.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from sqlite_utils import Database

TREND_DAYS = 14
"""Days in each trend: the ones ending on the day of the newest run (not today, so a
stats view does not drift while nothing runs)."""


@dataclass
class Row:
    """One group (an agent, a model or a day). Tokens are provider tokens; USD is US dollars.

    ``cost_trend`` and ``finding_trend`` hold one value per day of :attr:`Stats.days`.
    """

    key: str
    runs: int = 0
    calls: int = 0
    failed_calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float | None = None
    findings: int = 0
    latency_s: float = 0.0  # summed; see avg_latency_s
    cost_trend: list[float] = field(default_factory=list)
    finding_trend: list[int] = field(default_factory=list)

    @property
    def avg_latency_s(self) -> float | None:
        ok = self.calls - self.failed_calls
        return self.latency_s / ok if ok > 0 else None

    def add_cost(self, usd: float | None) -> None:
        if usd is not None:
            self.cost_usd = (self.cost_usd or 0.0) + usd


@dataclass
class Stats:
    """The stats view: groups sorted by USD then findings (agents, models); days newest first."""

    runs: int = 0
    cost_usd: float | None = None
    findings: int = 0
    agents: list[Row] = field(default_factory=list)
    models: list[Row] = field(default_factory=list)
    days: list[Row] = field(default_factory=list)
    trend_days: list[date] = field(default_factory=list)


def _day(iso: str, tz: tzinfo | None) -> date:
    stamp = datetime.fromisoformat(iso)
    return (stamp.astimezone(tz) if tz is not None else stamp.astimezone()).date()


def compute_stats(db: Database, tz: tzinfo | None = None, *, trend_days: int = TREND_DAYS) -> Stats:
    """Aggregate every stored run. ``tz=None`` buckets days in the local time zone.

    Raises:
        sqlite3.Error: an unreadable database (callers wrap it as ``StoreError``).
    """
    run_day = {r[0]: _day(r[1], tz) for r in db.execute("select id, started_at from runs")}
    stats = Stats(runs=len(run_day))
    if not run_day:
        return stats
    last = max(run_day.values())
    stats.trend_days = [last - timedelta(days=n) for n in range(trend_days - 1, -1, -1)]
    slot = {d: i for i, d in enumerate(stats.trend_days)}
    agents: dict[str, Row] = defaultdict(lambda: Row(""))
    models: dict[str, Row] = defaultdict(lambda: Row(""))
    days: dict[date, Row] = defaultdict(lambda: Row(""))
    agent_runs: dict[str, set[int]] = defaultdict(set)
    model_runs: dict[str, set[int]] = defaultdict(set)

    def trend(row: Row, day: date, usd: float | None = None, findings: int = 0) -> None:
        if not row.cost_trend:
            row.cost_trend, row.finding_trend = [0.0] * trend_days, [0] * trend_days
        if day in slot:
            row.cost_trend[slot[day]] += usd or 0.0
            row.finding_trend[slot[day]] += findings

    for run_id, usd, *counts in db.execute(
        "select id, cost_usd, findings_critical, findings_high, findings_medium, findings_low, findings_info from runs"
    ):
        n = sum(c or 0 for c in counts)
        day_row = days[run_day[run_id]]
        day_row.runs += 1
        day_row.findings += n
        day_row.add_cost(usd)
        stats.findings += n
        if usd is not None:
            stats.cost_usd = (stats.cost_usd or 0.0) + usd
    for run_id, agent, model, status, tin, tout, usd, latency in db.execute(
        "select run_id, agent, model, status, tokens_in, tokens_out, cost_usd, latency_s from llm_calls"
    ):
        day = run_day[run_id]
        day_row = days[day]
        day_row.calls += 1
        day_row.tokens_in += tin or 0
        day_row.tokens_out += tout or 0
        for row, key, seen in ((agents[agent or "?"], agent or "?", agent_runs), (models[model], model, model_runs)):
            row.key = key
            row.calls += 1
            row.failed_calls += status != "ok"
            row.tokens_in += tin or 0
            row.tokens_out += tout or 0
            row.latency_s += (latency or 0.0) if status == "ok" else 0.0
            row.add_cost(usd)
            seen[key].add(run_id)
            trend(row, day, usd=usd)
    for run_id, agent, model in db.execute("select run_id, agent, model from steps"):
        agent_runs[agent].add(run_id)
        agents[agent].key = agent
        trend(agents[agent], run_day[run_id])
    for run_id, agent, model in db.execute(
        "select f.run_id, s.agent, s.model from findings f join steps s on s.id = f.step_row_id where f.scope = 'step'"
    ):
        day = run_day[run_id]
        agents[agent].key = agent
        agents[agent].findings += 1
        trend(agents[agent], day, findings=1)
        if model:
            models[model].key = model
            models[model].findings += 1
            trend(models[model], day, findings=1)
    for key, row in agents.items():
        row.runs = len(agent_runs[key])
    for key, row in models.items():
        row.runs = len(model_runs[key])

    def rank(row: Row) -> tuple[float, int, str]:
        return (-(row.cost_usd or 0.0), -row.findings, row.key)

    stats.agents = sorted(agents.values(), key=rank)
    stats.models = sorted(models.values(), key=rank)
    for d, row in days.items():
        row.key = d.isoformat()
    stats.days = sorted(days.values(), key=lambda r: r.key, reverse=True)
    return stats


def sparkline(values: list[float] | list[int]) -> str:
    """``[0, 1, 4, 2]`` -> ``"·▂█▄"``: one block per value scaled to the largest; zero is ``·``."""
    blocks = "▁▂▃▄▅▆▇█"
    top = max(values, default=0)
    out = []
    for v in values:
        out.append("·" if v <= 0 else blocks[max(0, min(7, math.ceil(v / top * 8) - 1))])
    return "".join(out)
