"""Broken relative links and anchors in changed Markdown (rule ``doc-links:<check>``).

For every added line of a changed Markdown file (every line for ``--all``), outside fenced
code blocks and inline code, the relative targets of inline links and images
(``[text](path#anchor)``), reference definitions (``[id]: path``) and HTML ``href``/``src``
attributes are resolved the way GitHub renders them: relative to the file's directory, or to
the repository root for a leading ``/``. A target that does not exist in the reviewed
version (``missing-file``) or whose ``#anchor`` matches no heading or explicit
``id``/``name`` of the target Markdown file (``missing-anchor``) is a medium finding.
URLs with a scheme (``https:``, ``mailto:``) and template placeholders are not checked.

Heading anchors follow GitHub's slugs: lower case, punctuation other than ``-`` and ``_``
dropped, spaces to ``-``, and ``-1``, ``-2``... for repeated headings.
"""

from __future__ import annotations

import posixpath
import re
import time
from urllib.parse import unquote

from tokyo_cli.analyzers.base import AnalyzerRun
from tokyo_cli.analyzers.common import make_finding, whole_tree
from tokyo_cli.analyzers.tree import NewTree, TreeUnavailable, new_tree
from tokyo_cli.diffparse import split_lines
from tokyo_cli.findings import Finding, Severity
from tokyo_cli.repo import Changeset, FileChange, glob_match

MARKDOWN_GLOBS = ("*.md", "*.markdown", "*.mdx")
_INLINE = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)")
_REFDEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)")
_HTML = re.compile(r"""\b(?:href|src)\s*=\s*["']([^"']+)["']""", re.I)
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^//")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_EXPLICIT_ID = re.compile(r"""<a\s[^>]*\b(?:name|id)\s*=\s*["']([^"']+)["']|\bid\s*=\s*["']([^"']+)["']""", re.I)


def github_slug(text: str) -> str:
    """GitHub's anchor for a heading: ``"Install & run (v2)"`` -> ``"install--run-v2"``."""
    text = re.sub(r"<[^>]+>", "", text)           # inline HTML
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links keep their text
    text = text.replace("`", "").strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors_of(markdown: str) -> set[str]:
    """Every anchor a Markdown document defines: heading slugs (with GitHub's ``-N``
    suffixes for repeats) and explicit ``id``/``name`` attributes."""
    found: set[str] = set()
    counts: dict[str, int] = {}
    lines = split_lines(markdown)
    in_fence = False
    for i, line in enumerate(lines):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        for m in _EXPLICIT_ID.finditer(line):
            found.add(m.group(1) or m.group(2))
        heading = None
        atx = _HEADING.match(line)
        if atx:
            heading = atx.group(2)
        elif i + 1 < len(lines) and line.strip() and _SETEXT.match(lines[i + 1]) and not line.lstrip().startswith(("-", "*", ">")):
            heading = line.strip()
        if heading is None:
            continue
        slug = github_slug(heading)
        n = counts.get(slug, 0)
        counts[slug] = n + 1
        found.add(slug if n == 0 else f"{slug}-{n}")
    return found


def link_targets(line: str) -> list[str]:
    """The link targets on one Markdown line (inline code removed first)."""
    line = _CODE_SPAN.sub("", line)
    targets = [m.group(1) for m in _INLINE.finditer(line)]
    ref = _REFDEF.match(line)
    if ref:
        targets.append(ref.group(1))
    targets += [m.group(1) for m in _HTML.finditer(line)]
    return targets


class DocLinkAnalyzer:
    """Broken relative links and anchors on the changed lines of Markdown files."""

    name = "doc-links"

    def run(self, changeset: Changeset, files: list[FileChange], *, agent: str,
            timeout_s: float = 60) -> AnalyzerRun:
        """Check the Markdown files among ``files``; git problems go to ``error``."""
        start = time.monotonic()
        targets = [f for f in files if f.skipped is None and glob_match(f.path, MARKDOWN_GLOBS)
                   and changeset.new_content(f.path) is not None]
        if not targets:
            return AnalyzerRun(name=self.name)
        tree = new_tree(changeset, timeout_s=timeout_s)
        whole = whole_tree(changeset)
        findings: list[Finding] = []
        anchor_cache: dict[str, set[str] | None] = {}
        try:
            for change in targets:
                findings += _check_file(changeset, change, tree, whole, anchor_cache, agent)
        except TreeUnavailable as exc:
            return AnalyzerRun(name=self.name, findings=findings, error=f"doc-links unavailable: {exc}",
                               seconds=time.monotonic() - start)
        return AnalyzerRun(name=self.name, findings=findings, seconds=time.monotonic() - start)


def _check_file(changeset: Changeset, change: FileChange, tree: NewTree, whole: bool,
                anchor_cache: dict[str, set[str] | None], agent: str) -> list[Finding]:
    lines = split_lines(changeset.new_content(change.path) or "")
    here = posixpath.dirname(change.path)
    out = []
    in_fence = False
    for n, line in enumerate(lines, 1):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence or not (whole or n in change.added_lines):
            continue
        for raw in link_targets(line):
            problem = _problem(raw, change.path, here, tree, anchor_cache)
            if problem is None:
                continue
            check, title, body = problem
            out.append(make_finding(changeset, path=change.path, line=n, severity=Severity.MEDIUM,
                                    title=title, body=body, agent=agent, rule=f"doc-links:{check}",
                                    category="docs", confidence=0.9))
    return out


def _problem(raw: str, path: str, here: str, tree: NewTree,
             anchor_cache: dict[str, set[str] | None]) -> tuple[str, str, str] | None:
    if _SCHEME.match(raw) or raw.startswith(("{{", "$", "<", "%")) or raw in ("#", ""):
        return None
    target, _, fragment = raw.partition("#")
    target = unquote(target.split("?", 1)[0])
    if not target:
        resolved = path
    else:
        joined = target.lstrip("/") if target.startswith("/") else posixpath.join(here, target)
        resolved = posixpath.normpath(joined)
        if resolved.startswith("../") or resolved == "..":
            return ("missing-file", f"Link `{raw}` points outside the repository",
                    "The relative link climbs above the repository root, so it is broken on GitHub "
                    "and in any copy of the repository.")
        if not tree.exists(resolved):
            return ("missing-file", f"Broken link: `{raw}` does not exist",
                    f"`{resolved}` is not a file or directory in this version of the repository "
                    "(renamed, moved or never added?). Fix the path or remove the link.")
    if not fragment or not glob_match(resolved, MARKDOWN_GLOBS):
        return None
    if resolved not in anchor_cache:
        data = tree.read(resolved)
        anchor_cache[resolved] = anchors_of(data.decode("utf-8", errors="replace")) if data is not None else None
    anchors = anchor_cache[resolved]
    if anchors is None or unquote(fragment).lower() in {a.lower() for a in anchors}:
        return None
    return ("missing-anchor", f"Broken anchor: `#{fragment}` is not a heading of `{resolved}`",
            f"`{resolved}` has no heading or id whose anchor is `{fragment}`, so the link opens the "
            "page at the top. Use the heading's anchor as GitHub renders it (lower case, spaces "
            "to `-`, punctuation dropped).")
