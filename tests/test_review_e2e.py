"""End to end: `tokyo review` on real git repositories, offline and against the fake provider.

Every test drives the real CLI entry point (``tokyo_cli.cli.app.main``), a real repository
built in a tmp dir, the real engine, gateway (litellm) and history database. Provider calls
go to the fake OpenAI-compatible server on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from fakes.gitrepo import GitRepo
from fakes.provider import FakeProvider, message_text

SERVER_OLD = """import subprocess


def ping(host):
    return subprocess.run(["ping", "-c", "1", host], check=False)
"""
SERVER_NEW = (
    SERVER_OLD
    + '''

def run(cmd):
    """Run a shell command."""
    return subprocess.call(cmd, shell=True)
'''
)
SHELL_LINE = SERVER_NEW.splitlines().index("    return subprocess.call(cmd, shell=True)") + 1

MODELS_OLD = "class User:\n    pass\n"
MODELS_NEW = "class User:\n    name: str = ''\n\n\nclass Admin(User):\n    level: int = 0\n"
TEST_OLD = "def test_ping():\n    assert True\n"
TEST_NEW = "def test_ping():\n    assert True\n\n\ndef test_run():\n    pass\n"
CI_OLD = (
    "name: ci\non: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n"
)
CI_NEW = CI_OLD + "      - run: pip install -r requirements.txt\n"
DOC_OLD = "# Guide\n\nRun the server.\n"
DOC_NEW = DOC_OLD + "\nUse `run()` to run any command.\n"

RunCli = Callable[..., tuple[int, str, str]]  # the `cli` fixture (conftest.py)


@pytest.fixture
def project(git_repo: GitRepo) -> GitRepo:
    """A repository with one commit, then an uncommitted change touching every specialty."""
    git_repo.write("src/app/server.py", SERVER_OLD)
    git_repo.write("src/app/models.py", MODELS_OLD)
    git_repo.write("tests/test_server.py", TEST_OLD)
    git_repo.write(".github/workflows/ci.yml", CI_OLD)
    git_repo.write("docs/guide.md", DOC_OLD)
    git_repo.write("assets/logo.png", b"\x89PNG\r\n\x1a\n\x00\x00binary")
    git_repo.commit("base")
    git_repo.write("src/app/server.py", SERVER_NEW)
    git_repo.write("src/app/models.py", MODELS_NEW)
    git_repo.write("tests/test_server.py", TEST_NEW)
    git_repo.write(".github/workflows/ci.yml", CI_NEW)
    git_repo.write("docs/guide.md", DOC_NEW)
    git_repo.write("assets/logo.png", b"\x89PNG\r\n\x1a\n\x00\x01binary2")
    return git_repo


def finding(path: str, line: int, severity: str, title: str, category: str = "general") -> dict[str, object]:
    return {
        "path": path,
        "line": line,
        "severity": severity,
        "category": category,
        "title": title,
        "body": f"Body of {title}.",
    }


def script_team(fp: FakeProvider) -> None:
    """Scripted replies for the five reviews and the synthesis (the synthesis first: its
    prompt also says "You are Kenji")."""
    fp.script(
        "Other agents reviewed the change",
        {
            "summary": "SYNTHESIS: fix the shell injection first.",
            "duplicates": [],
            "findings": [],
        },
    )
    fp.script(
        "You are Akira",
        {
            "findings": [
                finding("src/app/server.py", SHELL_LINE, "critical", "Shell injection through shell=True", "security"),
            ],
            "summary": "Akira: one injection.",
        },
    )
    fp.script(
        "You are Yuki",
        {
            "findings": [
                finding("tests/test_server.py", 5, "medium", "test_run asserts nothing", "testing"),
            ],
            "summary": "Yuki: weak test.",
        },
    )
    fp.script(
        "You are Hiro",
        {
            "findings": [
                finding(".github/workflows/ci.yml", 8, "low", "Dependencies installed without a lock or hash", "ci"),
            ],
            "summary": "Hiro: unpinned install.",
        },
    )
    fp.script(
        "You are Sakura",
        {
            "findings": [
                finding("docs/guide.md", 5, "info", "Document that run() executes through a shell", "docs"),
            ],
            "summary": "Sakura: doc gap.",
        },
    )
    fp.script(
        "You are Kenji",
        {
            "findings": [
                finding("src/app/server.py", SHELL_LINE, "high", "Shell injection risk via shell=True", "security"),
                finding("src/app/models.py", 5, "low", "Admin inherits User without a role model", "design"),
            ],
            "summary": "Kenji: roles.",
        },
    )


def test_offline_review_finds_the_shell_injection_and_says_which_keys_are_missing(
    project: GitRepo, cli: RunCli, tmp_path: Path
) -> None:
    code, out, err = cli("review", str(project.root), "--format", "json", "--quiet")
    report = json.loads(out)
    assert code == 1, err  # bandit B602 is high: at the default fail_on
    assert report["run"]["status"] == "completed"
    assert report["run"]["target_description"].startswith("working tree")
    statuses = {s["id"]: s["status"] for s in report["steps"]}
    assert set(statuses.values()) == {"offline"}
    bandit = [f for f in report["findings"] if f["rule"] == "bandit:B602"]
    assert [(f["path"], f["line"], f["severity"]) for f in bandit] == [("src/app/server.py", SHELL_LINE, "high")]
    akira = next(s for s in report["steps"] if s["agent"] == "akira")
    assert akira["credential_env"] == ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"]
    skipped = {f["path"]: f["reason"] for f in report["files"] if not f["reviewed"]}
    assert skipped == {"assets/logo.png": "binary"}

    code, out, _ = cli("review", str(project.root), "--quiet")
    assert code == 1
    assert "set ANTHROPIC_API_KEY" in out and "set GEMINI_API_KEY" in out
    assert f"src/app/server.py:{SHELL_LINE}" in out


def test_team_review_against_the_fake_provider(
    project: GitRepo, cli: RunCli, fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-do-not-store-0123456789abcdef")
    script_team(fake_provider)
    code, out, err = cli("review", str(project.root), "--api-base", fake_provider.url, "-f", "json", "-q")
    report = json.loads(out)
    assert code == 1, err
    assert report["run"]["status"] == "completed"
    assert {s["id"]: s["status"] for s in report["steps"]} == {
        "security": "ok",
        "tests": "ok",
        "ops": "ok",
        "docs": "ok",
        "design": "ok",
        "summary": "ok",
    }
    # Five reviews concurrently, then one synthesis, each with the agent's own model.
    assert len(fake_provider.requests) == 6
    sent_models = sorted(body["model"] for body, _ in fake_provider.requests)
    assert sent_models == sorted(["claude-opus-4-5", "o3", "gpt-oss-120b", "gemini-2.5-pro", "o3", "o3"])
    where = {(f["path"], f["line"]): f for f in report["findings"]}
    shell = where[("src/app/server.py", SHELL_LINE)]
    assert shell["severity"] == "critical"
    assert set(shell["agents"]) == {"akira", "kenji"}  # the same issue from two agents, merged
    assert where[("tests/test_server.py", 5)]["agents"] == ["yuki"]
    assert where[(".github/workflows/ci.yml", 8)]["agents"] == ["hiro"]
    assert where[("docs/guide.md", 5)]["agents"] == ["sakura"]
    design = next(f for f in report["findings"] if f["title"] == "Admin inherits User without a role model")
    assert (design["path"], design["line"], design["agents"]) == ("src/app/models.py", 5, ["kenji"])
    assert report["summary"] == "SYNTHESIS: fix the shell injection first."
    synthesis = message_text(fake_provider.requests[-1][0])
    assert "Shell injection through shell=True" in synthesis and "test_run asserts nothing" in synthesis

    code, out, _ = cli("history", "--json")
    runs = json.loads(out)
    assert code == 0 and len(runs) == 1 and runs[0]["status"] == "completed"
    home = Path(os.environ["TOKYO_HOME"])
    raw = b"".join(p.read_bytes() for p in home.glob("history.db*"))
    assert b"sk-test-do-not-store" not in raw
    con = sqlite3.connect(home / "history.db")
    assert con.execute("select count(*) from llm_calls").fetchone()[0] == 6


def test_unusable_output_is_repaired_once(project: GitRepo, cli: RunCli, fake_provider: FakeProvider) -> None:
    fake_provider.script("You are Akira", "Looks fine to me!", times=1)
    fake_provider.script(
        "You are Akira",
        {
            "findings": [finding("src/app/server.py", SHELL_LINE, "high", "Shell injection", "security")],
            "summary": "ok",
        },
    )
    code, out, _ = cli(
        "review", str(project.root), "-w", "security", "--api-base", fake_provider.url, "-f", "json", "-q"
    )
    report = json.loads(out)
    step = report["steps"][0]
    assert step["status"] == "ok"
    assert [c["status"] for c in step["calls"]] == ["invalid_output", "ok"]
    assert "no JSON object" in step["calls"][0]["error"]
    assert any(f["title"] == "Shell injection" for f in report["findings"])
    assert code == 1
    # The repaired answer is cached under the first prompt, so a re-run asks nothing.
    sent = len(fake_provider.requests)
    code, out, _ = cli(
        "review", str(project.root), "-w", "security", "--api-base", fake_provider.url, "-f", "json", "-q"
    )
    again = json.loads(out)
    assert len(fake_provider.requests) == sent
    assert [c["cache_hit"] for c in again["steps"][0]["calls"]] == [True]
    assert any(f["title"] == "Shell injection" for f in again["findings"]) and code == 1


def test_garbage_twice_fails_the_step_but_keeps_the_others(
    project: GitRepo, cli: RunCli, fake_provider: FakeProvider
) -> None:
    fake_provider.script("You are Yuki", '{"findings": [{"path": 3}]')  # first match wins
    script_team(fake_provider)
    code, out, _ = cli("review", str(project.root), "--api-base", fake_provider.url, "-f", "json", "-q")
    report = json.loads(out)
    steps = {s["id"]: s for s in report["steps"]}
    assert steps["tests"]["status"] == "failed"
    assert "unusable output twice" in steps["tests"]["error"]
    assert report["run"]["status"] == "partial"
    assert any(f["agents"] == ["hiro"] for f in report["findings"])  # others' findings kept
    assert code == 1  # partial, with a critical finding: the exit code follows the findings


def test_findings_outside_the_change_are_demoted_or_dropped(
    project: GitRepo, cli: RunCli, fake_provider: FakeProvider
) -> None:
    fake_provider.script(
        "You are Akira",
        {
            "findings": [
                finding("src/app/server.py", 1, "medium", "Old import line is not in a hunk"),
                finding("src/app/nowhere.py", 3, "high", "A file that is not in the change"),
            ],
            "summary": "",
        },
    )
    code, out, _ = cli(
        "review", str(project.root), "-w", "security", "--api-base", fake_provider.url, "-f", "json", "-q"
    )
    report = json.loads(out)
    by_title = {f["title"]: f for f in report["findings"]}
    assert by_title["Old import line is not in a hunk"]["line"] is None  # file-level
    assert "A file that is not in the change" not in by_title
    assert report["steps"][0]["dropped"] == 1
    assert code == 1  # bandit's B602 on the changed line is still there


def test_provider_timeout_fails_the_step_with_a_clear_message_and_keeps_the_analyzer_findings(
    project: GitRepo, cli: RunCli, fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOKYO_RETRIES", "0")
    fake_provider.script("", {"findings": [], "summary": "late"}, delay=3.0)
    code, out, err = cli(
        "review",
        str(project.root),
        "-w",
        "security",
        "--api-base",
        fake_provider.url,
        "--timeout",
        "0.5",
        "--model",
        "openai/slow-model",
        "-f",
        "json",
        "-q",
    )
    report = json.loads(out)
    # The model timed out; bandit's B602 (high) still came back: partial, and it blocks.
    assert (code, report["run"]["status"], report["steps"][0]["status"]) == (1, "partial", "failed")
    assert report["steps"][0]["error"] == "openai/slow-model: timed out after 0.5 s"
    assert [f["rule"] for f in report["findings"]] == ["bandit:B602"]


def test_not_a_git_repository(cli: RunCli, tmp_path: Path) -> None:
    code, out, err = cli("review", str(tmp_path))
    assert code == 2
    assert err.strip().startswith("tokyo: error: not a git repository")
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_unknown_workflow(project: GitRepo, cli: RunCli) -> None:
    code, _, err = cli("review", str(project.root), "-w", "nope")
    assert code == 2
    assert "unknown workflow 'nope'" in err and "review" in err and "Traceback" not in err


def test_malformed_agents_yaml_names_file_and_line(project: GitRepo, cli: RunCli) -> None:
    project.write("agents.yaml", "agents:\n  - id: akira\n    model: [oops\n")
    code, _, err = cli("review", str(project.root), "--offline")
    assert code == 2
    assert "agents.yaml:3" in err and "Traceback" not in err


def test_bad_fail_on_is_a_usage_error(project: GitRepo, cli: RunCli) -> None:
    code, _, err = cli("review", str(project.root), "--fail-on", "severe")
    assert code == 2
    assert "fail_on" in err


def test_report_to_file_and_fail_on(project: GitRepo, cli: RunCli, tmp_path: Path) -> None:
    out_file = tmp_path / "out" / "review.md"
    code, out, err = cli("review", str(project.root), "--offline", "--fail-on", "critical", "-o", str(out_file))
    assert code == 0  # bandit's high is below critical
    text = out_file.read_text()
    assert text.startswith("#") and "src/app/server.py" in text
    assert "Report written to" in err


# --- exit codes that tell the truth (README "Exit codes") ---------------------------------


def test_a_history_write_that_fails_still_prints_the_report_and_exits_4(project: GitRepo, cli: RunCli) -> None:
    from tokyo_cli.store.db import default_db_path, open_db

    db = open_db()
    db.execute("CREATE TRIGGER full BEFORE INSERT ON runs BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END")
    db.close()
    code, out, err = cli("review", str(project.root), "--offline", "-f", "json", "-q")
    report = json.loads(out)  # the report is whole
    assert code == 4, err
    assert (report["run"]["status"], report["run"]["id"], report["run"]["exit_code"]) == ("completed", None, 4)
    assert report["run"]["store_error"].endswith("disk is full; free some space and run again")
    assert "bandit:B602" in {f["rule"] for f in report["findings"]}  # blocking, yet 4 says what went wrong
    assert err == (
        f"tokyo: warning: the run was not saved to history: history database {default_db_path()}: "
        "disk is full; free some space and run again\n"
    )  # one line, never wrapped
    code, out, err = cli("review", str(project.root), "--offline", "-q")
    assert code == 4 and "Shell injection" not in err and "src/app/server.py" in out
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize("home", ["file", "under-a-file"])
def test_tokyo_home_that_is_a_file_is_a_usage_error(
    project: GitRepo, cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, home: str
) -> None:
    (tmp_path / "a-file").write_text("")
    path = tmp_path / "a-file" if home == "file" else tmp_path / "a-file" / "tokyo"
    monkeypatch.setenv("TOKYO_HOME", str(path))
    for args in (["review", str(project.root), "--offline"], ["history"], ["stats"], ["show", "1"]):
        code, out, err = cli(*args)
        assert (code, out) == (2, ""), (args, err)
        assert err.startswith("tokyo: error: TOKYO_HOME is ") and err.count("\n") == 1, err
        assert "set TOKYO_HOME to a directory" in err
    assert (tmp_path / "a-file").read_text() == ""
