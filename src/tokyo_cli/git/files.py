"""File listings and content readers for each review target.

A reader answers three questions about a repository-relative path in one version of the
tree (the index, a commit, or the working tree): is it a symlink, its size in bytes, and its
bytes. A symlink is never read through: the changeset lists it (reason "symlink") and never
reviews it, whatever it points at. Readers only work while the ``git.Repo`` they were built
from is open; the changeset copies what it needs before the repository is closed.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import git

from tokyo_cli.git.commands import git_executable, run_git
from tokyo_cli.safety import safefs
from tokyo_cli.safety.isolation import run_git_isolated

SUBMODULE_MODE = "160000"
SYMLINK_MODE = "120000"


@dataclass(frozen=True, slots=True)
class TreeEntry:
    """One ``ls-files -s`` / ``ls-tree -r`` row: file mode (octal text) and blob sha."""

    mode: str
    sha: str


class ContentReader(Protocol):
    def is_symlink(self, path: str) -> bool:
        """True when ``path`` is a symlink in this version (or, in the working tree, lies
        below a symlinked directory): it is listed, never read."""

    def size(self, path: str) -> int | None:
        """Size in bytes of the regular file ``path``; ``None`` when it does not exist."""

    def read(self, path: str) -> bytes | None:
        """Bytes of the regular file ``path`` in this version; ``None`` for a symlink."""


class WorktreeReader:
    """Reads the working tree under ``root``, never following a symlink (:mod:`tokyo_cli.safety.safefs`)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def is_symlink(self, path: str) -> bool:
        return safefs.is_symlink(self.root, path)

    def size(self, path: str) -> int | None:
        st = safefs.lstat(self.root, path)
        return st.st_size if st is not None and stat.S_ISREG(st.st_mode) else None

    def read(self, path: str) -> bytes | None:
        return safefs.read(self.root, path)


class BlobReader:
    """Reads blobs of one tree (the index or a commit) through GitPython's object database."""

    def __init__(self, repo: git.Repo, entries: dict[str, TreeEntry]) -> None:
        self.repo = repo
        self.entries = entries

    def is_symlink(self, path: str) -> bool:
        entry = self.entries.get(path)
        return entry is not None and entry.mode == SYMLINK_MODE

    def size(self, path: str) -> int | None:
        entry = self.entries.get(path)
        if entry is None or entry.mode in (SUBMODULE_MODE, SYMLINK_MODE):
            return None
        return int(self.repo.odb.info(bytes.fromhex(entry.sha)).size)

    def read(self, path: str) -> bytes | None:
        entry = self.entries.get(path)
        if entry is None or entry.mode in (SUBMODULE_MODE, SYMLINK_MODE):
            return None
        data = self.repo.odb.stream(bytes.fromhex(entry.sha)).read()
        return bytes(data)


def index_entries(repo: git.Repo) -> dict[str, TreeEntry]:
    """Path -> entry for every file in the index (stage 0, or the first stage of a conflict)."""
    out = run_git(repo, "ls-files", "-s", "-z", "--full-name")
    entries: dict[str, TreeEntry] = {}
    for record in out.split("\0"):
        if not record:
            continue
        meta, _, path = record.partition("\t")
        mode, sha, _stage = meta.split(" ")
        entries.setdefault(path, TreeEntry(mode, sha))
    return entries


def commit_entries(repo: git.Repo, commit: str) -> dict[str, TreeEntry]:
    """Path -> entry for every file in ``commit``'s tree."""
    out = run_git(repo, "ls-tree", "-r", "-z", "--full-tree", commit)
    entries: dict[str, TreeEntry] = {}
    for record in out.split("\0"):
        if not record:
            continue
        meta, _, path = record.partition("\t")
        mode, _type, sha = meta.split(" ")
        entries[path] = TreeEntry(mode, sha)
    return entries


def untracked_files(repo: git.Repo) -> list[str]:
    """Untracked, not ignored files (honouring .gitignore, .git/info/exclude, core.excludesFile).

    Nested repositories (listed by git as ``dir/``) are left out.
    """
    out = run_git(repo, "ls-files", "--others", "--exclude-standard", "-z", "--full-name")
    return [p for p in out.split("\0") if p and not p.endswith("/")]


def linguist_reasons(repo: git.Repo, paths: list[str]) -> dict[str, str]:
    """Path -> "generated"/"vendored" for paths that .gitattributes marks with GitHub's
    ``linguist-generated`` / ``linguist-vendored`` attributes."""
    if not paths:
        return {}
    # GitPython's istream needs a real file; a pipe through subprocess is simpler.
    try:
        proc = run_git_isolated(
            Path(str(repo.working_tree_dir)),
            [git_executable(), "check-attr", "-z", "--stdin", "linguist-generated", "linguist-vendored"],
            stdin=("\0".join(paths) + "\0").encode("utf-8"),
        )
    except OSError:
        return {}
    if proc.returncode != 0:
        return {}  # attributes only refine the path rules; never fail a review over them
    fields = proc.stdout.decode("utf-8", errors="replace").split("\0")
    reasons: dict[str, str] = {}
    for i in range(0, len(fields) - 2, 3):
        path, attr, value = fields[i], fields[i + 1], fields[i + 2]
        if value in ("set", "true"):
            reasons.setdefault(path, attr.removeprefix("linguist-"))
    return reasons


def looks_binary(data: bytes) -> bool:
    """Git's own heuristic: a NUL byte in the first 8000 bytes means binary."""
    return b"\0" in data[:8000]
