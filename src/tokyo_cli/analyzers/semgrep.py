"""Semgrep OSS taint analysis as an offline analyzer (Akira, security).

Semgrep scans the *new* content of the changed Python files, written into a temporary
directory at their repository-relative paths (a staged review scans the index version, a
range review the target commit, a working review the files on disk; a symlink is listed by
the changeset as "symlink" and never read). Only tokyo's packaged rules run:
``semgrep_rules/*.yaml`` next to this module (built into one config file per scan), one taint
rule per CWE (SQL injection, OS command injection, path traversal, code injection, unsafe
deserialization, open redirect, XSS, XPath and LDAP injection, XXE, SSRF, trust boundary
violation) plus one search rule
for cookies set without ``secure``/``httponly``. A result counts when its span touches an
added line (any line for ``--all``) and is mapped to a finding:

* rule ``semgrep:<rule id>``, category "security", source "analyzer";
* severity: the rule's ERROR/WARNING/INFO -> high/medium/low (the severity policy caps it
  later like any finding); confidence: ``metadata.confidence`` HIGH/MEDIUM/LOW -> 0.9/0.6/0.3;
* title: the rule's message; body: the message, ``metadata.hint`` (the fix) and the CWE;
  ``cwe``: the numbers of ``metadata.cwe``.

Offline and isolated (the reviewed code never runs, semgrep never reaches the network):
``semgrep scan --experimental --config <built config> --metrics off --disable-version-check --json
--no-git-ignore --scan-unknown-extensions`` on the absolute path of the copied tree (with an
empty ``.semgrepignore`` of tokyo's, so semgrep's default ignore list of ``tests/``,
``vendor/``, ... does not apply: tokyo's path rules chose the files), through
:mod:`tokyo_cli.safety.isolation` (allow-listed environment: no ``SEMGREP_RULES``,
``SEMGREP_APP_TOKEN`` or proxy settings; ``HOME`` a fresh empty directory, so no
``~/.semgrep`` settings or login; a fresh empty working directory, so no ``.semgrepignore``
or ``.semgrep.yml`` of the reviewed tree) plus ``SEMGREP_SEND_METRICS=off`` and
``SEMGREP_ENABLE_VERSION_CHECK=0``. Without the last one, semgrep 1.185 waited 97 s for
its version check on a machine without network. No registry config (``auto``, ``p/...``)
is ever passed. Inline ``# nosemgrep: <rule id>`` comments stay honoured: they sit on the
changed line itself, in the diff people review. Files semgrep did not scan (over its 1 MB
limit, a parse error) go to ``AnalyzerRun.not_analyzed`` with semgrep's reason. A file
without any word a rule needs (``request``, ``argv``, ``environ``, ``set_cookie``, ...:
:func:`may_match`) is not sent at all: no rule can match it.

Dependency decision (measured on Linux x86-64, Python 3.11, semgrep 1.185.0): ``pip install
semgrep`` adds 321 MiB to a venv that holds tokyo with its test extra (519 -> 840 MiB; the
``semgrep-core`` binary alone is 255 MiB) and no dependency conflict (``pip check``
clean). ``semgrep --version`` starts in 2.8 s wall (1.8 s CPU) with the version check off.
Semgrep runs through its OCaml command line (:data:`CLI_FLAGS`), and only the rules whose
sinks occur in a scanned file are built (:func:`tokyo_cli.analyzers.taint.applicable`); a
change without any sink never starts semgrep. Over the 3,000 modules of
``benchmarks/bench_security.py`` the whole ``tokyo review --all --offline -w security``
took 23.1 s against 9.1 s for ``bandit -r`` (2.54x; semgrep 20.6 s of it, sharing 2 cores
with bandit and detect-secrets), down from 54.9 s against 9.9 s with the Python CLI and
every rule. ``tokyo --help`` does not change:
nothing of semgrep is imported by tokyo (it runs as a subprocess; this module is imported
only when the analyzer runs). Taint analysis is the security floor the README promises
from ``pip install .``, so semgrep is a default dependency, not an extra (it ships wheels for
Linux, macOS and Windows). Where it is missing anyway, the run reports "semgrep unavailable:
..." and the other analyzers continue.

Across functions: semgrep OSS follows taint within one function. The config semgrep gets is
built for each scan by :mod:`tokyo_cli.analyzers.taint` (the packaged rules with their
shared sources and sanitizers, plus function-summary rules over the scanned files' own
functions), and its results are joined there: a flow into a helper's sink is reported at
the helper, a helper that validates its argument clears the flow. So a helper module
without any source word is scanned too when a scanned file calls one of its functions
(:func:`scan_targets`).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from tokyo_cli.analyzers import taint
from tokyo_cli.analyzers.base import AnalyzerRun
from tokyo_cli.analyzers.common import (
    ToolUnavailable,
    anchor_line,
    find_tool,
    is_python,
    make_finding,
    whole_tree,
    write_files,
)
from tokyo_cli.findings import Finding, Severity
from tokyo_cli.git.repo import Changeset, FileChange
from tokyo_cli.safety.isolation import last_error_line, run_isolated

RULES_DIR = taint.RULES_DIR
# Never let semgrep phone home: metrics off and no version check (which otherwise blocks a
# network-less run for over a minute before scanning).
SEMGREP_ENV = {"SEMGREP_SEND_METRICS": "off", "SEMGREP_ENABLE_VERSION_CHECK": "0", "NO_COLOR": "1"}
# Semgrep's own per-file, per-rule limit (seconds); the whole run is held to timeout_s.
PER_FILE_TIMEOUT_S = 10
# The summary scan's per-file, per-rule limit (seconds); one time-out skips the file.
SUMMARY_FILE_TIMEOUT_S = 2
# The share of the analyzer's time limit both scans may use before the summary scan is given
# up (the packaged rules' findings stand) rather than the whole analyzer abandoned.
SUMMARY_SHARE = 0.85
# The most helper files the summary scan names one by one (about 100 bytes each on the
# command line, far under Linux's 2 MiB and macOS's 1 MiB ARG_MAX).
MAX_NAMED_FILES = 5000
# Semgrep needs ~3 s to start (measured: 2.8 s): under a shorter limit (a pre-commit hook's
# --time-limit 2) it could only time out, and the step would wait for it, so it is not
# started: the run says so and lists the files as not analyzed, bandit's findings still come.
MIN_TIMEOUT_S = 5.0
# Semgrep's OCaml command line (``osemgrep``, selected by ``--experimental``) instead of its
# Python wrapper (``pysemgrep``): the same engine (``semgrep-core``), rules and JSON report,
# without the wrapper's per-result Python work. Measured on the 3,000 modules of
# benchmarks/bench_security.py (2 cores, semgrep 1.185.0): the packaged rules over 1,901
# files 11.8 s -> 6.8 s, the summary rules over 298 helper files (7,450 results) 22.5 s ->
# 6.9 s, with identical results (rule, path, line, column, message) in both scans.
CLI_FLAGS = ("--experimental",)
_SEVERITY = {
    "ERROR": Severity.HIGH,
    "WARNING": Severity.MEDIUM,
    "INFO": Severity.LOW,
    "CRITICAL": Severity.CRITICAL,
    "HIGH": Severity.HIGH,
    "MEDIUM": Severity.MEDIUM,
    "LOW": Severity.LOW,
}
_CONFIDENCE = {"HIGH": 0.9, "MEDIUM": 0.6, "LOW": 0.3}
_CWE = re.compile(r"CWE-(\d+)", re.IGNORECASE)
# Every packaged rule needs one of these words in the file: the taint sources (request,
# req.json(), sys.argv, input(), os.environ/getenv, @app.route parameters, Django's
# request.GET/POST/COOKIES/META/FILES, Starlette's query_params/path_params) and the search
# rule's set_cookie. Semgrep follows taint within a function, so a file with none of them
# cannot match and is not sent (an import alias keeps the word: `request as rq`).
_MAY_MATCH = re.compile(
    rb"request|\breq\b|argv|input|environ|getenv|route|set_cookie"
    rb"|GET|POST|COOKIES|META|FILES|_params"
)


def may_match(source: bytes) -> bool:
    """Whether any packaged rule can match ``source`` (see ``_MAY_MATCH``)."""
    return _MAY_MATCH.search(source) is not None


def scan_targets(changeset: Changeset, files: list[FileChange]) -> dict[str, FileChange]:
    """The Python files of ``files`` semgrep scans: those :func:`may_match`, plus the helper
    modules they call into (a file defining a function one of them calls with an argument,
    :func:`~tokyo_cli.analyzers.taint.project_functions`), so the helpers can be summarised.
    Skipped files and symlinks are never read."""
    python = {f.path: f for f in files if f.skipped is None and is_python(f.path)}
    contents = {p: changeset.new_bytes(p) or b"" for p in python}
    entry = {p: src for p, src in contents.items() if may_match(src)}
    others = {p: src for p, src in contents.items() if p not in entry}
    called = taint.project_functions(others.values(), called_only=True, callers=entry.values())
    helpers = set(taint.helper_files(others, called)) if called else set()
    return {p: f for p, f in python.items() if p in entry or p in helpers}


def semgrep_command() -> list[str] | None:
    """The ``semgrep`` executable next to this Python (the venv tokyo runs in), else on the
    absolute directories of PATH (:func:`~tokyo_cli.analyzers.common.find_tool`)."""
    exe = find_tool("semgrep")
    return [exe] if exe else None


def _jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class SemgrepAnalyzer:
    """``semgrep scan`` with tokyo's packaged taint rules over the new versions of the
    changed Python files."""

    name = "semgrep"
    accepts = staticmethod(is_python)

    def __init__(self, command: list[str] | None = None) -> None:
        self.command = command

    def run(self, changeset: Changeset, files: list[FileChange], *, agent: str, timeout_s: float = 60) -> AnalyzerRun:
        """Scan ``files``' Python sources; never raises for tool problems (see ``error``)."""
        start = time.monotonic()
        targets = scan_targets(changeset, files)
        if not targets:
            return AnalyzerRun(name=self.name, seconds=time.monotonic() - start)
        if timeout_s < MIN_TIMEOUT_S:
            return AnalyzerRun(
                name=self.name,
                error=f"semgrep unavailable: the time limit ({timeout_s:g} s) "
                f"is shorter than semgrep needs to start (at least {MIN_TIMEOUT_S:g} s)",
                seconds=time.monotonic() - start,
            )
        command = self.command or semgrep_command()
        if command is None:
            return AnalyzerRun(
                name=self.name,
                error="semgrep unavailable: the semgrep executable is not installed (pip install semgrep)",
            )
        notes: list[str] = []
        try:
            with tempfile.TemporaryDirectory(prefix="tokyo-semgrep-") as tmp:
                root = Path(tmp).resolve() / "tree"
                root.mkdir()
                written = write_files(root, changeset, targets)
                if not written:
                    return AnalyzerRun(name=self.name, seconds=time.monotonic() - start)
                # The directory, not 3,000 file arguments: semgrep 1.185 took 417 s for the
                # files of benchmarks/bench_security.py named one by one, 20 s for their
                # directory. An empty .semgrepignore replaces semgrep's default ignore list
                # (tests/, test/, build/, vendor/, node_modules/, ...): tokyo's path rules
                # alone chose these files. A .pyw is named too (a directory scan skips it).
                (root / ".semgrepignore").write_bytes(b"")
                contents = {p: changeset.new_bytes(p) or b"" for p in written}
                names = taint.project_functions(
                    [c for c in contents.values() if c.count(b"\n") <= taint.MAX_HELPER_LINES],
                    called_only=True,
                    callers=contents.values(),
                )
                # Only the rules whose sinks occur in some scanned file (taint.applicable).
                config = taint.build_config(names, texts=contents.values())
                main, derived = taint.split_config(config)
                if not main["rules"]:
                    return AnalyzerRun(name=self.name, notes=notes, seconds=time.monotonic() - start)
                # The summary rules run only over the files that define or call a summarised
                # helper, named one by one in a second semgrep after the first: on the 3,000
                # modules of benchmarks/bench_security.py (300 such files) every rule over
                # every file took 63.7 s, a `paths.include` list per rule 32.5 s, the
                # packaged rules alone 13.2 s (semgrep 1.185's Python CLI; with its OCaml
                # CLI, CLI_FLAGS, both in one scan with `paths.include` took 18.3 s, two
                # scans 16.4 s).
                helpers = taint.helper_files(contents, names) if derived["rules"] else []
                started = time.monotonic()
                report = self._scan(command, root, written, main, Path(tmp), timeout_s)
                results = list(report.get("results") or [])
                if helpers:
                    # The summaries are an addition: they get what is left of the time limit,
                    # and without them the packaged rules' own findings still stand.
                    left = timeout_s * SUMMARY_SHARE - (time.monotonic() - started)
                    try:
                        if left < MIN_TIMEOUT_S:
                            raise ToolUnavailable(f"no time left within the {timeout_s:g} s limit")
                        results += (
                            self._scan(command, root, helpers, derived, Path(tmp), left, summaries=True).get("results")
                            or []
                        )
                    except ToolUnavailable as exc:
                        notes.append(
                            f"semgrep: cross-function summaries unavailable ({exc}); "
                            "flows through the project's own helpers were not followed"
                        )
                report["results"] = taint.join(
                    [r for r in results if isinstance(r, dict)],
                    lambda name: contents.get(_relative(name, root)),
                    config,
                    display=lambda name: _relative(name, root),
                )
        except ToolUnavailable as exc:
            return AnalyzerRun(name=self.name, error=f"semgrep unavailable: {exc}", seconds=time.monotonic() - start)
        findings = to_findings(report, changeset, targets, agent=agent, root=root)
        not_analyzed = semgrep_skipped(report, written, root=root)
        return AnalyzerRun(
            name=self.name, findings=findings, not_analyzed=not_analyzed, notes=notes, seconds=time.monotonic() - start
        )

    def _scan(
        self,
        command: list[str],
        scan_root: Path,
        written: list[str],
        config: dict[str, Any],
        tmp: Path,
        timeout_s: float,
        *,
        summaries: bool = False,
    ) -> dict[str, Any]:
        """One semgrep over ``scan_root`` (holding ``written``) with ``config``, written to
        ``tmp``; its report. The packaged rules run first and alone; the summary scan runs
        after it (measured on Flask-Admin 1.6.1, 102 files, 2 cores: both at the same time
        passed the 60 s limit and the whole analyzer was lost) and gives up on a file at its
        first rule time-out (:data:`SUMMARY_FILE_TIMEOUT_S`). Raises ToolUnavailable."""
        config_path = tmp / f"tokyo-rules-{int(summaries)}.yaml"
        # No YAML anchors/aliases: semgrep's OCaml CLI rejects a config that shares one list
        # between rules (`languages: *id001`, "Expected a list for languages").
        config_path.write_text(yaml.dump(config, Dumper=_NoAliasDumper, sort_keys=False), encoding="utf-8")
        if summaries:
            # The helper files by name (semgrep's OCaml CLI takes a list of files as fast as
            # their directory: 7.3 s for 298 files against 6.9 s for a copy of them alone).
            # Past MAX_NAMED_FILES (a command line's length) the whole tree is scanned instead.
            paths = [scan_root / p for p in written] if len(written) <= MAX_NAMED_FILES else [scan_root]
            return self._invoke(
                command, paths, timeout_s, config=config_path, per_file_s=SUMMARY_FILE_TIMEOUT_S, threshold=1
            )
        # A .pyw is named too (a directory scan skips it).
        paths = [scan_root, *(scan_root / p for p in written if not p.endswith(".py"))]
        return self._invoke(command, paths, timeout_s, config=config_path)

    def _invoke(
        self,
        command: list[str],
        paths: list[Path],
        timeout_s: float,
        *,
        config: Path,
        per_file_s: int | None = None,
        threshold: int | None = None,
    ) -> dict[str, Any]:
        """Run semgrep isolated and offline over ``paths`` with the rules of ``config`` (a
        :func:`tokyo_cli.analyzers.taint.build_config` file); its parsed JSON report.
        Raises ToolUnavailable."""
        per_file = per_file_s or max(1, min(PER_FILE_TIMEOUT_S, int(timeout_s)))
        cmd = [
            *command,
            "scan",
            *CLI_FLAGS,
            "--config",
            str(config),
            "--metrics",
            "off",
            "--disable-version-check",
            "--json",
            "--quiet",
            "--no-git-ignore",
            # Every target is a Python file tokyo chose: a .pyw counts too.
            "--scan-unknown-extensions",
            "--timeout",
            str(per_file),
            *(["--timeout-threshold", str(threshold)] if threshold else []),
            "--jobs",
            str(_jobs()),
            *(str(p) for p in paths),
        ]
        proc = run_isolated(cmd, timeout_s=timeout_s, extra_env=SEMGREP_ENV)
        # 0: scanned (findings or not; --error is not passed). Anything else is a failure.
        stdout = proc.stdout.decode("utf-8", errors="replace")
        try:
            report = json.loads(stdout[stdout.find("{") :]) if "{" in stdout else None
        except json.JSONDecodeError:
            report = None
        if isinstance(report, dict):
            # A rule semgrep refused would silently find nothing (with exit 0 or 2).
            for error in report.get("errors") or []:
                if isinstance(error, dict) and "rule" in str(error.get("type") or "").lower():
                    message = " ".join(str(error.get("message") or error.get("type")).split())
                    raise ToolUnavailable(f"semgrep refused a rule ({message[:200]})")
            if proc.returncode == 0 and isinstance(report.get("results"), list):
                return report
        raise ToolUnavailable(last_error_line(proc, default="no report on stdout"))


class _NoAliasDumper(yaml.SafeDumper):
    """A SafeDumper that writes every shared object out in full (no ``&id``/``*id``)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def semgrep_skipped(report: dict[str, Any], written: list[str], *, root: Path) -> dict[str, str]:
    """Repository path -> reason for each written file semgrep did not analyze: an error
    naming the file (a parse error), or a file missing from ``paths.scanned`` (over its size
    limit, ...)."""
    out: dict[str, str] = {}
    for error in report.get("errors") or []:
        if not isinstance(error, dict):
            continue
        kind = str(error.get("type") or "")
        # Level "warn" is a partial parse (the rest of the file was scanned); a timeout is a
        # warning too, but rules were left unfinished on that file.
        if str(error.get("level", "error")).lower() != "error" and "timeout" not in kind.lower():
            continue
        path = _relative(str(error.get("path") or ""), root)
        if path in written:
            message = " ".join(str(error.get("message") or kind or "error").split())
            out.setdefault(path, f"semgrep error ({message[:200]})")
    scanned = (report.get("paths") or {}).get("scanned")
    if isinstance(scanned, list):
        seen = {_relative(str(p), root) for p in scanned}
        for path in written:
            if path not in seen and path not in out:
                out[path] = "skipped by semgrep (not scanned: over its size limit or not parsed)"
    return out


def to_findings(
    report: dict[str, Any], changeset: Changeset, files: dict[str, FileChange], *, agent: str, root: Path
) -> list[Finding]:
    """Map semgrep's JSON ``results`` to findings on the lines this change touched
    (``root``: the directory the scanned files were written to)."""
    whole = whole_tree(changeset)
    out: list[Finding] = []
    for result in report.get("results") or []:
        if not isinstance(result, dict):
            continue
        path = _relative(str(result.get("path") or ""), root)
        change = files.get(path)
        first = int((result.get("start") or {}).get("line") or 0)
        last = int((result.get("end") or {}).get("line") or first)
        if change is None or first < 1:
            continue
        line = anchor_line(change, first, max(first, last), whole=whole, prefer=first)
        if line is None:
            continue
        out.append(_finding(result, path, line, changeset, agent))
    return out


def rule_id(check_id: str) -> str:
    """The rule's own id: semgrep prefixes a local rule's id with its config path, dotted."""
    return check_id.rsplit(".", 1)[-1] or check_id


def cwe_numbers(value: Any) -> list[int]:
    """The CWE numbers of a rule's ``metadata.cwe`` (a string or a list of strings)."""
    items = value if isinstance(value, list) else [value]
    out: list[int] = []
    for item in items:
        for m in _CWE.finditer(str(item or "")):
            if int(m.group(1)) not in out:
                out.append(int(m.group(1)))
    return out


def _finding(result: dict[str, Any], path: str, line: int, changeset: Changeset, agent: str) -> Finding:
    ident = rule_id(str(result.get("check_id") or "unknown"))
    extra = result.get("extra") or {}
    meta = extra.get("metadata") or {}
    message = " ".join(str(extra.get("message") or ident).split())
    hint = " ".join(str(meta.get("hint") or "").split())
    cwe_text = meta.get("cwe")
    cwe_label = "; ".join(cwe_text) if isinstance(cwe_text, list) else str(cwe_text or "")
    body = [message]
    via = extra.get("x-tokyo-via")
    if via:
        body.append(f"Followed across functions: {via}.")
    if hint:
        body.append(f"Fix: {hint}")
    body.append(f"Semgrep rule `{ident}`" + (f" ({cwe_label})." if cwe_label else "."))
    body.append(f"If this is intended, mark the line with `# nosemgrep: {ident}`.")
    finding = make_finding(
        changeset,
        path=path,
        line=line,
        severity=_SEVERITY.get(str(extra.get("severity") or "").upper(), Severity.MEDIUM),
        confidence=_CONFIDENCE.get(str(meta.get("confidence") or "").upper()),
        title=message,
        body="\n".join(body),
        agent=agent,
        rule=f"semgrep:{ident}",
        category="security",
    )
    finding.cwe = cwe_numbers(cwe_text)
    return finding


def _relative(filename: str, root: Path) -> str:
    """The repository path of a scanned file below ``root``; "" for anything else (never
    mapped onto a repository path)."""
    try:
        return Path(filename).relative_to(root).as_posix()
    except ValueError:
        return ""
