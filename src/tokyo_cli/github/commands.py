"""``/tokyo`` comment commands on a pull request (``issue_comment`` and
``pull_request_review_comment`` events).

* ``/tokyo review``: review the whole pull request again (not only the new commits);
* ``/tokyo dismiss <reason>`` as a reply to one of tokyo's inline comments: the finding is
  not raised again on this pull request, and the decision goes into the ledger;
* ``/tokyo accept`` as such a reply: the finding is acknowledged (still reported);
* ``/tokyo help``: a reply listing the commands.

Only users with write access are obeyed (:func:`tokyo_cli.github.state.has_write_access`:
the OWNER association, else the permission API); anyone else gets nothing on the pull request,
only a notice in the job log, so a stranger cannot make tokyo write or spend. The decision
itself is stored where every later run finds it: the reply stays on the pull request
(:func:`tokyo_cli.github.state.decisions_from_replies` reads it on each run), and the sticky
summary's state is updated now.
"""

from __future__ import annotations

import sys
from typing import TextIO

from tokyo_cli.github.client import GitHubClient, GitHubError
from tokyo_cli.github.comments import SUMMARY_MARKER
from tokyo_cli.github.context import ActionContext, annotate
from tokyo_cli.github.state import STATE_LINES, Decision, has_write_access, our_comments, parse_command, parse_state

HELP = """<!-- tokyo:help -->
**tokyo commands** (users with write access to the repository):

- `/tokyo review`: review the whole pull request again, not only the commits since the last review.
- `/tokyo dismiss <reason>`, as a reply to one of tokyo's inline comments: that finding is not
  raised again on this pull request.
- `/tokyo accept`, as such a reply: the finding is acknowledged (still listed, marked accepted).
- `/tokyo help`: this list.
"""


def answer(
    ctx: ActionContext, trusted_logins: set[str] | None, *, stream: TextIO | None = None
) -> tuple[int | None, bool]:
    """Answer the event's comment. Returns ``(exit code, False)`` when answered without a
    review, ``(None, True)`` for ``/tokyo review`` (the caller reviews the whole pull
    request). A comment that is not a command, or from a user without write access, is
    ignored with a notice (exit 0). GitHub failures: a one-line error annotation, exit 4.
    """
    from tokyo_cli.github.action import can_write
    from tokyo_cli.github.publish import _trusted

    out = stream or sys.stdout
    comment, pull = ctx.comment, ctx.pull
    assert comment is not None
    cmd = parse_command(comment.body)
    if cmd is None:
        annotate("notice", "The comment is not a /tokyo command: nothing to do.", stream=out)
        return 0, False
    if not ctx.token or ctx.pull.is_fork and comment.review_comment:
        annotate("notice", "No token that may write: /tokyo commands cannot be answered here.", stream=out)
        return 0, False
    try:
        with GitHubClient(ctx.api_url, ctx.token) as client:
            if not has_write_access(comment.as_item(), lambda login: can_write(client, pull.owner, pull.repo, login)):
                annotate(
                    "notice",
                    f"/tokyo {cmd.name} from {comment.login or 'an unknown user'} ignored: only users "
                    "with write access to the repository can use tokyo's commands.",
                    stream=out,
                )
                return 0, False
            if cmd.name == "review":
                return None, True
            if cmd.name == "help" or not comment.review_comment or comment.in_reply_to is None:
                _reply(
                    client,
                    ctx,
                    HELP
                    if cmd.name == "help"
                    else f"`/tokyo {cmd.name}` works as a reply to one of tokyo's inline comments.\n\n" + HELP,
                )
                return 0, False
            if cmd.name == "dismiss" and not cmd.argument:
                _reply(client, ctx, "A dismissal needs a reason: `/tokyo dismiss <reason>`.")
                return 0, False
            comments = client.list_review_comments(pull.owner, pull.repo, pull.number)
            ours = our_comments(comments, lambda c: _trusted(c, trusted_logins))
            fps = ours.get(comment.in_reply_to)
            if not fps:
                _reply(client, ctx, f"`/tokyo {cmd.name}` works only as a reply to one of tokyo's inline comments.")
                return 0, False
            status = "dismissed" if cmd.name == "dismiss" else "accepted"
            summaries = [
                c
                for c in client.list_issue_comments(pull.owner, pull.repo, pull.number)
                if _trusted(c, trusted_logins) and str(c.get("body") or "").startswith(SUMMARY_MARKER)
            ]
            if summaries:
                body = str(summaries[0].get("body") or "")
                state = parse_state(body)
                for fp in sorted(fps):
                    state.decisions[fp] = Decision(fp, status, cmd.argument, comment.login, comment.id)
                new = (
                    body.replace(SUMMARY_MARKER, SUMMARY_MARKER + "\n" + state.marker(), 1)
                    if not STATE_LINES.search(body)
                    else STATE_LINES.sub("", body).replace(SUMMARY_MARKER, SUMMARY_MARKER + "\n" + state.marker(), 1)
                )
                client.update_issue_comment(pull.owner, pull.repo, int(summaries[0]["id"]), new)
            what = (
                "dismissed: it will not be raised again on this pull request"
                if status == "dismissed"
                else "accepted: it stays listed, marked accepted"
            )
            _reply(client, ctx, f"Finding `{', '.join(sorted(fps))}` {what}. Recorded for @{comment.login}.")
            annotate(
                "notice", f"/tokyo {cmd.name} by {comment.login} recorded for {', '.join(sorted(fps))}.", stream=out
            )
            return 0, False
    except GitHubError as exc:
        annotate("error", f"/tokyo {cmd.name} could not be answered: {exc}", stream=out)
        return 4, False


def _reply(client: GitHubClient, ctx: ActionContext, body: str) -> None:
    comment, pull = ctx.comment, ctx.pull
    assert comment is not None
    if comment.review_comment:
        target = comment.in_reply_to or comment.id
        client.reply_to_review_comment(pull.owner, pull.repo, pull.number, target, body)
    else:
        client.create_issue_comment(pull.owner, pull.repo, pull.number, body)
