"""Benchmark: a whole-tree audit in one process against four shards run as four concurrent
processes, then ``tokyo merge``.

    .venv/bin/python benchmarks/bench_shards.py [--files 4000] [--shards 4]

The tree is bench_audit.py's (Flask-style Python modules, Markdown pages, YAML configs). Each
run is ``tokyo review --all --offline --no-cache -f json`` with its own TOKYO_HOME, as each CI
runner has its own: the single run, then N ``--shard I/N`` processes started together (wall:
the first start to the last exit), then ``tokyo merge`` of their JSON outputs. Prints each
wall time, the merge time, the load average around the runs (shards compete for this
machine's cores: on N runners they would not), and whether the merged findings equal the
single run's: fingerprints, totals and each file's coverage. Numbers, not asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_audit import make_audit_tree  # noqa: E402


def tokyo(*args: str) -> list[str]:
    return [sys.executable, "-m", "tokyo_cli", *args]


def env_for(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env["TOKYO_HOME"] = str(home)
    return env


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} CPUs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=4000)
    parser.add_argument("--shards", type=int, default=4)
    args = parser.parse_args()
    n = args.shards
    with tempfile.TemporaryDirectory(prefix="tokyo-bench-shards-") as tmp:
        work = Path(tmp)
        repo = work / "repo"
        repo.mkdir()
        counts = make_audit_tree(repo, args.files)
        print(f"tree: {sum(counts.values())} files {counts}; before: {load()}")
        common = ["review", str(repo), "--all", "--offline", "--no-cache", "-q", "-f", "json"]

        t = time.perf_counter()
        single = subprocess.run(
            tokyo(*common, "-o", str(work / "single.json")),
            env=env_for(work / "home-single"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
        single_wall = time.perf_counter() - t
        print(f"1 process:            {single_wall:7.1f} s wall, exit {single.returncode}; after: {load()}")

        t = time.perf_counter()
        procs = [
            subprocess.Popen(
                tokyo(*common, "--shard", f"{i}/{n}", "-o", str(work / f"shard-{i}.json")),
                env=env_for(work / f"home-{i}"),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for i in range(1, n + 1)
        ]
        ends = []
        for proc in procs:
            proc.wait()
            ends.append(time.perf_counter() - t)
        shards_wall = time.perf_counter() - t
        print(
            f"{n} shards (concurrent): {shards_wall:7.1f} s wall (each done at "
            f"{', '.join(f'{e:.1f}' for e in ends)} s), exits {[p.returncode for p in procs]}; after: {load()}"
        )

        t = time.perf_counter()
        merged = subprocess.run(
            tokyo(
                "merge",
                *(str(work / f"shard-{i}.json") for i in range(1, n + 1)),
                "-f",
                "json",
                "-o",
                str(work / "merged.json"),
                "-q",
            ),
            env=env_for(work / "home-merge"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
        merge_wall = time.perf_counter() - t
        print(f"tokyo merge:          {merge_wall:7.1f} s wall, exit {merged.returncode}")
        print(
            f"shards + merge:       {shards_wall + merge_wall:7.1f} s against {single_wall:.1f} s in one process "
            f"({single_wall / (shards_wall + merge_wall):.2f}x)"
        )

        a = json.loads((work / "single.json").read_text())
        b = json.loads((work / "merged.json").read_text())
        fa = sorted(f["fingerprint"] for f in a["findings"])
        fb = sorted(f["fingerprint"] for f in b["findings"])
        cover = {f["path"]: (f["reviewed"], f["reason"]) for f in a["files"]}
        cover_b = {f["path"]: (f["reviewed"], f["reason"]) for f in b["files"]}
        sizes = [json.loads((work / f"shard-{i}.json").read_text())["run"]["shard"]["files"] for i in range(1, n + 1)]
        print(f"files per shard: {sizes}")
        print(
            f"findings: {len(fa)} single, {len(fb)} merged; identical fingerprints: {fa == fb}; "
            f"identical totals: {a['totals'] == b['totals']}; identical coverage: {cover == cover_b}; "
            f"merged status: {b['run']['status']}"
        )
        if fa != fb:
            only_a, only_b = set(fa) - set(fb), set(fb) - set(fa)
            by_fp = {f["fingerprint"]: f for f in a["findings"] + b["findings"]}
            for fp in sorted(only_a)[:10]:
                print(f"  only single: {by_fp[fp]['rule']} {by_fp[fp]['path']} {by_fp[fp]['title'][:80]}")
            for fp in sorted(only_b)[:10]:
                print(f"  only merged: {by_fp[fp]['rule']} {by_fp[fp]['path']} {by_fp[fp]['title'][:80]}")


if __name__ == "__main__":
    main()
