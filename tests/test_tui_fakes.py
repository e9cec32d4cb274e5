"""Deterministic fakes for the TUI tests: a scripted run, a frozen clock, a stored history.

No tests here: the TUI test modules import these. Everything on screen that could vary
between runs (elapsed seconds, dates, paths, token counts) is fixed by these fakes.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from tokyo_cli import events as ev
from tokyo_cli.engine.review import ReviewOutcome
from tokyo_cli.engine.runview import PlannedStep
from tokyo_cli.findings import Finding, Severity
from tokyo_cli.git.diff import parse_git_diff
from tokyo_cli.results import CallRecord, FileEntry, RunResult, StepResult
from tokyo_cli.store.db import open_db
from tokyo_cli.store.history import save_run
from tokyo_cli.tui.hunks import HunkExcerpt, excerpt
from tokyo_cli.tui.services import Services

PLAN = [
    PlannedStep("security", "akira", "Akira", model="claude-opus-4-5"),
    PlannedStep("tests", "yuki", "Yuki", model="o3"),
    PlannedStep("ops", "hiro", "Hiro", model="groq/openai/gpt-oss-120b"),
    PlannedStep("docs", "sakura", "Sakura", model="gemini/gemini-2.5-pro"),
    PlannedStep("design", "kenji", "Kenji", model="o3"),
    PlannedStep("summary", "kenji", "Kenji", task="synthesize", model="o3"),
]

DIFF = """diff --git a/src/app/server.py b/src/app/server.py
index 1111111..2222222 100644
--- a/src/app/server.py
+++ b/src/app/server.py
@@ -1,5 +1,10 @@
 import subprocess
 
 
 def ping(host):
     return subprocess.run(["ping", "-c", "1", host], check=False)
+
+
+def run(cmd):
+    \"\"\"Run a shell command.\"\"\"
+    return subprocess.call(cmd, shell=True)
"""
SERVER = parse_git_diff(DIFF)[0]


def finding(path: str, line: int | None, severity: str, title: str, agent: str, **extra: Any) -> Finding:
    """A finding as the engine would raise it (anchored text from :data:`DIFF` when it applies)."""
    anchor = next((dl.text for h in SERVER.hunks for dl in h.lines if dl.new_line == line), "") if line else ""
    return Finding(
        path=path,
        line=line,
        severity=Severity(severity),
        title=title,
        agent=agent,
        step=extra.pop("step", agent),
        anchor_text=anchor if path == SERVER.path else "",
        **extra,
    )


SHELL = finding(
    "src/app/server.py",
    10,
    "critical",
    "Shell injection through shell=True",
    "akira",
    step="security",
    category="security",
    rule=None,
    body="`cmd` comes from the request and reaches /bin/sh unquoted.",
    suggestion="subprocess.run(shlex.split(cmd), check=True)",
)
CI = finding(
    ".github/workflows/ci.yml",
    8,
    "low",
    "Dependencies installed without a lock or hash",
    "hiro",
    step="ops",
    category="ci",
    body="pip install -r requirements.txt pulls whatever is newest.",
)
DOCS = finding(
    "docs/guide.md", 5, "info", "Document that run() executes through a shell", "sakura", step="docs", category="docs"
)
TEST = finding(
    "tests/test_server.py",
    5,
    "medium",
    "test_run asserts nothing",
    "yuki",
    step="tests",
    category="testing",
    body="The new test calls run() and checks nothing.",
)


def hunks(f: Finding) -> HunkExcerpt:
    """The live run's diff lookup: :data:`DIFF` for the server, nothing for other files."""
    return excerpt(SERVER if f.path == SERVER.path else None, f)


class Clock:
    """A monotonic clock the test moves by hand (seconds)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def scripted_run(clock: Clock, *, finish: bool = False) -> Callable[[ev.Listener], Awaitable[ReviewOutcome]]:
    """A run that emits a fixed story and then waits (mid-run), or finishes when ``finish``.

    Mid-run at t=12.3 s: Akira and Hiro done, Sakura failed (timeout), Yuki and Kenji's design
    waiting on their model, the synthesis pending. Cancelling returns a ``cancelled`` outcome.
    """

    async def start(emit: ev.Listener) -> ReviewOutcome:
        clock.now = 0.0
        emit(
            ev.RunStarted(
                workflow="review",
                target_description="working tree (uncommitted changes)",
                steps=[p.step_id for p in PLAN],
                files=6,
            )
        )
        clock.now = 0.2
        for p in PLAN[:5]:
            emit(ev.StepStarted(step_id=p.step_id, agent=p.agent, model=p.model, files=3))
            for chunk in range(1, (2 if p.agent == "akira" else 1) + 1):
                emit(
                    ev.CallStarted(
                        step_id=p.step_id, model=p.model or "", chunk=chunk, chunks=2 if p.agent == "akira" else 1
                    )
                )
        clock.now = 4.1
        emit(
            ev.CallFinished(
                step_id="ops",
                model="groq/openai/gpt-oss-120b",
                tokens_in=2_480,
                tokens_out=212,
                cost_usd=0.0004,
                latency_s=3.9,
                ok=True,
            )
        )
        emit(ev.FindingRaised(step_id="ops", finding=CI))
        emit(ev.StepFinished(step_id="ops", status="ok", findings=1, seconds=3.9))
        clock.now = 6.8
        for _ in range(2):
            emit(
                ev.CallFinished(
                    step_id="security",
                    model="claude-opus-4-5",
                    tokens_in=6_120,
                    tokens_out=540,
                    cost_usd=0.1323,
                    latency_s=6.6,
                    ok=True,
                )
            )
        emit(ev.FindingRaised(step_id="security", finding=SHELL))
        emit(ev.StepFinished(step_id="security", status="ok", findings=1, seconds=6.6))
        clock.now = 9.0
        emit(
            ev.CallFinished(
                step_id="docs",
                model="gemini/gemini-2.5-pro",
                tokens_in=0,
                tokens_out=0,
                cost_usd=None,
                latency_s=8.8,
                ok=False,
                error="timed out after 8.8 s",
            )
        )
        emit(ev.StepFinished(step_id="docs", status="failed", findings=0, seconds=8.8, error="timed out after 8.8 s"))
        clock.now = 12.3
        if finish:
            return _outcome("completed")
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            return _outcome("cancelled")
        raise AssertionError("unreachable")

    return start


def _outcome(status: str) -> ReviewOutcome:
    result = run_result(1, status=status, findings=[SHELL, CI])
    return ReviewOutcome(result=result)


def live_services(clock: Clock, **overrides: Any) -> Services:
    """Services for a live screen over :func:`scripted_run` (no ticking: the clock is frozen)."""
    values: dict[str, Any] = dict(
        start_review=scripted_run(clock),
        plan=PLAN,
        hunks=hunks,
        clock=clock,
        tick_s=0,
        title="working tree (uncommitted changes)",
        tz=UTC,
    )
    values.update(overrides)
    return Services(**values)


# --- a stored history ----------------------------------------------------------------------

T0 = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)


def step(
    step_id: str,
    agent: str,
    name: str,
    model: str | None,
    status: str,
    findings: list[Finding],
    usd: float | None,
    tokens: tuple[int, int] = (4_000, 300),
    seconds: float = 5.0,
) -> StepResult:
    calls = (
        []
        if model is None
        else [
            CallRecord(
                step_id=step_id,
                agent=agent,
                model=model,
                provider="fake",
                tokens_in=tokens[0],
                tokens_out=tokens[1],
                cost_usd=usd,
                latency_s=seconds - 0.2,
                status="ok" if status != "failed" else "error",
                error=None if status != "failed" else "timed out",
            )
        ]
    )
    return StepResult(
        step_id=step_id,
        agent=agent,
        agent_name=name,
        status=status,
        model=model,  # type: ignore[arg-type]
        configured_model=model,
        files=["src/app/server.py"],
        findings=findings,
        calls=calls,
        seconds=seconds,
    )


def run_result(
    n: int,
    *,
    status: str = "completed",
    findings: list[Finding] | None = None,
    started: datetime = T0,
    repo: str = "/home/dev/shop",
    target: str = "working",
    workflow: str = "review",
) -> RunResult:
    """A stored-looking run: six steps, the given merged findings, fixed times and costs."""
    found = [SHELL, TEST, CI, DOCS] if findings is None else findings
    by_agent = {a: [f for f in found if f.agent == a] for a in ("akira", "yuki", "hiro", "sakura", "kenji")}
    steps = [
        step("security", "akira", "Akira", "claude-opus-4-5", "ok", by_agent["akira"], 0.1323 * n),
        step("tests", "yuki", "Yuki", "o3", "ok", by_agent["yuki"], 0.0210),
        step("ops", "hiro", "Hiro", "groq/openai/gpt-oss-120b", "ok", by_agent["hiro"], 0.0004),
        step(
            "docs",
            "sakura",
            "Sakura",
            "gemini/gemini-2.5-pro",
            "failed" if status == "partial" else "ok",
            by_agent["sakura"],
            None if status == "partial" else 0.0061,
        ),
        step("design", "kenji", "Kenji", "o3", "ok", by_agent["kenji"], 0.0198),
        step("summary", "kenji", "Kenji", "o3", "ok", [], 0.0170, seconds=2.5),
    ]
    if status == "cancelled":
        steps = steps[:3]
    return RunResult(
        repo=repo,
        target=target,
        target_description="working tree (uncommitted changes)",
        workflow=workflow,
        status=status,
        started_at=started,
        finished_at=started + timedelta(seconds=11.4 + n),  # type: ignore[arg-type]
        files=[FileEntry(path="src/app/server.py", status="modified", added=5)],
        steps=steps,
        findings=found,
        summary="Fix the shell injection in run() first; the rest is hygiene.",
    )


def stored_history(db_file: Path) -> list[int]:
    """Four runs over three days (completed, partial, cancelled, an older completed); ids."""
    runs = [
        run_result(1, started=T0 - timedelta(days=2), findings=[SHELL, CI], repo="/home/dev/shop"),
        run_result(
            2,
            status="partial",
            started=T0 - timedelta(days=1),
            repo="/home/dev/ledger-api",
            target="range",
            workflow="security",
        ),
        run_result(3, status="cancelled", started=T0 - timedelta(hours=3), findings=[SHELL]),
        run_result(4, started=T0),
    ]
    db = open_db(db_file)
    try:
        return [save_run(db, r) for r in runs]
    finally:
        db.close()


def history_services(db_file: Path, **overrides: Any) -> Services:
    """Services for ``tokyo tui`` over ``db_file`` (UTC dates, the fixed diff for every run)."""
    from functools import partial

    from tokyo_cli.tui.statsdata import load_stats

    values: dict[str, Any] = dict(
        open_db=partial(open_db, db_file),
        history_hunks=lambda result: hunks,
        stats=load_stats,
        tz=UTC,
        tick_s=0,
    )
    values.update(overrides)
    return Services(**values)


async def settle(pilot: Pilot[Any]) -> None:
    """Let short workers (db reads, diff lookups; not the live run) finish and the screen repaint."""
    from textual.worker import WorkerCancelled

    for _ in range(3):
        for worker in [w for w in pilot.app.workers if w.group != "review" and not w.is_finished]:
            try:
                await worker.wait()
            except WorkerCancelled:  # an exclusive worker replaced by a newer one
                pass
        await pilot.pause()


WAIT_S = 180.0
"""How long :func:`wait_for` waits by default: a deadline for a test that is going to fail,
not a delay. A live run's first finding needs litellm's import, the analyzers' processes and a
provider round trip; on 2 cores under load that took 45 s, past the 30 s this used to be."""


async def wait_for(pilot: Pilot[Any], condition: Callable[[], bool], what: str, timeout: float = WAIT_S) -> None:
    """Pause until ``condition()`` holds; fail naming ``what`` after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    deadline = started + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what} ({timeout:g} s)")
        await pilot.pause(0.05)
    if os.environ.get("TUI_TEST_WAITS"):
        print(f"waited {loop.time() - started:.1f} s for {what}", file=sys.stderr)
