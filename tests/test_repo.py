"""git/repo.py on real git repositories built in tmp dirs (see tests/fakes/gitrepo.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakes.gitrepo import GitRepo
from tokyo_cli.errors import RepoError
from tokyo_cli.git.repo import (
    Changeset,
    DiffLine,
    Hunk,
    ReviewTarget,
    TargetKind,
    glob_match,
    load_changeset,
    open_repo,
    resolve_target,
)

NUMBERED = "".join(f"line {i}\n" for i in range(1, 21))


def load(repo: GitRepo, **flags: object) -> Changeset:
    paths = flags.pop("paths", None)
    max_bytes = flags.pop("max_file_bytes", 1_000_000)
    target = resolve_target(repo.root, **flags)  # type: ignore[arg-type]
    return load_changeset(repo.root, target, paths=paths, max_file_bytes=max_bytes)  # type: ignore[arg-type]


def by_path(cs: Changeset) -> dict[str, object]:
    return {f.path: f for f in cs.files}


@pytest.fixture
def repo(git_repo: GitRepo) -> GitRepo:
    """A repository with one commit on main: app.py (20 lines) and README.md."""
    git_repo.write("app.py", NUMBERED)
    git_repo.write("README.md", "# demo\n")
    git_repo.commit("initial")
    return git_repo


# --- opening and errors ----------------------------------------------------------------------


def test_open_repo_outside_a_repository_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(RepoError) as err:
        open_repo(tmp_path)
    assert str(err.value) == f"not a git repository: {tmp_path}"
    missing = tmp_path / "nope"
    with pytest.raises(RepoError, match="^not a git repository: .*nope$"):
        open_repo(missing)


def test_open_repo_from_a_subdirectory_finds_the_root(repo: GitRepo) -> None:
    (repo.root / "sub" / "deeper").mkdir(parents=True)
    with open_repo(repo.root / "sub" / "deeper") as r:
        assert Path(str(r.working_tree_dir)).resolve() == repo.root.resolve()
    cs = load_changeset(repo.root / "sub", resolve_target(repo.root / "sub", all_files=True))
    assert cs.root == repo.root.resolve()
    assert sorted(f.path for f in cs.files) == ["README.md", "app.py"]


def test_conflicting_flags_and_unknown_ref(repo: GitRepo) -> None:
    with pytest.raises(RepoError, match=r"^conflicting targets: --staged and --all \(choose one\)$"):
        resolve_target(repo.root, staged=True, all_files=True)
    with pytest.raises(RepoError) as err:
        resolve_target(repo.root, base="foo")
    assert str(err.value) == "unknown ref 'foo'"
    with pytest.raises(RepoError, match="unknown ref '--output=x'"):
        resolve_target(repo.root, base="--output=x")


def test_unrelated_histories_have_no_merge_base(repo: GitRepo) -> None:
    repo.git("checkout", "-q", "--orphan", "other")
    repo.write("other.txt", "x\n")
    repo.commit("unrelated")
    with pytest.raises(RepoError, match="no common ancestor between 'main' and HEAD"):
        resolve_target(repo.root, base="main")


# --- empty repository ------------------------------------------------------------------------


def test_empty_repository_without_staged_files_is_a_clear_error(git_repo: GitRepo) -> None:
    git_repo.write("draft.py", "x = 1\n")  # untracked only
    with pytest.raises(RepoError, match="no commits"):
        resolve_target(git_repo.root)
    with pytest.raises(RepoError, match="no commits yet"):
        resolve_target(git_repo.root, base="main")


def test_empty_repository_reviews_staged_files(git_repo: GitRepo) -> None:
    git_repo.write("a.py", "x = 1\ny = 2\n")
    git_repo.stage("a.py")
    default = resolve_target(git_repo.root)
    assert (default.kind, default.chosen_by_default) == (TargetKind.WORKING, True)
    cs = load(git_repo, staged=True)
    assert cs.base_sha is None and cs.head_sha is None
    [f] = cs.files
    assert (f.path, f.status, f.skipped) == ("a.py", "added", None)
    assert cs.anchors("a.py") == {1, 2}
    assert cs.new_content("a.py") == "x = 1\ny = 2\n"
    assert [f.path for f in load(git_repo, all_files=True).files] == ["a.py"]


# --- default target --------------------------------------------------------------------------


def test_default_is_uncommitted_changes_when_there_are_any(repo: GitRepo) -> None:
    repo.write("app.py", NUMBERED.replace("line 3\n", "line three\n"))
    target = resolve_target(repo.root)
    assert target == ReviewTarget(
        kind=TargetKind.WORKING, description="working tree (uncommitted changes)", chosen_by_default=True
    )


def test_default_with_a_single_commit_is_the_whole_tree(repo: GitRepo) -> None:
    repo.write("notes.txt", "untracked files do not count as uncommitted changes\n")
    target = resolve_target(repo.root)
    assert (target.kind, target.chosen_by_default) == (TargetKind.ALL, True)
    assert target.description == "whole tracked tree (audit)"


def test_default_on_the_default_branch_is_the_last_commit(repo: GitRepo) -> None:
    first = repo.head()
    repo.write("app.py", NUMBERED + "line 21\n")
    repo.commit("second")
    target = resolve_target(repo.root)
    assert (target.kind, target.base, target.head) == (TargetKind.RANGE, "HEAD~1", "HEAD")
    assert target.description == f"last commit (HEAD~1...HEAD, merge-base {first[:7]})"
    cs = load_changeset(repo.root, target)
    assert cs.base_sha == first
    assert cs.file("app.py").added_lines == {21}  # type: ignore[union-attr]


def test_default_on_a_feature_branch_is_the_range_from_the_merge_base(repo: GitRepo) -> None:
    fork = repo.head()
    repo.checkout_branch("feature")
    repo.write("a.py", "a = 1\n")
    repo.commit("one")
    repo.write("b.py", "b = 1\n")
    repo.commit("two")
    target = resolve_target(repo.root)
    assert (target.kind, target.base, target.chosen_by_default) == (TargetKind.RANGE, "main", True)
    assert target.description == f"main...HEAD (2 commits, merge-base {fork[:7]})"

    repo.detach()
    detached = resolve_target(repo.root)
    assert detached.description == target.description


def test_default_prefers_origin_head(repo: GitRepo) -> None:
    pushed = repo.head()
    repo.git("update-ref", "refs/remotes/origin/main", pushed)
    repo.git("symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main")
    repo.write("c.py", "c = 1\n")
    repo.commit("unpushed")
    target = resolve_target(repo.root)
    assert target.base == "origin/main"
    assert target.description == f"origin/main...HEAD (1 commit, merge-base {pushed[:7]})"


def test_default_falls_back_to_master(make_git_repo) -> None:  # type: ignore[no-untyped-def]
    repo = make_git_repo("legacy", branch="master")
    repo.write("x.py", "x = 1\n")
    repo.commit("root")
    repo.checkout_branch("topic")
    repo.write("x.py", "x = 2\n")
    repo.commit("change")
    assert resolve_target(repo.root).base == "master"


# --- targets ---------------------------------------------------------------------------------


def test_staged_and_working_read_different_versions(repo: GitRepo) -> None:
    repo.write(".gitignore", "*.log\n")
    repo.commit("ignore logs")
    repo.write("app.py", NUMBERED.replace("line 5\n", "staged five\n"))
    repo.stage("app.py")
    repo.write("app.py", NUMBERED.replace("line 5\n", "worktree five\n"))
    repo.write("new_module.py", "def hello():\n    return 1\n")
    repo.write("debug.log", "ignored\n")

    staged = load(repo, staged=True)
    assert [f.path for f in staged.files] == ["app.py"]
    assert staged.line_text("app.py", 5) == "staged five"
    assert "staged five" in (staged.new_content("app.py") or "")
    assert staged.base_sha == repo.head() and staged.head_sha is None

    working = load(repo, working=True)
    files = by_path(working)
    assert set(files) == {"app.py", "new_module.py"}  # untracked included, ignored not
    assert working.line_text("app.py", 5) == "worktree five"
    new = working.file("new_module.py")
    assert new is not None and (new.status, new.skipped) == ("added", None)
    assert working.anchors("new_module.py") == {1, 2} == new.added_lines


def test_range_uses_the_merge_base_not_the_tip_of_base(repo: GitRepo) -> None:
    fork = repo.head()
    repo.checkout_branch("feature")
    repo.write("feature.py", "import os\n")
    repo.commit("feature work")
    repo.checkout_branch("main", create=False)
    repo.write("README.md", "# demo\nmain moved on\n")
    repo.commit("main work")
    repo.checkout_branch("feature", create=False)
    repo.write("feature.py", "import os\nimport sys\n")  # uncommitted: not part of the range

    target = resolve_target(repo.root, base="main")
    assert target.description == f"main...HEAD (1 commit, merge-base {fork[:7]})"
    cs = load_changeset(repo.root, target)
    assert [f.path for f in cs.files] == ["feature.py"]  # README change on main is not ours
    assert cs.base_sha == fork and cs.head_sha == repo.head()
    assert cs.new_content("feature.py") == "import os\n"  # HEAD blob, not the worktree


def test_all_lists_every_tracked_file_with_every_line_an_anchor(repo: GitRepo) -> None:
    repo.write("logo.png", b"\x89PNG\r\n\x1a\n\x00\x00binary")
    repo.commit("logo")
    repo.write("untracked.py", "x = 1\n")
    cs = load(repo, all_files=True)
    assert cs.target.kind is TargetKind.ALL
    assert cs.head_sha == repo.head() and cs.base_sha is None
    files = by_path(cs)
    assert set(files) == {"README.md", "app.py", "logo.png"}
    assert cs.anchors("app.py") == set(range(1, 21))
    assert files["app.py"].added_lines == set(range(1, 21))  # type: ignore[attr-defined]
    assert (files["logo.png"].skipped, files["logo.png"].binary) == ("binary", True)  # type: ignore[attr-defined]
    assert (files["README.md"].language, files["logo.png"].language) == ("markdown", None)  # type: ignore[attr-defined]
    assert cs.new_content("logo.png") is None
    assert [f.path for f in cs.reviewable()] == ["README.md", "app.py"]


# --- file kinds ------------------------------------------------------------------------------


def test_pure_rename_is_listed_not_sent_and_edited_rename_is_reviewable(repo: GitRepo) -> None:
    repo.write("util.py", "".join(f"u{i} = {i}\n" for i in range(10)))
    repo.commit("util")
    repo.move("README.md", "docs/README.md")
    repo.move("util.py", "lib/util.py")
    repo.write("lib/util.py", "".join(f"u{i} = {i}\n" for i in range(10)).replace("u4 = 4", "u4 = 40"))
    repo.stage()
    cs = load(repo, staged=True)
    files = by_path(cs)
    pure = files["docs/README.md"]
    assert (pure.status, pure.old_path, pure.skipped, pure.hunks) == ("renamed", "README.md", "renamed", [])  # type: ignore[attr-defined]
    edited = files["lib/util.py"]
    assert (edited.status, edited.old_path, edited.skipped) == ("renamed", "util.py", None)  # type: ignore[attr-defined]
    assert edited.added_lines == {5}  # type: ignore[attr-defined]
    assert cs.anchors("lib/util.py") == set(range(2, 9))
    assert [f.path for f in cs.reviewable()] == ["lib/util.py"]


def test_binary_and_deleted_files_are_skipped_with_reasons(repo: GitRepo) -> None:
    repo.write("data.bin", b"\x00\x01\x02")
    repo.commit("data")
    repo.write("data.bin", b"\x00\x01\x03")
    repo.write("new.bin", b"abc\x00def")
    repo.delete("README.md")
    cs = load(repo, working=True)
    files = by_path(cs)
    assert {p: f.skipped for p, f in files.items()} == {  # type: ignore[attr-defined]
        "data.bin": "binary",
        "new.bin": "binary",
        "README.md": "deleted",
    }
    deleted = files["README.md"]
    assert (deleted.status, deleted.deletions, deleted.added_lines) == ("deleted", 1, set())  # type: ignore[attr-defined]
    assert cs.anchors("README.md") == set() and cs.new_content("README.md") is None
    assert cs.reviewable() == [] and len(cs.skipped()) == 3


def test_vendored_generated_and_oversized_files(repo: GitRepo) -> None:
    repo.write(".gitattributes", "schema/*.py linguist-generated\n")
    repo.commit("attributes")
    repo.write("vendor/lib.py", "x = 1\n")
    repo.write("web/node_modules/pkg/index.js", "x\n")
    repo.write("package-lock.json", "{}\n")
    repo.write("api/service_pb2.py", "x = 1\n")
    repo.write("dist/app.min.js", "x\n")
    repo.write("gen/models.py", "# Code generated by sqlc. DO NOT EDIT.\nx = 1\n")
    repo.write("schema/tables.py", "t = 1\n")
    repo.write("big.py", "x = 1\n" * 400)  # 2400 bytes
    repo.write("ok.py", "x = 1\n")
    cs = load(repo, working=True, max_file_bytes=2000)
    assert {f.path: f.skipped for f in cs.files} == {
        "vendor/lib.py": "vendored",
        "web/node_modules/pkg/index.js": "vendored",
        "package-lock.json": "generated",
        "api/service_pb2.py": "generated",
        "dist/app.min.js": "generated",
        "gen/models.py": "generated",
        "schema/tables.py": "generated",
        "big.py": "too large",
        "ok.py": None,
    }
    assert cs.new_content("big.py") is None


def test_mode_change_empty_file_and_submodule(repo: GitRepo) -> None:
    repo.git("update-index", "--chmod=+x", "app.py")
    repo.write("empty.py", "")
    repo.stage("empty.py")
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{repo.head()},sub")
    files = by_path(load(repo, staged=True))
    assert files["app.py"].skipped == "no content change"  # type: ignore[attr-defined]
    assert files["empty.py"].skipped == "empty"  # type: ignore[attr-defined]
    assert files["sub"].skipped == "submodule"  # type: ignore[attr-defined]


def test_path_globs_drop_files_entirely(repo: GitRepo) -> None:
    repo.write("src/pkg/core.py", "x = 1\n")
    repo.write("src/pkg/notes.md", "hi\n")
    repo.write("tests/test_core.py", "def test(): pass\n")
    repo.write("app.py", NUMBERED + "tail\n")
    cs = load(repo, working=True, paths=["src/**/*.py", "tests/"])
    assert sorted(f.path for f in cs.files) == ["src/pkg/core.py", "tests/test_core.py"]
    everything = load(repo, working=True, paths=[])
    assert len(everything.files) == 4
    audit = load(repo, all_files=True, paths=["*.md"])
    assert [f.path for f in audit.files] == ["README.md"]


# --- anchors, lines and odd content ----------------------------------------------------------


def test_anchors_are_the_new_lines_inside_hunks(repo: GitRepo) -> None:
    new = NUMBERED.replace("line 10\n", "line ten\n").replace("line 19\n", "")
    repo.write("app.py", new)
    cs = load(repo, working=True)
    change = cs.file("app.py")
    assert change is not None
    assert [(h.new_start, h.new_len) for h in change.hunks] == [(7, 7), (16, 4)]
    assert change.added_lines == {10}
    assert (change.additions, change.deletions) == (1, 2)
    assert cs.anchors("app.py") == set(range(7, 14)) | set(range(16, 20))
    assert cs.is_anchor("app.py", 10) and not cs.is_anchor("app.py", 6)
    assert not cs.is_anchor("app.py", 14) and not cs.is_anchor("missing.py", 1)
    assert cs.line_text("app.py", 10) == "line ten"
    assert cs.line_text("app.py", 19) == "line 20"  # shifted up by the deletion
    assert cs.line_text("app.py", 99) == ""


def test_hunk_render_prefixes_new_line_numbers(repo: GitRepo) -> None:
    repo.write("app.py", NUMBERED.replace("line 2\n", "line two\n"))
    [hunk] = load(repo, working=True).file("app.py").hunks  # type: ignore[union-attr]
    assert hunk.render() == "\n".join(
        [
            "@@ -1,5 +1,5 @@",
            "   1   line 1",
            "     - line 2",
            "   2 + line two",
            "   3   line 3",
            "   4   line 4",
            "   5   line 5",
        ]
    )
    custom = Hunk(1, 1, 1, 1, "def f():", [DiffLine(" ", "x", 1, 1)])
    assert custom.render() == "@@ -1,1 +1,1 @@ def f():\n   1   x"


def test_unicode_and_space_paths(repo: GitRepo) -> None:
    names = ["docs/résumé notes.md", 'odd "quoted"\tname.py', "a b/c d.py", "日本/東京.py"]
    body = "".join(f"row {i}\n" for i in range(3, 11))  # enough lines for rename detection
    for name in names:
        repo.write(name, "first\nsecond\n" + body)
    repo.commit("odd names")
    for name in names:
        repo.write(name, "first\nchanged\n" + body)
    repo.move("a b/c d.py", "a b/moved b/c d.py")
    cs = load(repo, working=True)
    expected = {n: n for n in names} | {"a b/c d.py": "a b/moved b/c d.py"}
    assert sorted(f.path for f in cs.files) == sorted(expected.values())
    for path in expected.values():
        assert cs.anchors(path) == {1, 2, 3, 4, 5}, path
        assert cs.line_text(path, 2) == "changed"
    assert cs.file("a b/moved b/c d.py").old_path == "a b/c d.py"  # type: ignore[union-attr]
    repo.write("新しい file.py", "x = 1\n")
    untracked = load(repo, working=True).file("新しい file.py")
    assert untracked is not None and (untracked.status, untracked.added_lines) == ("added", {1})
    staged = load(repo, staged=True)
    assert staged.file("a b/moved b/c d.py").skipped == "renamed"  # type: ignore[union-attr]


def test_no_trailing_newline_and_crlf(repo: GitRepo) -> None:
    repo.write("win.txt", "one\r\ntwo\r\nthree\r\n")
    repo.write("tail.py", "a = 1\nb = 2")
    repo.commit("odd endings")
    repo.write("win.txt", "one\r\nTWO\r\nthree\r\n")
    repo.write("tail.py", "a = 1\nb = 3")
    cs = load(repo, working=True)
    assert cs.line_text("win.txt", 2) == "TWO"
    assert cs.new_content("win.txt") == "one\r\nTWO\r\nthree\r\n"
    texts = [dl.text for h in cs.file("win.txt").hunks for dl in h.lines]  # type: ignore[union-attr]
    assert texts == ["one", "two", "TWO", "three"]
    tail = cs.file("tail.py")
    assert tail is not None and tail.added_lines == {2}
    assert [(dl.kind, dl.text) for dl in tail.hunks[0].lines] == [(" ", "a = 1"), ("-", "b = 2"), ("+", "b = 3")]
    assert cs.line_text("tail.py", 2) == "b = 3"
    audit = load(repo, all_files=True)
    assert audit.anchors("tail.py") == {1, 2} and audit.anchors("win.txt") == {1, 2, 3}


def test_form_feed_does_not_split_lines(repo: GitRepo) -> None:
    repo.write("ff.py", "a = 1\n\x0c\nb = 2\n")
    repo.commit("ff")
    repo.write("ff.py", "a = 1\n\x0c\nb = 3\n")
    cs = load(repo, working=True)
    assert cs.file("ff.py").added_lines == {3}  # type: ignore[union-attr]
    assert cs.line_text("ff.py", 3) == "b = 3"


def test_file_entry_for_reports(repo: GitRepo) -> None:
    repo.write("app.py", NUMBERED + "x\n")
    entry = load(repo, working=True).file("app.py").entry()  # type: ignore[union-attr]
    assert entry.model_dump() == {
        "path": "app.py",
        "status": "modified",
        "old_path": None,
        "added": 1,
        "removed": 0,
        "skipped": None,
        "reviewed_by": [],
    }


def test_language_detection(repo: GitRepo) -> None:
    for name in ("a.py", "b.md", "c.yaml", "Dockerfile", "infra/main.tf", "x.unknownext"):
        repo.write(name, "x\n")
    langs = {f.path: f.language for f in load(repo, working=True).files}
    assert langs == {
        "a.py": "python",
        "b.md": "markdown",
        "c.yaml": "yaml",
        "Dockerfile": "dockerfile",
        "infra/main.tf": "terraform",
        "x.unknownext": None,
    }


# --- glob_match ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "pattern", "expected"),
    [
        ("src/a.py", "*.py", True),
        ("a.py", "*.py", True),
        ("src/a.pyc", "*.py", False),
        ("main.tf", "**/*.tf", True),
        ("infra/prod/main.tf", "**/*.tf", True),
        ("k8s/base/deploy.yaml", "k8s/**", True),
        ("other/k8s/deploy.yaml", "k8s/**", False),
        (".github/workflows/ci.yml", ".github/**", True),
        ("Dockerfile.dev", "Dockerfile*", True),
        ("src/a.py", "src/*.py", True),
        ("src/pkg/a.py", "src/*.py", False),
        ("src/pkg/a.py", "src/**/*.py", True),
        ("src/a.py", "src/**/*.py", True),
        ("docs/x/y.md", "docs/", True),
        ("docs.md", "docs/", False),
        ("a1.py", "a?.py", True),
        ("a/b.py", "a?b.py", False),
        ("b.py", "[ab].py", True),
        ("c.py", "[!ab].py", True),
        ("a.py", "[!ab].py", False),
        ("anything/at/all", "**", True),
        ("./src/a.py", "/src/*.py", True),
        ("SRC/a.py", "src/*.py", False),
    ],
)
def test_glob_match(path: str, pattern: str, expected: bool) -> None:
    assert glob_match(path, [pattern]) is expected


def test_glob_match_any_of_several_and_none() -> None:
    assert glob_match("a/b.md", ["*.py", "*.md"])
    assert not glob_match("a/b.md", [])


def test_missing_git_executable_is_a_clear_error(repo: GitRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    import git

    monkeypatch.setattr(git.Git, "GIT_PYTHON_GIT_EXECUTABLE", "/nonexistent/git")
    with pytest.raises(RepoError, match="^git is not installed or not on PATH$"):
        resolve_target(repo.root)
    with pytest.raises(RepoError, match="^git is not installed or not on PATH$"):
        load_changeset(repo.root, ReviewTarget(kind=TargetKind.STAGED, description="staged changes"))
