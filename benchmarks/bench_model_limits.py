"""Benchmark: where ``--model``'s context window comes from — the JSON model map litellm ships,
read by tokyo (``tokyo_cli.llm.pricing.model_limits``), or ``litellm.get_model_info`` after
``import litellm``. Each way runs in a fresh process (nothing cached), ``--runs`` times; prints
the median wall time of each and their ratio. Numbers only, never asserted.

    .venv/bin/python benchmarks/bench_model_limits.py [--runs 5] [--model ollama/llama3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

CODE = {
    "json map (tokyo)": (
        "import time; t = time.perf_counter()\n"
        "from tokyo_cli.llm.pricing import model_limits\n"
        "model_limits({model!r}); print(time.perf_counter() - t)"
    ),
    "import litellm + get_model_info": (
        "import time; t = time.perf_counter()\n"
        "import litellm\n"
        "litellm.get_model_info({model!r}); print(time.perf_counter() - t)"
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--model", default="ollama/llama3")
    args = parser.parse_args()
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    medians = {}
    for name, code in CODE.items():
        times = [
            float(
                subprocess.run(
                    [sys.executable, "-c", code.format(model=args.model)],
                    env=env,
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout.split()[-1]
            )
            for _ in range(args.runs)
        ]
        medians[name] = statistics.median(times)
        print(f"{name:34} median {medians[name]:.3f} s  (runs: {', '.join(f'{t:.3f}' for t in times)})")
    json_s, litellm_s = medians.values()
    print(f"ratio: the JSON map takes {json_s / litellm_s:.1%} of the litellm way")


if __name__ == "__main__":
    main()
