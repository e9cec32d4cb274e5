"""Workflows: a YAML DAG of steps, each running one agent with one task (docs/ARCHITECTURE.md).

Shape::

    name: review                  # the name workflows are looked up by
    description: ...
    target: range                 # staged | working | range | all, optional (CLI flags win)
    steps:
      - id: security
        agent: akira              # an id of the team
        task: review              # review (default) | synthesize | verify | describe | fix
        depends_on: []            # ids of earlier-running steps; their findings are the input
        min_severity: high        # verify, fix: only findings at or above it (default: all)
        when: {paths: [...]}      # the step is skipped when no changed file matches
        paths: [...]              # replaces the agent's own paths for this step
        instructions: ...         # appended to the agent's instructions for this step
    fail_on: high                 # exit 1 at or above this severity
    block_on: all                 # all | verified | corroborated: which findings fail_on counts
    budget: {max_cost_usd: 1.0}   # USD, hard cap for the run
    min_severity: low             # shown in terminal/Markdown/GitHub at or above (JSON, SARIF keep all)
    group_repeats: 3              # one rule N times in a file -> one grouped finding (0: off)
    group_files: 10               # one non-security rule in more files -> one for the change (0: off)
    path_instructions:            # review notes for chunks holding matching files (data, capped)
      - {path: "src/api/**", instructions: "Every handler must check the caller's tenant."}

Loading is strict: unknown keys, wrong types, unknown agents, duplicate step ids, dangling or
cyclic depends_on and a synthesize or verify step without depends_on are errors, each reported as
"FILE:LINE: key: message".

Workflows are found by name in ``workflow_dirs()``: the packaged defaults, then the reviewed
repository's ``workflows/`` (a repository workflow with the same name overrides the packaged one,
within the rules of :mod:`tokyo_cli.config.repository`: it must keep a plain review step by an agent
that runs the security analyzers, and may not lower ``fail_on``; its step instructions are data).
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tokyo_cli.config.defaults import defaults_dir
from tokyo_cli.config.limits import MAX_STEPS
from tokyo_cli.config.pathnotes import MAX_PATH_INSTRUCTIONS, PathInstruction
from tokyo_cli.config.team import Team
from tokyo_cli.config.yamlload import YamlDoc, display_path, load_yaml, pydantic_errors, sort_errors, type_name
from tokyo_cli.errors import ConfigError
from tokyo_cli.findings import Severity

if TYPE_CHECKING:
    from tokyo_cli.config.repository import RepoConfig

WORKFLOWS_DIR = "workflows"
_SUFFIXES = (".yaml", ".yml")
_STEP_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class StepWhen(_Strict):
    """Run condition: the step runs only when a changed file matches one of ``paths``."""

    paths: list[str] = Field(min_length=1)


StepTask = Literal["review", "synthesize", "verify", "describe", "fix"]
TASKS_WITH_INPUT = ("synthesize", "verify", "fix")
"""Tasks that work on the findings of the steps they depend on: they need ``depends_on``."""
BlockOn = Literal["all", "verified", "corroborated"]


class StepSpec(_Strict):
    """One step: ``agent`` does ``task`` over its file selection after ``depends_on`` finished.

    ``min_severity`` (verify, fix): only upstream findings at or above it are judged or
    fixed; ``None``: every one.
    """

    id: str
    agent: str
    task: StepTask = "review"
    depends_on: list[str] = Field(default_factory=list)
    when: StepWhen | None = None
    paths: list[str] | None = None
    instructions: str | None = None
    min_severity: Severity | None = Field(default=None, strict=False)

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if not _STEP_ID.match(value):
            raise ValueError(f"invalid step id {value!r}: use letters, digits, '.', '-' or '_' (at most 64)")
        return value


class Budget(_Strict):
    """Spending cap for one run. ``max_cost_usd`` in USD; None = no cap."""

    max_cost_usd: float | None = Field(default=None, ge=0)


class WorkflowDoc(_Strict):
    """The keys a workflow file may contain (see the module docstring)."""

    name: str = Field(min_length=1)
    description: str = ""
    target: Literal["staged", "working", "range", "all"] | None = None
    steps: list[StepSpec] = Field(min_length=1)
    # YAML gives a string; strict mode would demand a Severity instance.
    fail_on: Severity = Field(default=Severity.HIGH, strict=False)
    # Which findings fail_on counts: all; only those a verify step kept or corrected
    # ("verified"); or those also raised by a second agent, confirmed by a model or verified
    # ("corroborated"). Findings a verify step could not judge still count (never weaker).
    block_on: BlockOn = "all"
    budget: Budget = Field(default_factory=Budget)
    # Display threshold: findings below it are counted but not shown in the terminal,
    # Markdown and GitHub comments (JSON, SARIF and history keep them). --min-severity wins.
    min_severity: Severity = Field(default=Severity.LOW, strict=False)
    # Grouping (tokyo_cli.engine.grouping): N findings of one rule in one file become one (0: off);
    # a non-security rule in more than group_files files becomes one for the change (0: off).
    group_repeats: int = Field(default=3, ge=0, le=1000)
    group_files: int = Field(default=10, ge=0, le=100_000)
    path_instructions: list[PathInstruction] = Field(default_factory=list, max_length=MAX_PATH_INSTRUCTIONS)


class WorkflowSpec(WorkflowDoc):
    """A loaded, validated workflow.

    ``source`` is the file it came from (left out of dumps: it is machine-specific);
    ``hash`` is the sha256 hex digest of the file's bytes, stored with each run.
    """

    source: Path = Field(exclude=True)
    hash: str
    # Where the file came from (not a YAML key): step instructions of a "repository" workflow
    # are data, sent in the user message; "packaged" and "user" (a --workflow path) are trusted.
    origin: Literal["packaged", "repository", "user"] = Field(default="user", exclude=True)

    def step(self, step_id: str) -> StepSpec:
        """The step with this id; ConfigError when there is none."""
        for step in self.steps:
            if step.id == step_id:
                return step
        raise ConfigError(f"{self.name}: unknown step {step_id!r}")

    def layers(self) -> list[list[StepSpec]]:
        """Steps in topological layers: each layer only depends on earlier layers.

        Within a layer, steps keep file order. Steps of one layer can run concurrently.
        Raises ConfigError on a cycle or an unknown dependency (which load_workflow rejects,
        so only a hand-built spec can hit it).
        """
        done: set[str] = set()
        remaining = list(self.steps)
        layers: list[list[StepSpec]] = []
        while remaining:
            layer = [s for s in remaining if all(d in done for d in s.depends_on)]
            if not layer:
                stuck = ", ".join(s.id for s in remaining)
                raise ConfigError(f"{self.name}: steps {stuck} have cyclic or unknown depends_on")
            layers.append(layer)
            done.update(s.id for s in layer)
            remaining = [s for s in remaining if s.id not in done]
        return layers


def with_describe(spec: WorkflowSpec, team: Team) -> WorkflowSpec:
    """``spec`` with a ``describe`` step added (``tokyo review --describe``, the Action's
    ``describe: true``), by Kenji when the team has him, else by the agent of the workflow's
    first step; ``spec`` itself when it already has one. The step depends on nothing, so it
    runs alongside the reviews and adds no model call to the critical path."""
    if any(s.task == "describe" for s in spec.steps):
        return spec
    taken = {s.id for s in spec.steps}
    step_id = next(i for i in ("describe", *(f"describe-{n}" for n in range(2, 200))) if i not in taken)
    agent = "kenji" if "kenji" in team else spec.steps[0].agent
    return spec.model_copy(update={"steps": [*spec.steps, StepSpec(id=step_id, agent=agent, task="describe")]})


def load_workflow(path: Path, team: Team) -> WorkflowSpec:
    """Load and validate one workflow file against ``team``.

    Raises:
        ConfigError: every problem found, one per line, "FILE:LINE: key: message".
    """
    spec, errors = _check(Path(path), team)
    if errors or spec is None:
        raise ConfigError("\n".join(errors))
    return spec


def validate_workflow_file(path: Path, team: Team) -> list[str]:
    """All problems of one workflow file ("FILE:LINE: key: message" each); [] when valid."""
    return _check(Path(path), team)[1]


def _check(path: Path, team: Team) -> tuple[WorkflowSpec | None, list[str]]:
    try:
        doc = load_yaml(path)
    except ConfigError as exc:
        return None, str(exc).splitlines()
    if doc.data is None:
        return None, [doc.error((), "empty file (expected a mapping with at least 'name' and 'steps')")]
    if not isinstance(doc.data, dict):
        return None, [doc.error((), f"expected a mapping at the top level, got {type_name(doc.data)}")]
    too_many = doc.count_error(("steps",), MAX_STEPS, "steps")
    if too_many:
        return None, [too_many]
    errors: list[str] = []
    parsed: WorkflowDoc | None = None
    try:
        parsed = WorkflowDoc.model_validate(doc.data)
    except ValidationError as exc:
        errors.extend(pydantic_errors(doc, exc, WorkflowDoc))
    # Graph checks read the raw data, so they still run (and report) when a step is malformed.
    errors.extend(_graph_errors(doc, team))
    if parsed is not None and parsed.block_on == "verified" and not any(s.task == "verify" for s in parsed.steps):
        errors.append(
            doc.error(
                ("block_on",),
                "block_on: verified needs a step with task: verify (without one no finding is ever verified)",
            )
        )
    if errors or parsed is None:
        return None, sort_errors(errors)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return WorkflowSpec(**dict(parsed), source=path, hash=digest), []


def _graph_errors(doc: YamlDoc, team: Team) -> list[str]:
    """Unknown agents, duplicate ids, dangling/self/cyclic depends_on, synthesize or verify
    without input."""
    raw_steps = doc.data.get("steps")
    if not isinstance(raw_steps, list):
        return []
    steps = [(i, s) for i, s in enumerate(raw_steps) if isinstance(s, dict)]
    errors: list[str] = []
    index: dict[str, int] = {}
    for i, raw in steps:
        step_id = raw.get("id")
        if not isinstance(step_id, str):
            continue
        if step_id in index:
            first = doc.line(("steps", index[step_id]))
            errors.append(doc.error(("steps", i, "id"), f"duplicate step id {step_id!r} (first at line {first})"))
        else:
            index[step_id] = i
    known_steps = ", ".join(index) or "none"
    graph: dict[str, list[str]] = {}
    for i, raw in steps:
        agent = raw.get("agent")
        if isinstance(agent, str) and agent not in team:
            errors.append(doc.error(("steps", i, "agent"), f"unknown agent {agent!r} (known: {', '.join(team.ids())})"))
        deps = raw.get("depends_on", [])
        deps = deps if isinstance(deps, list) else []
        step_id = raw.get("id")
        edges: list[str] = []
        for j, dep in enumerate(deps):
            where = ("steps", i, "depends_on", j)
            if not isinstance(dep, str):
                continue
            if dep == step_id:
                errors.append(doc.error(where, f"step {dep!r} depends on itself"))
            elif dep not in index:
                errors.append(doc.error(where, f"unknown step {dep!r} (steps: {known_steps})"))
            elif dep in deps[:j]:
                errors.append(doc.error(where, f"{dep!r} is listed twice"))
            else:
                edges.append(dep)
        if isinstance(step_id, str) and index.get(step_id) == i:
            graph[step_id] = edges
        task = raw.get("task")
        if task in TASKS_WITH_INPUT and raw.get("depends_on", []) == []:
            what = {"synthesize": "merges", "verify": "judges", "fix": "fixes"}[task]
            errors.append(
                doc.error(
                    ("steps", i, "depends_on"),
                    f"a {task} step needs depends_on: the steps whose findings it {what} "
                    "(e.g. depends_on: [security, tests])",
                )
            )
    for cycle in _cycles(graph):
        errors.append(doc.error(("steps", index[cycle[0]], "depends_on"), "cycle: " + " -> ".join(cycle + [cycle[0]])))
    return errors


def _cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """Cycles found by depth-first search (at least one per cyclic group of steps), each once,
    rotated to start at its first-listed step: ``[["a", "b"]]`` for a -> b -> a."""
    order = {node: n for n, node in enumerate(graph)}
    found: list[list[str]] = []
    seen: set[frozenset[str]] = set()
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for dep in graph.get(node, []):
            if state.get(dep) == 1:
                cycle = path[path.index(dep) :]
                start = min(range(len(cycle)), key=lambda k: order[cycle[k]])
                cycle = cycle[start:] + cycle[:start]
                if frozenset(cycle) not in seen:
                    seen.add(frozenset(cycle))
                    found.append(cycle)
            elif state.get(dep) is None:
                visit(dep, path + [dep])
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node, [node])
    return found


class WorkflowInfo(BaseModel):
    """One workflow as ``tokyo workflows`` lists it; ``error`` is set when the file cannot be read.

    ``path`` is the file to read (for a repository workflow, tokyo's private copy);
    ``shown`` is where it came from, for messages.
    """

    name: str
    path: Path
    shown: str = ""
    description: str = ""
    origin: Literal["packaged", "plugin", "repository"]
    error: str | None = None


def _config(repo: RepoConfig | Path | None) -> RepoConfig | None:
    """``repo`` as a RepoConfig (a root's working tree copied safely), or None."""
    from tokyo_cli.config.repository import RepoConfig, load_repo_config

    if repo is None or isinstance(repo, RepoConfig):
        return repo
    if Path(repo).resolve() == defaults_dir().resolve():
        return None  # tokyo reviewing its own checkout: its workflows/ are the packaged ones
    return load_repo_config(Path(repo))


def workflow_dirs(repo: RepoConfig | Path | None) -> list[Path]:
    """``[packaged defaults/workflows, the repository's workflows]``, later overriding earlier.

    The repository directory is tokyo's private copy (:mod:`tokyo_cli.config.repository`), listed
    even when it does not exist; it is left out for tokyo reviewing its own checkout.
    """
    dirs = [defaults_dir() / WORKFLOWS_DIR]
    cfg = _config(repo)
    if cfg is not None:
        dirs.append(cfg.dir / WORKFLOWS_DIR)
    return dirs


def list_workflows(repo: RepoConfig | Path | None) -> list[WorkflowInfo]:
    """Every workflow a name can reach, sorted by name: the packaged ones, then those plugins
    register (:mod:`tokyo_cli.plugins`; a packaged name is refused), then the repository's,
    a later one hiding an earlier one of the same name.

    A workflow's name is its ``name:`` key (its file stem when the file cannot be parsed).
    Raises ConfigError when two files of one directory declare the same name.
    """
    from tokyo_cli.plugins import registry

    found: dict[str, WorkflowInfo] = {}
    cfg = _config(repo)
    packaged_dir, *repo_dir = workflow_dirs(cfg)
    groups: list[tuple[Literal["packaged", "plugin", "repository"], list[Path], str]] = [
        ("packaged", _yaml_files(packaged_dir), "")
    ]
    plugins = registry()
    for plugin in dict.fromkeys(name for name, _ in plugins.workflow_files):
        groups.append(("plugin", [p for name, p in plugins.workflow_files if name == plugin], plugin))
    groups += [("repository", _yaml_files(d), "") for d in repo_dir]
    for origin, files, plugin in groups:
        in_dir: dict[str, WorkflowInfo] = {}
        for path in files:
            info = _peek(path, origin)
            info.shown = cfg.real_name(str(path)) if cfg is not None and origin == "repository" else display_path(path)
            if info.error and cfg is not None:
                info.error = cfg.real_name(info.error)
            if origin == "plugin" and (info.name in found or info.name in in_dir):
                plugins.refuse(plugin, f"workflow {info.name!r} ({info.shown}) is already defined")
                continue
            if info.name in in_dir:
                other = in_dir[info.name].shown
                raise ConfigError(f"{info.shown}: workflow name {info.name!r} is also used by {other}")
            in_dir[info.name] = info
        found.update(in_dir)
    return sorted(found.values(), key=lambda w: w.name)


def _yaml_files(directory: Path) -> list[Path]:
    """The ``*.yaml``/``*.yml`` files of ``directory``, sorted (``[]`` when it is no directory)."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.suffix in _SUFFIXES and p.is_file())


def _peek(path: Path, origin: Literal["packaged", "plugin", "repository"]) -> WorkflowInfo:
    """Name and description without full validation, so one broken file does not hide the rest."""
    try:
        data = load_yaml(path).data
    except ConfigError as exc:
        return WorkflowInfo(name=path.stem, path=path, origin=origin, error=str(exc).splitlines()[0])
    if not isinstance(data, dict):
        return WorkflowInfo(name=path.stem, path=path, origin=origin, error="not a workflow mapping")
    name = data.get("name")
    description = data.get("description")
    return WorkflowInfo(
        name=name if isinstance(name, str) and name else path.stem,
        path=path,
        description=description if isinstance(description, str) else "",
        origin=origin,
    )


def find_workflow(name_or_path: str, repo: RepoConfig | Path | None) -> Path:
    """The workflow file for a name (``review``) or a path (``ci/x.yaml``, ``./wf.yml``).

    A value with a path separator or a .yaml/.yml suffix is a path the *user* gave (a flag or
    ``TOKYO_WORKFLOW``; a repository can only name a workflow, see :mod:`tokyo_cli.config.repository`):
    relative to the working directory, else to the repository root. Anything else is a name,
    looked up with list_workflows.

    Raises:
        ConfigError: "workflow file not found: X" or
            "unknown workflow 'x' (available: review, security)".
    """
    given = Path(name_or_path)
    if given.suffix in _SUFFIXES or "/" in name_or_path or os.sep in name_or_path:
        candidates = [given]
        root = repo if repo is None or isinstance(repo, Path) else repo.root
        if root is not None and not given.is_absolute():
            candidates.append(Path(root) / given)
        for candidate in candidates:
            if candidate.is_file():
                return candidate
        raise ConfigError(f"workflow file not found: {name_or_path}")
    workflows = list_workflows(repo)
    for info in workflows:
        if info.name == name_or_path:
            return info.path
    available = ", ".join(w.name for w in workflows) or "none"
    raise ConfigError(f"unknown workflow {name_or_path!r} (available: {available})")
