"""End to end: `tokyo review --github` on a real repository, a pull_request event, the fake
model provider and the fake GitHub API (tests/fakes/github.py), two pushes.

The fake GitHub server checks every request's method, path, headers and JSON body against
GitHub's documented shapes and refuses, like GitHub, a review comment off the diff.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from fakes.github import TOKEN, FakeGitHub, files_from_git, patch_hunks
from fakes.gitrepo import GitRepo
from fakes.provider import FakeProvider

OWNER, REPO, NUMBER = "acme", "widgets", 7
SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"

BASE_SERVER = """import hmac
import subprocess

TIMEOUT = 30
RETRIES = 3
BACKOFF = 2.0
USER_AGENT = "widgets"


def ping(host):
    return subprocess.run(["ping", "-c", "1", host], check=False)
"""
HEAD1_SERVER = (
    BASE_SERVER
    + '''

def run(cmd):
    """Run a shell command."""
    return subprocess.call(cmd, shell=True)


def check(token, expected):
    if token == expected:
        return True
    return False
'''
)
# Second push: a module docstring shifts every line down by two, and a new function arrives.
HEAD2_SERVER = (
    '"""Server helpers."""\n\n'
    + HEAD1_SERVER
    + """

def load(path):
    return eval(open(path).read())
"""
)
DOC_BASE = "# Guide\n\nRun the server.\n"
DOC_HEAD = DOC_BASE + "\nUse `run()` to run any command.\n"

RunCli = Callable[..., tuple[int, str, str]]  # the `cli` fixture (conftest.py)


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def finding(path: str, line: int, severity: str, title: str, **extra: Any) -> dict[str, Any]:
    return {
        "path": path,
        "line": line,
        "severity": severity,
        "category": extra.pop("category", "security"),
        "title": title,
        "body": f"Why: {title}.",
        **extra,
    }


def script(fp: FakeProvider, server: str, *, second_push: bool) -> None:
    """The team's answers for a push (line numbers follow the pushed content)."""
    fp.reset()
    fp.script("Other agents reviewed the change", {"summary": "Fix the shell call first.", "findings": []})
    shell = line_of(server, "shell=True")
    cmp_start, cmp_end = line_of(server, "if token == expected"), line_of(server, "return True")
    akira = [
        finding("src/app/server.py", shell, "critical", "Shell injection through shell=True"),
        finding(
            "src/app/server.py",
            cmp_start,
            "medium",
            "Token compared with == (timing attack)",
            end_line=cmp_end,
            suggestion="    if hmac.compare_digest(token, expected):\n        return True",
        ),
        # An unchanged line outside every hunk: demoted to file level, so it goes in the review body.
        finding("src/app/server.py", line_of(server, "RETRIES = 3"), "low", "RETRIES is never used"),
    ]
    if second_push:
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


def event(path: Path, *, action: str, base: str, head: str, fork: bool = False) -> Path:
    head_repo = "mallory/widgets" if fork else f"{OWNER}/{REPO}"
    path.write_text(
        json.dumps(
            {
                "action": action,
                "number": NUMBER,
                "pull_request": {
                    "number": NUMBER,
                    "draft": False,
                    "title": "Add run() <script>",
                    "state": "open",
                    "base": {"sha": base, "ref": "main", "repo": {"full_name": f"{OWNER}/{REPO}"}},
                    "head": {"sha": head, "ref": "feature", "repo": {"full_name": head_repo}},
                },
                "repository": {"full_name": f"{OWNER}/{REPO}"},
            }
        ),
        encoding="utf-8",
    )
    return path


@pytest.fixture
def action_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_github: FakeGitHub) -> dict[str, Path]:
    """A GitHub Actions environment pointing at the fake API (every GITHUB_* tokyo reads)."""
    files = {"event": tmp_path / "event.json", "summary": tmp_path / "summary.md", "output": tmp_path / "output.txt"}
    for name, value in {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(files["event"]),
        "GITHUB_API_URL": fake_github.url,
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": f"{OWNER}/{REPO}",
        "GITHUB_RUN_ID": "4242",
        "GITHUB_STEP_SUMMARY": str(files["summary"]),
        "GITHUB_OUTPUT": str(files["output"]),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    monkeypatch.delenv("TOKYO_GITHUB_LOGIN", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-real")
    return files


def outputs(path: Path) -> dict[str, str]:
    """Parse GITHUB_OUTPUT's ``name<<DELIM`` blocks (the last value of a name wins)."""
    found: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        name, delim = lines[i].split("<<", 1)
        end = lines.index(delim, i + 1)
        found[name] = "\n".join(lines[i + 1 : end])
        i = end + 1
    return found


def diff_anchors(root: Path, base: str, head: str) -> dict[str, list[set[int]]]:
    return {f["filename"]: patch_hunks(f.get("patch")) for f in files_from_git(root, base, head)}


def test_pull_request_review_two_pushes(
    git_repo: GitRepo,
    fake_provider: FakeProvider,
    fake_github: FakeGitHub,
    action_env: dict[str, Path],
    cli: RunCli,
    tmp_path: Path,
) -> None:
    git_repo.write("src/app/server.py", BASE_SERVER)
    git_repo.write("docs/guide.md", DOC_BASE)
    base = git_repo.commit("base")
    git_repo.checkout_branch("feature")
    git_repo.write("src/app/server.py", HEAD1_SERVER)
    git_repo.write("docs/guide.md", DOC_HEAD)
    head1 = git_repo.commit("add run() and check()")
    fake_github.set_pull(NUMBER, head1, files_from_git(git_repo.root, base, head1))
    fake_github.max_per_page = 2  # forces Link-header pagination on the second push
    event(action_env["event"], action="opened", base=base, head=head1)
    script(fake_provider, HEAD1_SERVER, second_push=False)
    sarif = tmp_path / "tokyo.sarif"

    code, out, err = cli(
        "review",
        str(git_repo.root),
        "--github",
        "--api-base",
        fake_provider.url,
        "--format",
        "sarif",
        "--output",
        str(sarif),
        "-q",
    )

    assert code == 1, err  # a critical finding, at the default fail_on (high)
    assert fake_github.violations == []
    first = fake_github.log()
    assert first == [  # the state first (review comments, summary comment), then the post
        f"GET /repos/{OWNER}/{REPO}/pulls/{NUMBER}/comments?per_page=100",
        f"GET /repos/{OWNER}/{REPO}/issues/{NUMBER}/comments?per_page=100",
        f"GET /repos/{OWNER}/{REPO}/pulls/{NUMBER}/reviews?per_page=100",
        f"POST /repos/{OWNER}/{REPO}/pulls/{NUMBER}/reviews",
        f"POST /repos/{OWNER}/{REPO}/issues/{NUMBER}/comments",
    ]
    pull = fake_github.pull(NUMBER)
    (review,) = [r.body for r in fake_github.requests if r.method == "POST" and r.path.endswith("/reviews")]
    assert review["event"] == "COMMENT" and review["commit_id"] == head1
    anchors = diff_anchors(git_repo.root, base, head1)
    comments = review["comments"]
    for c in comments:  # every inline comment is inside the diff, start and end in one hunk
        assert c["side"] == "RIGHT"
        assert any(c["line"] in h and c.get("start_line", c["line"]) in h for h in anchors[c["path"]]), c
    by_line = {(c["path"], c["line"]): c for c in comments}
    shell = by_line[("src/app/server.py", line_of(HEAD1_SERVER, "shell=True"))]
    assert "Shell injection" in shell["body"] and "<!-- tokyo:fp=" in shell["body"]
    multi = by_line[("src/app/server.py", line_of(HEAD1_SERVER, "return True"))]
    assert multi["start_line"] == line_of(HEAD1_SERVER, "if token == expected")
    assert multi["start_side"] == "RIGHT"
    assert "```suggestion\n    if hmac.compare_digest(token, expected):\n        return True\n```" in multi["body"]
    assert ("docs/guide.md", line_of(DOC_HEAD, "Use `run()`")) in by_line
    # Unanchorable finding: in the body, with its marker, never as a comment.
    assert "RETRIES is never used" in review["body"] and "Not on a changed line" in review["body"]
    assert not any("RETRIES is never used" in c["body"] for c in comments)
    (summary,) = pull.issue_comments
    assert summary["body"].startswith("<!-- tokyo:summary -->")
    assert "| Akira |" in summary["body"] and "Cost" in summary["body"] and "Coverage" in summary["body"]

    doc = json.loads(sarif.read_text(encoding="utf-8"))
    assert not list(jsonschema.Draft4Validator(json.loads(SCHEMA.read_text())).iter_errors(doc))
    assert len(doc["runs"][0]["results"]) >= len(comments)
    assert "tokyo review" in action_env["summary"].read_text(encoding="utf-8")  # job summary: Markdown
    outs = outputs(action_env["output"])
    action = yaml.safe_load((Path(__file__).parent.parent / "action.yml").read_text(encoding="utf-8"))
    wired = {
        v["value"].split("steps.review.outputs.")[1].split(" ")[0]
        for v in action["outputs"].values()
        if "steps.review.outputs." in v["value"]
    }
    assert wired <= set(outs)  # every output action.yml exposes is one tokyo writes
    assert outs["posted"] == "true" and int(outs["run-id"]) >= 1 and int(outs["critical"]) == 1
    assert outs["review-url"].startswith("https://github.com/")
    assert "::stop-commands::" in out and "::notice title=tokyo::Posted a review" in out

    # --- second push: lines shift, one new finding --------------------------------------------
    git_repo.write("src/app/server.py", HEAD2_SERVER)
    head2 = git_repo.commit("add load()")
    fake_github.set_pull(NUMBER, head2, files_from_git(git_repo.root, base, head2))
    event(action_env["event"], action="synchronize", base=base, head=head2)
    script(fake_provider, HEAD2_SERVER, second_push=True)
    before = len(fake_github.requests)

    code, out, err = cli(
        "review",
        str(git_repo.root),
        "--github",
        "--api-base",
        fake_provider.url,
        "--format",
        "sarif",
        "--output",
        str(sarif),
        "-q",
    )

    assert code == 1, err
    assert fake_github.violations == []
    second = fake_github.log()[before:]
    pages = -(-len(comments) // 2)
    summary_id = summary["id"]
    assert second == (
        [f"GET /repos/{OWNER}/{REPO}/pulls/{NUMBER}/comments?per_page=100"]
        + [f"GET /repos/{OWNER}/{REPO}/pulls/{NUMBER}/comments?page={p}&per_page=100" for p in range(2, pages + 1)]
        + [
            f"GET /repos/{OWNER}/{REPO}/issues/{NUMBER}/comments?per_page=100",
            "POST /graphql",  # which of tokyo's review threads are resolved
            f"GET /repos/{OWNER}/{REPO}/pulls/{NUMBER}/reviews?per_page=100",
            f"POST /repos/{OWNER}/{REPO}/pulls/{NUMBER}/reviews",
            f"PATCH /repos/{OWNER}/{REPO}/issues/comments/{summary_id}",
        ]
    )

    def fp(body: str) -> str:
        return re.search(r"tokyo:fp=([0-9a-f]{16})", body).group(1)  # type: ignore[union-attr]

    new_review = fake_github.requests[-2].body
    new = new_review["comments"]
    assert line_of(HEAD2_SERVER, "eval(") in [c["line"] for c in new]
    # Only what the second push added is commented on; nothing from the first review again.
    added = range(line_of(HEAD2_SERVER, "def load"), line_of(HEAD2_SERVER, "eval(") + 1)
    assert all(c["path"] == "src/app/server.py" and c["line"] in added for c in new), new
    assert not {fp(c["body"]) for c in comments} & {fp(c["body"]) for c in new}
    assert "RETRIES is never used" not in new_review["body"]  # listed last time
    fps = [fp(c["body"]) for c in pull.review_comments]
    assert len(fps) == len(set(fps)) == len(comments) + len(new)  # no duplicate inline comment
    assert len(pull.reviews) == 2 and len(pull.issue_comments) == 1  # summary edited, not duplicated
    sticky = pull.issue_comments[0]["body"]
    noun = "comment" if len(new) == 1 else "comments"
    assert f"**This push:** {len(new)} new inline {noun}, " in sticky
    # The state in the summary made this an incremental review of the one new commit.
    assert f"incremental review: only the 1 commit pushed since the last reviewed head {head1[:7]}" in sticky
    assert head2[:7] in sticky and "Fix the shell call first." in sticky
    print("\n".join(first + second))  # the closing note quotes this list


def test_fork_pull_request_posts_nothing_and_still_reports(
    git_repo: GitRepo,
    fake_github: FakeGitHub,
    action_env: dict[str, Path],
    cli: RunCli,
    tmp_path: Path,
) -> None:
    git_repo.write("src/app/server.py", BASE_SERVER)
    base = git_repo.commit("base")
    git_repo.checkout_branch("feature")
    git_repo.write("src/app/server.py", HEAD1_SERVER)
    head = git_repo.commit("fork change")
    event(action_env["event"], action="opened", base=base, head=head, fork=True)
    sarif = tmp_path / "fork.sarif"

    code, out, err = cli(
        "review", str(git_repo.root), "--github", "--offline", "--format", "sarif", "-o", str(sarif), "-q"
    )

    assert fake_github.requests == []  # no post attempted, not even a read
    assert code == 1, err  # bandit's B602 (high) at fail_on high: the exit code follows fail-on
    assert "::notice title=tokyo::No review posted: this pull request comes from a fork (mallory/widgets)" in out
    assert json.loads(sarif.read_text())["runs"][0]["results"]
    assert "## tokyo review" in action_env["summary"].read_text()
    assert outputs(action_env["output"])["posted"] == "false"

    code, out, _ = cli(
        "review",
        str(git_repo.root),
        "--github",
        "--offline",
        "--fail-on",
        "critical",
        "-f",
        "sarif",
        "-o",
        str(sarif),
        "-q",
    )
    assert code == 0  # below fail-on: green, still no post
    assert fake_github.requests == []


def test_merge_commit_checkout_reviews_the_head_commit(
    git_repo: GitRepo,
    fake_github: FakeGitHub,
    action_env: dict[str, Path],
    cli: RunCli,
) -> None:
    git_repo.write("src/app/server.py", BASE_SERVER)
    git_repo.write("README.md", "readme\n")
    base = git_repo.commit("base")
    git_repo.checkout_branch("feature")
    git_repo.write("src/app/server.py", HEAD1_SERVER)
    head = git_repo.commit("feature")
    git_repo.checkout_branch("main", create=False)
    git_repo.write("README.md", "readme, moved on\n")
    git_repo.commit("main moves on")
    git_repo.git("merge", "-q", "--no-ff", "-m", "merge", "feature")  # like refs/pull/N/merge
    fake_github.set_pull(NUMBER, head, files_from_git(git_repo.root, base, head))
    event(action_env["event"], action="opened", base=base, head=head)

    code, out, err = cli("review", str(git_repo.root), "--github", "--offline", "-f", "json", "-q")

    report = json.loads(out[out.index("{") : out.rindex("}") + 1])
    assert report["run"]["head_sha"] == head and report["run"]["base_sha"] == base
    # README's change on main is not part of the pull request.
    assert [f["path"] for f in report["files"]] == ["src/app/server.py"]
    assert "is not the pull request's head" in json.dumps(report)
    assert fake_github.violations == [] and code == 1
    review = next(r.body for r in fake_github.requests if r.method == "POST" and r.path.endswith("/reviews"))
    assert review["commit_id"] == head


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (None, "GITHUB_EVENT_PATH"),
        ("not json", "is not JSON"),
        ({"ref": "refs/heads/main"}, "has no pull_request object"),
        ({"pull_request": {"number": 1, "base": {"sha": "x"}, "head": {}}}, "malformed pull_request event"),
    ],
)
def test_bad_events_are_one_line_errors(
    git_repo: GitRepo,
    action_env: dict[str, Path],
    cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
    payload: Any,
    message: str,
) -> None:
    git_repo.write("a.py", "x = 1\n")
    git_repo.commit("base")
    if payload is None:
        monkeypatch.delenv("GITHUB_EVENT_PATH")
    else:
        action_env["event"].write_text(payload if isinstance(payload, str) else json.dumps(payload))
    code, _, err = cli("review", str(git_repo.root), "--github", "--offline", "-q")
    assert code == 2 and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_closed_and_draft_events_are_skipped(
    git_repo: GitRepo,
    fake_github: FakeGitHub,
    action_env: dict[str, Path],
    cli: RunCli,
) -> None:
    git_repo.write("a.py", "x = 1\n")
    base = git_repo.commit("base")
    event(action_env["event"], action="closed", base=base, head=base)
    code, out, _ = cli("review", str(git_repo.root), "--github", "--offline", "-q")
    assert code == 0 and "Nothing to review: pull_request action 'closed'" in out
    data = json.loads(action_env["event"].read_text())
    data["action"], data["pull_request"]["draft"] = "opened", True
    action_env["event"].write_text(json.dumps(data))
    code, out, _ = cli("review", str(git_repo.root), "--github", "--offline", "-q")
    assert code == 0 and "the pull request is a draft" in out
    assert fake_github.requests == []


def test_shallow_clone_without_the_base_commit(
    git_repo: GitRepo,
    action_env: dict[str, Path],
    cli: RunCli,
) -> None:
    git_repo.write("a.py", "x = 1\n")
    head = git_repo.commit("only")
    event(action_env["event"], action="opened", base="f" * 40, head=head)
    code, _, err = cli("review", str(git_repo.root), "--github", "--offline", "-q")
    assert code == 2 and "base commit fffffff is not in this clone" in err and "fetch-depth: 0" in err


def test_a_failed_post_keeps_the_run(
    git_repo: GitRepo,
    fake_github: FakeGitHub,
    action_env: dict[str, Path],
    cli: RunCli,
) -> None:
    git_repo.write("src/app/server.py", BASE_SERVER)
    base = git_repo.commit("base")
    git_repo.checkout_branch("feature")
    git_repo.write("src/app/server.py", HEAD1_SERVER)
    head = git_repo.commit("feature")
    fake_github.set_pull(NUMBER, head, files_from_git(git_repo.root, base, head))
    event(action_env["event"], action="opened", base=base, head=head)
    fake_github.fail("POST", r"/reviews$", 500, {"message": "Server Error"})

    code, out, err = cli("review", str(git_repo.root), "--github", "--offline", "-q")

    assert code == 4, err  # the result did not reach the pull request (README, "Exit codes")
    assert "::error title=tokyo::Posting to the pull request failed: GitHub API: POST" in out
    assert "The run is saved (run 1)" in out
    assert outputs(action_env["output"])["status"] == "completed"
    assert "shell=True" in out  # the report is in the job log
    assert "## tokyo review" in action_env["summary"].read_text()  # and in the job summary
    # The summary comment still went up, and says the review could not be posted.
    assert "could not be posted" in fake_github.pull(NUMBER).issue_comments[0]["body"]
    code, history, _ = cli("history", "--json")
    assert code == 0 and len(json.loads(history)) == 1  # and the run is in history


def test_a_provider_outage_with_analyzer_findings_fails_on_them_as_a_partial_run(
    git_repo: GitRepo,
    fake_github: FakeGitHub,
    action_env: dict[str, Path],
    cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import socket

    with socket.socket() as s:  # a 127.0.0.1 port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    monkeypatch.setenv("TOKYO_RETRIES", "0")
    git_repo.write("src/app/server.py", BASE_SERVER)
    base = git_repo.commit("base")
    git_repo.checkout_branch("feature")
    git_repo.write("src/app/server.py", HEAD1_SERVER)
    head = git_repo.commit("fork change")
    event(action_env["event"], action="opened", base=base, head=head, fork=True)  # nothing is posted

    code, out, err = cli("review", str(git_repo.root), "--github", "--api-base", dead, "-w", "security", "-q")
    assert code == 1, err  # bandit's B602 (high) at fail-on high, though no model answered
    found = outputs(action_env["output"])
    assert (found["status"], found["blocking"]) == ("partial", "1")
    code, _, _ = cli(
        "review", str(git_repo.root), "--github", "--api-base", dead, "-w", "security", "-q", "--fail-on", "critical"
    )
    assert code == 0 and outputs(action_env["output"])["status"] == "partial"
