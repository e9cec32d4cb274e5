"""File listings and content readers for each review target.

A reader answers two questions about a repository-relative path in one version of the tree
(the index, a commit, or the working tree): its size in bytes and its bytes. Readers only
work while the ``git.Repo`` they were built from is open; the changeset copies what it
needs before the repository is closed.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import git

from tokyo_cli.gitcmd import git_executable, run_git

SUBMODULE_MODE = "160000"


@dataclass(frozen=True, slots=True)
class TreeEntry:
    """One ``ls-files -s`` / ``ls-tree -r`` row: file mode (octal text) and blob sha."""

    mode: str
    sha: str


class ContentReader(Protocol):
    def size(self, path: str) -> int | None:
        """Size in bytes of ``path`` in this version; ``None`` when it does not exist."""

    def read(self, path: str) -> bytes | None:
        """Bytes of ``path`` in this version (a symlink's target text, as git stores it)."""


class WorktreeReader:
    """Reads the working tree under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def size(self, path: str) -> int | None:
        full = self.root / path
        try:
            if full.is_symlink():
                return len(os.fsencode(os.readlink(full)))
            return full.stat().st_size if full.is_file() else None
        except OSError:
            return None

    def read(self, path: str) -> bytes | None:
        full = self.root / path
        try:
            if full.is_symlink():
                return os.fsencode(os.readlink(full))
            return full.read_bytes()
        except OSError:
            return None


class BlobReader:
    """Reads blobs of one tree (the index or a commit) through GitPython's object database."""

    def __init__(self, repo: git.Repo, entries: dict[str, TreeEntry]) -> None:
        self.repo = repo
        self.entries = entries

    def size(self, path: str) -> int | None:
        entry = self.entries.get(path)
        if entry is None or entry.mode == SUBMODULE_MODE:
            return None
        return int(self.repo.odb.info(bytes.fromhex(entry.sha)).size)

    def read(self, path: str) -> bytes | None:
        entry = self.entries.get(path)
        if entry is None or entry.mode == SUBMODULE_MODE:
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
        proc = subprocess.run(
            [git_executable(), "check-attr", "-z", "--stdin", "linguist-generated", "linguist-vendored"],
            cwd=repo.working_tree_dir, input=("\0".join(paths) + "\0").encode("utf-8"),
            capture_output=True, check=False,
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
