"""One review, end to end, for every entry point (CLI, hook, Action, TUI).

``prepare_review`` loads settings-driven inputs (team, workflow, target, changeset);
``run_review`` runs the engine and stores the run. Neither prints anything: callers render
the :class:`~tokyo_cli.results.RunResult` they get back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from tokyo_cli import events as ev
from tokyo_cli.engine import Engine, EngineOptions
from tokyo_cli.errors import ConfigError, StoreError
from tokyo_cli.repo import Changeset, ReviewTarget, TargetKind, load_changeset, open_repo, resolve_target
from tokyo_cli.results import FileEntry, RunResult
from tokyo_cli.settings import Settings
from tokyo_cli.team import Team, load_team
from tokyo_cli.workflow import WorkflowSpec, find_workflow, load_workflow

if TYPE_CHECKING:
    from tokyo_cli.llm import Gateway


@dataclass
class ReviewRequest:
    """What to review. At most one of ``staged``, ``working``, ``base``, ``all_files``.

    With none of them, the workflow's ``target`` applies, else the default target (see
    :func:`tokyo_cli.repo.resolve_target`). ``paths`` are ``--path`` globs.
    """

    repo: Path = Path(".")
    staged: bool = False
    working: bool = False
    base: str | None = None
    all_files: bool = False
    paths: list[str] = field(default_factory=list)


@dataclass
class PreparedReview:
    """Everything a run needs, loaded and validated; nothing has called a provider yet."""

    root: Path
    team: Team
    workflow: WorkflowSpec
    target: ReviewTarget
    changeset: Changeset


@dataclass
class ReviewOutcome:
    """The finished run, and the reason it could not be stored (``None`` when stored)."""

    result: RunResult
    store_error: str | None = None


def prepare_review(request: ReviewRequest, settings: Settings) -> PreparedReview:
    """Load the team and workflow and collect the change.

    Raises:
        RepoError: not a git repository, unknown ref, conflicting target flags.
        ConfigError: malformed agents.yaml or workflow, unknown workflow.
    """
    repo = open_repo(request.repo)
    root = Path(repo.working_tree_dir or request.repo).resolve()
    team = load_team(root)
    workflow = load_workflow(find_workflow(settings.workflow, root), team)
    chosen = sum([request.staged, request.working, request.base is not None, request.all_files])
    if chosen > 1:
        raise ConfigError("choose one target: --staged, --working, --base REF or --all")
    staged, working, all_files = request.staged, request.working, request.all_files
    if chosen == 0 and workflow.target is not None and workflow.target != "range":
        staged = workflow.target == TargetKind.STAGED.value
        working = workflow.target == TargetKind.WORKING.value
        all_files = workflow.target == TargetKind.ALL.value
    target = resolve_target(root, staged=staged, working=working, base=request.base, all_files=all_files)
    changeset = load_changeset(root, target, paths=request.paths or None, max_file_bytes=settings.max_file_bytes)
    return PreparedReview(root=root, team=team, workflow=workflow, target=target, changeset=changeset)


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
        fail_on=settings.fail_on or prepared.workflow.fail_on,
        started_at=datetime.now(timezone.utc),
        files=[
            FileEntry(
                path=f.path,
                status=f.status,
                old_path=f.old_path,
                added=f.additions,
                removed=f.deletions,
                skipped=f.skipped,
            )
            for f in cs.files
        ],
    )


def make_gateway(settings: Settings) -> Gateway | None:
    """The provider gateway for these settings, or ``None`` when running offline."""
    if settings.offline:
        return None
    from tokyo_cli.llm import Gateway

    return Gateway(
        timeout_s=settings.timeout,
        max_concurrency_per_provider=settings.max_concurrency,
        retries=settings.retries,
        api_base=settings.api_base,
    )


def _goes_online(prepared: PreparedReview, settings: Settings) -> bool:
    """True when at least one step will call a provider (so litellm is worth importing)."""
    from tokyo_cli.providers import has_credentials

    if settings.api_base:
        return True
    agents = {s.agent for s in prepared.workflow.steps}
    models = [settings.model] if settings.model else [
        m for a in agents for m in [prepared.team.get(a).model, *prepared.team.get(a).fallbacks]
    ]
    return any(has_credentials(m) for m in models)


async def run_review(
    prepared: PreparedReview,
    settings: Settings,
    listener: ev.Listener = ev.null_listener,
    *,
    store: bool = True,
) -> ReviewOutcome:
    """Run the workflow over the prepared change and store it in the history database.

    A store failure (full disk, permissions) does not lose the run: it is returned with
    ``store_error`` set so the caller can still print the report. Provider failures end up
    in the steps (see :class:`~tokyo_cli.engine.Engine`); this function raises nothing for them.
    """
    result = new_result(prepared, settings)
    gateway = make_gateway(settings)
    if gateway is not None and _goes_online(prepared, settings):
        gateway.preload()  # the ~2.5 s litellm import overlaps the analyzers, not the first call
    engine = Engine(
        team=prepared.team,
        workflow=prepared.workflow,
        changeset=prepared.changeset,
        gateway=gateway,
        options=EngineOptions(
            model=settings.model,
            offline=settings.offline,
            api_base=settings.api_base,
            analyzer_timeout=settings.analyzer_timeout,
        ),
        listener=listener,
    )
    result = await engine.run(result)
    store_error = None
    if store:
        try:
            from tokyo_cli.store.db import open_db
            from tokyo_cli.store.history import save_run

            db = open_db(settings.db_path())
            save_run(db, result)
        except StoreError as exc:
            store_error = str(exc)
    return ReviewOutcome(result=result, store_error=store_error)
