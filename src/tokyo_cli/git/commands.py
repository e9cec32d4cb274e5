"""Low-level git access: open a repository and run git with settings tokyo relies on.

Every git failure leaves this module as a :class:`~tokyo_cli.errors.RepoError` carrying one
clear line (git's own first error line when there is one), never a GitPython traceback.
"""

from __future__ import annotations

import os
from pathlib import Path

# Without git on PATH, GitPython raises ImportError at import time by default; "quiet"
# defers that to the first command, where it becomes a one-line RepoError instead.
os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")

import git  # noqa: E402

from tokyo_cli.errors import RepoError

# The empty tree: git knows it without storing it, so a repository with no commits can be
# diffed against it like any other tree.
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"

# Config that would change the output tokyo parses is pinned per call, whatever the user's
# ~/.gitconfig says (quoted unicode paths, mnemonic prefixes, external diff drivers).
_PINNED_CONFIG = (
    "-c",
    "core.quotepath=off",
    "-c",
    "diff.noprefix=false",
    "-c",
    "diff.mnemonicPrefix=false",
    "-c",
    "color.ui=false",
)


class GitNotFound(RepoError):
    """The ``git`` executable is missing: never mistaken for a "no" answer from git."""


def open_repo(path: Path) -> git.Repo:
    """Open the git repository containing ``path`` (searching parent directories).

    Returns a ``git.Repo`` whose ``working_tree_dir`` is the repository root; use it as a
    context manager (or call ``close()``) so GitPython's helper processes end.

    Raises:
        RepoError: "not a git repository: PATH" (also for a missing path), or
            "PATH is a bare repository: ..." (no working tree to review; says how to get one).
    """
    try:
        repo = git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise RepoError(f"not a git repository: {path}") from None
    except git.GitError as exc:  # e.g. unreadable .git, dubious ownership
        raise RepoError(f"cannot open git repository {path}: {_first_line(exc)}") from None
    if repo.bare or repo.working_tree_dir is None:
        where = repo.git_dir
        repo.close()
        raise RepoError(
            f"{where} is a bare repository: it has no working tree to review. Review a checkout "
            f"of it instead (git clone {where} DIR, or git -C {where} worktree add DIR BRANCH)"
        )
    return repo


def repo_root(repo: git.Repo) -> Path:
    """The repository's top-level working directory as an absolute Path."""
    return Path(str(repo.working_tree_dir)).resolve()


def run_git(repo: git.Repo, *args: str) -> str:
    """Run ``git <pinned config> ARGS`` in the repository root; return stdout as text.

    Output is decoded as UTF-8 (undecodable bytes replaced); trailing newlines are kept
    (diff parsing needs them).

    Raises:
        RepoError: git exited non-zero; the message is git's first stderr line.
    """
    cmd = [git_executable(), *_PINNED_CONFIG, *args]
    try:
        out = repo.git.execute(cmd, stdout_as_string=False, strip_newline_in_stdout=False)
    except git.GitCommandNotFound:
        raise GitNotFound("git is not installed or not on PATH") from None
    except git.CommandError as exc:
        raise RepoError(f"git {args[0]} failed: {_first_line(exc)}") from None
    data = out if isinstance(out, bytes) else str(out).encode()
    return data.decode("utf-8", errors="replace")


def try_git(repo: git.Repo, *args: str) -> str | None:
    """Like :func:`run_git` (text) but returns ``None`` instead of raising on failure.

    For questions whose "no" is a non-zero exit (``rev-parse --verify``, ``symbolic-ref -q``).
    """
    try:
        return run_git(repo, *args).strip()
    except GitNotFound:
        raise
    except RepoError:
        return None


def git_executable() -> str:
    """The git program GitPython is configured with ($GIT_PYTHON_GIT_EXECUTABLE or "git")."""
    return str(git.Git.GIT_PYTHON_GIT_EXECUTABLE or "git")


def is_shallow(repo: git.Repo) -> bool:
    """True for a shallow clone (``git clone --depth N``, CI checkouts by default): its history
    stops at a cut, so a merge-base or HEAD~1 beyond it does not exist."""
    return try_git(repo, "rev-parse", "--is-shallow-repository") == "true"


def skip_worktree_paths(repo: git.Repo) -> set[str]:
    """Index paths marked skip-worktree (outside a sparse checkout's cone): tracked, but not
    in the working tree. Empty when the checkout is not sparse."""
    out = run_git(repo, "ls-files", "-t", "-z", "--full-name")
    return {record[2:] for record in out.split("\0") if record.startswith("S ")}


def has_commits(repo: git.Repo) -> bool:
    """False for a freshly initialised repository whose HEAD points at an unborn branch."""
    return try_git(repo, "rev-parse", "--verify", "--quiet", "HEAD^{commit}") is not None


def resolve_commit(repo: git.Repo, ref: str) -> str:
    """The full commit sha ``ref`` names. Raises RepoError("unknown ref 'REF'"; in a shallow
    clone the message adds that it may not have been fetched, and how to fetch it)."""
    if ref.startswith("-"):  # never let a ref be read as an option
        raise RepoError(f"unknown ref '{ref}'")
    sha = try_git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if not sha:
        if is_shallow(repo):
            raise RepoError(
                f"unknown ref '{ref}': this shallow clone may not have fetched it (git fetch "
                "origin BRANCH; GitHub Actions: actions/checkout with 'fetch-depth: 0')"
            )
        raise RepoError(f"unknown ref '{ref}'")
    return sha


def merge_base(repo: git.Repo, base: str, head: str = "HEAD") -> str:
    """The merge-base sha of ``base`` and ``head``.

    Raises:
        RepoError: "unknown ref 'X'" or "no common ancestor between 'BASE' and HEAD" (in a
            shallow clone: that the joining history was not fetched, and how to fetch it).
    """
    base_sha = resolve_commit(repo, base)
    head_sha = resolve_commit(repo, head)
    mb = try_git(repo, "merge-base", base_sha, head_sha)
    if not mb:
        if is_shallow(repo):
            raise RepoError(
                f"no common ancestor between '{base}' and {head} in this shallow clone: "
                "the history that joins them was not fetched; fetch it with 'git fetch "
                "--unshallow' (GitHub Actions: actions/checkout with 'fetch-depth: 0')"
            )
        raise RepoError(f"no common ancestor between '{base}' and {head}")
    return mb


def _first_line(exc: BaseException) -> str:
    """Git's first meaningful error line out of a GitPython exception."""
    stderr = getattr(exc, "stderr", "") or ""
    if isinstance(stderr, bytes):
        stderr = stderr.decode("utf-8", errors="replace")
    for raw in str(stderr).splitlines() or str(exc).splitlines():
        line = raw.strip().strip("'").strip()
        if line.startswith("stderr:"):
            line = line[len("stderr:") :].strip().strip("'").strip()
        if line:
            return line
    return str(exc).strip() or type(exc).__name__
