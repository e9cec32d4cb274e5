"""The fault matrix: every way a provider or a model can misbehave, through `tokyo review`.

Each test runs the real CLI against the fake provider and asserts three things: the run's
outcome (status, step status), what the history database recorded, and the exit code.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fakes.gitrepo import GitRepo
from fakes.provider import RAW_KEY, RESET, FakeProvider


CODE_OLD = "".join(f"C{i} = {i}\n" for i in range(10)) + "\n\ndef ping(host):\n    return host\n"
# A change no offline analyzer flags, so every finding below comes from the (fake) model.
CODE_NEW = CODE_OLD + "\n\ndef total(prices):\n    values = list(prices)\n    return sum(values[1:])\n"
SYSTEM_LINE = 19  # `return sum(values[1:])`
GOOD = {"findings": [{"path": "app.py", "line": SYSTEM_LINE, "severity": "high", "category": "correctness",
                      "title": "total() skips the first price", "body": "values[1:] drops an item."}],
        "summary": "One bug."}

Run = Callable[..., tuple[int, dict[str, Any]]]


@pytest.fixture
def repo(git_repo: GitRepo) -> GitRepo:
    git_repo.write("app.py", CODE_OLD)
    git_repo.commit("base")
    git_repo.write("app.py", CODE_NEW)
    return git_repo


@pytest.fixture
def review(repo: GitRepo, fake_provider: FakeProvider, cli: Callable[..., tuple[int, str, str]],
           monkeypatch: pytest.MonkeyPatch) -> Run:
    """Run Akira alone (workflow `security`) on the fake provider; (exit code, JSON report)."""
    monkeypatch.setenv("TOKYO_RETRIES", "1")

    def run(*extra: str) -> tuple[int, dict[str, Any]]:
        code, out, _ = cli("review", str(repo.root), "-w", "security", "--api-base", fake_provider.url,
                           "-f", "json", "-q", "--no-cache", *extra)
        return code, json.loads(out)

    return run


def stored(sql: str) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(Path(os.environ["TOKYO_HOME"]) / "history.db")
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_429_with_retry_after_is_retried(review: Run, fake_provider: FakeProvider) -> None:
    fake_provider.script("", "slow down", status=429, headers={"retry-after": "0.2"}, times=1)
    fake_provider.script("", GOOD)
    t0 = time.monotonic()
    code, report = review()
    assert time.monotonic() - t0 >= 0.2  # the retry waited as told
    step = report["steps"][0]
    assert (report["run"]["status"], step["status"], code) == ("completed", "ok", 1)
    assert step["calls"][0]["attempts"] == 2
    assert stored("select attempts, status from llm_calls") == [(2, "ok")]


def test_500_is_retried(review: Run, fake_provider: FakeProvider) -> None:
    fake_provider.script("", "boom", status=500, times=1)
    fake_provider.script("", GOOD)
    code, report = review()
    assert (report["run"]["status"], code) == ("completed", 1)
    assert stored("select attempts, status from llm_calls") == [(2, "ok")]


def test_timeout_everywhere_fails_the_run(review: Run, fake_provider: FakeProvider,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKYO_RETRIES", "0")
    fake_provider.script("", GOOD, delay=3.0)
    code, report = review("--timeout", "0.4")
    step = report["steps"][0]
    assert (report["run"]["status"], step["status"], code) == ("failed", "failed", 3)
    assert "timed out after 0.4 s" in step["error"]
    assert report["summary"].startswith("No findings in 0 reviewed files.")  # app.py was not reviewed
    assert len(fake_provider.requests) == 2  # the model and its fallback, each once
    assert stored("select status from runs") == [("failed",)]
    assert stored("select status from llm_calls") == [("error",)]


def test_connection_reset_is_retried(review: Run, fake_provider: FakeProvider) -> None:
    fake_provider.script("", RESET, times=1)
    fake_provider.script("", GOOD)
    code, report = review()
    assert (report["run"]["status"], code) == ("completed", 1)
    assert stored("select attempts from llm_calls") == [(2,)]


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ('{"findings": [{"path": "app.py", "line": 6,', "invalid JSON"),  # truncated
        ("I reviewed it and it looks good!", "no JSON object"),  # not JSON
        ('{"findings": "none", "summary": 3}', "wrong shape"),  # wrong shape
        ({RAW_KEY: {"id": "x", "object": "chat.completion", "created": 0, "model": "m", "choices": [],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 0, "total_tokens": 1}}}, "empty reply"),
    ],
    ids=["truncated-json", "non-json", "wrong-shape", "empty-choices"],
)
def test_unusable_output_is_repaired_once_then_fails(review: Run, fake_provider: FakeProvider,
                                                     bad: Any, problem: str) -> None:
    fake_provider.script("", bad, times=1)
    fake_provider.script("", GOOD)
    code, report = review()
    assert report["steps"][0]["status"] == "ok" and code == 1
    assert [c["status"] for c in report["steps"][0]["calls"]] == ["invalid_output", "ok"]
    assert problem in report["steps"][0]["calls"][0]["error"]

    fake_provider.reset()
    fake_provider.script("", bad)
    code, report = review()
    step = report["steps"][0]
    assert (report["run"]["status"], step["status"], code) == ("failed", "failed", 3)
    assert "unusable output twice" in step["error"]
    assert stored("select status from runs order by id") == [("completed",), ("failed",)]


def test_findings_outside_the_change(review: Run, fake_provider: FakeProvider) -> None:
    fake_provider.script("", {"findings": [
        {"path": "app.py", "line": 1, "severity": "low", "title": "Old line"},
        {"path": "elsewhere.py", "line": 3, "severity": "high", "title": "Not in the change"},
        {"path": "app.py", "line": 999, "severity": "medium", "title": "Past the end"},
    ], "summary": ""})
    code, report = review()
    lines = {f["title"]: f["line"] for f in report["findings"]}
    assert lines == {"Old line": None, "Past the end": None}
    assert report["steps"][0]["dropped"] == 1 and code == 0
    assert stored("select dropped_findings from steps") == [(1,)]


def test_the_same_finding_repeated_is_reported_once(review: Run, fake_provider: FakeProvider) -> None:
    fake_provider.script("", {"findings": GOOD["findings"] * 150, "summary": ""})
    code, report = review()
    assert len(report["findings"]) == 1 and code == 1
    assert stored("select count(*) from findings where scope = 'run'") == [(1,)]


def test_a_hugely_long_reply_is_truncated_not_rejected(review: Run, fake_provider: FakeProvider) -> None:
    huge = dict(GOOD["findings"][0], body="x" * 2_000_000)
    fake_provider.script("", {"findings": [huge], "summary": "y" * 100_000})
    code, report = review()
    [finding] = report["findings"]
    assert report["steps"][0]["status"] == "ok" and code == 1
    assert 19_000 < len(finding["body"]) <= 20_000


def test_circuit_breaker_stops_calling_a_failing_provider(
    repo: GitRepo, fake_provider: FakeProvider, cli: Callable[..., tuple[int, str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TOKYO_RETRIES", "0")
    monkeypatch.setenv("TOKYO_BREAKER_THRESHOLD", "2")
    fake_provider.script("", "down", status=503)
    code, out, _ = cli("review", str(repo.root), "--api-base", fake_provider.url, "-f", "json", "-q")
    report = json.loads(out)
    assert code == 3 and report["run"]["status"] == "failed"
    # Five reviews fail at about the same time. Before the second failure one fallback may
    # already have been sent; once the circuit is open no other fallback and no synthesis
    # call is. Without the breaker there would be 12 requests (6 calls, each with a fallback).
    assert 5 <= len(fake_provider.requests) <= 6
    assert any("circuit open" in (s["error"] or "") for s in report["steps"])


def test_ctrl_c_stores_a_cancelled_run_with_finished_findings(repo: GitRepo, fake_provider: FakeProvider,
                                                              tmp_path: Path) -> None:
    fake_provider.script("You are Akira", GOOD)
    fake_provider.script("", {"findings": [], "summary": "late"}, delay=30)
    env = {**os.environ, "TOKYO_HOME": str(tmp_path / "home"), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tokyo_cli", "review", str(repo.root), "--api-base", fake_provider.url, "-f", "json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )
    deadline = time.monotonic() + 60
    while len(fake_provider.requests) < 5 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)  # Akira's answer is back; the other four are still waiting
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()
    report = json.loads(out)
    assert report["run"]["status"] == "cancelled"
    assert [f["title"] for f in report["findings"]] == ["total() skips the first price"]
    con = sqlite3.connect(tmp_path / "home" / "history.db")
    assert con.execute("select status from runs").fetchall() == [("cancelled",)]
    assert con.execute("select count(*) from findings where scope = 'run'").fetchone() == (1,)
