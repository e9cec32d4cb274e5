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
from typing import TextIO

from tokyo_cli.errors import EXIT_CLEAN, EXIT_FINDINGS, EXIT_NOT_SAVED, ConfigError, RepoError
from tokyo_cli.github.context import ActionContext, annotate, append_step_summary, load_context, set_outputs
from tokyo_cli.gitcmd import open_repo, run_git, try_git
from tokyo_cli.repo import ReviewTarget, TargetKind, load_changeset
from tokyo_cli.results import RunResult
from tokyo_cli.review import PreparedReview, ReviewOutcome, ReviewRequest, prepare_review
from tokyo_cli.settings import Settings


@dataclass
class GitHubRun:
    """One ``--github`` invocation. ``skip`` is set when the event gets no review."""

    ctx: ActionContext
    env: Mapping[str, str]
    skip: str | None = None
    notices: list[str] = field(default_factory=list)


def start(env: Mapping[str, str] | None = None, *, stream: TextIO | None = None) -> GitHubRun:
    """Read the event from ``env`` (default ``os.environ``); annotate a skip.

    Raises:
        ConfigError: see :func:`tokyo_cli.github.context.load_context`.
    """
    env = os.environ if env is None else env
    run = GitHubRun(ctx=load_context(env), env=env)
    run.skip = run.ctx.skip_reason()
    if run.skip:
        annotate("notice", f"Nothing to review: {run.skip}.", stream=stream)
    return run


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
        raise ConfigError("--github reviews the pull request's base...head: drop --staged, --working, "
                          "--base, --all and --since-last")
    pull = run.ctx.pull
    with open_repo(request.repo) as repo:
        for what, sha in (("base", pull.base_sha), ("head", pull.head_sha)):
            if try_git(repo, "cat-file", "-e", f"{sha}^{{commit}}") is None:
                raise RepoError(f"the pull request's {what} commit {sha[:7]} is not in this clone: check out "
                                "with fetch-depth: 0 (actions/checkout)")
        head = run_git(repo, "rev-parse", "HEAD").strip()
        count = (try_git(repo, "rev-list", "--count", f"{pull.base_sha}...{pull.head_sha}", "--right-only") or "?").strip()
    prepared = prepare_review(replace(request, base=pull.base_sha), settings)
    noun = "commit" if count == "1" else "commits"
    target = ReviewTarget(
        kind=TargetKind.RANGE, base=pull.base_sha, head=pull.head_sha,
        description=f"pull request #{pull.number}: {pull.base_sha[:7]}...{pull.head_sha[:7]} ({count} {noun})",
    )
    changeset = prepared.changeset
    if head != pull.head_sha:
        notice = (f"the checked-out HEAD {head[:7]} is not the pull request's head {pull.head_sha[:7]} "
                  "(actions/checkout checks out the merge commit by default): reviewing the head commit "
                  "from git objects")
        run.notices.append(notice)
        prepared.notices.append(notice)
        changeset = load_changeset(prepared.root, target, paths=request.paths or None,
                                   max_file_bytes=settings.max_file_bytes)
    changeset.target = target
    return replace(prepared, target=target, changeset=changeset)


def finish(run: GitHubRun, prepared: PreparedReview, outcome: ReviewOutcome, *, max_comments: int,
           stream: TextIO | None = None) -> int:
    """Job summary, step outputs, the post (unless a fork or no token), the exit code (see
    the module docstring)."""
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
    }
    blocker = ctx.post_blocker()
    if blocker:
        annotate("notice", f"No review posted: {blocker}. The report is in the job summary and the "
                           "SARIF file; the exit code follows fail-on.", stream=out)
    elif not _post(run, prepared, result, max_comments, outputs, out) and code in (EXIT_CLEAN, EXIT_FINDINGS):
        code = EXIT_NOT_SAVED
    set_outputs(ctx, outputs)
    return code


def _post(run: GitHubRun, prepared: PreparedReview, result: RunResult, max_comments: int,
          outputs: dict[str, str | int], out: TextIO) -> bool:
    """Post the review and the summary comment; False when the post failed (a token that
    may not write is no failure: the notice says so)."""
    from tokyo_cli.github.client import GitHubClient
    from tokyo_cli.github.publish import publish

    ctx = run.ctx
    trusted = {x.strip() for x in run.env.get("TOKYO_GITHUB_LOGIN", "").split(",") if x.strip()} or None
    assert ctx.token is not None  # post_blocker() checked it
    with GitHubClient(ctx.api_url, ctx.token) as client:
        pub = publish(client, ctx.pull, result, prepared.changeset, max_comments=max_comments,
                      trusted_logins=trusted, run_url=ctx.run_url)
    if pub.review_url:
        outputs["review-url"] = pub.review_url
    if pub.summary_url:
        outputs["summary-url"] = pub.summary_url
    outputs["posted"] = "true" if pub.error is None else "false"
    if pub.moved_after_422:
        annotate("warning", f"GitHub refused {pub.moved_after_422} inline comment(s) (422); they were moved "
                            "into the review body.", stream=out)
    if pub.error and pub.forbidden:
        annotate("warning", f"No review posted: the token may not write to this pull request ({pub.error}). "
                            "Grant `permissions: pull-requests: write`; the report is in the job summary.",
                 stream=out)
        return True
    if pub.error:
        saved = f"The run is saved (run {result.run_id})" if result.run_id is not None else "The run is not saved"
        annotate("error", f"Posting to the pull request failed: {pub.error}. {saved} and its report is in the "
                          "job log and job summary.", stream=out)
        return False
    what = "a review" if pub.review_id is not None else "no new review (nothing new since the last push)"
    summary = "created" if pub.summary_created else "updated"
    annotate("notice", f"Posted {what} with {pub.inline} inline comment(s) and {pub.listed} finding(s) in its "
                       f"body; {pub.already_posted} already posted; summary comment {summary}.", stream=out)
    return True
