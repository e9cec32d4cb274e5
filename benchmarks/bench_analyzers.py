"""Seeded-bug benchmark for the offline analyzers: recall per agent, false positives per
1,000 changed lines.

Each scenario of ``tests/data/seeded_bugs.py`` becomes a real git change in a temporary
repository (the BASE project committed, the scenario's files written to the working tree).
Every agent of the packaged team runs its analyzers over its own file selection, exactly as
an offline ``tokyo review`` does. A seeded defect is found when a finding of *its* agent sits
on the marked line (file-level defects: any finding of that agent on that path). Every other
finding counts as a false positive — including true problems nobody seeded, so the corpus is
written to contain none. Changed lines are the added lines of all scenarios.

Run: ``.venv/bin/python benchmarks/bench_analyzers.py [-v]`` (-v lists every miss and false
positive). Targets (issue 4): recall >= 90% per agent, <= 1 false positive per 1,000 lines.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from tokyo_cli.analyzers import run_analyzers
from tokyo_cli.config.team import load_team
from tokyo_cli.findings import Finding
from tokyo_cli.git.repo import glob_match, load_changeset, resolve_target

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "seeded_bugs.py"
MARK = re.compile(r" *⟦(\w+)⟧")


def load_corpus():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("seeded_bugs", DATA)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["seeded_bugs"] = module
    spec.loader.exec_module(module)
    return module


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def write(root: Path, path: str, text: str | None) -> list[tuple[str, str, int]]:
    """Write ``text`` (markers stripped) or delete; the ``(agent, path, line)`` markers."""
    target = root / path
    if text is None:
        target.unlink()
        return []
    expected = []
    clean = []
    for n, line in enumerate(text.split("\n"), 1):
        expected += [(agent, path, n) for agent in MARK.findall(line)]
        clean.append(MARK.sub("", line))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join(clean), encoding="utf-8")
    return expected


def run_scenario(scenario, base: dict[str, str], team, tmp: Path):  # type: ignore[no-untyped-def]
    root = tmp / scenario.name
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    for key, value in (("user.name", "bench"), ("user.email", "bench@example.com"), ("commit.gpgsign", "false")):
        git(root, "config", key, value)
    for path, text in base.items():
        write(root, path, text)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    expected: list[tuple[str, str, int | None]] = []
    for path, text in scenario.files.items():
        expected += write(root, path, text)
    expected += [(agent, path, None) for agent, path in scenario.file_level]
    cs = load_changeset(root, resolve_target(root, working=True))
    found: dict[str, list[Finding]] = {}
    for agent in team.agents.values():
        files = [
            f
            for f in cs.reviewable()
            if glob_match(f.path, agent.paths) and not (agent.exclude and glob_match(f.path, agent.exclude))
        ]
        runs = run_analyzers(agent.analyzers, cs, files, agent=agent.id) if agent.analyzers and files else []
        for r in runs:
            if r.error:
                print(f"  ! {scenario.name}: {r.error}")
        found[agent.id] = [f for r in runs for f in r.findings]
    added = sum(f.additions for f in cs.files)
    return expected, found, added


def score(expected, found):  # type: ignore[no-untyped-def]
    """``(hits, misses, false_positives)`` for one scenario."""
    used: set[int] = set()
    hits, misses = [], []
    for agent, path, line in expected:
        match = next(
            (
                f
                for f in found.get(agent, [])
                if id(f) not in used and f.path == path and (line is None or f.line == line)
            ),
            None,
        )
        if match is None:
            misses.append((agent, path, line))
        else:
            used.add(id(match))
            hits.append((agent, path, line))
    places = {(a, p, ln) for a, p, ln in expected}
    fps = [
        f
        for agent, fs in found.items()
        for f in fs
        if id(f) not in used and (agent, f.path, f.line) not in places and (agent, f.path, None) not in places
    ]
    return hits, misses, fps


def main(argv: list[str]) -> int:
    verbose = "-v" in argv
    corpus = load_corpus()
    team = load_team(None)
    seeded: dict[str, int] = defaultdict(int)
    caught: dict[str, int] = defaultdict(int)
    fps: list[tuple[str, Finding]] = []
    lines = 0
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tokyo-bench-") as tmp:
        for scenario in corpus.SCENARIOS:
            expected, found, added = run_scenario(scenario, corpus.BASE, team, Path(tmp))
            lines += added
            hits, misses, false = score(expected, found)
            for agent, _, _ in expected:
                seeded[agent] += 1
            for agent, _, _ in hits:
                caught[agent] += 1
            fps += [(scenario.name, f) for f in false]
            if verbose:
                for agent, path, line in misses:
                    print(f"  MISS {scenario.name}: {agent} {path}:{line}")
                for f in false:
                    print(f"  FP   {scenario.name}: {f.agent} {f.location} {f.rule} {f.title}")
    seconds = time.perf_counter() - start
    clean = sum(
        1 for s in corpus.SCENARIOS if not any(MARK.search(t or "") for t in s.files.values()) and not s.file_level
    )
    print(
        f"scenarios: {len(corpus.SCENARIOS)} ({clean} clean), seeded defects: {sum(seeded.values())}, "
        f"changed (added) lines: {lines}, wall time: {seconds:.1f} s"
    )
    print(f"{'agent':8} {'seeded':>6} {'found':>6} {'recall':>7}")
    for agent in team.agents:
        if seeded[agent]:
            print(f"{agent:8} {seeded[agent]:6d} {caught[agent]:6d} {caught[agent] / seeded[agent]:7.0%}")
    total_seeded, total_caught = sum(seeded.values()), sum(caught.values())
    print(f"{'all':8} {total_seeded:6d} {total_caught:6d} {total_caught / total_seeded:7.0%}")
    print(f"false positives: {len(fps)} = {1000 * len(fps) / max(lines, 1):.2f} per 1,000 changed lines")
    for name, f in fps if not verbose else []:
        print(f"  FP {name}: {f.agent} {f.location} {f.rule}: {f.title}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
