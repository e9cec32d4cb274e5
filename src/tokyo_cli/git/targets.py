"""What to review: staged changes, the working tree, a branch range, or the whole tree.

:func:`resolve_target` turns CLI flags (or their absence) into a :class:`ReviewTarget` whose
``description`` tells the user, in one phrase, what tokyo decided to look at.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import git
from pydantic import BaseModel

from tokyo_cli.errors import RepoError
from tokyo_cli.git.commands import (
    has_commits,
    is_shallow,
    merge_base,
    open_repo,
    resolve_commit,
    run_git,
    try_git,
)

STAGED_TEXT = "staged changes"
WORKING_TEXT = "working tree (uncommitted changes)"
ALL_TEXT = "whole tracked tree (audit)"


class TargetKind(str, Enum):
    """The four kinds of review target (same spelling as workflow ``target:``)."""

    STAGED = "staged"
    WORKING = "working"
    RANGE = "range"
    ALL = "all"


class ReviewTarget(BaseModel):
    """A resolved review target.

    ``base`` is the ref as the user gave it (or as tokyo chose it) for RANGE; the diff is taken
    from the merge-base of ``base`` and ``head``, like ``git diff BASE...HEAD``. ``head`` is
    the range's tip for RANGE ("HEAD", or the pushed sha for the pre-push hook) and ``None``
    otherwise. ``chosen_by_default`` is True when no target
    flag was given and tokyo picked this one.
    """

    kind: TargetKind
    base: str | None = None
    head: str | None = None
    description: str
    chosen_by_default: bool = False


def resolve_target(
    root: Path,
    *,
    staged: bool = False,
    working: bool = False,
    base: str | None = None,
    all_files: bool = False,
) -> ReviewTarget:
    """Resolve target flags for the repository at ``root`` into a :class:`ReviewTarget`.

    With no flag: the uncommitted changes (staged or unstaged, tracked files) if there are
    any; else the current branch against its merge-base with the default branch (origin/HEAD,
    else main, else master); when HEAD is already on the default branch, the last commit
    (HEAD~1...HEAD); a repository with a single commit gets a whole-tree audit. A shallow
    clone (CI checkouts) gets the same targets when its history has them, never the fallbacks
    (a guessed target there would be a whole-tree audit of a branch): a RepoError says so.

    Raises:
        RepoError: conflicting flags, not a git repository, unknown ref, no common ancestor,
            nothing to review in a repository without commits, or a shallow clone whose
            history lacks the default target's base (the message says how to deepen it).
    """
    flags = [
        name
        for name, on in (
            ("--staged", staged),
            ("--working", working),
            ("--base", base is not None),
            ("--all", all_files),
        )
        if on
    ]
    if len(flags) > 1:
        raise RepoError(f"conflicting targets: {' and '.join(flags)} (choose one)")
    with open_repo(root) as repo:
        if staged:
            return ReviewTarget(kind=TargetKind.STAGED, description=STAGED_TEXT)
        if working:
            return ReviewTarget(kind=TargetKind.WORKING, description=WORKING_TEXT)
        if all_files:
            return ReviewTarget(kind=TargetKind.ALL, description=ALL_TEXT)
        if base is not None:
            return range_target(repo, base)
        return _default_target(repo)


def range_target(repo: git.Repo, base: str, *, by_default: bool = False) -> ReviewTarget:
    """A RANGE target ``BASE...HEAD`` whose description counts commits since the merge-base.

    Raises:
        RepoError: no commits yet, "unknown ref 'BASE'", or no common ancestor.
    """
    if not has_commits(repo):
        raise RepoError(
            f"the repository has no commits yet: nothing to compare with '{base}' (use --staged or --working)"
        )
    mb = merge_base(repo, base)
    count = int(try_git(repo, "rev-list", "--count", f"{mb}..HEAD") or 0)
    noun = "commit" if count == 1 else "commits"
    return ReviewTarget(
        kind=TargetKind.RANGE,
        base=base,
        head="HEAD",
        description=f"{base}...HEAD ({count} {noun}, merge-base {mb[:7]})",
        chosen_by_default=by_default,
    )


def _default_target(repo: git.Repo) -> ReviewTarget:
    if _has_uncommitted_changes(repo):
        return ReviewTarget(kind=TargetKind.WORKING, description=WORKING_TEXT, chosen_by_default=True)
    if not has_commits(repo):
        raise RepoError(
            "nothing to review: the repository has no commits and no staged changes "
            "(git add some files, or use --working to include untracked files)"
        )
    head = resolve_commit(repo, "HEAD")
    default = default_branch(repo)
    shallow = is_shallow(repo)
    if default is None and shallow:
        raise _shallow_error(
            "no default branch (origin/HEAD, main, master) was fetched to compare with",
            "'git fetch --unshallow origin main:refs/remotes/origin/main' (your default branch)",
        )
    if default is not None:
        try:
            mb = merge_base(repo, default)
        except RepoError:
            if shallow:  # not unrelated: the joining history was cut off
                raise _shallow_error(f"'{default}' and HEAD share no commit within the fetched history") from None
            mb = head  # unrelated histories: fall back to the last commit
        if mb != head:
            return range_target(repo, default, by_default=True)
    if try_git(repo, "rev-parse", "--verify", "--quiet", "HEAD~1^{commit}"):
        mb = merge_base(repo, "HEAD~1")
        return ReviewTarget(
            kind=TargetKind.RANGE,
            base="HEAD~1",
            head="HEAD",
            description=f"last commit (HEAD~1...HEAD, merge-base {mb[:7]})",
            chosen_by_default=True,
        )
    if shallow:
        raise _shallow_error("only the last commit was fetched (it has no parent here)")
    return ReviewTarget(kind=TargetKind.ALL, description=ALL_TEXT, chosen_by_default=True)


def _shallow_error(why: str, fetch: str = "'git fetch --unshallow'") -> RepoError:
    """Why the default target cannot be found in a shallow clone, and what to do. Without
    this, the review silently became a whole-tree audit (or a one-commit review of a branch)."""
    return RepoError(
        f"shallow clone: {why}, so tokyo cannot tell which change to review. Fetch the history "
        f"with {fetch} (GitHub Actions: actions/checkout with 'fetch-depth: 0'), or choose a "
        "target: --base REF, --working, or --all for a whole-tree audit"
    )


def default_branch(repo: git.Repo) -> str | None:
    """The repository's default branch as a ref name: origin/HEAD's target, else "main",
    "master", "origin/main", "origin/master" (the first that exists); ``None`` if none do."""
    symbolic = try_git(repo, "symbolic-ref", "-q", "refs/remotes/origin/HEAD")
    if symbolic and symbolic.startswith("refs/remotes/"):
        name = symbolic[len("refs/remotes/") :]
        if try_git(repo, "rev-parse", "--verify", "--quiet", f"{symbolic}^{{commit}}"):
            return name
    for short, full in (
        ("main", "refs/heads/main"),
        ("master", "refs/heads/master"),
        ("origin/main", "refs/remotes/origin/main"),
        ("origin/master", "refs/remotes/origin/master"),
    ):
        if try_git(repo, "rev-parse", "--verify", "--quiet", f"{full}^{{commit}}"):
            return short
    return None


def _has_uncommitted_changes(repo: git.Repo) -> bool:
    """Staged or unstaged changes to tracked files (untracked files do not count)."""
    out = run_git(repo, "status", "--porcelain", "-z", "--untracked-files=no")
    return bool(out)
