"""``tokyo stats``: runs, calls, tokens, USD, latency, cache hits and findings over time."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from tokyo_cli.cli.common import DbOption, JsonOption

HELP = (
    "Usage and findings from the history database, overall or grouped.\n\n"
    "Per agent and per model, findings are each agent's raw findings (before merging); per day, "
    "per repository and overall they are the runs' merged findings, as reported, and the "
    "suppressed count. Per CWE, they are the runs' merged findings that name that CWE, and the runs "
    "with one (calls and costs belong to no CWE). Latency is per provider call (p50/p95, seconds); "
    "cache is the share of calls answered from the response cache.\n\n"
    "Examples: tokyo stats --by agent;  tokyo stats --by day --since 30d;  tokyo stats --json"
)


class Grouping(str, Enum):
    agent = "agent"
    model = "model"
    day = "day"
    repo = "repo"
    cwe = "cwe"


def stats(
    by: Annotated[Grouping | None, typer.Option("--by", help="Group rows by this.")] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since", metavar="WHEN", help="Only runs since a date (2025-03-01), date-time or age (7d, 12h, 2w)."
        ),
    ] = None,
    repo: Annotated[
        Path | None, typer.Option("--repo", help="Only runs of the repository containing PATH.", file_okay=False)
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> int:
    from tokyo_cli.cli.listing import emit_json, emit_table, note, open_history, repo_filter
    from tokyo_cli.errors import ConfigError
    from tokyo_cli.store.stats import compute_stats, parse_since

    try:
        start = parse_since(since) if since else None
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    database = open_history(db)
    repo_path = repo_filter(database, repo)
    rows = compute_stats(database, by=by.value if by else None, since=start, repo=repo_path)
    database.close()
    if as_json:
        emit_json([r.model_dump(mode="json") for r in rows])
        return 0
    if not rows:
        note("No runs match." if since or repo else "No runs yet. Run `tokyo review` in a git repository.")
        return 0
    import sys

    from tokyo_cli.report import compact_tokens, format_usd

    key = by.value if by else "group"
    severities = list(rows[0].findings)
    if by is Grouping.cwe:  # findings and runs only: calls, tokens and costs belong to no CWE
        if not sys.stdout.isatty():
            emit_table([key, "runs", *severities], [[r.key, r.runs, *r.findings.values()] for r in rows], tty=False)
            return 0
        head = f"{key} (findings)"
        emit_table(
            [head, "runs", *severities],
            [[r.key, f"{r.runs:,}", *(f"{n:,}" for n in r.findings.values())] for r in rows],
            right=["runs", *severities],
            wide=[head],
            tty=True,
        )
        return 0
    if not sys.stdout.isatty():  # one tab-separated table of exact numbers for scripts
        columns = [
            key,
            "runs",
            "calls",
            "failed_calls",
            "tokens_in",
            "tokens_out",
            "cost_usd",
            "latency_p50_s",
            "latency_p95_s",
            "cache_hit_rate",
            *severities,
            "suppressed",
        ]
        emit_table(
            columns,
            [
                [
                    r.key,
                    r.runs,
                    r.calls,
                    r.failed_calls,
                    r.tokens_in,
                    r.tokens_out,
                    _num(r.cost_usd, "{:.6f}"),
                    _num(r.latency_p50_s, "{:.3f}"),
                    _num(r.latency_p95_s, "{:.3f}"),
                    _num(r.cache_hit_rate, "{:.3f}"),
                    *r.findings.values(),
                    "" if r.suppressed is None else r.suppressed,
                ]
                for r in rows
            ],
            tty=False,
        )
        return 0
    usage = [
        [
            r.key,
            f"{r.runs:,}",
            f"{r.calls:,}",
            f"{r.failed_calls:,}",
            compact_tokens(r.tokens_in),
            compact_tokens(r.tokens_out),
            format_usd(r.cost_usd),
            _num(r.latency_p50_s, "{:.1f}", "—"),
            _num(r.latency_p95_s, "{:.1f}", "—"),
            _num(r.cache_hit_rate, "{:.0%}", "—"),
        ]
        for r in rows
    ]
    numbers = ["runs", "calls", "failed", "tok in", "tok out", "USD", "p50 s", "p95 s", "cache"]
    emit_table([key, *numbers], usage, right=numbers, wide=[key], tty=True)
    typer.echo()
    counted = ["suppressed"] if by not in (Grouping.agent, Grouping.model) else []
    findings = [
        [r.key, *(f"{n:,}" for n in r.findings.values()), *([f"{r.suppressed or 0:,}"] if counted else [])]
        for r in rows
    ]
    title = "findings" if counted else "raw findings"
    emit_table(
        [f"{key} ({title})", *severities, *counted],
        findings,
        right=[*severities, *counted],
        wide=[f"{key} ({title})"],
        tty=True,
    )
    return 0


def _num(value: float | None, spec: str, missing: str = "") -> str:
    return missing if value is None else spec.format(value)
