"""Yuki's offline checks: changed code no test runs, and tests made weaker.

Where the verdict on untested code comes from, in order:

1. The repository's own coverage data, when it has some (``.coverage``, ``coverage.xml``,
   ``coverage.lcov``, ``lcov.info`` or ``coverage/lcov.info`` at the root; how it is found,
   read as hostile input and judged out of date: :mod:`tokyo_cli.analyzers.coverage_data`).
   A changed file the data measures is judged by it alone — the name check below is not
   used for it. Files the data does not measure, or measured an older version of, go to the
   name check, whose finding says why. Unreadable data (garbage, a symlink, over 50 MB) is
   one ``coverage-unreadable`` note and the name check runs.
2. Otherwise a name check: no test changed in this change names the new code.

Rules (``test-gaps:<check>``), with their severities:

* ``uncovered`` (low) — changed executable lines of a file (any language the data covers,
  except tests) that no test ran, diff-cover style: one finding per file, on its first
  uncovered changed line, listing the uncovered ranges with the file's and the change's
  share of covered changed lines (the numbers are also left in
  ``changeset.memo[coverage_data.MEMO_KEY]``, a :class:`~tokyo_cli.analyzers.coverage_data.
  CoverageSummary`, for a summary). Medium when a *new* public, non-trivial function or
  method has body statements and none of them ran: measured proof, not a guess, that the
  code the change adds is never exercised.
* ``untested`` (low) — a public function, method or class in library code that the change
  *adds* (changed bodies of existing code are not reported: their old tests may well cover
  them), in a project that has tests, when no test *changed or added in this change*
  exercises it. A test exercises it when a changed test function, fixture or module-level
  test line names it (a call, an attribute such as ``obj.method``, an import alias, or a
  string such as a CLI command name), or a changed test file imports it by name (``from
  pkg.mod import name``); a class also counts as exercised when a changed test imports its
  module and uses one of its public members (methods, properties, fields). The body names
  the test files it read. Trivial code is exempt (one-line getters, ``pass``, properties,
  abstract methods, overloads), as are private names and code outside the library (tests,
  scripts, benchmarks, docs, examples).
* ``no-tests`` (low) — one finding per change (per project in a monorepo), file-level on the
  first file concerned, when the change adds or changes public library code in a project
  whose reviewed tree has no test file at all (``test_*.py``, ``*_test.py``, or a module
  under ``tests/``/``test/``). A project is the deepest directory with a pyproject.toml,
  setup.py or setup.cfg (the root otherwise).
* ``coverage-unreadable`` (low) — the note, file-level on the data file, that the
  repository's coverage data exists but could not be used: "coverage data unreadable:
  NAME: reason" (a finding, not the run's ``error``, which would mark every file as not
  analyzed).
* ``test-deleted`` (medium) — a test module deleted, or test functions removed from a test
  module whose test count went down (not when the code they tested was deleted too).
* ``skipped`` — a ``skip``/``xfail`` marker or call added to a test (medium without a
  reason, low with one; a whole-tree audit reports only those without a reason).
* ``assertions-removed`` — a test that keeps fewer assertions than before (medium; high when
  none is left: the test can no longer fail).
* ``no-assertion`` — a new test with no assertion of any kind (low).

Assertions counted: ``assert`` statements, calls whose name starts with or contains
``assert`` (unittest, mock), ``pytest.raises``/``warns``/``fail``, and calls to helpers whose
name starts with ``check``/``verify``/``expect``.

Why (issue 14): flagging every changed public function that no changed test names gave 30 of
37 findings on 40 commits of a well-tested framework and 22 of 44 on a repository with no
tests; measured coverage replaces the guess where it exists, and the guess is kept to new
code in tested projects.
"""

from __future__ import annotations

import ast
import re
import time
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from tokyo_cli.analyzers import coverage_data
from tokyo_cli.analyzers.base import AnalyzerRun
from tokyo_cli.analyzers.common import (
    PyDef,
    anchor_line,
    is_library_python,
    is_python,
    is_test_path,
    make_finding,
    old_text,
    parse_python,
    python_defs,
    removal_anchor,
    whole_tree,
)
from tokyo_cli.analyzers.tree import TreeUnavailable, new_tree
from tokyo_cli.findings import Finding, Severity
from tokyo_cli.git.repo import Changeset, FileChange

_SKIP = re.compile(
    r"@pytest\.mark\.(skip|xfail)\b|\bpytest\.(skip|xfail)\(|@unittest\.(skip|expectedFailure)\b"
    r"|\bself\.skipTest\(|@pytest\.mark\.skipif\("
)
_REASON = re.compile(r"reason\s*=|\(\s*['\"]")
_ASSERT_LINE = re.compile(r"^\s*(assert\b|self\.assert|.*\.assert_|.*pytest\.raises)")
_CHECK_PREFIXES = ("check", "verify", "expect")


@dataclass
class _TestEvidence:
    """What the change's tests touch: names they mention and names they import."""

    names: set[str] = field(default_factory=set)
    imported: set[str] = field(default_factory=set)
    modules: set[str] = field(default_factory=set)  # dotted modules the changed tests import


class TestGapAnalyzer:
    """Untested changed code, deleted or skipped tests, and weakened assertions."""

    name = "test-gaps"
    __test__ = False  # not a pytest class, despite the name

    @staticmethod
    def parses(path: str) -> bool:
        """The files whose new version it parses (and shares, common.parse_ast): Python."""
        return is_python(path)

    def run(self, changeset: Changeset, files: list[FileChange], *, agent: str, timeout_s: float = 60) -> AnalyzerRun:
        """Analyze ``files`` (plus deleted test modules of the changeset); never raises for
        bad coverage data (a ``test-gaps:coverage-unreadable`` finding says why)."""
        start = time.monotonic()
        whole = whole_tree(changeset)
        findings: list[Finding] = []
        coverage = _check_coverage(changeset, files, agent, timeout_s)
        findings += coverage.findings
        evidence = _collect_evidence(changeset, whole)
        removed_names = _removed_source_names(changeset)
        layout = _Layout(changeset, timeout_s)
        looked = _looked_at(changeset, whole)
        no_tests: dict[str, list[tuple[str, int]]] = {}
        for change in files:
            if change.skipped is not None or not is_python(change.path):
                continue
            if change.path in coverage.measured:
                continue
            text = changeset.new_content(change.path)
            tree = parse_python(text, path=change.path) if text is not None else None
            if tree is None:
                continue
            if is_test_path(change.path):
                findings += _test_changes(changeset, change, tree, whole, removed_names, agent)
            elif is_library_python(change.path):
                defs, new, changed = _definitions(changeset, change, tree, whole)
                if not (new or changed):
                    continue
                project = layout.project_of(change.path)
                if not layout.has_tests(project):
                    no_tests.setdefault(project, []).append((change.path, len(new) + changed))
                    continue
                note = coverage.notes.get(change.path, coverage.default_note)
                findings += _untested(changeset, change, defs, new, evidence, looked, note, agent)
        findings += [_no_tests(changeset, project, counts, agent) for project, counts in no_tests.items()]
        if not whole:
            findings += _deleted_modules(changeset, agent)
        return AnalyzerRun(
            name=self.name, findings=findings, seconds=time.monotonic() - start, notes=_coverage_notes(coverage.summary)
        )


# --- coverage data ---------------------------------------------------------------------------


@dataclass
class _CoverageOutcome:
    """The coverage check's findings, the files it settled (``measured``: the name check
    leaves them alone), and why it said nothing about others (``notes``, for the name
    check's findings)."""

    findings: list[Finding] = field(default_factory=list)
    measured: set[str] = field(default_factory=set)
    notes: dict[str, str] = field(default_factory=dict)
    default_note: str = ""
    summary: coverage_data.CoverageSummary | None = None


def _coverage_notes(summary: coverage_data.CoverageSummary | None) -> list[str]:
    """The run notice with the change's measured coverage (diff-cover's headline number):
    ``"coverage data (coverage.xml): 41 of 50 changed executable lines covered (82%); 1 file
    not measured"``; ``[]`` without usable data."""
    if summary is None or summary.percent is None:
        return []
    text = (
        f"coverage data ({summary.source}): {summary.covered} of {summary.changed} changed executable "
        f"line{'s' if summary.changed != 1 else ''} covered ({summary.percent:.0f}%)"
    )
    left = len(summary.not_measured) + len(summary.stale)
    if left:
        text += f"; {left} changed file{'s' if left != 1 else ''} not measured or out of date (name check used)"
    return [text]


def _check_coverage(changeset: Changeset, files: list[FileChange], agent: str, timeout_s: float) -> _CoverageOutcome:
    """``test-gaps:uncovered`` from the repository's coverage data, one finding per file with
    uncovered changed lines (see :mod:`tokyo_cli.analyzers.coverage_data`)."""
    candidates = [
        c for c in files if c.skipped is None and c.status != "deleted" and c.added_lines and not is_test_path(c.path)
    ]
    if not candidates:
        return _CoverageOutcome()
    loaded = coverage_data.load(changeset, [c.path for c in candidates], timeout_s=min(timeout_s / 2, 30))
    source = loaded.source
    if source is None:
        if loaded.problems:
            return _CoverageOutcome(
                findings=[_unreadable(changeset, loaded.problems, agent)],
                default_note="The coverage data could not be read, so this is a name check. ",
            )
        return _CoverageOutcome(
            default_note=(
                "No coverage data was found ("
                + ", ".join(f"`{n}`" for n in coverage_data.CANDIDATES)
                + " at the repository root), so this is a name check. "
            )
        )
    out = _CoverageOutcome()
    summary = coverage_data.CoverageSummary(source.path, source.kind)
    reports = []
    for change in candidates:
        report = coverage_data.assess(changeset, change, source)
        if report is None:
            continue
        if report.status == "measured":
            out.measured.add(change.path)
            summary.files[change.path] = (report.covered, len(report.changed))
            reports.append((change, report))
        else:
            out.notes[change.path] = f"The coverage data was not used for this file: {report.reason}. "
            if report.status == "stale":
                summary.stale[change.path] = report.reason
            else:
                summary.not_measured.append(change.path)
    changeset.memo[coverage_data.MEMO_KEY] = summary
    out.summary = summary
    for change, report in reports:
        if report.uncovered:
            out.findings.append(_uncovered(changeset, change, report, source, summary, agent))
    return out


def _unreadable(changeset: Changeset, problems: list[str], agent: str) -> Finding:
    """The note that the repository's coverage data exists but could not be used: a low,
    file-level finding on the first such file. (Not the run's ``error``: that would report
    every file as not analyzed, and the name check did analyze them.)"""
    name = problems[0].split(":", 1)[0]
    text = "coverage data unreadable: " + "; ".join(problems)
    return make_finding(
        changeset,
        path=name,
        line=None,
        severity=Severity.LOW,
        title=text[0].upper() + text[1:],
        body=(
            f"{text}. Yuki judged this change with the name check instead (new public code "
            "that no changed test names). Run the tests again to regenerate the file, or "
            "remove it."
        ),
        agent=agent,
        rule="test-gaps:coverage-unreadable",
        category="tests",
        confidence=1.0,
    )


def _uncovered(
    changeset: Changeset,
    change: FileChange,
    report: coverage_data.FileReport,
    source: coverage_data.CoverageSource,
    summary: coverage_data.CoverageSummary,
    agent: str,
) -> Finding:
    missing = len(report.uncovered)
    n = len(report.changed)
    idle = _idle_new_functions(changeset, change, report)
    body = (
        f"No test ran line{'s' if missing > 1 else ''} {coverage_data.format_ranges(report.ranges())} "
        f"of this change, according to the coverage data (`{source.path}`, {source.kind}). "
        f"Changed executable lines covered: {report.covered} of {n} ({_pct(report.covered, n)}) "
        f"in this file, {summary.covered} of {summary.changed} ({_pct(summary.covered, summary.changed)}) "
        "in the change so far. "
    )
    if idle:
        body += (
            f"The new public function{'s' if len(idle) > 1 else ''} "
            + ", ".join(f"`{q}`" for q in idle)
            + " never ran under the tests. "
        )
    body += "Add a test that runs them, or run the tests again if the data predates this change."
    return make_finding(
        changeset,
        path=change.path,
        line=report.uncovered[0],
        severity=Severity.MEDIUM if idle else Severity.LOW,
        title=f"{missing} changed line{'s' if missing > 1 else ''} not covered by tests "
        f"({_pct(report.covered, n)} of {n} covered)",
        body=body,
        agent=agent,
        rule="test-gaps:uncovered",
        category="tests",
        confidence=0.8,
    )


def _idle_new_functions(changeset: Changeset, change: FileChange, report: coverage_data.FileReport) -> list[str]:
    """New public, non-trivial functions and methods whose body has statements none of
    which ran (the ``def`` line itself runs on import and does not count)."""
    if whole_tree(changeset) or not is_library_python(change.path):
        return []
    text = changeset.new_content(change.path)
    tree = parse_python(text) if text is not None else None
    if tree is None:
        return []
    _, new, _ = _definitions(changeset, change, tree, False)
    idle = []
    for d, _line in new:
        if d.kind == "class":
            continue
        body = {k for k in report.executable if d.header_end < k <= d.last}
        if body and not body & report.executed:
            idle.append(d.qualname)
    return idle


def _pct(part: int, whole: int) -> str:
    """Whole percent, rounded down (99.6% of lines covered is not "100%")."""
    return f"{100 * part // whole}%" if whole else "100%"


# --- which projects have tests --------------------------------------------------------------

_PROJECT_FILES = ("pyproject.toml", "setup.py", "setup.cfg")


class _Layout:
    """Projects of the reviewed tree (a directory with a pyproject.toml, setup.py or
    setup.cfg; the root otherwise) and whether each has a test file (``test_*.py``,
    ``*_test.py``, or a module under ``tests/``/``test/`` other than ``__init__.py`` and
    ``conftest.py``). Listed once, on first use; when git cannot list the tree every
    project counts as tested (the name check runs as before)."""

    def __init__(self, changeset: Changeset, timeout_s: float) -> None:
        self.changeset, self.timeout_s = changeset, timeout_s
        self._projects: list[str] | None = None
        self._tests: list[str] | None = None

    def _load(self) -> None:
        if self._projects is not None:
            return
        try:
            paths = new_tree(self.changeset, self.timeout_s).paths()
        except TreeUnavailable:
            self._projects, self._tests = [""], None
            return
        projects = {str(PurePosixPath(p).parent) for p in paths if PurePosixPath(p).name in _PROJECT_FILES}
        self._projects = sorted({"" if p == "." else p for p in projects} | {""}, key=len, reverse=True)
        self._tests = [
            p
            for p in paths
            if is_python(p) and is_test_path(p) and PurePosixPath(p).name not in ("__init__.py", "conftest.py")
        ]

    def project_of(self, path: str) -> str:
        """The deepest project directory holding ``path`` ("" for the root)."""
        self._load()
        return next(p for p in self._projects or [""] if p == "" or path.startswith(p + "/"))

    def has_tests(self, project: str) -> bool:
        self._load()
        if self._tests is None:
            return True
        return any(project == "" or t.startswith(project + "/") for t in self._tests)


def _looked_at(changeset: Changeset, whole: bool) -> str:
    """The sentence naming the test files the name check read."""
    tests = [
        c.path for c in changeset.reviewable() if c.status != "deleted" and is_python(c.path) and is_test_path(c.path)
    ]
    if not tests:
        return "No test file is changed in this change."
    shown = ", ".join(f"`{t}`" for t in tests[:5]) + (f" and {len(tests) - 5} more" if len(tests) > 5 else "")
    what = "reviewed" if whole else "changed in this change"
    return f"Looked at the {len(tests)} test file{'s' if len(tests) > 1 else ''} {what}: {shown}."


def _no_tests(changeset: Changeset, project: str, counts: list[tuple[str, int]], agent: str) -> Finding:
    """One ``test-gaps:no-tests`` finding for a project without any test file."""
    where = f"`{project}/`" if project else "this repository"
    total = sum(n for _, n in counts)
    files = ", ".join(f"`{p}`" for p, _ in counts[:5]) + (f" and {len(counts) - 5} more" if len(counts) > 5 else "")
    return make_finding(
        changeset,
        path=counts[0][0],
        line=None,
        severity=Severity.LOW,
        # The title carries no count: the fingerprint must not change when a push adds a function.
        title=f"No tests in {where} for the public definitions this change adds or changes",
        body=(
            f"The reviewed tree has no test file in {where} (looked for `test_*.py`, `*_test.py` "
            f"and modules under `tests/` or `test/`), so nothing checks the {total} public "
            f"function{'s' if total > 1 else ''} and classes this change adds or changes in {files}. "
            "Start a test suite with the behaviour this change relies on."
        ),
        agent=agent,
        rule="test-gaps:no-tests",
        category="tests",
        confidence=0.7,
    )


# --- what the tests in the change exercise ------------------------------------------------


def _collect_evidence(changeset: Changeset, whole: bool) -> _TestEvidence:
    ev = _TestEvidence()
    for change in changeset.reviewable():
        if not (is_python(change.path) and is_test_path(change.path)):
            continue
        text = changeset.new_content(change.path)
        tree = parse_python(text) if text is not None else None
        if tree is None:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                ev.modules.add(node.module)
                ev.modules.update(f"{node.module}.{a.name}" for a in node.names)
            elif isinstance(node, ast.Import):
                ev.modules.update(a.name for a in node.names)
        for node in tree.body:
            if isinstance(node, ast.ImportFrom):
                ev.imported.update(a.asname or a.name for a in node.names)
            first, last = _span(node)
            if not _scope_changed(node, change, first, last, whole):
                continue
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name):
                    ev.names.add(sub.id)
                elif isinstance(sub, ast.Attribute):
                    ev.names.add(sub.attr)
                elif isinstance(sub, ast.alias):
                    ev.names.add((sub.asname or sub.name).split(".")[-1])
                elif isinstance(sub, ast.Constant) and isinstance(sub.value, str) and len(sub.value) < 80:
                    ev.names.update(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", sub.value.replace("-", "_")))
                elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    ev.names.update(_test_name_words(sub.name))
    return ev


def _scope_changed(node: ast.stmt, change: FileChange, first: int, last: int, whole: bool) -> bool:
    if whole or change.status == "added":
        return True
    return any(first <= n <= last for n in change.added_lines)  # a function or a whole test class


def _test_name_words(name: str) -> set[str]:
    """``test_parse_config_ok`` names ``parse_config`` (and each word), for name matching."""
    stem = name.removeprefix("test_").removeprefix("test")
    words = [w for w in stem.split("_") if w]
    out = set(words)
    for i in range(len(words)):
        for j in range(i + 2, len(words) + 1):
            out.add("_".join(words[i:j]))
    return out


def _span(node: ast.stmt) -> tuple[int, int]:
    decorators = getattr(node, "decorator_list", [])
    first = min([node.lineno, *(d.lineno for d in decorators)])
    return first, node.end_lineno or node.lineno


# --- untested code: the name check -------------------------------------------------------


def _definitions(
    changeset: Changeset, change: FileChange, tree: ast.Module, whole: bool
) -> tuple[list[PyDef], list[tuple[PyDef, int]], int]:
    """The file's public definitions, the non-trivial ones this change *adds* with their
    anchor line, and how many existing non-trivial public functions it changes in their
    body (for the no-tests count)."""
    old_src = old_text(changeset, change)
    old_tree = parse_python(old_src) if old_src is not None else None
    old_names = {d.qualname for d in python_defs(old_tree)} if old_tree is not None else set()
    defs = [d for d in python_defs(tree) if d.public]
    new: list[tuple[PyDef, int]] = []
    changed = 0
    for d in defs:
        if d.trivial:
            continue
        if whole or d.qualname not in old_names:
            line = anchor_line(change, d.line, d.line, whole=whole)
            if line is not None:
                new.append((d, line))
        elif d.kind != "class" and _changed_body_lines(changeset, change, d):
            changed += 1
    return defs, new, changed


def _untested(
    changeset: Changeset,
    change: FileChange,
    defs: list[PyDef],
    new: list[tuple[PyDef, int]],
    ev: _TestEvidence,
    looked: str,
    note: str,
    agent: str,
) -> list[Finding]:
    """``test-gaps:untested`` for each definition of ``new`` no changed test names (a new
    class once, not again for its methods)."""
    reported_classes: set[str] = set()
    findings = []
    for d, line in new:
        if any(d.qualname.startswith(c + ".") for c in reported_classes):
            continue
        if _exercised(d, ev, change.path, defs):
            continue
        if d.kind == "class":
            reported_classes.add(d.qualname)
        body = (
            f"`{d.qualname}` is new in this change, and no test changed in it calls or imports "
            f"it by name (a call, an attribute, or `from ... import {d.name}`). {looked} {note}"
            "Add a test of its behaviour and its error paths."
        )
        findings.append(
            make_finding(
                changeset,
                path=change.path,
                line=line,
                severity=Severity.LOW,
                title=f"No test exercises the new {d.kind} `{d.qualname}`",
                body=body,
                agent=agent,
                rule="test-gaps:untested",
                category="tests",
                confidence=0.5,
            )
        )
    return findings


def _changed_body_lines(changeset: Changeset, change: FileChange, d: PyDef) -> list[int]:
    """Added lines of ``d`` that are code (not blank, not a comment, not its docstring)."""
    doc_end = d.header_end
    node = d.node
    if d.has_docstring and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        doc_end = node.body[0].end_lineno or doc_end
    out = []
    for n in sorted(change.added_lines):
        if d.first <= n <= d.last and not (d.header_end < n <= doc_end):
            text = changeset.line_text(change.path, n).strip()
            if text and not text.startswith("#"):
                out.append(n)
    return out


def _exercised(d: PyDef, ev: _TestEvidence, path: str, defs: list[PyDef]) -> bool:
    """Name-based: a changed test names it. Import-based, for a class: a changed test imports
    its module and uses one of its public members (``order.move(...)`` on an object that a
    function of the module returned)."""
    if d.name in ev.names or d.name in ev.imported:
        return True
    if d.kind != "class" or not (_module_names(path) & ev.modules):
        return False
    members = {m.name for m in defs if m.qualname.startswith(d.qualname + ".")}
    node = d.node
    if isinstance(node, ast.ClassDef):
        members |= {s.target.id for s in node.body if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)}
    return bool({m for m in members if not m.startswith("_")} & ev.names)


def _module_names(path: str) -> set[str]:
    """Every dotted name ``path`` may be imported as: ``src/shop/orders.py`` -> shop.orders,
    src.shop.orders, orders (a package's ``__init__.py`` is the package)."""
    parts = list(PurePosixPath(path).with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return {".".join(parts[i:]) for i in range(len(parts))}


# --- changes to tests themselves ----------------------------------------------------------


def _test_changes(
    changeset: Changeset, change: FileChange, tree: ast.Module, whole: bool, removed_names: set[str], agent: str
) -> list[Finding]:
    findings = _skips(changeset, change, whole, agent)
    new_tests = {d.qualname: d for d in python_defs(tree) if _is_test(d)}
    old_src = old_text(changeset, change)
    old_tree = parse_python(old_src) if old_src is not None else None
    old_tests = {d.qualname: d for d in python_defs(old_tree) if _is_test(d)} if old_tree else {}
    for qualname, d in new_tests.items():
        count = _assertions(d.node)
        before = old_tests.get(qualname)
        if before is None:
            line = anchor_line(change, d.line, d.line, whole=whole)
            if count == 0 and line is not None and not whole:
                findings.append(
                    make_finding(
                        changeset,
                        path=change.path,
                        line=line,
                        severity=Severity.LOW,
                        title=f"New test `{qualname}` asserts nothing",
                        body="The test has no assert, no `pytest.raises` and no assert-style call, so "
                        "it passes whatever the code does (only a crash fails it). Assert the "
                        "result or the side effect it is meant to check.",
                        agent=agent,
                        rule="test-gaps:no-assertion",
                        category="tests",
                        confidence=0.5,
                    )
                )
            continue
        old_count = _assertions(before.node)
        if count < old_count:
            line = _weakened_anchor(change, before) or anchor_line(change, d.first, d.last, whole=False)
            findings.append(
                make_finding(
                    changeset,
                    path=change.path,
                    line=line,
                    severity=Severity.HIGH if count == 0 else Severity.MEDIUM,
                    title=f"Assertions removed from `{qualname}` ({old_count} → {count})",
                    body=(
                        "The test no longer asserts anything, so it cannot fail. "
                        if count == 0
                        else "The test checks less than before. "
                    )
                    + "If the checked behaviour changed, assert the new behaviour instead of "
                    "dropping the check.",
                    agent=agent,
                    rule="test-gaps:assertions-removed",
                    category="tests",
                    confidence=0.8,
                )
            )
    gone = [d for q, d in old_tests.items() if q not in new_tests]
    if gone and len(new_tests) < len(old_tests):
        for d in gone[: len(old_tests) - len(new_tests)]:
            if any(w in removed_names for w in _test_name_words(d.name)):
                continue
            findings.append(
                make_finding(
                    changeset,
                    path=change.path,
                    line=removal_anchor(change, d.line),
                    severity=Severity.MEDIUM,
                    title=f"Test `{d.qualname}` removed",
                    body="This change deletes the test and the module has fewer tests than before; "
                    "the behaviour it checked is no longer tested unless another test covers it.",
                    agent=agent,
                    rule="test-gaps:test-deleted",
                    category="tests",
                    confidence=0.7,
                )
            )
    return findings


def _skips(changeset: Changeset, change: FileChange, whole: bool, agent: str) -> list[Finding]:
    removed = {ln.text.strip() for h in change.hunks for ln in h.lines if ln.kind == "-"}
    text = changeset.new_content(change.path) or ""
    lines = sorted(change.added_lines) if not whole else range(1, text.count("\n") + 2)
    out = []
    for n in lines:
        line = changeset.line_text(change.path, n)
        match = _SKIP.search(line)
        if not match or line.strip() in removed or line.lstrip().startswith("#"):
            continue
        call = _call_text(changeset, change.path, n, line, match.end() - (match.group(0).endswith("(")))
        reason = bool(_REASON.search(call)) or match.group(0).startswith("@pytest.mark.skipif")
        if whole and reason:
            continue
        out.append(
            make_finding(
                changeset,
                path=change.path,
                line=n,
                severity=Severity.LOW if reason else Severity.MEDIUM,
                title="Test newly skipped" + ("" if reason else " without a reason")
                if "xfail" not in match.group(0) and "expectedFailure" not in match.group(0)
                else "Test newly marked as expected to fail" + ("" if reason else " without a reason"),
                body="A skipped or xfail test no longer guards the behaviour it checks, and "
                "nothing reminds anyone to turn it back on. Fix the test or the code, or give "
                "the reason and a tracking issue in `reason=`.",
                agent=agent,
                rule="test-gaps:skipped",
                category="tests",
                confidence=0.8,
            )
        )
    return out


def _call_text(changeset: Changeset, path: str, n: int, line: str, start: int, max_lines: int = 10) -> str:
    """The marker's text from ``line[start:]`` (its opening parenthesis, if any) to the
    matching close, over at most ``max_lines`` lines: a ``reason=`` on a later line of
    ``@pytest.mark.xfail(\n    COND, reason="..."\n)`` counts."""
    text = line[start:]
    if not text.startswith("("):
        return text
    depth, out = 0, []
    for i in range(max_lines):
        chunk = text if i == 0 else changeset.line_text(path, n + i)
        out.append(chunk)
        depth += chunk.count("(") - chunk.count(")")
        if depth <= 0:
            break
    return "\n".join(out)


def _deleted_modules(changeset: Changeset, agent: str) -> list[Finding]:
    deleted_stems = {
        PurePosixPath(f.path).stem for f in changeset.files if f.status == "deleted" and not is_test_path(f.path)
    }
    out = []
    for f in changeset.files:
        if f.status != "deleted" or not (is_python(f.path) and is_test_path(f.path)):
            continue
        stem = PurePosixPath(f.path).stem.removeprefix("test_").removesuffix("_test")
        if stem in deleted_stems or PurePosixPath(f.path).name == "conftest.py":
            continue
        out.append(
            make_finding(
                changeset,
                path=f.path,
                line=None,
                severity=Severity.MEDIUM,
                title="Test module deleted",
                body=f"`{f.path}` is deleted while the code it tests stays; its checks are lost "
                "unless they moved to another test module in this change.",
                agent=agent,
                rule="test-gaps:test-deleted",
                category="tests",
                confidence=0.6,
            )
        )
    return out


def _removed_source_names(changeset: Changeset) -> set[str]:
    """Names of definitions the change removes from library code (their tests may go too)."""
    out: set[str] = set()
    for change in changeset.files:
        if not is_python(change.path) or is_test_path(change.path):
            continue
        for h in change.hunks:
            for ln in h.lines:
                m = re.match(r"\s*(?:async\s+)?(?:def|class)\s+([A-Za-z_]\w*)", ln.text)
                if ln.kind == "-" and m:
                    out.add(m.group(1))
    return out


def _is_test(d: PyDef) -> bool:
    return d.kind in ("function", "method") and d.name.startswith("test")


def _assertions(node: ast.AST | None) -> int:
    count = 0
    for sub in ast.walk(node) if node is not None else ():
        if isinstance(sub, ast.Assert):
            count += 1
        elif isinstance(sub, ast.Call):
            name = (
                sub.func.attr
                if isinstance(sub.func, ast.Attribute)
                else sub.func.id
                if isinstance(sub.func, ast.Name)
                else ""
            )
            low = name.lower()
            if "assert" in low or low in ("raises", "warns", "fail") or low.startswith(_CHECK_PREFIXES):
                count += 1
    return count


def _weakened_anchor(change: FileChange, before: PyDef) -> int | None:
    for h in change.hunks:
        for ln in h.lines:
            if (
                ln.kind == "-"
                and ln.old_line is not None
                and before.first <= ln.old_line <= before.last
                and _ASSERT_LINE.match(ln.text)
            ):
                return removal_anchor(change, ln.old_line)
    return None
