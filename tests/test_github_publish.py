"""Review publishing against the fake GitHub API: anchoring, ranking, suggestions, markers and
trust, the 422 retry, bodies over 65,536 characters, read-only tokens, and the Actions
context helpers (outputs, workflow commands, stop-commands)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from fakes.github import BOT, HUMAN, TOKEN, FakeGitHub, files_from_git
from fakes.gitrepo import GitRepo
from tokyo_cli.errors import ConfigError
from tokyo_cli.findings import Finding, Severity
from tokyo_cli.git.repo import Changeset, ReviewTarget, TargetKind, load_changeset
from tokyo_cli.github.client import GitHubClient
from tokyo_cli.github.comments import MAX_BODY, SummaryStats, fp_marker, summary_comment
from tokyo_cli.github.context import (
    ActionContext,
    PullRequest,
    load_context,
    set_outputs,
    untrusted_output,
    workflow_command,
)
from tokyo_cli.github.publish import BELOW_INLINE, GITHUB_REFUSED, OVER_LIMIT, comment_lines, plan_review, publish
from tokyo_cli.results import FileEntry, RunResult, StepResult

OLD = "".join(f"line {i}\n" for i in range(1, 41))
# Two hunks: lines 5-6 replaced, and 30-31 replaced (new-file numbering is the same).
NEW = (
    OLD.replace("line 5\n", "five = 5\n")
    .replace("line 6\n", "six = 6\n")
    .replace("line 30\n", "thirty = 30\n")
    .replace("line 31\n", "thirty_one = 31\n")
)


class NoSleep:
    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def change(git_repo: GitRepo, fake_github: FakeGitHub) -> tuple[Changeset, PullRequest]:
    git_repo.write("app.py", OLD)
    git_repo.write("other.py", OLD)
    base = git_repo.commit("base")
    git_repo.write("app.py", NEW)
    git_repo.write("other.py", NEW)
    head = git_repo.commit("head")
    target = ReviewTarget(kind=TargetKind.RANGE, base=base, head=head, description="pr")
    fake_github.set_pull(5, head, files_from_git(git_repo.root, base, head))
    pull = PullRequest(
        owner="acme",
        repo="widgets",
        number=5,
        base_sha=base,
        head_sha=head,
        base_ref="main",
        head_ref="f",
        base_repo="acme/widgets",
        head_repo="acme/widgets",
        action="opened",
    )
    return load_changeset(git_repo.root, target), pull


def finding(line: int | None, severity: Severity = Severity.MEDIUM, path: str = "app.py", **kw: Any) -> Finding:
    data: dict[str, Any] = dict(
        path=path,
        line=line,
        severity=severity,
        title=f"Issue at {path}:{line}",
        body="Because.",
        agent="akira",
        anchor_text=f"{path}:{line}",
    )
    data.update(kw)
    return Finding(**data)


def run(findings: list[Finding]) -> RunResult:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return RunResult(
        run_id=3,
        repo="/r",
        target="range",
        target_description="pr",
        workflow="review",
        status="completed",
        started_at=now,
        finished_at=now,
        head_sha="c" * 40,
        files=[FileEntry(path="app.py", status="modified")],
        steps=[
            StepResult(
                step_id="security", agent="akira", agent_name="Akira", status="ok", files=["app.py"], findings=findings
            )
        ],
        findings=findings,
    )


def client(fake: FakeGitHub, sleep: NoSleep | None = None) -> GitHubClient:
    return GitHubClient(fake.url, TOKEN, sleep=sleep or NoSleep())


def posted_reviews(fake: FakeGitHub) -> list[dict[str, Any]]:
    return [r.body for r in fake.requests if r.method == "POST" and r.path.endswith("/reviews")]


def test_anchors_ranges_and_suggestions(change: tuple[Changeset, PullRequest]) -> None:
    cs, _ = change
    assert comment_lines(finding(5), cs) == (None, 5)
    assert comment_lines(finding(5, end_line=6), cs) == (5, 6)
    assert comment_lines(finding(6, end_line=30), cs) == (None, 6)  # different hunks: single line
    assert comment_lines(finding(20), cs) is None  # outside every hunk
    assert comment_lines(finding(None), cs) is None
    assert comment_lines(finding(5, path="nope.py"), cs) is None

    exact = finding(5, end_line=6, suggestion="five, six = 5, 6")
    split = finding(6, Severity.MEDIUM, end_line=30, suggestion="x = 1", title="split")
    plan = plan_review(run([exact, split]), cs, already=set(), max_comments=10)
    ranged = next(c.payload for c in plan.inline if c.finding is not None and c.finding.title != "split")
    assert (ranged["start_line"], ranged["line"], ranged["start_side"]) == (5, 6, "RIGHT")
    assert "```suggestion\nfive, six = 5, 6\n```" in ranged["body"]
    # The range could not be kept, so a suggestion block would replace the wrong lines.
    split_body = next(c.payload["body"] for c in plan.inline if c.finding.title == "split")
    assert "```suggestion" not in split_body and "Suggested replacement:" in split_body


def test_ranked_by_severity_within_max_comments(change: tuple[Changeset, PullRequest]) -> None:
    cs, _ = change
    findings = [
        finding(5, Severity.LOW),
        finding(6, Severity.CRITICAL),
        finding(30, Severity.MEDIUM),
        finding(31, Severity.HIGH),
        finding(5, Severity.INFO, path="other.py"),
        finding(20, Severity.HIGH, title="off the diff"),
        finding(6, Severity.HIGH, path="other.py", status="dismissed", title="dismissed one"),
    ]
    plan = plan_review(run(findings), cs, already=set(), max_comments=2)
    assert [c.finding.severity for c in plan.inline] == [Severity.CRITICAL, Severity.HIGH]
    # Low is listed in the body, not commented inline; info is below the display threshold.
    assert [(x.finding.title, x.reason) for x in plan.listed] == [
        ("off the diff", "Not on a changed line"),
        ("Issue at app.py:30", OVER_LIMIT),
        ("Issue at app.py:5", BELOW_INLINE),
    ]
    assert plan.dismissed == 1 and not any("dismissed" in c.finding.title for c in plan.inline)


def test_markers_count_only_from_bots(change: tuple[Changeset, PullRequest], fake_github: FakeGitHub) -> None:
    cs, pull = change
    by_bot, by_human = finding(5, title="posted by the bot"), finding(6, title="pasted by a person")
    fake_github.add_review_comment(5, f"{fp_marker(by_bot.fingerprint)} old", BOT)
    fake_github.add_issue_comment(5, "ignored", HUMAN)
    fake_github.add_review_comment(5, f"shh {fp_marker(by_human.fingerprint)}", HUMAN)
    out = publish(client(fake_github), pull, run([by_bot, by_human]), cs)
    (review,) = posted_reviews(fake_github)
    assert [c["line"] for c in review["comments"]] == [6]
    assert out.already_posted == 1 and out.inline == 1 and out.error is None
    # With an explicit login list, the bot's marker no longer counts either.
    out = publish(client(fake_github), pull, run([by_bot]), cs, trusted_logins={"tokyo-app[bot]"})
    assert out.inline == 1


def test_422_on_one_comment_is_retried_once_without_it(
    change: tuple[Changeset, PullRequest], fake_github: FakeGitHub
) -> None:
    cs, pull = change
    # GitHub did not render other.py's diff (too large, say): no patch, so no comment can sit there.
    for f in fake_github.pull(5).files:
        if f["filename"] == "other.py":
            del f["patch"]
    good, refused = finding(5, Severity.HIGH), finding(30, Severity.MEDIUM, path="other.py")
    out = publish(client(fake_github), pull, run([good, refused]), cs)
    assert fake_github.log()[2:] == [
        "POST /repos/acme/widgets/pulls/5/reviews",
        "GET /repos/acme/widgets/pulls/5/files?per_page=100",
        "POST /repos/acme/widgets/pulls/5/reviews",
        "GET /repos/acme/widgets/issues/5/comments?per_page=100",
        "POST /repos/acme/widgets/issues/5/comments",
    ]
    first, second = posted_reviews(fake_github)
    assert len(first["comments"]) == 2
    assert [c["path"] for c in second["comments"]] == ["app.py"]
    assert GITHUB_REFUSED in second["body"] and refused.title in second["body"]
    assert fp_marker(refused.fingerprint) in second["body"]  # listed, so not re-posted next push
    assert out.moved_after_422 == 1 and out.error is None and len(fake_github.pull(5).reviews) == 1
    assert fake_github.violations == []


def test_a_second_422_is_reported_not_retried_again(
    change: tuple[Changeset, PullRequest], fake_github: FakeGitHub
) -> None:
    cs, pull = change
    fake_github.fail("POST", r"/reviews$", 422, {"message": "Unprocessable Entity", "errors": ["nope"]}, times=5)
    out = publish(client(fake_github), pull, run([finding(5)]), cs)
    assert len(posted_reviews(fake_github)) == 2
    assert out.error is not None and "422" in out.error
    # The summary comment still says what happened.
    assert "could not be posted" in fake_github.pull(5).issue_comments[0]["body"]


def test_bodies_over_65536_characters_are_cut_to_fit(
    change: tuple[Changeset, PullRequest], fake_github: FakeGitHub
) -> None:
    cs, pull = change
    huge = finding(5, Severity.HIGH, body="<b>" + "word " * 30_000, suggestion="x = 1\n" * 20_000)
    many = [
        finding(20 + (i % 3), Severity.LOW, title=f"file-level {i} " + "t" * 200, body="b" * 3000) for i in range(60)
    ]
    result = run([huge, *many])
    result.summary = "s" * 100_000
    out = publish(client(fake_github), pull, result, cs, max_comments=5)
    assert fake_github.violations == [] and out.error is None
    (review,) = posted_reviews(fake_github)
    (comment,) = review["comments"]
    assert len(comment["body"]) <= MAX_BODY and "cut to fit GitHub's 65,536-character limit" in comment["body"]
    assert "too long to show here" in comment["body"] and "<b>" not in comment["body"]
    assert len(review["body"]) <= MAX_BODY and "did not fit in this review" in review["body"]
    assert 0 < out.listed < 60
    summary = fake_github.pull(5).issue_comments[0]["body"]
    assert len(summary) <= MAX_BODY
    # Findings the body could not hold carry no marker, so a later push may still list them.
    assert review["body"].count("<!-- tokyo:fp=") == out.listed


def test_summary_is_edited_in_place_and_a_read_only_token_stops_early(
    change: tuple[Changeset, PullRequest], fake_github: FakeGitHub
) -> None:
    cs, pull = change
    fake_github.add_issue_comment(5, "<!-- tokyo:summary -->\nforged by a person", HUMAN)
    publish(client(fake_github), pull, run([finding(5)]), cs)
    publish(client(fake_github), pull, run([finding(5)]), cs)
    comments = fake_github.pull(5).issue_comments
    assert len(comments) == 2 and comments[0]["body"].endswith("forged by a person")  # never edited
    assert fake_github.log()[-1] == f"PATCH /repos/acme/widgets/issues/comments/{comments[1]['id']}"
    before = len(fake_github.requests)
    fake_github.fail("POST", r"/reviews$", 403, {"message": "Resource not accessible by integration"})
    out = publish(client(fake_github), pull, run([finding(6, title="new")]), cs)
    assert out.forbidden and "Resource not accessible" in (out.error or "")
    assert [r.method for r in fake_github.requests[before:]] == ["GET", "GET", "POST"]  # no summary attempt


def test_summary_comment_shape() -> None:
    result = run([finding(5, Severity.HIGH), finding(6, status="dismissed")])
    text = summary_comment(result, SummaryStats(inline=1, dismissed=1), run_url="https://x/runs/1")
    assert text.startswith("<!-- tokyo:summary -->\n## tokyo review: 1 high\n")
    assert "| Akira | `security` | ok |" in text and "1 dismissed (not posted)" in text
    assert "[job log](https://x/runs/1)" in text and "Coverage" in text


# --- Actions context ------------------------------------------------------------------------


def test_outputs_use_random_delimiters(tmp_path: Path) -> None:
    pull = PullRequest("o", "r", 1, "a" * 40, "b" * 40, "main", "f", "o/r", "o/r", "opened")
    ctx = ActionContext("pull_request", pull, output_path=tmp_path / "out")
    set_outputs(ctx, {"run-id": 3, "evil": "x\nposted=true"})
    lines = (tmp_path / "out").read_text().splitlines()
    assert lines[0].startswith("run-id<<TOKYO_") and lines[1] == "3" and lines[2] == lines[0].split("<<")[1]
    assert lines[4:6] == ["x", "posted=true"] and lines[6] == lines[3].split("<<")[1]


def test_workflow_commands_are_escaped_and_untrusted_text_is_fenced() -> None:
    assert (
        workflow_command("warning", "50% done\nnext", title="a:b,c") == "::warning title=a%3Ab%2Cc::50%25 done%0Anext"
    )
    buf = io.StringIO()
    with untrusted_output(True, buf):
        buf.write("::error::from a finding\n")
    lines = buf.getvalue().splitlines()
    token = lines[0].removeprefix("::stop-commands::")
    assert len(token) == 32 and lines[1] == "::error::from a finding" and lines[2] == f"::{token}::"


def test_context_from_environment(tmp_path: Path) -> None:
    event = tmp_path / "e.json"
    event.write_text(
        json.dumps(
            {
                "action": "synchronize",
                "pull_request": {
                    "number": 9,
                    "draft": False,
                    "base": {"sha": "a" * 40, "ref": "main", "repo": {"full_name": "acme/widgets"}},
                    "head": {"sha": "b" * 40, "ref": "x", "repo": None},
                },
            }
        )
    )
    env = {
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_TOKEN": "secret-token",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "acme/widgets",
        "GITHUB_RUN_ID": "77",
    }
    ctx = load_context(env)
    assert (ctx.pull.number, ctx.pull.owner, ctx.pull.repo) == (9, "acme", "widgets")
    assert ctx.pull.is_fork and "fork (a deleted repository)" in (ctx.post_blocker() or "")
    assert ctx.run_url == "https://github.com/acme/widgets/actions/runs/77"
    assert "secret-token" not in repr(ctx)
    with pytest.raises(ConfigError, match="https://"):
        load_context({**env, "GITHUB_API_URL": "http://api.example.com"})
    with pytest.raises(ConfigError, match="this workflow ran on 'push'"):
        load_context({**env, "GITHUB_EVENT_NAME": "push"})


def test_inline_slots_go_to_security_before_more_severe_docs(change: tuple[Changeset, PullRequest]) -> None:
    """Issue "findings people trust": eleven docstring comments took the slots while a SQL
    injection went into the body. Security and correctness rank first."""
    cs, _ = change
    docs = [
        finding(line, Severity.HIGH, path=p, title=f"doc {p}:{line}", category="docs")
        for p in ("app.py", "other.py")
        for line in (5, 6, 30, 31)
    ]
    sql = finding(31, Severity.MEDIUM, path="other.py", title="SQL injection", category="security")
    plan = plan_review(run([*docs, sql]), cs, already=set(), max_comments=3)
    assert plan.inline[0].finding.title == "SQL injection"
    assert [x.finding.category for x in plan.listed] == ["docs"] * 6
