"""The reviewed repository's coverage data, read as hostile input: which changed lines a test
run executed (Yuki's ``test-gaps:uncovered``, :mod:`tokyo_cli.analyzers.tests_gap`).

Where (no setting: the tools' default file names at the repository root, the first one found
and readable wins): ``.coverage`` (coverage.py's SQLite data file), ``coverage.xml``
(Cobertura: ``coverage xml``, pytest-cov ``--cov-report=xml``), ``coverage.lcov``,
``lcov.info``, ``coverage/lcov.info`` (LCOV: ``coverage lcov``, JavaScript tools).

Which version: working-tree and whole-tree reviews read the working tree. Staged and range
reviews read the file from the reviewed version (the index, the head commit) when it is
there; coverage data is rarely committed, so otherwise they read the working tree's file
(CI checks out the head commit and runs the tests before the review), and a changed file's
data is used only when its working-tree bytes are the reviewed bytes.

Hostile input (docs/ARCHITECTURE.md, "Trust boundaries"): a data file is read only when it is
a regular file, never through a symlink (:mod:`tokyo_cli.safety.safefs`; a committed symlink is
never resolved), and only up to :data:`MAX_BYTES`. A ``.coverage`` database is copied into a
private temporary directory and opened read-only and immutable (``mode=ro&immutable=1``)
with untrusted schema switched off and a time limit on every query; the repository's file is
never opened by SQLite, nothing is ever written into the repository. Only the rows of the
files under review are decoded, each with a size cap. XML with an entity declaration is
refused. Nothing is executed and no coverage.py configuration of the repository is read
(the statements of a Python file come from coverage.py's parser over the reviewed text, with
coverage.py's own default exclusions: ``# pragma: no cover``, ``...`` bodies,
``if TYPE_CHECKING:``). Anything malformed raises :class:`CoverageUnreadable` with a reason,
never another exception.

Out-of-date data (:func:`assess`): a changed file the data does not name is *not measured*
(never "every line uncovered"); a file whose measured lines do not fit its reviewed text (a
measured line past its end, or on a line that is not code), whose working-tree copy was
modified after the data file was written, or whose working-tree copy is not the reviewed
version is *stale*. Both leave the file to the name check, which says why.
"""

from __future__ import annotations

import io
import os
import sqlite3
import stat
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET  # noqa: S405 - entities refused before parsing, see _read_cobertura
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal

from tokyo_cli.analyzers.common import AST_LOCK
from tokyo_cli.analyzers.tree import TreeUnavailable, new_tree
from tokyo_cli.git.commands import git_executable
from tokyo_cli.git.diff import split_lines
from tokyo_cli.git.files import SYMLINK_MODE
from tokyo_cli.git.repo import Changeset, FileChange, TargetKind
from tokyo_cli.safety import safefs
from tokyo_cli.safety.isolation import run_git_isolated

MAX_BYTES = 50 * 1024 * 1024
CANDIDATES = (".coverage", "coverage.xml", "coverage.lcov", "lcov.info", "coverage/lcov.info")
MEMO_KEY = "test-gaps:coverage"  # changeset.memo: the CoverageSummary of the last test-gaps run
_MAX_LINE = 10_000_000  # a line number above this is garbage
_MAX_NUMBITS = 1 << 17  # bytes of one numbits blob: a million lines
_MAX_ARCS = 2_000_000  # arc rows read for one file
_MAX_FILES = 500_000  # measured file names considered
# coverage.py's DEFAULT_EXCLUDE, with the ``...`` rule reduced to a linear pattern (the
# original's nested lazy groups are slow on a long hostile line; the parser runs in-process).
_EXCLUDE = "|".join(
    (
        r"(?:#\s*(pragma|PRAGMA)[:\s]?\s*(no|NO)\s*(cover|COVER))",
        r"(?:^\s*\.\.\.\s*(#|$))",
        r"(?:^\s*if (typing\.)?TYPE_CHECKING:)",
    )
)


class CoverageUnreadable(Exception):
    """A coverage data file that exists but cannot be used (message: the reason)."""


@dataclass(frozen=True)
class Measured:
    """One file in the data: the lines executed and, for reports, the lines that are
    statements (``None`` for coverage.py data: statements come from the source)."""

    executed: frozenset[int]
    executable: frozenset[int] | None = None


@dataclass
class CoverageSource:
    """Data read from ``path`` (repository-relative): ``files`` maps the repository paths
    asked for that the data measures to their :class:`Measured` lines."""

    path: str
    kind: str  # "coverage.py data", "Cobertura XML", "LCOV"
    from_worktree: bool
    mtime: float | None  # of the working-tree data file
    files: dict[str, Measured] = field(default_factory=dict)


@dataclass
class Loaded:
    """What :func:`load` found: a usable source, and the reasons others were not used."""

    source: CoverageSource | None
    problems: list[str] = field(default_factory=list)


Status = Literal["measured", "not-measured", "stale"]


@dataclass
class FileReport:
    """One changed file against the data. For ``measured``: ``changed`` are its changed
    executable lines, ``uncovered`` those no test ran, ``executable``/``executed`` the file's
    statement lines (first lines of statements) and ``first_line`` maps a line to its
    statement's first line. Otherwise ``reason`` says why the data is not used."""

    path: str
    status: Status
    reason: str = ""
    changed: list[int] = field(default_factory=list)
    uncovered: list[int] = field(default_factory=list)
    executable: set[int] = field(default_factory=set)
    executed: set[int] = field(default_factory=set)
    first_line: Callable[[int], int] = field(default=lambda n: n, repr=False)

    @property
    def covered(self) -> int:
        return len(self.changed) - len(self.uncovered)

    @property
    def percent(self) -> float:
        return 100.0 * self.covered / len(self.changed) if self.changed else 100.0

    def ranges(self) -> list[tuple[int, int]]:
        """Uncovered changed lines as ranges, diff-cover style: two uncovered lines join when
        no statement between them is covered or unchanged (blank lines, comments and
        continuation lines do not split a range)."""
        if not self.uncovered:
            return []
        bad, changed = set(self.uncovered), set(self.changed)
        out = [[self.uncovered[0], self.uncovered[0]]]
        for n in self.uncovered[1:]:
            prev = out[-1][1]
            between = range(prev + 1, n)
            if any(k not in bad and k in self.executable and self.first_line(k) == k for k in between) or any(
                k not in bad and k in changed for k in between
            ):
                out.append([n, n])
            else:
                out[-1][1] = n
        return [(a, b) for a, b in out]


@dataclass
class CoverageSummary:
    """Per-change coverage numbers (``changeset.memo[MEMO_KEY]``, for a summary): per measured
    file ``(covered, changed executable lines)``, the files left to the name check."""

    source: str | None
    kind: str | None
    files: dict[str, tuple[int, int]] = field(default_factory=dict)
    not_measured: list[str] = field(default_factory=list)
    stale: dict[str, str] = field(default_factory=dict)

    @property
    def covered(self) -> int:
        return sum(c for c, _ in self.files.values())

    @property
    def changed(self) -> int:
        return sum(n for _, n in self.files.values())

    @property
    def percent(self) -> float | None:
        """Covered share of every measured changed executable line; ``None`` when none."""
        return 100.0 * self.covered / self.changed if self.changed else None


def format_ranges(ranges: Iterable[tuple[int, int]]) -> str:
    """``[(3, 5), (9, 9)]`` -> ``"3-5, 9"``."""
    return ", ".join(f"{a}-{b}" if b != a else str(a) for a, b in ranges)


# --- locating and reading -----------------------------------------------------------------


def data_fingerprint(changeset: Changeset) -> str:
    """A cheap identity of the coverage data a review would read, for a cache key: the head
    commit and each working-tree candidate's type, size and modification time (``lstat``:
    nothing is followed or read). The change digest alone does not change when the tests run
    again, so a cached test-gaps result would outlive the data it came from."""
    parts = [changeset.head_sha or "-"]
    for name in CANDIDATES:
        st = safefs.lstat(changeset.root, name)
        parts.append(f"{name}:{st.st_mode:o}:{st.st_size}:{st.st_mtime_ns}" if st is not None else f"{name}:-")
    return "|".join(parts)


def load(changeset: Changeset, wanted: Iterable[str], *, timeout_s: float = 30) -> Loaded:
    """The first usable data file of :data:`CANDIDATES`, with the measured lines of the
    repository paths ``wanted``; ``problems`` holds "NAME: reason" for each data file that
    exists but could not be used. Never raises."""
    wanted = sorted(set(wanted))
    deadline = time.monotonic() + max(1.0, timeout_s)
    problems: list[str] = []
    committed: dict[str, tuple[str, str]] = {}
    if changeset.target.kind in (TargetKind.STAGED, TargetKind.RANGE):
        try:
            committed = _committed(changeset, timeout_s)
        except CoverageUnreadable:
            pass  # git cannot list the reviewed version: only the working tree's data is left
    for name in CANDIDATES:
        try:
            found = _read_candidate(changeset, name, committed, timeout_s)
            if found is None:
                continue
            data, from_worktree, mtime = found
            kind, files = _parse(name, data, wanted, changeset.root, _tree_paths(changeset, timeout_s), deadline)
        except CoverageUnreadable as exc:
            problems.append(f"{name}: {exc}")
            continue
        return Loaded(CoverageSource(name, kind, from_worktree, mtime, files), problems)
    return Loaded(None, problems)


def _tree_paths(changeset: Changeset, timeout_s: float) -> list[str]:
    """Every file of the reviewed version (to tell same-named files apart); [] when git
    cannot list it."""
    try:
        return sorted(new_tree(changeset, timeout_s).paths())
    except TreeUnavailable:
        return []


def _read_candidate(
    changeset: Changeset, name: str, committed: dict[str, tuple[str, str]], timeout_s: float
) -> tuple[bytes, bool, float | None] | None:
    """``(bytes, from working tree, mtime)`` of data file ``name`` in the reviewed version;
    ``None`` when there is none. Raises CoverageUnreadable for a symlink, an oversized file
    or a read failure."""
    if name in committed:
        blob = _read_blob(changeset, *committed[name], timeout_s)
        if blob is not None:
            return blob, False, None
    st = safefs.lstat(changeset.root, name)
    if st is None:
        if safefs.is_symlink(changeset.root, name):
            raise CoverageUnreadable("lies below a symlinked directory (not followed)")
        return None
    if stat.S_ISLNK(st.st_mode):
        raise CoverageUnreadable("is a symlink (not followed)")
    if not stat.S_ISREG(st.st_mode):
        return None
    _check_size(st.st_size)
    data = safefs.read(changeset.root, name)
    if data is None:
        raise CoverageUnreadable("could not be read")
    _check_size(len(data))  # it may have grown since the lstat
    return data, True, st.st_mtime


def _check_size(size: int) -> None:
    if size > MAX_BYTES:
        raise CoverageUnreadable(f"{size / 1e6:.1f} MB, over the {MAX_BYTES // (1024 * 1024)} MB limit")


def _committed(changeset: Changeset, timeout_s: float) -> dict[str, tuple[str, str]]:
    """``{name: (mode, blob sha)}`` of the :data:`CANDIDATES` in the index (staged) or the
    head commit (range), with one git call."""
    if changeset.target.kind is TargetKind.RANGE:
        if not changeset.head_sha:
            return {}
        out = _git(changeset, ["ls-tree", "-z", changeset.head_sha, "--", *CANDIDATES], timeout_s)
    else:
        out = _git(changeset, ["ls-files", "-s", "-z", "--", *CANDIDATES], timeout_s)
    found: dict[str, tuple[str, str]] = {}
    for row in out.split(b"\0"):
        meta, _, raw_path = row.partition(b"\t")
        fields = meta.decode("ascii", "replace").split()
        path = raw_path.decode("utf-8", "replace")
        if path not in CANDIDATES or len(fields) < 3:
            continue
        if changeset.target.kind is TargetKind.RANGE and fields[1] == "blob":
            found[path] = (fields[0], fields[2])
        elif changeset.target.kind is TargetKind.STAGED and fields[2] == "0":
            found[path] = (fields[0], fields[1])
    return found


def _read_blob(changeset: Changeset, mode: str, sha: str, timeout_s: float) -> bytes | None:
    """A committed data file's bytes; symlinks and oversized blobs are refused before their
    bytes are read, a submodule is skipped."""
    if mode == SYMLINK_MODE:
        raise CoverageUnreadable("is a symlink (not followed)")
    if not mode.startswith("100"):
        return None
    size = _git(changeset, ["cat-file", "-s", sha], timeout_s).decode("ascii", "replace").strip()
    _check_size(int(size) if size.isdigit() else MAX_BYTES + 1)
    return _git(changeset, ["cat-file", "blob", sha], timeout_s)


def _git(changeset: Changeset, args: list[str], timeout_s: float) -> bytes:
    try:
        proc = run_git_isolated(
            changeset.root, [git_executable(), *args], timeout_s=timeout_s, extra_env={"GIT_OPTIONAL_LOCKS": "0"}
        )
    except (subprocess.TimeoutExpired, OSError) as exc:
        raise CoverageUnreadable(f"git {args[0]} failed: {exc}") from None
    if proc.returncode != 0:
        raise CoverageUnreadable(f"git {args[0]} failed (exit code {proc.returncode})")
    return proc.stdout


def _parse(
    name: str, data: bytes, wanted: list[str], root: Path, known: list[str], deadline: float
) -> tuple[str, dict[str, Measured]]:
    if name == ".coverage":
        return "coverage.py data", _read_sqlite(data, wanted, root, known, deadline)
    measured = _read_cobertura(data, deadline) if name.endswith(".xml") else _read_lcov(data, deadline)
    kind = "Cobertura XML" if name.endswith(".xml") else "LCOV"
    return kind, {repo: measured[m] for repo, m in match_paths(wanted, measured, root, known).items()}


# --- coverage.py's SQLite data --------------------------------------------------------------


def _read_sqlite(data: bytes, wanted: list[str], root: Path, known: list[str], deadline: float) -> dict[str, Measured]:
    if not data.startswith(b"SQLite format 3\0"):
        raise CoverageUnreadable(
            "not an SQLite database (coverage.py 4 and older wrote JSON: regenerate it with coverage 5 or newer)"
        )
    try:
        from coverage.numbits import numbits_to_nums
    except ImportError:
        raise CoverageUnreadable("coverage.py is not installed") from None
    with tempfile.TemporaryDirectory(prefix="tokyo-coverage-") as tmp:  # mode 0700
        copy = Path(tmp) / "coverage.sqlite"
        fd = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        try:
            con = sqlite3.connect(f"{copy.as_uri()}?mode=ro&immutable=1", uri=True, check_same_thread=False)
        except sqlite3.Error as exc:
            raise CoverageUnreadable(f"cannot open the database: {exc}") from None
        try:
            # A hostile database may hide slow views behind the table names: stop any query
            # past the deadline, and let no schema object call functions it should not.
            con.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
            con.execute("PRAGMA trusted_schema = OFF")
            con.execute("PRAGMA query_only = ON")
            return _query_sqlite(con, wanted, root, known, numbits_to_nums)
        except sqlite3.Error as exc:
            why = "timed out" if time.monotonic() > deadline else str(exc)
            raise CoverageUnreadable(f"not coverage.py data ({why})") from None
        except (ValueError, TypeError, OverflowError) as exc:
            raise CoverageUnreadable(f"malformed coverage.py data ({exc})") from None
        finally:
            con.close()


def _query_sqlite(
    con: sqlite3.Connection,
    wanted: list[str],
    root: Path,
    known: list[str],
    numbits_to_nums: Callable[[bytes], list[int]],
) -> dict[str, Measured]:
    row = con.execute("SELECT version FROM coverage_schema").fetchone()
    if row is None or row[0] != 7:
        raise CoverageUnreadable(
            f"unsupported coverage.py schema version {row[0] if row else None!r} "
            "(this reads version 7: coverage 5.0 to 7.x)"
        )
    has_arcs = con.execute("SELECT value FROM meta WHERE key = 'has_arcs'").fetchone()
    arcs = bool(has_arcs and str(has_arcs[0]).lower() in ("1", "true"))
    ids: dict[str, int] = {}
    for file_id, path in con.execute("SELECT id, path FROM file LIMIT ?", (_MAX_FILES,)):
        if isinstance(path, str) and isinstance(file_id, int):
            ids[path] = file_id
    out: dict[str, Measured] = {}
    for repo_path, measured_path in match_paths(wanted, ids, root, known).items():
        file_id = ids[measured_path]
        lines: set[int] = set()
        if arcs:
            for a, b in con.execute("SELECT fromno, tono FROM arc WHERE file_id = ? LIMIT ?", (file_id, _MAX_ARCS)):
                lines.update(n for n in (a, b) if isinstance(n, int) and 0 < n <= _MAX_LINE)
        else:
            for (bits,) in con.execute("SELECT numbits FROM line_bits WHERE file_id = ?", (file_id,)):
                if not isinstance(bits, bytes) or len(bits) > _MAX_NUMBITS:
                    raise CoverageUnreadable("malformed line data")
                lines.update(numbits_to_nums(bits))
        out[repo_path] = Measured(frozenset(lines))
    return out


# --- Cobertura XML and LCOV -------------------------------------------------------------------


def _read_cobertura(data: bytes, deadline: float) -> dict[str, Measured]:
    """``{measured file name: lines}`` of a Cobertura report (``<class filename=...>`` joined
    with each ``<source>``; lines of ``<methods>`` repeat the class's and are not read)."""
    # Python 3.11's expat (2.4.1 and later) refuses billion-laughs style entity expansion and
    # ElementTree never fetches external entities or DTDs; coverage reports declare no
    # entities, so any declaration is refused outright (defusedxml is not a dependency).
    if b"<!ENTITY" in data:
        raise CoverageUnreadable("declares XML entities (refused)")
    sources: list[str] = []
    lines: dict[str, tuple[set[int], set[int]]] = {}
    stack: list[str] = []
    current: str | None = None
    try:
        for count, (event, elem) in enumerate(ET.iterparse(io.BytesIO(data), events=("start", "end"))):
            if count % 50_000 == 0:
                _check_time(deadline)
            if event == "start":
                stack.append(elem.tag)
                if len(stack) == 1 and elem.tag != "coverage":
                    raise CoverageUnreadable(f"not a Cobertura report (root element <{elem.tag[:40]}>)")
                if elem.tag == "class":
                    current = elem.get("filename")
                continue
            stack.pop()
            if elem.tag == "source" and elem.text:
                sources.append(elem.text.strip())
            elif elem.tag == "line" and current and stack[-2:] == ["class", "lines"]:
                number = _int(elem.get("number"))
                hits = _int(elem.get("hits"), allow_zero=True)
                executable, executed = lines.setdefault(current, (set(), set()))
                executable.add(number)
                if hits:
                    executed.add(number)
            elif elem.tag == "class":
                current = None
                elem.clear()
    except (ET.ParseError, ValueError, LookupError) as exc:  # LookupError: an unknown encoding
        raise CoverageUnreadable(f"not well-formed XML ({exc})") from None
    out: dict[str, Measured] = {}
    for filename, (executable, executed) in lines.items():
        names = [filename] + [str(PurePosixPath(_posix(s)) / _posix(filename)) for s in sources if s]
        for n in names:
            out.setdefault(n, Measured(frozenset(executed), frozenset(executable)))
    return out


def _read_lcov(data: bytes, deadline: float) -> dict[str, Measured]:
    files: dict[str, tuple[set[int], set[int]]] = {}
    current: tuple[set[int], set[int]] | None = None
    records = 0
    for count, raw in enumerate(data.decode("utf-8", errors="replace").splitlines()):
        if count % 50_000 == 0:
            _check_time(deadline)
        line = raw.strip()
        if line.startswith("SF:"):
            current = files.setdefault(line[3:].strip(), (set(), set()))
            records += 1
        elif line == "end_of_record":
            current = None
        elif line.startswith("DA:") and current is not None:
            parts = line[3:].split(",")
            if len(parts) < 2:
                raise CoverageUnreadable(f"malformed LCOV line {line[:60]!r}")
            number = _int(parts[0])
            executable, executed = current
            executable.add(number)
            if _int(parts[1], allow_zero=True):
                executed.add(number)
    if not records:
        raise CoverageUnreadable("not an LCOV file (no SF: record)")
    return {
        name: Measured(frozenset(executed), frozenset(executable)) for name, (executable, executed) in files.items()
    }


def _check_time(deadline: float) -> None:
    if time.monotonic() > deadline:
        raise CoverageUnreadable("timed out")


def _int(text: str | None, *, allow_zero: bool = False) -> int:
    try:
        value = int(str(text).strip())
    except ValueError:
        raise CoverageUnreadable(f"malformed line number {str(text)[:20]!r}") from None
    if not (0 if allow_zero else 1) <= value <= (_MAX_LINE if not allow_zero else 1 << 62):
        raise CoverageUnreadable(f"line number out of range: {value}")
    return value


# --- matching measured file names to repository paths ---------------------------------------


def _posix(path: str) -> str:
    path = path.replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    while "//" in path:
        path = path.replace("//", "/")
    return path


def match_paths(
    wanted: Iterable[str], measured: Iterable[str], root: Path, known: Iterable[str] = ()
) -> dict[str, str]:
    """``{repository path: measured name}``. A measured name belongs to the repository path
    (of ``wanted`` and ``known``, the other files of the tree) that it equals or ends with
    after a ``/`` — the longest such path, so ``/ci/checkout/src/pkg/mod.py`` belongs to
    ``src/pkg/mod.py``, not to a root-level ``mod.py`` (the tests may have run in another
    checkout, such as a CI runner's). Of several names for one path, the one under ``root``
    wins, then the shortest. Installed copies (``site-packages``) never match."""
    wanted = set(wanted)
    owners: dict[str, list[str]] = {}
    for path in wanted | set(known):
        owners.setdefault(path.rsplit("/", 1)[-1], []).append(path)
    here = _posix(root.as_posix()).rstrip("/")
    best: dict[str, tuple[tuple[int, int], str]] = {}
    for m in measured:
        n = _posix(m)
        if "/site-packages/" in n or "/dist-packages/" in n:
            continue
        fits = [p for p in owners.get(n.rsplit("/", 1)[-1], ()) if n == p or n.endswith("/" + p)]
        if not fits:
            continue
        path = max(fits, key=len)
        if path not in wanted:
            continue
        key = (0 if n in (path, f"{here}/{path}") else 1, len(n))
        if path not in best or key < best[path][0]:
            best[path] = (key, m)
    return {path: m for path, (_, m) in best.items()}


# --- one changed file against the data ------------------------------------------------------


@dataclass
class _PyLines:
    statements: set[int]
    valid: set[int]  # lines a run may record: statements, docstrings, excluded code
    first_line: Callable[[int], int]


def python_lines(text: str) -> _PyLines | None:
    """coverage.py's view of a Python text (statements, first lines), or ``None`` when it
    does not parse. Static analysis only (``compile``), nothing is executed."""
    if not text.strip():
        return None
    try:
        from coverage.parser import PythonParser

        parser = PythonParser(text=text, exclude=_EXCLUDE)
        with AST_LOCK:  # coverage.py parses with ast (see common.AST_LOCK)
            parser.parse_source()
        raw = set(parser.raw_statements)
        valid = raw | parser.first_lines(raw) | set(parser.excluded)
        return _PyLines(set(parser.statements), valid, parser.first_line)
    except Exception:  # NotPython, SyntaxError, RecursionError, MemoryError, an API change
        return None


def assess(changeset: Changeset, change: FileChange, source: CoverageSource) -> FileReport | None:
    """``change`` against ``source``: measured (with its changed and uncovered lines),
    not measured, or stale (see the module docstring). ``None`` for a file the data cannot
    speak about: a non-Python file that coverage.py data (which has no statement list) holds,
    or one that is neither Python nor in a report."""
    path = change.path
    measured = source.files.get(path)
    python = path.endswith((".py", ".pyw"))
    if measured is None:
        return FileReport(path, "not-measured", f"`{source.path}` does not measure it") if python else None
    if measured.executable is None and not python:
        return None
    if source.from_worktree:
        why = _worktree_stale(changeset, path, source)
        if why:
            return FileReport(path, "stale", why)
    text = changeset.new_content(path) or ""
    lines = split_lines(text)
    recorded = measured.executed | (measured.executable or frozenset())
    py = python_lines(text) if python else None
    if python and py is None:
        return FileReport(path, "stale", "the file does not parse")
    if py is not None:
        odd = sorted(n for n in recorded if n not in py.valid)
        first_line = py.first_line
        executable = py.statements if measured.executable is None else {first_line(n) for n in measured.executable}
        executed = {first_line(n) for n in measured.executed}
    else:
        odd = sorted(n for n in recorded if not (1 <= n <= len(lines) and lines[n - 1].strip()))
        first_line = _same
        executable, executed = set(measured.executable or ()), set(measured.executed)
    if odd:
        return FileReport(
            path,
            "stale",
            f"`{source.path}` measured an older version of it (it records line {odd[0]}, which is not code here)",
        )
    changed = [n for n in sorted(change.added_lines) if first_line(n) in executable]
    uncovered = [n for n in changed if first_line(n) not in executed]
    return FileReport(
        path,
        "measured",
        changed=changed,
        uncovered=uncovered,
        executable=executable,
        executed=executed,
        first_line=first_line,
    )


def _same(n: int) -> int:
    return n


def _worktree_stale(changeset: Changeset, path: str, source: CoverageSource) -> str:
    """Why the working-tree data cannot speak for ``path``'s reviewed version ("" when it can)."""
    root = changeset.root
    if changeset.target.kind not in (TargetKind.WORKING, TargetKind.ALL) and safefs.read(
        root, path
    ) != changeset.new_bytes(path):
        return f"`{source.path}` measured the working tree, whose copy of the file is not the reviewed version"
    st = safefs.lstat(root, path)
    if st is None or not stat.S_ISREG(st.st_mode):
        return "the file is not a regular file in the working tree"
    if source.mtime is not None and st.st_mtime > source.mtime:
        return f"the file was modified after `{source.path}` was written (run the tests again)"
    return ""
