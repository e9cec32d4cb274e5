"""Shallow clones, bare repositories, worktrees, sparse checkouts and submodules: each one is
reviewed, or refused with a message that says what it is and what to do. Real repositories
in tmp_path, clones over file:// (no network)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import RunCli
from fakes.gitrepo import GitRepo
from tokyo_cli.errors import RepoError
from tokyo_cli.git.repo import TargetKind, load_changeset, resolve_target

VULN = "import os\n\n\ndef run():\n    os.system(input())\n"


@pytest.fixture
def origin(make_git_repo: Callable[..., GitRepo]) -> GitRepo:
    """main: 4 commits; feature (2 commits past main) adds app.py with a shell injection."""
    repo = make_git_repo("origin")
    repo.write("lib.py", "def a():\n    return 1\n")
    repo.commit("base")
    for i in range(3):
        repo.write("lib.py", repo.read("lib.py") + f"# {i}\n")
        repo.commit(f"main {i}")
    repo.checkout_branch("feature")
    repo.write("app.py", VULN)
    repo.commit("feature 1")
    repo.write("app.py", VULN + "# more\n")
    repo.commit("feature 2")
    repo.checkout_branch("main", create=False)
    return repo


def clone(origin: GitRepo, dest: Path, *args: str) -> GitRepo:
    subprocess.run(["git", "clone", "-q", *args, f"file://{origin.root}", str(dest)], check=True, capture_output=True)
    return GitRepo(dest)


def review_json(cli: RunCli, root: Path, *args: str) -> tuple[int, dict | None, str]:
    code, out, err = cli("review", str(root), "--offline", "--format", "json", *args)
    return code, (json.loads(out) if out.strip() else None), err


# --- shallow clones ---------------------------------------------------------------------------


def test_shallow_branch_clone_is_not_silently_a_whole_tree_audit(origin: GitRepo, tmp_path: Path, cli: RunCli) -> None:
    shallow = clone(origin, tmp_path / "ci", "--depth", "1", "--branch", "feature")
    code, data, err = review_json(cli, shallow.root)
    assert code == 2 and data is None
    assert "shallow clone: no default branch (origin/HEAD, main, master) was fetched" in err
    assert "git fetch --unshallow origin main:refs/remotes/origin/main" in err
    assert "fetch-depth: 0" in err and "--all for a whole-tree audit" in err


def test_shallow_clone_of_the_default_branch_names_the_missing_parent(origin: GitRepo, tmp_path: Path) -> None:
    shallow = clone(origin, tmp_path / "ci", "--depth", "1")
    with pytest.raises(RepoError, match="shallow clone: only the last commit was fetched") as info:
        resolve_target(shallow.root)
    assert "'git fetch --unshallow'" in str(info.value)


def test_shallow_clone_without_the_joining_history(origin: GitRepo, tmp_path: Path) -> None:
    shallow = clone(origin, tmp_path / "ci", "--depth", "1", "--branch", "feature")
    with pytest.raises(RepoError, match="unknown ref 'origin/main': this shallow clone may not have fetched it"):
        resolve_target(shallow.root, base="origin/main")
    shallow.git("fetch", "-q", "--depth", "1", "origin", "main:refs/remotes/origin/main")
    with pytest.raises(
        RepoError,
        match="no common ancestor between 'origin/main' and HEAD in this shallow "
        "clone: the history that joins them was not fetched",
    ):
        resolve_target(shallow.root, base="origin/main")
    with pytest.raises(RepoError, match="shallow clone: 'origin/main' and HEAD share no commit"):
        resolve_target(shallow.root)  # not "unrelated histories: review the last commit"


def test_shallow_clone_deep_enough_reviews_the_branch(origin: GitRepo, tmp_path: Path, cli: RunCli) -> None:
    shallow = clone(origin, tmp_path / "ci", "--depth", "4", "--no-single-branch", "--branch", "feature")
    assert shallow.git("rev-parse", "--is-shallow-repository").strip() == "true"
    target = resolve_target(shallow.root)
    assert target.kind is TargetKind.RANGE and target.description.startswith("origin/main...HEAD (2 commits")
    code, data, _ = review_json(cli, shallow.root)
    assert code == 1 and data is not None
    assert [f["path"] for f in data["files"]] == ["app.py"]


def test_unshallowed_clone_reviews_the_branch(origin: GitRepo, tmp_path: Path) -> None:
    shallow = clone(origin, tmp_path / "ci", "--depth", "1", "--branch", "feature")
    shallow.git("fetch", "-q", "--unshallow", "origin", "main:refs/remotes/origin/main")
    assert resolve_target(shallow.root).description.startswith("origin/main...HEAD (2 commits")


def test_explicit_all_still_audits_a_shallow_clone(origin: GitRepo, tmp_path: Path) -> None:
    shallow = clone(origin, tmp_path / "ci", "--depth", "1")
    target = resolve_target(shallow.root, all_files=True)
    assert {f.path for f in load_changeset(shallow.root, target).files} == {"lib.py"}


# --- bare repositories ------------------------------------------------------------------------


def test_bare_repository_is_called_bare_not_missing(origin: GitRepo, tmp_path: Path, cli: RunCli) -> None:
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(origin.root), str(bare)], check=True)
    for where in (bare, bare / "refs"):
        code, _, err = cli("review", str(where), "--offline")
        assert code == 2
        assert f"{bare} is a bare repository: it has no working tree to review" in err
        assert f"git clone {bare} DIR" in err and "not a git repository" not in err


# --- worktrees, sparse checkouts, submodules --------------------------------------------------


def test_linked_worktree_reviews_its_own_branch(origin: GitRepo, tmp_path: Path, cli: RunCli) -> None:
    main = clone(origin, tmp_path / "main")
    main.git("worktree", "add", "-q", str(tmp_path / "wt"), "origin/feature", "-b", "feature")
    code, data, _ = review_json(cli, tmp_path / "wt")
    assert code == 1 and data is not None
    assert data["run"]["target"] == "range" and [f["path"] for f in data["files"]] == ["app.py"]
    (tmp_path / "wt" / "app.py").write_text(VULN + "x = 1\n")
    assert resolve_target(tmp_path / "wt").kind is TargetKind.WORKING


def test_sparse_checkout_audit_reviews_files_outside_the_cone(origin: GitRepo, tmp_path: Path) -> None:
    origin.write("docs/guide.md", "# Guide\n")
    origin.write("src/app.py", VULN)
    origin.commit("dirs")
    sparse = clone(origin, tmp_path / "sparse")
    sparse.git("sparse-checkout", "set", "docs")
    assert not (sparse.root / "src" / "app.py").exists()
    changeset = load_changeset(sparse.root, resolve_target(sparse.root, all_files=True))
    by_path = {f.path: f for f in changeset.files}
    assert by_path["src/app.py"].skipped is None and by_path["src/app.py"].status == "added"
    assert changeset.new_content("src/app.py") == VULN  # the index blob: tracked, not deleted


def test_sparse_checkout_range_review(origin: GitRepo, tmp_path: Path) -> None:
    sparse = clone(origin, tmp_path / "sparse", "--no-checkout")
    sparse.git("sparse-checkout", "set", "--no-cone", "/lib.py")
    sparse.git("checkout", "-q", "-b", "feature", "origin/feature")
    assert not (sparse.root / "app.py").exists()
    changeset = load_changeset(sparse.root, resolve_target(sparse.root))
    assert [(f.path, f.skipped) for f in changeset.files] == [("app.py", None)]


@pytest.fixture
def superproject(make_git_repo: Callable[..., GitRepo]) -> GitRepo:
    """main: app.py plus submodule lib/; branch bump: lib/ moved on, app.py edited."""
    sub = make_git_repo("sub")
    sub.write("s.py", "x = 1\n")
    sub.commit("sub")
    sup = make_git_repo("super")
    sup.write("app.py", "y = 1\n")
    sup.commit("app")
    sup.git("-c", "protocol.file.allow=always", "submodule", "-q", "add", f"file://{sub.root}", "lib")
    sup.commit("add submodule")
    sup.checkout_branch("bump")
    inner = GitRepo(sup.root / "lib")
    inner.write("s.py", VULN)
    inner.git("commit", "-q", "-am", "inner change")
    sup.write("app.py", "y = 2\n")
    sup.commit("bump lib")
    return sup


def test_submodule_pointer_change_is_listed_as_a_submodule(superproject: GitRepo) -> None:
    changeset = load_changeset(superproject.root, resolve_target(superproject.root))
    assert {f.path: f.skipped for f in changeset.files} == {"lib": "submodule", "app.py": None}


def test_dirty_submodule_in_the_working_tree_is_a_submodule_not_a_deleted_file(superproject: GitRepo) -> None:
    (superproject.root / "lib" / "s.py").write_text(VULN + "z = 3\n")
    target = resolve_target(superproject.root)
    assert target.kind is TargetKind.WORKING
    changeset = load_changeset(superproject.root, target)
    assert {f.path: f.skipped for f in changeset.files} == {"lib": "submodule"}


def test_review_inside_a_submodule_reviews_the_submodule(superproject: GitRepo) -> None:
    inner = superproject.root / "lib"
    (inner / "s.py").write_text(VULN + "z = 3\n")
    changeset = load_changeset(inner, resolve_target(inner))
    assert changeset.root == inner.resolve()
    assert [f.path for f in changeset.reviewable()] == ["s.py"]
