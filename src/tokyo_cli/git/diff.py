"""Diff model and parsing: ``git diff`` text -> :class:`FileChange` with hunks and anchors.

Git's own headers decide paths and status (``rename from``/``rename to``, ``new file mode``,
the symmetric ``diff --git a/P b/P`` line), because they stay unambiguous for paths with
spaces, quotes or unicode; ``unidiff`` parses the hunks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Literal

from unidiff.errors import UnidiffParseError
from unidiff.patch import PatchSet  # where it is defined: unidiff's __init__ has no __all__

from tokyo_cli.errors import RepoError
from tokyo_cli.results import FileEntry

LineKind = Literal["+", "-", " "]
FileStatus = Literal["added", "modified", "deleted", "renamed"]


@dataclass(slots=True)
class DiffLine:
    """One diff line. ``text`` has no line terminator (no ``\\n``, no trailing ``\\r``).

    ``old_line``/``new_line`` are 1-based line numbers in the old/new file; ``None`` on the
    side the line does not exist ('+' has no old line, '-' no new line).
    """

    kind: LineKind
    text: str
    old_line: int | None
    new_line: int | None


@dataclass(slots=True)
class Hunk:
    """A unified-diff hunk: ``@@ -old_start,old_len +new_start,new_len @@ header``."""

    old_start: int
    old_len: int
    new_start: int
    new_len: int
    header: str = ""
    lines: list[DiffLine] = field(default_factory=list)

    def render(self) -> str:
        """The hunk as prompts show it: each line prefixed by its new-file line number.

        Shape::

            @@ -10,3 +10,4 @@ def f():
              10   kept()
                 - removed()
              11 + added()
        """
        width = max(4, len(str(self.new_start + self.new_len)))
        head = f"@@ -{self.old_start},{self.old_len} +{self.new_start},{self.new_len} @@"
        out = [f"{head} {self.header}".rstrip()]
        for line in self.lines:
            number = "" if line.new_line is None else str(line.new_line)
            out.append(f"{number:>{width}} {line.kind} {line.text}".rstrip())
        return "\n".join(out)


@dataclass
class FileChange:
    """One changed file. ``path`` is the new path (the old one for a deleted file).

    ``skipped`` is ``None`` when the file is reviewable, else why it is only listed: "binary",
    "deleted", "renamed" (pure rename), "vendored", "generated", "too large", "empty",
    "no content change" (mode change only), "submodule", "symlink" (listed, never followed),
    "unreadable" or "excluded".
    ``added_lines`` holds the new-file line numbers of '+' lines.
    """

    path: str
    status: FileStatus
    old_path: str | None = None
    binary: bool = False
    hunks: list[Hunk] = field(default_factory=list)
    added_lines: set[int] = field(default_factory=set)
    skipped: str | None = None
    additions: int = 0
    deletions: int = 0
    language: str | None = None
    submodule: bool = False

    def anchors(self) -> set[int]:
        """New-file line numbers inside hunks ('+' and ' ' lines): valid comment anchors."""
        return {ln.new_line for h in self.hunks for ln in h.lines if ln.new_line is not None}

    def entry(self) -> FileEntry:
        """This file as the run result lists it (``results.FileEntry``)."""
        return FileEntry(
            path=self.path,
            status=self.status,
            old_path=self.old_path,
            added=self.additions,
            removed=self.deletions,
            skipped=self.skipped,
        )


def parse_git_diff(text: str) -> list[FileChange]:
    """Parse ``git diff -p`` output (a/ b/ prefixes, any -M) into FileChanges, in order.

    Raises:
        RepoError: the text is not a diff git produced ("cannot parse git diff: ...").
    """
    return [_parse_chunk(chunk) for chunk in _split_chunks(text)]


def whole_file_change(path: str, content: str) -> FileChange:
    """An "added"-like FileChange whose single hunk covers all of ``content``: every line is
    a '+' line and an anchor. Used for untracked files and the whole-tree audit."""
    lines = split_lines(content)
    hunk = Hunk(0, 0, 1, len(lines), lines=[DiffLine("+", text, None, i) for i, text in enumerate(lines, 1)])
    change = FileChange(path=path, status="added", language=language_of(path))
    if lines:
        change.hunks = [hunk]
        change.added_lines = set(range(1, len(lines) + 1))
        change.additions = len(lines)
    return change


def split_lines(content: str) -> list[str]:
    """Lines as git counts them: split on ``\\n`` only, a trailing ``\\r`` dropped, and no
    phantom empty line after a final newline. ``"a\\r\\nb"`` -> ``["a", "b"]``."""
    if not content:
        return []
    lines = content.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]


_LANGUAGES = {
    ".py": "python",
    ".pyi": "python",
    ".pyw": "python",
    ".md": "markdown",
    ".markdown": "markdown",
    ".rst": "restructuredtext",
    ".txt": "text",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".json": "json",
    ".toml": "toml",
    ".ini": "ini",
    ".cfg": "ini",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".tsx": "typescript",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".kt": "kotlin",
    ".rb": "ruby",
    ".php": "php",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".hpp": "cpp",
    ".cs": "csharp",
    ".swift": "swift",
    ".sh": "shell",
    ".bash": "shell",
    ".zsh": "shell",
    ".tf": "terraform",
    ".hcl": "hcl",
    ".sql": "sql",
    ".html": "html",
    ".css": "css",
    ".scss": "scss",
    ".xml": "xml",
    ".proto": "protobuf",
    ".lua": "lua",
    ".r": "r",
    ".scala": "scala",
    ".dart": "dart",
    ".tcss": "css",
}
_NAMED = {"dockerfile": "dockerfile", "makefile": "makefile", "jenkinsfile": "groovy"}


def language_of(path: str) -> str | None:
    """Language name from the file name: "python", "markdown", "yaml", ...; ``None`` if unknown."""
    name = PurePosixPath(path).name.lower()
    for prefix, lang in _NAMED.items():
        if name == prefix or name.startswith(prefix + "."):
            return lang
    return _LANGUAGES.get(PurePosixPath(name).suffix)


# --- chunk parsing -------------------------------------------------------------------------

_HEADER = "diff --git "
_C_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}
_KINDS: dict[str, LineKind] = {"+": "+", "-": "-", " ": " "}
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')


def _split_chunks(text: str) -> list[list[str]]:
    chunks: list[list[str]] = []
    for line in _lf_lines(text):
        if line.startswith(_HEADER):
            chunks.append([line])
        elif chunks:
            chunks[-1].append(line)
    return chunks


def _lf_lines(text: str) -> list[str]:
    # str.splitlines also splits on \r, \x0b, \u2028...; git lines end only at \n.
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _parse_chunk(chunk: list[str]) -> FileChange:
    header = [ln.rstrip("\n") for ln in _header_lines(chunk)]
    old_path, new_path = _paths(header)
    status: FileStatus = "modified"
    if any(ln.startswith("new file mode") for ln in header):
        status = "added"
    elif any(ln.startswith("deleted file mode") for ln in header):
        status = "deleted"
    elif old_path != new_path:
        status = "renamed"
    binary = any(ln.startswith("Binary files ") or ln == "GIT binary patch" for ln in header)
    change = FileChange(
        path=old_path if status == "deleted" else new_path,
        old_path=old_path if status == "renamed" else None,
        status=status,
        binary=binary,
        language=language_of(new_path),
        submodule=any(ln.endswith(" 160000") for ln in header),
    )
    if not binary:
        _add_hunks(change, chunk)
    if not change.submodule and _only_submodule_lines(change):
        # A submodule with uncommitted work inside shows in a working-tree diff without an
        # index line (so without mode 160000): only its "Subproject commit SHA-dirty" line.
        change.submodule = True
    return change


_SUBPROJECT = re.compile(r"Subproject commit [0-9a-f]{40,64}(?:-dirty)?")


def _only_submodule_lines(change: FileChange) -> bool:
    lines = [dl.text for h in change.hunks for dl in h.lines]
    return 0 < len(lines) <= 2 and all(_SUBPROJECT.fullmatch(text) for text in lines)


def _header_lines(chunk: list[str]) -> list[str]:
    for i, line in enumerate(chunk):
        if line.startswith("@@ "):
            return chunk[:i]
    return chunk


def _paths(header: list[str]) -> tuple[str, str]:
    """(old path, new path) from a chunk's extended header lines."""
    old = new = None
    for line in header:
        if line.startswith("rename from "):
            old = _unquote(line[len("rename from ") :])
        elif line.startswith("rename to "):
            new = _unquote(line[len("rename to ") :])
    if old is not None and new is not None:
        return old, new
    path = _symmetric_path(header[0][len(_HEADER) :])
    if path is None:
        raise RepoError(f"cannot parse git diff header: {header[0]!r}")
    return path, path


def _symmetric_path(rest: str) -> str | None:
    """P from ``a/P b/P`` (or the quoted form); ``None`` if the two sides differ."""
    if rest.startswith('"'):
        found = _QUOTED.findall(rest)
        if len(found) == 2:
            a, b = (_unquote(f'"{q}"') for q in found)
            if a.startswith("a/") and b.startswith("b/") and a[2:] == b[2:]:
                return a[2:]
        return None
    size = (len(rest) - 5) // 2
    path = rest[2 : 2 + size]
    return path if rest == f"a/{path} b/{path}" else None


def _unquote(value: str) -> str:
    """Undo git's C-style path quoting (``"tab\\there\\303\\251"`` -> ``tab<TAB>hereé``)."""
    if not (len(value) >= 2 and value[0] == value[-1] == '"'):
        return value
    out = bytearray()
    body, i = value[1:-1], 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if body[i + 1 : i + 4].isdigit() and len(body[i + 1 : i + 4]) == 3:
                out.append(int(body[i + 1 : i + 4], 8))
                i += 4
                continue
            out.append(_C_ESCAPES.get(nxt, ord(nxt)))
            i += 2
            continue
        out.extend(c.encode("utf-8"))
        i += 1
    return out.decode("utf-8", errors="replace")


def _add_hunks(change: FileChange, chunk: list[str]) -> None:
    start = next((i for i, ln in enumerate(chunk) if ln.startswith("@@ ")), None)
    if start is None:
        return
    # unidiff gets neutral file headers: the real paths were read above, and its own header
    # regexes split paths containing " b/" in the wrong place.
    body = "--- a/f\n+++ b/f\n" + "".join(chunk[start:])
    try:
        patched = PatchSet(body)[0]
    except (UnidiffParseError, IndexError) as exc:
        raise RepoError(f"cannot parse git diff of {change.path}: {exc}") from None
    for uh in patched:
        hunk = Hunk(
            uh.source_start, uh.source_length, uh.target_start, uh.target_length, header=uh.section_header.strip()
        )
        for ul in uh:
            kind = _KINDS.get(ul.line_type)
            if kind is None:
                continue  # "\ No newline at end of file" markers
            text = ul.value[:-1] if ul.value.endswith("\n") else ul.value
            text = text[:-1] if text.endswith("\r") else text
            hunk.lines.append(DiffLine(kind, text, ul.source_line_no, ul.target_line_no))
            if kind == "+" and ul.target_line_no is not None:
                change.added_lines.add(ul.target_line_no)
                change.additions += 1
            elif kind == "-":
                change.deletions += 1
        change.hunks.append(hunk)
