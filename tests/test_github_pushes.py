"""End to end: the pull request is tokyo's durable store. Three pushes to one pull request
whose base moves, then a force-push, each run from a fresh history database (as on a hosted
runner), against the fake GitHub API (tests/fakes/github.py) and the fake provider.

1. full review;
2. only the new commit is reviewed, nothing posted twice;
   between 2 and 3 the owner replies ``/tokyo dismiss <reason>`` to an inline comment, and a
   reader without write access tries the same on another one;
3. the dismissed finding stays silent (and is in the fresh ledger), the summary shows the
   decision, the reader's reply is ignored;
4. a force-push: the whole pull request is reviewed again, with a notice, still no repeats.

Run with ``-s`` to see the request log of all four runs.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from fakes.github import HUMAN, FakeGitHub, files_from_git
from fakes.gitrepo import GitRepo
from fakes.provider import FakeProvider
from test_github_e2e import (  # noqa: F401 - action_env is a fixture
    BASE_SERVER,
    DOC_BASE,
    DOC_HEAD,
    HEAD1_SERVER,
    HEAD2_SERVER,
    NUMBER,
    action_env,
    event,
    finding,
    line_of,
)

RunCli = Callable[..., tuple[int, str, str]]
# Third push: a line is added inside load(), right above the eval() line (unchanged text).
HEAD3_SERVER = HEAD2_SERVER.replace("def load(path):\n", "def load(path):\n    path = str(path)\n")
OWNER_USER = {"login": "octo-owner", "id": 2002, "node_id": "MDQ6VXNlcjIwMDI=", "type": "User", "site_admin": False}
_FP = re.compile(r"tokyo:fp=([0-9a-f]{16})")


def script(fp: FakeProvider, server: str) -> None:
    """The team's answers for one push: every finding the server text has, at its lines."""
    fp.reset()
    fp.script("Other agents reviewed the change", {"summary": "Fix the shell call first.", "findings": []})
    akira = []
    if "shell=True" in server:
        akira.append(
            finding(
                "src/app/server.py", line_of(server, "shell=True"), "critical", "Shell injection through shell=True"
            )
        )
    if "eval(" in server:
        akira.append(finding("src/app/server.py", line_of(server, "eval("), "high", "eval() on file contents"))
    fp.script("You are Akira", {"findings": akira, "summary": "Akira."})
    fp.script(
        "You are Sakura",
        {
            "findings": [
                finding(
                    "docs/guide.md",
                    line_of(DOC_HEAD, "Use `run()`"),
                    "medium",
                    "Say that run() uses a shell",
                    category="docs",
                )
            ],
            "summary": "Sakura.",
        },
    )


def fps(body: str) -> set[str]:
    return set(_FP.findall(body))


def test_three_pushes_and_a_force_push_from_fresh_databases(
    git_repo: GitRepo,
    fake_provider: FakeProvider,
    fake_github: FakeGitHub,
    action_env: dict[str, Path],
    cli: RunCli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log: list[str] = []

    def push(n: int, base: str, head: str, server: str, action: str = "synchronize") -> tuple[int, str, str]:
        home = tmp_path / f"runner-{n}"  # a fresh runner: empty history database
        monkeypatch.setenv("TOKYO_HOME", str(home))
        fake_github.set_pull(NUMBER, head, files_from_git(git_repo.root, base, head))
        event(action_env["event"], action=action, base=base, head=head)
        script(fake_provider, server)
        before = len(fake_github.requests)
        result = cli("review", str(git_repo.root), "--github", "--api-base", fake_provider.url, "-q")
        log.append(f"--- push {n}")
        log.extend(fake_github.log()[before:])
        assert fake_github.violations == []
        return result

    pull = fake_github.pull(NUMBER)
    git_repo.write("src/app/server.py", BASE_SERVER)
    git_repo.write("docs/guide.md", DOC_BASE)
    base1 = git_repo.commit("base")
    git_repo.checkout_branch("feature")
    git_repo.write("src/app/server.py", HEAD1_SERVER)
    git_repo.write("docs/guide.md", DOC_HEAD)
    head1 = git_repo.commit("add run() and check()")

    # --- push 1: full review ------------------------------------------------------------------
    code, out, err = push(1, base1, head1, HEAD1_SERVER, action="opened")
    assert code == 1, err
    first = {c["id"]: c for c in pull.review_comments}
    assert len(pull.reviews) == 1 and len(first) >= 2
    summary = pull.issue_comments[0]["body"]
    assert "<!-- tokyo:state 1 head " + head1 in summary and "incremental" not in summary

    # --- push 2: the base moves on, one new commit on the branch ------------------------------
    git_repo.checkout_branch("main", create=False)
    git_repo.write("NOTES.md", "main moves on\n")
    base2 = git_repo.commit("main moves on")
    git_repo.checkout_branch("feature", create=False)
    git_repo.write("src/app/server.py", HEAD2_SERVER)
    head2 = git_repo.commit("add load()")
    code, out, err = push(2, base2, head2, HEAD2_SERVER)
    assert code == 1, err
    assert len(pull.reviews) == 2
    second = [c for c in pull.review_comments if c["id"] not in first]
    assert [c["line"] for c in second] == [line_of(HEAD2_SERVER, "eval(")]  # only the new commit's finding
    all_fps = [fp for c in pull.review_comments for fp in fps(c["body"])]
    assert len(all_fps) == len(set(all_fps))  # nothing posted twice
    summary = pull.issue_comments[0]["body"]
    assert "incremental review: only the 1 commit pushed since the last reviewed head " + head1[:7] in summary
    assert len(pull.issue_comments) == 1  # edited in place

    # --- between 2 and 3: replies on GitHub ---------------------------------------------------
    (eval_comment,) = second
    (eval_fp,) = fps(eval_comment["body"])
    shell_comment = next(c for c in first.values() if "Shell injection" in c["body"])
    fake_github.add_review_comment(
        NUMBER,
        "/tokyo dismiss only loads our own fixtures",
        OWNER_USER,
        in_reply_to=eval_comment["id"],
        association="OWNER",
    )
    fake_github.add_review_comment(
        NUMBER, "/tokyo dismiss I do not like it", HUMAN, in_reply_to=shell_comment["id"], association="CONTRIBUTOR"
    )

    # --- push 3: the dismissed finding is found again, and stays silent -----------------------
    git_repo.write("src/app/server.py", HEAD3_SERVER)
    head3 = git_repo.commit("load(): accept paths")
    code, out, err = push(3, base2, head3, HEAD3_SERVER)
    assert len(pull.reviews) == 2  # nothing new to post: no review at all
    assert not any(eval_fp in fps(c["body"]) for c in pull.review_comments if c["id"] != eval_comment["id"])
    summary = pull.issue_comments[0]["body"]
    assert f"`{eval_fp}` dismissed by `octo-owner`: only loads our own fixtures" in summary
    assert "/tokyo dismiss from mallory ignored: no write access" in summary
    db = sqlite3.connect(tmp_path / "runner-3" / "history.db")
    status, reason, who = db.execute(
        "SELECT status, reason, decided_by FROM ledger WHERE fingerprint = ?", [eval_fp]
    ).fetchone()
    # Found again on push 3 and kept silent, not merely not found: the run left exactly one
    # finding out for the ledger, and the only dismissed fingerprint is the eval() one.
    (suppressed,) = db.execute("SELECT suppressed FROM runs ORDER BY id DESC LIMIT 1").fetchone()
    dismissed = db.execute("SELECT fingerprint FROM ledger WHERE status = 'dismissed'").fetchall()
    stored = {fp for (fp,) in db.execute("SELECT fingerprint FROM findings WHERE scope = 'run'")}
    db.close()
    assert suppressed == 1 and dismissed == [(eval_fp,)] and eval_fp not in stored
    assert (status, reason, who) == ("dismissed", "only loads our own fixtures", "github:octo-owner")
    assert f"GET /repos/acme/widgets/collaborators/{HUMAN['login']}/permission" in log

    # --- push 4: force-push (history rewritten): a full review, with a notice -----------------
    git_repo.git("reset", "-q", "--hard", base2)
    git_repo.write("src/app/server.py", HEAD3_SERVER)
    git_repo.write("docs/guide.md", DOC_HEAD)
    head4 = git_repo.commit("everything in one commit")
    reviews_before = len(pull.reviews)
    code, out, err = push(4, base2, head4, HEAD3_SERVER)
    summary = pull.issue_comments[0]["body"]
    assert f"force-push: the last reviewed head {head3[:7]} is no longer in the pull request's history" in summary
    assert len(pull.reviews) == reviews_before  # everything was posted before or dismissed: no repeats
    all_fps = [fp for c in pull.review_comments for fp in fps(c["body"])]
    assert len(all_fps) == len(set(all_fps))
    print("\n".join(log))  # the closing note quotes this request log
