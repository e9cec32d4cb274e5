"""``tokyo init``: the files that set a repository up for tokyo, planned first, then written.

:func:`plan_init` returns one :class:`PlannedFile` per file (data only; nothing written),
:func:`write_plan` writes those that are not skipped. The files, from ``templates/``:

* the settings: ``.tokyo.toml``, or with ``pyproject=True`` a ``[tool.tokyo]`` table in
  pyproject.toml (appended; with ``force`` an existing table is replaced). Only the keys a
  repository may set (:data:`tokyo_cli.config.repository.REPO_SETTINGS`), with comments;
* ``agents.yaml``: an overlay on the packaged team with commented examples and no entry;
* ``.github/workflows/tokyo-review.yml``: the README's pull request workflow, the action
  pinned as ``OWNER/REPO@<40-hex sha>`` (``action``; the README's placeholder by default);
* ``.pre-commit-config.yaml``: the ``tokyo-review`` hook added to the ``repos:`` list of an
  existing file (checked by parsing it again: every other entry unchanged), or a new file.

A file that exists is never overwritten without ``force``; a ``.pre-commit-config.yaml``
that already names a tokyo hook is left alone. Paths are resolved inside the repository
root and never through a symlink (``safefs``; writes use ``O_NOFOLLOW``): a symlinked
``.github`` or config file is skipped with the reason. Existing files are parsed with the
limits of untrusted configuration (:mod:`tokyo_cli.config.limits`).
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from tokyo_cli import __version__
from tokyo_cli.errors import ConfigError
from tokyo_cli.safety import safefs

TEMPLATES = Path(__file__).resolve().parent / "templates"
PLACEHOLDER_ACTION = "OWNER/tokyo-cli@0123456789abcdef0123456789abcdef01234567"
"""The README's placeholder: written when no ``action`` is given, and said so."""
ACTION_REF = re.compile(r"^(?P<repo>[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)@(?P<sha>[0-9a-f]{40})$")
SETTINGS_FILE = ".tokyo.toml"
PYPROJECT = "pyproject.toml"
WORKFLOW_FILE = ".github/workflows/tokyo-review.yml"
PRE_COMMIT_FILE = ".pre-commit-config.yaml"
TOKYO_HOOKS = ("tokyo-review", "tokyo-review-offline")
_PINNED_USES = re.compile(r"OWNER/tokyo-cli@[0-9a-f]{40} # v\S+")
_TOOL_TOKYO = re.compile(r"^\s*\[\s*tool\s*\.\s*tokyo\s*(\]|\.)")
_TABLE = re.compile(r"^\s*\[")


class PlannedFile(BaseModel):
    """One file: ``path`` (repository-relative, ``/``-separated), ``action`` ("create",
    "overwrite", "update" or "skip"), ``why`` (one line), ``text`` (the whole new content;
    "" when skipped) and ``shown`` (what to show: the added lines of an update)."""

    path: str
    action: Literal["create", "overwrite", "update", "skip"]
    why: str
    text: str = ""
    shown: str = ""


def parse_action(ref: str | None) -> tuple[str, str]:
    """``("owner/repo", sha)`` of ``OWNER/REPO@SHA`` (the placeholder's for ``None``).

    Raises:
        ConfigError: not ``owner/repo@`` and a full 40-character commit SHA (a tag can be
            moved; GitHub's hardening guide asks for a full SHA).
    """
    match = ACTION_REF.match(ref or PLACEHOLDER_ACTION)
    if match is None:
        raise ConfigError(f"--action {ref!r}: expected OWNER/REPO@SHA with a full 40-character commit SHA")
    return match["repo"], match["sha"]


def plan_init(
    root: Path, *, pyproject: bool = False, force: bool = False, action: str | None = None
) -> list[PlannedFile]:
    """What ``tokyo init`` would write in the repository at ``root`` (nothing is written).

    Raises:
        ConfigError: ``action`` is not ``OWNER/REPO@<40-hex sha>``.
    """
    repo, sha = parse_action(action)
    return [
        _plan_pyproject(root, force)
        if pyproject
        else _plan_whole(root, SETTINGS_FILE, _template("tokyo.toml"), "tokyo's settings for this repository", force),
        _plan_whole(
            root, "agents.yaml", _template("agents.yaml"), "an overlay on the packaged team (comments only)", force
        ),
        _plan_whole(
            root,
            WORKFLOW_FILE,
            _pinned(_template("tokyo-review.yml"), repo, sha),
            f"the pull request review, the action pinned to {repo}@{sha[:7]}",
            force,
        ),
        _plan_pre_commit(root, repo, sha),
    ]


def write_plan(root: Path, plan: list[PlannedFile]) -> list[str]:
    """Write every planned file that is not skipped; the paths written.

    Raises:
        ConfigError: a path became a symlink, or a file appeared, since it was planned
            (``O_NOFOLLOW``/``O_EXCL``), or the OS refused the write (names the file).
    """
    written = []
    for item in plan:
        if item.action == "skip":
            continue
        if safefs.is_symlink(root, item.path):
            raise ConfigError(f"{item.path}: not written: a symlink is never followed")
        target = root.joinpath(*item.path.split("/"))
        flags = os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        flags |= (os.O_CREAT | os.O_EXCL) if item.action == "create" else os.O_TRUNC
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(target, flags, 0o644)
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(item.text)
        except OSError as exc:
            raise ConfigError(f"{item.path}: not written: {exc.strerror or exc}") from None
        written.append(item.path)
    return written


def _template(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")


def _pinned(text: str, repo: str, sha: str) -> str:
    """``text`` with the README's pinned placeholder replaced by ``repo@sha # vVERSION``."""
    return _PINNED_USES.sub(f"{repo}@{sha} # v{__version__}", text)


def _existing(root: Path, rel: str) -> str | bytes | None:
    """The bytes of ``root/rel``, ``None`` when it does not exist, or a reason (str) not to
    touch it: a symlink (it or a parent), not a regular file, unreadable."""
    if safefs.is_symlink(root, rel):
        return "a symlink is never followed"
    st = safefs.lstat(root, rel)
    if st is None:
        return None
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file"
    data = safefs.read(root, rel)
    return "cannot be read" if data is None else data


def _skip(rel: str, why: str) -> PlannedFile:
    return PlannedFile(path=rel, action="skip", why=why)


def _plan_whole(root: Path, rel: str, text: str, why: str, force: bool) -> PlannedFile:
    """A file tokyo writes whole: created, or overwritten with ``force``."""
    found = _existing(root, rel)
    if isinstance(found, str):
        return _skip(rel, found)
    if found is None:
        return PlannedFile(path=rel, action="create", why=why, text=text, shown=text)
    if not force:
        return _skip(rel, "exists (--force overwrites it)")
    return PlannedFile(path=rel, action="overwrite", why=why, text=text, shown=text)


def _text_of(rel: str, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{rel}: not UTF-8") from None


def _plan_pyproject(root: Path, force: bool) -> PlannedFile:
    """The ``[tool.tokyo]`` table in pyproject.toml: appended, or (``force``) replacing the
    file's table, checked by parsing the result (every other value unchanged)."""
    table = "[tool.tokyo]\n" + _template("tokyo.toml")
    found = _existing(root, PYPROJECT)
    if isinstance(found, str):
        return _skip(PYPROJECT, found)
    if found is None:
        return PlannedFile(
            path=PYPROJECT, action="create", why="[tool.tokyo]: tokyo's settings", text=table, shown=table
        )
    from tokyo_cli.config.limits import load_toml_text

    try:
        old_text = _text_of(PYPROJECT, found)
        old = load_toml_text(old_text, PYPROJECT)
    except ConfigError as exc:
        return _skip(PYPROJECT, exc.message)
    lines = old_text.splitlines(keepends=True)
    if "tokyo" in old.get("tool", {}):
        if not force:
            return _skip(PYPROJECT, "already has [tool.tokyo] (--force replaces it)")
        lines = _without_tool_tokyo(lines)
    kept = "".join(lines)
    new_text = kept + ("" if not kept or kept.endswith("\n\n") else "\n" if kept.endswith("\n") else "\n\n") + table
    try:
        new = load_toml_text(new_text, PYPROJECT)
    except ConfigError:
        new = {"tool": {}}
    expected = load_toml_text(table, PYPROJECT)["tool"]["tokyo"]
    if (
        "tokyo" not in new.get("tool", {})
        or _without_key(new, ("tool", "tokyo")) != _without_key(old, ("tool", "tokyo"))
        or new["tool"]["tokyo"] != expected
    ):
        return _skip(
            PYPROJECT,
            "its [tool.tokyo] is not one plain table (dotted keys or an inline table): "
            "edit it by hand, or use .tokyo.toml",
        )
    action: Literal["overwrite", "update"] = "overwrite" if "tokyo" in old.get("tool", {}) else "update"
    why = "[tool.tokyo] replaced" if action == "overwrite" else "[tool.tokyo] added at the end"
    return PlannedFile(path=PYPROJECT, action=action, why=why, text=new_text, shown=table)


def _without_tool_tokyo(lines: list[str]) -> list[str]:
    """``lines`` of a TOML file without the ``[tool.tokyo]`` table and its sub-tables."""
    out, inside = [], False
    for line in lines:
        if _TABLE.match(line):
            inside = bool(_TOOL_TOKYO.match(line))
        if not inside:
            out.append(line)
    return out


def _without_key(doc: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    """A copy of ``doc`` without ``doc[path[0]]...[path[-1]]`` (and a table left empty by it)."""
    head, *rest = path
    if head not in doc:
        return doc
    copy = dict(doc)
    if rest and isinstance(copy[head], dict):
        inner = _without_key(copy[head], tuple(rest))
        if inner:
            copy[head] = inner
        else:
            del copy[head]
    elif not rest:
        del copy[head]
    return copy


def _plan_pre_commit(root: Path, repo: str, sha: str) -> PlannedFile:
    """The tokyo hook in ``.pre-commit-config.yaml``: a new file, or an entry added at the
    end of the ``repos:`` block (verified by parsing); never a second tokyo hook."""
    entry = _template("pre-commit-entry.yaml").format(repo=repo, sha=sha, version=__version__)
    found = _existing(root, PRE_COMMIT_FILE)
    if isinstance(found, str):
        return _skip(PRE_COMMIT_FILE, found)
    if found is None:
        text = "repos:\n" + entry
        return PlannedFile(path=PRE_COMMIT_FILE, action="create", why="the tokyo-review hook", text=text, shown=text)
    from tokyo_cli.config.yamlload import load_yaml_text

    try:
        old_text = _text_of(PRE_COMMIT_FILE, found)
        old = load_yaml_text(old_text, PRE_COMMIT_FILE).data
    except ConfigError as exc:
        return _skip(PRE_COMMIT_FILE, exc.message)
    repos = old.get("repos") if isinstance(old, dict) else None
    if not isinstance(repos, list):
        return _skip(PRE_COMMIT_FILE, "has no `repos:` list to add to: add the entry by hand")
    hooks = {h.get("id") for r in repos if isinstance(r, dict) for h in r.get("hooks") or [] if isinstance(h, dict)}
    if hooks & set(TOKYO_HOOKS):
        return _skip(PRE_COMMIT_FILE, "already has a tokyo hook")
    new_text, added = _added_to_repos(old_text, entry)
    try:
        new = load_yaml_text(new_text, PRE_COMMIT_FILE).data
    except ConfigError:
        new = None
    wanted = load_yaml_text("repos:\n" + entry, "entry").data["repos"]
    if (
        not isinstance(new, dict)
        or new.get("repos") != repos + wanted
        or {k: v for k, v in new.items() if k != "repos"} != {k: v for k, v in old.items() if k != "repos"}
    ):
        return _skip(PRE_COMMIT_FILE, "its `repos:` is not a block list tokyo can add to: add the entry by hand")
    return PlannedFile(
        path=PRE_COMMIT_FILE, action="update", why="the tokyo-review hook added to `repos:`", text=new_text, shown=added
    )


def _added_to_repos(text: str, entry: str) -> tuple[str, str]:
    """``text`` with ``entry`` (indented two spaces) inserted after the last line of the
    top-level ``repos:`` block, re-indented to that block's items; and the inserted text."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, ln in enumerate(lines) if re.match(r"^repos\s*:", ln)), len(lines))
    end, indent = len(lines), None
    for i in range(start + 1, len(lines)):
        line = lines[i]
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace() and not line.startswith("-"):
            end = i  # the next top-level key
            break
        if indent is None and line.lstrip().startswith("-"):
            indent = len(line) - len(line.lstrip())
    while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].startswith("#")):
        end -= 1  # blank lines and the next key's comments stay after the entry
    pad = " " * (indent if indent is not None else 2)
    added = "".join(pad + ln[2:] if ln.strip() else ln for ln in entry.splitlines(keepends=True))
    head = "".join(lines[:end])
    if head and not head.endswith("\n"):
        head += "\n"
    return head + added + "".join(lines[end:]), added
