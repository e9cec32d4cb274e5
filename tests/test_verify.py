"""``task: verify`` (cross-examination), end to end: the real CLI, engine, gateway and history
against the fake provider, scripted per step (the review by matching "You are Akira", the
verify call by matching its task text)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fakes.gitrepo import GitRepo
from fakes.provider import FakeProvider, message_text

RunCli = Callable[..., tuple[int, str, str]]

APP_OLD = '''QUERY = "SELECT name FROM users"


def ratio(total, count):
    """Average of total over count.

    Callers pass the number of items seen so far,
    which is zero at start-up.
    """
    total = int(total)
    return 0


def names(db):
    return db.execute(QUERY)
'''
APP_NEW = APP_OLD.replace("    return 0\n", "    return total / count\n").replace(
    "db.execute(QUERY)\n", "db.execute(QUERY).fetchall()\n"
)
DIVIDE_LINE = APP_NEW.splitlines().index("    return total / count") + 1
QUERY_LINE = APP_NEW.splitlines().index("    return db.execute(QUERY).fetchall()") + 1
TRUE_TITLE = "Division by zero when count is 0"
FALSE_TITLE = "SQL injection through QUERY"
VERIFY_MATCH = "You are cross-examining findings"

_ROW = re.compile(
    r'"id": "(V\d+)",\s*"location": "[^"]*",\s*"severity": "[^"]*",\s*"category": "[^"]*",\s*'
    r'"title": "([^"]*)"'
)


def finding(line: int, severity: str, title: str, category: str = "correctness") -> dict[str, Any]:
    return {
        "path": "app.py",
        "line": line,
        "severity": severity,
        "category": category,
        "title": title,
        "body": f"Body of {title}.",
    }


def verdicts(by_title: dict[str, dict[str, Any]]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A verify reply that answers each finding in the request by its title."""

    def reply(body: dict[str, Any]) -> dict[str, Any]:
        rows = _ROW.findall(message_text(body))
        return {
            "verdicts": [{"id": key, **by_title[title]} for key, title in rows if title in by_title],
            "summary": "checked",
        }

    return reply


WORKFLOW = """\
name: checked
steps:
  - id: security
    agent: akira
  - id: verify
    agent: kenji
    task: verify
    depends_on: [security]
    {min_severity}
fail_on: {fail_on}
block_on: {block_on}
"""


@pytest.fixture
def project(git_repo: GitRepo) -> GitRepo:
    git_repo.write("app.py", APP_OLD)
    git_repo.commit("base")
    git_repo.write("app.py", APP_NEW)
    return git_repo


def workflow(tmp_path: Path, *, fail_on: str = "high", block_on: str = "all", min_severity: str = "") -> Path:
    path = tmp_path / "checked.yaml"
    path.write_text(
        WORKFLOW.format(
            fail_on=fail_on, block_on=block_on, min_severity=f"min_severity: {min_severity}" if min_severity else ""
        )
    )
    return path


def review(cli: RunCli, repo: GitRepo, wf: Path | str, fp: FakeProvider, *extra: str) -> tuple[int, dict[str, Any]]:
    code, out, err = cli(
        "review", str(repo.root), "-w", str(wf), "--api-base", fp.url, "--no-cache", "-f", "json", "-q", *extra
    )
    assert out, err
    return code, json.loads(out)


def test_verify_rejects_a_planted_false_positive_and_keeps_a_true_one(
    project: GitRepo, cli: RunCli, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    fake_provider.script(
        "You are Akira",
        {
            "findings": [
                finding(DIVIDE_LINE, "high", TRUE_TITLE),
                finding(QUERY_LINE, "high", FALSE_TITLE, "security"),
            ],
            "summary": "two",
        },
    )
    fake_provider.script(
        VERIFY_MATCH,
        verdicts(
            {
                TRUE_TITLE: {"verdict": "keep", "reason": "count comes from the caller unchecked"},
                FALSE_TITLE: {"verdict": "reject", "reason": "QUERY is a constant on line 1, no input reaches it"},
            }
        ),
    )
    code, report = review(cli, project, workflow(tmp_path), fake_provider)
    assert code == 1
    assert [(f["title"], f["verification"], f["verified_by"]) for f in report["findings"]] == [
        (TRUE_TITLE, "verified", "kenji")
    ]
    assert [(f["title"], f["verification"], f["verification_reason"]) for f in report["rejected"]] == [
        (FALSE_TITLE, "rejected", "QUERY is a constant on line 1, no input reaches it")
    ]
    assert report["totals"]["by_severity"]["high"] == 1 and report["totals"]["rejected"] == 1
    verify_step = next(s for s in report["steps"] if s["id"] == "verify")
    assert verify_step["status"] == "ok" and verify_step["task"] == "verify"
    # The verifier saw the whole function around each finding, not only the diff's hunk.
    review_text = message_text(next(b for b, _ in fake_provider.requests if "You are Akira" in message_text(b)))
    sent = message_text(next(b for b, _ in fake_provider.requests if VERIFY_MATCH in message_text(b)))
    assert "Average of total over count." not in review_text
    assert '"""Average of total over count.' in sent and "def names(db):" in sent

    # History keeps the rejected finding, marked, with the reason; `tokyo show` shows it apart.
    code, out, _ = cli("show", str(report["run"]["id"]), "-f", "json")
    shown = json.loads(out)
    assert [f["title"] for f in shown["rejected"]] == [FALSE_TITLE]
    assert shown["rejected"][0]["verification_reason"].startswith("QUERY is a constant")
    assert [f["title"] for f in shown["findings"]] == [TRUE_TITLE]
    code, out, _ = cli("show", str(report["run"]["id"]), "-f", "markdown")
    assert "### Rejected by verification (1)" in out and "QUERY is a constant" in out
    assert "verified by Kenji" in out


def test_block_on_verified_makes_the_exit_code_follow_only_verified_findings(
    project: GitRepo, cli: RunCli, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    # A high finding the verifier judges and a medium one below the verify step's threshold.
    fake_provider.script(
        "You are Akira",
        {
            "findings": [
                finding(DIVIDE_LINE, "high", TRUE_TITLE),
                finding(QUERY_LINE, "medium", "Unbounded fetchall", "performance"),
            ],
            "summary": "two",
        },
    )
    keep = fake_provider.script(VERIFY_MATCH, verdicts({TRUE_TITLE: {"verdict": "keep", "reason": "real"}}), times=1)
    wf = workflow(tmp_path, fail_on="medium", block_on="verified", min_severity="high")
    code, report = review(cli, project, wf, fake_provider)
    assert keep.used == 1
    assert (code, report["totals"]["blocking"], report["run"]["block_on"]) == (1, 1, "verified")

    fake_provider.script(VERIFY_MATCH, verdicts({TRUE_TITLE: {"verdict": "reject", "reason": "count is never 0"}}))
    code, report = review(cli, project, wf, fake_provider)
    # The medium finding is at fail_on but was never verified: it does not block.
    assert [f["title"] for f in report["findings"]] == ["Unbounded fetchall"]
    assert (code, report["totals"]["blocking"]) == (0, 0)
    # The same run under block_on: all blocks on it.
    code, report = review(cli, project, workflow(tmp_path, fail_on="medium", min_severity="high"), fake_provider)
    assert (code, report["totals"]["blocking"]) == (1, 1)


def test_a_verifier_that_fails_never_lets_a_finding_pass(
    project: GitRepo, cli: RunCli, fake_provider: FakeProvider, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOKYO_RETRIES", "0")
    fake_provider.script("You are Akira", {"findings": [finding(DIVIDE_LINE, "high", TRUE_TITLE)], "summary": ""})
    fake_provider.script(VERIFY_MATCH, "not json at all")  # twice: the repair retry fails too
    code, report = review(cli, project, workflow(tmp_path, block_on="verified"), fake_provider)
    step = next(s for s in report["steps"] if s["id"] == "verify")
    assert step["status"] == "failed" and [c["status"] for c in step["calls"]] == ["invalid_output"] * 2
    (only,) = report["findings"]
    assert only["verification"] == "unverified" and "failed" in only["verification_reason"]
    assert (code, report["totals"]["blocking"]) == (1, 1)


def test_an_invalid_verify_reply_is_repaired_once(
    project: GitRepo, cli: RunCli, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    fake_provider.script("You are Akira", {"findings": [finding(DIVIDE_LINE, "high", TRUE_TITLE)], "summary": ""})
    fake_provider.script(VERIFY_MATCH, '{"verdicts": "all fine"}', times=1)
    fake_provider.script(
        VERIFY_MATCH,
        verdicts(
            {
                TRUE_TITLE: {
                    "verdict": "correct",
                    "reason": "only a crash",
                    "severity": "medium",
                    "title": "Crash on count 0",
                    "line": DIVIDE_LINE,
                }
            }
        ),
    )
    code, report = review(cli, project, workflow(tmp_path), fake_provider)
    step = next(s for s in report["steps"] if s["id"] == "verify")
    assert [c["status"] for c in step["calls"]] == ["invalid_output", "ok"]
    (only,) = report["findings"]
    assert (only["verification"], only["severity"], only["title"], only["line"]) == (
        "corrected",
        "medium",
        "Crash on count 0",
        DIVIDE_LINE,
    )
    assert code == 0  # corrected to medium: below fail_on high


def test_offline_the_verify_step_marks_findings_unverified_and_they_still_block(
    project: GitRepo, cli: RunCli, tmp_path: Path
) -> None:
    project.write(
        "app.py", APP_NEW + "\n\ndef run(cmd):\n    import subprocess\n    return subprocess.call(cmd, shell=True)\n"
    )
    code, out, _ = cli(
        "review", str(project.root), "-w", str(workflow(tmp_path, block_on="verified")), "--offline", "-f", "json", "-q"
    )
    report = json.loads(out)
    verify = next(s for s in report["steps"] if s["id"] == "verify")
    assert verify["status"] == "offline"
    b602 = next(f for f in report["findings"] if f["rule"] == "bandit:B602")
    assert b602["verification"] == "unverified"
    assert code == 1


def test_the_default_review_with_verify_has_a_critical_path_of_three_calls(
    project: GitRepo, cli: RunCli, fake_provider: FakeProvider
) -> None:
    fake_provider.script("Other agents reviewed the change", {"summary": "SYNTHESIS", "duplicates": [], "findings": []})
    fake_provider.script(
        VERIFY_MATCH,
        verdicts(
            {
                TRUE_TITLE: {"verdict": "keep", "reason": "real"},
                FALSE_TITLE: {"verdict": "reject", "reason": "a constant"},
            }
        ),
    )
    fake_provider.script(
        "You are Akira",
        {
            "findings": [
                finding(DIVIDE_LINE, "high", TRUE_TITLE),
                finding(QUERY_LINE, "critical", FALSE_TITLE, "security"),
            ],
            "summary": "",
        },
    )
    code, report = review(cli, project, "review-verified", fake_provider)
    texts = [message_text(b) for b, _ in fake_provider.requests]
    kinds = [
        "verify" if VERIFY_MATCH in t else "synthesize" if "Other agents reviewed" in t else "review" for t in texts
    ]
    # Five concurrent reviews, then one verify call (one file), then the synthesis: each
    # layer waits for the one before, so the critical path is three model calls.
    assert kinds == ["review"] * 5 + ["verify", "synthesize"]
    assert FALSE_TITLE not in texts[-1] and TRUE_TITLE in texts[-1]  # the lead never sees a rejected one
    assert [f["title"] for f in report["rejected"]] == [FALSE_TITLE]
    assert report["summary"] == "SYNTHESIS" and code == 1


# --- hostile input -------------------------------------------------------------------------


def test_the_verifier_reads_the_reviewed_commit_never_the_working_tree_nor_a_symlink(
    git_repo: GitRepo, cli: RunCli, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    secret = tmp_path / "outside.txt"
    secret.write_text("OUTSIDE-CANARY\n")
    git_repo.write("app.py", APP_OLD)
    git_repo.commit("base")
    git_repo.checkout_branch("feature")
    git_repo.write("app.py", APP_NEW)
    (git_repo.root / "link.py").symlink_to(secret)
    git_repo.commit("change")
    # Uncommitted edits are not what a --base review reviews: the verifier must not see them.
    git_repo.write("app.py", APP_NEW.replace('"""Average of total over count.', '"""WORKTREE-CANARY'))
    fake_provider.script(
        "You are Akira",
        {
            "findings": [
                finding(DIVIDE_LINE, "high", TRUE_TITLE),
                {"path": "link.py", "line": 1, "severity": "high", "title": "Symlinked secret", "category": "security"},
            ],
            "summary": "",
        },
    )
    fake_provider.script(VERIFY_MATCH, verdicts({}))
    code, report = review(cli, git_repo, workflow(tmp_path), fake_provider, "--base", "main")
    sent = "\n".join(message_text(b) for b, _ in fake_provider.requests if VERIFY_MATCH in message_text(b))
    assert '"""Average of total over count.' in sent
    assert "WORKTREE-CANARY" not in sent and "OUTSIDE-CANARY" not in sent
    assert "the code of this file is not part of the change" in sent  # link.py: never read
    assert {f["verification"] for f in report["findings"]} == {"unverified"}  # no verdict given


def test_a_repository_workflow_cannot_narrow_blocking_nor_reject_findings(
    project: GitRepo, cli: RunCli, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    project.write(
        "workflows/review.yaml",
        WORKFLOW.format(fail_on="high", block_on="verified", min_severity="").replace("name: checked", "name: review"),
    )
    fake_provider.script("You are Akira", {"findings": [finding(DIVIDE_LINE, "high", TRUE_TITLE)], "summary": ""})
    fake_provider.script(VERIFY_MATCH, verdicts({TRUE_TITLE: {"verdict": "reject", "reason": "trust me"}}))
    code, out, err = cli("review", str(project.root), "--api-base", fake_provider.url, "--no-cache", "-f", "json", "-q")
    report = json.loads(out)
    assert report["run"]["block_on"] == "all"
    assert any("block_on verified ignored" in n for n in report["run"]["notices"])
    (only,) = report["findings"]
    assert only["verification"] == "unverified" and "advisory" in only["verification_reason"]
    assert report["rejected"] == [] and code == 1


# --- workflow schema -----------------------------------------------------------------------


def test_workflow_errors_for_verify(tmp_path: Path) -> None:
    from tokyo_cli.config.team import load_team
    from tokyo_cli.config.workflow import validate_workflow_file

    path = tmp_path / "w.yaml"
    path.write_text(
        "name: w\nsteps:\n  - id: a\n    agent: akira\n  - id: v\n    agent: kenji\n    task: verify\n"
        "    min_severity: severe\nblock_on: maybe\n"
    )
    errors = validate_workflow_file(path, load_team())
    assert any(e.startswith(f"{path}:5: steps[1].depends_on: a verify step needs depends_on") for e in errors), errors
    assert any(e.startswith(f"{path}:8: steps[1].min_severity:") for e in errors), errors
    assert any(e.startswith(f"{path}:9: block_on:") for e in errors), errors
    path.write_text("name: w\nsteps:\n  - id: a\n    agent: akira\nblock_on: verified\n")
    assert validate_workflow_file(path, load_team()) == [
        f"{path}:5: block_on: block_on: verified needs a step with task: verify "
        "(without one no finding is ever verified)"
    ]
