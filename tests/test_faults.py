"""The fault matrix: every way a provider or a model can misbehave, through `tokyo review`.

Each test runs the real CLI against the fake provider and asserts three things: the run's
outcome (status, step status), what the history database recorded, and the exit code.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
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
SHELL_PY = "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"  # bandit B602
GOOD = {
    "findings": [
        {
            "path": "app.py",
            "line": SYSTEM_LINE,
            "severity": "high",
            "category": "correctness",
            "title": "total() skips the first price",
            "body": "values[1:] drops an item.",
        }
    ],
    "summary": "One bug.",
}

Run = Callable[..., tuple[int, dict[str, Any]]]


@pytest.fixture
def repo(git_repo: GitRepo) -> GitRepo:
    git_repo.write("app.py", CODE_OLD)
    git_repo.commit("base")
    git_repo.write("app.py", CODE_NEW)
    return git_repo


@pytest.fixture
def review(
    repo: GitRepo,
    fake_provider: FakeProvider,
    cli: Callable[..., tuple[int, str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> Run:
    """Run Akira alone (workflow `security`) on the fake provider; (exit code, JSON report)."""
    monkeypatch.setenv("TOKYO_RETRIES", "1")

    def run(*extra: str) -> tuple[int, dict[str, Any]]:
        code, out, _ = cli(
            "review",
            str(repo.root),
            "-w",
            "security",
            "--api-base",
            fake_provider.url,
            "-f",
            "json",
            "-q",
            "--no-cache",
            *extra,
        )
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


def test_timeout_everywhere_fails_the_run(
    review: Run, fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
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
        (
            {
                RAW_KEY: {
                    "id": "x",
                    "object": "chat.completion",
                    "created": 0,
                    "model": "m",
                    "choices": [],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 0, "total_tokens": 1},
                }
            },
            "empty reply",
        ),
    ],
    ids=["truncated-json", "non-json", "wrong-shape", "empty-choices"],
)
def test_unusable_output_is_repaired_once_then_fails(
    review: Run, fake_provider: FakeProvider, bad: Any, problem: str
) -> None:
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
    fake_provider.script(
        "",
        {
            "findings": [
                {"path": "app.py", "line": 1, "severity": "low", "title": "Old line"},
                {"path": "elsewhere.py", "line": 3, "severity": "high", "title": "Not in the change"},
                {"path": "app.py", "line": 999, "severity": "medium", "title": "Past the end"},
            ],
            "summary": "",
        },
    )
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
    repo: GitRepo,
    fake_provider: FakeProvider,
    cli: Callable[..., tuple[int, str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TOKYO_RETRIES", "0")
    monkeypatch.setenv("TOKYO_BREAKER_THRESHOLD", "2")
    fake_provider.script("", "down", status=503)
    code, out, _ = cli("review", str(repo.root), "--api-base", fake_provider.url, "-f", "json", "-q")
    report = json.loads(out)
    # Every model call failed; the analyzers' findings (a test gap, a docstring) make the run
    # partial, not failed, and none is at or above high.
    assert (code, report["run"]["status"]) == (0, "partial")
    assert report["findings"] and {f["source"] for f in report["findings"]} == {"analyzer"}
    # Five reviews fail at about the same time. Before the second failure one fallback may
    # already have been sent; once the circuit is open no other fallback and no synthesis
    # call is. Without the breaker there would be 12 requests (6 calls, each with a fallback).
    assert 5 <= len(fake_provider.requests) <= 6
    assert any("circuit open" in (s["error"] or "") for s in report["steps"])


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Review:
    """``tokyo review`` in a child process (a real SIGINT needs one), stderr read as it comes."""

    def __init__(self, repo: GitRepo, fake_provider: FakeProvider, home: Path, *args: str) -> None:
        env = {**os.environ, "TOKYO_HOME": str(home), "PYTHONUNBUFFERED": "1", "TOKYO_RETRIES": "0"}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tokyo_cli",
                "review",
                str(repo.root),
                "--api-base",
                fake_provider.url,
                "-f",
                "json",
                *args,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
            # A child inherits an ignored SIGINT (POSIX: a shell starts a background job, `cmd &`,
            # with SIGINT ignored) and Python then installs no Ctrl-C handler at all: the test
            # must not depend on how pytest was started.
            preexec_fn=_default_sigint,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.err: list[str] = []
        assert self.proc.stderr is not None
        self.reader = threading.Thread(target=self._read, args=(self.proc.stderr,), daemon=True)
        self.reader.start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            self.err.append(line)
            self.lines.put(line)

    def wait_for_line(self, start: str, timeout: float = 60) -> None:
        """Block until the progress output (stderr, plain lines) prints a line starting with ``start``."""
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no line starting {start!r} in {timeout} s: {''.join(self.err)}") from None
            if line.startswith(start):
                return

    def interrupt(self) -> tuple[int, dict[str, Any], str]:
        """SIGINT, as Ctrl-C sends; (exit code, JSON report, stderr)."""
        self.proc.send_signal(signal.SIGINT)
        assert self.proc.stdout is not None
        out = self.proc.stdout.read()  # not communicate(): it would read stderr too, racing the reader
        self.proc.wait(timeout=60)
        self.reader.join(timeout=60)  # stderr read to its end
        return self.proc.returncode, json.loads(out), "".join(self.err)


@pytest.mark.slow
def test_ctrl_c_stores_a_cancelled_run_with_finished_findings(
    repo: GitRepo, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    fake_provider.script("You are Akira", GOOD)
    fake_provider.script("", {"findings": [], "summary": "late"}, hold=threading.Event())  # never answers
    run = Review(repo, fake_provider, tmp_path / "home")
    run.wait_for_line("[akira/security] finished: 1 finding")  # the other four are held
    code, report, err = run.interrupt()
    assert code == 130, err
    assert report["run"]["status"] == "cancelled" and report["run"]["exit_code"] == 130
    by_source = {(f["source"], f["title"]) for f in report["findings"]}
    # Akira's model finding, and what the held agents' analyzers had found (Yuki's test gap).
    assert ("model", "total() skips the first price") in by_source
    assert [
        f["agent"]
        for f in report["findings"]
        if f["source"] == "analyzer" and (f["rule"] or "").startswith("test-gaps:")
    ] == ["yuki"], report["findings"]
    assert {f["source"] for f in report["findings"]} == {"model", "analyzer"}
    found = len(report["findings"])
    assert err.splitlines()[-1] == (
        f"tokyo: interrupted: run 1 saved as cancelled with {found} findings from the steps that finished"
    )
    con = sqlite3.connect(tmp_path / "home" / "history.db")
    assert con.execute("select status from runs").fetchall() == [("cancelled",)]
    assert con.execute("select count(*) from findings where scope = 'run'").fetchone() == (found,)


@pytest.mark.slow
def test_ctrl_c_keeps_the_analyzer_findings_of_steps_still_waiting_for_their_model(
    repo: GitRepo, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    repo.write("tool.py", SHELL_PY)
    fake_provider.script("", GOOD, hold=threading.Event())  # no model ever answers
    arrived = fake_provider.received("You are Akira")  # its prompt carries the analyzers' evidence
    run = Review(repo, fake_provider, tmp_path / "home", "-w", "security")
    assert arrived.wait(60), "Akira's call never arrived"
    code, report, err = run.interrupt()
    assert code == 130, err
    [step] = report["steps"]
    assert (step["status"], step["error"]) == ("partial", "cancelled before it finished")
    assert step["not_reviewed"] == {"app.py": "cancelled", "tool.py": "cancelled"}
    assert [f["rule"] for f in report["findings"]] == ["bandit:B602"]
    assert err.splitlines()[-1] == (
        "tokyo: interrupted: run 1 saved as cancelled with 1 finding from the steps that finished"
    )
    con = sqlite3.connect(tmp_path / "home" / "history.db")
    assert con.execute("select status from runs").fetchall() == [("cancelled",)]
    assert con.execute("select status from steps").fetchall() == [("partial",)]
    assert con.execute("select rule from findings where scope = 'run'").fetchall() == [("bandit:B602",)]


def closed_port() -> int:
    """A 127.0.0.1 port nothing listens on (connections are refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_outage_with_analyzer_findings_is_a_partial_run_that_exits_1(
    repo: GitRepo, cli: Callable[..., tuple[int, str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOKYO_RETRIES", "0")
    repo.write("tool.py", SHELL_PY)
    dead = f"http://127.0.0.1:{closed_port()}/v1"
    code, out, err = cli("review", str(repo.root), "--api-base", dead, "-f", "json", "-q")
    report = json.loads(out)
    assert code == 1, err
    assert (report["run"]["status"], report["run"]["exit_code"]) == ("partial", 1)
    assert {s["status"] for s in report["steps"] if s["status"] != "skipped"} == {"failed"}  # no model answered
    assert "bandit:B602" in {f["rule"] for f in report["findings"]}
    assert stored("select status from runs") == [("partial",)]
    errors = [c["error"] for s in report["steps"] for c in s["calls"]]
    assert any(f"connection refused at {dead}" in e for e in errors), errors  # in tokyo's words
    assert not any(mark in e for e in errors for mark in ("ssl:", "object at 0x", "Handle with", "litellm"))
    code, out, _ = cli("review", str(repo.root), "--api-base", dead, "-q", "--no-cache")
    assert code == 1 and "Status      partial" in out


def test_an_outage_with_no_finding_at_all_is_a_failed_run_that_exits_3(
    repo: GitRepo, cli: Callable[..., tuple[int, str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOKYO_RETRIES", "0")
    dead = f"http://127.0.0.1:{closed_port()}/v1"
    code, out, err = cli("review", str(repo.root), "-w", "security", "--api-base", dead, "-f", "json", "-q")
    report = json.loads(out)  # a change bandit finds nothing in, and Akira's model unreachable
    assert (code, report["run"]["status"], report["run"]["exit_code"], report["findings"]) == (3, "failed", 3, [])
