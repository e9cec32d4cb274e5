"""diffparse: git diff text -> FileChange, pinned line by line.

Written against mutation-testing survivors (issue 13, benchmarks/mutation.py): counts,
anchors, statuses, quoted paths and the prompt rendering of a hunk.
"""

from __future__ import annotations

import pytest

from tokyo_cli.errors import RepoError
from tokyo_cli.git.diff import (
    DiffLine,
    Hunk,
    language_of,
    parse_git_diff,
    split_lines,
    whole_file_change,
)
from tokyo_cli.results import FileEntry

TWO_FILES = """\
warning: a line before the first header is not part of any file
diff --git a/src/app.py b/src/app.py
index 1111111..2222222 100644
--- a/src/app.py
+++ b/src/app.py
@@ -1,4 +1,6 @@ def main():
 keep = 1
-old = 2
+new = 2
+more = 3
+extra = 4
 tail = 5
 end = 6
@@ -20,3 +22,2 @@ class Later:
 a = 1
-b = 2
-c = 3
+c = 4
diff --git a/README.md b/README.md
index 3333333..4444444 100644
--- a/README.md
+++ b/README.md
@@ -1 +1,2 @@
 # Title
+one line
"""


def test_counts_and_added_lines_are_per_file() -> None:
    app, readme = parse_git_diff(TWO_FILES)
    assert (app.path, app.status, app.old_path, app.binary, app.language) == (
        "src/app.py",
        "modified",
        None,
        False,
        "python",
    )
    assert (app.additions, app.deletions) == (4, 3)
    assert app.added_lines == {2, 3, 4, 23}
    assert app.anchors() == {1, 2, 3, 4, 5, 6, 22, 23}
    assert (readme.path, readme.additions, readme.deletions, readme.added_lines) == ("README.md", 1, 0, {2})
    assert readme.language == "markdown"
    assert app.entry() == FileEntry(
        path="src/app.py", status="modified", old_path=None, added=4, removed=3, skipped=None
    )


def test_hunks_keep_their_numbers_headers_and_lines() -> None:
    app = parse_git_diff(TWO_FILES)[0]
    first, second = app.hunks
    assert (first.old_start, first.old_len, first.new_start, first.new_len, first.header) == (1, 4, 1, 6, "def main():")
    assert (second.old_start, second.old_len, second.new_start, second.new_len, second.header) == (
        20,
        3,
        22,
        2,
        "class Later:",
    )
    assert first.lines[:3] == [
        DiffLine(" ", "keep = 1", 1, 1),
        DiffLine("-", "old = 2", 2, None),
        DiffLine("+", "new = 2", None, 2),
    ]
    assert second.lines[-1] == DiffLine("+", "c = 4", None, 23)


def test_render_prefixes_each_line_with_its_new_line_number() -> None:
    hunk = parse_git_diff(TWO_FILES)[0].hunks[0]
    assert hunk.render() == "\n".join(
        [
            "@@ -1,4 +1,6 @@ def main():",
            "   1   keep = 1",
            "     - old = 2",
            "   2 + new = 2",
            "   3 + more = 3",
            "   4 + extra = 4",
            "   5   tail = 5",
            "   6   end = 6",
        ]
    )


def test_render_widens_for_five_digit_line_numbers_and_drops_an_empty_header() -> None:
    hunk = Hunk(9998, 1, 9999, 2, lines=[DiffLine(" ", "a", 9998, 9999), DiffLine("+", "", None, 10000)])
    assert hunk.render() == "@@ -9998,1 +9999,2 @@\n 9999   a\n10000 +"
    assert Hunk(1, 1, 1, 1, lines=[DiffLine(" ", "x", 1, 1)]).render() == "@@ -1,1 +1,1 @@\n   1   x"


def test_statuses_from_git_headers() -> None:
    text = """\
diff --git a/new.py b/new.py
new file mode 100644
index 0000000..1111111
--- /dev/null
+++ b/new.py
@@ -0,0 +1,2 @@
+a = 1
+b = 2
diff --git a/gone.py b/gone.py
deleted file mode 100644
index 1111111..0000000
--- a/gone.py
+++ /dev/null
@@ -1 +0,0 @@
-a = 1
diff --git a/old name.py b/new name.py
similarity index 100%
rename from old name.py
rename to new name.py
diff --git a/logo.png b/logo.png
index 1111111..2222222 100644
Binary files a/logo.png and b/logo.png differ
diff --git a/blob.bin b/blob.bin
index 1111111..2222222 100644
GIT binary patch
literal 3
Kcmb=Y0000

"""
    new, gone, moved, png, blob = parse_git_diff(text)
    assert (new.status, new.additions, new.added_lines, new.old_path) == ("added", 2, {1, 2}, None)
    assert (gone.status, gone.path, gone.deletions, gone.additions) == ("deleted", "gone.py", 1, 0)
    assert (moved.status, moved.path, moved.old_path, moved.hunks) == ("renamed", "new name.py", "old name.py", [])
    assert (png.binary, png.hunks, png.status) == (True, [], "modified")
    assert (blob.binary, blob.hunks) == (True, [])
    assert not any(c.submodule for c in (new, gone, moved, png, blob))


def test_a_deleted_file_keeps_its_old_path_and_a_rename_with_edits_counts_them() -> None:
    text = """\
diff --git a/a.py b/b.py
similarity index 80%
rename from a.py
rename to b.py
index 1111111..2222222 100644
--- a/a.py
+++ b/b.py
@@ -1,2 +1,2 @@
 x = 1
-y = 2
+y = 3
"""
    (change,) = parse_git_diff(text)
    assert (change.status, change.path, change.old_path) == ("renamed", "b.py", "a.py")
    assert (change.additions, change.deletions, change.added_lines) == (1, 1, {2})


def test_submodules_by_mode_and_by_a_dirty_subproject_line() -> None:
    sha, sha2 = "a" * 40, "b" * 40
    text = f"""\
diff --git a/lib b/lib
index {sha[:7]}..{sha2[:7]} 160000
--- a/lib
+++ b/lib
@@ -1 +1 @@
-Subproject commit {sha}
+Subproject commit {sha2}
diff --git a/dep b/dep
--- a/dep
+++ b/dep
@@ -1 +1 @@
-Subproject commit {sha}
+Subproject commit {sha}-dirty
diff --git a/notes.txt b/notes.txt
--- a/notes.txt
+++ b/notes.txt
@@ -1 +1,2 @@
-Subproject commit {sha}
+Subproject commit {sha}
+Subproject commit {sha2}
"""
    lib, dep, notes = parse_git_diff(text)
    assert lib.submodule and dep.submodule
    assert not notes.submodule  # three such lines are a text file, not a submodule pointer


def test_crlf_and_no_newline_markers_do_not_reach_the_lines() -> None:
    text = (
        "diff --git a/w.txt b/w.txt\n"
        "--- a/w.txt\n+++ b/w.txt\n"
        "@@ -1 +1 @@\n-old\r\n+new\r\n\\ No newline at end of file\n"
    )
    (change,) = parse_git_diff(text)
    assert [(ln.kind, ln.text) for ln in change.hunks[0].lines] == [("-", "old"), ("+", "new")]
    assert (change.additions, change.deletions) == (1, 1)


def test_only_newline_splits_lines() -> None:
    text = "diff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -0,0 +1 @@\n+a\x0bb\x0cc\u2028d\rx"
    (change,) = parse_git_diff(text)
    assert [ln.text for ln in change.hunks[0].lines] == ["a\x0bb\x0cc\u2028d\rx"]


@pytest.mark.parametrize(
    ("header", "path"),
    [
        ('diff --git "a/tab\\there" "b/tab\\there"', "tab\there"),
        ('diff --git "a/caf\\303\\251.py" "b/caf\\303\\251.py"', "café.py"),
        ('diff --git "a/q\\"uote\\\\s" "b/q\\"uote\\\\s"', 'q"uote\\s'),
        ('diff --git "a/nl\\nx\\a\\b\\v\\f\\r" "b/nl\\nx\\a\\b\\v\\f\\r"', "nl\nx\a\b\v\f\r"),
        ("diff --git a/x b/y b/x b/y", "x b/y"),
        ("diff --git a/sp ace.py b/sp ace.py", "sp ace.py"),
    ],
)
def test_paths_from_the_symmetric_header(header: str, path: str) -> None:
    (change,) = parse_git_diff(header + "\n--- a/f\n+++ b/f\n@@ -0,0 +1 @@\n+x\n")
    assert change.path == path


def test_quoted_rename_paths_are_unquoted() -> None:
    text = (
        'diff --git "a/\\303\\251" "b/\\303\\251\\t"\nsimilarity index 100%\n'
        'rename from "\\303\\251"\nrename to "\\303\\251\\t"\n'
    )
    (change,) = parse_git_diff(text)
    assert (change.old_path, change.path) == ("é", "é\t")


@pytest.mark.parametrize(
    "header",
    [
        "diff --git a/one b/two",
        'diff --git "a/one" "b/two"',
        'diff --git "a/one" b/one',
        'diff --git "x/one" "y/one"',
    ],
)
def test_an_asymmetric_header_without_rename_lines_is_an_error(header: str) -> None:
    with pytest.raises(RepoError, match="cannot parse git diff header"):
        parse_git_diff(header + "\n")


def test_a_broken_hunk_is_a_repo_error_naming_the_file() -> None:
    with pytest.raises(RepoError, match=r"^cannot parse git diff of f\.py: "):
        parse_git_diff("diff --git a/f.py b/f.py\n--- a/f.py\n+++ b/f.py\n@@ -1,5 +1,5 @@\n+only\n")


def test_no_diff_is_no_files() -> None:
    assert parse_git_diff("") == []
    assert parse_git_diff("no header here\n+x\n") == []


def test_whole_file_change_covers_every_line() -> None:
    change = whole_file_change("pkg/Dockerfile", "FROM x\r\nRUN y\n")
    assert (change.status, change.language, change.additions, change.added_lines) == ("added", "dockerfile", 2, {1, 2})
    (hunk,) = change.hunks
    assert (hunk.old_start, hunk.old_len, hunk.new_start, hunk.new_len) == (0, 0, 1, 2)
    assert hunk.lines == [DiffLine("+", "FROM x", None, 1), DiffLine("+", "RUN y", None, 2)]
    empty = whole_file_change("e.py", "")
    assert (empty.hunks, empty.added_lines, empty.additions) == ([], set(), 0)


@pytest.mark.parametrize(
    ("content", "lines"),
    [
        ("", []),
        ("\n", [""]),
        ("a", ["a"]),
        ("a\n", ["a"]),
        ("a\r\nb", ["a", "b"]),
        ("a\n\nb\n\n", ["a", "", "b", ""]),
        ("a\rb\r\r\n", ["a\rb\r"]),
    ],
)
def test_split_lines_counts_as_git_does(content: str, lines: list[str]) -> None:
    assert split_lines(content) == lines


@pytest.mark.parametrize(
    ("path", "language"),
    [
        ("a.py", "python"),
        ("src/A.PY", "python"),
        ("Dockerfile", "dockerfile"),
        ("deploy/Dockerfile.prod", "dockerfile"),
        ("dockerfiles.txt", "text"),
        ("Makefile", "makefile"),
        ("Jenkinsfile", "groovy"),
        ("x.tf", "terraform"),
        ("x.yml", "yaml"),
        ("README", None),
        ("x.unknown", None),
    ],
)
def test_language_of(path: str, language: str | None) -> None:
    assert language_of(path) == language


# --- pinned against survivors of a later mutation run ---------------------------------------


def test_lines_after_a_mid_hunk_no_newline_marker_are_kept() -> None:
    # The old side lacked a final newline, the new side adds lines after it: the marker sits
    # between the '-' and the '+' lines and only the marker is dropped.
    text = (
        "diff --git a/w.txt b/w.txt\n--- a/w.txt\n+++ b/w.txt\n"
        "@@ -1,2 +1,3 @@\n keep\n-old\n\\ No newline at end of file\n+new\n+more\n"
    )
    (change,) = parse_git_diff(text)
    assert change.hunks[0].lines == [
        DiffLine(" ", "keep", 1, 1),
        DiffLine("-", "old", 2, None),
        DiffLine("+", "new", None, 2),
        DiffLine("+", "more", None, 3),
    ]
    assert (change.additions, change.deletions, change.added_lines) == (2, 1, {2, 3})


def test_hunk_lines_are_not_read_as_header_lines() -> None:
    # A content line ending in " 160000" is not the submodule mode of the header.
    text = "diff --git a/cfg.py b/cfg.py\n--- a/cfg.py\n+++ b/cfg.py\n@@ -1 +1 @@\n-limit = 100000\n+limit = 160000\n"
    (change,) = parse_git_diff(text)
    assert change.submodule is False and change.status == "modified"


def test_the_submodule_mode_alone_marks_a_submodule() -> None:
    # The 160000 mode decides even when no "Subproject commit" line follows.
    (change,) = parse_git_diff(f"diff --git a/lib b/lib\nindex {'a' * 7}..{'b' * 7} 160000\n")
    assert change.submodule is True and change.hunks == []


def test_a_single_subproject_line_is_a_submodule_and_no_lines_are_not() -> None:
    sha = "c" * 40
    text = (
        f"diff --git a/dep b/dep\n--- a/dep\n+++ b/dep\n@@ -0,0 +1 @@\n+Subproject commit {sha}-dirty\n"
        "diff --git a/plain b/plain\nindex 1111111..2222222 100644\n"
    )
    dep, plain = parse_git_diff(text)
    assert dep.submodule is True
    assert plain.submodule is False


@pytest.mark.parametrize(
    ("header", "path"),
    [
        ("diff --git a/sp  b/sp ", "sp "),  # a trailing space is part of the path
        ("diff --git a/docs/X b/docs/X", "docs/X"),
        ('diff --git "a/\\t01" "b/\\t01"', "\t01"),  # a letter escape, then digits
        ('diff --git "a/a\\qb" "b/a\\qb"', "aqb"),  # an unknown escape keeps its character
        ('diff --git "a/caf\\351" "b/caf\\351"', "caf\ufffd"),  # not UTF-8 (Latin-1 name)
    ],
)
def test_more_paths_from_the_symmetric_header(header: str, path: str) -> None:
    (change,) = parse_git_diff(header + "\n--- a/f\n+++ b/f\n@@ -0,0 +1 @@\n+x\n")
    assert change.path == path


@pytest.mark.parametrize(
    ("quoted", "path"),
    [
        ('""', ""),
        ('"a\\"', "a\\"),  # a lone trailing backslash is kept, not an escape
        ('"x"', "x"),
    ],
)
def test_rename_paths_unquote_the_edge_cases(quoted: str, path: str) -> None:
    text = f"diff --git a/x b/y\nsimilarity index 100%\nrename from old\nrename to {quoted}\n"
    (change,) = parse_git_diff(text)
    assert (change.old_path, change.path) == ("old", path)


def test_a_half_rename_header_falls_back_to_the_diff_git_line() -> None:
    (same,) = parse_git_diff("diff --git a/a.py b/a.py\nrename from z.py\n")
    assert (same.path, same.old_path, same.status) == ("a.py", None, "modified")
    with pytest.raises(RepoError, match="cannot parse git diff header"):
        parse_git_diff("diff --git a/a.py b/b.py\nrename to b.py\n")


def test_entry_of_a_renamed_and_skipped_file() -> None:
    (change,) = parse_git_diff("diff --git a/a.py b/b.py\nsimilarity index 100%\nrename from a.py\nrename to b.py\n")
    change.skipped = "renamed"
    assert change.entry() == FileEntry(
        path="b.py", status="renamed", old_path="a.py", added=0, removed=0, skipped="renamed"
    )


def test_whole_file_change_keeps_its_path() -> None:
    assert whole_file_change("pkg/mod.py", "x\n").path == "pkg/mod.py"
    assert whole_file_change("pkg/empty.py", "").path == "pkg/empty.py"
