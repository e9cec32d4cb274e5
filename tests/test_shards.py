"""``tokyo review --shard I/N``: every file in exactly one shard, balanced by changed bytes,
the same split in every process, and a report that says which shard it covered."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from fakes.gitrepo import GitRepo
from tokyo_cli.engine.shards import FILE_OVERHEAD_BYTES, ShardSpec, assign_shards, changed_bytes, shard_paths
from tokyo_cli.errors import ConfigError
from tokyo_cli.git.repo import load_changeset, resolve_target

ROOT = Path(__file__).resolve().parents[1]


def audit_tree(repo: GitRepo, files: int = 300, seed: int = 20) -> None:
    """``files`` tracked files of very different sizes (1 to 400 lines), some binary, some
    empty, one vendored: what a whole-tree audit lists."""
    rng = random.Random(seed)
    for i in range(files):
        kind = i % 10
        if kind == 0:
            repo.write(f"assets/img{i}.png", b"\x89PNG\r\n\x1a\n\x00" + bytes(rng.randrange(256) for _ in range(64)))
        elif kind == 1:
            repo.write(f"pkg/empty{i}.py", "")
        else:
            lines = rng.choice([1, 5, 20, 80, 400])
            repo.write(f"pkg/m{i // 50}/mod{i}.py", "".join(f"value_{i}_{n} = {n}\n" for n in range(lines)))
    repo.write("node_modules/lib/index.js", "module.exports = 1;\n")
    repo.commit("tree")


@pytest.fixture
def tree(git_repo: GitRepo) -> GitRepo:
    audit_tree(git_repo)
    return git_repo


def test_every_file_of_a_300_file_audit_is_in_exactly_one_shard_for_n_1_to_7(tree: GitRepo) -> None:
    changeset = load_changeset(tree.root, resolve_target(tree.root, all_files=True))
    every = {f.path for f in changeset.files}
    assert len(every) == 301 and any(f.skipped for f in changeset.files)  # binary, empty, vendored listed too
    weights = {f.path: changed_bytes(f) + FILE_OVERHEAD_BYTES for f in changeset.files}
    for n in range(1, 8):
        parts = [shard_paths(changeset, ShardSpec(i, n)) for i in range(1, n + 1)]
        assert sum(len(p) for p in parts) == len(every)  # disjoint ...
        assert set().union(*parts) == every  # ... and complete
        loads = [sum(weights[p] for p in part) for part in parts]
        # LPT: no shard ends more than the largest file above the mean
        assert max(loads) <= sum(loads) / n + max(weights.values()), (n, loads)
        assert all(parts), n  # 301 files: no shard is empty


SPLIT = """
import json, sys
from pathlib import Path
from tokyo_cli.engine.shards import assign_shards, change_id
from tokyo_cli.git.repo import load_changeset, resolve_target
root = Path(sys.argv[1])
cs = load_changeset(root, resolve_target(root, all_files=True))
print(json.dumps({"change": change_id(cs), "split": {n: assign_shards(cs.files, n) for n in range(1, 8)}}))
"""


def test_the_split_and_the_change_id_are_the_same_in_every_process(tree: GitRepo, tmp_path: Path) -> None:
    """Python's hash() is salted per process (PYTHONHASHSEED): a split built on it would
    differ between CI runners. Two processes with different seeds, and a clone elsewhere."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(tree.root), str(clone)], check=True)
    outputs = []
    for seed, root in (("1", tree.root), ("2", tree.root), ("3", clone)):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        proc = subprocess.run(
            [sys.executable, "-c", SPLIT, str(root)], env=env, capture_output=True, text=True, check=True, timeout=120
        )
        outputs.append(json.loads(proc.stdout))
    assert outputs[0] == outputs[1] == outputs[2]
    assert len(outputs[0]["change"]) == 16


def test_the_split_is_balanced_by_changed_bytes_not_by_count() -> None:
    from tokyo_cli.git.diff import whole_file_change

    big = whole_file_change("big.py", "x = 1\n" * 10_000)
    small = [whole_file_change(f"s{i}.py", "y = 2\n") for i in range(20)]
    split = assign_shards([big, *small], 2)
    assert split["big.py"] == 1 and all(split[f.path] == 2 for f in small)  # one big file alone


def test_a_type_change_keeps_both_entries_of_its_path_in_one_shard() -> None:
    from tokyo_cli.git.diff import FileChange, whole_file_change

    deleted = FileChange(path="link", status="deleted", skipped="deleted")
    added = whole_file_change("link", "now a file\n")
    split = assign_shards([deleted, added, whole_file_change("other", "z\n")], 2)
    assert set(split) == {"link", "other"}


@pytest.mark.parametrize(
    "text, message",
    [
        ("0/3", "I must be 1..3"),
        ("4/3", "I must be 1..3"),
        ("1/0", "N must be 1..256"),
        ("2", "--shard takes I/N"),
        ("a/b", "--shard takes I/N"),
        ("1/999", "N must be 1..256"),
    ],
)
def test_a_bad_shard_is_a_one_line_usage_error(text: str, message: str, tree: GitRepo, cli) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        ShardSpec.parse(text)
    code, out, err = cli("review", str(tree.root), "--all", "--offline", "--shard", text)
    assert code == 2 and out == "" and err.count("\n") == 1 and message in err


def test_a_shard_report_says_which_shard_and_how_many_files(git_repo: GitRepo, cli) -> None:  # type: ignore[no-untyped-def]
    git_repo.write("app/run.py", "import subprocess\n\n\ndef go(cmd):\n    return subprocess.call(cmd, shell=True)\n")
    git_repo.write("app/util.py", "def add(a, b):\n    return a + b\n")
    git_repo.write("docs/guide.md", "# Guide\n\nSee [the API](api.md).\n")
    git_repo.commit("three files")
    reports = []
    for i in (1, 2):
        code, out, _ = cli(
            "review",
            str(git_repo.root),
            "--all",
            "--offline",
            "-q",
            "--shard",
            f"{i}/2",
            "--format",
            "json",
            "--fail-on",
            "critical",
        )
        assert code == 0
        reports.append(json.loads(out))
    shards = [r["run"]["shard"] for r in reports]
    assert [s["index"] for s in shards] == [1, 2] and {s["count"] for s in shards} == {2}
    assert shards[0]["change"] == shards[1]["change"] and {s["total_files"] for s in shards} == {3}
    assert [s["files"] for s in shards] == [len(r["files"]) for r in reports] and sum(s["files"] for s in shards) == 3
    listed = [{f["path"] for f in r["files"]} for r in reports]
    assert listed[0].isdisjoint(listed[1]) and listed[0] | listed[1] == {"app/run.py", "app/util.py", "docs/guide.md"}
    for report, files in zip(reports, listed):
        assert {f["path"] for f in report["findings"]} <= files  # a shard reports on its own files only
        assert any(
            n.startswith(f"shard {report['run']['shard']['index']}/2 of change ") for n in report["run"]["notices"]
        )
    assert any(f["rule"] == "bandit:B602" for r in reports for f in r["findings"])
    code, out, _ = cli(
        "review", str(git_repo.root), "--all", "--offline", "-q", "--shard", "1/2", "--fail-on", "critical"
    )
    assert code == 0 and "shard 1/2 of change" in out  # the terminal report says it too


def test_a_secret_is_reported_by_the_shard_that_owns_its_file_only(git_repo: GitRepo, cli) -> None:  # type: ignore[no-untyped-def]
    """detect-secrets scans every file of the change whatever an agent's globs: in a shard,
    every file of its shard, never another shard's (each secret reported once over N)."""
    git_repo.write("config/settings.ini", "[aws]\naws_access_key_id = AKIAIOSFODNN7EXAMPLF\n")
    for i in range(6):
        git_repo.write(f"app/m{i}.py", f"X = {i}\n")
    git_repo.commit("tree")
    found = []
    for i in (1, 2, 3):
        code, out, _ = cli(
            "review",
            str(git_repo.root),
            "--all",
            "--offline",
            "-q",
            "--shard",
            f"{i}/3",
            "--format",
            "json",
            "--fail-on",
            "critical",
        )
        report = json.loads(out)
        found += [f["path"] for f in report["findings"] if (f["rule"] or "").startswith("detect-secrets")]
    assert found == ["config/settings.ini"]


def test_a_range_review_is_sharded_too(git_repo: GitRepo, cli) -> None:  # type: ignore[no-untyped-def]
    """Not only --all: the files of main...HEAD split the same way (unchanged files stay out)."""
    for i in range(6):
        git_repo.write(f"app/m{i}.py", f"X = {i}\n")
    git_repo.commit("base")
    git_repo.checkout_branch("feature")
    for i in range(4):
        git_repo.write(f"app/m{i}.py", f"X = {i}\nY = {i * i}\n")
    git_repo.write("app/new.py", "Z = 1\n")
    git_repo.commit("change")
    listed = []
    for i in (1, 2):
        code, out, _ = cli(
            "review",
            str(git_repo.root),
            "--base",
            "main",
            "--offline",
            "-q",
            "--shard",
            f"{i}/2",
            "--format",
            "json",
            "--fail-on",
            "critical",
        )
        report = json.loads(out)
        assert code == 0 and report["run"]["target"] == "range" and report["run"]["shard"]["total_files"] == 5
        listed.append({f["path"] for f in report["files"]})
    assert listed[0].isdisjoint(listed[1])
    assert listed[0] | listed[1] == {"app/m0.py", "app/m1.py", "app/m2.py", "app/m3.py", "app/new.py"}
