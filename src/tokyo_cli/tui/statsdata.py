"""The stats view's data: ``store.stats`` totals per agent, model and day, plus daily trends.

Totals come from :func:`tokyo_cli.store.stats.compute_stats` (the numbers ``tokyo stats``
prints: runs, calls, tokens, USD, latency percentiles, findings by severity). The view adds
what that module does not group by: each agent's and each model's USD and raw findings per
calendar day, for a sparkline. Days are local calendar days, as in ``store.stats``; the trend
covers the days ending on the newest run's day (not today, so the view does not drift while
nothing runs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlite_utils import Database

from tokyo_cli.store.db import db_path, translate_errors
from tokyo_cli.store.stats import OFFLINE_KEY, StatsRow, compute_stats

TREND_DAYS = 14

_LOCAL_DAY = "date(r.started_at, 'localtime')"


@dataclass
class Stats:
    """Everything the stats screen shows.

    ``total`` is the one all-runs row (``None`` for an empty history); ``agents`` and
    ``models`` are sorted by USD, then findings; ``days`` newest first. ``cost_trend`` and
    ``finding_trend`` map ``("agent" | "model", key)`` to one value per ``trend_days`` entry
    (USD, findings raised).
    """

    total: StatsRow | None = None
    agents: list[StatsRow] = field(default_factory=list)
    models: list[StatsRow] = field(default_factory=list)
    days: list[StatsRow] = field(default_factory=list)
    trend_days: list[date] = field(default_factory=list)
    cost_trend: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    finding_trend: dict[tuple[str, str], list[int]] = field(default_factory=dict)


def found(row: StatsRow) -> int:
    """Findings of every severity in ``row``."""
    return sum(row.findings.values())


def _rank(row: StatsRow) -> tuple[float, int, str]:
    return (-(row.cost_usd or 0.0), -found(row), row.key)


def load_stats(db: Database, *, trend_days: int = TREND_DAYS) -> Stats:
    """Totals and trends over every stored run.

    Raises:
        StoreError: an unreadable database.
    """
    overall = compute_stats(db)
    stats = Stats(
        total=overall[0] if overall else None,
        agents=sorted(compute_stats(db, by="agent"), key=_rank),
        models=sorted(compute_stats(db, by="model"), key=_rank),
        days=list(reversed(compute_stats(db, by="day"))),
    )
    if stats.days:
        last = date.fromisoformat(stats.days[0].key)
        stats.trend_days = [last - timedelta(days=n) for n in range(trend_days - 1, -1, -1)]
        _trends(db, stats)
    return stats


def _trends(db: Database, stats: Stats) -> None:
    slot = {d.isoformat(): i for i, d in enumerate(stats.trend_days)}
    first = stats.trend_days[0].isoformat()
    width = len(stats.trend_days)
    with translate_errors(db_path(db)):
        for group, column in (("agent", "c.agent"), ("model", "c.model")):
            sql = (
                f"SELECT {column}, {_LOCAL_DAY}, SUM(c.cost_usd) FROM llm_calls AS c "
                f"JOIN runs AS r ON r.id = c.run_id WHERE {_LOCAL_DAY} >= ? GROUP BY 1, 2"
            )
            for key, day, usd in db.execute(sql, [first]):
                if day in slot and usd is not None:
                    stats.cost_trend.setdefault((group, key), [0.0] * width)[slot[day]] += usd
        for group, column in (("agent", "s.agent"), ("model", f"COALESCE(s.model, '{OFFLINE_KEY}')")):
            sql = (
                f"SELECT {column}, {_LOCAL_DAY}, COUNT(*) FROM findings AS f "
                "JOIN steps AS s ON s.id = f.step_row_id JOIN runs AS r ON r.id = f.run_id "
                f"WHERE f.scope = 'step' AND {_LOCAL_DAY} >= ? GROUP BY 1, 2"
            )
            for key, day, n in db.execute(sql, [first]):
                if day in slot:
                    stats.finding_trend.setdefault((group, key), [0] * width)[slot[day]] += n


def sparkline(values: list[float] | list[int]) -> str:
    """``[0, 1, 4, 2]`` -> ``"·▂█▄"``: one block per value scaled to the largest; zero is ``·``."""
    blocks = "▁▂▃▄▅▆▇█"
    top = max(values, default=0)
    return "".join("·" if v <= 0 else blocks[max(0, min(7, math.ceil(v * 8 / top) - 1))] for v in values)
