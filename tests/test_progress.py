"""ProgressListener: plain lines when not a terminal, live table on one, nothing when quiet."""

from __future__ import annotations

from io import StringIO

from rich.console import Console

from tokyo_cli.cli.progress import ProgressListener
from tokyo_cli.events import (
    CallFinished,
    CallStarted,
    Event,
    FindingRaised,
    RunFinished,
    RunStarted,
    StepFinished,
    StepStarted,
)
from tokyo_cli.findings import Finding, Severity

MODEL = "claude-opus-4-5"


def run_events() -> list[Event]:
    finding = Finding(path="a.py", line=1, severity=Severity.HIGH, title="t", agent="akira")
    return [
        RunStarted(workflow="review", target_description="staged changes", steps=["akira", "docs", "ops"], files=12),
        StepStarted(step_id="akira", agent="akira", model=MODEL, files=12),
        StepStarted(step_id="docs", agent="sakura", model=None, files=2),
        CallStarted(step_id="akira", model=MODEL, chunk=1, chunks=2),
        CallStarted(step_id="akira", model=MODEL, chunk=2, chunks=2),
        CallFinished(
            step_id="akira", model=MODEL, tokens_in=1234, tokens_out=210, cost_usd=0.0123, latency_s=1.02, ok=True
        ),
        FindingRaised(step_id="akira", finding=finding),
        CallFinished(
            step_id="akira",
            model=MODEL,
            tokens_in=900,
            tokens_out=0,
            cost_usd=None,
            latency_s=120.0,
            ok=False,
            error="timed out\x1b[31m after 120 s",
        ),
        StepFinished(step_id="akira", status="ok", findings=1, seconds=121.4),
        StepFinished(step_id="docs", status="offline", findings=0, seconds=0.25),
        StepStarted(step_id="ops", agent="hiro", model="groq/llama-4", files=0),
        StepFinished(step_id="ops", status="skipped", findings=0, seconds=0.0, error="no file matches its paths"),
        RunFinished(status="partial", findings=1, seconds=121.9),
    ]


def plain(listener_kw: dict[str, object] | None = None) -> tuple[ProgressListener, StringIO]:
    buf = StringIO()
    listener = ProgressListener(Console(file=buf, width=60), **(listener_kw or {}))
    return listener, buf


def test_not_a_tty_prints_one_line_per_event() -> None:
    listener, buf = plain()
    assert listener.live is False
    listener.start()
    for event in run_events():
        listener(event)
    listener.stop()
    assert buf.getvalue().splitlines() == [
        "[tokyo] review: staged changes — 3 steps, 12 files",
        "[akira] started (claude-opus-4-5, 12 files)",
        "[sakura/docs] started (offline: analyzers only, 2 files)",
        "[akira] call 1/2 started (claude-opus-4-5)",
        "[akira] call 2/2 started (claude-opus-4-5)",
        "[akira] call 1/2 done: 1,234 in / 210 out tokens, $0.0123, 1.02 s",
        "[akira] call 2/2 failed after 120.00 s: timed out[31m after 120 s",
        "[akira] finished: 1 finding in 121.4 s",
        "[sakura/docs] finished offline (analyzers only): 0 findings in 0.2 s",
        "[hiro/ops] started (groq/llama-4, 0 files)",
        "[hiro/ops] skipped: no file matches its paths",
        "[tokyo] run partial: 1 finding in 121.9 s",
    ]
    assert "\x1b" not in buf.getvalue()  # neither rich styling nor the provider's escape


def test_failed_step_and_unknown_cost_lines() -> None:
    listener, buf = plain()
    listener(StepStarted(step_id="kenji", agent="kenji", model="o4-mini", files=3))
    listener(CallStarted(step_id="kenji", model="o4-mini", chunk=1, chunks=1))
    listener(
        CallFinished(
            step_id="kenji", model="o4-mini", tokens_in=10, tokens_out=5, cost_usd=None, latency_s=0.5, ok=True
        )
    )
    listener(
        StepFinished(step_id="kenji", status="failed", findings=0, seconds=0.6, error="invalid JSON after one repair")
    )
    lines = buf.getvalue().splitlines()
    assert lines[2] == "[kenji] call 1/1 done: 10 in / 5 out tokens, cost unknown, 0.50 s"
    assert lines[3] == "[kenji] failed after 0.6 s: invalid JSON after one repair"


def test_quiet_prints_nothing() -> None:
    listener, buf = plain({"quiet": True})
    with listener:
        for event in run_events():
            listener(event)
    assert buf.getvalue() == ""


def test_tty_uses_live_table_instead_of_lines() -> None:
    now = [100.0]
    buf = StringIO()
    console = Console(file=buf, force_terminal=True, width=100)
    listener = ProgressListener(console, clock=lambda: now[0])
    assert listener.live is True
    listener.start()
    for event in run_events()[:6]:
        listener(event)
    now[0] = 103.5
    listener.stop()
    assert "[akira] started" not in buf.getvalue()  # no plain lines on a terminal

    snapshot = StringIO()
    Console(file=snapshot, width=100, color_system=None).print(listener)
    rows = {line.split()[0]: line.split() for line in snapshot.getvalue().splitlines() if line.strip()}
    assert "tokyo" in rows and "1/3 steps done" not in snapshot.getvalue()
    assert "0/3 steps done" in snapshot.getvalue()
    # agent, spinner frame + "running", model, elapsed (from the injected clock), calls,
    # tokens in/out, findings
    assert rows["akira"][2:] == ["running", MODEL, "3.5", "1/2", "1,234/210", "0"]
    assert rows["sakura/docs"][2:] == ["running", "offline", "3.5", "—", "0/0", "0"]
    assert rows["ops"] == ["ops", "pending", "0.0", "—", "0/0", "0"]


def test_live_table_shows_finished_steps() -> None:
    listener = ProgressListener(Console(file=StringIO(), width=100), live=True)
    for event in run_events():
        listener(event)
    snapshot = StringIO()
    Console(file=snapshot, width=100, color_system=None).print(listener)
    text = snapshot.getvalue()
    assert "3/3 steps done" in text
    rows = {line.split()[0]: line.split() for line in text.splitlines() if line.strip()}
    assert rows["akira"][1:] == ["ok", MODEL, "121.4", "2/2", "2,134/210", "1"]
    assert rows["sakura/docs"][1:3] == ["offline", "offline"]
    assert rows["hiro/ops"][1] == "skipped"


def test_partial_step_line() -> None:
    listener, buf = plain()
    listener(
        StepFinished(step_id="akira", status="partial", findings=2, seconds=3.0, error="1 of 2 calls failed: timed out")
    )
    assert buf.getvalue() == ("[akira] finished in part: 2 findings in 3.0 s (1 of 2 calls failed: timed out)\n")
