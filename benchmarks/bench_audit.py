"""Benchmark: a whole-tree offline audit against bandit alone, and an offline review at scale.

    .venv/bin/python benchmarks/bench_audit.py [--files 4000]     # audit
    .venv/bin/python benchmarks/bench_audit.py --scale            # 10,000 files / 500,000 lines

Audit: ``tokyo review --all --offline`` (the default workflow, every agent's analyzers) over
a generated tree of ``--files`` files — Flask-style Python modules (bench_security.py's
templates, 10% with a seeded source-to-sink flow), Markdown pages and YAML configs, 75/15/10
— against ``bandit -r`` on the same tree. Target (issue 17): tokyo's wall <= 3x bandit's and
no analyzer reports a time-out.

Scale: the same offline review of the working-tree change ``bench_scale.py pack`` uses
(10,000 files, 500,000 added lines). Targets: <= 60 s wall, <= 1 GB peak memory, every
analyzer finishes or lists exactly the files it did not analyze and why, and a security
analyzer that could not finish makes the run ``partial``.

Prints wall time, peak memory (the largest process of the run, ru_maxrss), the run status
and each analyzer's seconds, findings, error and files not analyzed. Numbers, not asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_security import build_tree  # noqa: E402

MARKDOWN = """# {title}

{title} explains how the `{name}` service is deployed and operated.

## Configuration

Set `{upper}_URL` and `{upper}_TIMEOUT` before starting it. See [the guide](../guide.md) and
[the API reference](https://example.com/api/{name}).

## Running

```sh
python -m app.{name} --port {port}
```
"""
YAML = """name: {name}
image: registry.example.com/{name}:1.{port}
replicas: {replicas}
env:
  - name: {upper}_URL
    value: https://{name}.internal.example.com
  - name: LOG_LEVEL
    value: info
resources:
  limits: {{cpu: "500m", memory: "256Mi"}}
"""


def make_audit_tree(root: Path, files: int, seed: int = 17) -> dict[str, int]:
    """Write Markdown and YAML files, then bench_security's Python modules, and commit."""
    rng = random.Random(seed)
    counts = {"python": files * 75 // 100, "markdown": files * 15 // 100}
    counts["yaml"] = files - counts["python"] - counts["markdown"]
    for i in range(counts["markdown"]):
        p = root / "docs" / f"area{i // 100}" / f"page{i}.md"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(MARKDOWN.format(title=f"Service {i}", name=f"svc{i}", upper=f"SVC{i}", port=8000 + i % 1000))
    for i in range(counts["yaml"]):
        p = root / "deploy" / f"env{i // 100}" / f"svc{i}.yaml"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(YAML.format(name=f"svc{i}", upper=f"SVC{i}", port=i % 1000, replicas=rng.randint(1, 5)))
    build_tree(root, counts["python"])  # writes app/, then `git add -A` and commits everything
    return counts


def make_scale_change(repo: Path, files: int = 10_000, lines: int = 50) -> None:
    """bench_scale.py pack's change: ``files`` modules, each with ``lines`` added lines."""

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)

    repo.mkdir(parents=True)
    git("init", "-q", "-b", "main")
    git("config", "user.email", "bench@example.com")
    git("config", "user.name", "bench")
    for i in range(files):
        p = repo / f"pkg{i % 100:02}" / f"mod{i:05}.py"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(f"VALUE = {i}\n")
    git("add", "-A")
    git("commit", "-qm", "base")
    for i in range(files):
        p = repo / f"pkg{i % 100:02}" / f"mod{i:05}.py"
        body = "".join(f"def f{k}(x):  # change {i}.{k}\n    return x * {k} + VALUE\n" for k in range(lines // 2))
        p.write_text(f"VALUE = {i}\n" + body)


def run_measured(cmd: list[str], env: dict[str, str]) -> tuple[float, float, int, float]:
    """(wall seconds, peak RSS in MB of the largest process, exit code, CPU seconds: user +
    sys of the whole process tree), in a child that measures only its own children, so
    earlier runs do not count. CPU seconds say more than wall on a shared machine."""
    probe = (
        "import resource, subprocess, sys, time, json\n"
        "t = time.perf_counter()\n"
        "rc = subprocess.run(json.loads(sys.argv[1]), stdout=subprocess.DEVNULL,\n"
        "                    stderr=subprocess.DEVNULL).returncode\n"
        "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(time.perf_counter() - t, u.ru_maxrss / 1024, rc, u.ru_utime + u.ru_stime)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, json.dumps(cmd)], capture_output=True, text=True, env=env, check=True
    )
    wall, peak, rc, cpu = out.stdout.split()
    return float(wall), float(peak), int(rc), float(cpu)


def print_report(path: Path) -> None:
    if not path.exists():
        print("no report written")
        return
    data = json.loads(path.read_text(encoding="utf-8"))
    run = data["run"]
    print(f"run status: {run['status']}, findings: {data['totals']['findings']}, caveats: {run.get('caveats')}")
    timeouts = 0
    for step in data.get("steps", []):
        for a in step.get("analyzers", []):
            timeouts += "timed out" in (a.get("error") or "")
            print(
                f"  {step['agent']:<7} {a['name']:<16} {a['seconds']:6.1f} s  {a['findings']:>6} findings  "
                f"not analyzed: {len(a.get('not_analyzed') or {}):>5}  error: {a.get('error')}"
            )
    print(f"analyzers that timed out: {timeouts}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=4000)
    parser.add_argument("--scale", action="store_true", help="the 10,000-file / 500,000-line change instead")
    parser.add_argument("--keep-report", type=Path, help="copy tokyo's JSON report here (to compare two versions)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tokyo-bench-audit-") as tmp:
        root = Path(tmp) / "repo"
        env = {**os.environ, "TOKYO_HOME": str(Path(tmp) / "home")}
        report = Path(tmp) / "tokyo.json"
        tokyo = [
            sys.executable,
            "-m",
            "tokyo_cli",
            "review",
            str(root),
            "--offline",
            "-f",
            "json",
            "-o",
            str(report),
            "-q",
        ]
        if args.scale:
            t = time.perf_counter()
            make_scale_change(root)
            print(
                f"change: 10,000 files / 500,000 added lines (generated in {time.perf_counter() - t:.0f} s), "
                f"{os.cpu_count()} CPUs"
            )
            wall, peak, rc, cpu = run_measured([*tokyo, "--working"], env)
            print(
                f"tokyo review --working --offline: {wall:7.1f} s wall, {cpu:7.1f} s CPU, {peak:6.0f} MB peak, "
                f"exit {rc} (targets: <= 60 s, <= 1024 MB)"
            )
            print_report(report)
            keep(report, args.keep_report)
            return
        root.mkdir()
        counts = make_audit_tree(root, args.files)
        print(f"tree: {sum(counts.values())} files {counts}, {os.cpu_count()} CPUs")
        wall, peak, rc, cpu = run_measured([*tokyo, "--all"], env)
        b_wall, b_peak, b_rc, b_cpu = run_measured(
            [sys.executable, "-m", "bandit", "-q", "-f", "json", "-o", str(Path(tmp) / "bandit.json"), "-r", str(root)],
            env,
        )
        print(f"tokyo review --all --offline: {wall:7.1f} s wall, {cpu:7.1f} s CPU, {peak:6.0f} MB peak, exit {rc}")
        print(
            f"bandit -r:                    {b_wall:7.1f} s wall, {b_cpu:7.1f} s CPU, {b_peak:6.0f} MB peak, "
            f"exit {b_rc}"
        )
        print(f"ratio: {wall / b_wall:.2f}x bandit (target <= 3x; no analyzer timing out)")
        print_report(report)
        keep(report, args.keep_report)


def keep(report: Path, dest: Path | None) -> None:
    """Copy the JSON report to ``dest`` (``--keep-report``), when asked and written."""
    if dest is not None and report.exists():
        dest.write_bytes(report.read_bytes())


if __name__ == "__main__":
    main()
