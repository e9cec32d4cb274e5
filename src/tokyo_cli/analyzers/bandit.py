"""Bandit (Python security linter) as an offline analyzer.

Bandit scans the *new* content of the changed Python files, written into a temporary
directory with their repository-relative paths, so a staged review scans the index version
and a working review the files on disk. Results are kept only when they touch an added line
(any line for a whole-tree audit), then mapped to findings:

* severity: bandit HIGH/MEDIUM/LOW -> Severity.HIGH/MEDIUM/LOW;
* confidence: bandit HIGH/MEDIUM/LOW -> 0.9/0.6/0.3;
* rule ``bandit:<test_id>``, category "security", source "analyzer";
* cwe: bandit's ``issue_cwe.id``, except where it is too generic or wrong
  (:data:`CWE_OVERRIDES`, this one table, also in the README):

  ==============================================  =============  =========
  bandit test                                     bandit's CWE   tokyo's
  ==============================================  =============  =========
  B307 ``eval``                                   78             95
  B102 ``exec``                                   78             94
  B313-B320 XML parsers, B405-B411 their imports  20             611
  B506 ``yaml.load`` without a safe loader        20             502
  B301/B302 pickle/marshal loads, B403 import     502            502
  B608 SQL built from strings                     89             89
  B602, B605, B607 shell / partial-path commands  78             78
  B310 ``urlopen`` of any URL scheme              22             918
  B701-B703 templates that do not escape          94/79          79
  everything else (B113 no timeout, B324 ...)     bandit's       bandit's
  ==============================================  =============  =========

Superseded by taint analysis (:data:`SUPERSEDED_BY_TAINT`): where semgrep ran and scanned a
file, bandit's results there for a *sink call whatever its data* are dropped, because the
taint rule of the same CWE decides from where the data comes (a bound parameter, an
allow-list, a constant command, a signature check): B602/B605 (shell commands), B608 (SQL
strings), B301/B302/B506 (unpickling, unmarshalling, unsafe YAML), B307/B102 (``eval``/
``exec``), B310 (``urlopen``), B313-B320 and B405-B411 (XML parsers and their imports),
B701-B703 (templates), B704 (``Markup`` of a non-literal). Measured on the packaged security
corpus (written alongside the rules, so a regression measure; ``tokyo eval security
--baseline bandit``), these results were 16 of bandit's 46 false positives on safe look-alikes.
Where semgrep is unavailable, timed out, or did not scan the file (no source of untrusted
data and no helper called from one), every bandit result stays.

Noise policy, measured with bandit 1.9.4 (no skips, ``-x ""``) over seven sdists: flask 3.1.0,
attrs 24.2.0, click 8.1.8, requests 2.32.3, httpx 0.27.0, rich 13.7.1, PyYAML 6.0.1.
Counts as library source / tests+docs: B101 99/4630, B113 0/115, B301 0/27, B106 0/27,
B110 11/8, B105 5/11, B506 0/11, B311 9/0, B603 6/2, B403 0/8, B404 5/2, B324 5/0,
B307 2/3, B102 2/3, B607 3/1, B704 1/2, B602 2/0, B605 2/0, B201 0/2, B302 1/0, B107 0/1,
B112 1/0.

* B403 (``import pickle``, 8 hits) and B404 (``import subprocess``, 7 hits) stay skipped: every
  file they fired in also had the call-level result (B301, or B602/B603/B607), so they add
  nothing but a second finding.
* B101 (``assert``) stays skipped in test files only (4630 hits there). In library code (99)
  the 12 sampled were invariants and type narrowing (44 of the 99 test ``is None``, 16
  ``isinstance``), but an ``assert`` guarding input does vanish under ``python -O``; repeats
  are folded into one finding per file (:mod:`tokyo_cli.engine.grouping`).
* B603 (a subprocess call without a shell) is run again but kept only when the command is not
  a constant (:func:`constant_command`: the call's first argument, or ``args=``, parsed with
  :mod:`ast`): of its 8 hits 7 build the command from a variable (``[cmd, filename]``,
  ``["xdg-open", url]``) and are kept; 1 (``[sys.executable, "-"]``) is dropped.

Isolation (the reviewed code never runs): bandit runs as ``python -I -m bandit`` through
:mod:`tokyo_cli.safety.isolation` (allow-listed environment, a fresh empty working
directory) on the absolute path of the copied tree, so no file of the change is importable
by the bandit process. Configuration from the reviewed tree is never read: bandit's own
discovery (a ``.bandit`` file anywhere under the target) is replaced by ``--ini`` pointing
at tokyo's empty ``[bandit]`` file outside the tree, and no ``-c`` (pyproject/YAML) config is
passed; only tokyo's skip list applies. Bandit's default path exclusions are off too
(``-x ""``): they match substrings of the whole path, so a file named ``CVS_tools.py`` or
``x.egg/run.py`` escaped the scan; tokyo's path rules alone choose the files. Inline
``# nosec`` / ``# nosec B602`` comments stay honoured: they sit on the changed line itself,
in the diff people review.

Files bandit cannot parse (its JSON ``errors``) are never dropped silently. Most are newer
syntax than the running Python reads (PEP 701 f-strings, ``type X = ...`` under 3.11): when a
newer interpreter on PATH (``python3.12`` ... , :func:`newer_pythons`) has bandit installed,
those files are scanned again under it, isolated the same way. Whatever still cannot be
scanned goes to ``AnalyzerRun.not_analyzed`` with the reason: "syntax newer than Python 3.11"
when a newer interpreter parses it (but has no bandit), else "syntax not supported by Python
3.11" with the line and message.
"""

from __future__ import annotations

import ast
import functools
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokyo_cli.analyzers.base import AnalyzerRun
from tokyo_cli.analyzers.common import (
    PYTHON_VERSION,
    find_tool,
    is_python,
    is_test_path,
    syntax_error,
    unparsable_reason,
)
from tokyo_cli.findings import Finding, Severity, parse_cwe
from tokyo_cli.git.repo import Changeset, FileChange, TargetKind
from tokyo_cli.safety.isolation import ToolUnavailable, last_error_line, python_command, run_isolated

# Module-level so tests (and packagers) can point it elsewhere.
BANDIT_COMMAND: list[str] = python_command("bandit")
_SEVERITY = {"HIGH": Severity.HIGH, "MEDIUM": Severity.MEDIUM, "LOW": Severity.LOW}
_CONFIDENCE = {"HIGH": 0.9, "MEDIUM": 0.6, "LOW": 0.3}
# Low-noise policy (measured, see the module docstring): B404 flags any `import subprocess`,
# B403 any `import pickle`; the dangerous calls themselves are B602-B607 and B301.
SKIPPED_TESTS = ("B403", "B404")
# `assert` is how pytest tests are written; B101 only matters in code that runs with -O.
TEST_ONLY_SKIPS = ("B101",)
# B603 (a subprocess call without a shell) is kept only when the command is not a constant.
CONSTANT_ARGS_SKIPS = ("B603",)
# Bandit's CWE ids corrected where they are too generic (the table in the module docstring).
CWE_OVERRIDES: dict[str, int] = {
    "B102": 94,
    "B307": 95,
    **{f"B{n}": 611 for n in (*range(313, 321), *range(405, 412))},
    "B506": 502,
    "B301": 502,
    "B302": 502,
    "B403": 502,
    "B608": 89,
    "B602": 78,
    "B605": 78,
    "B607": 78,
    "B310": 918,
    "B701": 79,
    "B702": 79,
    "B703": 79,
}
# Bandit tests that flag a sink call whatever its data: superseded on the files semgrep's
# taint rules analyzed (module docstring, :func:`drop_superseded`).
SUPERSEDED_BY_TAINT = frozenset(
    {
        "B602",
        "B605",
        "B608",
        "B301",
        "B302",
        "B506",
        "B307",
        "B102",
        "B310",
        "B701",
        "B702",
        "B703",
        "B704",
        *(f"B{n}" for n in (*range(313, 321), *range(405, 412))),
    }
)


def drop_superseded(bandit_run: AnalyzerRun, taint_scanned: set[str]) -> AnalyzerRun:
    """``bandit_run`` without its :data:`SUPERSEDED_BY_TAINT` findings on the files of
    ``taint_scanned`` (repository paths semgrep's taint rules analyzed)."""
    kept = [
        f
        for f in bandit_run.findings
        if not (f.path in taint_scanned and (f.rule or "").removeprefix("bandit:") in SUPERSEDED_BY_TAINT)
    ]
    if len(kept) == len(bandit_run.findings):
        return bandit_run
    return bandit_run.model_copy(update={"findings": kept})


# A newer interpreter gets this much of the remaining time, at least, to be worth starting.
MIN_RETRY_S = 1.0
PROBE_TIMEOUT_S = 10.0
# Prints "3.13" and "bandit" (or "-"): the interpreter's version and whether bandit imports.
_PROBE = (
    "import sys\nprint('%d.%d' % sys.version_info[:2])\n"
    "try:\n    import bandit\nexcept Exception:\n    print('-')\nelse:\n    print('bandit')\n"
)
# Reads a JSON list of absolute paths on stdin; prints a JSON list: does each parse? (ast.parse
# only compiles to a tree: nothing of the file runs.)
_PARSES = (
    "import ast, json, sys\nout = []\nfor p in json.load(sys.stdin):\n"
    "    try:\n        ast.parse(open(p, 'rb').read())\n        out.append(True)\n"
    "    except Exception:\n        out.append(False)\njson.dump(out, sys.stdout)\n"
)


class BanditUnavailable(Exception):
    """Bandit could not run or produced no usable report (message: the reason)."""


@dataclass(frozen=True)
class Interpreter:
    """A Python newer than this one, found on PATH: its executable, ``(major, minor)`` and
    whether bandit is importable in it."""

    path: str
    version: tuple[int, int]
    has_bandit: bool

    @property
    def label(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"


@functools.lru_cache(maxsize=1)
def newer_pythons() -> tuple[Interpreter, ...]:
    """The interpreters newer than this one that run, newest first: ``python3.N`` next to
    this Python or on the absolute directories of PATH (:func:`~tokyo_cli.analyzers.common.find_tool`),
    each asked for its version and whether bandit imports (isolated, as bandit runs). A
    name that does not start (a pyenv shim for a version not selected) is left out. Looked
    up once per process, and only when bandit met a file it could not parse."""
    here = sys.version_info[:2]
    found: list[Interpreter] = []
    seen: set[str] = set()
    for minor in range(here[1] + 9, here[1], -1):
        exe = find_tool(f"python{here[0]}.{minor}")
        if exe is None or Path(exe).resolve().as_posix() in seen:
            continue
        seen.add(Path(exe).resolve().as_posix())
        try:
            proc = run_isolated([exe, "-I", "-c", _PROBE], timeout_s=PROBE_TIMEOUT_S)
        except ToolUnavailable:
            continue
        out = proc.stdout.decode("utf-8", errors="replace").split()
        if proc.returncode != 0 or len(out) != 2:
            continue
        try:
            major_s, minor_s = out[0].split(".")
            version = (int(major_s), int(minor_s))
        except ValueError:
            continue
        if version > here:
            found.append(Interpreter(exe, version, out[1] == "bandit"))
    return tuple(sorted(found, key=lambda i: i.version, reverse=True))


class BanditAnalyzer:
    """``python -I -m bandit -f json -q -r TREE`` over the new versions of the changed Python
    files (TREE: their copy in a temporary directory)."""

    name = "bandit"
    accepts = staticmethod(is_python)

    def __init__(self, command: list[str] | None = None) -> None:
        self.command = command

    def run(self, changeset: Changeset, files: list[FileChange], *, agent: str, timeout_s: float = 60) -> AnalyzerRun:
        """Scan ``files``' Python sources; never raises for tool problems (see ``error``).
        Files bandit cannot parse are scanned under a newer Python when one with bandit is
        on PATH, else listed in ``not_analyzed``."""
        start = time.monotonic()
        targets = [
            f for f in files if f.skipped is None and is_python(f.path) and changeset.new_bytes(f.path) is not None
        ]
        if not targets:
            return AnalyzerRun(name=self.name, seconds=time.monotonic() - start)
        by_path = {f.path: f for f in targets}
        try:
            with tempfile.TemporaryDirectory(prefix="tokyo-bandit-") as tmp:
                tree = Path(tmp).resolve() / "tree"
                ini = Path(tmp).resolve() / "tokyo-bandit.ini"
                ini.write_text("[bandit]\n", encoding="utf-8")
                tree.mkdir()
                _write_sources(tree, changeset, targets)
                report = self._invoke(tree, ini, timeout_s)
                findings = to_findings(report, changeset, by_path, agent=agent, root=tree)
                errors = bandit_errors(report, by_path, root=tree)
                not_analyzed: dict[str, str] = {}
                if errors:
                    left = timeout_s - (time.monotonic() - start)
                    more, not_analyzed = self._unparsed(
                        errors, changeset, by_path, Path(tmp).resolve(), ini, left, agent=agent
                    )
                    findings += more
        except BanditUnavailable as exc:
            return AnalyzerRun(name=self.name, error=f"bandit unavailable: {exc}", seconds=time.monotonic() - start)
        return AnalyzerRun(
            name=self.name, findings=findings, not_analyzed=not_analyzed, seconds=time.monotonic() - start
        )

    def _unparsed(
        self,
        errors: dict[str, str],
        changeset: Changeset,
        files: dict[str, FileChange],
        tmp: Path,
        ini: Path,
        timeout_s: float,
        *,
        agent: str,
    ) -> tuple[list[Finding], dict[str, str]]:
        """Findings from a newer Python's bandit for the files in ``errors`` (bandit's
        reason per path), and path -> reason for those still not analyzed."""
        reasons: dict[str, str] = {}
        syntax: dict[str, SyntaxError | ValueError] = {}
        for path, why in errors.items():
            exc = syntax_error(changeset.new_bytes(path) or b"")
            if exc is None:  # parses here: bandit failed on it for another reason
                reasons[path] = f"bandit error ({why})"
            else:
                syntax[path] = exc
        if not syntax:
            return [], reasons
        pythons = newer_pythons() if timeout_s >= MIN_RETRY_S else ()
        runner = next((p for p in pythons if p.has_bandit), None)
        findings: list[Finding] = []
        if runner is not None:
            tree = tmp / f"tree-{runner.label}"
            tree.mkdir()
            _write_sources(tree, changeset, [files[p] for p in syntax])
            try:
                report = self._invoke(tree, ini, timeout_s, command=[runner.path, "-I", "-m", "bandit"])
            except BanditUnavailable as exc:
                for path, err in syntax.items():
                    reasons[path] = _detailed(
                        unparsable_reason(err), f"bandit under Python {runner.label} failed: {exc}"
                    )
                return findings, reasons
            findings = to_findings(report, changeset, files, agent=agent, root=tree)
            still = bandit_errors(report, files, root=tree)
            for path in still:
                reasons[path] = (
                    unparsable_reason(syntax[path]).replace(
                        f"Python {PYTHON_VERSION}", f"Python {PYTHON_VERSION} or {runner.label}", 1
                    )
                    if path in syntax
                    else f"bandit error ({still[path]})"
                )
            return findings, reasons
        newest = pythons[0] if pythons else None
        parses = _parses_under(newest, tmp / "tree", list(syntax), timeout_s) if newest else {}
        for path, err in syntax.items():
            if parses.get(path) and newest is not None:
                reasons[path] = (
                    f"syntax newer than Python {PYTHON_VERSION} (parses under Python "
                    f"{newest.label}, which has no bandit installed)"
                )
            else:
                reasons[path] = unparsable_reason(err)
        return findings, reasons

    def _invoke(self, tree: Path, ini: Path, timeout_s: float, command: list[str] | None = None) -> dict[str, Any]:
        """Run bandit isolated over the absolute path ``tree``, with ``ini`` as its only
        ``.bandit`` settings; its parsed JSON report. ``command`` replaces the bandit
        command (a newer interpreter's). Raises BanditUnavailable."""
        # -x "": no path exclusions. Bandit's default list matches substrings of the whole
        # path (".git", "CVS", ".tox", ...), so a file named "CVS_tools.py" escaped the scan;
        # tokyo's own path rules already chose the files written.
        cmd = [
            *(command or self.command or BANDIT_COMMAND),
            "-f",
            "json",
            "-q",
            "--ini",
            str(ini),
            "-x",
            "",
            "-s",
            ",".join(SKIPPED_TESTS),
            "-r",
            str(tree),
        ]
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


def bandit_errors(report: dict[str, Any], files: dict[str, FileChange], *, root: Path | None = None) -> dict[str, str]:
    """Bandit's JSON ``errors`` (the files it could not scan, usually "syntax error while
    parsing AST from file") as repository path -> bandit's reason, for the given files."""
    out: dict[str, str] = {}
    for error in report.get("errors") or []:
        if not isinstance(error, dict):
            continue
        path = _relative(str(error.get("filename", "")), root)
        if path in files:
            out.setdefault(path, " ".join(str(error.get("reason") or "no reason given").split()))
    return out


def _detailed(reason: str, more: str) -> str:
    """``"kind (detail)"`` + ``more`` -> ``"kind (detail; more)"``."""
    return f"{reason[:-1]}; {more})" if reason.endswith(")") else f"{reason} ({more})"


def _parses_under(python: Interpreter, tree: Path, paths: list[str], timeout_s: float) -> dict[str, bool]:
    """Which of ``paths`` (written under ``tree``) ``python`` parses; ``{}`` when it cannot
    tell (isolated like bandit; parsing runs nothing)."""
    files = [str(tree / p) for p in paths]
    try:
        proc = run_isolated(
            [python.path, "-I", "-c", _PARSES], timeout_s=max(timeout_s, MIN_RETRY_S), stdin=json.dumps(files).encode()
        )
        answer = json.loads(proc.stdout.decode("utf-8", errors="replace") or "null")
    except (ToolUnavailable, json.JSONDecodeError):
        return {}
    if proc.returncode != 0 or not isinstance(answer, list) or len(answer) != len(paths):
        return {}
    return {p: ok is True for p, ok in zip(paths, answer)}


def to_findings(
    report: dict[str, Any], changeset: Changeset, files: dict[str, FileChange], *, agent: str, root: Path | None = None
) -> list[Finding]:
    """Map bandit's JSON ``results`` to findings on the lines this change touched
    (``root``: the directory bandit scanned, whose prefix its filenames carry)."""
    whole = changeset.target.kind is TargetKind.ALL
    findings = []
    trees: dict[str, ast.AST | None] = {}
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
        if result.get("test_id") in CONSTANT_ARGS_SKIPS and constant_command(
            changeset.new_bytes(path) or b"", int(result.get("line_number") or 0), trees, path
        ):
            continue
        findings.append(_finding(result, path, line, changeset, agent))
    return findings


def bandit_cwe(result: dict[str, Any]) -> list[int]:
    """The CWE ids of a bandit result: :data:`CWE_OVERRIDES` for its test id, else bandit's
    own ``issue_cwe.id`` (``[]`` when it has none usable)."""
    test_id = str(result.get("test_id", ""))
    if test_id in CWE_OVERRIDES:
        return [CWE_OVERRIDES[test_id]]
    cwe = result.get("issue_cwe")
    return parse_cwe(cwe.get("id") if isinstance(cwe, dict) else None)


# The one non-constant value a command may hold and still count as constant: this
# interpreter's own path is not input.
_CONSTANT_NAMES = {("sys", "executable")}


def _is_constant(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, (str, bytes))
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return (node.value.id, node.attr) in _CONSTANT_NAMES
    if isinstance(node, (ast.List, ast.Tuple)):
        return all(_is_constant(e) for e in node.elts)
    return False


def constant_command(source: bytes, line: int, trees: dict[str, ast.AST | None] | None = None, key: str = "") -> bool:
    """Whether every subprocess call starting on ``line`` of ``source`` runs a constant
    command: its first positional argument (or ``args=``) a string or a list/tuple of string
    literals (``sys.executable`` allowed). ``False`` when it cannot tell (no such call, a
    file that does not parse): a finding is kept unless it is shown to be noise. Parsing
    only builds a tree, nothing of the file runs; ``trees`` caches a file's tree by ``key``."""
    if trees is not None and key in trees:
        tree = trees[key]
    else:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            tree = None
        if trees is not None:
            trees[key] = tree
    if tree is None:
        return False
    commands = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.lineno == line:
            command = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "args"), None)
            if command is None or isinstance(command, ast.Starred):
                return False
            commands.append(command)
    return bool(commands) and all(_is_constant(c) for c in commands)


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


def _finding(result: dict[str, Any], path: str, line: int, changeset: Changeset, agent: str) -> Finding:
    test_id = str(result.get("test_id", "B000"))
    text = str(result.get("issue_text", "")).strip() or test_id
    cwe = bandit_cwe(result)
    ref = f"Bandit {test_id} ({result.get('test_name', '')})" + "".join(f", CWE-{n}" for n in cwe)
    body = [
        text,
        ref + (f": {result['more_info']}" if result.get("more_info") else "."),
        f"If this is intended, mark the line with `# nosec {test_id}`.",
    ]
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
        cwe=cwe,
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
