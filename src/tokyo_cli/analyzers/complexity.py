"""Cyclomatic complexity crossing a threshold in the change, measured by radon (rule
``radon:CC``).

radon ranks a function's cyclomatic complexity A (1-5), B (6-10), C (11-20), D (21-30),
E (31-40), F (41+) (``radon.complexity.cc_rank``). A function or method the change touches is
a finding when it is rank C or worse and the change made it so: it is new, or its rank
before the change was better. A function that was already rank C and stays rank C is old
debt, not this change's. Severity: C low, D and worse medium. Test modules are skipped.
"""

from __future__ import annotations

import itertools
import re
import time
from typing import Any

from tokyo_cli.analyzers.base import AnalyzerRun
from tokyo_cli.analyzers.common import (
    anchor_line,
    changed_texts,
    is_python,
    is_test_path,
    make_finding,
    note_not_analyzed,
    old_text,
    parse_ast,
    unparsable_reason,
    whole_tree,
)
from tokyo_cli.findings import Finding, Severity
from tokyo_cli.git.repo import Changeset, FileChange

THRESHOLD = 10  # radon rank B's upper bound (and McCabe's original advice)


# Every decision point radon's ComplexityVisitor counts is one keyword token of the source:
# if/elif (and conditional expressions), for/while (+1 for their else), except (+1 for a
# try's else), each and/or of a boolean operation, a comprehension's for and if, a match's
# case, assert. A function's complexity is 1 plus those in its body, so a module holding
# fewer than THRESHOLD such words (in code, strings or comments alike) has no function above
# THRESHOLD. The look-behind lets a digit precede a keyword (`1if x else 2` parses).
_DECISION_WORD = re.compile(r"(?<![A-Za-z_])(?:if|elif|for|while|else|except|and|or|case|assert)(?![A-Za-z0-9_])")


def may_exceed(source: str, threshold: int) -> bool:
    """False when no function of ``source`` can have a radon complexity above ``threshold``
    (fewer than ``threshold`` decision keywords in the whole text; see ``_DECISION_WORD``).
    Non-ASCII text is always True: Python normalizes identifiers (NFKC), which a text
    search would not follow."""
    if not source.isascii():
        return True
    return next(itertools.islice(_DECISION_WORD.finditer(source), threshold - 1, None), None) is not None


def complexities(source: str, *, path: str | None = None, threshold: int | None = None) -> dict[str, Any]:
    """radon's blocks for ``source`` keyed by full name (``Class.method``, ``function``);
    functions and methods only. ``{}`` when the code does not parse; ``path`` (the file's
    new version) is then recorded as not analyzed, with the reason. With ``threshold``,
    also ``{}`` when no function can exceed it (:func:`may_exceed`): the source is parsed
    (so a file that does not parse is still recorded) but radon does not walk it.

    Raises:
        ImportError: radon is not installed.
    """
    from radon.complexity import add_inner_blocks, cc_visit_ast  # type: ignore[import-untyped]

    try:
        tree = parse_ast(source, path=path)  # radon's own parse is ast.parse, under AST_LOCK here
    except (SyntaxError, ValueError) as exc:
        if path is not None:
            note_not_analyzed(path, unparsable_reason(exc))
        return {}
    if threshold is not None and not may_exceed(source, threshold):
        return {}
    return {b.fullname: b for b in add_inner_blocks(cc_visit_ast(tree)) if hasattr(b, "is_method")}


class ComplexityAnalyzer:
    """radon cyclomatic complexity of the functions the change touches."""

    name = "complexity"

    @staticmethod
    def accepts(path: str) -> bool:
        """The files it measures: Python code outside tests."""
        return is_python(path) and not is_test_path(path)

    parses = accepts  # the files whose new version it parses (and shares, common.parse_ast)

    def run(self, changeset: Changeset, files: list[FileChange], *, agent: str, timeout_s: float = 60) -> AnalyzerRun:
        """Measure the Python files among ``files``; a missing radon goes to ``error``."""
        start = time.monotonic()
        whole = whole_tree(changeset)
        findings: list[Finding] = []
        try:
            from radon.complexity import cc_rank

            for change, text in changed_texts(changeset, files, self.accepts):
                new = complexities(text, path=change.path, threshold=THRESHOLD)
                old: dict[str, Any] | None = None  # the old version, parsed only when needed
                for name, block in new.items():
                    rank = cc_rank(block.complexity)
                    if block.complexity <= THRESHOLD:
                        continue
                    if old is None:
                        old_src = old_text(changeset, change)
                        old = complexities(old_src) if old_src is not None else {}
                    before = old.get(name)
                    if before is not None and cc_rank(before.complexity) >= rank:
                        continue
                    line = anchor_line(change, block.lineno, block.endline, whole=whole, prefer=block.lineno)
                    if line is None:
                        continue
                    findings.append(
                        _finding(
                            changeset,
                            change,
                            line,
                            name,
                            block.complexity,
                            rank,
                            before.complexity if before is not None else None,
                            agent,
                        )
                    )
        except ImportError as exc:
            return AnalyzerRun(name=self.name, error=f"complexity unavailable: radon: {exc}")
        return AnalyzerRun(name=self.name, findings=findings, seconds=time.monotonic() - start)


def _finding(
    changeset: Changeset, change: FileChange, line: int, name: str, cc: int, rank: str, old: int | None, agent: str
) -> Finding:
    was = f" (was {old})" if old is not None else ""
    return make_finding(
        changeset,
        path=change.path,
        line=line,
        severity=Severity.LOW if rank == "C" else Severity.MEDIUM,
        title=f"`{name}` has cyclomatic complexity {cc}{was}, rank {rank} (threshold {THRESHOLD})",
        body=f"radon counts {cc} independent paths through `{name}`; above {THRESHOLD} a function "
        "is hard to test fully and easy to break. Split out the branches into named helpers "
        "or a lookup table.",
        agent=agent,
        rule="radon:CC",
        category="architecture",
        confidence=0.9,
    )
