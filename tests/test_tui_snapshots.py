"""How the TUI looks (pytest-textual-snapshot): the live screen mid-run, the runs list and a
finding's detail, each at 120x40 and at 80x24.

Every input is frozen (tests/test_tui_fakes.py: a scripted run at t=12.3 s, UTC dates, fixed
paths and costs), so a changed SVG means a changed screen. Update with
``pytest tests/test_tui_snapshots.py --snapshot-update`` only after reading the diff
(``snapshot_report.html``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from test_tui_fakes import Clock, history_services, live_services, settle, stored_history, wait_for
from tokyo_cli.tui.app import TokyoApp
from tokyo_cli.tui.screens.finding import FindingScreen
from tokyo_cli.tui.screens.live import LiveScreen
from tokyo_cli.tui.screens.run import RunScreen

SIZES = [pytest.param((120, 40), id="120x40"), pytest.param((80, 24), id="80x24")]


@pytest.fixture(autouse=True)
def _colour(monkeypatch: pytest.MonkeyPatch) -> None:
    """Snapshots show the real colours (the suite's isolation sets NO_COLOR)."""
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.mark.parametrize("size", SIZES)
def test_live_screen_mid_run(snap_compare: Any, size: tuple[int, int]) -> None:
    """Akira and Hiro done with findings, Sakura failed, Yuki and Kenji waiting, synthesis pending."""
    app = TokyoApp(live_services(Clock()))

    async def mid_run(pilot: Pilot[Any]) -> None:
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, LiveScreen) and len(app.screen.view.findings) == 2,
            "the scripted findings",
        )
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=mid_run)


@pytest.mark.parametrize("size", SIZES)
def test_history_list(snap_compare: Any, size: tuple[int, int], tmp_path: Path) -> None:
    db_file = tmp_path / "history.db"
    stored_history(db_file)
    app = TokyoApp(history_services(db_file))

    async def loaded(pilot: Pilot[Any]) -> None:
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=loaded)


@pytest.mark.parametrize("size", SIZES)
def test_finding_detail(snap_compare: Any, size: tuple[int, int], tmp_path: Path) -> None:
    """The newest run opened, its most severe finding opened full screen, diff included."""
    db_file = tmp_path / "history.db"
    stored_history(db_file)
    app = TokyoApp(history_services(db_file))

    async def open_finding(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen), "the run screen")
        await settle(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, FindingScreen), "the finding screen")
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=open_finding)
