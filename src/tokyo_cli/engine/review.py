"""One review, end to end, for every entry point (CLI, hook, Action, TUI).

``prepare_review`` loads settings-driven inputs (team, workflow, target, changeset);
``run_review`` runs the engine and stores the run. Neither prints anything: callers render
the :class:`~tokyo_cli.results.RunResult` they get back, including its ``notices``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tokyo_cli import events as ev
from tokyo_cli import telemetry
from tokyo_cli.config.settings import Settings
from tokyo_cli.config.team import Team, load_team
from tokyo_cli.config.workflow import WorkflowSpec, find_workflow, load_workflow
from tokyo_cli.engine.modelfit import fit_team
from tokyo_cli.engine.runner import Engine, EngineOptions, callable_models
from tokyo_cli.errors import ConfigError, RepoError, StoreConfigError, StoreError
from tokyo_cli.git.repo import Changeset, ReviewTarget, TargetKind, load_changeset, open_repo, resolve_target
from tokyo_cli.llm.budget import Budget
from tokyo_cli.results import RunResult, ShardInfo, new_uid
from tokyo_cli.safety.masking import mask_data

if TYPE_CHECKING:
    from tokyo_cli.config.repository import RepoConfig
    from tokyo_cli.engine.shards import ShardSpec
    from tokyo_cli.llm.gateway import Gateway


@dataclass
class ReviewRequest:
    """What to review. At most one of ``staged``, ``working``, ``base``, ``all_files``.

    With none of them, the workflow's ``target`` applies, else the default target (see
    :func:`tokyo_cli.git.repo.resolve_target`). ``paths`` are ``--path`` globs. ``since_last``
    narrows a review to what changed since this branch's last reviewed HEAD.
    """

    repo: Path = Path(".")
    staged: bool = False
    working: bool = False
    base: str | None = None
    all_files: bool = False
    paths: list[str] = field(default_factory=list)
    since_last: bool = False
    shard: ShardSpec | None = None  # review one shard of the change (tokyo_cli.engine.shards)


@dataclass
class PreparedReview:
    """Everything a run needs, loaded and validated; nothing has called a provider yet."""

    root: Path
    team: Team
    workflow: WorkflowSpec
    target: ReviewTarget
    changeset: Changeset
    branch: str | None = None
    notices: list[str] = field(default_factory=list)
    config: RepoConfig | None = None  # where the team and workflow came from
    shard: ShardInfo | None = None  # the shard of the change this run reviews (changeset.scope)


@dataclass
class ReviewOutcome:
    """The finished run, and the reason it could not be stored (``None`` when stored)."""

    result: RunResult
    store_error: str | None = None

    def exit_code(self) -> int:
        """The run's exit code (:meth:`RunResult.exit_code`), 4 when it was not stored."""
        return self.result.exit_code(saved=self.store_error is None)


def _branch(repo: Any) -> str | None:
    try:
        return str(repo.active_branch.name)
    except (TypeError, ValueError):  # detached HEAD, or no commit yet
        return None


def _open_history(settings: Settings) -> tuple[Any, str | None]:
    """``(db, None)``, or ``(None, reason)`` when the history database cannot be opened.

    Raises:
        StoreConfigError: the database's location or schema is unusable as configured
            (``TOKYO_HOME`` under a file, a schema newer than this tokyo): a configuration
            error to fix before any run, not a run that goes unsaved.
    """
    from tokyo_cli.store.db import open_db

    try:
        return open_db(settings.db_path()), None
    except StoreConfigError:
        raise
    except StoreError as exc:
        return None, str(exc)


def since_last_base(root: Path, branch: str | None, settings: Settings) -> tuple[str | None, str]:
    """The HEAD this branch's last stored run reviewed, if it is an ancestor of HEAD.

    Returns ``(sha, notice)``; ``sha`` is ``None`` (full review) when history has no run of
    this branch or the old HEAD is no longer an ancestor (a force-push), and ``notice`` says so.
    """
    from tokyo_cli.git.commands import try_git
    from tokyo_cli.store.history import last_reviewed_head

    if branch is None:
        return None, "--since-last: HEAD is detached, so there is no branch history; reviewing the full target"
    db, error = _open_history(settings)
    if db is None:
        return None, f"--since-last: history unavailable ({error}); reviewing the full target"
    old = last_reviewed_head(db, repo=str(root), branch=branch)
    if old is None:
        return None, f"--since-last: no earlier review of branch '{branch}' in history; reviewing the full target"
    with open_repo(root) as repo:
        ancestor = try_git(repo, "merge-base", "--is-ancestor", old, "HEAD")
    if ancestor is None:
        return None, (
            f"--since-last: the last reviewed HEAD {old[:7]} is not an ancestor of HEAD (force-push?); "
            "reviewing the full target"
        )
    return old, f"--since-last: reviewing {old[:7]}..HEAD, what changed since the last review of '{branch}'"


@dataclass
class ReviewConfig:
    """The team and workflow of a run, loaded under the repository rules
    (:mod:`tokyo_cli.config.repository`); ``notices`` lists every refused repository setting,
    ``applied`` every repository override taken (the report shows both)."""

    repo: RepoConfig
    team: Team
    workflow: WorkflowSpec
    notices: list[str]
    applied: list[str] = field(default_factory=list)


def load_review_config(root: Path, settings: Settings, commit: str | None) -> ReviewConfig:
    """Load the repository's configuration from ``commit`` (``None``: the working tree), the
    team, and the workflow (``--workflow``/``TOKYO_WORKFLOW``, else the repository's
    ``.tokyo.toml`` / ``[tool.tokyo]`` workflow name, else the user config file's, else
    ``review``).

    A repository workflow that drops the security floor is refused for the packaged workflow
    of the same name (or ``review``); the repository's ``fail_on`` (its workflow's or its
    settings file's) is taken only when stricter than the workflow's, after a user config
    ``fail_on`` replaced that. A ``--fail-on`` flag or ``TOKYO_FAIL_ON`` still wins
    (new_result). Every repository override taken is a line of ``ReviewConfig.applied``.

    Raises:
        ConfigError: malformed agents.yaml, workflow or settings file, unknown workflow.
        RepoError: ``commit`` cannot be read.
    """
    from tokyo_cli.config.repository import apply_fail_on, check_repository_workflow, load_repo_config

    cfg = load_repo_config(root, commit)
    team = load_team(cfg)
    user_named = settings.given("workflow")
    repo_named = not user_named and "workflow" in cfg.settings
    name = cfg.settings["workflow"] if repo_named else settings.workflow
    try:
        path = find_workflow(name, cfg)
    except ConfigError as exc:
        if not repo_named:
            raise
        cfg.refuse(cfg.key_name("workflow"), str(exc))
        repo_named = False
        # The user config's workflow, else the packaged review (never the repository's own).
        path = find_workflow(settings.workflow, cfg if settings.origin("workflow") == "user config" else None)
    if repo_named and name != settings.workflow:  # restating the default applies nothing
        cfg.apply(f"{cfg.key_name('workflow')} = {name}", "workflow")
    try:
        workflow = load_workflow(path, team)
    except ConfigError as exc:
        raise ConfigError(cfg.real_name(str(exc))) from None
    workflow.origin = cfg.origin_of(path)  # type: ignore[assignment]
    if workflow.origin == "repository":
        packaged = _packaged_workflow(workflow.name, team)
        why = check_repository_workflow(workflow, team)
        if why is not None:
            cfg.refuse(
                f"workflow {workflow.name!r} ({cfg.real_name(str(path))})",
                f"{why}; the packaged '{packaged.name}' workflow runs instead",
            )
            workflow = packaged
        else:
            cfg.apply(f"workflow {workflow.name!r} from {cfg.real_name(str(path))}")
            if not workflow.fail_on.at_least(packaged.fail_on):
                cfg.refuse(
                    f"workflow {workflow.name!r} fail_on {workflow.fail_on.value}",
                    f"it would block less than the packaged {packaged.fail_on.value}",
                )
                workflow.fail_on = packaged.fail_on
            if workflow.block_on != "all":
                cfg.refuse(
                    f"workflow {workflow.name!r} block_on {workflow.block_on}",
                    "a repository may not narrow which findings fail the run",
                )
                workflow.block_on = "all"
        if workflow.min_severity.rank > packaged.min_severity.rank:
            cfg.refuse(
                f"workflow {workflow.name!r} min_severity {workflow.min_severity.value}",
                f"it would hide more than the packaged {packaged.min_severity.value}",
            )
            workflow.min_severity = packaged.min_severity
    if settings.fail_on is not None and settings.origin("fail_on") == "user config":
        workflow.fail_on = settings.fail_on  # the user's default: a repository may still raise it
    workflow.fail_on = apply_fail_on(cfg, workflow.fail_on)
    extra = cfg.settings.get("path_instructions") or []
    if extra:  # the repository's own review notes, after the workflow's (data in every prompt)
        workflow.path_instructions = [*workflow.path_instructions, *extra]
        cfg.apply(f"{cfg.key_name('path_instructions')}: {len(extra)} path instruction(s)", "path_instructions")
    return ReviewConfig(
        repo=cfg,
        team=team,
        workflow=workflow,
        notices=[*cfg.notices, *team.notices],
        applied=[*cfg.applied, *team.applied],
    )


def _packaged_workflow(name: str, team: Team) -> WorkflowSpec:
    """The packaged workflow called ``name``, else the packaged ``review``."""
    from tokyo_cli.config.workflow import list_workflows

    packaged = {w.name: w.path for w in list_workflows(None)}
    spec = load_workflow(packaged.get(name, packaged["review"]), team)
    spec.origin = "packaged"
    return spec


def prepare_review(request: ReviewRequest, settings: Settings) -> PreparedReview:
    """Load the team and workflow and collect the change.

    The configuration is read from the base commit for a range review, else from the working
    tree (:func:`tokyo_cli.config.repository.config_commit` of the target resolved from the flags,
    else the default target); its refusals join ``notices``.

    Raises:
        RepoError: not a git repository, unknown ref, conflicting target flags.
        ConfigError: malformed agents.yaml or workflow, unknown workflow.
    """
    from tokyo_cli.config.repository import config_commit

    with open_repo(request.repo) as repo:
        root = Path(repo.working_tree_dir or request.repo).resolve()
        branch = _branch(repo)
    chosen = sum([request.staged, request.working, request.base is not None, request.all_files])
    if chosen > 1:
        raise ConfigError("choose one target: --staged, --working, --base REF or --all")
    staged, working, all_files, base = request.staged, request.working, request.all_files, request.base
    notices: list[str] = []
    if request.since_last:
        if chosen and base is None:
            raise ConfigError("--since-last reviews commits: use it alone or with --base REF")
        old, notice = since_last_base(root, branch, settings)
        notices.append(notice)
        if old is not None:
            base, chosen = old, 1
    try:
        target: ReviewTarget | None = resolve_target(
            root, staged=staged, working=working, base=base, all_files=all_files
        )
    except RepoError:
        if chosen:
            raise
        target = None  # no default target: the workflow may name one, else the error comes back below
    config = load_review_config(root, settings, config_commit(root, target))
    workflow = config.workflow
    if chosen == 0 and workflow.target is not None and workflow.target != "range":
        target = resolve_target(
            root,
            staged=workflow.target == TargetKind.STAGED.value,
            working=workflow.target == TargetKind.WORKING.value,
            all_files=workflow.target == TargetKind.ALL.value,
        )
    elif target is None:
        target = resolve_target(root)  # raises the default target's error
    changeset = load_changeset(root, target, paths=request.paths or None, max_file_bytes=settings.max_file_bytes)
    shard = _apply_shard(changeset, request.shard, workflow) if request.shard is not None else None
    return PreparedReview(
        root=root,
        team=config.team,
        workflow=workflow,
        target=target,
        changeset=changeset,
        branch=branch,
        notices=[*notices, *config.notices, *config.applied],
        config=config.repo,
        shard=shard,
    )


def _apply_shard(changeset: Changeset, spec: ShardSpec, workflow: WorkflowSpec) -> ShardInfo:
    """Narrow ``changeset`` to shard ``spec`` (its ``scope``) and describe the shard."""
    from tokyo_cli.engine.shards import change_id, shard_paths

    changeset.scope = shard_paths(changeset, spec)
    return ShardInfo(
        index=spec.index,
        count=spec.count,
        change=change_id(changeset),
        files=len(changeset.scoped()),
        total_files=len(changeset.files),
        group_repeats=workflow.group_repeats,
        group_files=workflow.group_files,
    )


def shard_notice(shard: ShardInfo) -> str:
    """The one line a shard run's report carries: which shard, how many files, what is left
    to ``tokyo merge``."""
    return (
        f"shard {shard.index}/{shard.count} of change {shard.change}: {shard.files} of {shard.total_files} "
        "file(s); grouping of repeated rules and the synthesis run when the shards are merged (tokyo merge)"
    )


def new_result(prepared: PreparedReview, settings: Settings) -> RunResult:
    """A ``running`` RunResult describing the target and listing every changed file."""
    cs = prepared.changeset
    return RunResult(
        repo=str(prepared.root),
        target=prepared.target.kind.value,
        target_description=prepared.target.description,
        target_chosen_by_default=prepared.target.chosen_by_default,
        base_sha=cs.base_sha,
        head_sha=cs.head_sha,
        workflow=prepared.workflow.name,
        workflow_hash=prepared.workflow.hash,
        # A flag or TOKYO_FAIL_ON wins; a user config fail_on is already in the workflow's,
        # where the repository's stricter one could replace it (load_review_config).
        fail_on=(
            settings.fail_on
            if settings.fail_on is not None and (settings.given("fail_on") or prepared.config is None)
            else prepared.workflow.fail_on
        ),
        block_on=prepared.workflow.block_on,
        min_severity=settings.min_severity or prepared.workflow.min_severity,
        started_at=datetime.now(UTC),
        branch=prepared.branch,
        notices=[*prepared.notices, *([shard_notice(prepared.shard)] if prepared.shard else [])],
        files=[f.entry() for f in cs.scoped()],
        shard=prepared.shard,
        uid=new_uid(),
    )


def make_budget(prepared: PreparedReview, settings: Settings) -> Budget:
    """The run's cost cap: ``--max-cost`` / ``TOKYO_MAX_COST``, else the workflow's budget."""
    cap = settings.max_cost if settings.max_cost is not None else prepared.workflow.budget.max_cost_usd
    return Budget(max_cost_usd=cap, unknown_call_usd=settings.unknown_call_usd)


def make_gateway(settings: Settings, budget: Budget | None = None) -> Gateway | None:
    """The provider gateway for these settings, or ``None`` when running offline."""
    if settings.offline:
        return None
    from tokyo_cli.llm.gateway import Gateway

    return Gateway(
        timeout_s=settings.timeout,
        max_concurrency_per_provider=settings.max_concurrency,
        retries=settings.retries,
        api_base=settings.api_base,
        budget=budget,
        breaker_threshold=settings.breaker_threshold,
        callbacks=settings.callbacks,
    )


def _goes_online(prepared: PreparedReview, settings: Settings) -> bool:
    """True when at least one step will call a provider (so litellm is worth importing)."""
    agents = {s.agent for s in prepared.workflow.steps}
    return any(callable_models(prepared.team.get(a), settings.model, settings.api_base) for a in agents)


def _budget_notices(result: RunResult, budget: Budget) -> None:
    for model in sorted(budget.unpriced_models):
        result.notices.append(
            f"{model} has no known price: each call was counted as ${budget.unknown_call_usd:.2f} "
            "against the cost cap (TOKYO_UNKNOWN_CALL_USD)"
            if budget.max_cost_usd is not None
            else f"{model} has no known price: its cost is not in the totals"
        )
    if budget.refused:
        result.notices.append(
            f"cost cap ${budget.max_cost_usd:.2f} reached: {budget.refused} call(s) not started; "
            "the files they covered are listed as not reviewed (budget)"
        )


def run_review_blocking(
    prepared: PreparedReview,
    settings: Settings,
    listener: ev.Listener = ev.null_listener,
    *,
    store: bool = True,
    time_limit: float | None = None,
    stream: bool = False,
) -> ReviewOutcome:
    """:func:`run_review` in a fresh event loop (``asyncio.run``), for synchronous callers.

    The outcome is handed back through a box, not as the main task's result: when
    ``asyncio.run`` restores the SIGINT handler, CPython 3.11's ``signal`` module formats the
    ``repr()`` of the previous handler — a partial holding the main task, and so its result.
    For a run with thousands of findings that repr took ~0.1 s, twice, on every review.
    """
    box: list[ReviewOutcome] = []

    async def main() -> None:
        box.append(await run_review(prepared, settings, listener, store=store, time_limit=time_limit, stream=stream))

    asyncio.run(main())
    return box[0]


async def run_review(
    prepared: PreparedReview,
    settings: Settings,
    listener: ev.Listener = ev.null_listener,
    *,
    store: bool = True,
    time_limit: float | None = None,
    stream: bool = False,
    budget: Budget | None = None,
) -> ReviewOutcome:
    """Run the workflow over the prepared change and store it in the history database.

    ``time_limit`` (seconds, whole run; ``None`` = none) stops the steps still running at
    that point: the run ends ``partial`` with what finished (see :meth:`Engine.run`) and is
    stored like any other. The pre-commit hook uses it to stay out of the way.

    ``stream`` makes every model call stream and the listener receive
    :class:`~tokyo_cli.events.CallText` deltas (the live TUI shows them); off by default.

    ``budget`` replaces the run's own cost cap (:func:`make_budget`): ``tokyo eval`` shares
    one across every case it reviews in this event loop.

    A store failure (full disk, permissions) does not lose the run: it is returned with
    ``store_error`` set so the caller can still print the report (exit code 4). Provider
    failures end up in the steps (see :class:`~tokyo_cli.engine.runner.Engine`); this function
    raises nothing for them. A cancellation (Ctrl-C) is no exception either: the run comes
    back ``cancelled`` with what finished, and is stored.

    With ``--model`` (or ``--context-window``/``--max-output-tokens``) every agent's context
    window and output cap follow that model (:func:`~tokyo_cli.engine.modelfit.fit_team`), so packing
    sizes chunks for it; a notice says what was used.

    Raises:
        StoreConfigError: before anything runs, when the history database is unusable as
            configured (see :func:`_open_history`).
        ConfigError: ``--max-output-tokens`` leaves the prompt too little of the window.
    """
    result = new_result(prepared, settings)
    budget = budget if budget is not None else make_budget(prepared, settings)
    gateway = make_gateway(settings, budget)
    # The engine starts the litellm import before its analyzers when a call will miss the
    # cache (Engine._warm_gateway); a fully cached re-run never pays for it.
    online = gateway is not None and _goes_online(prepared, settings)
    team = prepared.team
    if online:  # packing and output caps follow the model really called (--model, --context-window)
        team, fitted = fit_team(
            team, settings.model, context_window=settings.context_window, max_output_tokens=settings.max_output_tokens
        )
        result.notices.extend(fitted)
    db, store_error = _open_history(settings) if (store or settings.cache) else (None, None)
    cache = None
    if db is not None and settings.cache:
        from tokyo_cli.engine.cache import DbCache

        cache = DbCache(db)
    engine = Engine(
        team=team,
        workflow=prepared.workflow,
        changeset=prepared.changeset,
        gateway=gateway,
        options=EngineOptions(
            model=settings.model,
            offline=settings.offline,
            api_base=settings.api_base,
            analyzer_timeout=settings.analyzer_timeout,
            max_chunk_tokens=settings.max_chunk_tokens,
            cache=cache if online else None,
            local_cache=cache,
            time_limit_s=time_limit,
            stream=stream,
            shard=prepared.shard is not None,
        ),
        listener=listener,
    )
    with telemetry.span(
        "tokyo.run", {"tokyo.workflow": prepared.workflow.name, "tokyo.target": prepared.target.kind.value}
    ) as span:
        result = await engine.run(result)
        span.set(
            {
                "tokyo.outcome": result.status,
                "tokyo.findings": len(result.findings),
                "gen_ai.usage.input_tokens": result.tokens_in,
                "gen_ai.usage.output_tokens": result.tokens_out,
                "tokyo.cost_usd": result.cost_usd,
                "tokyo.calls": len(result.calls),
            }
        )
        if result.status == "failed":
            span.fail(result.error or "failed")
    if telemetry.tracer() is not None:
        await asyncio.to_thread(telemetry.flush)  # the process ends without teardown: export now
    if prepared.config is not None:
        from tokyo_cli.config.repository import config_change_findings
        from tokyo_cli.findings import merge_duplicates

        scope = prepared.changeset.scope
        extra = [
            f
            for f in config_change_findings(prepared.config, prepared.changeset, agent="akira")
            if scope is None or f.path in scope
        ]
        if extra:
            result.findings = merge_duplicates([*result.findings, *extra])
            if not any(s.task == "synthesize" and s.summary and s.status == "ok" for s in result.steps):
                from tokyo_cli.summary import offline_summary

                result.summary = offline_summary(result)  # the counts include the config findings
    _budget_notices(result, budget)
    if gateway is not None and gateway.budget_stops:
        where = "; ".join(dict.fromkeys(gateway.spent_gateways.values()))
        result.notices.append(
            f"budget stop: the gateway refused {gateway.budget_stops} call(s), its budget is spent ({where}); "
            "the files they covered are listed as not reviewed (budget), the findings made before the stop are kept"
        )
    hits = sum(1 for c in result.calls if c.cache_hit)
    if hits:
        result.notices.append(
            f"{hits} of {len(result.calls)} call(s) answered from the response cache (--no-cache to bypass)"
        )
    # Everything the run shows, stores or posts comes from here on: one pass of the secret
    # detector over all of it (findings, summaries, errors, file names; tokyo_cli.safety.masking).
    result = mask_data(result)
    if store and db is not None:
        store_error = _save(db, result)
    return ReviewOutcome(result=result, store_error=store_error if store else None)


def _save(db: Any, result: RunResult) -> str | None:
    """Apply the ledger to ``result`` and save it; ``None``, or why it could not be saved."""
    from tokyo_cli.store.history import save_run
    from tokyo_cli.store.ledger import apply_ledger

    try:
        apply_ledger(db, result)  # dismissed findings: left out and counted, for every entry point
        save_run(db, result)
    except StoreError as exc:
        return str(exc)
    return None


def store_result(result: RunResult, settings: Settings) -> str | None:
    """Store a run made outside :func:`run_review` (``tokyo merge``) as a review stores its
    own: the ledger applied (dismissed findings left out, counted), then saved. Returns
    ``None`` when stored, else why not (the caller's exit code is then 4).

    Raises:
        StoreConfigError: the history database is unusable as configured (see :func:`_open_history`).
    """
    db, error = _open_history(settings)
    if db is None:
        return error
    try:
        return _save(db, result)
    finally:
        db.close()
