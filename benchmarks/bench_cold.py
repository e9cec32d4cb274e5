"""Benchmark: a cold `tokyo review` process, as a person runs it, against a fake provider.

A fresh ``python -m tokyo_cli review --working --api-base URL`` process over a generated
25-file change, default settings (response cache on, empty: a fresh ``TOKYO_HOME`` per run),
the fake OpenAI-compatible server in its own process at 1.0 s latency. Prints per run:

- total wall: process start to process exit;
- time to first request: process start to the first request reaching the fake server;
- last output to exit: the last byte on stdout/stderr to the process's exit;

and, measured in a separate bare process on the same machine, ``import litellm``. Targets
(issue 17): the first request leaves within 0.5 s after a bare import would have finished;
exit within 0.1 s of the last output; total wall <= bare import + 2.0 s (two model calls on
the critical path) + 1.0 s. These are printed next to the numbers, never asserted.

    .venv/bin/python benchmarks/bench_cold.py [--runs 3] [--files 25] [--latency 1.0] [--src DIR]

``--src`` runs another checkout's ``src`` (e.g. before a change) with the same interpreter.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from changes import DOCUMENTED_PY, make_change

ROOT = Path(__file__).resolve().parents[1]
STATS_PATH = "/__stats"  # tests/fakes/provider.py
KEYS = (
    "ANTHROPIC_API_KEY",
    "OPENAI_API_KEY",
    "GROQ_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_API_BASE",
    "GITHUB_TOKEN",
)


def bare_import_s(env: dict[str, str]) -> float:
    """Seconds of ``import litellm`` in a fresh process (the cost tokyo can hide, not avoid)."""
    code = (
        "import os, time; os.environ['LITELLM_LOCAL_MODEL_COST_MAP'] = 'True'; t = time.perf_counter(); "
        "import litellm; print(time.perf_counter() - t)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True, cwd=tempfile.gettempdir()
    )
    return float(out.stdout.strip().splitlines()[-1])


class Provider:
    """tests/fakes/provider.py in its own process (a real provider does not share our GIL)."""

    def __init__(self, latency: float) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "fakes" / "provider.py"), str(latency)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()

    def stats(self, reset: bool = False) -> dict[str, object]:
        base = self.url.rsplit("/v1", 1)[0]
        return httpx.get(base + STATS_PATH, headers={"X-Reset": "1"} if reset else {}).json()  # type: ignore[no-any-return]

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(30)


def _drain(fd: int, last: list[float], sink: list[bytes]) -> None:
    while True:
        data = os.read(fd, 65536)
        if not data:
            return
        last[0] = time.monotonic()
        sink.append(data)


def one_run(repo: Path, home: Path, provider: Provider, env: dict[str, str]) -> dict[str, float]:
    """One cold review process; seconds (monotonic clock, shared with the provider process)."""
    provider.stats(reset=True)
    run_env = {**env, "TOKYO_HOME": str(home)}
    start = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tokyo_cli", "review", str(repo), "--working", "--api-base", provider.url, "-f", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=run_env,
        cwd=repo,
    )
    assert proc.stdout is not None and proc.stderr is not None
    last = [start]
    out: list[bytes] = []
    err: list[bytes] = []
    readers = [
        threading.Thread(target=_drain, args=(proc.stdout.fileno(), last, out)),
        threading.Thread(target=_drain, args=(proc.stderr.fileno(), last, err)),
    ]
    for t in readers:
        t.start()
    code = proc.wait()
    ended = time.monotonic()
    for t in readers:
        t.join()
    stats = provider.stats()
    arrivals = stats["arrivals"]
    assert isinstance(arrivals, list)
    if code not in (0, 1) or not arrivals:
        raise SystemExit(f"tokyo exited {code} after {len(arrivals)} request(s):\n{b''.join(err).decode()[-2000:]}")
    return {
        "wall": ended - start,
        "first_request": min(arrivals) - start,
        "exit_after_output": ended - last[0],
        "requests": float(len(arrivals)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--files", type=int, default=25)
    parser.add_argument("--latency", type=float, default=1.0)
    parser.add_argument("--src", type=Path, default=ROOT / "src", help="tokyo source directory to run")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k not in KEYS and not k.startswith("TOKYO_")}
    env["PYTHONPATH"] = str(args.src.resolve())
    provider = Provider(args.latency)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            repo = Path(tmp) / "repo"
            repo.mkdir()
            make_change(repo, args.files, python=DOCUMENTED_PY)
            runs = []
            imports = []
            for i in range(args.runs):
                imports.append(bare_import_s(env))
                runs.append(one_run(repo, Path(tmp) / f"home{i}", provider, env))
                r = runs[-1]
                print(
                    f"run {i + 1}: wall {r['wall']:.2f} s, first request {r['first_request']:.2f} s, "
                    f"last output to exit {r['exit_after_output']:.3f} s, {int(r['requests'])} requests; "
                    f"bare import litellm {imports[-1]:.2f} s",
                    flush=True,
                )
    finally:
        provider.close()
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    imp = statistics.median(imports)
    print(f"== median of {args.runs} (src {args.src}, {args.files} files, {args.latency:g} s latency)")
    print(f"bare import litellm (s):   {imp:.2f}")
    print(
        f"total wall (s):            {med['wall']:.2f}   (target <= {imp + 2 * args.latency + 1.0:.2f}: "
        f"import + 2 calls + 1.0)"
    )
    print(f"time to first request (s): {med['first_request']:.2f}   (target <= {imp + 0.5:.2f}: import + 0.5)")
    print(f"last output to exit (s):   {med['exit_after_output']:.3f}  (target <= 0.100)")


if __name__ == "__main__":
    main()
