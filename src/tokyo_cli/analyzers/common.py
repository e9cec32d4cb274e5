"""Helpers every analyzer shares: test paths, the old version of a changed file, anchoring,
the Finding builder, and a small index of a Python module's public definitions.

The old version of a file is rebuilt from its new text and its hunks (each hunk's context
and '-' lines are the old side), so analyzers compare before and after without calling git.
"""

from __future__ import annotations

import ast
import heapq
import os
import shutil
import struct
import sys
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from tokyo_cli.findings import Finding, Severity
from tokyo_cli.git.diff import split_lines
from tokyo_cli.git.repo import Changeset, FileChange, TargetKind, glob_match

# Re-exported: run_tool raises it, and the analyzers catch it from here.
from tokyo_cli.safety.isolation import ToolUnavailable as ToolUnavailable
from tokyo_cli.safety.isolation import last_error_line, run_isolated
from tokyo_cli.safety.textsafe import quote_path

TEST_GLOBS = ("test_*.py", "*_test.py", "tests/**", "**/tests/**", "test/**", "**/test/**", "conftest.py")
# Code that is not a library's public API: scripts, examples, benchmarks, docs, build glue.
NON_LIBRARY_GLOBS = (
    *TEST_GLOBS,
    "benchmarks/**",
    "**/benchmarks/**",
    "scripts/**",
    "examples/**",
    "docs/**",
    "setup.py",
    "noxfile.py",
    "__main__.py",
    "**/migrations/**",
)
PYTHON_SUFFIXES = (".py", ".pyw")


def is_python(path: str) -> bool:
    """True for Python source files (``.py``/``.pyw``)."""
    return path.endswith(PYTHON_SUFFIXES)


def is_test_path(path: str) -> bool:
    """True for pytest-style test modules and anything under a tests/ or test/ directory."""
    return glob_match(path, TEST_GLOBS)


def is_library_python(path: str) -> bool:
    """Python code whose public names are an API (not tests, scripts, docs or examples)."""
    return is_python(path) and not glob_match(path, NON_LIBRARY_GLOBS)


def whole_tree(changeset: Changeset) -> bool:
    """True for a whole-tree audit (``--all``): every line counts as changed."""
    return changeset.target.kind is TargetKind.ALL


def old_lines(changeset: Changeset, change: FileChange) -> list[str] | None:
    """The old version of ``change`` as lines, rebuilt from its new text and its hunks.

    ``None`` for an added file, a whole-tree audit, or a file whose new text is unknown
    (binary, too large). A deleted file's old text is its hunks' '-' lines.
    """
    if change.status == "added" or whole_tree(changeset):
        return None
    if change.status == "deleted":
        return [ln.text for h in change.hunks for ln in h.lines if ln.kind == "-"]
    text = changeset.new_content(change.path)
    if text is None:
        return None
    new = split_lines(text)
    out: list[str] = []
    pos = 0  # 0-based index into ``new``
    for hunk in change.hunks:
        # A hunk with no new lines sits *after* new line ``new_start`` (git convention).
        start = hunk.new_start - 1 if hunk.new_len else hunk.new_start
        out.extend(new[pos:start])
        out.extend(ln.text for ln in hunk.lines if ln.kind != "+")
        pos = start + hunk.new_len
    out.extend(new[pos:])
    return out


def old_text(changeset: Changeset, change: FileChange) -> str | None:
    """:func:`old_lines` joined with newlines (``None`` in the same cases)."""
    lines = old_lines(changeset, change)
    return None if lines is None else "\n".join(lines) + "\n"


def touched(change: FileChange, first: int, last: int, whole: bool) -> list[int]:
    """Added lines in ``first..last`` (every line of the span in a whole-tree audit)."""
    if whole:
        return list(range(first, last + 1))
    return sorted(n for n in change.added_lines if first <= n <= last)


def anchor_line(change: FileChange, first: int, last: int, *, whole: bool, prefer: int | None = None) -> int | None:
    """Where to put a finding about lines ``first..last``, or ``None`` when the change did
    not touch them: ``prefer`` when it is a valid anchor (an added or context line), else
    the first added line of the span."""
    lines = touched(change, first, last, whole)
    if not lines:
        return None
    # An added line is an anchor: the set of all anchors is built only for another line (it
    # was built for every definition of a 10,000-file change, 1.5 s of docstrings' CPU).
    if prefer is not None and (whole or prefer in lines or prefer in change.anchors()):
        return prefer
    return lines[0]


def removal_anchor(change: FileChange, old_line: int) -> int | None:
    """The new-file line a comment about removed old line ``old_line`` should sit on: the
    next line of its hunk that exists in the new file (or the previous one at a hunk end)."""
    for hunk in change.hunks:
        at = next((i for i, ln in enumerate(hunk.lines) if ln.kind == "-" and ln.old_line == old_line), None)
        if at is None:
            continue
        for ln in hunk.lines[at + 1 :]:
            if ln.new_line is not None:
                return ln.new_line
        for ln in reversed(hunk.lines[:at]):
            if ln.new_line is not None:
                return ln.new_line
        return None
    return None


def changed_texts(
    changeset: Changeset, files: Iterable[FileChange], accept: Callable[[str], bool]
) -> Iterator[tuple[FileChange, str]]:
    """``(change, new text)`` for each reviewable file of ``files`` whose path ``accept``s
    and whose new text is known."""
    for change in files:
        if change.skipped is None and accept(change.path):
            text = changeset.new_content(change.path)
            if text is not None:
                yield change, text


def make_finding(
    changeset: Changeset,
    *,
    path: str,
    line: int | None,
    severity: Severity,
    title: str,
    body: str,
    agent: str,
    rule: str,
    category: str,
    confidence: float | None = None,
    suggestion: str | None = None,
    anchor_text: str | None = None,
    cwe: list[int] | None = None,
) -> Finding:
    """An analyzer finding (``source="analyzer"``) anchored at ``path:line`` (``None`` =
    file-level); ``anchor_text`` defaults to the new line's text."""
    if anchor_text is None:
        anchor_text = changeset.line_text(path, line) if line is not None else ""
    title, body = _quote_odd_paths(changeset, title), _quote_odd_paths(changeset, body)
    return Finding(
        path=path,
        line=line,
        severity=severity,
        category=category,
        title=title[:200],
        body=body,
        agent=agent,
        source="analyzer",
        rule=rule,
        confidence=confidence,
        suggestion=suggestion,
        anchor_text=anchor_text,
        cwe=list(cwe or []),
    )


def _quote_odd_paths(changeset: Changeset, text: str) -> str:
    """``text`` with every changed path that holds a newline or control character written the
    way :func:`~tokyo_cli.safety.textsafe.quote_path` shows it: a hostile file name quoted into a
    finding's title or body must not start a line of its own ("CRITICAL fake.py:1 ...")."""
    odd = changeset.memo.get(_ODD_PATHS)
    if odd is None:
        odd = sorted(
            ((f.path, quote_path(f.path)) for f in changeset.files if quote_path(f.path) != f.path),
            key=lambda pq: -len(pq[0]),
        )
        changeset.memo[_ODD_PATHS] = odd
    for raw, quoted in odd:
        text = text.replace(raw, quoted)
    return text


_ODD_PATHS = "analyzers.common.odd_paths"


# --- Python definitions -----------------------------------------------------------------

DefKind = Literal["function", "method", "class"]


@dataclass
class PyDef:
    """A function, method or class defined at module or class level.

    Lines are 1-based: ``line`` is the ``def``/``class`` line, ``first`` includes decorators,
    ``header_end`` is the last line of the signature, ``last`` the last line of the body.
    """

    name: str
    qualname: str
    kind: DefKind
    line: int
    first: int
    header_end: int
    last: int
    public: bool
    has_docstring: bool
    decorators: list[str] = field(default_factory=list)
    node: ast.AST | None = field(default=None, repr=False)

    @property
    def trivial(self) -> bool:
        """A body of one statement that does no work: ``pass``, ``...``, a bare return of a
        name/attribute/constant, or ``raise NotImplementedError``; and abstract methods,
        overloads and properties (a getter is not behaviour worth its own test)."""
        if any(
            d.split(".")[-1] in ("abstractmethod", "overload", "property", "setter", "cached_property")
            for d in self.decorators
        ):
            return True
        node = self.node
        if self.kind == "class" or not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return False
        body = node.body[1:] if self.has_docstring else node.body
        if len(body) != 1:
            return not body
        stmt = body[0]
        if isinstance(stmt, ast.Pass):
            return True
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            return True
        if isinstance(stmt, ast.Return):
            return stmt.value is None or isinstance(stmt.value, (ast.Name, ast.Attribute, ast.Constant))
        if isinstance(stmt, ast.Raise) and stmt.exc is not None:
            exc = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
            return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"
        return False


# CPython 3.11 keeps the AST constructor's recursion depth in per-interpreter state, so
# ast.parse in two threads at once can fail with a spurious "SystemError: AST constructor
# recursion depth mismatch" (python/cpython#106905; seen here on a real release of attrs
# with analyzers running concurrently). Every in-process parse of analyzer code holds this
# lock: parse_ast, and radon and coverage.py's parser in complexity.py and coverage_data.py.
AST_LOCK = threading.Lock()
_ROOM = threading.Condition(AST_LOCK)  # a kept tree was taken by the last one waiting for it


# --- one parse of each file for the analyzers that read Python trees ------------------------
#
# docstrings and readme-mentions (one step), test-gaps (another) and complexity (a third)
# each read the tree of every changed Python file, at the same time, in the same order. On
# the 10,000-file change of benchmarks/bench_audit.py --scale that was four parses of ~1 ms
# each per file, and an LRU of recent trees did not hold once the threads drifted apart.
# So run_analyzers registers each such analyzer before it starts (a TreeConsumer: which new
# files it will parse, from its ``parses(path)`` and the files it was given), and the first
# analyzer to parse a file keeps the tree for the registered others that will parse it; the
# tree is dropped when each of them took it, or finished. A tree is ~60x its source's bytes,
# so at most SHARED_SOURCE_BYTES of source (~120 MB of trees) are kept waiting: the thread
# that would keep more waits for the others to catch up (the GIL runs one of them at a time
# anyway; never while a kept tree waits for that thread itself), at most SHARED_WAIT_S,
# then drops the oldest kept trees down to half the bound (whoever still needed them parses
# them again). Trees nobody waits for stay in a small LRU
# (RECENT_SOURCE_BYTES) for a repeat parse by the same analyzer.
SHARED_SOURCE_BYTES = 2_000_000
SHARED_WAIT_S = 5.0
RECENT_SOURCE_BYTES = 1_000_000


@dataclass(eq=False)
class TreeConsumer:
    """An analyzer run that reads Python trees with :func:`parse_ast`: ``parses(path)`` is
    True for each repository path whose new version it will parse (identity is the object)."""

    name: str
    parses: Callable[[str], bool]


@dataclass(eq=False)
class _Kept:
    tree: ast.Module
    size: int  # len(source)
    waiting: set[TreeConsumer]


_consumers: set[TreeConsumer] = set()
_pinned: dict[str | bytes, _Kept] = {}  # trees someone waits for, oldest first
_pinned_bytes = 0
_owed: dict[TreeConsumer | None, int] = {}  # consumer -> kept trees waiting for it
_recent: OrderedDict[str | bytes, ast.Module] = OrderedDict()  # trees nobody waits for, LRU
_recent_bytes = 0
_kept_once: set[int] = set()  # hash(source) of every tree kept for others: never kept twice
_CONSUMER: ContextVar[TreeConsumer | None] = ContextVar("tokyo_tree_consumer", default=None)
tree_stats = {"parsed": 0, "shared": 0, "dropped": 0}
"""Counters of this process (for tests and benchmarks): ``parsed`` (``ast.parse`` calls by
:func:`parse_ast`), ``shared`` (trees handed to a consumer that another one parsed),
``dropped`` (kept trees dropped before all their consumers took them)."""


def register_tree_consumers(consumers: Iterable[TreeConsumer]) -> None:
    """Register ``consumers`` (before their analyzers start): from now on a tree one of them
    will parse is kept for it when another parses it first. Thread-safe."""
    with AST_LOCK:
        if not _consumers:
            _kept_once.clear()
        _consumers.update(consumers)


def unregister_tree_consumer(consumer: TreeConsumer) -> None:
    """``consumer`` finished (or was abandoned): nothing is kept for it any more; when it was
    the last one, every kept tree is dropped. Idempotent, thread-safe."""
    global _pinned_bytes, _recent_bytes
    with AST_LOCK:
        _consumers.discard(consumer)
        _owed.pop(consumer, None)
        for source, kept in list(_pinned.items()):
            if consumer in kept.waiting:
                kept.waiting.discard(consumer)
                if not kept.waiting:
                    _unpin(source, kept)
        if not _consumers:
            _pinned.clear()
            _recent.clear()
            _owed.clear()
            _pinned_bytes = _recent_bytes = 0
        _ROOM.notify_all()


@contextmanager
def consuming_trees(consumer: TreeConsumer | None) -> Iterator[None]:
    """Within the block (this thread: a context variable), :func:`parse_ast` takes trees for
    ``consumer`` (registered with :func:`register_tree_consumers`); unregistered at the end."""
    token = _CONSUMER.set(consumer)
    try:
        yield
    finally:
        _CONSUMER.reset(token)
        if consumer is not None:
            unregister_tree_consumer(consumer)


def _unpin(source: str | bytes, kept: _Kept) -> None:
    """Move a tree nobody waits for any more to the LRU (AST_LOCK held)."""
    global _pinned_bytes
    del _pinned[source]
    _pinned_bytes -= kept.size
    _ROOM.notify_all()
    _remember(source, kept.tree)


def _make_room(consumer: TreeConsumer | None) -> None:
    """Wait (AST_LOCK held, released while waiting) until the kept trees fit
    SHARED_SOURCE_BYTES or some of them wait for ``consumer`` (then it is the one to go on:
    two threads ahead on different files never wait for each other), at most SHARED_WAIT_S;
    then drop the oldest down to half of SHARED_SOURCE_BYTES."""
    global _pinned_bytes
    deadline = time.monotonic() + SHARED_WAIT_S
    while _pinned_bytes > SHARED_SOURCE_BYTES and not _owed.get(consumer):
        left = deadline - time.monotonic()
        if left <= 0:
            while _pinned and _pinned_bytes > SHARED_SOURCE_BYTES // 2:
                old = next(iter(_pinned))
                dropped = _pinned.pop(old)
                _pinned_bytes -= dropped.size
                for c in dropped.waiting:
                    _owed[c] -= 1
                tree_stats["dropped"] += 1
            return
        _ROOM.wait(left)


def parse_ast(source: str | bytes, *, path: str | None = None) -> ast.Module:
    """``ast.parse(source)`` under :data:`AST_LOCK`; raises what ``ast.parse`` raises.

    ``path``: the repository path whose new version ``source`` is. While analyzers that read
    trees run (:func:`register_tree_consumers`), the tree of a file one of them parses first
    is kept for the others that will parse it (see ``SHARED_SOURCE_BYTES``), and the same
    source parsed again soon after gets the same tree object: callers only read trees,
    never change them. May wait (at most ``SHARED_WAIT_S``) for the others to catch up."""
    global _pinned_bytes
    consumer = _CONSUMER.get()
    with AST_LOCK:
        kept = _pinned.get(source)
        if kept is not None:
            if consumer in kept.waiting:
                tree_stats["shared"] += 1
                kept.waiting.discard(consumer)
                _owed[consumer] -= 1
                if not kept.waiting:
                    _unpin(source, kept)
            return kept.tree
        tree = _recent.get(source)
        if tree is not None:
            _recent.move_to_end(source)
            return tree
        tree = ast.parse(source)
        tree_stats["parsed"] += 1
        if not _consumers:
            return tree
        key = hash(source)
        waiting = (
            {c for c in _consumers if c is not consumer and c.parses(path)}
            if path is not None and key not in _kept_once
            else set()
        )
        if not waiting:
            _remember(source, tree)
            return tree
        _kept_once.add(key)
        _pinned[source] = _Kept(tree, len(source), waiting)
        _pinned_bytes += len(source)
        for c in waiting:
            _owed[c] = _owed.get(c, 0) + 1
        _ROOM.notify_all()  # a thread waiting for room may be owed this one
        _make_room(consumer)
        return tree


def _remember(source: str | bytes, tree: ast.Module) -> None:
    """Put a tree nobody waits for in the LRU of recent trees (AST_LOCK held)."""
    global _recent_bytes
    if len(source) > RECENT_SOURCE_BYTES:
        return
    _recent[source] = tree
    _recent_bytes += len(source)
    while _recent_bytes > RECENT_SOURCE_BYTES:
        old, _ = _recent.popitem(last=False)
        _recent_bytes -= len(old)


def parse_python(source: str, *, path: str | None = None) -> ast.Module | None:
    """The module's AST, or ``None`` when it does not parse.

    A failure is not a finding, but it is not silent either: when an analyzer runs under
    :func:`collect_not_analyzed` (every analyzer does, see ``base.run_analyzers``) the file
    is recorded as not analyzed, with :func:`unparsable_reason`. ``path`` names the file;
    without it the file is found by its text among the files the analyzer was given (the
    old version of a file, or a file outside the change, is never recorded).
    """
    try:
        return parse_ast(source, path=path)
    except (SyntaxError, ValueError) as exc:
        log = _NOT_ANALYZED.get()
        if log is not None:
            where = path if path is not None else log.path_of(source)
            if where is not None:
                log.add(where, unparsable_reason(exc))
        return None


# --- files an analyzer could not analyze -------------------------------------------------

PYTHON_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"


def unparsable_reason(exc: BaseException) -> str:
    """Why Python source did not parse here, for the coverage report: a short kind, then the
    detail in parentheses (reports group files by the kind):
    ``"syntax not supported by Python 3.11 (line 2: f-string: unmatched '[')"`` (newer
    syntax, or a real syntax error: this interpreter cannot tell them apart)."""
    if isinstance(exc, SyntaxError):
        where = f"line {exc.lineno}: " if exc.lineno else ""
        detail = " ".join(str(exc.msg or "invalid syntax").split())
        return f"syntax not supported by Python {PYTHON_VERSION} ({where}{detail})"
    detail = " ".join(str(exc).split())
    return f"not parseable as Python ({detail})" if detail else "not parseable as Python"


def syntax_error(source: str | bytes) -> SyntaxError | ValueError | None:
    """The error ``ast.parse`` raises for ``source`` under this interpreter, or ``None``
    when it parses (parsing never runs the code)."""
    try:
        parse_ast(source)
    except (SyntaxError, ValueError) as exc:
        return exc
    return None


class NotAnalyzedLog:
    """The files one analyzer run could not analyze: path -> reason.

    ``files`` are the files the analyzer was given; ``accepts`` (the analyzer's own
    ``accepts(path)``, when it has one) narrows them to the ones it would have looked at,
    for :meth:`targets`.
    """

    def __init__(self, changeset: Changeset, files: Sequence[FileChange]) -> None:
        self.changeset = changeset
        self.files = list(files)
        self.accepts: Callable[[str], bool] | None = None
        self.entries: dict[str, str] = {}
        self._by_text: dict[str, str] | None = None

    def add(self, path: str, reason: str) -> None:
        """Record ``path`` as not analyzed (the first reason given for it stays)."""
        self.entries.setdefault(path, reason)

    def path_of(self, source: str) -> str | None:
        """The path of the given file whose new text is ``source`` (the first such file), or
        ``None``. Built once, on the first failure, over the given Python files."""
        if self._by_text is None:
            by_text: dict[str, str] = {}
            for change in self.files:
                if change.skipped is None and is_python(change.path):
                    text = self.changeset.new_content(change.path)
                    if text is not None:
                        by_text.setdefault(text, change.path)
            self._by_text = by_text
        return self._by_text.get(source)

    def targets(self) -> list[str]:
        """The given reviewable files the analyzer accepts (all of them when it does not
        say): what a timeout or a missing tool leaves unanalyzed."""
        return [f.path for f in self.files if f.skipped is None and (self.accepts is None or self.accepts(f.path))]


_NOT_ANALYZED: ContextVar[NotAnalyzedLog | None] = ContextVar("tokyo_not_analyzed", default=None)


@contextmanager
def collect_not_analyzed(log: NotAnalyzedLog) -> Iterator[NotAnalyzedLog]:
    """Within the block (in this thread: a context variable), :func:`parse_python` and
    :func:`note_not_analyzed` record into ``log``."""
    token = _NOT_ANALYZED.set(log)
    try:
        yield log
    finally:
        _NOT_ANALYZED.reset(token)


def note_not_analyzed(path: str, reason: str) -> None:
    """Record that the running analyzer could not analyze ``path`` (no-op outside
    :func:`collect_not_analyzed`)."""
    log = _NOT_ANALYZED.get()
    if log is not None:
        log.add(path, reason)


def python_defs(tree: ast.Module) -> list[PyDef]:
    """Module- and class-level definitions of ``tree`` in source order (nested functions and
    classes inside functions are implementation details and left out).

    Public: the name has no leading underscore (dunders are not public API here), every
    enclosing class is public, and a module-level name is in ``__all__`` when the module
    defines a literal ``__all__``.
    """
    exported = _dunder_all(tree)
    out: list[PyDef] = []

    def visit(body: Iterable[ast.stmt], prefix: str, parent_public: bool, in_class: bool) -> None:
        for node in body:
            if isinstance(node, (ast.If, ast.Try)) and not in_class:
                if _is_type_checking(node):
                    continue
                visit([*node.body, *getattr(node, "orelse", [])], prefix, parent_public, in_class)
                continue
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            name = node.name
            public = parent_public and not name.startswith("_")
            if not prefix and exported is not None:
                public = public and name in exported
            kind: DefKind = "class" if isinstance(node, ast.ClassDef) else ("method" if in_class else "function")
            decorators = [_dotted(d.func if isinstance(d, ast.Call) else d) for d in node.decorator_list]
            body_start = node.body[0].lineno
            doc = ast.get_docstring(node, clean=False) is not None
            header_end = max(node.lineno, body_start - 1) if body_start > node.lineno else node.lineno
            out.append(
                PyDef(
                    name=name,
                    qualname=prefix + name,
                    kind=kind,
                    line=node.lineno,
                    first=min([node.lineno, *(d.lineno for d in node.decorator_list)]),
                    header_end=header_end,
                    last=node.end_lineno or node.lineno,
                    public=public,
                    has_docstring=doc,
                    decorators=decorators,
                    node=node,
                )
            )
            if isinstance(node, ast.ClassDef):
                visit(node.body, prefix + name + ".", public, True)

    visit(tree.body, "", True, False)
    return out


def _dunder_all(tree: ast.Module) -> set[str] | None:
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
                value = node.value
                if isinstance(value, (ast.List, ast.Tuple)):
                    return {e.value for e in value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
    return None


def _is_type_checking(node: ast.stmt) -> bool:
    return isinstance(node, ast.If) and _dotted(node.test).endswith("TYPE_CHECKING")


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def dotted_name(node: ast.AST) -> str:
    """``a.b.c`` for a Name/Attribute chain; "" for anything else."""
    return _dotted(node)


def find_tool(name: str) -> str | None:
    """The executable ``name`` installed next to this Python (a venv's bin/ or Scripts/,
    where pip puts the binaries that wheels such as zizmor ship), else on the absolute
    directories of PATH (a relative entry such as "." would find a program committed to the
    reviewed repository when tokyo runs in it); ``None`` when neither has it."""
    here = Path(sys.executable).parent
    for candidate in (here / name, here / f"{name}.exe"):
        if candidate.is_file():
            return str(candidate)
    dirs = [d for d in os.environ.get("PATH", os.defpath).split(os.pathsep) if d and os.path.isabs(d)]
    return shutil.which(name, path=os.pathsep.join(dirs))


def run_tool(
    cmd: Sequence[str],
    *,
    timeout_s: float,
    stdin: bytes | None = None,
    ok_codes: Sequence[int] = (0,),
    extra_env: Mapping[str, str] | None = None,
) -> str:
    """Run ``cmd`` isolated (:func:`~tokyo_cli.safety.isolation.run_isolated`: a fresh
    empty working directory, an allow-listed environment plus ``extra_env``) within
    ``timeout_s`` seconds; its stdout as text. Pass the files to analyze as absolute paths.

    Raises:
        ToolUnavailable: "timed out after N s", the OS error (missing executable), or an exit
            code outside ``ok_codes`` with the last stderr line.
    """
    proc = run_isolated(cmd, timeout_s=timeout_s, stdin=stdin, extra_env=extra_env)
    if proc.returncode not in ok_codes:
        raise ToolUnavailable(last_error_line(proc))
    return proc.stdout.decode("utf-8", errors="replace")


# Many files are written by a helper process (our code, isolated, from a fresh directory):
# here each file's open, write and close give up the GIL, and with the tree analyzers' threads
# busy in Python each took a switch interval or more to get it back (bandit's copy of the
# 10,000-file change of benchmarks/bench_audit.py --scale: ~10 s before its processes started).
WRITER_MIN_FILES = 500
WRITER_TIMEOUT_S = 600.0
_WRITER = """\
import os, struct, sys
data = open(sys.argv[1], "rb").read()
made, pos = set(), 0
while pos < len(data):
    plen, dlen = struct.unpack_from("<II", data, pos)
    dest = data[pos + 8 : pos + 8 + plen]
    body = data[pos + 8 + plen : pos + 8 + plen + dlen]
    pos += 8 + plen + dlen
    parent = os.path.dirname(dest)
    if parent not in made:
        os.makedirs(parent, exist_ok=True)
        made.add(parent)
    with open(dest, "wb") as handle:
        handle.write(body)
"""


def write_files(root: Path, changeset: Changeset, paths: Iterable[str]) -> list[str]:
    """Write the new bytes of ``paths`` under ``root`` (a fresh directory of tokyo's) at
    their relative paths; the paths written (a path that would escape ``root`` is never
    written). From :data:`WRITER_MIN_FILES` files on, one helper process (``python -I``)
    writes them; should it fail, they are written here."""
    base = str(root.resolve())
    jobs: list[tuple[str, str, bytes]] = []  # repository path, destination, bytes
    for path in paths:
        data = changeset.new_bytes(path)
        dest = inside(base, path)
        if data is not None and dest is not None:
            jobs.append((path, dest, data))
    if len(jobs) < WRITER_MIN_FILES or not _write_by_helper(jobs):
        made: set[str] = set()
        for _, dest, data in jobs:
            parent = os.path.dirname(dest)
            if parent not in made:
                os.makedirs(parent, exist_ok=True)
                made.add(parent)
            with open(dest, "wb") as handle:
                handle.write(data)
    return [path for path, _, _ in jobs]


def _write_by_helper(jobs: list[tuple[str, str, bytes]]) -> bool:
    """Write ``(path, destination, bytes)`` jobs by one isolated helper process, from one
    file of ``(len(dest), len(bytes)) dest bytes`` records; False when it failed."""
    parts: list[bytes] = []
    for _, dest, data in jobs:
        name = os.fsencode(dest)
        parts += [struct.pack("<II", len(name), len(data)), name, data]
    with tempfile.TemporaryDirectory(prefix="tokyo-write-") as tmp:
        payload = os.path.join(tmp, "files.bin")
        with open(payload, "wb") as handle:
            handle.write(b"".join(parts))
        try:
            proc = run_isolated([sys.executable, "-I", "-c", _WRITER, payload], timeout_s=WRITER_TIMEOUT_S)
        except ToolUnavailable:
            return False
    return proc.returncode == 0


def inside(base: str, path: str) -> str | None:
    """``base`` joined with the repository path ``path``, or None when that would leave
    ``base``: an absolute path, a drive, or ``..`` after normalizing. Exact for a directory
    tokyo made and fills with regular files only (no link to follow), and much cheaper than
    ``Path.resolve()`` (measured: 2.5 s for 10,000 paths, one ``lstat`` per component)."""
    rel = os.path.normpath(path)
    if (
        os.path.isabs(rel)
        or os.path.splitdrive(rel)[0]
        or rel == os.pardir
        or rel.startswith(os.pardir + os.sep)
        or rel == os.curdir
    ):
        return None
    return os.path.join(base, rel)


def cpu_count() -> int:
    """The CPUs this process may run on (its affinity mask on Linux), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def balance(weights: Mapping[str, int], parts: int) -> dict[str, int]:
    """``{path: part}`` (0-based, ``parts`` >= 1) for every path of ``weights`` (bytes or any
    cost): the heaviest first, each to the part with the least weight so far (the
    longest-processing-time-first rule: within 4/3 of the best split, and no part ends more
    than one path's weight above the mean). Ties: path order, then the lowest part number,
    so the same ``weights`` split the same in every process (no salted ``hash()``)."""
    heap = [(0, n) for n in range(parts)]
    assigned: dict[str, int] = {}
    for path, weight in sorted(weights.items(), key=lambda item: (-item[1], item[0])):
        load, part = heapq.heappop(heap)
        assigned[path] = part
        heapq.heappush(heap, (load + weight, part))
    return assigned


def split_by_size(paths: Sequence[str], parts: int, size: Callable[[str], int]) -> list[list[str]]:
    """``paths`` in at most ``parts`` non-empty lists of about equal total ``size`` (bytes),
    for one tool process each (:func:`balance`). Each list keeps the order of ``paths``;
    together they hold every path once."""
    count = max(1, min(parts, len(paths)))
    owner = balance({p: size(p) for p in paths}, count)
    return [part for i in range(count) if (part := [p for p in paths if owner[p] == i])]
