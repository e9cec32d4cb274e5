"""Yuki's offline checks: changed code no changed test exercises, and tests made weaker.

Rules (``test-gaps:<check>``):

* ``untested`` — a public function, method or class in library code that the change adds
  (medium) or changes in its body (low), which no test *changed or added in this change*
  exercises. A test exercises it when a changed test function, fixture or module-level test
  line names it (a call, an attribute such as ``obj.method``, an import alias, or a string
  such as a CLI command name), or a changed test file imports it by name (``from pkg.mod
  import name``); a class also counts as exercised when a changed test imports its module
  and uses one of its public members (methods, properties, fields). Trivial code is exempt (one-line getters, ``pass``, properties, abstract
  methods, overloads), as are private names and code outside the library (tests, scripts,
  benchmarks, docs, examples).
* ``test-deleted`` — a test module deleted, or test functions removed from a test module
  whose test count went down (not when the code they tested was deleted too).
* ``skipped`` — a ``skip``/``xfail`` marker or call added to a test (medium without a
  reason, low with one; a whole-tree audit reports only those without a reason).
* ``assertions-removed`` — a test that keeps fewer assertions than before (high when none is
  left: the test can no longer fail).
* ``no-assertion`` — a new test with no assertion of any kind (low).

Assertions counted: ``assert`` statements, calls whose name starts with or contains
``assert`` (unittest, mock), ``pytest.raises``/``warns``/``fail``, and calls to helpers whose
name starts with ``check``/``verify``/``expect``.
"""

from __future__ import annotations

import ast
import re
import time
from dataclasses import dataclass, field
from pathlib import PurePosixPath

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
from tokyo_cli.findings import Finding, Severity
from tokyo_cli.repo import Changeset, FileChange

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

    def run(self, changeset: Changeset, files: list[FileChange], *, agent: str,
            timeout_s: float = 60) -> AnalyzerRun:
        """Analyze ``files`` (plus deleted test modules of the changeset); never raises."""
        start = time.monotonic()
        whole = whole_tree(changeset)
        findings: list[Finding] = []
        evidence = _collect_evidence(changeset, whole)
        removed_names = _removed_source_names(changeset)
        for change in files:
            if change.skipped is not None or not is_python(change.path):
                continue
            text = changeset.new_content(change.path)
            tree = parse_python(text) if text is not None else None
            if tree is None:
                continue
            if is_test_path(change.path):
                findings += _test_changes(changeset, change, tree, whole, removed_names, agent)
            elif is_library_python(change.path):
                findings += _untested(changeset, change, tree, evidence, whole, agent)
        if not whole:
            findings += _deleted_modules(changeset, agent)
        return AnalyzerRun(name=self.name, findings=findings, seconds=time.monotonic() - start)


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


# --- untested code ------------------------------------------------------------------------


def _untested(changeset: Changeset, change: FileChange, tree: ast.Module, ev: _TestEvidence,
              whole: bool, agent: str) -> list[Finding]:
    old_src = old_text(changeset, change)
    old_tree = parse_python(old_src) if old_src is not None else None
    old_names = {d.qualname for d in python_defs(old_tree)} if old_tree is not None else set()
    defs = [d for d in python_defs(tree) if d.public]
    reported_classes: set[str] = set()
    findings = []
    for d in defs:
        if d.trivial or any(d.qualname.startswith(c + ".") for c in reported_classes):
            continue
        is_new = whole or d.qualname not in old_names
        if d.kind == "class" and not is_new:
            continue  # a changed class is judged by its changed methods
        if is_new:
            line = anchor_line(change, d.line, d.line, whole=whole)
            if line is None:
                continue
        else:
            body_lines = _changed_body_lines(changeset, change, d)
            if not body_lines:
                continue
            line = anchor_line(change, d.line, d.last, whole=whole, prefer=d.line) or body_lines[0]
        if _exercised(d, ev, change.path, defs):
            continue
        if d.kind == "class":
            reported_classes.add(d.qualname)
        what = d.kind  # "function", "method" or "class"
        verb = "new" if is_new else "changed"
        body = (
            f"`{d.qualname}` is {'added' if is_new else 'changed'} here, but no test added or "
            f"changed in this change calls or imports it (by name or through `from ... import "
            f"{d.name}`). Add a test of its behaviour"
            + (" and its error paths." if is_new else " that would fail without this change.")
        )
        findings.append(make_finding(
            changeset, path=change.path, line=line,
            severity=Severity.MEDIUM if is_new else Severity.LOW,
            title=f"No test exercises the {verb} {what} `{d.qualname}`", body=body, agent=agent,
            rule="test-gaps:untested", category="tests", confidence=0.6 if is_new else 0.4,
        ))
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


def _test_changes(changeset: Changeset, change: FileChange, tree: ast.Module, whole: bool,
                  removed_names: set[str], agent: str) -> list[Finding]:
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
                findings.append(make_finding(
                    changeset, path=change.path, line=line, severity=Severity.LOW,
                    title=f"New test `{qualname}` asserts nothing",
                    body="The test has no assert, no `pytest.raises` and no assert-style call, so "
                         "it passes whatever the code does (only a crash fails it). Assert the "
                         "result or the side effect it is meant to check.",
                    agent=agent, rule="test-gaps:no-assertion", category="tests", confidence=0.5))
            continue
        old_count = _assertions(before.node)
        if count < old_count:
            line = _weakened_anchor(change, before) or anchor_line(change, d.first, d.last, whole=False)
            findings.append(make_finding(
                changeset, path=change.path, line=line,
                severity=Severity.HIGH if count == 0 else Severity.MEDIUM,
                title=f"Assertions removed from `{qualname}` ({old_count} → {count})",
                body=("The test no longer asserts anything, so it cannot fail. " if count == 0 else
                      "The test checks less than before. ")
                     + "If the checked behaviour changed, assert the new behaviour instead of "
                       "dropping the check.",
                agent=agent, rule="test-gaps:assertions-removed", category="tests", confidence=0.8))
    gone = [d for q, d in old_tests.items() if q not in new_tests]
    if gone and len(new_tests) < len(old_tests):
        for d in gone[: len(old_tests) - len(new_tests)]:
            if any(w in removed_names for w in _test_name_words(d.name)):
                continue
            findings.append(make_finding(
                changeset, path=change.path, line=removal_anchor(change, d.line),
                severity=Severity.MEDIUM, title=f"Test `{d.qualname}` removed",
                body="This change deletes the test and the module has fewer tests than before; "
                     "the behaviour it checked is no longer tested unless another test covers it.",
                agent=agent, rule="test-gaps:test-deleted", category="tests", confidence=0.7))
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
        reason = bool(_REASON.search(line[match.end() - 1:])) or match.group(0).startswith("@pytest.mark.skipif")
        if whole and reason:
            continue
        out.append(make_finding(
            changeset, path=change.path, line=n, severity=Severity.LOW if reason else Severity.MEDIUM,
            title="Test newly skipped" + ("" if reason else " without a reason")
            if "xfail" not in match.group(0) and "expectedFailure" not in match.group(0)
            else "Test newly marked as expected to fail" + ("" if reason else " without a reason"),
            body="A skipped or xfail test no longer guards the behaviour it checks, and "
                 "nothing reminds anyone to turn it back on. Fix the test or the code, or give "
                 "the reason and a tracking issue in `reason=`.",
            agent=agent, rule="test-gaps:skipped", category="tests", confidence=0.8))
    return out


def _deleted_modules(changeset: Changeset, agent: str) -> list[Finding]:
    deleted_stems = {PurePosixPath(f.path).stem for f in changeset.files
                     if f.status == "deleted" and not is_test_path(f.path)}
    out = []
    for f in changeset.files:
        if f.status != "deleted" or not (is_python(f.path) and is_test_path(f.path)):
            continue
        stem = PurePosixPath(f.path).stem.removeprefix("test_").removesuffix("_test")
        if stem in deleted_stems or PurePosixPath(f.path).name == "conftest.py":
            continue
        out.append(make_finding(
            changeset, path=f.path, line=None, severity=Severity.MEDIUM,
            title="Test module deleted",
            body=f"`{f.path}` is deleted while the code it tests stays; its checks are lost "
                 "unless they moved to another test module in this change.",
            agent=agent, rule="test-gaps:test-deleted", category="tests", confidence=0.6))
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
            name = (sub.func.attr if isinstance(sub.func, ast.Attribute)
                    else sub.func.id if isinstance(sub.func, ast.Name) else "")
            low = name.lower()
            if "assert" in low or low in ("raises", "warns", "fail") or low.startswith(_CHECK_PREFIXES):
                count += 1
    return count


def _weakened_anchor(change: FileChange, before: PyDef) -> int | None:
    for h in change.hunks:
        for ln in h.lines:
            if (ln.kind == "-" and ln.old_line is not None and before.first <= ln.old_line <= before.last
                    and _ASSERT_LINE.match(ln.text)):
                return removal_anchor(change, ln.old_line)
    return None
