"""pathrules: the documented glob syntax, vendored/generated rules and generator markers.

Written against mutation-testing survivors (issue 13, benchmarks/mutation.py): each case
pins one rule of the module docstring.
"""

from __future__ import annotations

import pytest

from tokyo_cli.git import pathrules
from tokyo_cli.git.pathrules import glob_match, looks_generated, path_skip_reason


@pytest.fixture(autouse=True)
def fresh_compile_cache() -> None:
    # Each case compiles its pattern itself: a pattern cached by an earlier test would hide a
    # translation bug from this one (and from mutation testing's per-test coverage).
    pathrules._compile.cache_clear()


MATCHES = [
    # "*" never crosses "/" and never skips the character after it.
    ("*.py", "a.py"),
    ("*.py", "src/deep/a.py"),
    ("*.py", ".py"),
    ("src/*.py", "src/a.py"),
    ("src/*", "src/a"),
    ("a*b*c", "abc"),
    # "?" is exactly one character other than "/".
    ("a?.py", "ab.py"),
    ("src/?", "src/x"),
    # "**/" is zero or more whole directories.
    ("**/*.tf", "main.tf"),
    ("**/*.tf", "infra/prod/main.tf"),
    ("a/**/b.txt", "a/b.txt"),
    ("a/**/b.txt", "a/x/y/b.txt"),
    ("**/b/c", "b/c"),
    # "dir/**": the dir itself or anything under it; a trailing "/" means the same.
    ("k8s/**", "k8s"),
    ("k8s/**", "k8s/a.yaml"),
    ("k8s/**", "k8s/x/y.yaml"),
    ("docs/", "docs/a/b.md"),
    ("docs/", "docs"),
    # "**" alone, or not bounded by "/", is any text, "/" included.
    ("**", "a"),
    ("**", "a/b/c"),
    ("src/a**b", "src/ax/yb"),
    ("src/a**b", "src/ab"),
    ("x**", "dir/x/y/z"),
    # Character classes.
    ("file[12].txt", "file1.txt"),
    ("file[!12].txt", "file3.txt"),
    ("x[!a][!b]", "xcd"),  # each class ends at its own "]"
    ("x[a].txt", "xa.txt"),  # a one-character class
    ("x[]a].txt", "x].txt"),
    ("x[]a].txt", "xa.txt"),
    ("a[b", "a[b"),  # an unclosed "[" is a literal
    ("a[b", "dir/a[b"),
    ("a[]", "a[]"),  # "[]" does not close: literal
    # Leading "./" or "/" and surrounding blanks are ignored; backslashes are separators.
    ("./src/*.py", "src/a.py"),
    ("././src/*.py", "src/a.py"),
    ("/src/a.py", "src/a.py"),
    ("  src/a.py  ", "src/a.py"),
    ("src/*.py", "./src/a.py"),
    ("src/*.py", "././src/a.py"),
    ("src/*.py", "/src/a.py"),
    ("src/*.py", "src\\a.py"),
    ("src\\*.py", "src/a.py"),
    # Names may hold any character but "/": a newline too.
    ("*.py", "a\nb.py"),
    ("k8s/**", "k8s/a\nb"),
    ("a?b", "a\nb"),
    ("a.b", "a.b"),
]

NON_MATCHES = [
    ("*.py", "src/happy"),  # a "*" that skipped the next character would match
    ("*.py", "a.pyc"),
    ("*.py", "a_py"),  # "." is literal
    ("src/*.py", "src/x/a.py"),
    ("src/*", "src/x/a"),
    ("src/*.py", "lib/src/a.py"),  # a pattern with "/" is anchored at the root
    ("a?.py", "a.py"),
    ("a?.py", "abc.py"),
    ("src/?", "src/"),
    ("a/**/b.txt", "a/xb.txt"),  # "**/" swallowing the next character would match
    ("a/**/b.txt", "a/x/c.txt"),
    ("**/b/c", "xb/c"),
    ("k8s/**", "k8sx/a"),
    ("k8s/**", "k8sx"),
    ("docs/", "docsx/a.md"),
    ("src/a**b", "src/xab"),
    ("file[12].txt", "file3.txt"),
    ("file[!12].txt", "file1.txt"),
    ("x[]a].txt", "xb.txt"),
    ("a[b", "ab"),
    ("*.PY", "a.py"),  # case-sensitive
    ("a.b", "axb"),
    ("src/a.py", "src/a.py/b"),
    ("", "a.py"),
]


@pytest.mark.parametrize(("pattern", "path"), MATCHES)
def test_glob_matches(pattern: str, path: str) -> None:
    assert glob_match(path, [pattern]), (pattern, path)


@pytest.mark.parametrize(("pattern", "path"), NON_MATCHES)
def test_glob_does_not_match(pattern: str, path: str) -> None:
    assert not glob_match(path, [pattern]), (pattern, path)


def test_any_pattern_of_the_list_matches_and_an_empty_list_matches_nothing() -> None:
    assert glob_match("src/a.py", ["docs/**", "*.py"])
    assert not glob_match("src/a.py", ["docs/**", "*.md"])
    assert not glob_match("src/a.py", [])


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("vendor/a.js", "vendored"),
        ("src/node_modules/x/y.js", "vendored"),
        ("third_party/lib/x.c", "vendored"),
        ("vendor/dist/a.min.js", "vendored"),  # vendored wins over generated
        ("dist/app.js", "generated"),
        ("web/build/index.html", "generated"),
        ("static/app.min.js", "generated"),
        ("static/app.min.css", "generated"),
        ("Cargo.lock", "generated"),
        ("web/package-lock.json", "generated"),
        ("poetry.lock", "generated"),
        ("proto/api_pb2.py", "generated"),
        ("proto/api_pb2_grpc.py", "generated"),
        ("api/api.pb.go", "generated"),
        ("src/app.py", None),
        ("src/vendor", None),  # a file named like the directory is not inside it
        ("src/build", None),
        ("vendors/a.js", None),
        ("builds/a.js", None),
        ("src/app.js", None),
    ],
)
def test_path_skip_reason(path: str, reason: str | None) -> None:
    assert path_skip_reason(path) == reason


@pytest.mark.parametrize(
    "head",
    [
        b"# @generated by tool\n",
        b"// Code generated by protoc-gen-go. DO NOT EDIT.\n",
        b"/* do not edit */\n",
        b"# This file is auto-generated\n",
        b"# This file is autogenerated\n",
        b"# Generated by Django 4.2\n",
        b"# AUTO-GENERATED\n",
    ],
)
def test_generator_markers_are_recognised(head: bytes) -> None:
    assert looks_generated(head + b"x = 1\n")


def test_a_marker_counts_only_in_the_first_five_lines() -> None:
    assert looks_generated(b"\n" * 4 + b"# @generated\n")
    assert not looks_generated(b"\n" * 5 + b"# @generated\n")
    assert not looks_generated(b"x = 1\n# handwritten, do not editorialise\n")


def test_a_marker_counts_only_in_the_first_4096_bytes() -> None:
    marker = b"@generated"
    assert looks_generated(b"x" * (4096 - len(marker)) + marker)
    assert not looks_generated(b"x" * (4097 - len(marker)) + marker)
