"""The change under review: which files, which hunks, which lines a comment may anchor to.

Public API (the other modules import from here, not from the helpers):

* :class:`TargetKind`, :class:`ReviewTarget`, :func:`resolve_target` — what to review;
* :func:`open_repo` — a ``git.Repo`` or a one-line RepoError;
* :class:`DiffLine`, :class:`Hunk`, :class:`FileChange`, :class:`Changeset`,
  :func:`load_changeset` — the parsed change;
* :func:`glob_match` — the shared path glob.

Everything is read during :func:`load_changeset`; a Changeset never calls git afterwards, so
the engine may use it from worker threads.

Paths stay inside the repository: a symlink (or, in the working tree, a path below a
symlinked directory) is listed with reason "symlink" and never followed or read, whatever it
points at (working-tree reads go through :mod:`tokyo_cli.safety.safefs`); a submodule is listed
with reason "submodule" and never entered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import git

from tokyo_cli.errors import RepoError
from tokyo_cli.git.commands import (
    EMPTY_TREE,
    has_commits,
    merge_base,
    open_repo,
    repo_root,
    run_git,
    skip_worktree_paths,
)
from tokyo_cli.git.diff import (
    DiffLine,
    FileChange,
    Hunk,
    language_of,
    parse_git_diff,
    split_lines,
    whole_file_change,
)
from tokyo_cli.git.files import (
    SUBMODULE_MODE,
    BlobReader,
    ContentReader,
    WorktreeReader,
    commit_entries,
    index_entries,
    linguist_reasons,
    looks_binary,
    untracked_files,
)
from tokyo_cli.git.pathrules import glob_match, looks_generated, path_skip_reason
from tokyo_cli.git.targets import ReviewTarget, TargetKind, resolve_target

__all__ = [
    "Changeset",
    "DiffLine",
    "FileChange",
    "Hunk",
    "ReviewTarget",
    "TargetKind",
    "glob_match",
    "load_changeset",
    "open_repo",
    "resolve_target",
]

DIFF_OPTIONS = (
    "-p",
    "-M",
    "-U3",
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--src-prefix=a/",
    "--dst-prefix=b/",
    "--no-relative",
)


@dataclass
class Changeset:
    """A parsed change: every file (reviewable or skipped with a reason) and its new text.

    ``root`` is the repository's top-level directory; paths are relative to it, ``/``-separated.
    ``base_sha`` is what the change is compared against (HEAD for staged/working, the
    merge-base for a range, ``None`` for a whole-tree audit or a repository with no commits);
    ``head_sha`` is the commit reviewed (HEAD for range and all, ``None`` when the new side is
    not a commit).
    """

    root: Path
    target: ReviewTarget
    base_sha: str | None
    head_sha: str | None
    files: list[FileChange]
    contents: dict[str, bytes] = field(default_factory=dict, repr=False)
    _text: dict[str, list[str]] = field(default_factory=dict, repr=False)
    _index: dict[str, FileChange] = field(default_factory=dict, repr=False)
    _indexed: int = field(default=-1, repr=False)
    memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)  # views built once (NewTree)
    # The paths this run reviews and reports (one shard of the change, tokyo_cli.engine.shards);
    # None: every file. The other files stay as context for analyzers that look across files.
    scope: frozenset[str] | None = None

    def reviewable(self) -> list[FileChange]:
        """Files to send to reviewers (``skipped is None``), in diff order."""
        return [f for f in self.files if f.skipped is None]

    def in_scope(self, path: str) -> bool:
        """True when this run reviews and reports ``path`` (see ``scope``)."""
        return self.scope is None or path in self.scope

    def scoped(self) -> list[FileChange]:
        """The files this run reviews and lists: every file, or those of its shard (``scope``)."""
        return self.files if self.scope is None else [f for f in self.files if f.path in self.scope]

    def skipped(self) -> list[FileChange]:
        """Files only listed in the report, each with its ``skipped`` reason."""
        return [f for f in self.files if f.skipped is not None]

    def file(self, path: str) -> FileChange | None:
        """The FileChange for ``path`` (new path), or ``None``."""
        if self._indexed != len(self.files):  # rebuilt if a caller changed ``files``
            # A type change (file -> symlink) is a deletion plus an addition of one path;
            # the new side is the one comments go to.
            self._index = {f.path: f for f in self.files if f.status == "deleted"}
            self._index.update({f.path: f for f in self.files if f.status != "deleted"})
            self._indexed = len(self.files)
        change = self._index.get(path)
        return change if change is not None and change.path == path else None

    def anchors(self, path: str) -> set[int]:
        """Every valid comment anchor in ``path``: new-file line numbers inside its hunks
        (added and context lines). Empty for unknown paths and deleted or binary files."""
        change = self.file(path)
        return change.anchors() if change is not None else set()

    def is_anchor(self, path: str, line: int) -> bool:
        """True when a review comment may be placed on new-file ``line`` of ``path``."""
        change = self.file(path)
        # A hunk's new-side lines are contiguous: new_start .. new_start + new_len - 1.
        return change is not None and any(h.new_start <= line < h.new_start + h.new_len for h in change.hunks)

    def new_bytes(self, path: str) -> bytes | None:
        """Bytes of the new version: index blob (staged), worktree (working, all), HEAD blob
        (range). ``None`` for binary, deleted or too large files and those vendored or
        generated by path (``dist/``, lock files); other skipped files keep their bytes."""
        return self.contents.get(path)

    def new_content(self, path: str) -> str | None:
        """Text of the new version (UTF-8, undecodable bytes replaced); ``None`` as for
        :meth:`new_bytes`."""
        data = self.contents.get(path)
        return None if data is None else data.decode("utf-8", errors="replace")

    def line_count(self, path: str) -> int | None:
        """Lines in the new version of ``path``; ``None`` when its text is not at hand (a file
        outside the change, binary, deleted or too large)."""
        content = self.new_content(path)
        return None if content is None else len(split_lines(content))

    def in_head(self, path: str) -> bool:
        """True when ``path`` is a file of the reviewed tree: in the change, or tracked at the
        head commit (``HEAD`` when the new side is not a commit). Read once with
        ``git ls-tree`` and kept; a path git cannot answer for is no file."""
        if self.file(path) is not None:
            return True
        tracked = self.memo.get("head_paths")
        if tracked is None:
            from tokyo_cli.git.commands import try_git

            try:
                with open_repo(self.root) as repo:
                    out = try_git(repo, "ls-tree", "-r", "--name-only", "-z", self.head_sha or "HEAD")
            except RepoError:
                out = None
            tracked = self.memo["head_paths"] = frozenset((out or "").split("\0")) - {""}
        return path in tracked

    def line_text(self, path: str, line: int) -> str:
        """Text of new-file ``line`` (1-based, no line terminator); "" when unknown."""
        if path not in self._text:
            content = self.new_content(path)
            self._text[path] = split_lines(content) if content is not None else []
        lines = self._text[path]
        if 1 <= line <= len(lines):
            return lines[line - 1]
        change = self.file(path)
        for hunk in change.hunks if change else []:
            for dl in hunk.lines:
                if dl.new_line == line:
                    return dl.text
        return ""


def load_changeset(
    root: Path,
    target: ReviewTarget,
    *,
    paths: list[str] | None = None,
    max_file_bytes: int = 1_000_000,
) -> Changeset:
    """Collect and parse the change ``target`` names in the repository at ``root``.

    ``paths`` are --path globs (:func:`glob_match`); files matching none (by new or old path)
    are dropped entirely; ``None`` or ``[]`` keeps everything. Files whose new version is
    over ``max_file_bytes`` bytes are listed as "too large". The working target also lists
    untracked, not ignored files as added files; a whole-tree audit (ALL) turns each tracked
    file into an added file whose every line is an anchor.

    Raises:
        RepoError: not a git repository, unknown ref, or git failed (one clear line).
    """
    with open_repo(root) as repo:
        top = repo_root(repo)
        head = run_git(repo, "rev-parse", "HEAD").strip() if has_commits(repo) else None
        contents: dict[str, bytes] = {}
        loader = _Loader(repo, top, paths or [], max_file_bytes, contents)
        if target.kind is TargetKind.ALL:
            files = loader.whole_tree()
            base_sha, head_sha = None, head
        elif target.kind is TargetKind.RANGE:
            if not target.base:
                raise RepoError("a range target needs a base ref")
            if head is None:
                raise RepoError("the repository has no commits yet: nothing to compare")
            head_sha = run_git(repo, "rev-parse", f"{target.head or 'HEAD'}^{{commit}}").strip()
            base_sha = merge_base(repo, target.base, head_sha)
            files = loader.from_diff([base_sha, head_sha], BlobReader(repo, commit_entries(repo, head_sha)))
        elif target.kind is TargetKind.STAGED:
            base_sha, head_sha = head, None
            reader = BlobReader(repo, index_entries(repo))
            files = loader.from_diff(["--cached", head or EMPTY_TREE], reader)
        else:
            base_sha, head_sha = head, None
            files = loader.from_diff([head or EMPTY_TREE], WorktreeReader(top))
            files += loader.untracked()
        loader.apply_attributes(files)
    return Changeset(top, target, base_sha, head_sha, files, contents)


class _Loader:
    """Builds FileChanges for one load and fills ``contents`` with the new bytes it read."""

    def __init__(
        self, repo: git.Repo, root: Path, globs: list[str], max_bytes: int, contents: dict[str, bytes]
    ) -> None:
        self.repo, self.root, self.globs = repo, root, globs
        self.max_bytes, self.contents = max_bytes, contents

    def selected(self, *paths: str | None) -> bool:
        return not self.globs or any(p is not None and glob_match(p, self.globs) for p in paths)

    def from_diff(self, revs: list[str], reader: ContentReader) -> list[FileChange]:
        text = run_git(self.repo, "diff", *DIFF_OPTIONS, *revs, "--")
        files = [f for f in parse_git_diff(text) if self.selected(f.path, f.old_path)]
        for change in files:
            change.skipped = self._diff_skip_reason(change, reader)
        return files

    def untracked(self) -> list[FileChange]:
        reader = WorktreeReader(self.root)
        return [self._whole_file(p, reader) for p in untracked_files(self.repo) if self.selected(p)]

    def whole_tree(self) -> list[FileChange]:
        """Every tracked file as added. In a sparse checkout, a file outside the cone is not
        on disk: its index blob is reviewed instead (it is tracked, not deleted)."""
        reader = WorktreeReader(self.root)
        entries = index_entries(self.repo)
        sparse = skip_worktree_paths(self.repo)
        blobs = BlobReader(self.repo, entries)
        files = []
        for path, entry in entries.items():
            if self.selected(path):
                source = blobs if path in sparse else reader
                files.append(self._whole_file(path, source, submodule=entry.mode == SUBMODULE_MODE))
        return files

    def apply_attributes(self, files: list[FileChange]) -> None:
        reasons = linguist_reasons(self.repo, [f.path for f in files if f.skipped is None])
        for change in files:
            if change.skipped is None and change.path in reasons:
                change.skipped = reasons[change.path]

    def _diff_skip_reason(self, change: FileChange, reader: ContentReader) -> str | None:
        if change.status == "deleted":
            return "deleted"
        if change.submodule:
            return "submodule"
        if change.binary:
            return "binary"
        reason = path_skip_reason(change.path) or self._read(change.path, reader)
        if reason:
            return reason
        if not change.hunks:
            if change.status == "renamed":
                return "renamed"
            return "empty" if change.status == "added" else "no content change"
        return None

    def _whole_file(self, path: str, reader: ContentReader, *, submodule: bool = False) -> FileChange:
        placeholder = FileChange(path=path, status="added", submodule=submodule, language=language_of(path))
        if submodule:
            placeholder.skipped = "submodule"
            return placeholder
        reason = path_skip_reason(path) or self._read(path, reader)
        data = self.contents.get(path)
        if data is not None and looks_binary(data):
            del self.contents[path]
            placeholder.binary, placeholder.skipped = True, "binary"
            return placeholder
        if data is None or reason:
            placeholder.skipped = reason or "unreadable"
            if reason == "deleted":
                placeholder.status = "deleted"
            return placeholder
        change = whole_file_change(path, data.decode("utf-8", errors="replace"))
        change.skipped = None if change.hunks else "empty"
        return change

    def _read(self, path: str, reader: ContentReader) -> str | None:
        """Read ``path`` into ``contents``; the skip reason its kind, size or header implies
        ("symlink": a symlink is listed, never followed or reviewed)."""
        if reader.is_symlink(path):
            return "symlink"
        size = reader.size(path)
        if size is None:
            return "deleted" if isinstance(reader, WorktreeReader) else "unreadable"
        if size > self.max_bytes:
            return "too large"
        data = reader.read(path)
        if data is None:
            return "unreadable"
        self.contents[path] = data
        return "generated" if looks_generated(data) else None
