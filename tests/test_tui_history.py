"""``tokyo tui``: the runs list, a past run, the stats view, diff excerpts re-read from git,
ledger marks; the pure pieces (run state, stats numbers, sparklines); the CLI wiring."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from fakes.gitrepo import GitRepo
from test_tui_fakes import (
    CI,
    PLAN,
    SHELL,
    T0,
    TEST,
    Clock,
    history_services,
    live_services,
    run_result,
    settle,
    stored_history,
    wait_for,
)
from tokyo_cli import events as ev
from tokyo_cli.cli.app import app as cli_app
from tokyo_cli.cli.app import main
from tokyo_cli.engine.runview import RunView
from tokyo_cli.errors import StoreError, TokyoError
from tokyo_cli.findings import Finding, Severity
from tokyo_cli.store.db import open_db
from tokyo_cli.tui import launch
from tokyo_cli.tui.app import TokyoApp
from tokyo_cli.tui.hunks import history_hunks
from tokyo_cli.tui.screens.finding import FindingScreen
from tokyo_cli.tui.screens.history import HistoryScreen
from tokyo_cli.tui.screens.live import LiveScreen
from tokyo_cli.tui.screens.modals import DismissScreen
from tokyo_cli.tui.screens.run import RunScreen
from tokyo_cli.tui.screens.stats import StatsScreen
from tokyo_cli.tui.statsdata import found, load_stats, sparkline
from tokyo_cli.tui.widgets.findings_view import FindingsView

REPO_ROOT = Path(__file__).resolve().parents[1]


# --- the runs list, a run, stats -------------------------------------------------------------


async def test_runs_list_opens_a_run_its_finding_and_the_stats(tmp_path: Path) -> None:
    db_file = tmp_path / "history.db"
    ids = stored_history(db_file)
    app = TokyoApp(history_services(db_file))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        assert [r.id for r in screen.runs] == ids[::-1]  # newest first
        assert [r.status for r in screen.runs] == ["completed", "cancelled", "partial", "completed"]

        await pilot.press("down", "enter")  # the cancelled run
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), "the run screen")
        await settle(pilot)
        run = app.screen
        assert isinstance(run, RunScreen) and run.result.run_id == ids[2] and run.result.status == "cancelled"
        view = run.query_one(FindingsView)
        assert [f.title for f in view.shown] == [SHELL.title]
        hunk = view.hunk_for(view.shown[0])
        assert hunk is not None and [dl.new_line for dl in hunk.lines if dl.new_line in hunk.focus] == [10]

        await pilot.press("enter")
        assert isinstance(app.screen, FindingScreen)
        await pilot.press("escape", "escape")
        assert app.screen is screen

        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, StatsScreen), "the stats screen")
        await settle(pilot)
        stats = app.screen
        assert isinstance(stats, StatsScreen) and stats.stats is not None and stats.stats.total is not None
        assert stats.stats.total.runs == 4
        assert stats.query_one("#stats-agents").row_count == 5
        await pilot.press("escape")
        assert app.screen is screen


async def test_finding_screen_walks_the_filtered_list(tmp_path: Path) -> None:
    db_file = tmp_path / "history.db"
    stored_history(db_file)
    app = TokyoApp(history_services(db_file))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), "the run screen")
        view = app.screen.query_one(FindingsView)
        assert [f.severity for f in view.shown] == [Severity.CRITICAL, Severity.MEDIUM, Severity.LOW, Severity.INFO]
        await pilot.press("v", "v")  # >= medium
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, FindingScreen) and screen.finding == SHELL
        await pilot.press("n")
        assert screen.finding == TEST and view.selected() == TEST
        await pilot.press("n")  # wraps around the two shown
        assert screen.finding == SHELL
        await pilot.press("p")
        assert screen.finding == TEST


async def test_a_past_run_shows_ledger_decisions_and_dismisses_at_once(tmp_path: Path) -> None:
    db_file = tmp_path / "history.db"
    stored_history(db_file)
    calls: list[tuple[str, str]] = []

    def dismiss(db: Any, fingerprint: str, *, reason: str, who: str | None = None) -> None:
        calls.append((fingerprint, reason))

    def status(db: Any, fingerprints: list[str]) -> dict[str, str]:
        return {fp: ("accepted" if fp == CI.fingerprint else "open") for fp in fingerprints}

    app = TokyoApp(history_services(db_file, dismiss=dismiss, ledger_status=status))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), "the run screen")
        await settle(pilot)
        assert app.decision(CI) == ("accepted", None)
        await pilot.press("d")
        assert isinstance(app.screen, DismissScreen) and app.screen.finding == SHELL
        await pilot.press(*"intended", "enter")
        await wait_for(pilot, lambda: bool(calls), "the ledger call")
        assert calls == [(SHELL.fingerprint, "intended")]
        assert app.decision(SHELL) == ("dismissed", "intended")


async def test_empty_and_unreadable_history(tmp_path: Path) -> None:
    app = TokyoApp(history_services(tmp_path / "empty.db"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.screen.runs == []  # type: ignore[attr-defined]
        await pilot.press("enter")  # nothing to open
        assert isinstance(app.screen, HistoryScreen)

    def broken() -> Any:
        raise StoreError("history database x.db is corrupt or not a SQLite database")

    app = TokyoApp(history_services(tmp_path / "x.db", open_db=broken))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        title = app.screen.query_one(".screen-title").render()
        assert "corrupt" in str(title)


# --- diff excerpts for past runs ---------------------------------------------------------------

SRC = "import os\n\n\ndef a():\n    return 1\n"
CHANGED = SRC + "\n\ndef b(path):\n    os.system(path)\n"


def anchored(path: str, line: int, text: str) -> Finding:
    return Finding(path=path, line=line, severity=Severity.HIGH, title="os.system", agent="akira", anchor_text=text)


def test_history_hunks_reread_a_commit_range_exactly(git_repo: GitRepo) -> None:
    git_repo.write("app.py", SRC)
    base = git_repo.commit("base")
    git_repo.write("app.py", CHANGED)
    head = git_repo.commit("change")
    git_repo.write("app.py", "rewritten later\n")  # the working tree no longer matters
    result = run_result(1, repo=str(git_repo.root), target="range")
    result.base_sha, result.head_sha = base, head
    hunk = history_hunks(result)(anchored("app.py", 9, "    os.system(path)"))
    assert hunk.note == "" and [dl.new_line for dl in hunk.lines][-1] == 9
    assert hunk.focus == range(9, 10) and hunk.header.startswith("@@ -")


def test_history_hunks_of_a_working_tree_run_check_the_line_still_reads_the_same(git_repo: GitRepo) -> None:
    git_repo.write("app.py", SRC)
    base = git_repo.commit("base")
    git_repo.write("app.py", CHANGED)
    result = run_result(1, repo=str(git_repo.root), target="working")
    result.base_sha, result.head_sha = base, None
    finding = anchored("app.py", 9, "    os.system(path)")
    hunk = history_hunks(result)(finding)
    assert "re-read from the working change" in hunk.note and any(dl.new_line == 9 for dl in hunk.lines)

    git_repo.write("app.py", CHANGED.replace("os.system(path)", "subprocess.run([path])"))
    hunk = history_hunks(result)(finding)
    assert hunk.note == "app.py has changed since this run; showing the stored line"
    assert [(dl.new_line, dl.text) for dl in hunk.lines] == [(9, "    os.system(path)")]

    result.repo = str(git_repo.root / "gone")
    assert "is not here any more" in history_hunks(result)(finding).note


# --- pure pieces ---------------------------------------------------------------------------


def test_run_view_folds_events_including_repairs_and_failures() -> None:
    view = RunView.planned(PLAN[:1])
    view.apply(ev.RunStarted(workflow="security", target_description="t", steps=["security"], files=2), 0.0)
    view.apply(ev.StepStarted(step_id="security", agent="akira", model="m", files=2), 1.0)
    view.apply(ev.CallStarted(step_id="security", model="m", chunk=1, chunks=1), 1.0)
    step = view.steps["security"]
    assert step.in_flight == 1 and step.call_elapsed(3.5) == 2.5 and step.elapsed(3.5) == 2.5
    view.apply(
        ev.CallFinished(
            step_id="security",
            model="m",
            tokens_in=10,
            tokens_out=2,
            cost_usd=None,
            latency_s=1.0,
            ok=False,
            error="invalid JSON",
        ),
        4.0,
    )
    view.apply(ev.CallStarted(step_id="security", model="m", chunk=1, chunks=1), 4.0)  # the repair call
    view.apply(
        ev.CallFinished(
            step_id="security", model="m", tokens_in=12, tokens_out=3, cost_usd=0.5, latency_s=1.0, ok=True
        ),
        5.0,
    )
    view.apply(ev.FindingRaised(step_id="security", finding=SHELL), 5.0)
    view.apply(ev.StepFinished(step_id="security", status="ok", findings=1, seconds=4.0), 5.0)
    assert (step.calls_done, step.calls_total, step.calls_failed) == (2, 2, 1)
    assert (step.tokens_in, step.tokens_out, step.cost_usd) == (22, 5, 0.5)
    assert step.elapsed(99.0) == 4.0 and view.steps_done == 1 and view.findings == [SHELL]
    view.apply(ev.RunFinished(status="completed", findings=1, seconds=5.0), 5.0)
    assert not view.running and view.elapsed(99.0) == 5.0


async def test_events_from_another_thread_hop_onto_the_loop() -> None:
    clock = Clock()
    app = TokyoApp(live_services(clock))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: len(app.screen.view.findings) == 2, "the scripted findings")  # type: ignore[attr-defined]
        screen = app.screen
        assert isinstance(screen, LiveScreen)
        finding = SHELL.model_copy(update={"title": "from a thread"})
        event = ev.FindingRaised(step_id="tests", finding=finding)
        await asyncio.to_thread(screen.engine_event, event)  # returns at once: the event is queued
        await wait_for(pilot, lambda: len(screen.view.findings) == 3, "the event from the thread")
        assert screen.view.steps["tests"].findings == 1


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is UTC (stats bucket local calendar days, as ``tokyo stats`` does)."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_stats_reuse_store_stats_and_add_daily_trends(tmp_path: Path, utc: None) -> None:
    db_file = tmp_path / "history.db"
    stored_history(db_file)
    stats = load_stats(open_db(db_file))
    assert stats.total is not None and stats.total.runs == 4 and found(stats.total) == 2 + 4 + 1 + 4
    assert stats.agents[0].key == "akira"  # most expensive first
    akira = stats.agents[0]
    assert (akira.runs, akira.calls, found(akira)) == (4, 4, 4)
    assert akira.cost_usd == pytest.approx(0.1323 * (1 + 2 + 3 + 4))
    sakura = next(r for r in stats.agents if r.key == "sakura")
    assert sakura.failed_calls == 1
    o3 = next(r for r in stats.models if r.key == "o3")
    assert o3.calls == 3 * 3 + 1  # Yuki and Kenji's two steps in three runs; the cancelled one reached Yuki
    assert [d.key for d in stats.days] == ["2026-03-02", "2026-03-01", "2026-02-28"]
    assert [d.runs for d in stats.days] == [2, 1, 1]
    assert len(stats.trend_days) == 14 and stats.trend_days[-1] == T0.date()
    cost = stats.cost_trend[("agent", "akira")]
    assert cost[-1] == pytest.approx(0.1323 * (3 + 4)) and cost[-2] == pytest.approx(0.1323 * 2)
    assert cost[-3] == pytest.approx(0.1323) and sum(cost[:-3]) == 0
    assert stats.finding_trend[("agent", "akira")][-3:] == [1, 1, 2]  # runs 1, 2, then 3 and 4 the same day
    assert stats.finding_trend[("model", "claude-opus-4-5")][-3:] == [1, 1, 2]
    empty = load_stats(open_db(tmp_path / "empty.db"))
    assert empty.total is None and empty.agents == [] and empty.trend_days == []


def test_sparkline_scales_to_the_largest_value() -> None:
    assert sparkline([0, 1, 4, 2]) == "·▂█▄"
    assert sparkline([0, 0]) == "··"
    assert sparkline([]) == ""


# --- launch and the CLI ----------------------------------------------------------------------

runner = CliRunner()


def test_tui_commands_need_a_terminal(git_repo: GitRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def tokyo(*args: str) -> tuple[int, str]:
        with pytest.raises(SystemExit) as exit_info:
            main(list(args))
        return int(exit_info.value.code or 0), capsys.readouterr().err

    code, err = tokyo("tui", "--db", str(tmp_path / "h.db"))
    assert code == 2
    assert (
        err == "tokyo: error: the TUI needs an interactive terminal; in scripts use `tokyo review` or `tokyo history`\n"
    )
    git_repo.write("a.py", "x = 1\n")
    git_repo.commit("base")
    git_repo.write("a.py", "x = 2\n")
    code, err = tokyo("review", str(git_repo.root), "--offline", "--tui")
    assert code == 2 and "needs an interactive terminal" in err and "Traceback" not in err


def test_help_lists_tui_and_review_tui() -> None:
    assert "tui" in runner.invoke(cli_app, ["--help"]).output
    assert "--tui" in runner.invoke(cli_app, ["review", "--help"]).output
    help_text = runner.invoke(cli_app, ["tui", "--help"]).output
    assert "history" in help_text and "stats" in help_text


def test_real_services_wire_the_ledger_stats_and_the_run(git_repo: GitRepo, tmp_path: Path) -> None:
    from tokyo_cli.config.settings import load_settings
    from tokyo_cli.engine.review import ReviewRequest, prepare_review

    git_repo.write("a.py", "x = 1\n")
    git_repo.commit("base")
    git_repo.write("a.py", "x = 2\n")
    settings = load_settings(offline=True, db=tmp_path / "h.db")
    prepared = prepare_review(ReviewRequest(repo=git_repo.root), settings)
    services = launch.live_services(prepared, settings)
    assert services.start_review is not None and services.hunks is not None and services.stats is load_stats
    assert [p.step_id for p in services.plan] == ["security", "tests", "ops", "docs", "design", "summary"]
    assert services.plan[0].agent_name == "Akira" and services.title.startswith("working tree")
    from tokyo_cli.store import ledger

    assert services.dismiss is ledger.dismiss and services.ledger_status is ledger.ledger_status
    db = services.open_db()  # type: ignore[misc]
    db.close()
    assert (tmp_path / "h.db").exists()


def test_live_review_hands_back_the_outcome_or_says_the_tui_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(launch, "require_terminal", lambda: None)
    monkeypatch.setattr(launch, "live_services", lambda prepared, settings: None)
    monkeypatch.setattr(launch, "run_app", lambda services: None)
    with pytest.raises(TokyoError, match="closed before the run finished") as info:
        launch.live_review(object(), object())  # type: ignore[arg-type]
    assert info.value.exit_code == 3
    monkeypatch.setattr(launch, "run_app", lambda services: "outcome")
    assert launch.live_review(object(), object()) == "outcome"  # type: ignore[arg-type]


def test_wheel_ships_the_stylesheet(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(REPO_ROOT),
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-q",
            "-w",
            str(out),
        ],
        check=True,
        capture_output=True,
        env={**os.environ, "PIP_NO_INPUT": "1"},
    )
    (wheel,) = out.glob("tokyo_cli-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        shipped = zf.read("tokyo_cli/tui/tokyo.tcss")
    assert shipped == (REPO_ROOT / "src/tokyo_cli/tui/tokyo.tcss").read_bytes()
    assert {"tokyo_cli/tui/app.py", "tokyo_cli/tui/screens/live.py", "tokyo_cli/tui/widgets/agent_panel.py"} <= names
