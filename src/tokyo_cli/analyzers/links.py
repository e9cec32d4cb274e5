"""Broken relative links and anchors in changed Markdown (rule ``doc-links:<check>``, medium).

Each changed Markdown file is parsed with markdown-it-py (CommonMark plus GitHub's tables),
so fenced code blocks of any length (a ````-fence holding ``` lines included), indented code
and code spans are code, whatever they contain. On every added line (every line for
``--all``) the relative targets of inline links and images (``[text](path#anchor)``),
reference definitions (``[id]: path``, on the definition's line; links that use one are not
checked again) and ``href``/``src`` attributes of inline and block HTML are resolved the way
GitHub renders them: relative to the file's directory, or to the repository root for a
leading ``/``. A target that does not exist in the reviewed version (``missing-file``) or
whose ``#anchor`` matches no heading or explicit ``id``/``name`` of the target Markdown file
(``missing-anchor``) is a medium finding. URLs with a scheme (``https:``, ``mailto:``) and
template placeholders are not checked. Line numbers come from the tokens' source maps.

Heading anchors follow GitHub's slugs of the heading's text: lower case, punctuation other
than ``-`` and ``_`` dropped, spaces to ``-``, and ``-1``, ``-2``... for repeated headings.

The reviewed repository is hostile input: targets resolve inside it only (a link climbing
above the root is itself a finding), symlinks are never read (:mod:`tokyo_cli.analyzers.tree`),
and a linked Markdown file over ``MAX_TARGET_BYTES`` is not read for its anchors.
"""

from __future__ import annotations

import posixpath
import re
import time
from urllib.parse import unquote

from markdown_it import MarkdownIt
from markdown_it.token import Token

from tokyo_cli.analyzers.base import AnalyzerRun
from tokyo_cli.analyzers.common import make_finding, whole_tree
from tokyo_cli.analyzers.tree import NewTree, TreeUnavailable, new_tree
from tokyo_cli.findings import Finding, Severity
from tokyo_cli.git.diff import split_lines
from tokyo_cli.git.repo import Changeset, FileChange, TargetKind, glob_match
from tokyo_cli.safety import safefs

MARKDOWN_GLOBS = ("*.md", "*.markdown", "*.mdx")
MAX_TARGET_BYTES = 1_000_000  # a linked Markdown file bigger than this is not read for anchors
_HTML = re.compile(r"""\b(?:href|src)\s*=\s*["']([^"']+)["']""", re.I)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^//")
_EXPLICIT_ID = re.compile(r"""<a\s[^>]*\b(?:name|id)\s*=\s*["']([^"']+)["']|\bid\s*=\s*["']([^"']+)["']""", re.I)


def github_slug(text: str) -> str:
    """GitHub's anchor for a heading: ``"Install & run (v2)"`` -> ``"install--run-v2"``."""
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links keep their text
    text = text.replace("`", "").strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _parser() -> MarkdownIt:
    """CommonMark plus GitHub's tables, with reference definitions as tokens (their lines)
    and link destinations left as written (no percent-encoding). One per call: cheap, and
    nothing is shared between threads."""
    md = MarkdownIt("commonmark", {"inline_definitions": True, "store_labels": True}).enable(["table", "strikethrough"])
    md.normalizeLink = lambda url: url  # type: ignore[method-assign]
    return md


def anchors_of(markdown: str) -> set[str]:
    """Every anchor a Markdown document defines: heading slugs (with GitHub's ``-N``
    suffixes for repeats) and explicit ``id``/``name`` attributes of its HTML. Code blocks
    and code spans define none."""
    found: set[str] = set()
    counts: dict[str, int] = {}
    tokens = _parser().parse(markdown)
    for i, tok in enumerate(tokens):
        if tok.type == "html_block":
            found |= _explicit_ids(tok.content)
        elif tok.type == "inline":
            for child in tok.children or []:
                if child.type == "html_inline":
                    found |= _explicit_ids(child.content)
            if i and tokens[i - 1].type == "heading_open":
                slug = github_slug(_plain_text(tok).replace("\n", " "))
                n = counts.get(slug, 0)
                counts[slug] = n + 1
                found.add(slug if n == 0 else f"{slug}-{n}")
    return found


def markdown_links(markdown: str) -> list[tuple[int, str]]:
    """``(1-based line, target as written)`` of every link, image, reference definition and
    HTML ``href``/``src`` of a Markdown document, in order; nothing inside code blocks or
    code spans. A link or image that uses a reference definition is reported once, on the
    definition's line."""
    lines = split_lines(markdown)
    tokens = _parser().parse(markdown)
    definitions = {t.meta.get("id") for t in tokens if t.type == "definition"}
    definition_urls = {t.meta.get("url") for t in tokens if t.type == "definition"}
    out: list[tuple[int, str]] = []
    for tok in tokens:
        if tok.map is None:
            continue
        first, end = tok.map
        if tok.type == "definition":
            out.append((first + 1, str(tok.meta.get("url", ""))))
        elif tok.type == "html_block":
            html = _without_comments(tok.content)
            out += [(first + 1 + html.count("\n", 0, m.start()), m.group(1)) for m in _HTML.finditer(html)]
        elif tok.type == "inline":
            at = first  # 0-based line of the child being read
            for child in _flatten(tok.children or []):
                if child.type in ("softbreak", "hardbreak"):
                    at += 1
                elif child.type == "html_inline":
                    for m in _HTML.finditer(child.content):
                        guess = min(at + child.content.count("\n", 0, m.start()), end - 1)
                        line = _line_of(lines, m.group(1), guess, end)
                        out.append(((guess if line is None else line) + 1, m.group(1)))
                    at += child.content.count("\n")
                elif child.type in ("link_open", "image"):
                    target = str(child.attrs.get("href" if child.type == "link_open" else "src", ""))
                    line = _line_of(lines, target, at, end)
                    if line is None:  # not written here: a reference's target, or escaped text
                        if child.meta.get("label") in definitions or target in definition_urls:
                            continue
                        line = min(at, end - 1)
                    out.append((line + 1, target))
    return sorted(out, key=lambda found: found[0])


def _flatten(children: list[Token]) -> list[Token]:
    """Inline tokens in order, an image's alt text included (it holds no links of its own,
    but its line breaks count)."""
    out: list[Token] = []
    for child in children:
        out.append(child)
        if child.type == "image" and child.children:
            out += [c for c in _flatten(child.children) if c.type in ("softbreak", "hardbreak")]
    return out


def _line_of(lines: list[str], target: str, start: int, end: int) -> int | None:
    """The first 0-based line in ``start..end-1`` that contains ``target`` (the counted line
    can lag: a code span joins its lines), else ``None``."""
    if not target:
        return None
    for n in range(start, min(end, len(lines))):
        if target in lines[n]:
            return n
    return None


def _plain_text(inline: Token) -> str:
    """The text a heading renders (code spans included, markup and HTML tags left out)."""
    return "".join(
        c.content if c.type in ("text", "code_inline") else "\n" if c.type == "softbreak" else ""
        for c in inline.children or []
    )


def _explicit_ids(html: str) -> set[str]:
    return {m.group(1) or m.group(2) for m in _EXPLICIT_ID.finditer(html)}


class DocLinkAnalyzer:
    """Broken relative links and anchors on the changed lines of Markdown files."""

    name = "doc-links"

    def run(self, changeset: Changeset, files: list[FileChange], *, agent: str, timeout_s: float = 60) -> AnalyzerRun:
        """Check the Markdown files among ``files``; git problems go to ``error``."""
        start = time.monotonic()
        targets = [
            f
            for f in files
            if f.skipped is None and glob_match(f.path, MARKDOWN_GLOBS) and changeset.new_content(f.path) is not None
        ]
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
            return AnalyzerRun(
                name=self.name,
                findings=findings,
                error=f"doc-links unavailable: {exc}",
                seconds=time.monotonic() - start,
            )
        return AnalyzerRun(name=self.name, findings=findings, seconds=time.monotonic() - start)


def _check_file(
    changeset: Changeset,
    change: FileChange,
    tree: NewTree,
    whole: bool,
    anchor_cache: dict[str, set[str] | None],
    agent: str,
) -> list[Finding]:
    here = posixpath.dirname(change.path)
    out = []
    for n, raw in markdown_links(changeset.new_content(change.path) or ""):
        if not (whole or n in change.added_lines):
            continue
        problem = _problem(raw, change.path, here, tree, anchor_cache)
        if problem is None:
            continue
        check, title, body = problem
        out.append(
            make_finding(
                changeset,
                path=change.path,
                line=n,
                severity=Severity.MEDIUM,
                title=title,
                body=body,
                agent=agent,
                rule=f"doc-links:{check}",
                category="docs",
                confidence=0.9,
            )
        )
    return out


def _without_comments(html: str) -> str:
    """``html`` with every ``<!-- ... -->`` blanked out, newlines kept (line numbers stay
    right): a comment is not rendered, so its links are not links (e.g. a cog template's
    ``src="docs/{sponsor["img"]}"`` in attrs' README)."""
    return _HTML_COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), html)


_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.S)


def _problem(
    raw: str, path: str, here: str, tree: NewTree, anchor_cache: dict[str, set[str] | None]
) -> tuple[str, str, str] | None:
    if _SCHEME.match(raw) or raw.startswith(("{{", "$", "<", "%")) or raw in ("#", ""):
        return None
    if "{" in raw or "}" in raw:  # a template placeholder ({sponsor[url]}, {{ page }}, {0}), not a path
        return None
    target, _, fragment = raw.partition("#")
    target = unquote(target.split("?", 1)[0])
    if not target:
        resolved = path
    else:
        joined = target.lstrip("/") if target.startswith("/") else posixpath.join(here, target)
        resolved = posixpath.normpath(joined)
        if resolved.startswith("../") or resolved == "..":
            return (
                "missing-file",
                f"Link `{raw}` points outside the repository",
                "The relative link climbs above the repository root, so it is broken on GitHub "
                "and in any copy of the repository.",
            )
        if not tree.exists(resolved):
            return (
                "missing-file",
                f"Broken link: `{raw}` does not exist",
                f"`{resolved}` is not a file or directory in this version of the repository "
                "(renamed, moved or never added?). Fix the path or remove the link.",
            )
    if not fragment or not glob_match(resolved, MARKDOWN_GLOBS):
        return None
    if resolved not in anchor_cache:
        data = tree.read(resolved) if not _known_too_big(tree, resolved) else None
        anchor_cache[resolved] = (
            anchors_of(data.decode("utf-8", errors="replace"))
            if data is not None and len(data) <= MAX_TARGET_BYTES
            else None
        )
    anchors = anchor_cache[resolved]
    if anchors is None or unquote(fragment).lower() in {a.lower() for a in anchors}:
        return None
    return (
        "missing-anchor",
        f"Broken anchor: `#{fragment}` is not a heading of `{resolved}`",
        f"`{resolved}` has no heading or id whose anchor is `{fragment}`, so the link opens the "
        "page at the top. Use the heading's anchor as GitHub renders it (lower case, spaces "
        "to `-`, punctuation dropped).",
    )


def _known_too_big(tree: NewTree, path: str) -> bool:
    """True for a working-tree file over ``MAX_TARGET_BYTES``, seen before reading it (a
    committed blob is measured after)."""
    if (
        tree.changeset.target.kind not in (TargetKind.WORKING, TargetKind.ALL)
        or tree.changeset.new_bytes(path) is not None
    ):
        return False
    st = safefs.lstat(tree.root, path)
    return st is not None and st.st_size > MAX_TARGET_BYTES
