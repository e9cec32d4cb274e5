"""``/tokyo review|dismiss|accept|help`` comment commands against the fake GitHub.

The pull request already carries what an earlier run posted (a bot's inline comment with a
fingerprint marker and the sticky summary with its state line); each test sends one
``issue_comment`` or ``pull_request_review_comment`` event and checks the requests tokyo made.
A user without write access gets nothing written on the pull request (no reply, no edit).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fakes.github import BOT, HUMAN, FakeGitHub, files_from_git
from fakes.gitrepo import GitRepo
from test_github_e2e import (  # noqa: F401 - action_env is a fixture
    BASE_SERVER,
    HEAD1_SERVER,
    NUMBER,
    OWNER,
    REPO,
    action_env,
    outputs,
)

RunCli = Callable[..., tuple[int, str, str]]
FP = "0123456789abcdef"
OWNER_USER = {"login": "octo-owner", "id": 2002, "type": "User"}
WRITER = {"login": "wendy", "id": 2003, "type": "User"}
P = f"/repos/{OWNER}/{REPO}"


@pytest.fixture
def pr(git_repo: GitRepo, fake_github: FakeGitHub) -> dict[str, Any]:
    """A pull request as an earlier tokyo run left it: one inline comment, one summary."""
    git_repo.write("src/app/server.py", BASE_SERVER)
    base = git_repo.commit("base")
    git_repo.checkout_branch("feature")
    git_repo.write("src/app/server.py", HEAD1_SERVER)
    head = git_repo.commit("feature")
    pull = fake_github.set_pull(NUMBER, head, files_from_git(git_repo.root, base, head))
    pull.base_sha = base
    ours = fake_github.add_review_comment(
        NUMBER, f"**high**: shell=True\n<!-- tokyo:fp={FP} -->", BOT, "src/app/server.py", 18
    )
    summary = fake_github.add_issue_comment(
        NUMBER, f"<!-- tokyo:summary -->\n<!-- tokyo:state 1 head {head} posted {FP} -->\n## tokyo review\n", BOT
    )
    return {"base": base, "head": head, "ours": ours, "summary": summary}


def comment_event(
    action_env: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    pr: dict[str, Any],
    body: str,
    user: dict[str, Any],
    *,
    association: str = "NONE",
    reply_to: int | None = None,
) -> None:
    """Write the event file: a review-comment reply when ``reply_to`` is set, else an issue comment."""
    comment: dict[str, Any] = {"id": 9001, "body": body, "user": user, "author_association": association}
    if reply_to is not None:
        monkeypatch.setenv("GITHUB_EVENT_NAME", "pull_request_review_comment")
        comment["in_reply_to_id"] = reply_to
        payload: dict[str, Any] = {
            "action": "created",
            "comment": comment,
            "pull_request": {
                "number": NUMBER,
                "draft": False,
                "base": {"sha": pr["base"], "ref": "main", "repo": {"full_name": f"{OWNER}/{REPO}"}},
                "head": {"sha": pr["head"], "ref": "feature", "repo": {"full_name": f"{OWNER}/{REPO}"}},
            },
        }
    else:
        monkeypatch.setenv("GITHUB_EVENT_NAME", "issue_comment")
        payload = {
            "action": "created",
            "comment": comment,
            "issue": {"number": NUMBER, "pull_request": {"url": f"https://api.github.com{P}/pulls/{NUMBER}"}},
        }
    payload["repository"] = {"full_name": f"{OWNER}/{REPO}"}
    action_env["event"].write_text(json.dumps(payload), encoding="utf-8")


def writes(fake: FakeGitHub) -> list[str]:
    return [str(r) for r in fake.requests if r.method != "GET"]


def test_help_from_the_owner_is_answered(
    pr: dict[str, Any],
    fake_github: FakeGitHub,
    action_env: dict[str, Path],
    cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
    git_repo: GitRepo,
) -> None:
    comment_event(action_env, monkeypatch, pr, "/tokyo help", OWNER_USER, association="OWNER")
    code, out, err = cli("review", str(git_repo.root), "--github", "--offline", "-q")
    assert code == 0, err
    assert fake_github.log() == [f"GET {P}/pulls/{NUMBER}", f"POST {P}/issues/{NUMBER}/comments"]
    reply = fake_github.pull(NUMBER).issue_comments[-1]["body"]
    assert "**tokyo commands**" in reply and "/tokyo dismiss <reason>" in reply
    assert outputs(action_env["output"])["status"] == "skipped"


@pytest.mark.parametrize("body", ["/tokyo help", "/tokyo review", "/tokyo dismiss not a bug"])
def test_a_user_without_write_access_gets_nothing(
    pr: dict[str, Any],
    fake_github: FakeGitHub,
    action_env: dict[str, Path],
    cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
    git_repo: GitRepo,
    body: str,
) -> None:
    fake_github.permissions["mallory"] = "read"
    reply_to = pr["ours"]["id"] if "dismiss" in body else None
    comment_event(action_env, monkeypatch, pr, body, HUMAN, association="CONTRIBUTOR", reply_to=reply_to)
    summary_before = pr["summary"]["body"]
    code, out, err = cli("review", str(git_repo.root), "--github", "--offline", "-q")
    assert code == 0, err
    assert writes(fake_github) == []  # no reply, no edit, no review
    assert f"GET {P}/collaborators/mallory/permission" in fake_github.log()
    assert "ignored: only users with write access" in out
    assert fake_github.pull(NUMBER).issue_comments[0]["body"] == summary_before
    assert len(fake_github.pull(NUMBER).review_comments) == 1


def test_a_bot_cannot_command_even_as_owner(
    pr: dict[str, Any],
    fake_github: FakeGitHub,
    action_env: dict[str, Path],
    cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
    git_repo: GitRepo,
) -> None:
    comment_event(action_env, monkeypatch, pr, "/tokyo help", BOT, association="OWNER")
    code, out, _ = cli("review", str(git_repo.root), "--github", "--offline", "-q")
    assert code == 0 and writes(fake_github) == [] and "ignored" in out


def test_dismiss_reply_from_a_writer_is_recorded_on_the_pull_request(
    pr: dict[str, Any],
    fake_github: FakeGitHub,
    action_env: dict[str, Path],
    cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
    git_repo: GitRepo,
) -> None:
    fake_github.permissions["wendy"] = "write"
    comment_event(
        action_env,
        monkeypatch,
        pr,
        "/tokyo dismiss the input is a constant",
        WRITER,
        association="COLLABORATOR",
        reply_to=pr["ours"]["id"],
    )
    code, out, err = cli("review", str(git_repo.root), "--github", "--offline", "-q")
    assert code == 0, err
    assert writes(fake_github) == [
        f"PATCH {P}/issues/comments/{pr['summary']['id']}",
        f"POST {P}/pulls/{NUMBER}/comments/{pr['ours']['id']}/replies",
    ]
    summary = fake_github.pull(NUMBER).issue_comments[0]["body"]
    assert f"<!-- tokyo:decision {FP} dismissed wendy 9001 the%20input%20is%20a%20constant -->" in summary
    assert summary.count("<!-- tokyo:state 1 head") == 1  # state kept, not duplicated
    reply = fake_github.pull(NUMBER).review_comments[-1]
    assert reply["in_reply_to_id"] == pr["ours"]["id"] and "dismissed" in reply["body"]
    assert f"/tokyo dismiss by wendy recorded for {FP}" in out


def test_accept_reply_from_a_writer(
    pr: dict[str, Any],
    fake_github: FakeGitHub,
    action_env: dict[str, Path],
    cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
    git_repo: GitRepo,
) -> None:
    fake_github.permissions["wendy"] = "admin"
    comment_event(action_env, monkeypatch, pr, "/tokyo accept", WRITER, association="MEMBER", reply_to=pr["ours"]["id"])
    code, _, err = cli("review", str(git_repo.root), "--github", "--offline", "-q")
    assert code == 0, err
    summary = fake_github.pull(NUMBER).issue_comments[0]["body"]
    assert f"<!-- tokyo:decision {FP} accepted wendy 9001  -->" in summary
    assert "accepted" in fake_github.pull(NUMBER).review_comments[-1]["body"]


@pytest.mark.parametrize(
    ("body", "reply_to", "answer"),
    [
        ("/tokyo dismiss", "ours", "A dismissal needs a reason"),
        ("/tokyo dismiss false positive", None, "works as a reply to one of tokyo's inline comments"),
        ("/tokyo accept", "theirs", "works only as a reply to one of tokyo's inline comments"),
    ],
)
def test_misused_decisions_get_a_reply_and_change_nothing(
    pr: dict[str, Any],
    fake_github: FakeGitHub,
    action_env: dict[str, Path],
    cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
    git_repo: GitRepo,
    body: str,
    reply_to: str | None,
    answer: str,
) -> None:
    theirs = fake_github.add_review_comment(NUMBER, "a human note", HUMAN, "src/app/server.py", 18)
    target = {"ours": pr["ours"]["id"], "theirs": theirs["id"], None: None}[reply_to]
    comment_event(action_env, monkeypatch, pr, body, OWNER_USER, association="OWNER", reply_to=target)
    code, _, err = cli("review", str(git_repo.root), "--github", "--offline", "-q")
    assert code == 0, err
    assert not any(w.startswith("PATCH") for w in writes(fake_github))
    answers = [c["body"] for c in fake_github.pull(NUMBER).issue_comments[1:]] + [
        c["body"] for c in fake_github.pull(NUMBER).review_comments if c["user"] == BOT
    ][1:]
    assert len(answers) == 1 and answer in answers[0]
    assert "tokyo:decision" not in fake_github.pull(NUMBER).issue_comments[0]["body"]


def test_review_command_reviews_the_whole_pull_request_again(
    pr: dict[str, Any],
    fake_github: FakeGitHub,
    action_env: dict[str, Path],
    cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
    git_repo: GitRepo,
) -> None:
    comment_event(action_env, monkeypatch, pr, "/tokyo review", OWNER_USER, association="OWNER")
    code, out, err = cli("review", str(git_repo.root), "--github", "--offline", "-q")
    assert code == 1, err  # bandit's shell=True (high) at the default fail_on
    log = fake_github.log()
    assert log[0] == f"GET {P}/pulls/{NUMBER}"
    assert f"POST {P}/pulls/{NUMBER}/reviews" in log  # the offline findings are new fingerprints
    assert log[-1] == f"PATCH {P}/issues/comments/{pr['summary']['id']}"
    summary = fake_github.pull(NUMBER).issue_comments[0]["body"]
    assert "/tokyo review: reviewing the whole pull request again" in summary
    assert outputs(action_env["output"])["posted"] == "true"


def test_a_comment_that_is_no_command_does_nothing(
    pr: dict[str, Any],
    fake_github: FakeGitHub,
    action_env: dict[str, Path],
    cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
    git_repo: GitRepo,
) -> None:
    comment_event(action_env, monkeypatch, pr, "thanks, tokyo", OWNER_USER, association="OWNER")
    code, out, _ = cli("review", str(git_repo.root), "--github", "--offline", "-q")
    assert code == 0 and writes(fake_github) == [] and "not a /tokyo command" in out


def test_a_comment_on_an_issue_is_a_one_line_error(
    action_env: dict[str, Path],
    cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
    git_repo: GitRepo,
    fake_github: FakeGitHub,
) -> None:
    git_repo.write("a.py", "x = 1\n")
    git_repo.commit("base")
    monkeypatch.setenv("GITHUB_EVENT_NAME", "issue_comment")
    action_env["event"].write_text(
        json.dumps(
            {
                "action": "created",
                "issue": {"number": 3},
                "repository": {"full_name": f"{OWNER}/{REPO}"},
                "comment": {"id": 1, "body": "/tokyo review", "user": OWNER_USER, "author_association": "OWNER"},
            }
        )
    )
    code, _, err = cli("review", str(git_repo.root), "--github", "--offline", "-q")
    assert code == 2 and "on an issue, not a pull request" in err and len(err.strip().splitlines()) == 1
    assert fake_github.requests == []
