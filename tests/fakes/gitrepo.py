"""Real git repositories in temporary directories, for any test that needs one.

Fixtures:

* ``git_repo`` -> :class:`GitRepo`: an empty repository (branch ``main``, no commits) in a
  fresh tmp dir;
* ``make_git_repo`` -> factory ``make_git_repo(name="repo") -> GitRepo`` for tests that need
  several repositories (or a clone's origin).

``GitRepo`` drives the ``git`` command line directly (not GitPython), so fixtures stay
independent of the code under test. Identity and config come from the autouse isolation
fixture in conftest.py plus repository-local settings (no signing, no autocrlf).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest


class GitRepo:
    """A small driver for a git repository at ``root``.

    Paths are repository-relative and ``/``-separated; parent directories are created.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def git(self, *args: str, input: bytes | None = None) -> str:
        """Run ``git ARGS`` in the repository; return stdout (text). Raises on failure,
        with git's stderr in the message."""
        proc = subprocess.run(["git", *args], cwd=self.root, input=input, capture_output=True, check=False)
        if proc.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr.decode(errors='replace')}")
        return proc.stdout.decode("utf-8", errors="replace")

    def init(self, branch: str = "main") -> GitRepo:
        self.root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", branch)
        for key, value in (
            ("user.name", "Test"),
            ("user.email", "test@example.com"),
            ("commit.gpgsign", "false"),
            ("tag.gpgsign", "false"),
            ("core.autocrlf", "false"),
            ("core.safecrlf", "false"),
        ):
            self.git("config", key, value)
        return self

    def path(self, rel: str) -> Path:
        return self.root / rel

    def write(self, rel: str, content: str | bytes) -> Path:
        """Write a file (text is written as UTF-8 bytes exactly: no newline translation)."""
        target = self.root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        return target

    def read(self, rel: str) -> str:
        return (self.root / rel).read_text(encoding="utf-8")

    def delete(self, rel: str) -> None:
        """Remove a file from the working tree only (use ``stage`` to stage the deletion)."""
        (self.root / rel).unlink()

    def stage(self, *paths: str) -> None:
        """``git add -A -- PATHS`` (all changes when no path is given)."""
        self.git("add", "-A", "--", *(paths or (".",)))

    def move(self, old: str, new: str) -> None:
        """``git mv OLD NEW`` (creates NEW's parent directories)."""
        (self.root / new).parent.mkdir(parents=True, exist_ok=True)
        self.git("mv", old, new)

    def commit(self, message: str = "commit", *paths: str, stage: bool = True) -> str:
        """Stage PATHS (or everything) unless ``stage=False``, commit, return the new sha."""
        if stage:
            self.stage(*paths)
        self.git("commit", "-q", "--no-verify", "-m", message)
        return self.head()

    def checkout_branch(self, name: str, *, create: bool = True, start: str | None = None) -> None:
        """Switch to branch NAME, creating it (from START or HEAD) unless ``create=False``."""
        if create:
            self.git("checkout", "-q", "-b", name, *([start] if start else []))
        else:
            self.git("checkout", "-q", name)

    def detach(self, rev: str = "HEAD") -> None:
        self.git("checkout", "-q", "--detach", rev)

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").strip()

    def rev(self, rev: str) -> str:
        return self.git("rev-parse", rev).strip()


@pytest.fixture
def make_git_repo(tmp_path: Path) -> Callable[..., GitRepo]:
    """Factory: ``make_git_repo("name", branch="main")`` -> a fresh initialised GitRepo."""

    def make(name: str = "repo", branch: str = "main") -> GitRepo:
        return GitRepo(tmp_path / name).init(branch)

    return make


@pytest.fixture
def git_repo(make_git_repo: Callable[..., GitRepo]) -> GitRepo:
    """An empty repository (branch main, no commits) in a tmp dir."""
    return make_git_repo("repo")


@pytest.fixture
def committed_repo(git_repo: GitRepo) -> GitRepo:
    """``git_repo`` with one commit on main: ``app.py``."""
    git_repo.write("app.py", "print('hi')\n")
    git_repo.commit("first")
    return git_repo
