"""zizmor (GitHub Actions security linter, from PyPI) as an offline analyzer.

The changed workflows (``.github/workflows/*.yml``) and composite action definitions
(``action.yml``) are written to a temporary directory at their relative paths and audited
with ``zizmor --offline --no-config --format json --persona auditor --no-exit-codes``
(``--offline``: no network, so no online audits and no GitHub token; see ``zizmor --help``).

Configuration from the reviewed repository is never used: a ``zizmor.yml`` in a pull request
could switch audits off for its own workflows, so ``--no-config`` disables all of zizmor's
configuration loading (and ``ZIZMOR_CONFIG`` is not in the tool's environment). Inline
``# zizmor: ignore[<audit>]`` comments stay honoured: they sit on the workflow line itself,
in the diff people review. zizmor runs through :mod:`tokyo_cli.safety.isolation`
(allow-listed environment, a fresh empty working directory), on absolute paths.

Kept: every finding of zizmor's default "regular" persona (its "minimal false positives"
set: dangerous triggers, template injection, unpinned actions, credential persistence, ...)
plus ``excessive-permissions`` from any persona, because over-broad ``write-all`` tokens are
a review finding even where zizmor's default stays quiet. A finding counts when one of its
primary locations touches an added line (any line for ``--all``); it is anchored there.

Severity: zizmor High/Medium/Low/Informational -> high/medium/low/info; confidence
High/Medium/Low -> 0.9/0.6/0.3. Rule ``zizmor:<audit id>``, category "ci".
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path, PurePosixPath
from typing import Any

from tokyo_cli.analyzers.base import AnalyzerRun
from tokyo_cli.analyzers.common import (
    ToolUnavailable,
    anchor_line,
    find_tool,
    make_finding,
    run_tool,
    whole_tree,
    write_files,
)
from tokyo_cli.findings import Finding, Severity
from tokyo_cli.git.repo import Changeset, FileChange, glob_match

WORKFLOW_GLOBS = (".github/workflows/*.yml", ".github/workflows/*.yaml", "action.yml", "action.yaml")
ALWAYS_KEPT = frozenset({"excessive-permissions"})
_SEVERITY = {"high": Severity.HIGH, "medium": Severity.MEDIUM, "low": Severity.LOW, "informational": Severity.INFO}
_CONFIDENCE = {"high": 0.9, "medium": 0.6, "low": 0.3}


class ZizmorAnalyzer:
    """zizmor over the changed GitHub Actions workflows and action definitions."""

    name = "zizmor"

    def __init__(self, command: list[str] | None = None) -> None:
        self.command = command

    def accepts(self, path: str) -> bool:
        """Only GitHub Actions workflow files: a missing zizmor leaves nothing else unanalyzed."""
        return glob_match(path, WORKFLOW_GLOBS)

    def run(self, changeset: Changeset, files: list[FileChange], *, agent: str, timeout_s: float = 60) -> AnalyzerRun:
        """Audit the workflow files among ``files``; tool problems go to ``error``."""
        start = time.monotonic()
        targets = {f.path: f for f in files if f.skipped is None and glob_match(f.path, WORKFLOW_GLOBS)}
        if not targets:
            return AnalyzerRun(name=self.name)
        command = self.command or ([exe] if (exe := find_tool("zizmor")) else None)
        if command is None:
            return AnalyzerRun(
                name=self.name, error="zizmor unavailable: the zizmor executable is not installed (pip install zizmor)"
            )
        try:
            with tempfile.TemporaryDirectory(prefix="tokyo-zizmor-") as tmp:
                root = Path(tmp).resolve()
                written = write_files(root, changeset, targets)
                args = [
                    *command,
                    "--offline",
                    "--no-config",
                    "--format",
                    "json",
                    "--persona",
                    "auditor",
                    "--no-exit-codes",
                    "--no-progress",
                    "--color",
                    "never",
                ]
                out = run_tool([*args, *(str(root / p) for p in written)], timeout_s=timeout_s)
        except ToolUnavailable as exc:
            return AnalyzerRun(name=self.name, error=f"zizmor unavailable: {exc}", seconds=time.monotonic() - start)
        try:
            report = json.loads(out or "[]")
        except json.JSONDecodeError:
            return AnalyzerRun(
                name=self.name, error="zizmor unavailable: its output is not JSON", seconds=time.monotonic() - start
            )
        findings = to_findings(report, changeset, targets, agent=agent, root=root)
        return AnalyzerRun(name=self.name, findings=findings, seconds=time.monotonic() - start)


def to_findings(
    report: list[dict[str, Any]],
    changeset: Changeset,
    files: dict[str, FileChange],
    *,
    agent: str,
    root: Path | None = None,
) -> list[Finding]:
    """Map zizmor's JSON (v1) findings to findings on the change's lines (``root``: the
    directory the audited files were written to, whose prefix their paths carry)."""
    whole = whole_tree(changeset)
    out: list[Finding] = []
    for item in report if isinstance(report, list) else []:
        ident = str(item.get("ident", ""))
        det = item.get("determinations") or {}
        if det.get("persona", "Regular") != "Regular" and ident not in ALWAYS_KEPT:
            continue
        if item.get("ignored"):
            continue
        for loc in item.get("locations") or []:
            symbolic = loc.get("symbolic") or {}
            if symbolic.get("kind") != "Primary":
                continue
            path = _path(symbolic, root)
            change = files.get(path or "")
            span = (loc.get("concrete") or {}).get("location") or {}
            first = int((span.get("start_point") or {}).get("row", -1)) + 1
            last = int((span.get("end_point") or {}).get("row", first - 1)) + 1
            if change is None or first < 1:
                continue
            line = anchor_line(change, first, max(first, last), whole=whole, prefer=first)
            if line is None:
                continue
            out.append(_finding(item, symbolic, change.path, line, changeset, agent))
            break  # one finding per zizmor result, on its first primary location in the change
    return out


def _finding(
    item: dict[str, Any], symbolic: dict[str, Any], path: str, line: int, changeset: Changeset, agent: str
) -> Finding:
    ident = str(item.get("ident", "unknown"))
    det = item.get("determinations") or {}
    desc = str(item.get("desc", ident)).strip()
    note = str(symbolic.get("annotation") or "").strip()
    title = f"{desc[:1].upper()}{desc[1:]}" + (f": {note}" if note else "")
    body = f"zizmor `{ident}`" + (f": {item['url']}" if item.get("url") else ".")
    if note:
        body = f"{note[:1].upper()}{note[1:]}.\n{body}"
    body += f"\nIf this is intended, add `# zizmor: ignore[{ident}]` on the line."
    return make_finding(
        changeset,
        path=path,
        line=line,
        severity=_SEVERITY.get(str(det.get("severity", "")).lower(), Severity.INFO),
        confidence=_CONFIDENCE.get(str(det.get("confidence", "")).lower()),
        title=title,
        body=body,
        agent=agent,
        rule=f"zizmor:{ident}",
        category="ci",
    )


def _path(symbolic: dict[str, Any], root: Path | None = None) -> str | None:
    key = symbolic.get("key") or {}
    local = key.get("Local") if isinstance(key, dict) else None
    raw = (local or {}).get("verbatim_path") or (local or {}).get("given_path")
    if not raw:
        return None
    if root is not None and Path(str(raw)).is_absolute():
        try:
            return Path(str(raw)).relative_to(root).as_posix()
        except ValueError:
            return None  # not a file tokyo wrote
    text = str(PurePosixPath(str(raw).replace("\\", "/")))
    return text[2:] if text.startswith("./") else text
