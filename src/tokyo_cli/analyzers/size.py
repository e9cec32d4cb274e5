"""Modules that grow past a size threshold in the change (rule ``module-size:lines``).

A source module (code, not tests, prose or data) whose new version has more than
``MAX_LINES`` lines while its old version had at most that many (or it is new) is a low
finding, on the first added line past the threshold (the last added line if none is). The
threshold follows the house style: a module past ~400 lines is usually two modules.
"""

from __future__ import annotations

import time

from tokyo_cli.analyzers.base import AnalyzerRun
from tokyo_cli.analyzers.common import changed_texts, is_test_path, make_finding, whole_tree
from tokyo_cli.findings import Finding, Severity
from tokyo_cli.git.diff import split_lines
from tokyo_cli.git.repo import Changeset, FileChange

MAX_LINES = 400
CODE_LANGUAGES = frozenset(
    {
        "python",
        "javascript",
        "typescript",
        "go",
        "rust",
        "java",
        "kotlin",
        "ruby",
        "php",
        "c",
        "cpp",
        "csharp",
        "swift",
        "scala",
        "dart",
        "lua",
        "shell",
    }
)


class ModuleSizeAnalyzer:
    """Line count of the changed source modules."""

    name = "module-size"

    def run(self, changeset: Changeset, files: list[FileChange], *, agent: str, timeout_s: float = 60) -> AnalyzerRun:
        """Count lines of the source files among ``files``; never raises."""
        start = time.monotonic()
        whole = whole_tree(changeset)
        findings: list[Finding] = []
        sources = [f for f in files if f.language in CODE_LANGUAGES]
        for change, text in changed_texts(changeset, sources, lambda p: not is_test_path(p)):
            new = len(split_lines(text))
            old = 0 if whole or change.status == "added" else new - change.additions + change.deletions
            if new <= MAX_LINES or old > MAX_LINES:
                continue
            added = sorted(change.added_lines) if not whole else [MAX_LINES + 1]
            past = [n for n in added if n > MAX_LINES]
            line = past[0] if past else (added[-1] if added else None)
            grew = f"grows from {old} to {new} lines" if old else f"has {new} lines"
            findings.append(
                make_finding(
                    changeset,
                    path=change.path,
                    line=line,
                    severity=Severity.LOW,
                    title=f"Module {grew} (threshold {MAX_LINES})",
                    body=f"`{change.path}` {grew}, past {MAX_LINES}. A module this size usually has "
                    "more than one job; split it along those jobs before it grows further.",
                    agent=agent,
                    rule="module-size:lines",
                    category="architecture",
                    confidence=0.9,
                )
            )
        return AnalyzerRun(name=self.name, findings=findings, seconds=time.monotonic() - start)
