"""The new version of the whole repository, for analyzers that need more than the change.

An import graph needs every module of a package; a link checker needs to know which files
exist. The changeset holds only the changed files, so :class:`NewTree` answers for the rest
from the same version the review reads: the working tree (working, all), the index (staged)
or the head commit (range). Changed files always come from the changeset, deleted ones are
gone. Git is called with plain subprocesses (safe from worker threads), through
:func:`tokyo_cli.safety.isolation.run_git_isolated` (an allow-listed environment: no keys or tokens).

Symlinks are listed, never followed: a symlink (or, in the working tree, a path below a
symlinked directory) exists in :meth:`NewTree.paths` but :meth:`NewTree.read` returns
``None`` for it, whatever it points at; working-tree files are read through
:mod:`tokyo_cli.safety.safefs`. Submodules are never entered.
"""

from __future__ import annotations

import stat
import subprocess
import threading
from pathlib import PurePosixPath

from tokyo_cli.git.commands import git_executable
from tokyo_cli.git.files import SYMLINK_MODE
from tokyo_cli.git.repo import Changeset, TargetKind
from tokyo_cli.safety import safefs
from tokyo_cli.safety.isolation import run_git_isolated

_MEMO_LOCK = threading.Lock()


def new_tree(changeset: Changeset, timeout_s: float = 60) -> NewTree:
    """The :class:`NewTree` of ``changeset``, one per changeset: every analyzer of a run shares
    its tree listing instead of asking git for the whole tree again (``timeout_s``: the first
    caller's)."""
    with _MEMO_LOCK:
        tree = changeset.memo.get("new_tree")
        if tree is None:
            tree = changeset.memo["new_tree"] = NewTree(changeset, timeout_s)
    return tree


class TreeUnavailable(Exception):
    """Git could not list or read the new tree (message: the reason)."""


class NewTree:
    """Read-only view of every file in the reviewed version (paths ``/``-separated).

    Raises :class:`TreeUnavailable` from :meth:`paths`/:meth:`read` when git fails.
    """

    def __init__(self, changeset: Changeset, timeout_s: float = 60) -> None:
        self.changeset = changeset
        self.root = changeset.root
        self.timeout_s = timeout_s
        self._shas: dict[str, str] | None = None
        self._links: set[str] = set()  # symlinks of the new version: listed, never read
        self._paths: set[str] | None = None
        self._dirs: set[str] | None = None
        # A type change (file <-> symlink) is a deleted and an added entry for one path: it exists.
        present = {f.path for f in changeset.files if f.status != "deleted"}
        self._deleted = {f.path for f in changeset.files if f.status == "deleted"} - present

    def paths(self) -> set[str]:
        """Every file path in the new version (symlinks included)."""
        if self._paths is None:
            kind = self.changeset.target.kind
            if kind in (TargetKind.WORKING, TargetKind.ALL):
                out = self._git("ls-files", "-z", "--cached", "--others", "--exclude-standard")
                paths: set[str] = set()
                for path in {p for p in out.split("\0") if p}:
                    st = safefs.lstat(self.root, path)  # None below a symlinked directory
                    if st is not None and stat.S_ISLNK(st.st_mode):
                        self._links.add(path)
                    if st is not None and (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
                        paths.add(path)
            else:
                paths = set(self._blob_shas())
            paths |= {f.path for f in self.changeset.files if f.status != "deleted"}
            self._paths = paths - self._deleted
        return self._paths

    def dirs(self) -> set[str]:
        """Every directory that holds a file of the new version ("" is the root)."""
        if self._dirs is None:
            dirs = {""}
            for path in self.paths():
                parent = PurePosixPath(path).parent
                while str(parent) not in dirs and str(parent) != ".":
                    dirs.add(str(parent))
                    parent = parent.parent
            self._dirs = dirs
        return self._dirs

    def exists(self, path: str) -> bool:
        """True for a file or directory of the new version."""
        path = path.strip("/")
        return path in self.paths() or path in self.dirs()

    def read(self, path: str) -> bytes | None:
        """Bytes of the file ``path`` in the new version; ``None`` when it does not exist or
        is a symlink."""
        return self.read_many([path]).get(path)

    def read_many(self, paths: list[str]) -> dict[str, bytes]:
        """``read`` for many paths, with one ``git cat-file --batch`` for a commit or the
        index (missing paths and symlinks left out)."""
        found: dict[str, bytes] = {}
        wanted: list[str] = []
        for path in paths:
            data = self.changeset.new_bytes(path)
            if data is not None:
                found[path] = data
            elif path not in self._deleted and path in self.paths() and path not in self._links:
                wanted.append(path)
        if not wanted:
            return found
        if self.changeset.target.kind in (TargetKind.WORKING, TargetKind.ALL):
            for path in wanted:
                data = safefs.read(self.root, path)
                if data is not None:
                    found[path] = data
            return found
        shas = self._blob_shas()
        order = [p for p in wanted if p in shas]
        stdin = "".join(shas[p] + "\n" for p in order).encode()
        raw = self._run(["cat-file", "--batch"], stdin)
        pos = 0
        for path in order:
            end = raw.index(b"\n", pos)
            header = raw[pos:end].split()
            pos = end + 1
            if len(header) < 3 or header[1] != b"blob":
                continue
            size = int(header[2])
            found[path] = raw[pos : pos + size]
            pos += size + 1
        return found

    # ------------------------------------------------------------------ git

    def _blob_shas(self) -> dict[str, str]:
        if self._shas is None:
            if self.changeset.target.kind is TargetKind.STAGED:
                out = self._git("ls-files", "-s", "-z", "--full-name")
                rows = [(meta.split(" "), path) for meta, _, path in (r.partition("\t") for r in out.split("\0") if r)]
                self._shas = {path: meta[1] for meta, path in rows}
            else:
                head = self.changeset.head_sha or "HEAD"
                out = self._git("ls-tree", "-r", "-z", "--full-tree", head)
                rows = [(meta.split(" "), path) for meta, _, path in (r.partition("\t") for r in out.split("\0") if r)]
                self._shas = {path: meta[2] for meta, path in rows if meta[1] == "blob"}
            self._links |= {path for meta, path in rows if meta[0] == SYMLINK_MODE}
        return self._shas

    def _git(self, *args: str) -> str:
        return self._run(list(args)).decode("utf-8", errors="replace")

    def _run(self, args: list[str], stdin: bytes | None = None) -> bytes:
        cmd = [git_executable(), "-c", "core.quotepath=off", *args]
        try:
            proc = run_git_isolated(
                self.root, cmd, stdin=stdin, timeout_s=self.timeout_s, extra_env={"GIT_OPTIONAL_LOCKS": "0"}
            )
        except subprocess.TimeoutExpired:
            raise TreeUnavailable(f"git {args[0]} timed out after {self.timeout_s:g} s") from None
        except OSError as exc:
            raise TreeUnavailable(f"git {args[0]}: {exc}") from None
        if proc.returncode != 0:
            err = proc.stderr.decode("utf-8", errors="replace").strip().splitlines()
            raise TreeUnavailable(f"git {args[0]} failed: {err[0] if err else proc.returncode}")
        return proc.stdout
