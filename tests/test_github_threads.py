"""Resolved review threads as decisions, and the optional check run, end to end against the
fake GitHub (REST checked against GitHub's OpenAPI description, GraphQL against its schema).

Threads: resolving tokyo's thread dismisses its finding when the resolver has write access;
a pull request's author without it cannot silence the review that way (GitHub lets authors
resolve threads on their own pull request); unresolving opens the finding again; a GraphQL
failure costs only the thread decisions.

Check run: created on the head commit with annotations on and off the diff, more than 50
sent in batches of 50, a conclusion that follows fail-on; a token without ``checks: write``
costs a warning, never the step's exit code.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
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
from test_github_pushes import OWNER_USER, fps, script
from tokyo_cli.findings import Finding, Severity
from tokyo_cli.github.checks import PER_REQUEST, check_run_requests
from tokyo_cli.github.client import GitHubClient
from tokyo_cli.results import RunResult

RunCli = Callable[..., tuple[int, str, str]]


class Pushes:
    """Commits on a feature branch and one ``tokyo review --github`` run per push, each from
    a fresh history database (as on a hosted runner)."""

    def __init__(
        self,
        git_repo: GitRepo,
        provider: FakeProvider,
        github: FakeGitHub,
        env: dict[str, Path],
        cli: RunCli,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        self.repo, self.provider, self.github, self.env = git_repo, provider, github, env
        self.cli, self.tmp, self.mp = cli, tmp_path, monkeypatch
        self.n = 0
        git_repo.write("src/app/server.py", BASE_SERVER)
        git_repo.write("docs/guide.md", DOC_BASE)
        self.base = git_repo.commit("base")
        git_repo.checkout_branch("feature")

    def push(self, server: str, *args: str) -> tuple[int, str, str, Path]:
        self.n += 1
        self.repo.write("src/app/server.py", server)
        self.repo.write("docs/guide.md", DOC_HEAD)
        head = self.repo.commit(f"push {self.n}")
        home = self.tmp / f"runner-{self.n}"
        self.mp.setenv("TOKYO_HOME", str(home))
        self.github.set_pull(NUMBER, head, files_from_git(self.repo.root, self.base, head))
        event(self.env["event"], action="opened" if self.n == 1 else "synchronize", base=self.base, head=head)
        script(self.provider, server)
        code, out, err = self.cli(
            "review", str(self.repo.root), "--github", "--api-base", self.provider.url, "-q", *args
        )
        return code, out, err, home / "history.db"


@pytest.fixture
def pushes(
    git_repo: GitRepo,
    fake_provider: FakeProvider,
    fake_github: FakeGitHub,
    action_env: dict[str, Path],
    cli: RunCli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Pushes:
    return Pushes(git_repo, fake_provider, fake_github, action_env, cli, tmp_path, monkeypatch)


def _ledger(db_path: Path, fp: str) -> tuple[str, str | None, str | None] | None:
    db = sqlite3.connect(db_path)
    try:
        return db.execute("SELECT status, reason, decided_by FROM ledger WHERE fingerprint = ?", [fp]).fetchone()
    finally:
        db.close()


def test_a_resolved_thread_dismisses_only_for_writers_and_unresolving_reopens(
    pushes: Pushes, fake_github: FakeGitHub
) -> None:
    pull = fake_github.pull(NUMBER)
    code, _, err, _ = pushes.push(HEAD1_SERVER)
    assert code == 1, err
    shell = next(c for c in pull.review_comments if "Shell injection" in c["body"])
    doc = next(c for c in pull.review_comments if "run() uses a shell" in c["body"])
    (shell_fp,), (doc_fp,) = fps(shell["body"]), fps(doc["body"])
    fake_github.permissions[OWNER_USER["login"]] = "write"
    fake_github.resolve_thread(NUMBER, shell["id"], OWNER_USER["login"])  # a maintainer: counts
    fake_github.resolve_thread(NUMBER, doc["id"], HUMAN["login"])  # the PR's author, read access: refused

    code, _, err, db = pushes.push(HEAD2_SERVER)
    assert fake_github.violations == []
    summary = pull.issue_comments[0]["body"]
    assert f"`{shell_fp}` dismissed by `{OWNER_USER['login']}`: review thread resolved on GitHub" in summary
    assert f"a review thread resolved by {HUMAN['login']} was not taken as a dismissal: no write access" in summary
    assert _ledger(db, shell_fp) == ("dismissed", "review thread resolved on GitHub", f"github:{OWNER_USER['login']}")
    assert _ledger(db, doc_fp) is None or _ledger(db, doc_fp)[0] == "open"  # type: ignore[index]

    fake_github.resolve_thread(NUMBER, shell["id"], None)  # unresolved again
    code, _, err, db = pushes.push(HEAD2_SERVER.replace("TIMEOUT = 30", "TIMEOUT = 31"))
    assert fake_github.violations == []
    summary = pull.issue_comments[0]["body"]
    assert f"`{shell_fp}` dismissed" not in summary
    assert "1 finding(s) dismissed by a resolved review thread are open again" in summary
    assert _ledger(db, shell_fp)[0] == "open"  # type: ignore[index]
    conn = sqlite3.connect(db)
    stored = {fp for (fp,) in conn.execute("SELECT fingerprint FROM findings WHERE scope = 'run'")}
    conn.close()
    assert shell_fp in stored  # reported again, no longer suppressed


def test_graphql_failure_keeps_replies_and_says_so(pushes: Pushes, fake_github: FakeGitHub) -> None:
    pull = fake_github.pull(NUMBER)
    pushes.push(HEAD1_SERVER)
    shell = next(c for c in pull.review_comments if "Shell injection" in c["body"])
    (shell_fp,) = fps(shell["body"])
    fake_github.add_review_comment(
        NUMBER, "/tokyo dismiss test fixture", OWNER_USER, in_reply_to=shell["id"], association="OWNER"
    )
    fake_github.fail("POST", r"^/graphql$", 502, times=10)
    code, _, err, db = pushes.push(HEAD2_SERVER)
    summary = pull.issue_comments[0]["body"]
    assert "could not read which review threads are resolved" in summary
    assert "incremental review" in summary  # the rest of the state still counts
    assert _ledger(db, shell_fp) == ("dismissed", "test fixture", f"github:{OWNER_USER['login']}")


def test_the_query_is_refused_by_the_schema_when_it_asks_for_an_unknown_field(fake_github: FakeGitHub) -> None:
    """The fake's GraphQL check can fail: a field GitHub's schema does not have is refused."""
    fake_github.set_pull(NUMBER, "a" * 40, [])
    with (
        GitHubClient(fake_github.url, "ghs_fake_token_0123456789abcdefABCDEF") as client,
        pytest.raises(Exception, match="isDone"),
    ):
        client.graphql(
            'query { repository(owner: "acme", name: "widgets") { pullRequest(number: 7) '
            "{ reviewThreads(first: 1) { nodes { isDone } } } } }",
            {},
        )
    assert any("isDone" in v for v in fake_github.violations)
    fake_github.violations.clear()


def test_threads_are_read_across_pages(fake_github: FakeGitHub) -> None:
    fake_github.set_pull(NUMBER, "a" * 40, [])
    fake_github.graphql_page_size = 2
    ids = [fake_github.add_review_comment(NUMBER, f"c{i}", HUMAN)["id"] for i in range(5)]
    fake_github.resolve_thread(NUMBER, ids[4], "octo-owner")
    with GitHubClient(fake_github.url, "ghs_fake_token_0123456789abcdefABCDEF") as client:
        threads = client.review_threads("acme", "widgets", NUMBER)
    assert [t.first_comment_id for t in threads] == ids
    assert [t.resolved_by for t in threads] == [None] * 4 + ["octo-owner"]
    assert sum(r.path == "/graphql" for r in fake_github.requests) == 3


# --- check run --------------------------------------------------------------------------------


def test_check_run_with_annotations_on_and_off_the_diff(
    pushes: Pushes, fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOKYO_CHECK_RUN", "true")
    code, out, err, _ = pushes.push(HEAD1_SERVER)
    assert code == 1, err
    assert fake_github.violations == []
    (run,) = fake_github.check_runs
    assert run["head_sha"] == fake_github.pull(NUMBER).head_sha and run["conclusion"] == "failure"
    by_line = {(a["path"], a["start_line"]): a for a in run["annotations"]}
    shell = by_line[("src/app/server.py", line_of(HEAD1_SERVER, "shell=True"))]
    assert shell["annotation_level"] == "failure" and "Shell injection" in shell["title"]
    # "RETRIES is never used" sits on an unchanged line: no inline comment, but an annotation.
    assert ("src/app/server.py", line_of(HEAD1_SERVER, "RETRIES = 3")) in by_line or all(
        "RETRIES" not in a["title"] for a in run["annotations"]
    )
    assert "Check run created with" in out


def test_check_run_forbidden_is_a_warning_not_a_failure(
    pushes: Pushes, fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOKYO_CHECK_RUN", "true")
    fake_github.fail("POST", r"/check-runs$", 403, {"message": "Resource not accessible by integration"})
    code, out, err, _ = pushes.push(HEAD1_SERVER)
    assert code == 1, err  # fail-on decides, as without a check run
    assert "No check run: the token may not write checks" in out
    assert len(fake_github.pull(NUMBER).reviews) == 1  # the review itself was posted


def _finding(i: int, severity: Severity) -> Finding:
    return Finding(
        agent="akira",
        path=f"src/m{i}.py",
        line=i + 1,
        severity=severity,
        category="security",
        title=f"finding {i}",
        body="why",
    )


def _result(findings: list[Finding]) -> RunResult:
    return RunResult(
        repo="/r",
        target="range",
        target_description="r",
        workflow="review",
        status="completed",
        started_at=datetime.now(UTC),
        findings=findings,
        fail_on=Severity.HIGH,
    )


def test_more_than_fifty_annotations_go_in_batches_the_fake_accepts(fake_github: FakeGitHub) -> None:
    result = _result([_finding(i, Severity.MEDIUM) for i in range(120)])
    create, updates = check_run_requests(result, "b" * 40)
    assert [len(u["output"]["annotations"]) for u in updates] == [50, 20]
    assert len(create["output"]["annotations"]) == PER_REQUEST and create["conclusion"] == "success"
    from tokyo_cli.github.checks import post_check_run

    with GitHubClient(fake_github.url, "ghs_fake_token_0123456789abcdefABCDEF") as client:
        made = post_check_run(client, "acme", "widgets", result, "b" * 40)
    assert made.error is None and made.annotations == 120
    assert len(fake_github.check_runs[0]["annotations"]) == 120
    assert fake_github.violations == []
    bad = {**create, "output": {**create["output"], "annotations": create["output"]["annotations"] * 2}}
    with (
        GitHubClient(fake_github.url, "ghs_fake_token_0123456789abcdefABCDEF") as client,
        pytest.raises(Exception, match="422|maxItems|too long|50"),
    ):
        client.create_check_run("acme", "widgets", bad)  # 100 in one request: GitHub refuses
    assert fake_github.violations
    fake_github.violations.clear()


def test_conclusion_follows_fail_on() -> None:
    high = _result([_finding(1, Severity.HIGH)])
    low = _result([_finding(1, Severity.LOW)])
    assert check_run_requests(high, "c" * 40)[0]["conclusion"] == "failure"
    assert check_run_requests(low, "c" * 40)[0]["conclusion"] == "success"
    assert re.search(r"1 low", check_run_requests(low, "c" * 40)[0]["output"]["summary"])
