"""Benchmark: the history database at scale (100,000 runs, 1,000,000 findings).

Seeds a fresh database through the real migrations (full-text triggers on), then times:

* ``tokyo history`` (the default listing, 20 newest runs) — target <= 0.3 s;
* ``tokyo stats --by agent`` — target <= 1 s;
* writing one run with 1,000 findings (``apply_ledger`` + ``save_run``) — target <= 0.2 s.

The two commands are timed twice: in-process (``main([...])``, the command's own work with
the modules already imported) and as a fresh ``tokyo`` process (what a person waits for,
interpreter start-up and imports included). Each time is the median of ``--repeat`` runs.

    .venv/bin/python benchmarks/bench_history.py [--runs 100000] [--findings-per-run 10]
                                                 [--repeat 5] [--db PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tokyo_cli.findings import Finding, Severity
from tokyo_cli.results import CallRecord, RunResult, StepResult
from tokyo_cli.store.db import open_db
from tokyo_cli.store.history import save_run
from tokyo_cli.store.ledger import apply_ledger

AGENTS = [
    ("akira", "anthropic/claude-opus-4-5"),
    ("yuki", "openai/o3"),
    ("hiro", "groq/openai/gpt-oss-120b"),
    ("sakura", "gemini/gemini-2.5-pro"),
    ("kenji", "openai/o3"),
]
SEVERITIES = ["critical", "high", "medium", "medium", "low", "low", "low", "info"]
REPOS = [f"/home/dev/src/service-{i:02d}" for i in range(20)]
WORKFLOWS = ["review", "review", "review", "security", "pr-review"]
BATCH = 5_000  # runs per executemany batch


def _fingerprint(n: int) -> str:
    return f"{n * 2654435761 % (1 << 64):016x}"


def _seed_batch(rng: random.Random, t0: datetime, first: int, count: int, per_run: int) -> dict[str, list[tuple]]:
    rows: dict[str, list[tuple]] = {"runs": [], "steps": [], "llm_calls": [], "findings": []}
    step_id = (first - 1) * len(AGENTS)
    finding_id = (first - 1) * per_run
    for run_id in range(first, first + count):
        started = t0 + timedelta(minutes=5 * run_id)
        seconds = rng.uniform(5, 90)
        counts = dict.fromkeys(("critical", "high", "medium", "low", "info"), 0)
        merged = per_run // 2
        for _ in range(merged):
            counts[rng.choice(SEVERITIES)] += 1
        tokens_in = tokens_out = calls = failed = hits = 0
        cost = 0.0
        for agent, model in AGENTS:
            step_id += 1
            offline = rng.random() < 0.1
            rows["steps"].append(
                (
                    step_id,
                    run_id,
                    agent,
                    agent,
                    agent.title(),
                    "review",
                    "offline" if offline else "ok",
                    None if offline else model,
                    model,
                    "[]",
                    '["src/app.py"]',
                    0,
                    "[]",
                    "",
                    None,
                    rng.uniform(1, 60),
                )
            )
            if not offline:
                t_in, t_out = rng.randint(2_000, 40_000), rng.randint(100, 4_000)
                usd = t_in * 3e-6 + t_out * 15e-6
                tokens_in, tokens_out, cost = tokens_in + t_in, tokens_out + t_out, cost + usd
                ok, hit = rng.random() > 0.02, rng.random() < 0.1
                calls, failed, hits = calls + 1, failed + (not ok), hits + hit
                rows["llm_calls"].append(
                    (
                        run_id,
                        step_id,
                        agent,
                        agent,
                        model,
                        model.split("/")[0],
                        t_in,
                        t_out,
                        usd,
                        rng.lognormvariate(1.5, 0.6),
                        1,
                        "ok" if ok else "error",
                        None,
                        int(hit),
                    )
                )
        for k in range(per_run):
            finding_id += 1
            agent = AGENTS[k % len(AGENTS)][0]
            scope, step_row = ("run", None) if k < merged else ("step", step_id - len(AGENTS) + 1 + k % len(AGENTS))
            fp = _fingerprint(rng.randrange(50_000))
            title = f"Possible issue {fp[:4]} in handler"
            rows["findings"].append(
                (
                    finding_id,
                    run_id,
                    scope,
                    step_row,
                    fp,
                    f"src/mod{k}.py",
                    rng.randint(1, 500),
                    rng.choice(SEVERITIES),
                    "security",
                    title,
                    f"User input reaches a sink ({fp}).",
                    agent,
                    f'["{agent}"]',
                    "security",
                    "model",
                    "open",
                )
            )
        rows["runs"].append(
            (
                run_id,
                rng.choice(REPOS),
                "range",
                "main...HEAD",
                rng.choice(WORKFLOWS),
                "completed" if rng.random() > 0.05 else "partial",
                started.isoformat(),
                (started + timedelta(seconds=seconds)).isoformat(),
                seconds,
                tokens_in,
                tokens_out,
                cost,
                *counts.values(),
                0,
                "high",
                "ab" * 32,
                0,
                "",
                calls,
                failed,
                hits,
            )
        )
    return rows


SQL = {
    "runs": "INSERT INTO runs (id, repo, target, target_description, workflow, status, started_at, "
    "finished_at, seconds, tokens_in, tokens_out, cost_usd, findings_critical, findings_high, "
    "findings_medium, findings_low, findings_info, offline, fail_on, workflow_hash, "
    "target_chosen_by_default, summary, calls, failed_calls, cache_hits) VALUES (" + ", ".join("?" * 25) + ")",
    "steps": "INSERT INTO steps (id, run_id, step_id, agent, agent_name, task, status, model, "
    "configured_model, credential_env, files, dropped_findings, analyzers, summary, error, "
    "seconds) VALUES (" + ", ".join("?" * 16) + ")",
    "llm_calls": "INSERT INTO llm_calls (run_id, step_row_id, step_id, agent, model, provider, tokens_in, "
    "tokens_out, cost_usd, latency_s, attempts, status, error, cache_hit) VALUES (" + ", ".join("?" * 14) + ")",
    "findings": "INSERT INTO findings (id, run_id, scope, step_row_id, fingerprint, path, line, severity, "
    "category, title, body, agent, agents, step, source, status) VALUES (" + ", ".join("?" * 16) + ")",
}


def seed(path: Path, runs: int, per_run: int) -> None:
    """A migrated database at ``path`` with ``runs`` runs and ``runs * per_run`` findings
    (half merged, half raw step findings), 5 steps and up to 5 calls per run, and a ledger
    over 50,000 distinct fingerprints (5% dismissed, 5% accepted)."""
    rng = random.Random(5)
    t0 = datetime.now(UTC) - timedelta(minutes=5 * runs)  # one run every 5 minutes, up to now
    db = open_db(path)
    conn = db.conn
    conn.execute("PRAGMA synchronous = OFF")  # seeding only: a crash just means re-seeding
    # Bulk load: drop the migrations' indexes and search triggers, insert, then recreate
    # them from their own SQL and rebuild the search index, so the schema ends identical.
    saved = conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') AND sql IS NOT NULL "
        "AND tbl_name IN ('runs', 'steps', 'llm_calls', 'findings')"
    ).fetchall()
    with conn:
        for kind, name, _ in saved:
            conn.execute(f"DROP {kind.upper()} {name}")
    for first in range(1, runs + 1, BATCH):
        batch = _seed_batch(rng, t0, first, min(BATCH, runs - first + 1), per_run)
        with conn:
            for table, rows in batch.items():
                conn.executemany(SQL[table], rows)
    with conn:
        for _, _, sql in saved:
            conn.execute(sql)
        conn.execute("INSERT INTO findings_fts (findings_fts) VALUES ('rebuild')")
    with conn:
        conn.execute(
            """INSERT INTO ledger (fingerprint, status, reason, decided_by, decided_at, repo, path, line,
                                   agent, severity, category, title, first_seen_at, last_seen_at,
                                   first_run_id, last_run_id, seen)
               SELECT f.fingerprint,
                      CASE abs(f.id) % 20 WHEN 0 THEN 'dismissed' WHEN 1 THEN 'accepted' ELSE 'open' END,
                      NULL, NULL, NULL, r.repo, f.path, f.line, f.agent, f.severity, f.category, f.title,
                      r.started_at, r.started_at, f.run_id, f.run_id, 1
               FROM findings AS f JOIN runs AS r ON r.id = f.run_id
               WHERE f.scope = 'run'
               ON CONFLICT (fingerprint) DO UPDATE SET last_seen_at = excluded.last_seen_at,
                   last_run_id = excluded.last_run_id, seen = seen + 1"""
        )
    db.close()


def big_run(n: int) -> RunResult:
    """A run with ``n`` merged findings (and the same ``n`` as one step's raw findings)."""
    findings = [
        Finding(
            path=f"src/pkg/mod{i % 50}.py",
            line=i + 1,
            severity=Severity.MEDIUM,
            category="security",
            title=f"Unvalidated input number {i}",
            body="User input reaches a shell.",
            agent="akira",
            step="security",
            anchor_text=f"run(cmd_{i}, shell=True)",
        )
        for i in range(n)
    ]
    step = StepResult(
        step_id="security",
        agent="akira",
        agent_name="Akira",
        status="ok",
        model="anthropic/claude-opus-4-5",
        findings=[f.model_copy() for f in findings],
        calls=[
            CallRecord(
                step_id="security",
                agent="akira",
                model="anthropic/claude-opus-4-5",
                provider="anthropic",
                tokens_in=30_000,
                tokens_out=9_000,
            )
        ],
    )
    now = datetime.now(UTC)
    return RunResult(
        repo=REPOS[0],
        target="range",
        target_description="main...HEAD",
        workflow="review",
        status="completed",
        started_at=now,
        finished_at=now + timedelta(seconds=30),
        steps=[step],
        findings=findings,
    )


def median_time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield


def in_process(args: list[str]) -> Callable[[], None]:
    from tokyo_cli.cli.app import main

    def run() -> None:
        with quiet():
            try:
                main(args)
            except SystemExit as exc:
                if exc.code:
                    raise RuntimeError(f"tokyo {' '.join(args)} exited {exc.code}") from None

    return run


def fresh_process(args: list[str]) -> Callable[[], None]:
    tokyo = shutil.which("tokyo", path=str(Path(sys.executable).parent)) or "tokyo"

    def run() -> None:
        subprocess.run([tokyo, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--findings-per-run", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--db", type=Path, help="Reuse (or keep) the seeded database at PATH.")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tokyo-bench-"))
    path = args.db or tmp / "history.db"
    os.environ["NO_COLOR"] = "1"
    try:
        if not path.exists():
            start = time.perf_counter()
            seed(path, args.runs, args.findings_per_run)
            print(f"seeded {path}: {time.perf_counter() - start:.1f} s")
        db = open_db(path)
        counts = {t: db[t].count for t in ("runs", "steps", "llm_calls", "findings", "ledger")}
        print("rows: " + ", ".join(f"{t} {n:,}" for t, n in counts.items()))
        print(f"size: {path.stat().st_size / 1e6:.0f} MB")
        for label, argv, target in (
            ("tokyo history", ["history", "--db", str(path)], 0.3),
            ("tokyo history --json", ["history", "--db", str(path), "--json"], 0.3),
            ("tokyo history --repo R", ["history", "--db", str(path), "--repo", REPOS[3]], 0.3),
            ("tokyo stats --by agent", ["stats", "--by", "agent", "--db", str(path)], 1.0),
            ("tokyo stats", ["stats", "--db", str(path)], None),
            ("tokyo stats --by model", ["stats", "--by", "model", "--db", str(path)], None),
            ("tokyo stats --by day", ["stats", "--by", "day", "--db", str(path)], None),
            (
                "tokyo stats --by agent --since 30d",
                ["stats", "--by", "agent", "--since", "30d", "--db", str(path)],
                None,
            ),
        ):
            warm = median_time(in_process(argv), args.repeat)
            cold = median_time(fresh_process(argv), args.repeat)
            goal = f"(target <= {target * 1000:.0f} ms)" if target else "(no target)"
            print(f"{label:34s} in-process {warm * 1000:7.1f} ms   fresh process {cold * 1000:7.1f} ms   {goal}")
        times = []
        for _ in range(args.repeat):
            run = big_run(1_000)
            start = time.perf_counter()
            apply_ledger(db, run)
            save_run(db, run)
            times.append(time.perf_counter() - start)
        print(
            f"{'write one run, 1,000 findings':34s} {statistics.median(times) * 1000:7.1f} ms"
            f" (median of {args.repeat}; target <= 200 ms)"
        )
        db.close()
    finally:
        if args.db is None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
