"""The diff lines around a finding: from the live changeset, or re-read from git for a past run.

History stores findings, not diffs. For a past run the change is collected again from git
(:func:`tokyo_cli.git.repo.load_changeset` over the finding's file only): exact for a commit range
(``base_sha``..``head_sha`` are immutable); for a staged or working-tree run the files may
have moved on since, so the excerpt is shown only when the finding's anchored line still
reads the same, and otherwise the stored anchored line alone, saying why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tokyo_cli.findings import Finding
from tokyo_cli.git.diff import DiffLine, FileChange
from tokyo_cli.git.repo import Changeset
from tokyo_cli.results import RunResult

CONTEXT_LINES = 6
"""Diff lines kept on each side of the finding's line (the hunk is cut, never padded)."""


@dataclass
class HunkExcerpt:
    """Diff lines to show under a finding.

    ``header`` is the hunk's ``@@ -a,b +c,d @@`` line; ``lines`` the excerpt (each with its
    old/new line numbers); ``focus`` the new-file lines the finding covers; ``note`` says
    where the lines come from or why there are none.
    """

    header: str = ""
    lines: list[DiffLine] = field(default_factory=list)
    focus: range = range(0)
    note: str = ""


def excerpt(change: FileChange | None, finding: Finding, context: int = CONTEXT_LINES) -> HunkExcerpt:
    """The lines of the hunk that contains ``finding.line``, ``context`` lines either side."""
    if change is None:
        return HunkExcerpt(note="the file is not in the change")
    if finding.line is None:
        return HunkExcerpt(note="file-level finding: it is not on a changed line")
    last = finding.end_line or finding.line
    for hunk in change.hunks:
        if not hunk.new_start <= finding.line < hunk.new_start + max(hunk.new_len, 1):
            continue
        at = [i for i, dl in enumerate(hunk.lines) if dl.new_line is not None and finding.line <= dl.new_line <= last]
        lo = max(0, (at[0] if at else 0) - context)
        hi = min(len(hunk.lines), (at[-1] if at else 0) + context + 1)
        head = f"@@ -{hunk.old_start},{hunk.old_len} +{hunk.new_start},{hunk.new_len} @@ {hunk.header}".rstrip()
        return HunkExcerpt(header=head, lines=hunk.lines[lo:hi], focus=range(finding.line, last + 1))
    return HunkExcerpt(note=f"line {finding.line} is not inside a hunk of {change.path}")


def changeset_hunks(changeset: Changeset) -> Callable[[Finding], HunkExcerpt]:
    """Lookup for a live run: the changeset is in memory, nothing is read again."""

    def lookup(finding: Finding) -> HunkExcerpt:
        return excerpt(changeset.file(finding.path), finding)

    return lookup


def history_hunks(result: RunResult) -> Callable[[Finding], HunkExcerpt]:
    """Lookup for a stored run: re-reads the finding's file diff from git (blocking; a thread).

    Never raises: a missing repository, a ref gone after a rebase or a file that changed
    since the run turn into a ``note`` (with the stored anchored line when there is one).
    """
    cache: dict[str, FileChange | None | str] = {}

    def lookup(finding: Finding) -> HunkExcerpt:
        if finding.path not in cache:
            cache[finding.path] = _reload(result, finding.path)
        change = cache[finding.path]
        if isinstance(change, str):
            return _anchored_only(finding, change)
        found = excerpt(change, finding)
        if result.target == "range" or not found.lines:
            return found if found.lines else _anchored_only(finding, found.note)
        now = next((dl.text for dl in found.lines if dl.new_line == finding.line and dl.kind != "-"), None)
        if finding.anchor_text and now != finding.anchor_text:
            return _anchored_only(finding, f"{finding.path} has changed since this run")
        found.note = f"re-read from the {result.target} change as it is now; the finding's line is unchanged"
        return found

    return lookup


def _anchored_only(finding: Finding, why: str) -> HunkExcerpt:
    if finding.line is None or not finding.anchor_text:
        return HunkExcerpt(note=why)
    line = DiffLine(kind="+", text=finding.anchor_text, old_line=None, new_line=finding.line)
    return HunkExcerpt(
        lines=[line], focus=range(finding.line, finding.line + 1), note=f"{why}; showing the stored line"
    )


def _reload(result: RunResult, path: str) -> FileChange | None | str:
    """The file's change as git has it now, ``None`` if not in it, or why it cannot be read."""
    from tokyo_cli.errors import TokyoError
    from tokyo_cli.git.repo import ReviewTarget, TargetKind, load_changeset

    root = Path(result.repo)
    if not root.is_dir():
        return f"the repository {result.repo} is not here any more"
    kind = TargetKind(result.target)
    if kind is TargetKind.RANGE and not (result.base_sha and result.head_sha):
        return "the run did not record its commits"
    target = ReviewTarget(kind=kind, base=result.base_sha, head=result.head_sha, description=result.target_description)
    try:
        changeset = load_changeset(root, target, paths=[path])
    except TokyoError as exc:
        return f"git: {exc.message}"
    return changeset.file(path)
