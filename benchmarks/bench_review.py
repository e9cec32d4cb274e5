"""Benchmark: the default workflow over a generated ~50-file change, fake provider at 1.0 s,
then the same change with the verify step (``review-verified``).

Prints wall time, provider calls and peak calls in flight. The critical path of ``review`` is
two model calls (the five reviews concurrently, then the synthesis), so the target is
wall <= 2.5 s; ``review-verified`` adds the verify call between them (Akira's scripted high
finding gives it one to judge): three calls, target <= 3.5 s.

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

from fakes.provider import FakeProvider, message_text  # noqa: E402
from tokyo_cli.config.settings import load_settings  # noqa: E402
from tokyo_cli.engine.review import ReviewRequest, prepare_review, run_review_blocking  # noqa: E402


def script(fp: FakeProvider) -> None:
    """Akira raises one high finding (so the verify step has one to judge); the verifier keeps
    every finding it is shown; everyone else answers the default empty reply."""
    fp.script(
        "You are cross-examining findings",
        lambda body: {
            "verdicts": [
                {"id": f"V{i}", "verdict": "keep", "reason": "real"}
                for i in range(1, 21)
                if f'"id": "V{i}"' in message_text(body)
            ],
            "summary": "checked",
        },
    )
    fp.script(
        "You are Akira",
        {
            "findings": [
                {
                    "path": "src/pkg/mod0.py",
                    "line": 3,
                    "severity": "high",
                    "category": "correctness",
                    "title": "Benchmark finding",
                }
            ],
            "summary": "one",
        },
    )


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
        runs = [
            ("review", "cold (litellm imported during the run)", 2),
            ("review", "warm (litellm already imported)", 2),
            ("review-verified", "warm, with the verify step", 3),
        ]
        for workflow, label, layers in runs:
            settings = load_settings(api_base=fp.url, cache=False, workflow=workflow)  # calls, not the cache
            fp.reset()
            script(fp)
            t0 = time.perf_counter()
            prepared = prepare_review(ReviewRequest(repo=repo, working=True), settings)
            t1 = time.perf_counter()
            outcome = run_review_blocking(prepared, settings)
            t2 = time.perf_counter()
            result = outcome.result
            print(f"== {workflow}, {label}")
            print(f"files changed:        {len(prepared.changeset.files)}")
            print(f"changeset (s):        {t1 - t0:.3f}")
            print(
                f"review wall (s):      {t2 - t1:.3f}   (critical path {layers} calls: target <= "
                f"{layers * args.latency + 0.5:.1f} at {args.latency} s latency)"
            )
            print(f"total wall (s):       {t2 - t0:.3f}")
            print(f"provider calls:       {len(fp.requests)}")
            print(f"peak calls in flight: {fp.peak_in_flight}")
            print("step seconds:         " + ", ".join(f"{s.step_id}={s.seconds:.2f}" for s in result.steps))
            print(
                f"run status:           {result.status}; steps: "
                + ", ".join(f"{s.step_id}={s.status}" for s in result.steps)
            )


if __name__ == "__main__":
    main()
