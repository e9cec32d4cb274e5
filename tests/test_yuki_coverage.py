"""Yuki's ``test-gaps:uncovered``: changed lines no test ran, from the reviewed repository's
own coverage data (coverage.py ``.coverage``, Cobertura ``coverage.xml``, LCOV), on real git
repositories with coverage data produced by really running coverage.py on a tiny test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from coverage import CoverageData

from fakes.gitrepo import GitRepo
from tokyo_cli.analyzers import AnalyzerRun, run_analyzers
from tokyo_cli.analyzers.coverage_data import MEMO_KEY, CoverageSummary, FileReport, match_paths
from tokyo_cli.findings import Severity
from tokyo_cli.git.repo import Changeset, load_changeset, resolve_target

CALC = '''\
"""Arithmetic."""


def add(a, b):
    """Sum."""
    total = a + b
    return total


def sub(a, b):
    """Difference."""
    result = a - b
    return result
'''
TEST_CALC = """\
from pkg.calc import add


def test_add():
    assert add(1, 2) == 3
"""
# Runs every test_* function of tests/test_calc.py (no pytest: fast and plugin-free).
RUNNER = """\
import importlib, os, sys
sys.path.insert(0, os.getcwd())
mod = importlib.import_module("tests.test_calc")
for name in dir(mod):
    if name.startswith("test_"):
        getattr(mod, name)()
"""


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "COVERAGE"))}


def measure(repo: GitRepo, *reports: str, branch: bool = False) -> None:
    """Run the repository's tests under coverage.py, writing ``.coverage`` at its root, plus
    each of ``reports`` ("xml", "lcov")."""
    runner = repo.root.parent / f"run_{repo.root.name}.py"
    runner.write_text(RUNNER)
    cmd = [
        sys.executable,
        "-m",
        "coverage",
        "run",
        "--rcfile=/dev/null",
        "--data-file=.coverage",
        *(["--branch"] if branch else []),
        str(runner),
    ]
    subprocess.run(cmd, cwd=repo.root, env=_env(), check=True, capture_output=True, timeout=120)
    for kind in reports:
        out = "coverage.xml" if kind == "xml" else "coverage.lcov"
        subprocess.run(
            [sys.executable, "-m", "coverage", kind, "--rcfile=/dev/null", "--data-file=.coverage", "-o", out],
            cwd=repo.root,
            env=_env(),
            check=True,
            capture_output=True,
            timeout=120,
        )


def review(repo: GitRepo, **target: object) -> tuple[AnalyzerRun, Changeset]:
    cs = load_changeset(repo.root, resolve_target(repo.root, **(target or {"working": True})))  # type: ignore[arg-type]
    [run] = run_analyzers(["test-gaps"], cs, cs.reviewable(), agent="yuki")
    return run, cs


@pytest.fixture
def project(make_git_repo: Callable[..., GitRepo]) -> GitRepo:
    repo = make_git_repo("proj")
    repo.write("pkg/__init__.py", "")
    repo.write("pkg/calc.py", CALC)
    repo.write("tests/__init__.py", "")
    repo.write("tests/test_calc.py", TEST_CALC)
    repo.write(".gitignore", ".coverage\ncoverage.xml\ncoverage.lcov\n")
    repo.commit("base")
    return repo


def test_change_to_a_covered_function_gives_no_finding(project: GitRepo) -> None:
    project.write("pkg/calc.py", CALC.replace("    total = a + b\n", "    total = b + a  # commutes\n"))
    measure(project, branch=True)
    run, cs = review(project)
    assert run.error is None
    assert run.findings == []
    summary = cs.memo[MEMO_KEY]
    assert isinstance(summary, CoverageSummary)
    assert (summary.source, summary.files, summary.percent) == (".coverage", {"pkg/calc.py": (1, 1)}, 100.0)


@pytest.mark.parametrize("fmt", ["coverage.py", "xml", "lcov"])
def test_change_to_an_uncovered_function_is_flagged_on_its_lines(project: GitRepo, fmt: str) -> None:
    project.write(
        "pkg/calc.py",
        CALC.replace(
            "    result = a - b\n", "    result = a - b\n    result = -(-result)\n\n    result += 0\n"
        ).replace("    total = a + b\n", "    total = b + a\n"),
    )
    measure(project, *([] if fmt == "coverage.py" else [fmt]))
    if fmt != "coverage.py":
        (project.root / ".coverage").unlink()  # the report alone
    run, cs = review(project)
    assert run.error is None
    assert [(f.rule, f.path, f.line, f.severity) for f in run.findings] == [
        ("test-gaps:uncovered", "pkg/calc.py", 13, Severity.LOW)
    ]
    [f] = run.findings
    assert "lines 13-15" in f.body  # 13, 15 uncovered; the blank line 14 does not split the range
    assert "1 of 3 (33%) in this file" in f.title + f.body or "1 of 3 (33%)" in f.body
    assert "(33% of 3 covered)" in f.title
    assert {"coverage.py": "`.coverage`", "xml": "`coverage.xml`", "lcov": "`coverage.lcov`"}[fmt] in f.body
    assert f.anchor_text == "    result = -(-result)"
    assert cs.memo[MEMO_KEY].files == {"pkg/calc.py": (1, 3)}


def test_the_name_check_is_not_used_for_measured_files(project: GitRepo) -> None:
    # A new public function that no test names, but the unchanged test of add() runs it.
    new = CALC.replace("    return total\n", "    return scale(total, 1)\n") + (
        '\n\ndef scale(x, k):\n    """Multiply."""\n    return x * k\n'
    )
    project.write("pkg/calc.py", new)
    run, _ = review(project)
    assert [(f.rule, f.line) for f in run.findings] == [("test-gaps:untested", 16)]  # no data: names
    measure(project)
    run, _ = review(project)
    assert run.findings == []


def test_a_new_function_that_never_ran_is_medium(project: GitRepo) -> None:
    project.write(
        "pkg/calc.py", CALC + '\n\ndef mul(a, b):\n    """Product."""\n    product = a * b\n    return product\n'
    )
    measure(project, "xml")
    run, _ = review(project)
    [f] = run.findings
    assert (f.rule, f.line, f.severity) == ("test-gaps:uncovered", 18, Severity.MEDIUM)
    assert "`mul` never ran under the tests" in f.body


def test_a_file_the_data_does_not_measure_is_left_to_the_name_check(project: GitRepo) -> None:
    measure(project)  # the data predates pkg/extra.py: nothing imports it
    project.write("pkg/extra.py", '"""Extra."""\n\n\ndef triple(a):\n    """Thrice."""\n    return 3 * a\n')
    run, cs = review(project)
    assert [(f.rule, f.path, f.line) for f in run.findings] == [("test-gaps:untested", "pkg/extra.py", 4)]
    assert "does not measure it" in run.findings[0].body
    assert cs.memo[MEMO_KEY].not_measured == ["pkg/extra.py"]


def test_data_older_than_the_change_is_not_used(project: GitRepo) -> None:
    measure(project)
    project.write("pkg/calc.py", "\n\n\n" + CALC.replace("    result = a - b\n", "    result = b - a\n"))
    later = time.time() + 5
    os.utime(project.root / "pkg/calc.py", (later, later))
    run, cs = review(project)
    assert [f.rule for f in run.findings] == []  # a changed body: the name check stays quiet
    assert "modified after `.coverage` was written" in cs.memo[MEMO_KEY].stale["pkg/calc.py"]


def test_measured_lines_that_are_not_code_mark_the_data_stale(project: GitRepo) -> None:
    """Data for an older version (three lines shorter at the top) whose file is not newer."""
    old = project.root / "pkg/calc.py"
    project.write("pkg/calc.py", "\n\n\n\n\n\n" + CALC.replace("    result = a - b\n", "    result = b - a\n"))
    data = CoverageData(basename=str(project.root / ".coverage"))
    data.add_lines({str(old): [1, 4, 6, 7, 10]})  # the lines of the old file that ran
    data.write()
    later = time.time() + 5
    os.utime(project.root / ".coverage", (later, later))
    run, cs = review(project)
    assert [f.rule for f in run.findings] == []
    assert "not code here" in cs.memo[MEMO_KEY].stale["pkg/calc.py"]


def test_range_review_uses_the_working_tree_data_of_the_checked_out_head(project: GitRepo) -> None:
    base = project.head()
    project.write("pkg/calc.py", CALC.replace("    result = a - b\n", "    result = a - b\n    result = -(-result)\n"))
    project.commit("change sub")
    measure(project)  # CI: check out the head, run the tests, review base..head
    run, _ = review(project, base=base)
    assert [(f.rule, f.line) for f in run.findings] == [("test-gaps:uncovered", 13)]
    # The working tree moved on: its copy is not the reviewed version, the data is not used.
    project.write("pkg/calc.py", CALC)
    run, cs = review(project, base=base)
    assert [f.rule for f in run.findings] == []
    assert "not the reviewed version" in cs.memo[MEMO_KEY].stale["pkg/calc.py"]


def test_range_review_reads_committed_data_from_the_head_commit(project: GitRepo) -> None:
    base = project.head()
    project.write("pkg/calc.py", CALC.replace("    result = a - b\n", "    result = a - b\n    result = -(-result)\n"))
    measure(project, "xml")
    (project.root / ".coverage").unlink()
    project.git("add", "-f", "coverage.xml", "pkg/calc.py")
    project.commit("with coverage", stage=False)
    (project.root / "coverage.xml").write_text("garbage")  # the working tree's copy is not read
    run, _ = review(project, base=base)
    assert run.error is None
    assert [(f.rule, f.line) for f in run.findings] == [("test-gaps:uncovered", 13)]


def test_ranges_join_across_non_code_lines_only() -> None:
    report = FileReport(
        "x.py", "measured", changed=[3, 4, 6, 8, 10], uncovered=[3, 4, 6, 10], executable={3, 4, 6, 8, 10}
    )
    assert report.ranges() == [(3, 6), (10, 10)]
    assert report.covered == 1 and int(report.percent) == 20


def test_measured_names_match_by_path_suffix(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    measured = [
        "/home/runner/work/x/x/src/pkg/mod.py",
        f"{root}/src/pkg/mod.py",
        "pkg/util.py",
        "/usr/lib/python3/site-packages/pkg/other.py",
        "C:\\ci\\src\\pkg\\win.py",
    ]
    assert match_paths(["src/pkg/mod.py", "pkg/util.py", "pkg/other.py", "src/pkg/win.py"], measured, root) == {
        "src/pkg/mod.py": f"{root}/src/pkg/mod.py",
        "pkg/util.py": "pkg/util.py",
        "src/pkg/win.py": "C:\\ci\\src\\pkg\\win.py",
    }
    # A root-level mod.py is another file than src/pkg/mod.py, which the tree also holds.
    assert match_paths(["mod.py"], measured, root, known=["src/pkg/mod.py"]) == {}
    assert match_paths(["mod.py"], ["/ci/checkout/mod.py"], root, known=["src/pkg/mod.py"]) == {
        "mod.py": "/ci/checkout/mod.py"
    }


def test_staged_and_nested_committed_reports_are_read(project: GitRepo) -> None:
    """A staged review reads the index's copy; a range review finds coverage/lcov.info."""
    project.write("pkg/calc.py", CALC.replace("    result = a - b\n", "    result = a - b\n    result = -(-result)\n"))
    lcov = (
        "SF:pkg/calc.py\n"
        + "".join(f"DA:{n},{int(n < 10)}\n" for n in (1, 4, 6, 7, 10, 12, 13, 14))
        + "end_of_record\n"
    )
    project.write("coverage/lcov.info", lcov)
    project.stage("pkg/calc.py", "coverage/lcov.info")
    project.write("coverage/lcov.info", "garbage: the working tree's copy is not the reviewed one")
    run, _ = review(project, staged=True)
    assert run.error is None
    assert [(f.rule, f.line) for f in run.findings] == [("test-gaps:uncovered", 13)]
    base = project.head()
    project.commit("with lcov", stage=False)
    run, _ = review(project, base=base)
    assert run.error is None
    assert [(f.rule, f.line) for f in run.findings] == [("test-gaps:uncovered", 13)]


def test_the_data_fingerprint_changes_when_the_tests_run_again(project: GitRepo) -> None:
    from tokyo_cli.analyzers.coverage_data import data_fingerprint

    cs = load_changeset(project.root, resolve_target(project.root, working=True))
    empty = data_fingerprint(cs)
    measure(project)
    first = data_fingerprint(cs)
    later = time.time() + 5
    os.utime(project.root / ".coverage", (later, later))
    assert len({empty, first, data_fingerprint(cs)}) == 3


def test_a_cached_review_notices_new_coverage_data(
    project: GitRepo, cli: Callable[..., tuple[int, str, str]], tmp_path: Path
) -> None:
    """The analyzer cache (on by default) keys test-gaps on the coverage data too: after the
    tests run again, a second review must not reuse the first one's findings."""
    project.write("pkg/calc.py", CALC.replace("    result = a - b\n", "    result = -(b - a)\n"))
    measure(project)
    code, out, err = cli(
        "review", str(project.root), "--offline", "-q", "--format", "json", "--db", str(tmp_path / "h.db")
    )
    assert '"test-gaps:uncovered"' in out, out
    # The same change, measured again by a run that also calls sub(): only the data differs.
    runner = project.root.parent / "run_both.py"
    runner.write_text(
        "import os, sys\nsys.path.insert(0, os.getcwd())\nfrom pkg.calc import add, sub\n"
        "assert add(1, 2) == 3 and sub(3, 1) == 2\n"
    )
    time.sleep(0.01)
    subprocess.run(
        [sys.executable, "-m", "coverage", "run", "--rcfile=/dev/null", "--data-file=.coverage", str(runner)],
        cwd=project.root,
        env=_env(),
        check=True,
        capture_output=True,
        timeout=120,
    )
    code, out, err = cli(
        "review", str(project.root), "--offline", "-q", "--format", "json", "--db", str(tmp_path / "h.db")
    )
    assert '"test-gaps:uncovered"' not in out, out


def test_the_report_gives_the_covered_share_of_the_change(
    project: GitRepo, cli: Callable[..., tuple[int, str, str]]
) -> None:
    """diff-cover's headline number, in the run's notices (terminal, Markdown, JSON)."""
    project.write(
        "pkg/calc.py",
        CALC.replace("    total = a + b\n", "    total = b + a\n").replace(
            "    result = a - b\n", "    result = -(b - a)\n"
        ),
    )
    measure(project)
    code, out, err = cli("review", str(project.root), "--offline", "-q", "--format", "json")
    notices = json.loads(out)["run"]["notices"]
    assert "coverage data (.coverage): 1 of 2 changed executable lines covered (50%)" in notices, notices
