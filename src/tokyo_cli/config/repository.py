"""The reviewed repository's own tokyo configuration: where it is read from, what it may change.

The repository under review is hostile input (docs/ARCHITECTURE.md, "Trust boundaries"):
its ``agents.yaml``, ``workflows/``, ``.tokyo.toml`` and ``[tool.tokyo]`` may be written by the
author of the very change being reviewed. So:

* **Where.** :func:`config_commit` picks the source. A range review (``--base``,
  ``--since-last``, a branch reviewed against its merge-base, the pre-push hook, and
  ``--github``) reads the configuration from the **base** commit — what was already reviewed
  and merged — never from the head under review. Reviews of uncommitted work (``--staged``,
  ``--working``, ``--all``, the pre-commit hook) read the working tree.
* **How.** :func:`load_repo_config` copies the few files tokyo reads (``agents.yaml``,
  ``workflows/*.yaml|yml``, ``.tokyo.toml``, ``pyproject.toml``) into a private directory: regular files only
  (a symlink, a symlinked parent or a submodule is refused, never followed; a file over
  :data:`MAX_CONFIG_BYTES` is a ConfigError, exit 2, never read), paths fixed by tokyo
  (nothing the repository names is opened).
* **What.** The same rules hold for either source (:data:`REPO_SETTINGS` here, the agent
  rules in :mod:`tokyo_cli.config.team`, the workflow rules in :func:`check_repository_workflow`):
  a repository may add agents and workflows, narrow what a model reviews, raise ``fail_on``
  and add review instructions (which travel as delimited data in the user message); it can
  never pick models, providers or endpoints, drop an analyzer, exclude files from the security
  analyzers, lower ``fail_on``, or point at a file. Each refusal becomes a one-line notice
  in the report; settings the user gives by flag or ``TOKYO_*`` always win. What was applied
  is listed too (``RepoConfig.applied``), so the report names every repository override.
* **Which file.** ``.tokyo.toml`` (keys at the top level) and ``pyproject.toml``'s
  ``[tool.tokyo]`` take the same keys under the same rules. When the repository has both,
  ``.tokyo.toml`` is read and ``[tool.tokyo]`` is ignored with a notice: one file configures a
  repository, never a merge of two (ruff's rule for ``ruff.toml`` beside ``pyproject.toml``).
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tokyo_cli.config.limits import MAX_CONFIG_BYTES, load_toml_text, too_large
from tokyo_cli.errors import ConfigError
from tokyo_cli.findings import Finding, Severity

if TYPE_CHECKING:
    from tokyo_cli.git.repo import Changeset
    from tokyo_cli.git.targets import ReviewTarget

AGENTS_FILE = "agents.yaml"
WORKFLOWS_DIR = "workflows"
PYPROJECT_FILE = "pyproject.toml"
TOKYO_TOML = ".tokyo.toml"
REPO_SETTINGS = frozenset({"workflow", "fail_on", "path_instructions"})
"""``.tokyo.toml`` / ``[tool.tokyo]`` keys a repository may set: a workflow *name*, a stricter
``fail_on`` and review instructions per path glob (data in the prompt, never rules)."""
FLOOR_ANALYZERS = ("bandit", "detect-secrets")
"""Analyzers a repository workflow must keep, in a plain review step over the whole change."""
SECURITY_ANALYZERS = (*FLOOR_ANALYZERS, "semgrep", "zizmor", "hadolint", "dockerfile")
"""Analyzers whose agent's ``paths``/``exclude`` a repository may not set (they would hide
files from them)."""
CONFIG_RULE = "tokyo:review-config"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_SUFFIXES = (".yaml", ".yml")


@dataclass
class RepoConfig:
    """The repository's configuration files, copied into ``dir`` from one source.

    ``commit`` is the sha they were read from (``None``: the working tree). ``settings`` holds
    the accepted ``.tokyo.toml`` / ``[tool.tokyo]`` values (only :data:`REPO_SETTINGS` keys,
    ``fail_on`` as a :class:`Severity`), read from the file ``settings_file`` names
    (``".tokyo.toml"``, ``"[tool.tokyo]"``, or ``None`` when neither exists). ``notices``
    collects every refusal and ``applied`` every repository override the run took, one line
    each, for the report; ``taken`` names the settings keys among them.
    """

    root: Path
    dir: Path
    commit: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)
    taken: set[str] = field(default_factory=set)
    settings_file: str | None = None

    @property
    def where(self) -> str:
        """ "the working tree" or "base commit abc1234" (for messages)."""
        return "the working tree" if self.commit is None else f"base commit {self.commit[:7]}"

    def refuse(self, what: str, why: str) -> None:
        """Record one refused setting: ``"repository config: WHAT ignored: WHY"``."""
        line = f"repository config: {what} ignored: {why}"
        if line not in self.notices:
            self.notices.append(line)

    def apply(self, what: str, key: str | None = None) -> None:
        """Record one repository override the run took: ``"repository config applied: WHAT"``;
        ``key``, a settings key the override set, joins ``taken``."""
        line = f"repository config applied: {what}"
        if line not in self.applied:
            self.applied.append(line)
        if key is not None:
            self.taken.add(key)

    def key_name(self, key: str) -> str:
        """How a settings key is named in messages: ``".tokyo.toml fail_on"`` or
        ``"[tool.tokyo] fail_on"``."""
        return f"{self.settings_file or '[tool.tokyo]'} {key}"

    def real_name(self, text: str) -> str:
        """``text`` with the private copy's directory replaced by where the files came from:
        the repository path for the working tree, ``SHA:`` (git's ``rev:path``) for a commit."""
        prefix = str(self.dir) + os.sep
        if self.commit is not None:
            return text.replace(prefix, f"{self.commit[:7]}:")
        from tokyo_cli.config.yamlload import display_path

        shown = display_path(self.root)
        return text.replace(prefix, "" if shown == "." else shown.rstrip(os.sep) + os.sep)

    def origin_of(self, path: Path) -> str:
        """ "repository" for a file of this configuration, else "packaged" or "user"."""
        from tokyo_cli.config.defaults import defaults_dir

        resolved = Path(path).resolve()
        if resolved.is_relative_to(self.dir.resolve()):
            return "repository"
        if resolved.is_relative_to(defaults_dir().resolve()):
            return "packaged"
        return "user"


def load_repo_config(root: Path, commit: str | None = None) -> RepoConfig:
    """Copy ``root``'s tokyo configuration (working tree, or ``commit``) into a private
    directory (removed at exit) and read its ``[tool.tokyo]``.

    Raises:
        RepoError: ``commit`` cannot be read (git's message).
        ConfigError: a configuration file is over MAX_CONFIG_BYTES (names it and the limit), or
            its ``[tool.tokyo]`` cannot be read.
    """
    tmp = Path(tempfile.mkdtemp(prefix="tokyo-config-"))
    atexit.register(shutil.rmtree, tmp, True)
    cfg = RepoConfig(root=Path(root), dir=tmp, commit=commit)
    files = _commit_files(root, commit) if commit is not None else _worktree_files(Path(root))
    for rel, reason in files.refused.items():
        cfg.refuse(rel, reason)
    for rel, data in files.data.items():
        dest = tmp / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
    _read_settings(cfg)
    return cfg


def config_commit(root: Path, target: ReviewTarget | None) -> str | None:
    """The commit a review's configuration is read from: for a range target, the merge-base
    of its base and head (what was already reviewed and merged); ``None`` (the working tree)
    for staged, working and whole-tree targets, or no target.

    Raises:
        RepoError: the range's refs are unknown or share no ancestor.
    """
    from tokyo_cli.git.targets import TargetKind

    if target is None or target.kind is not TargetKind.RANGE or not target.base:
        return None
    from tokyo_cli.git.commands import merge_base, open_repo

    with open_repo(root) as repo:
        return merge_base(repo, target.base, target.head or "HEAD")


@dataclass
class _Files:
    data: dict[str, bytes] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)


def _wanted(rel: str) -> bool:
    return rel in (AGENTS_FILE, PYPROJECT_FILE, TOKYO_TOML) or (
        rel.startswith(WORKFLOWS_DIR + "/") and rel.count("/") == 1 and rel.endswith(_SUFFIXES)
    )


def _worktree_files(root: Path) -> _Files:
    """The wanted files of the working tree, read through :mod:`tokyo_cli.safety.safefs` (no
    symlink followed, the last part or a parent)."""
    from tokyo_cli.safety import safefs

    out = _Files()
    names = [AGENTS_FILE, TOKYO_TOML, PYPROJECT_FILE]
    st = safefs.lstat(root, WORKFLOWS_DIR)
    if st is not None and stat.S_ISLNK(st.st_mode):
        out.refused[WORKFLOWS_DIR + "/"] = "a symlink is never followed"
    elif st is not None and stat.S_ISDIR(st.st_mode):
        names += sorted(
            f"{WORKFLOWS_DIR}/{p.name}" for p in (root / WORKFLOWS_DIR).iterdir() if p.name.endswith(_SUFFIXES)
        )
    for rel in names:
        st = safefs.lstat(root, rel)
        if st is None:
            continue
        if stat.S_ISLNK(st.st_mode):
            out.refused[rel] = "a symlink is never followed"
        elif not stat.S_ISREG(st.st_mode):
            continue
        elif st.st_size > MAX_CONFIG_BYTES:
            raise too_large(_shown(root, rel))
        else:
            data = safefs.read(root, rel)
            if data is None:
                out.refused[rel] = "cannot be read"
            elif len(data) > MAX_CONFIG_BYTES:
                raise too_large(_shown(root, rel))
            else:
                out.data[rel] = data
    return out


def _shown(root: Path, rel: str) -> str:
    from tokyo_cli.config.yamlload import display_path

    return display_path(root / rel)


def _commit_files(root: Path, commit: str) -> _Files:
    """The wanted files of ``commit``: regular blobs only (mode 100644/100755)."""
    from tokyo_cli.git.commands import open_repo, run_git

    out = _Files()
    with open_repo(root) as repo:
        listing = run_git(
            repo, "ls-tree", "-z", "-l", commit, "--", AGENTS_FILE, TOKYO_TOML, PYPROJECT_FILE, WORKFLOWS_DIR + "/"
        )
        for entry in filter(None, listing.split("\0")):
            meta, _, rel = entry.partition("\t")
            parts = meta.split()
            if len(parts) != 4 or not _wanted(rel):
                continue
            mode, kind, oid, size = parts
            if mode == "120000":
                out.refused[rel] = "a symlink is never followed"
            elif kind != "blob" or mode not in ("100644", "100755"):
                continue
            elif size.isdigit() and int(size) > MAX_CONFIG_BYTES:
                raise too_large(f"{commit[:7]}:{rel}")
            else:
                out.data[rel] = _blob(repo, oid)
    return out


def _blob(repo: Any, oid: str) -> bytes:
    """The bytes of blob ``oid`` (no text decoding: YAML and TOML decode it themselves)."""
    from tokyo_cli.git.commands import git_executable

    proc = repo.git.execute([git_executable(), "cat-file", "blob", oid], stdout_as_string=False)
    return proc if isinstance(proc, bytes) else str(proc).encode()


def _read_settings(cfg: RepoConfig) -> None:
    """Fill ``cfg.settings`` from ``.tokyo.toml``, else from ``[tool.tokyo]``, refusing every
    key outside REPO_SETTINGS (and ``[tool.tokyo]`` as a whole when ``.tokyo.toml`` exists).

    Raises:
        ConfigError: the file is not valid UTF-8 or TOML, or ``[tool.tokyo]`` is no table
            (names the file; one line).
    """
    tokyo_toml = _toml_doc(cfg, TOKYO_TOML)
    pyproject = _toml_doc(cfg, PYPROJECT_FILE)
    tool = pyproject.get("tool", {}) if pyproject is not None else {}
    table = tool.get("tokyo") if isinstance(tool, dict) else None
    if table is not None and not isinstance(table, dict):
        raise ConfigError(cfg.real_name(f"{cfg.dir / PYPROJECT_FILE}: [tool.tokyo] must be a table"))
    if tokyo_toml is not None:
        if table:
            cfg.refuse(
                f"[tool.tokyo] in {PYPROJECT_FILE}", f"{TOKYO_TOML} takes precedence (one file configures a repository)"
            )
        cfg.settings_file, table = TOKYO_TOML, tokyo_toml
    elif table is not None:
        cfg.settings_file = "[tool.tokyo]"
    for raw_key, value in (table or {}).items():
        key = str(raw_key).replace("-", "_")
        where = cfg.key_name(str(raw_key))
        if key not in REPO_SETTINGS:
            cfg.refuse(where, "only the user sets it (flag, TOKYO_" + key.upper() + ", user config)")
        elif key == "workflow":
            if isinstance(value, str) and _NAME.match(value):
                cfg.settings["workflow"] = value
            else:
                cfg.refuse(where, "a repository names a workflow, it never gives a path")
        elif key == "fail_on":
            try:
                cfg.settings["fail_on"] = Severity(str(value).lower())
            except ValueError:
                cfg.refuse(where, f"not a severity: {value!r}")
        elif key == "path_instructions":
            _read_path_instructions(cfg, where, value)


def _read_path_instructions(cfg: RepoConfig, where: str, value: object) -> None:
    """``cfg.settings["path_instructions"]``: the valid entries of ``value`` (a list of
    ``{path, instructions}`` tables, at most :data:`~tokyo_cli.config.pathnotes.MAX_PATH_INSTRUCTIONS`);
    each invalid or extra entry is refused with a notice, never an error: it is only advice."""
    from pydantic import ValidationError

    from tokyo_cli.config.pathnotes import MAX_PATH_INSTRUCTIONS, PathInstruction

    if not isinstance(value, list):
        cfg.refuse(where, "expected a list of {path, instructions} tables")
        return
    kept = []
    for i, item in enumerate(value):
        if i >= MAX_PATH_INSTRUCTIONS:
            cfg.refuse(f"{where}[{i}:]", f"more than {MAX_PATH_INSTRUCTIONS} entries")
            break
        try:
            kept.append(PathInstruction.model_validate(item))
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "entry"
            cfg.refuse(f"{where}[{i}]", f"{field}: {err['msg'].lower()} (allowed: path, instructions)")
    cfg.settings["path_instructions"] = kept


def _toml_doc(cfg: RepoConfig, rel: str) -> dict[str, Any] | None:
    """The parsed TOML of the copied file ``rel``, or ``None`` when the repository has none.

    Raises:
        ConfigError: not UTF-8, not TOML, or past a limit (the file named as the user sees it).
    """
    path = cfg.dir / rel
    if not path.is_file():
        return None
    try:
        return load_toml_text(path.read_text(encoding="utf-8"), str(path))
    except UnicodeDecodeError as exc:
        raise ConfigError(cfg.real_name(f"{path}: cannot read: {exc}")) from None
    except ConfigError as exc:
        raise ConfigError(cfg.real_name(str(exc))) from None


def apply_fail_on(cfg: RepoConfig, workflow_fail_on: Severity) -> Severity:
    """The workflow's ``fail_on`` after the repository's ``fail_on`` setting: taken only when
    it is stricter (a lower severity blocks more), else refused with a notice."""
    wanted = cfg.settings.get("fail_on")
    if wanted is None:
        return workflow_fail_on
    if workflow_fail_on.at_least(wanted):  # wanted is at or below: as strict or stricter
        if wanted != workflow_fail_on:
            cfg.apply(f"{cfg.key_name('fail_on')} = {wanted.value} (stricter than {workflow_fail_on.value})", "fail_on")
        return wanted  # type: ignore[no-any-return]
    cfg.refuse(cfg.key_name("fail_on"), f"{wanted.value} would block less than the workflow's {workflow_fail_on.value}")
    return workflow_fail_on


def check_repository_workflow(spec: Any, team: Any) -> str | None:
    """Why a repository workflow may not run as written (``None`` when it may).

    It must keep the security floor: one ``review`` step, without ``when`` or ``paths``, by an
    agent running every one of :data:`FLOOR_ANALYZERS` over its packaged file selection.
    """
    for step in spec.steps:
        if step.task != "review" or step.when is not None or step.paths is not None:
            continue
        agent = team.agents.get(step.agent)
        if agent is not None and all(a in agent.analyzers for a in FLOOR_ANALYZERS) and agent.origin == "packaged":
            return None
    return (
        "it has no plain review step by an agent that runs " + " and ".join(FLOOR_ANALYZERS) + " over the whole change"
    )


def config_change_findings(cfg: RepoConfig, changeset: Changeset, *, agent: str) -> list[Finding]:
    """One finding per changed configuration file (``agents.yaml``, ``workflows/*``,
    ``.tokyo.toml``, and ``pyproject.toml`` when its ``[tool.tokyo]`` changed) of a review whose configuration came
    from the base commit: that change was *not* applied to this review, and people should
    review it as a change to their reviewer.

    Severity medium, category security, rule :data:`CONFIG_RULE`, file-level (no line).
    """
    if cfg.commit is None:
        return []
    out = []
    for change in changeset.files:
        path = change.path
        if not _wanted(path):
            continue
        if path == PYPROJECT_FILE and _tool_tokyo(changeset.new_bytes(path)) == _tool_tokyo(
            (cfg.dir / path).read_bytes() if (cfg.dir / path).is_file() else None
        ):
            continue
        out.append(
            Finding(
                path=path,
                line=None,
                severity=Severity.MEDIUM,
                category="security",
                title="This change edits tokyo's own review configuration",
                body=(
                    f"`{path}` configures how tokyo reviews this repository. This review used the "
                    f"version from {cfg.where}, not the one in the change, so a change cannot weaken "
                    "its own review. Check that the new configuration does not drop analyzers, exclude "
                    "files, lower fail_on or add instructions aimed at the reviewers."
                ),
                agent=agent,
                source="analyzer",
                rule=CONFIG_RULE,
                anchor_text="",
            )
        )
    return out


def _tool_tokyo(data: bytes | None) -> Any:
    """The ``[tool.tokyo]`` table of a pyproject.toml's bytes ("unreadable" when it does not parse)."""
    try:
        tool = load_toml_text((data or b"").decode("utf-8"), PYPROJECT_FILE).get("tool", {})
        return tool.get("tokyo") if isinstance(tool, dict) else None
    except (UnicodeDecodeError, ConfigError):  # too large or too deep too: never parsed
        return "unreadable"
