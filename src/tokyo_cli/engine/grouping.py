"""Grouping: the same analyzer rule firing many times in one change becomes one finding.

Two levels, both on by default and set per workflow (``group_repeats``, ``group_files``):

* **per file** — ``group_repeats`` (default 3) or more findings of one rule in one file become
  one finding that lists every location and is anchored on the first: "12 public definitions
  in app/api.py have no docstring: `a`, `b`, `c`, … (+9)";
* **per change** — when one rule fires in more than ``group_files`` (default 10) files, its
  findings in all those files become one finding. Never for security and correctness
  findings (:func:`tokyo_cli.policy.is_first`): each file with a vulnerability keeps its own.

Only analyzer findings (they have a ``rule``) are grouped; a model's findings stay as they
are. A group's severity and confidence are its members' highest; its agents their union.

Fingerprints and the ledger: every member keeps its own fingerprint in
:attr:`~tokyo_cli.findings.Finding.members`. The group's own fingerprint is a hash of its rule
and path (``*`` for a per-change group), so it is the same in every run. Dismissing a group
dismisses its members (:mod:`tokyo_cli.store.ledger`); a group is left out of a run only when
every member is dismissed, so a new member reopens it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from tokyo_cli.findings import Finding, GroupMember
from tokyo_cli.policy import is_first, rank_key
from tokyo_cli.safety.textsafe import quote_path

DEFAULT_GROUP_REPEATS = 3
DEFAULT_GROUP_FILES = 10
MAX_LISTED = 10  # locations written out in a group's body; JSON (members) and SARIF (relatedLocations) keep every one
_NAME = re.compile(r"`([^`]{1,80})`")

# Group titles for the rules that repeat most; others get "<first title> (and N more like it)".
_TITLES: dict[str, str] = {
    "docstrings:missing": "{n} public definitions {where}have no docstring",
    "test-gaps:untested": "{n} definitions {where}are not exercised by any test",
    "complexity": "{n} functions {where}are hard to follow (cyclomatic complexity)",
    "bandit:B101": "{n} `assert` statements {where}are used for checks that vanish under `python -O`",
}


def group_fingerprint(rule: str, path: str | None) -> str:
    """The 16-hex-digit fingerprint of the group of ``rule`` in ``path`` (``None``: the
    whole change). Independent of the members, so a group keeps it from run to run."""
    return hashlib.sha256("\x1f".join(["group", path or "*", rule]).encode()).hexdigest()[:16]


def group_repeats(
    findings: Iterable[Finding], *, repeats: int = DEFAULT_GROUP_REPEATS, files: int = DEFAULT_GROUP_FILES
) -> list[Finding]:
    """``findings`` with repeats of one rule folded into grouped findings (module docstring).

    Args:
        repeats: findings of one rule in one file that make a group (0 or 1: no grouping).
        files: a non-security rule firing in more than this many files makes one group for
            the whole change (0: never).

    Returns a new list sorted by :func:`tokyo_cli.policy.rank_key`; findings already grouped
    and findings without a rule pass through unchanged.
    """
    findings = list(findings)
    if repeats < 2:
        return sorted(findings, key=rank_key)
    out: list[Finding] = []
    by_rule: dict[str, list[Finding]] = {}
    for f in findings:
        if f.rule and not f.members and f.status != "dismissed":
            by_rule.setdefault(f.rule, []).append(f)
        else:
            out.append(f)
    for rule, same in by_rule.items():
        paths = {f.path for f in same}
        if files and len(paths) > files and not any(is_first(f) for f in same):
            out.append(_group(rule, None, same))
            continue
        by_path: dict[str, list[Finding]] = {}
        for f in same:
            by_path.setdefault(f.path, []).append(f)
        for path, members in by_path.items():
            out.extend([_group(rule, path, members)] if len(members) >= repeats else members)
    return sorted(out, key=rank_key)


def _group(rule: str, path: str | None, members: list[Finding]) -> Finding:
    members = sorted(members, key=lambda f: (f.path, f.line or 0, f.title))
    first = members[0]
    top = max(members, key=lambda f: f.severity.rank)
    agents: list[str] = []
    for f in members:
        agents += [a for a in f.agents if a not in agents]
    confidences = [f.confidence for f in members if f.confidence is not None]
    cwe: list[int] = []
    for f in members:
        cwe += [c for c in f.cwe if c not in cwe]
    n_files = len({f.path for f in members})
    return Finding(
        path=first.path,
        line=first.line,
        file_line=first.file_line,
        severity=top.severity,
        category=first.category,
        title=_title(rule, path, members, n_files),
        body=_body(rule, path, members, n_files),
        confidence=max(confidences) if confidences else None,
        agent=agents[0],
        agents=agents,
        step=first.step,
        source=first.source,
        rule=rule,
        anchor_text=first.anchor_text,
        fingerprint=group_fingerprint(rule, path),
        status="accepted" if all(f.status == "accepted" for f in members) else "open",
        corroborated=any(f.corroborated for f in members),
        members=[
            GroupMember(fingerprint=f.fingerprint, path=f.path, line=f.line, title=f.title, severity=f.severity)
            for f in members
        ],
        cwe=cwe,
    )


def _names(members: list[Finding], limit: int = 5) -> str:
    names = []
    for f in members:
        m = _NAME.search(f.title)
        if m and m.group(1) not in names:
            names.append(m.group(1))
    if not names:
        return ""
    shown = ", ".join(f"`{n}`" for n in names[:limit])
    return f": {shown}" + (f", … (+{len(names) - limit})" if len(names) > limit else "")


def _title(rule: str, path: str | None, members: list[Finding], n_files: int) -> str:
    n = len(members)
    where = f"in {n_files} files " if path is None else ""
    template = _TITLES.get(rule) or _TITLES.get(rule.split(":", 1)[0])
    if template:
        title = template.format(n=n, where=where) + _names(members)
    else:
        title = (
            f"{members[0].title} (and {n - 1} more like it{' in ' + str(n_files) + ' files' if path is None else ''})"
        )
    return title if len(title) <= 300 else title[:299] + "…"


def _body(rule: str, path: str | None, members: list[Finding], n_files: int) -> str:
    scope = f"{len(members)} times in this file" if path is not None else f"{len(members)} times in {n_files} files"
    severities = sorted({f.severity for f in members}, key=lambda s: -s.rank)
    head = (
        f"Rule `{rule}` fired {scope}; they are grouped into one finding "
        f"({', '.join(s.value for s in severities)}). Each location:"
    )
    lines = [head, ""]
    for f in members[:MAX_LISTED]:
        where = quote_path(f.path) if f.line is None else f"{quote_path(f.path)}:{f.line}"
        lines.append(f"- `{where}` — {f.title}")
    if len(members) > MAX_LISTED:
        lines.append(f"- … and {len(members) - MAX_LISTED} more (every location is in the JSON report)")
    detail = members[0].body.strip()
    if detail:
        lines += ["", detail]
    return "\n".join(lines)


def member_count(findings: Iterable[Finding]) -> int:
    """How many findings ``findings`` stand for: a group counts as its members."""
    return sum(len(f.members) or 1 for f in findings)


__all__ = ["DEFAULT_GROUP_FILES", "DEFAULT_GROUP_REPEATS", "group_fingerprint", "group_repeats", "member_count"]
