"""Hook mode: review what is about to be committed or pushed, within a time limit, and say in
a few lines whether it may go through.

``tokyo hook`` (the pre-commit framework's ``tokyo-review`` and ``tokyo-review-offline``
hooks, declared in ``.pre-commit-hooks.yaml``) is a thin skin over this module::

    scope = scope_from_env(os.environ)              # staged change, or the pushed commits
    prepared = prepare_hook(root, settings, scope)   # RepoError / ConfigError
    outcome = run_hook(prepared, settings, time_limit=60.0)
    print("\\n".join(render_hook(outcome, hook_id="tokyo-review", scope=scope)))
    sys.exit(outcome.exit_code())

What makes it a hook rather than ``tokyo review --staged``:

* the target comes from pre-commit's environment (``PRE_COMMIT_FROM_REF``/``_TO_REF`` on
  pre-push, see pre-commit's ``commands/run.py``), not from flags;
* a time limit for the whole run: the steps still running are stopped, what finished is
  reported and stored (the run ends ``partial``, see :meth:`tokyo_cli.engine.runner.Engine.run`);
* the exit code is the README's table, as for ``tokyo review`` (:meth:`ReviewOutcome.exit_code`):
  an unreachable provider, a failed step or the time limit block nothing by themselves —
  what the analyzers found still counts (the run is ``partial``: 1 at or above ``fail_on``,
  else 0). A commit is stopped without a finding only when nothing usable came back (3:
  every step failed and no analyzer found anything, so nothing was reviewed), when the
  run could not be saved to history (4), or on a configuration error (2); each says why and
  how to skip the hook once;
* compact output: one line per blocking finding, one summary line, how to skip.

The run goes through :func:`tokyo_cli.engine.review.run_review` like every entry point: it is stored
in history, and findings dismissed in the ledger stay silent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tokyo_cli.config.repository import config_commit
from tokyo_cli.config.settings import Settings
from tokyo_cli.engine.review import (
    PreparedReview,
    ReviewOutcome,
    ReviewRequest,
    load_review_config,
    prepare_review,
    run_review_blocking,
)
from tokyo_cli.errors import EXIT_FAILED, EXIT_FINDINGS, EXIT_NOT_SAVED
from tokyo_cli.findings import Finding
from tokyo_cli.git.commands import merge_base, open_repo, resolve_commit, try_git
from tokyo_cli.git.repo import load_changeset
from tokyo_cli.git.targets import ReviewTarget, TargetKind
from tokyo_cli.report import count_by_severity, finding_location, one_line, plural
from tokyo_cli.results import RunResult

DEFAULT_TIME_LIMIT_S = 60.0
MAX_LISTED = 20  # blocking findings listed one per line; the rest are counted
MIN_TITLE = 24  # characters of a title kept however narrow the terminal


@dataclass(frozen=True)
class HookScope:
    """What the hook reviews.

    ``kind``: ``"staged"`` (pre-commit: what ``git commit`` would commit), ``"push"``
    (pre-push: the commits ``from_ref..to_ref`` the remote does not have) or ``"push-all"``
    (pre-push of a history the remote shares nothing with: the whole tree). ``branch`` is the
    local branch being pushed, when pre-commit says (``PRE_COMMIT_LOCAL_BRANCH``).
    """

    kind: Literal["staged", "push", "push-all"] = "staged"
    from_ref: str | None = None
    to_ref: str | None = None
    branch: str | None = None

    @property
    def action(self) -> str:
        """``"commit"`` or ``"push"``: what a blocking finding stops."""
        return "commit" if self.kind == "staged" else "push"


def scope_from_env(env: Mapping[str, str]) -> HookScope:
    """The scope pre-commit's environment describes.

    pre-commit (``commands/run.py``) exports ``PRE_COMMIT_FROM_REF``/``PRE_COMMIT_TO_REF`` on
    pre-push (and for ``pre-commit run --from-ref X --to-ref Y``), and ``PRE_COMMIT_REMOTE_NAME``
    on every pre-push — alone when the pushed history shares no commit with the remote.
    Without them the hook reviews the staged change.
    """
    from_ref, to_ref = env.get("PRE_COMMIT_FROM_REF", ""), env.get("PRE_COMMIT_TO_REF", "")
    branch = env.get("PRE_COMMIT_LOCAL_BRANCH", "").removeprefix("refs/heads/") or None
    if from_ref and to_ref:
        return HookScope(kind="push", from_ref=from_ref, to_ref=to_ref, branch=branch)
    if env.get("PRE_COMMIT_REMOTE_NAME"):
        return HookScope(kind="push-all", branch=branch)
    return HookScope()


def push_target(root: Path, from_ref: str, to_ref: str) -> ReviewTarget:
    """A range target for the pushed commits: ``merge-base(FROM, TO)..TO``.

    ``to_ref`` need not be HEAD (``git push origin other-branch``); after a force-push the
    merge-base keeps the review to the commits the remote did not have.

    Raises:
        RepoError: an unknown ref, or no common ancestor.
    """
    with open_repo(root) as repo:
        to_sha = resolve_commit(repo, to_ref)
        base = merge_base(repo, from_ref, to_sha)
        count = int(try_git(repo, "rev-list", "--count", f"{base}..{to_sha}") or 0)
    return ReviewTarget(
        kind=TargetKind.RANGE,
        base=from_ref,
        head=to_sha,
        description=f"pushed commits {base[:7]}..{to_sha[:7]} ({plural(count, 'commit')})",
    )


def prepare_hook(root: Path, settings: Settings, scope: HookScope) -> PreparedReview:
    """Load the team and workflow and collect the change ``scope`` names.

    Raises:
        RepoError: not a git repository, an unknown ref.
        ConfigError: malformed agents.yaml or workflow, unknown workflow.
    """
    if scope.kind == "staged":
        return prepare_review(ReviewRequest(repo=root, staged=True), settings)
    if scope.kind == "push-all":
        prepared = prepare_review(ReviewRequest(repo=root, all_files=True), settings)
        prepared.notices.append("pushing a history the remote has none of: the whole tree was reviewed")
        return prepared
    if not (scope.from_ref and scope.to_ref):
        raise ValueError("a push scope needs from_ref and to_ref (see scope_from_env)")
    target = push_target(root, scope.from_ref, scope.to_ref)
    # the pushed commits never configure their own review: the merge-base does
    config = load_review_config(root, settings, config_commit(root, target))
    changeset = load_changeset(root, target, max_file_bytes=settings.max_file_bytes)
    return PreparedReview(
        root=root,
        team=config.team,
        workflow=config.workflow,
        target=target,
        changeset=changeset,
        branch=scope.branch,
        notices=[*config.notices, *config.applied],
        config=config.repo,
    )


def run_hook(
    prepared: PreparedReview, settings: Settings, *, time_limit: float = DEFAULT_TIME_LIMIT_S
) -> ReviewOutcome:
    """Run and store the review, stopping whatever still runs after ``time_limit`` seconds.

    Each analyzer and each provider call is also held to ``time_limit``, so the analyzer
    threads the run leaves behind end within their grace period
    (:data:`tokyo_cli.analyzers.base.TIMEOUT_GRACE_S`) and the process can exit. Never raises
    for provider, analyzer or history-write failures (see :func:`tokyo_cli.engine.review.run_review`).

    Raises:
        StoreConfigError: the history database is unusable as configured (exit code 2).
    """
    limit = max(time_limit, 0.0)
    bounded = settings.model_copy(
        update={
            "analyzer_timeout": max(min(settings.analyzer_timeout, limit), 0.1),
            "timeout": max(min(settings.timeout, limit), 0.1),
        }
    )
    return run_review_blocking(prepared, bounded, time_limit=limit)


# --- compact output -----------------------------------------------------------------------


def _mode(result: RunResult) -> str:
    """How the agents ran, in a few words: with models, analyzers only, or models that were
    unreachable or too slow (their analyzer findings still count)."""
    review = [s for s in result.steps if s.task == "review" and s.status != "skipped"]
    online = [s for s in result.steps if s.model]
    if not online:
        if any(s.credential_env for s in review):
            return "offline analyzers only (no provider key)"
        return "offline analyzers only"
    answered = {s.agent for s in online if any(c.status == "ok" for c in s.calls)}
    if answered:
        agents = {s.agent for s in review} | answered
        return f"models for {len(answered)} of {len(agents)} agents"
    if any(c.status != "ok" for c in result.calls):
        return "models unreachable: offline analyzers only"
    return "no model answered in time: offline analyzers only"


def _problem_lines(result: RunResult) -> list[str]:
    """One line per kind of trouble that did not block: failed model calls, notices."""
    lines = [f"tokyo: {one_line(n)}" for n in result.notices]
    failed = [c for c in result.calls if c.status != "ok" and c.status != "skipped"]
    if failed:
        agents = ", ".join(dict.fromkeys(c.agent for c in failed))
        first = one_line(failed[0].error)[:140]
        blocks = " — not blocking" if result.status != "failed" else ""
        lines.append(f"tokyo: {plural(len(failed), 'model call')} failed ({agents}): {first}{blocks}")
    return lines


def finding_lines(findings: list[Finding], width: int | None) -> list[str]:
    """One line per finding, columns aligned: ``"HIGH      src/app.py:12  akira  Title  [3fa2b1c0]"``.

    Not indented: pre-commit strips the leading whitespace of a hook's output, which would
    misalign the first line.

    The bracketed id is the fingerprint's first 8 hex digits (what ``tokyo findings
    dismiss`` takes). With ``width`` (columns), a title is shortened with "…" so its line
    fits, but never below ``MIN_TITLE`` characters; paths are never shortened.
    """
    rows = [
        (f.severity.value.upper(), finding_location(f), ",".join(f.agents), one_line(f.title), f.fingerprint[:8])
        for f in findings
    ]
    loc_w = min(max((len(r[1]) for r in rows), default=0), 48)
    agent_w = max((len(r[2]) for r in rows), default=0)
    lines = []
    for severity, location, agents, title, fp in rows:
        head = f"{severity:<8}  {location:<{loc_w}}  {agents:<{agent_w}}  "
        tail = f"  [{fp}]" if fp else ""
        if width is not None:
            room = max(width - len(head) - len(tail), MIN_TITLE)
            if len(title) > room:
                title = title[: room - 1].rstrip() + "…"
        lines.append(f"{head}{title}{tail}")
    return lines


def _counts(findings: list[Finding]) -> str:
    counts = count_by_severity(findings)
    return ", ".join(f"{n} {sev}" for sev, n in counts.items() if n)


def render_hook(
    outcome: ReviewOutcome,
    *,
    scope: HookScope,
    hook_id: str = "tokyo-review",
    under_pre_commit: bool = True,
    width: int | None = None,
    seconds: float | None = None,
) -> list[str]:
    """The hook's output lines (plain text, no colour): each blocking finding on one line,
    notices and troubles that did not block, one summary line and, when blocked, how to skip
    this hook once and how to dismiss a false positive.

    ``hook_id`` names the hook in ``SKIP=...``; ``under_pre_commit`` False (a plain
    ``.git/hooks`` script) suggests ``--no-verify`` instead. ``width`` bounds the finding
    lines (see :func:`finding_lines`); ``seconds`` is the hook's wall time (default: the
    run's). Untrusted text (titles, paths, errors) is reduced to one line without control
    characters.
    """
    result = outcome.result
    blocking = result.blocking()
    lines = finding_lines(blocking[:MAX_LISTED], width)
    if len(blocking) > MAX_LISTED:
        lines.append(f"… and {len(blocking) - MAX_LISTED} more (tokyo review {scope_flag(scope)} shows them all)")
    lines.extend(_problem_lines(result))
    if outcome.store_error:
        lines.append(f"tokyo: warning: the run was not saved to history: {one_line(outcome.store_error)}")
    shown = {id(f) for f in blocking}
    below = [f for f in result.findings if id(f) not in shown]
    bar = result.fail_on.value
    code = outcome.exit_code()
    if result.status == "cancelled":
        verdict = "interrupted"
    elif result.status == "failed":
        verdict = f"{scope.action} blocked: nothing usable came back (every step failed, no analyzer finding)"
    elif blocking:
        verdict = f"{scope.action} blocked by {plural(len(blocking), 'finding')} at/above {bar}"
        if code == EXIT_NOT_SAVED:
            verdict += ", and the run was not saved to history"
    elif code == EXIT_NOT_SAVED:
        verdict = f"{scope.action} blocked: the run was not saved to history (no findings at/above {bar})"
    else:
        verdict = f"no findings at/above {bar}"
    if below:
        verdict += f" (also {_counts(below)})"
    if result.suppressed:
        verdict += f", {result.suppressed} dismissed"
    parts = [
        verdict,
        f"{one_line(result.target_description)}, {plural(len(result.files), 'file')}",
        _mode(result),
        f"{result.seconds if seconds is None else seconds:.1f} s",
    ]
    if result.run_id is not None:
        parts.append(f"run #{result.run_id} (tokyo show {result.run_id})")
    lines.append("tokyo: " + " · ".join(parts))
    skip = f"SKIP={hook_id} git {scope.action}" if under_pre_commit else f"git {scope.action} --no-verify"
    if blocking and code in (EXIT_FINDINGS, EXIT_NOT_SAVED):
        lines.append(
            f"tokyo: fix them, or skip this check once: {skip} · "
            f"a false positive: tokyo findings dismiss {blocking[0].fingerprint[:8]} -r WHY"
        )
    elif code in (EXIT_FAILED, EXIT_NOT_SAVED):
        fix = "check the errors above" if code == EXIT_FAILED else "fix the history database (TOKYO_HOME)"
        lines.append(f"tokyo: {fix}, or skip this check once: {skip}")
    return lines


def scope_flag(scope: HookScope) -> str:
    """The ``tokyo review`` target flag that reviews what this hook reviewed."""
    if scope.kind == "staged":
        return "--staged"
    if scope.kind == "push-all":
        return "--all"
    return f"--base {scope.from_ref}"
