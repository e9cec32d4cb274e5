"""Cyclomatic complexity crossing a threshold in the change, measured by radon (rule
``radon:CC``).

radon ranks a function's cyclomatic complexity A (1-5), B (6-10), C (11-20), D (21-30),
E (31-40), F (41+) (``radon.complexity.cc_rank``). A function or method the change touches is
a finding when it is rank C or worse and the change made it so: it is new, or its rank
before the change was better. A function that was already rank C and stays rank C is old
debt, not this change's. Severity: C low, D and worse medium. Test modules are skipped.
"""

from __future__ import annotations

import time
from typing import Any

from tokyo_cli.analyzers.base import AnalyzerRun
from tokyo_cli.analyzers.common import (
    AST_LOCK,
    anchor_line,
    changed_texts,
    is_python,
    is_test_path,
    make_finding,
    note_not_analyzed,
    old_text,
    unparsable_reason,
    whole_tree,
)
from tokyo_cli.findings import Finding, Severity
from tokyo_cli.git.repo import Changeset, FileChange

THRESHOLD = 10  # radon rank B's upper bound (and McCabe's original advice)


def complexities(source: str, *, path: str | None = None) -> dict[str, Any]:
    """radon's blocks for ``source`` keyed by full name (``Class.method``, ``function``);
    functions and methods only. ``{}`` when the code does not parse; ``path`` (the file's
    new version) is then recorded as not analyzed, with the reason.

    Raises:
        ImportError: radon is not installed.
    """
    from radon.complexity import add_inner_blocks, cc_visit  # type: ignore[import-untyped]

    try:
        with AST_LOCK:  # radon parses with ast (see common.AST_LOCK)
            blocks = add_inner_blocks(cc_visit(source))
    except (SyntaxError, ValueError) as exc:
        if path is not None:
            note_not_analyzed(path, unparsable_reason(exc))
        return {}
    return {b.fullname: b for b in blocks if hasattr(b, "is_method")}


class ComplexityAnalyzer:
    """radon cyclomatic complexity of the functions the change touches."""

    name = "complexity"

    @staticmethod
    def accepts(path: str) -> bool:
        """The files it measures: Python code outside tests."""
        return is_python(path) and not is_test_path(path)

    def run(self, changeset: Changeset, files: list[FileChange], *, agent: str, timeout_s: float = 60) -> AnalyzerRun:
        """Measure the Python files among ``files``; a missing radon goes to ``error``."""
        start = time.monotonic()
        whole = whole_tree(changeset)
        findings: list[Finding] = []
        try:
            from radon.complexity import cc_rank

            for change, text in changed_texts(changeset, files, self.accepts):
                new = complexities(text, path=change.path)
                old_src = old_text(changeset, change)
                old = complexities(old_src) if old_src is not None else {}
                for name, block in new.items():
                    rank = cc_rank(block.complexity)
                    if block.complexity <= THRESHOLD:
                        continue
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
