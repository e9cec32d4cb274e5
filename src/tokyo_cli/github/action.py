"""``tokyo review --github``: from a pull_request event to a posted review and an exit code.

:func:`start` reads the event (or says why there is nothing to do), :meth:`GitHubRun.prepare`
collects the pull request's change (``base.sha...head.sha``), and :meth:`GitHubRun.finish`
writes the job summary and step outputs and posts through :mod:`tokyo_cli.github.publish`.
The CLI runs the review in between, like any other.

Exit code: the run's own, from the README's table (0 clean; 1 findings at/above ``fail_on``,
also in a ``partial`` run; 3 nothing usable came back; 4 not saved to history; 130
interrupted), so ``fail-on`` decides whether the step fails exactly as for ``tokyo review``.
A fork or a read-only token is not an error (a notice says no review was posted). A post
that failed for another reason means the result did not reach the pull request: 4, like a
run that did not reach history, unless the run's own code says more (3 or 130) — the report
is still in the job log and the job summary. The ``status`` step output is the run's status.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TextIO

from tokyo_cli.config.settings import Settings
from tokyo_cli.engine.review import PreparedReview, ReviewOutcome, ReviewRequest, prepare_review
from tokyo_cli.errors import EXIT_CLEAN, EXIT_FINDINGS, EXIT_NOT_SAVED, ConfigError, RepoError
from tokyo_cli.git.commands import open_repo, run_git, try_git
from tokyo_cli.git.repo import ReviewTarget, TargetKind, load_changeset
from tokyo_cli.github.comments import SUMMARY_MARKER
from tokyo_cli.github.context import ActionContext, annotate, append_step_summary, load_context, set_outputs
from tokyo_cli.github.publish import Prefetched
from tokyo_cli.results import RunResult

# GitHub shows at most 10 warning and 10 error annotations per step (and 50 per job); more
# are dropped silently (docs.github.com, "Workflow commands for GitHub Actions"; community
# discussion #68471 "Extremely low annotation limit").
MAX_ANNOTATIONS_PER_KIND = 10


@dataclass
class GitHubRun:
    """One ``--github`` invocation. ``skip`` is set when the event gets no review;
    ``done`` holds the exit code when a comment command was answered without a review."""

    ctx: ActionContext
    env: Mapping[str, str]
    skip: str | None = None
    notices: list[str] = field(default_factory=list)
    force_full: bool = False
    known: Prefetched | None = None
    done: int | None = None


def start(env: Mapping[str, str] | None = None, *, stream: TextIO | None = None) -> GitHubRun:
    """Read the event from ``env`` (default ``os.environ``); annotate a skip; answer a
    comment command (:mod:`tokyo_cli.github.commands`; ``done`` is then set, or
    ``force_full`` for ``/tokyo review``).

    Raises:
        ConfigError: see :func:`tokyo_cli.github.context.load_context`.
        GitHubError: an ``issue_comment`` event whose pull request could not be read.
    """
    env = os.environ if env is None else env
    run = GitHubRun(ctx=load_context(env, fetch_pull=_fetch_pull), env=env)
    run.skip = run.ctx.skip_reason()
    if run.skip:
        annotate("notice", f"Nothing to review: {run.skip}.", stream=stream)
    elif run.ctx.comment is not None:
        from tokyo_cli.github.commands import answer

        run.done, run.force_full = answer(run.ctx, _trusted_logins(env), stream=stream)
        if run.done is not None:
            run.skip = "a comment command was answered"
    return run


def _fetch_pull(api_url: str, token: str | None, owner: str, repo: str, number: int) -> dict[str, Any]:
    from tokyo_cli.github.client import GitHubClient

    if not token:
        raise ConfigError("an issue_comment event needs a GitHub token (GITHUB_TOKEN) to read its pull request")
    with GitHubClient(api_url, token) as client:
        return client.get_pull(owner, repo, number)


def _trusted_logins(env: Mapping[str, str]) -> set[str] | None:
    return {x.strip() for x in env.get("TOKYO_GITHUB_LOGIN", "").split(",") if x.strip()} or None


def skipped_outputs(run: GitHubRun, sarif_written: bool) -> None:
    """Step outputs for a run that reviewed nothing (skipped, or a command answered)."""
    set_outputs(
        run.ctx,
        {
            "status": "skipped",
            "findings": 0,
            "posted": "false",
            "sarif-written": "true" if sarif_written else "false",
            "check-run-url": "",
            **_commit_outputs(run),
        },
    )


def _commit_outputs(run: GitHubRun) -> dict[str, str]:
    pull = run.ctx.pull
    return {"head-sha": pull.head_sha, "ref": f"refs/pull/{pull.number}/head"}


def prepare(run: GitHubRun, request: ReviewRequest, settings: Settings) -> PreparedReview:
    """Collect ``base.sha...head.sha`` of the pull request in the checked-out repository.

    When the checkout is not the head commit (actions/checkout's default is the merge
    commit ``refs/pull/N/merge``), the head commit is still reviewed, from git objects, and
    a notice says so: review comments must address lines of the head commit.

    Raises:
        ConfigError: a target flag given together with --github.
        RepoError: the base or head commit is not in the clone (shallow checkout).
    """
    if request.staged or request.working or request.base or request.all_files or request.since_last:
        raise ConfigError(
            "--github reviews the pull request's base...head: drop --staged, --working, --base, --all and --since-last"
        )
    pull = run.ctx.pull
    with open_repo(request.repo) as repo:
        for what, sha in (("base", pull.base_sha), ("head", pull.head_sha)):
            if try_git(repo, "cat-file", "-e", f"{sha}^{{commit}}") is None:
                raise RepoError(
                    f"the pull request's {what} commit {sha[:7]} is not in this clone: check out "
                    "with fetch-depth: 0 (actions/checkout)"
                )
        head = run_git(repo, "rev-parse", "HEAD").strip()
        count = (
            try_git(repo, "rev-list", "--count", f"{pull.base_sha}...{pull.head_sha}", "--right-only") or "?"
        ).strip()
    prepared = prepare_review(replace(request, base=pull.base_sha), settings)
    noun = "commit" if count == "1" else "commits"
    target = ReviewTarget(
        kind=TargetKind.RANGE,
        base=pull.base_sha,
        head=pull.head_sha,
        description=f"pull request #{pull.number}: {pull.base_sha[:7]}...{pull.head_sha[:7]} ({count} {noun})",
    )
    changeset = prepared.changeset
    if head != pull.head_sha:
        notice = (
            f"the checked-out HEAD {head[:7]} is not the pull request's head {pull.head_sha[:7]} "
            "(actions/checkout checks out the merge commit by default): reviewing the head commit "
            "from git objects"
        )
        run.notices.append(notice)
        prepared.notices.append(notice)
        changeset = load_changeset(
            prepared.root, target, paths=request.paths or None, max_file_bytes=settings.max_file_bytes
        )
    changeset.target = target
    prepared = replace(prepared, target=target, changeset=changeset)
    if run.ctx.post_blocker() is None:
        prepared = _rebuild_from_pull_request(run, prepared, request, settings)
    return prepared


def _rebuild_from_pull_request(
    run: GitHubRun, prepared: PreparedReview, request: ReviewRequest, settings: Settings
) -> PreparedReview:
    """Read the pull request's state (:mod:`tokyo_cli.github.state`), record its decisions in
    the ledger and narrow the change to the commits since the last reviewed head.

    A GitHub failure here costs the incremental review, not the run: a notice says so and
    the whole pull request is reviewed (the post reports its own errors later).
    """
    from tokyo_cli.github.client import GitHubClient, GitHubError
    from tokyo_cli.github.publish import _trusted
    from tokyo_cli.github.state import decisions_from_replies, is_resolution, our_comments, parse_state

    ctx, pull = run.ctx, run.ctx.pull
    trusted = _trusted_logins(run.env)
    assert ctx.token is not None
    try:
        with GitHubClient(ctx.api_url, ctx.token, graphql_url=ctx.graphql_url) as client:
            comments = client.list_review_comments(pull.owner, pull.repo, pull.number)
            summaries = [
                c
                for c in client.list_issue_comments(pull.owner, pull.repo, pull.number)
                if _trusted(c, trusted) and str(c.get("body") or "").startswith(SUMMARY_MARKER)
            ]
            state = parse_state(summaries[0].get("body") if summaries else None)

            def check(login: str) -> bool:
                return can_write(client, pull.owner, pull.repo, login)

            ours = our_comments(comments, lambda c: _trusted(c, trusted))
            found, refused = decisions_from_replies(comments, ours, check)
            threads = _resolved_threads(client, run, ours, check, prepared.notices)
    except GitHubError as exc:
        note = f"could not read the pull request's earlier reviews ({exc}): reviewing the whole pull request"
        prepared.notices.append(note)
        return prepared
    withdrawn: list[str] = []
    if threads is not None:
        resolved, refused_threads = threads
        refused += refused_threads
        now = {d.fingerprint for d in resolved}
        withdrawn = [fp for fp, d in state.decisions.items() if is_resolution(d) and fp not in now]
        for fp in withdrawn:
            del state.decisions[fp]
        found = resolved + found  # a reply's decision wins over a resolved thread
    for d in found:
        state.decisions[d.fingerprint] = d
    run.known = Prefetched(
        review_comments=comments, summary=summaries[0] if summaries else None, state=state, decisions=found
    )
    prepared.notices.extend(refused)
    if state.decisions or withdrawn:
        from tokyo_cli.store.db import open_db
        from tokyo_cli.store.ledger import record_decision

        with open_db(settings.db_path()) as db:
            for d in state.decisions.values():
                record_decision(
                    db,
                    d.fingerprint,
                    "dismissed" if d.status == "dismissed" else "accepted",
                    reason=d.reason or None,
                    who=f"github:{d.by}",
                )
            for fp in withdrawn:
                record_decision(db, fp, "open", reason=None, who="github:thread-unresolved")
        if withdrawn:
            prepared.notices.append(
                f"{len(withdrawn)} finding(s) dismissed by a resolved review thread are open "
                "again: the thread was unresolved"
            )
    last = state.head
    if run.force_full:
        prepared.notices.append("/tokyo review: reviewing the whole pull request again")
        return prepared
    if last is None or last == pull.head_sha:
        return prepared
    with open_repo(request.repo) as repo:
        known = try_git(repo, "cat-file", "-e", f"{last}^{{commit}}") is not None
        ancestor = known and try_git(repo, "merge-base", "--is-ancestor", last, pull.head_sha) is not None
        count = (try_git(repo, "rev-list", "--count", f"{last}..{pull.head_sha}") or "?") if ancestor else "?"
    if not ancestor:
        prepared.notices.append(
            f"force-push: the last reviewed head {last[:7]} is no longer in the pull request's history; "
            "reviewing the whole pull request again (findings already posted are not repeated)"
        )
        return prepared
    noun = "commit" if count == "1" else "commits"
    target = ReviewTarget(
        kind=TargetKind.RANGE,
        base=last,
        head=pull.head_sha,
        description=f"pull request #{pull.number}: {count} new {noun} since the last review "
        f"({last[:7]}..{pull.head_sha[:7]})",
    )
    changeset = load_changeset(
        prepared.root, target, paths=request.paths or None, max_file_bytes=settings.max_file_bytes
    )
    changeset.target = target
    prepared.notices.append(
        f"incremental review: only the {count} {noun} pushed since the last reviewed head "
        f"{last[:7]}; earlier commits were reviewed on earlier pushes"
    )
    return replace(prepared, target=target, changeset=changeset)


def _resolved_threads(
    client: Any, run: GitHubRun, ours: dict[int, set[str]], check: Any, notices: list[str]
) -> tuple[list[Any], list[str]] | None:
    """Dismissals from resolved review threads (:func:`tokyo_cli.github.state.decisions_from_threads`)
    and refusals; ``None`` when GraphQL could not be read (a notice says so, the rest of the
    state still counts, and no earlier resolution is withdrawn)."""
    from tokyo_cli.github.client import GitHubError
    from tokyo_cli.github.state import decisions_from_threads

    if not ours:
        return [], []
    pull = run.ctx.pull
    try:
        threads = client.review_threads(pull.owner, pull.repo, pull.number)
    except GitHubError as exc:
        notices.append(f"could not read which review threads are resolved ({exc}): replies still count")
        return None
    return decisions_from_threads(threads, ours, check)


def can_write(client: Any, owner: str, repo: str, login: str) -> bool:
    """True when ``login`` has write access (permission API: ``permission`` admin or write,
    or ``role_name`` admin, maintain or write); False when it cannot be read."""
    from tokyo_cli.github.client import GitHubError
    from tokyo_cli.github.state import WRITE_PERMISSIONS, WRITE_ROLES

    try:
        found = client.user_permission(owner, repo, login)
    except GitHubError:
        return False
    return found.get("permission") in WRITE_PERMISSIONS or found.get("role_name") in WRITE_ROLES


def finish(
    run: GitHubRun,
    prepared: PreparedReview,
    outcome: ReviewOutcome,
    *,
    max_comments: int,
    stream: TextIO | None = None,
    sarif_written: bool = False,
) -> int:
    """Job summary, step outputs, the post (unless a fork or no token: then annotations of
    the top findings), the exit code (see the module docstring)."""
    from tokyo_cli.report.markdown import render_markdown

    out = stream or sys.stdout
    ctx, result = run.ctx, outcome.result
    append_step_summary(ctx, render_markdown(result))
    code = outcome.exit_code()
    outputs: dict[str, str | int] = {
        "run-id": "" if result.run_id is None else result.run_id,
        "status": result.status,
        "findings": len(result.findings),
        **result.severity_counts(),
        "blocking": len(result.blocking()),
        "posted": "false",
        "review-url": "",
        "summary-url": "",
        "sarif-written": "true" if sarif_written else "false",
        "check-run-url": "",
        **_commit_outputs(run),
    }
    blocker = ctx.post_blocker()
    if blocker:
        annotate(
            "notice",
            f"No review posted: {blocker}. The report is in the job summary, these "
            "annotations and the SARIF file; the exit code follows fail-on.",
            stream=out,
        )
        annotate_findings(result, stream=out)
    else:
        if not _post(run, prepared, result, max_comments, outputs, out) and code in (EXIT_CLEAN, EXIT_FINDINGS):
            code = EXIT_NOT_SAVED
        if ctx.check_run:
            _check_run(run, result, outputs, out)
    set_outputs(ctx, outputs)
    return code


def _post(
    run: GitHubRun,
    prepared: PreparedReview,
    result: RunResult,
    max_comments: int,
    outputs: dict[str, str | int],
    out: TextIO,
) -> bool:
    """Post the review and the summary comment; False when the post failed (a token that
    may not write is no failure: the notice says so)."""
    from tokyo_cli.github.client import GitHubClient
    from tokyo_cli.github.publish import publish

    ctx = run.ctx
    trusted = _trusted_logins(run.env)
    assert ctx.token is not None  # post_blocker() checked it
    with GitHubClient(ctx.api_url, ctx.token) as client:
        pub = publish(
            client,
            ctx.pull,
            result,
            prepared.changeset,
            max_comments=max_comments,
            trusted_logins=trusted,
            run_url=ctx.run_url,
            known=run.known,
        )
    if pub.review_url:
        outputs["review-url"] = pub.review_url
    if pub.summary_url:
        outputs["summary-url"] = pub.summary_url
    outputs["posted"] = "true" if pub.error is None else "false"
    if pub.moved_after_422:
        annotate(
            "warning",
            f"GitHub refused {pub.moved_after_422} inline comment(s) (422); they were moved into the review body.",
            stream=out,
        )
    if pub.error and pub.forbidden:
        annotate(
            "warning",
            f"No review posted: the token may not write to this pull request ({pub.error}). "
            "Grant `permissions: pull-requests: write`; the report is in the job summary.",
            stream=out,
        )
        return True
    if pub.error:
        saved = f"The run is saved (run {result.run_id})" if result.run_id is not None else "The run is not saved"
        annotate(
            "error",
            f"Posting to the pull request failed: {pub.error}. {saved} and its report is in the "
            "job log and job summary.",
            stream=out,
        )
        return False
    what = "a review" if pub.review_id is not None else "no new review (nothing new since the last push)"
    summary = "created" if pub.summary_created else "updated"
    annotate(
        "notice",
        f"Posted {what} with {pub.inline} inline comment(s) and {pub.listed} finding(s) in its "
        f"body; {pub.already_posted} already posted; summary comment {summary}.",
        stream=out,
    )
    return True


def _check_run(run: GitHubRun, result: RunResult, outputs: dict[str, str | int], out: TextIO) -> None:
    """Post the optional check run (:mod:`tokyo_cli.github.checks`). A failure is a warning,
    not a failed step: the review and the summary comment already carry the findings."""
    from tokyo_cli.github.checks import post_check_run
    from tokyo_cli.github.client import GitHubClient

    ctx = run.ctx
    assert ctx.token is not None  # post_blocker() checked it
    with GitHubClient(ctx.api_url, ctx.token) as client:
        made = post_check_run(client, ctx.pull.owner, ctx.pull.repo, result, ctx.pull.head_sha, details_url=ctx.run_url)
    if made.url:
        outputs["check-run-url"] = made.url
    if made.error and made.forbidden:
        annotate(
            "warning",
            f"No check run: the token may not write checks ({made.error}). Grant "
            "`permissions: checks: write` or set the check-run input to false.",
            stream=out,
        )
    elif made.error:
        annotate(
            "warning", f"The check run is incomplete ({made.annotations} annotation(s) sent): {made.error}", stream=out
        )
    else:
        annotate("notice", f"Check run created with {made.annotations} annotation(s).", stream=out)


def annotate_findings(result: RunResult, *, stream: TextIO | None = None) -> int:
    """``::error file=F,line=L,title=T::message`` (critical, high) and ``::warning ...``
    (medium and below, at or above the display threshold) for the top findings, most
    important first (:func:`tokyo_cli.policy.rank_key`), at most
    :data:`MAX_ANNOTATIONS_PER_KIND` of each kind — what GitHub shows per step; a notice
    counts the rest. Dismissed findings are left out. Returns the number printed.

    Paths and titles are untrusted: properties and data are escaped as the runner expects, so
    a title cannot start another workflow command.
    """
    from tokyo_cli.findings import Severity
    from tokyo_cli.github.context import _escape_data, _escape_property
    from tokyo_cli.policy import rank_key
    from tokyo_cli.report import clean_text, one_line, shown_findings

    out = stream or sys.stdout
    shown, _ = shown_findings(result)
    counts = {"error": 0, "warning": 0}
    left = 0
    for f in sorted((f for f in shown if f.status != "dismissed"), key=rank_key):
        kind = "error" if f.severity.at_least(Severity.HIGH) else "warning"
        if counts[kind] >= MAX_ANNOTATIONS_PER_KIND:
            left += 1
            continue
        counts[kind] += 1
        props = f"file={_escape_property(f.path)}"
        if f.line or f.file_line:  # annotations, like SARIF, may point off the diff
            props += f",line={f.line or f.file_line}"
            if f.line and f.end_line and f.end_line > f.line:  # a range only from an anchored line, as in SARIF
                props += f",endLine={f.end_line}"
        title = one_line(clean_text(f.title))[:200]
        props += f",title={_escape_property(f'tokyo {f.severity.value}: {title}')}"
        message = one_line(clean_text(finding_text(f)))[:2000]
        out.write(f"::{kind} {props}::{_escape_data(message)}\n")
    if left:
        annotate(
            "notice",
            f"{left} more finding(s) are not annotated (GitHub shows {MAX_ANNOTATIONS_PER_KIND} "
            "errors and warnings per step); the job summary and the SARIF file have all.",
            stream=out,
        )
    out.flush()
    return counts["error"] + counts["warning"]


def finding_text(f: Any) -> str:
    """The annotation message: the title, then the first line of the body."""
    from tokyo_cli.report import finding_body

    body = finding_body(f)
    return f"{f.title} — {body.splitlines()[0]}" if body else f.title
