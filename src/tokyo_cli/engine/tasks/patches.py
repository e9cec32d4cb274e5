"""Unified-diff patches for findings: parse, refuse what is unsafe, check and apply with git,
and turn a one-hunk patch into a GitHub suggestion.

A patch comes from a model (or an analyzer's known rewrite) and names paths of the reviewed
repository, which is hostile input (docs/ARCHITECTURE.md, "Trust boundaries"). Before git
sees it, :func:`refusal` refuses a patch that is not a plain edit of existing files (file
creation, deletion, rename, copy, mode changes — a new mode ``120000`` would create a symlink
— and binary patches), or that names a path outside the repository (absolute, ``..``), inside
``.git/``, or a symlink (or a path below one). git itself never runs repository code here:
``git apply`` runs no hook, and it is started with ``core.hooksPath=/dev/null`` and
``core.fsmonitor=false`` all the same, with the allow-listed environment of
:mod:`tokyo_cli.safety.isolation`; it refuses paths outside the working tree and through symlinks
on its own (no ``--unsafe-paths``).

Two places to check against: :func:`check_in_tree` (the working tree, where ``tokyo fix
--apply`` writes, through :func:`apply_in_tree`: unstaged, all or nothing) and
:func:`check_against` (a private temporary copy of the changeset's own text — the head blob
of a range review — for a ``fix`` step, which never touches the working tree).
"""

from __future__ import annotations

import difflib
import re
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from unidiff.errors import UnidiffParseError
from unidiff.patch import PatchSet  # defined there: unidiff's __init__ has no __all__

from tokyo_cli.git.commands import git_executable
from tokyo_cli.safety.isolation import ToolUnavailable, last_error_line, run_git_isolated, run_isolated

if TYPE_CHECKING:
    from tokyo_cli.git.repo import Changeset

MAX_PATCH_BYTES = 200_000
GIT_SAFETY = ("-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false")
_NOT_AN_EDIT = re.compile(
    r"^(new file mode|deleted file mode|old mode|new mode|rename from|rename to|copy from|"
    r"copy to|GIT binary patch|Binary files )",
    re.M,
)


def _clean(name: str) -> str:
    name = name.strip()
    for prefix in ("a/", "b/"):
        if name.startswith(prefix):
            return name[2:]
    return name


def patch_paths(patch: str) -> list[str]:
    """The paths a patch edits (``a/``/``b/`` prefixes dropped), in order.

    Raises:
        ValueError: not a unified diff, or one without a file.
    """
    try:
        parsed = PatchSet(patch)
    except UnidiffParseError as exc:
        raise ValueError(f"not a unified diff ({exc})") from None
    if not len(parsed):
        raise ValueError("not a unified diff (no file in it)")
    paths: list[str] = []
    for f in parsed:
        for name in (f.source_file, f.target_file):
            clean = _clean(name)
            if clean != "/dev/null" and clean not in paths:
                paths.append(clean)
    return paths


def refusal(patch: str, *, is_symlink: object = None) -> str | None:
    """Why ``patch`` may not be checked or applied (one line), or ``None``.

    ``is_symlink``: a callable ``path -> bool`` telling whether a path is (or lies below) a
    symlink in the tree the patch is for.
    """
    if len(patch.encode("utf-8", "replace")) > MAX_PATCH_BYTES:
        return f"the patch is larger than {MAX_PATCH_BYTES:,} bytes"
    kind = _NOT_AN_EDIT.search(patch)
    if kind:
        return f"the patch does more than edit existing files ({kind.group(1)})"
    try:
        paths = patch_paths(patch)
    except ValueError as exc:
        return str(exc)
    if re.search(r"^(---|\+\+\+) /dev/null\s*$", patch, re.M):
        return "the patch does more than edit existing files (it creates or deletes a file)"
    for path in paths:
        parts = path.split("/")
        if path.startswith("/") or "\\" in path or ":" in parts[0] or any(p in ("", ".", "..") for p in parts):
            return f"the patch names a path outside the repository: {path}"
        if any(p.lower() == ".git" for p in parts):
            return f"the patch edits git's own files: {path}"
        if callable(is_symlink) and is_symlink(path):
            return f"the patch edits a symlink (never followed): {path}"
    return None


def _git_apply(root: Path, patch: str, *, check: bool) -> str | None:
    """``git apply [--check] -`` in ``root`` (the working tree): ``None`` on success, else
    git's last error line."""
    args = [git_executable(), *GIT_SAFETY, "apply", *(["--check"] if check else []), "--whitespace=nowarn", "-"]
    try:
        proc = run_git_isolated(root, args, stdin=patch.encode("utf-8"), timeout_s=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"git apply could not run: {exc}"
    return None if proc.returncode == 0 else last_error_line(proc)


def check_in_tree(patch: str, root: Path) -> str | None:
    """Why ``patch`` cannot be applied to the working tree at ``root`` (:func:`refusal`, then
    ``git apply --check``), or ``None`` when it applies cleanly."""
    from tokyo_cli.safety import safefs

    why = refusal(patch, is_symlink=lambda p: safefs.is_symlink(root, p))
    return why if why is not None else _git_apply(root, patch, check=True)


def apply_in_tree(patch: str, root: Path) -> str | None:
    """Apply ``patch`` to the working tree at ``root``, unstaged (``git apply``, all or
    nothing); ``None`` on success, else why nothing was changed."""
    why = check_in_tree(patch, root)
    return why if why is not None else _git_apply(root, patch, check=False)


def check_against(patch: str, changes: Changeset) -> str | None:
    """Why ``patch`` does not apply to the changeset's own text of the files it edits, or
    ``None``. The files are copied into a private temporary directory (never the working
    tree) and ``git apply --check`` runs there, outside any repository, with the tool
    environment (no ``GIT_*`` variable, an empty HOME)."""

    def unusable(path: str) -> bool:
        change = changes.file(path)
        return change is not None and change.skipped == "symlink"

    why = refusal(patch, is_symlink=unusable)
    if why is not None:
        return why
    with tempfile.TemporaryDirectory(prefix="tokyo-fix-") as tmp:
        top = Path(tmp) / "tree"
        for path in patch_paths(patch):
            data = changes.new_bytes(path)
            if data is None:
                return f"{path} is not part of the reviewed change (its text is not at hand)"
            target = top / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        top.mkdir(exist_ok=True)
        cmd = [git_executable(), "-C", str(top), *GIT_SAFETY, "apply", "--check", "--whitespace=nowarn", "-"]
        try:
            proc = run_isolated(
                cmd, timeout_s=60, stdin=patch.encode("utf-8"), extra_env={"GIT_CEILING_DIRECTORIES": tmp}
            )
        except ToolUnavailable as exc:
            return f"git apply could not run: {exc}"
        return None if proc.returncode == 0 else last_error_line(proc)


def unified_diff(path: str, old: str, new: str) -> str:
    """A git-style unified diff (``a/``/``b/`` prefixes, 3 lines of context) from ``old`` to
    ``new`` text of ``path``; "" when they are equal."""
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{path}", f"b/{path}", n=3
    )
    return "".join(x if x.endswith("\n") else x + "\n\\ No newline at end of file\n" for x in lines)


def suggestion(patch: str) -> tuple[str, int, int, str] | None:
    """A one-file, one-hunk patch as a GitHub suggestion: ``(path, first, last, text)``, where
    ``first..last`` are the old-side lines the hunk replaces (context trimmed; a pure
    insertion takes the line before it) and ``text`` their replacement. ``None`` when the
    patch has more than one hunk or file (GitHub suggestions replace one range)."""
    try:
        parsed = PatchSet(patch)
    except UnidiffParseError:
        return None
    if len(parsed) != 1 or len(parsed[0]) != 1:
        return None
    hunk = list(parsed[0][0])
    changed = [i for i, line in enumerate(hunk) if line.line_type in ("+", "-")]
    if not changed:
        return None
    lo, hi = changed[0], changed[-1]
    if not any(hunk[i].line_type == "-" for i in range(lo, hi + 1)):  # only additions: anchor on a neighbour
        if lo > 0 and hunk[lo - 1].line_type == " ":
            lo -= 1
        elif hi + 1 < len(hunk) and hunk[hi + 1].line_type == " ":
            hi += 1
        else:
            return None
    span = hunk[lo : hi + 1]
    old = [line.source_line_no for line in span if line.source_line_no is not None]
    text = "".join(line.value for line in span if line.line_type in (" ", "+"))
    return _clean(parsed[0].target_file), min(old), max(old), text.rstrip("\n")
