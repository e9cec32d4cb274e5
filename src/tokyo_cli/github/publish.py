"""Post one run to a pull request: one COMMENT review with inline comments, and the sticky
summary comment.

The order of requests (each list endpoint paginated)::

    GET   /repos/{o}/{r}/pulls/{n}/comments     fingerprints already posted inline
    GET   /repos/{o}/{r}/pulls/{n}/reviews      fingerprints already listed in review bodies
    POST  /repos/{o}/{r}/pulls/{n}/reviews      only when there is something new
      (on 422: GET /pulls/{n}/files, then one more POST without the comments GitHub's own
       diff cannot place — they move into the body)
    GET   /repos/{o}/{r}/issues/{n}/comments    find the summary comment by its marker
    PATCH /repos/{o}/{r}/issues/comments/{id}   edit it in place, or
    POST  /repos/{o}/{r}/issues/{n}/comments    create it the first time

Rules: the review event is always ``COMMENT`` (never APPROVE or REQUEST_CHANGES). A finding
becomes an inline comment only when ``Changeset.is_anchor(path, line)`` holds; a multi-line
comment (``start_line``..``line``) only when both ends are anchors in the same hunk. At most
``max_comments`` inline comments, most severe first; everything else goes into the review
body. Findings whose fingerprint is already on the pull request are not posted again, and
findings the ledger dismissed (``status == "dismissed"``) are never posted.

Markers count only on comments written by a bot account (``user.type == "Bot"``, as the
Actions token and GitHub Apps post), or by the logins in ``trusted_logins`` when given, so a
person cannot silence a finding by pasting its marker into a comment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tokyo_cli.findings import Finding, Severity
from tokyo_cli.git.repo import Changeset
from tokyo_cli.github.client import GitHubClient, GitHubError
from tokyo_cli.github.comments import (
    SUMMARY_MARKER,
    Listed,
    SummaryStats,
    fingerprints_in,
    inline_comment,
    review_body,
    summary_comment,
)
from tokyo_cli.github.context import PullRequest
from tokyo_cli.github.state import Decision, PullState
from tokyo_cli.policy import rank_key
from tokyo_cli.report import agent_names, one_line, shown_findings
from tokyo_cli.report.markdown import code_span, escape_block
from tokyo_cli.results import RunResult

NOT_ON_DIFF = "Not on a changed line"
NOT_IN_CHANGE = "In a file this pull request does not change"
OVER_LIMIT = "Over the inline comment limit"
BELOW_INLINE = "Low severity: listed, not commented inline"
# Inline comments go to findings at or above this; lower ones (at or above the run's display
# threshold) are listed in the review body (issue "findings people trust": low is summarised).
INLINE_MIN_SEVERITY = Severity.MEDIUM
GITHUB_REFUSED = "GitHub could not place these on its diff"
DEFAULT_MAX_COMMENTS = 25

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


@dataclass
class PlannedComment:
    """One inline comment: the finding and the JSON object for the review's ``comments``."""

    finding: Finding
    payload: dict[str, Any]


@dataclass
class ReviewPlan:
    """What one review will carry.

    ``inline``: comments, most severe first; ``listed``: findings for the body (not on a
    changed line, or over the limit); ``already_posted``/``dismissed``: findings left out.
    """

    inline: list[PlannedComment] = field(default_factory=list)
    listed: list[Listed] = field(default_factory=list)
    already_posted: int = 0
    dismissed: int = 0

    @property
    def empty(self) -> bool:
        return not self.inline and not self.listed


@dataclass
class PublishOutcome:
    """What was posted. ``error`` is set when the review or the summary could not be posted
    (``forbidden`` when the token may not write)."""

    review_id: int | None = None
    review_url: str | None = None
    inline: int = 0
    listed: int = 0
    already_posted: int = 0
    dismissed: int = 0
    moved_after_422: int = 0
    summary_id: int | None = None
    summary_url: str | None = None
    summary_created: bool = False
    error: str | None = None
    forbidden: bool = False


def comment_lines(f: Finding, changes: Changeset) -> tuple[int | None, int] | None:
    """``(start_line or None, line)`` for an inline comment on ``f``, or ``None`` when the
    finding has no anchor in the change. A range is kept only when both ends are anchors in
    the same hunk (GitHub rejects anything else)."""
    if f.line is None or not changes.is_anchor(f.path, f.line):
        return None
    end = f.end_line
    if end and end > f.line and changes.is_anchor(f.path, end):
        change = changes.file(f.path)
        for h in change.hunks if change else []:
            if h.new_start <= f.line and end < h.new_start + h.new_len:
                return f.line, end
    return None, f.line


def plan_review(result: RunResult, changes: Changeset, *, already: set[str], max_comments: int) -> ReviewPlan:
    """Decide which findings become inline comments and which go into the body.

    Findings below the run's display threshold (``result.min_severity``) are left out (the
    summary counts them); inline slots go by :func:`tokyo_cli.policy.rank_key` (security and
    correctness first) to findings at or above :data:`INLINE_MIN_SEVERITY` on changed lines;
    the rest are listed in the body with the reason.
    """
    plan = ReviewPlan()
    names = agent_names(result)
    shown, _ = shown_findings(result)
    for f in sorted(shown, key=rank_key):
        if f.status == "dismissed":
            plan.dismissed += 1
            continue
        if f.fingerprint in already:
            plan.already_posted += 1
            continue
        lines = comment_lines(f, changes)
        if lines is None:
            plan.listed.append(Listed(f, NOT_ON_DIFF if changes.file(f.path) is not None else NOT_IN_CHANGE))
        elif not f.severity.at_least(INLINE_MIN_SEVERITY):
            plan.listed.append(Listed(f, BELOW_INLINE))
        elif len(plan.inline) >= max_comments:
            plan.listed.append(Listed(f, OVER_LIMIT))
        else:
            plan.inline.append(PlannedComment(f, _payload(f, _patch_lines(f, changes) or lines, names)))
    return plan


def _patch_lines(f: Finding, changes: Changeset) -> tuple[int | None, int] | None:
    """Where a fix step's patch fits one suggestion: its one hunk's replaced lines, when they
    are lines of one diff hunk and include the finding's line; ``None`` otherwise."""
    from tokyo_cli.engine.tasks.patches import suggestion

    fit = suggestion(f.patch) if f.patch else None
    if fit is None or fit[0] != f.path or f.line is None or not fit[1] <= f.line <= fit[2]:
        return None
    placed = comment_lines(f.model_copy(update={"line": fit[1], "end_line": fit[2]}), changes)
    return placed if placed == ((fit[1] if fit[1] != fit[2] else None), fit[2]) else None


def _payload(f: Finding, lines: tuple[int | None, int], names: dict[str, str]) -> dict[str, Any]:
    """A review comment at ``lines``; a fix step's one-hunk patch that fits them becomes its
    suggestion block (:func:`tokyo_cli.engine.tasks.patches.suggestion`)."""
    from tokyo_cli.engine.tasks.patches import suggestion

    fit = suggestion(f.patch) if f.patch else None
    if fit is not None and (lines[0] or lines[1], lines[1]) == (fit[1], fit[2]):
        f = f.model_copy(update={"suggestion": fit[3], "line": fit[1], "end_line": fit[2]})
    start, line = lines
    exact = (start or line) == f.line and line == (f.end_line or f.line)
    payload: dict[str, Any] = {"path": f.path, "line": line, "side": "RIGHT"}
    if start is not None:
        payload["start_line"] = start
        payload["start_side"] = "RIGHT"
    payload["body"] = inline_comment(f, names, suggestion_block=exact)
    return payload


def posted_fingerprints(items: list[dict[str, Any]], trusted_logins: set[str] | None) -> set[str]:
    """Fingerprints in the bodies of comments or reviews written by a trusted author."""
    found: set[str] = set()
    for item in items:
        if _trusted(item, trusted_logins):
            found |= fingerprints_in(item.get("body"))
    return found


def _trusted(item: dict[str, Any], trusted_logins: set[str] | None) -> bool:
    user = item.get("user") or {}
    if trusted_logins:
        return user.get("login") in trusted_logins
    return user.get("type") == "Bot"


@dataclass
class Prefetched:
    """What :func:`tokyo_cli.github.action.prepare` already read from the pull request, so
    publishing does not read it again: every review comment, the summary comment (``None``
    when there is none yet) and the state it carries."""

    review_comments: list[dict[str, Any]]
    summary: dict[str, Any] | None
    state: PullState
    decisions: list[Decision] = field(default_factory=list)


def publish(
    client: GitHubClient,
    pull: PullRequest,
    result: RunResult,
    changes: Changeset,
    *,
    max_comments: int = DEFAULT_MAX_COMMENTS,
    trusted_logins: set[str] | None = None,
    run_url: str | None = None,
    known: Prefetched | None = None,
) -> PublishOutcome:
    """Post the review (when there is anything new) and create or edit the summary comment.

    With ``known`` (the pull request's state, read before the review) nothing is read twice,
    fingerprints in the state count as posted, and the summary comment carries the new state:
    this head as the last reviewed one, every fingerprint posted, the decisions.

    Never raises for a GitHub failure: the outcome's ``error`` says what failed, so the
    caller still has the run (it is already in history) and can report it.
    """
    out = PublishOutcome()
    o, r, n = pull.owner, pull.repo, pull.number
    state = known.state if known else None
    plan: ReviewPlan | None = None
    already: set[str] = set()
    try:
        comments = known.review_comments if known else client.list_review_comments(o, r, n)
        already = posted_fingerprints(comments, trusted_logins)
        already |= posted_fingerprints(client.list_reviews(o, r, n), trusted_logins)
        if state is not None:
            already |= state.posted
        plan = plan_review(result, changes, already=already, max_comments=max_comments)
        out.already_posted, out.dismissed = plan.already_posted, plan.dismissed
        if not plan.empty:
            _post_review(client, pull, plan, out, run_url)
    except GitHubError as exc:
        out.error, out.forbidden = str(exc), exc.forbidden
        if exc.forbidden:
            return out  # a read-only token: the summary would be refused too
    marker: str | None = None
    decided: tuple[str, ...] = ()
    if state is not None:
        posted = set(already)
        if plan is not None and out.review_id is not None:
            posted |= {c.finding.fingerprint for c in plan.inline} | {x.finding.fingerprint for x in plan.listed}
        new_state = PullState(
            head=pull.head_sha if out.error is None else state.head, posted=posted, decisions=dict(state.decisions)
        )
        marker = new_state.marker()
        decided = tuple(_decision_line(d) for d in new_state.decisions.values())
    stats = SummaryStats(
        inline=out.inline,
        listed=out.listed,
        already_posted=out.already_posted,
        dismissed=out.dismissed,
        review_url=out.review_url,
        review_error=out.error,
        state_marker=marker,
        decisions=decided,
    )
    body = summary_comment(result, stats, run_url=run_url)
    try:
        if known is not None:
            existing = [known.summary] if known.summary else []
        else:
            existing = [
                c
                for c in client.list_issue_comments(o, r, n)
                if _trusted(c, trusted_logins) and str(c.get("body") or "").startswith(SUMMARY_MARKER)
            ]
        if existing:
            comment = client.update_issue_comment(o, r, int(existing[0]["id"]), body)
        else:
            comment = client.create_issue_comment(o, r, n, body)
            out.summary_created = True
        out.summary_id, out.summary_url = comment.get("id"), comment.get("html_url")
    except GitHubError as exc:
        out.error = f"{out.error}; {exc}" if out.error else str(exc)
        out.forbidden = out.forbidden or exc.forbidden
    return out


def _decision_line(d: Decision) -> str:
    what = "dismissed" if d.status == "dismissed" else "accepted"
    why = f": {escape_block(one_line(d.reason))}" if d.reason else ""
    return f"{code_span(d.fingerprint)} {what} by {code_span(one_line(d.by))}{why}"


def _post_review(
    client: GitHubClient, pull: PullRequest, plan: ReviewPlan, out: PublishOutcome, run_url: str | None
) -> None:
    try:
        review = client.create_review(pull.owner, pull.repo, pull.number, _review_payload(pull, plan, run_url, out))
    except GitHubError as exc:
        if exc.status != 422 or not plan.inline:
            raise
        refused = _refused_comments(client, pull, plan.inline)
        plan.inline = [c for c in plan.inline if c not in refused]
        plan.listed = [Listed(c.finding, GITHUB_REFUSED) for c in refused] + plan.listed
        out.moved_after_422 = len(refused)
        review = client.create_review(pull.owner, pull.repo, pull.number, _review_payload(pull, plan, run_url, out))
    out.review_id, out.review_url = review.get("id"), review.get("html_url")
    out.inline = len(plan.inline)


def _review_payload(pull: PullRequest, plan: ReviewPlan, run_url: str | None, out: PublishOutcome) -> dict[str, Any]:
    body, shown = review_body(plan.listed, inline=len(plan.inline), run_url=run_url)
    out.listed = len(shown)
    payload: dict[str, Any] = {"commit_id": pull.head_sha, "body": body, "event": "COMMENT"}
    if plan.inline:
        payload["comments"] = [c.payload for c in plan.inline]
    return payload


def _refused_comments(client: GitHubClient, pull: PullRequest, comments: list[PlannedComment]) -> list[PlannedComment]:
    """The comments GitHub's own diff of the pull request cannot hold; all of them when that
    diff cannot be read or places every comment (then the 422 had another cause)."""
    try:
        files = client.list_pull_files(pull.owner, pull.repo, pull.number)
    except GitHubError:
        return list(comments)
    hunks = {str(f.get("filename")): patch_hunks(f.get("patch")) for f in files if isinstance(f, dict)}
    refused = [c for c in comments if not _placeable(c.payload, hunks.get(c.payload["path"]))]
    return refused or list(comments)


def _placeable(payload: dict[str, Any], hunks: list[set[int]] | None) -> bool:
    if not hunks:
        return False
    line, start = payload["line"], payload.get("start_line", payload["line"])
    return any(line in h and start in h for h in hunks)


def patch_hunks(patch: object) -> list[set[int]]:
    """New-side line numbers of each hunk of a GitHub ``patch`` (the ``@@`` hunks of one
    file's unified diff, as the pull request files endpoint returns it); ``[]`` when GitHub
    sent no patch (binary or too large a diff)."""
    if not isinstance(patch, str):
        return []
    hunks: list[set[int]] = []
    line = 0
    for text in patch.split("\n"):
        m = _HUNK.match(text)
        if m:
            hunks.append(set())
            line = int(m.group(1))
        elif hunks and text[:1] in (" ", "+"):
            hunks[-1].add(line)
            line += 1
    return hunks
