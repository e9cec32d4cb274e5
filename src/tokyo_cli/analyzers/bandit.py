"""Bandit (Python security linter) as an offline analyzer.

Bandit scans the *new* content of the changed Python files, written into a temporary
directory with their repository-relative paths, so a staged review scans the index version
and a working review the files on disk. Results are kept only when they touch an added line
(any line for a whole-tree audit), then mapped to findings:

* severity: bandit HIGH/MEDIUM/LOW -> Severity.HIGH/MEDIUM/LOW;
* confidence: bandit HIGH/MEDIUM/LOW -> 0.9/0.6/0.3;
* rule ``bandit:<test_id>``, category "security", source "analyzer".

Isolation (the reviewed code never runs): bandit runs as ``python -I -m bandit`` through
:mod:`tokyo_cli.isolation` (allow-listed environment, a fresh empty working
directory) on the absolute path of the copied tree, so no file of the change is importable
by the bandit process. Configuration from the reviewed tree is never read: bandit's own
discovery (a ``.bandit`` file anywhere under the target) is replaced by ``--ini`` pointing
at tokyo's empty ``[bandit]`` file outside the tree, and no ``-c`` (pyproject/YAML) config is
passed; only tokyo's skip list applies. Bandit's default path exclusions are off too
(``-x ""``): they match substrings of the whole path, so a file named ``CVS_tools.py`` or
``x.egg/run.py`` escaped the scan; tokyo's path rules alone choose the files. Inline
``# nosec`` / ``# nosec B602`` comments stay honoured: they sit on the changed line itself,
in the diff people review.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from tokyo_cli.analyzers.base import AnalyzerRun
from tokyo_cli.analyzers.common import is_python, is_test_path
from tokyo_cli.findings import Finding, Severity
from tokyo_cli.isolation import ToolUnavailable, last_error_line, python_command, run_isolated
from tokyo_cli.repo import Changeset, FileChange, TargetKind

# Module-level so tests (and packagers) can point it elsewhere.
BANDIT_COMMAND: list[str] = python_command("bandit")
_SEVERITY = {"HIGH": Severity.HIGH, "MEDIUM": Severity.MEDIUM, "LOW": Severity.LOW}
_CONFIDENCE = {"HIGH": 0.9, "MEDIUM": 0.6, "LOW": 0.3}
# Low-noise policy: checks that fire on nearly every file and rarely point at a real problem.
# B404 flags any `import subprocess`, B403 any `import pickle` (the dangerous call itself is
# B301); B603 any subprocess call without a shell (the safe form).
SKIPPED_TESTS = ("B403", "B404", "B603")
# `assert` is how pytest tests are written; B101 only matters in code that runs with -O.
TEST_ONLY_SKIPS = ("B101",)


class BanditUnavailable(Exception):
    """Bandit could not run or produced no usable report (message: the reason)."""


class BanditAnalyzer:
    """``python -I -m bandit -f json -q -r TREE`` over the new versions of the changed Python
    files (TREE: their copy in a temporary directory)."""

    name = "bandit"

    def __init__(self, command: list[str] | None = None) -> None:
        self.command = command

    def run(self, changeset: Changeset, files: list[FileChange], *, agent: str,
            timeout_s: float = 60) -> AnalyzerRun:
        """Scan ``files``' Python sources; never raises for tool problems (see ``error``)."""
        start = time.monotonic()
        targets = [f for f in files if f.skipped is None and is_python(f.path)
                   and changeset.new_bytes(f.path) is not None]
        if not targets:
            return AnalyzerRun(name=self.name, seconds=time.monotonic() - start)
        try:
            with tempfile.TemporaryDirectory(prefix="tokyo-bandit-") as tmp:
                tree = Path(tmp).resolve() / "tree"
                ini = Path(tmp).resolve() / "tokyo-bandit.ini"
                ini.write_text("[bandit]\n", encoding="utf-8")
                tree.mkdir()
                _write_sources(tree, changeset, targets)
                report = self._invoke(tree, ini, timeout_s)
        except BanditUnavailable as exc:
            return AnalyzerRun(name=self.name, error=f"bandit unavailable: {exc}",
                               seconds=time.monotonic() - start)
        findings = to_findings(report, changeset, {f.path: f for f in targets}, agent=agent,
                               root=tree)
        return AnalyzerRun(name=self.name, findings=findings, seconds=time.monotonic() - start)

    def _invoke(self, tree: Path, ini: Path, timeout_s: float) -> dict[str, Any]:
        """Run bandit isolated over the absolute path ``tree``, with ``ini`` as its only
        ``.bandit`` settings; its parsed JSON report. Raises BanditUnavailable."""
        # -x "": no path exclusions. Bandit's default list matches substrings of the whole
        # path (".git", "CVS", ".tox", ...), so a file named "CVS_tools.py" escaped the scan;
        # tokyo's own path rules already chose the files written.
        cmd = [*(self.command or BANDIT_COMMAND), "-f", "json", "-q", "--ini", str(ini), "-x", "",
               "-s", ",".join(SKIPPED_TESTS), "-r", str(tree)]
        try:
            proc = run_isolated(cmd, timeout_s=timeout_s)
        except ToolUnavailable as exc:
            raise BanditUnavailable(str(exc)) from None
        stdout = proc.stdout.decode("utf-8", errors="replace")
        # Exit 1 only means "issues found"; anything else, or no JSON, is a failure.
        if proc.returncode in (0, 1):
            report = _parse_json(stdout)
            if report is not None:
                return report
        raise BanditUnavailable(_reason(proc))


def to_findings(report: dict[str, Any], changeset: Changeset, files: dict[str, FileChange],
                *, agent: str, root: Path | None = None) -> list[Finding]:
    """Map bandit's JSON ``results`` to findings on the lines this change touched
    (``root``: the directory bandit scanned, whose prefix its filenames carry)."""
    whole = changeset.target.kind is TargetKind.ALL
    findings = []
    for result in report.get("results", []):
        path = _relative(str(result.get("filename", "")), root)
        change = files.get(path)
        if change is None:
            continue
        line = _anchor_line(result, change, whole)
        if line is None:
            continue
        if result.get("test_id") in TEST_ONLY_SKIPS and is_test_path(path):
            continue
        findings.append(_finding(result, path, line, changeset, agent))
    return findings


def _anchor_line(result: dict[str, Any], change: FileChange, whole: bool) -> int | None:
    """The line to anchor a result to, or None when it touches no added line."""
    first = int(result.get("line_number") or 0)
    span = [int(n) for n in result.get("line_range") or [first]] or [first]
    if whole:
        return first
    touched = [n for n in span if n in change.added_lines]
    if not touched:
        return None
    # Prefer bandit's own line when a comment can sit there (an added or context line).
    return first if first in change.anchors() else touched[0]


def _finding(result: dict[str, Any], path: str, line: int, changeset: Changeset,
             agent: str) -> Finding:
    test_id = str(result.get("test_id", "B000"))
    text = str(result.get("issue_text", "")).strip() or test_id
    cwe = result.get("issue_cwe") or {}
    ref = f"Bandit {test_id} ({result.get('test_name', '')})" + (f", CWE-{cwe['id']}" if cwe.get("id") else "")
    body = [text, ref + (f": {result['more_info']}" if result.get("more_info") else "."),
            f"If this is intended, mark the line with `# nosec {test_id}`."]
    return Finding(
        path=path,
        line=line,
        severity=_SEVERITY.get(str(result.get("issue_severity", "")).upper(), Severity.LOW),
        confidence=_CONFIDENCE.get(str(result.get("issue_confidence", "")).upper()),
        category="security",
        title=text[:200],
        body="\n".join(body),
        agent=agent,
        source="analyzer",
        rule=f"bandit:{test_id}",
        anchor_text=changeset.line_text(path, line),
    )


def _write_sources(root: Path, changeset: Changeset, files: list[FileChange]) -> None:
    base = root.resolve()
    for change in files:
        dest = (root / change.path).resolve()
        if not dest.is_relative_to(base):
            continue  # a path escaping the temp dir is never written
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(changeset.new_bytes(change.path) or b"")


def _relative(filename: str, root: Path | None = None) -> str:
    """The repository path of a scanned file: ``filename`` below ``root`` (bandit reports the
    paths it walked, prefixed with the target it was given), else as given minus ``./``."""
    if root is not None:
        try:
            return Path(filename).relative_to(root).as_posix()
        except ValueError:
            return ""  # not a file tokyo wrote: never mapped onto a repository path
    name = filename.replace("\\", "/")
    while name.startswith("./"):
        name = name[2:]
    return name


def _parse_json(stdout: str) -> dict[str, Any] | None:
    start = stdout.find("{")
    if start == -1:
        return None
    try:
        data = json.loads(stdout[start:])
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) and "results" in data else None


def _reason(proc: subprocess.CompletedProcess[bytes]) -> str:
    return last_error_line(proc, default="no report on stdout")
