"""Bandit over many files in several processes at once (issue 17): the same findings as one
process, and a part that fails or times out costs only its own files, listed as not
analyzed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fakes.gitrepo import GitRepo
from tokyo_cli.analyzers import bandit as bandit_mod
from tokyo_cli.analyzers.bandit import BanditAnalyzer, BanditUnavailable, chunk_count
from tokyo_cli.analyzers.base import unfinished
from tokyo_cli.analyzers.common import split_by_size
from tokyo_cli.git.repo import Changeset, load_changeset, resolve_target

SHELL = "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
SAFE = "def add(a, b):\n    return a + b\n"


def change(repo: GitRepo, files: int = 9) -> Changeset:
    repo.write("README.md", "base\n")
    repo.commit("base")
    for i in range(files):
        repo.write(f"pkg/m{i}.py", SHELL * (i % 3 + 1) if i % 2 else SAFE)
    repo.write("pkg/new.py", "def f(:\n")  # bandit cannot parse it: listed, in whichever part
    return load_changeset(repo.root, resolve_target(repo.root, working=True))


def keys(findings: list[Any]) -> list[tuple[str, int, str]]:
    return sorted((f.path, f.line or 0, f.rule or "") for f in findings)


@pytest.fixture
def three_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bandit split into 3 processes, even for a few files."""
    monkeypatch.setattr(bandit_mod, "FILES_PER_PROCESS", 1)
    monkeypatch.setattr(bandit_mod, "cpu_count", lambda: 3)


def scans(monkeypatch: pytest.MonkeyPatch, stuck: str | None = None) -> dict[str, list[str]]:
    """Each bandit process's part (its directory name) -> the files it was given; the part
    named ``stuck`` times out instead of scanning."""
    real = BanditAnalyzer._invoke
    seen: dict[str, list[str]] = {}

    def invoke(self: BanditAnalyzer, tree: Path, *args: Any, **kw: Any) -> dict[str, Any]:
        seen[tree.name] = sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*.py"))
        if tree.name == stuck:
            raise BanditUnavailable("timed out after 120 s")
        return real(self, tree, *args, **kw)

    monkeypatch.setattr(BanditAnalyzer, "_invoke", invoke)
    return seen


def test_parts_scanned_at_once_give_the_findings_of_one_process(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch, three_parts: None
) -> None:
    cs = change(git_repo)
    scanned = scans(monkeypatch)
    split = BanditAnalyzer().run(cs, cs.reviewable(), agent="akira", timeout_s=120)
    assert sorted(scanned) == ["part0", "part1", "part2"]
    assert sorted(p for part in scanned.values() for p in part) == sorted(f.path for f in cs.reviewable())
    scanned.clear()
    monkeypatch.setattr(bandit_mod, "cpu_count", lambda: 1)
    whole = BanditAnalyzer().run(cs, cs.reviewable(), agent="akira", timeout_s=120)
    assert list(scanned) == ["part0"]
    assert split.error is None and whole.error is None
    assert keys(split.findings) == keys(whole.findings) and len(split.findings) == 8
    assert split.not_analyzed == whole.not_analyzed and list(split.not_analyzed) == ["pkg/new.py"]


def test_a_part_that_times_out_lists_only_its_own_files(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch, three_parts: None
) -> None:
    cs = change(git_repo)
    lost = scans(monkeypatch, stuck="part1")
    run = BanditAnalyzer().run(cs, cs.reviewable(), agent="akira", timeout_s=120)
    assert run.error == "bandit unavailable: timed out after 120 s" and unfinished(run.error)
    assert lost["part1"] and {p: r for p, r in run.not_analyzed.items() if p in lost["part1"]} == dict.fromkeys(
        lost["part1"], "timed out (after 120 s)"
    )
    assert run.findings and not {f.path for f in run.findings} & set(lost["part1"])


def test_every_part_failing_is_the_old_single_error(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch, three_parts: None
) -> None:
    cs = change(git_repo)

    def broken(self: BanditAnalyzer, tree: Path, *args: Any, **kw: Any) -> dict[str, Any]:
        raise BanditUnavailable("No module named bandit (exit code 1)")

    monkeypatch.setattr(BanditAnalyzer, "_invoke", broken)
    run = BanditAnalyzer().run(cs, cs.reviewable(), agent="akira", timeout_s=120)
    assert run.error == "bandit unavailable: No module named bandit (exit code 1)"
    assert run.findings == [] and run.not_analyzed == {}  # run_analyzers lists every file then


def test_split_by_size_balances_bytes_and_keeps_order() -> None:
    sizes = {"a": 9, "b": 1, "c": 5, "d": 4, "e": 1}
    parts = split_by_size(list(sizes), 2, sizes.__getitem__)
    assert sorted(p for part in parts for p in part) == sorted(sizes)
    assert sorted(sum(sizes[p] for p in part) for part in parts) == [10, 10]
    assert all(part == sorted(part) for part in parts)
    assert split_by_size(["a"], 4, sizes.__getitem__) == [["a"]]
    assert split_by_size([], 2, sizes.__getitem__) == []


def test_one_process_per_cpu_but_never_for_a_few_files(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bandit_mod, "cpu_count", lambda: 4)
    assert chunk_count(1) == 1 and chunk_count(bandit_mod.FILES_PER_PROCESS * 2) == 2
    assert chunk_count(100_000) == 4
