"""Benchmark: the default workflow over a generated ~50-file change, fake provider at 1.0 s.

Prints wall time, provider calls and peak calls in flight. The critical path is two model
calls (the five reviews concurrently, then the synthesis), so the target is wall <= 2.5 s.

    .venv/bin/python benchmarks/bench_review.py [--files 50] [--latency 1.0]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from changes import make_change  # noqa: E402
from fakes.provider import FakeProvider  # noqa: E402

from tokyo_cli.engine.review import ReviewRequest, prepare_review, run_review_blocking  # noqa: E402
from tokyo_cli.config.settings import load_settings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--latency", type=float, default=1.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, FakeProvider.start(latency=args.latency) as fp:
        repo = Path(tmp) / "repo"
        repo.mkdir()
        make_change(repo, args.files)
        os.environ["TOKYO_HOME"] = str(Path(tmp) / "home")
        settings = load_settings(api_base=fp.url, cache=False)  # measure calls, not the cache
        for label in ("cold (litellm imported during the run)", "warm (litellm already imported)"):
            fp.reset()
            t0 = time.perf_counter()
            prepared = prepare_review(ReviewRequest(repo=repo, working=True), settings)
            t1 = time.perf_counter()
            outcome = run_review_blocking(prepared, settings)
            t2 = time.perf_counter()
            result = outcome.result
            print(f"== {label}")
            print(f"files changed:        {len(prepared.changeset.files)}")
            print(f"changeset (s):        {t1 - t0:.3f}")
            print(f"review wall (s):      {t2 - t1:.3f}   (target <= 2.5 at {args.latency} s latency)")
            print(f"total wall (s):       {t2 - t0:.3f}")
            print(f"provider calls:       {len(fp.requests)}")
            print(f"peak calls in flight: {fp.peak_in_flight}")
            print("step seconds:         " + ", ".join(f"{s.step_id}={s.seconds:.2f}" for s in result.steps))
            print(f"run status:           {result.status}; steps: "
                  + ", ".join(f"{s.step_id}={s.status}" for s in result.steps))


if __name__ == "__main__":
    main()
