"""Coverage data is hostile input (docs/ARCHITECTURE.md, "Trust boundaries"): it comes from the
reviewed repository. A symlinked file is never followed, an oversized one never read, garbage
gives one low ``test-gaps:coverage-unreadable`` note "coverage data unreadable: NAME: reason"
(never a crash, never the run's error), XML entities are refused, and nothing is ever written
into the repository."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from coverage import CoverageData

from fakes.gitrepo import GitRepo
from tokyo_cli.analyzers import AnalyzerRun, coverage_data, run_analyzers
from tokyo_cli.findings import Severity
from tokyo_cli.git.repo import load_changeset, resolve_target

LIB = '"""Lib."""\n\n\ndef work(x):\n    """Do it."""\n    y = x + 1\n    return y\n'
CHANGED = LIB.replace("    y = x + 1\n", "    y = x + 2\n")


def review(repo: GitRepo) -> AnalyzerRun:
    cs = load_changeset(repo.root, resolve_target(repo.root, working=True))
    [run] = run_analyzers(["test-gaps"], cs, cs.reviewable(), agent="yuki")
    assert run.error is None and run.not_analyzed == {}, (run.error, run.not_analyzed)
    assert not any(f.rule == "test-gaps:uncovered" for f in run.findings), run.findings
    return run


def note(run: AnalyzerRun) -> str:
    """The text of the run's one coverage-unreadable note (it must have exactly one)."""
    [f] = [f for f in run.findings if f.rule == "test-gaps:coverage-unreadable"]
    assert f.line is None and f.severity is Severity.LOW and f.body.startswith(f.title[0].lower() + f.title[1:])
    return f.body


def listing(root: Path) -> dict[str, tuple[int, float]]:
    return {
        str(p.relative_to(root)): (p.lstat().st_size, p.lstat().st_mtime)
        for p in root.rglob("*")
        if ".git" not in p.parts
    }


def real_data(path: Path, source: Path) -> None:
    """A valid coverage.py data file at ``path`` saying nothing of ``source`` ran."""
    data = CoverageData(basename=str(path))
    data.add_lines({str(source): [1, 4]})
    data.write()


@pytest.fixture
def repo(make_git_repo: Callable[..., GitRepo]) -> GitRepo:
    repo = make_git_repo("hostile")
    repo.write("lib/__init__.py", "")
    repo.write("lib/core.py", LIB)
    repo.write("tests/test_core.py", "from lib.core import work\n\n\ndef test_work():\n    assert work(1) == 2\n")
    repo.commit("base")
    repo.write("lib/core.py", CHANGED)
    return repo


def test_a_symlinked_data_file_is_not_followed(repo: GitRepo, tmp_path: Path) -> None:
    outside = tmp_path / "outside.coverage"
    real_data(outside, repo.root / "lib/core.py")  # would flag line 6 if it were read
    os.symlink(outside, repo.root / ".coverage")
    assert note(review(repo)).startswith("coverage data unreadable: .coverage: is a symlink")


def test_a_data_file_below_a_symlinked_directory_is_not_followed(repo: GitRepo, tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere/lcov.info").write_text("SF:lib/core.py\nDA:6,0\nend_of_record\n")
    os.symlink(tmp_path / "elsewhere", repo.root / "coverage")
    assert "coverage/lcov.info: lies below a symlinked directory" in note(review(repo))


def test_a_committed_symlink_is_not_followed_in_a_range_review(repo: GitRepo, tmp_path: Path) -> None:
    outside = tmp_path / "cov.xml"
    outside.write_text(
        '<coverage><packages><package><classes><class filename="lib/core.py"><lines>'
        '<line number="6" hits="0"/></lines></class></classes></package></packages></coverage>'
    )
    base = repo.head()
    os.symlink(outside, repo.root / "coverage.xml")
    repo.commit("link")
    cs = load_changeset(repo.root, resolve_target(repo.root, base=base))
    [run] = run_analyzers(["test-gaps"], cs, cs.reviewable(), agent="yuki")
    assert "coverage.xml: is a symlink" in note(run)
    assert not any(f.rule == "test-gaps:uncovered" for f in run.findings)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        (".coverage", b"\x00garbage\xff" * 100, "not an SQLite database"),
        (".coverage", b'!coverage.py: This is a private format {"lines": {}}', "not an SQLite database"),
        ("coverage.xml", b"<coverage><packages><unclosed></coverage>", "not well-formed XML"),
        ("coverage.xml", b"<html><body>hello</body></html>", "not a Cobertura report"),
        (
            "coverage.xml",
            b'<coverage><packages><package><classes><class filename="lib/core.py"><lines>'
            b'<line number="x" hits="1"/></lines></class></classes></package></packages></coverage>',
            "malformed line number",
        ),
        ("coverage.xml", b'<?xml version="1.0" encoding="x-bogus"?><coverage/>', "unknown encoding"),
        ("coverage.lcov", b"this is not lcov\n", "not an LCOV file"),
        ("coverage.lcov", b"SF:lib/core.py\nDA:6,lots\nend_of_record\n", "malformed line number"),
        ("lcov.info", b"SF:lib/core.py\nDA:99999999999,1\nend_of_record\n", "line number out of range"),
    ],
)
def test_garbage_gives_a_clear_note(repo: GitRepo, name: str, content: bytes, reason: str) -> None:
    repo.write(name, content)
    run = review(repo)
    text = note(run)
    assert text.startswith(f"coverage data unreadable: {name}: ") and reason in text, text
    assert [f.path for f in run.findings] == [name]  # the name check: a changed body, nothing to say


def test_an_sqlite_file_that_is_not_coverage_data(repo: GitRepo) -> None:
    con = sqlite3.connect(repo.root / ".coverage")
    con.execute("CREATE TABLE file (x)")
    con.execute(
        "CREATE VIEW coverage_schema AS WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) "
        "SELECT n AS version FROM r"
    )
    con.commit()
    con.close()
    assert note(review(repo)).startswith("coverage data unreadable: .coverage: ")


def test_a_runaway_query_is_stopped(repo: GitRepo) -> None:
    """A view that never ends behind a table name: the time limit stops it."""
    con = sqlite3.connect(repo.root / ".coverage")
    con.execute("CREATE TABLE coverage_schema (version integer)")
    con.execute("INSERT INTO coverage_schema VALUES (7)")
    con.execute("CREATE TABLE meta (key text, value text)")
    con.execute(
        "CREATE VIEW file AS WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) "
        "SELECT n AS id, 'x' || n AS path FROM r WHERE n < 0"
    )
    con.commit()
    con.close()
    cs = load_changeset(repo.root, resolve_target(repo.root, working=True))
    loaded = coverage_data.load(cs, ["lib/core.py"], timeout_s=1)
    assert loaded.source is None and "timed out" in loaded.problems[0]


def test_an_oversized_file_is_not_read(repo: GitRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    with open(repo.root / "coverage.xml", "wb") as fh:  # sparse: 60 MB without writing them
        fh.truncate(60 * 1024 * 1024)
    read = []
    monkeypatch.setattr(coverage_data.safefs, "read", lambda *a: read.append(a) or b"")
    assert "coverage.xml: 62.9 MB, over the 50 MB limit" in note(review(repo))
    assert not [a for a in read if a[1] == "coverage.xml"]


def test_xml_entity_expansion_is_refused(repo: GitRepo) -> None:
    laughs = (
        '<?xml version="1.0"?>\n<!DOCTYPE coverage [\n <!ENTITY a "lol">\n'
        + "".join(f' <!ENTITY {chr(98 + i)} "' + f"&{chr(97 + i)};" * 10 + '">\n' for i in range(9))
        + "]>\n<coverage><sources><source>&j;</source></sources></coverage>\n"
    )
    repo.write("coverage.xml", laughs)
    assert "coverage.xml: declares XML entities (refused)" in note(review(repo))


def test_hostile_names_in_the_data_are_only_compared(repo: GitRepo) -> None:
    """Paths in the data are matched as text, never opened: ../ and absolute names are inert."""
    repo.write(
        "coverage.xml",
        "<coverage><sources><source>/etc</source><source>../../..</source></sources>"
        '<packages><package><classes><class filename="passwd"><lines><line number="1" hits="0"/>'
        "</lines></class></classes></package></packages></coverage>",
    )
    run = review(repo)
    assert run.error is None
    assert run.findings == []  # lib/core.py is not measured: the name check, quiet on a changed body


def test_nothing_is_written_into_the_repository(repo: GitRepo) -> None:
    real_data(repo.root / ".coverage", repo.root / "lib/core.py")
    before = listing(repo.root)
    cs = load_changeset(repo.root, resolve_target(repo.root, working=True))
    [run] = run_analyzers(["test-gaps"], cs, cs.reviewable(), agent="yuki")
    assert [(f.rule, f.line) for f in run.findings] == [("test-gaps:uncovered", 6)]
    assert listing(repo.root) == before


def test_a_readable_file_wins_over_an_unreadable_one(repo: GitRepo) -> None:
    repo.write(".coverage", b"garbage")
    repo.write("coverage.lcov", "SF:lib/core.py\nDA:1,1\nDA:4,1\nDA:6,0\nDA:7,0\nend_of_record\n")
    cs = load_changeset(repo.root, resolve_target(repo.root, working=True))
    [run] = run_analyzers(["test-gaps"], cs, cs.reviewable(), agent="yuki")
    assert run.error is None
    assert [(f.rule, f.line) for f in run.findings] == [("test-gaps:uncovered", 6)]
