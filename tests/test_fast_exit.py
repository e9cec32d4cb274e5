"""Leaving without interpreter teardown loses nothing (issue 17, item 2).

Every test runs tokyo as a real process (``python -m tokyo_cli``, the path the console script
takes) and then checks what it left behind: the exit code, the report and output files
complete, the history row complete, SQLite closed (its ``-wal`` file checkpointed away) and
no temporary directory of tokyo's left in ``TMPDIR``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fakes.gitrepo import GitRepo
from fakes.provider import FakeProvider

SHELL = "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
MANY = "".join(f"def f{i}(cmd):\n    return subprocess.call(cmd, shell=True)\n\n\n" for i in range(300))


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    return {**os.environ, "TMPDIR": str(tmp), "TOKYO_RETRIES": "0"}


def tokyo(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tokyo_cli", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=600
    )


def history(env: dict[str, str]) -> Path:
    return Path(env["TOKYO_HOME"]) / "history.db"


def stored_run(env: dict[str, str], run_id: int) -> tuple[dict[str, Any], int]:
    """The runs row and its number of findings, read by a fresh connection."""
    con = sqlite3.connect(history(env))
    con.row_factory = sqlite3.Row
    try:
        row = dict(con.execute("SELECT * FROM runs WHERE id = ?", [run_id]).fetchone())
        count = con.execute("SELECT count(*) FROM findings WHERE run_id = ?", [run_id]).fetchone()[0]
    finally:
        con.close()
    return row, count


def assert_left_clean(env: dict[str, str]) -> None:
    assert not Path(str(history(env)) + "-wal").exists(), "the database was not closed"
    assert [p.name for p in Path(env["TMPDIR"]).iterdir() if p.name.startswith("tokyo-")] == []


@pytest.mark.slow
def test_an_online_review_writes_its_report_file_and_history_row_then_exits_with_its_code(
    git_repo: GitRepo, fake_provider: FakeProvider, env: dict[str, str], tmp_path: Path
) -> None:
    git_repo.write("src/app.py", "x = 1\n")
    git_repo.commit("base")
    git_repo.write("src/app.py", SHELL + MANY)
    fake_provider.script("", {"findings": [], "summary": "the model looked"})
    stored = {}
    for exit_mode in ("fast", "slow"):  # the same review, leaving with and without teardown
        run_env = {**env, "TOKYO_HOME": str(tmp_path / exit_mode)}
        if exit_mode == "slow":
            run_env["TOKYO_SLOW_EXIT"] = "1"
        report = tmp_path / exit_mode / "out" / "report.json"
        proc = tokyo(
            run_env, "review", str(git_repo.root), "--working", "--api-base", fake_provider.url, "-o", str(report), "-q"
        )

        assert proc.returncode == 1, proc.stderr  # bandit's shell=True (high) at fail_on high
        data = json.loads(report.read_text(encoding="utf-8"))  # complete: it parses
        assert data["run"]["status"] == "completed" and data["findings"]
        row, _ = stored_run(run_env, data["run"]["id"])
        assert row["status"] == "completed" and row["finished_at"]
        assert_left_clean(run_env)
        stored[exit_mode] = _contents(run_env)
    assert len(fake_provider.requests) >= 2, "both runs went online (litellm loaded)"
    assert stored["fast"] == stored["slow"]


def _contents(env: dict[str, str]) -> dict[str, Any]:
    """What a run stored, without what differs between two runs (ids, times, seconds)."""
    con = sqlite3.connect(history(env))
    try:
        return {
            "runs": con.execute("SELECT status, target, workflow, head_sha FROM runs").fetchall(),
            "steps": sorted(con.execute("SELECT step_id, status FROM steps").fetchall()),
            "calls": con.execute("SELECT count(*) FROM llm_calls").fetchone(),
            "findings": sorted(con.execute("SELECT fingerprint, severity, path, line FROM findings").fetchall()),
        }
    finally:
        con.close()


@pytest.mark.slow
def test_a_large_report_on_stdout_arrives_whole(git_repo: GitRepo, env: dict[str, str]) -> None:
    git_repo.write("src/app.py", "x = 1\n")
    git_repo.commit("base")
    for i in range(20):
        git_repo.write(f"src/m{i}.py", "import subprocess\n\n\n" + MANY)

    proc = tokyo(env, "review", str(git_repo.root), "--working", "--offline", "-f", "sarif", "-q")

    assert proc.returncode == 1, proc.stderr
    assert len(proc.stdout) > 30_000  # several times stdout's 8 KiB buffer
    (run,) = json.loads(proc.stdout)["runs"]  # complete: it parses
    assert run["results"] and run["properties"]["tokyo"]["status"] == "completed"
    row, _ = stored_run(env, 1)
    assert row["status"] == "completed"
    assert_left_clean(env)


def test_a_usage_error_keeps_its_exit_code(env: dict[str, str], tmp_path: Path) -> None:
    proc = tokyo(env, "review", str(tmp_path / "nowhere"))
    assert proc.returncode == 2 and "tokyo: error:" in proc.stderr


def test_the_hook_stores_its_run_and_exits_with_its_code(git_repo: GitRepo, env: dict[str, str]) -> None:
    git_repo.write("src/app.py", "x = 1\n")
    git_repo.commit("base")
    git_repo.write("src/app.py", SHELL)
    git_repo.git("add", "src/app.py")

    proc = tokyo(env, "hook", str(git_repo.root), "--offline", cwd=git_repo.root)

    assert proc.returncode == 1, proc.stderr + proc.stdout
    con = sqlite3.connect(history(env))
    try:
        (status, target) = con.execute("SELECT status, target FROM runs ORDER BY id DESC LIMIT 1").fetchone()
    finally:
        con.close()
    assert (status, target) == ("completed", "staged")
    assert_left_clean(env)


def test_the_github_entry_point_writes_its_summary_and_outputs(
    git_repo: GitRepo, env: dict[str, str], tmp_path: Path
) -> None:
    git_repo.write("src/app.py", "x = 1\n")
    base = git_repo.commit("base")
    git_repo.checkout_branch("feature")
    git_repo.write("src/app.py", SHELL)
    head = git_repo.commit("change")
    event = tmp_path / "event.json"
    event.write_text(
        json.dumps(
            {  # a fork's pull request: nothing is posted, everything else happens
                "action": "opened",
                "number": 7,
                "pull_request": {
                    "number": 7,
                    "draft": False,
                    "title": "t",
                    "state": "open",
                    "base": {"sha": base, "ref": "main", "repo": {"full_name": "o/r"}},
                    "head": {"sha": head, "ref": "feature", "repo": {"full_name": "m/r"}},
                },
                "repository": {"full_name": "o/r"},
            }
        )
    )
    summary, output, sarif = tmp_path / "summary.md", tmp_path / "output.txt", tmp_path / "r.sarif"
    env.update(
        {
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_EVENT_PATH": str(event),
            "GITHUB_API_URL": "http://127.0.0.1:9",
            "GITHUB_TOKEN": "t",
            "GITHUB_REPOSITORY": "o/r",
            "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_OUTPUT": str(output),
        }
    )

    proc = tokyo(env, "review", str(git_repo.root), "--github", "--offline", "-f", "sarif", "-o", str(sarif), "-q")

    assert proc.returncode == 1, proc.stderr
    assert json.loads(sarif.read_text())["runs"][0]["results"]
    assert "## tokyo review" in summary.read_text()
    assert "posted<<" in output.read_text() and output.read_text().endswith("\n")
    assert_left_clean(env)


def test_eval_prints_its_scores_whole(env: dict[str, str], tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    (root / "shell" / "head").mkdir(parents=True)
    (root / "corpus.yaml").write_text("version: 1\nname: tiny\n")
    (root / "shell" / "head" / "deploy.py").write_text(SHELL)
    (root / "shell" / "expected.yaml").write_text("expected:\n  - {path: deploy.py, line: 5, cwe: 78}\n")

    proc = tokyo(env, "eval", str(root), "-w", "security", "--offline", "-f", "json", "-q")

    assert proc.returncode == 0, proc.stderr
    assert [c["tp"] for c in json.loads(proc.stdout)["tokyo"]["cases"]] == [1]
    assert_left_clean(env)


PROBE = """
import atexit, sys
sys.argv = ["tokyo", "--version"]

class Probe:
    def __del__(self):
        sys.stderr.write("teardown ran\\n")

probe = Probe()
atexit.register(lambda: sys.stderr.write("atexit ran\\n"))
from tokyo_cli.cli.app import main
main()
"""


def test_the_console_script_skips_teardown_but_runs_atexit(env: dict[str, str]) -> None:
    fast = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=120)
    assert (fast.returncode, fast.stdout.strip()) == (0, f"tokyo {_version()}")
    assert "atexit ran" in fast.stderr and "teardown ran" not in fast.stderr

    slow = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, env={**env, "TOKYO_SLOW_EXIT": "1"}
    )
    assert slow.returncode == 0 and "atexit ran" in slow.stderr and "teardown ran" in slow.stderr


def _version() -> str:
    from tokyo_cli import __version__

    return __version__
