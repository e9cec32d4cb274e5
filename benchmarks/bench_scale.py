"""Benchmarks for review at scale (issue: large changes, budgets, cache, faults). Prints numbers.

    .venv/bin/python benchmarks/bench_scale.py pack     # 10,000 files / ~500,000 changed lines
    .venv/bin/python benchmarks/bench_scale.py calls    # 200 calls, concurrency 50, 0.5 s latency
    .venv/bin/python benchmarks/bench_scale.py floor    # the same 200 calls through bare litellm
    .venv/bin/python benchmarks/bench_scale.py rerun    # unchanged change, second run from cache
    .venv/bin/python benchmarks/bench_scale.py budget   # a cap that allows part of a change
    .venv/bin/python benchmarks/bench_scale.py all

Targets: pack <= 10 s and <= 1 GB peak; calls wall <= 2.4 s (ideal 2.0 s); rerun 0 calls and
<= 1 s; budget never above the cap (checked against the recorded per-call costs).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from fakes.provider import STATS_PATH, FakeProvider  # noqa: E402
from tokyo_cli.config.settings import load_settings  # noqa: E402
from tokyo_cli.engine.coverage import select_files  # noqa: E402
from tokyo_cli.engine.packing import TokenMeter, pack  # noqa: E402
from tokyo_cli.engine.prompts import system_prompt  # noqa: E402
from tokyo_cli.engine.review import ReviewRequest, prepare_review, run_review_blocking  # noqa: E402
from tokyo_cli.llm.pricing import count_tokens  # noqa: E402


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def make_repo(repo: Path, files: int, lines: int) -> None:
    """``files`` Python modules, each then changed by ``lines`` added lines (working tree)."""
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "bench@example.com")
    git(repo, "config", "user.name", "bench")
    for i in range(files):
        p = repo / f"pkg{i % 100:02}" / f"mod{i:05}.py"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(f"VALUE = {i}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    for i in range(files):
        p = repo / f"pkg{i % 100:02}" / f"mod{i:05}.py"
        body = "".join(f"def f{k}(x):  # change {i}.{k}\n    return x * {k} + VALUE\n" for k in range(lines // 2))
        p.write_text(f"VALUE = {i}\n" + body)


def bench_pack(tmp: Path) -> None:
    repo = tmp / "big"
    t = time.perf_counter()
    make_repo(repo, 10_000, 50)
    print(f"[pack] setup (not timed): {time.perf_counter() - t:.1f} s")
    settings = load_settings(offline=True)
    t0 = time.perf_counter()
    prepared = prepare_review(ReviewRequest(repo=repo, working=True), settings)
    t1 = time.perf_counter()
    meter, total_chunks, worst = TokenMeter(), 0, 0.0
    covered: set[str] = set()

    def pack_step(step):  # type: ignore[no-untyped-def]
        agent = prepared.team.get(step.agent)
        files = select_files(agent, step, prepared.changeset) or []
        fixed = count_tokens(agent.model, [system_prompt(agent)])[0] + 1_500
        room = min(agent.context_window - agent.max_output_tokens - fixed - int(agent.context_window * 0.05), 60_000)
        return agent, files, room, pack(files, room, model=agent.model, meter=meter)

    # As the engine does: every review step packs at once, each in its own thread.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor() as pool:
        results = list(pool.map(pack_step, [s for s in prepared.workflow.steps if s.task == "review"]))
    for agent, files, room, chunks in results:
        total_chunks += len(chunks)
        worst = max([worst, *(c.tokens / room for c in chunks)])
        covered |= {p for c in chunks for p in c.paths}
        print(f"[pack]   {agent.id:<6} {len(files):>6} files -> {len(chunks):>4} chunks of <= {room:,} tokens")
    t2 = time.perf_counter()
    cs = prepared.changeset
    changed = sum(f.additions + f.deletions for f in cs.files)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"[pack] files {len(cs.files):,}, changed lines {changed:,}")
    print(f"[pack] changeset {t1 - t0:.2f} s + packing all agents {t2 - t1:.2f} s = {t2 - t0:.2f} s (target <= 10 s)")
    print(f"[pack] chunks {total_chunks}, fullest chunk at {worst:.0%} of its budget (must be <= 100%)")
    print(
        f"[pack] coverage: {len(covered):,} of {len(cs.reviewable()):,} reviewable files in some chunk; "
        f"{len(cs.skipped())} listed as skipped"
    )
    print(f"[pack] peak memory {peak_mb:.0f} MB (target <= 1024 MB)")


class ServedFake:
    """The fake provider in its own process, as a real provider is (not sharing our GIL)."""

    def __init__(self, latency: float) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "fakes" / "provider.py"), str(latency)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.url = self.proc.stdout.readline().strip()  # type: ignore[union-attr]

    def stats(self, reset: bool = False) -> dict[str, int]:
        import httpx

        base = self.url.removesuffix("/v1")
        return httpx.get(base + STATS_PATH, headers={"X-Reset": "1"} if reset else {}).json()  # type: ignore[no-any-return]

    def __enter__(self) -> ServedFake:
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.stdin.close()  # type: ignore[union-attr]
        self.proc.wait(timeout=10)


def bench_calls(tmp: Path) -> None:
    repo = tmp / "calls"
    make_repo(repo, 200, 40)
    # Only calls: Akira without her offline analyzers (bandit on 200 files is ~1.5 s of work that
    # is not the engine's), so the wall below is the whole run.
    (repo / "agents.yaml").write_text("agents:\n  - id: akira\n    analyzers: []\n")
    git(repo, "add", "agents.yaml")
    git(repo, "commit", "-qm", "team")
    with ServedFake(latency=0.5) as fp:
        os.environ["TOKYO_HOME"] = str(tmp / "home-calls")
        settings = load_settings(
            api_base=fp.url, workflow="security", max_concurrency=50, max_chunk_tokens=1_000, cache=False
        )
        prepared = prepare_review(ReviewRequest(repo=repo, working=True), settings)
        run_review_blocking(prepared, settings.model_copy(update={"workflow": "security"}), store=False)  # warm-up
        server_cpu0 = fp.stats(reset=True)["cpu_s"]
        t0, m0, c0 = time.perf_counter(), time.monotonic(), time.process_time()
        outcome = run_review_blocking(prepared, settings, store=False)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        stats = fp.stats()
        print(
            f"[calls] CPU: tokyo {cpu:.2f} s ({cpu / max(1, stats['requests']) * 1000:.1f} ms per call, one event "
            f"loop thread), fake server {stats['cpu_s'] - server_cpu0:.2f} s"
        )
        arrivals = sorted(a - m0 for a in stats["arrivals"])
        waves = [arrivals[i] for i in range(0, len(arrivals), 50)]
        print(
            "[calls] request arrivals (s after start): first of each 50 "
            + ", ".join(f"{w:.2f}" for w in waves)
            + f"; last {arrivals[-1]:.2f}"
        )
        calls = stats["requests"]
        ideal = calls / 50 * 0.5
        calls_wall = wall
        overhead_ms = (calls_wall - ideal) / calls * 1000
        print(
            f"[calls] {calls} calls, peak in flight {stats['peak_in_flight']}, run wall {wall:.2f} s "
            f"(ideal {ideal:.2f} s, target <= 2.4 s); overhead over the ideal {overhead_ms:.1f} ms per call "
            f"(litellm's work included; compare 'floor'); status {outcome.result.status}"
        )


def bench_floor(tmp: Path) -> None:
    """The same 200 calls through bare litellm (no tokyo code): what the calls target meets."""
    import asyncio

    import litellm

    # A packed chunk's size: Akira's system prompt plus ~1,000 tokens of diff.
    messages = [
        {"role": "system", "content": "You review code. " * 300},
        {"role": "user", "content": "   12 + def f(x):  # change\n   13 +     return x * 2\n" * 60},
    ]

    async def run(url: str) -> float:
        kwargs = {
            "model": "claude-opus-4-5",
            "custom_llm_provider": "openai",
            "api_base": url,
            "api_key": "sk-local",
            "messages": messages,
            "max_tokens": 8192,
            "num_retries": 0,
            "max_retries": 0,
            "drop_params": True,
            "response_format": {"type": "json_object"},
        }
        await litellm.acompletion(**kwargs)  # warm-up: clients, caches
        slot = asyncio.Semaphore(50)

        async def one() -> None:
            async with slot:
                await litellm.acompletion(**kwargs)

        t0 = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(200)))
        return time.perf_counter() - t0

    with ServedFake(latency=0.5) as fp:
        walls = [asyncio.run(run(fp.url)) for _ in range(3)]
    print(
        "[floor] 200 bare litellm.acompletion calls, semaphore 50, 0.5 s latency: wall "
        + ", ".join(f"{w:.2f}" for w in walls)
        + " s (tokyo's calls target is 2.4 s)"
    )


def _tokyo(repo: Path, home: Path, *args: str) -> tuple[float, dict]:  # type: ignore[type-arg]
    env = {**os.environ, "TOKYO_HOME": str(home)}
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "tokyo_cli", "review", str(repo), "-f", "json", "-q", *args],
        capture_output=True,
        text=True,
        env=env,
    )
    return time.perf_counter() - t0, json.loads(proc.stdout)


def bench_rerun(tmp: Path) -> None:
    repo = tmp / "rerun"
    make_repo(repo, 50, 20)
    with FakeProvider.start(latency=0.5) as fp:
        first, _ = _tokyo(repo, tmp / "home-rerun", "--api-base", fp.url)
        calls = len(fp.requests)
        second, report = _tokyo(repo, tmp / "home-rerun", "--api-base", fp.url)
        hits = sum(c["cache_hit"] for s in report["steps"] for c in s["calls"])
        print(
            f"[rerun] first run {first:.2f} s, {calls} calls; second run {second:.2f} s, "
            f"{len(fp.requests) - calls} new calls, {hits} cache hits (target 0 calls, <= 1 s)"
        )


def bench_budget(tmp: Path) -> None:
    repo = tmp / "budget"
    make_repo(repo, 40, 40)
    with FakeProvider.start(latency=0.2) as fp:
        fp.script("", {"findings": [], "summary": "ok"}, usage=(1_500, 6_000))
        env_cap = "0.60"
        os.environ["TOKYO_MAX_CHUNK_TOKENS"] = "1000"
        _, report = _tokyo(repo, tmp / "home-budget", "--api-base", fp.url, "--max-cost", env_cap, "--no-cache")
        del os.environ["TOKYO_MAX_CHUNK_TOKENS"]
        calls = [c for s in report["steps"] for c in s["calls"]]
        spent = sum(c["cost_usd"] or 0 for c in calls)
        skipped = [c for c in calls if c["status"] == "skipped"]
        unreviewed = [f["path"] for f in report["files"] if f["reason"] == "budget"]
        gaps = sum(1 for s in report["steps"] for _ in (s.get("not_reviewed") or {}))
        print(
            f"[budget] cap ${env_cap}: {len(calls) - len(skipped)} calls made, {len(skipped)} not started, "
            f"recorded cost ${spent:.4f} (<= cap: {spent <= float(env_cap)}); {gaps} (agent, file) pairs and "
            f"{len(unreviewed)} files reviewed by no agent listed 'not reviewed (budget)'; "
            f"run {report['run']['status']}"
        )


def main() -> None:
    which = sys.argv[1] if len(sys.argv) > 1 else "all"
    with tempfile.TemporaryDirectory() as tmp:
        for name, fn in (
            ("pack", bench_pack),
            ("calls", bench_calls),
            ("floor", bench_floor),
            ("rerun", bench_rerun),
            ("budget", bench_budget),
        ):
            if which in (name, "all"):
                fn(Path(tmp))


if __name__ == "__main__":
    main()
