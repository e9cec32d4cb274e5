"""Configuration files that no longer parse: YAML (PyYAML) and TOML (tomllib).

A changed ``.yml``/``.yaml``/``.toml`` file whose new version does not parse, while its old
version did (or it is new), is a finding (rule ``config-syntax:yaml`` or
``config-syntax:toml``, high: CI, deploys and builds that read it will fail). YAML is
*composed* (``yaml.compose_all``), not constructed, so custom tags such as CloudFormation's
``!Ref`` are fine; templates that are not YAML until rendered (Helm ``templates/``, Jinja)
are skipped. The finding sits on the error line when the change touched it, else on the
first added line before it, else on the first added line.
"""

from __future__ import annotations

import re
import time
import tomllib

from tokyo_cli.analyzers.base import AnalyzerRun
from tokyo_cli.analyzers.common import make_finding, old_text
from tokyo_cli.config.limits import toml_too_deep
from tokyo_cli.findings import Finding, Severity
from tokyo_cli.git.repo import Changeset, FileChange, glob_match

YAML_GLOBS = ("*.yml", "*.yaml")
TOML_GLOBS = ("*.toml",)
TEMPLATE_GLOBS = ("**/templates/**", "*.j2", "*.jinja", "*.jinja2", "*.tmpl", "*.tpl")
_TEMPLATE_MARK = re.compile(r"^\s*\{\{|\{%")
_TOML_LINE = re.compile(r"at line (\d+)")


def yaml_error(text: str) -> tuple[str, int | None] | None:
    """``(message, 1-based line or None)`` when ``text`` is not valid YAML, else ``None``
    (also when it nests too deeply for PyYAML to check).

    Raises:
        ImportError: PyYAML is not installed.
    """
    import yaml

    try:
        for _ in yaml.compose_all(text, Loader=yaml.SafeLoader):
            pass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        return problem or "invalid YAML", (mark.line + 1) if mark is not None else None
    except yaml.YAMLError as exc:
        return str(exc).splitlines()[0], None
    except RecursionError:  # nested past PyYAML's recursive composer: too deep to check, not invalid
        return None
    return None


def toml_error(text: str) -> tuple[str, int | None] | None:
    """``(message, 1-based line or None)`` when ``text`` is not valid TOML, else ``None``
    (also when it nests too deeply to check: tomllib would recurse past the stack, or hold
    every prefix of a 100,000-part dotted key in memory, see ``config.limits.toml_too_deep``)."""
    if toml_too_deep(text):
        return None
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_LINE.search(str(exc))
        return str(exc), int(found.group(1)) if found else None
    return None


class ConfigSyntaxAnalyzer:
    """YAML and TOML files the change leaves unparseable."""

    name = "config-syntax"

    def run(self, changeset: Changeset, files: list[FileChange], *, agent: str, timeout_s: float = 60) -> AnalyzerRun:
        """Parse the changed YAML/TOML files among ``files``; never raises for bad input."""
        start = time.monotonic()
        findings: list[Finding] = []
        for change in files:
            kind = (
                "yaml"
                if glob_match(change.path, YAML_GLOBS)
                else "toml"
                if glob_match(change.path, TOML_GLOBS)
                else None
            )
            text = changeset.new_content(change.path)
            if kind is None or text is None or change.skipped is not None:
                continue
            if kind == "yaml" and (glob_match(change.path, TEMPLATE_GLOBS) or _TEMPLATE_MARK.search(text)):
                continue
            check = yaml_error if kind == "yaml" else toml_error
            try:
                problem = check(text)
            except ImportError as exc:
                return AnalyzerRun(name=self.name, findings=findings, error=f"config-syntax unavailable: {exc}")
            if problem is None:
                continue
            old = old_text(changeset, change)
            if old is not None and check(old) is not None:
                continue  # it did not parse before either: not this change's doing
            message, line = problem
            findings.append(
                make_finding(
                    changeset,
                    path=change.path,
                    line=_anchor(change, line),
                    severity=Severity.HIGH,
                    title=f"{kind.upper()} no longer parses: {message.splitlines()[0][:120]}",
                    body=f"{change.path} is not valid {kind.upper()}"
                    + (f" (line {line})" if line else "")
                    + f": {message}\n"
                    "Every tool that reads this file (CI, deploys, builds) will fail on it.",
                    agent=agent,
                    rule=f"config-syntax:{kind}",
                    category="config",
                    confidence=0.95,
                )
            )
        return AnalyzerRun(name=self.name, findings=findings, seconds=time.monotonic() - start)


def _anchor(change: FileChange, line: int | None) -> int | None:
    """The error line if the change added it; else the last added line before it (parsers
    often report the line after the mistake, or the end of the file); else the error line
    if it is in a hunk; else the first added line."""
    if line is not None and line in change.added_lines:
        return line
    added = sorted(change.added_lines)
    before = [n for n in added if line is not None and n <= line]
    if before:
        return before[-1]
    if line is not None and line in change.anchors():
        return line
    return added[0] if added else None
