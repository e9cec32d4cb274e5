"""One finding full screen: the detail pane with room to read; ``n``/``p`` walk the list."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

from tokyo_cli.findings import Finding
from tokyo_cli.tui.widgets.finding_detail import FindingDetail

if TYPE_CHECKING:
    from tokyo_cli.tui.app import TokyoApp
    from tokyo_cli.tui.widgets.findings_view import FindingsView


class FindingScreen(Screen[None]):
    """Shows ``finding``; the hunk comes from (and is loaded by) the owning ``view``."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("n", "step(1)", "Next"),
        Binding("p", "step(-1)", "Previous"),
        Binding("y", "copy", "Copy fp"),
        Binding("d", "dismiss_finding", "Dismiss"),
    ]

    def __init__(self, finding: Finding, view: FindingsView) -> None:
        super().__init__(classes="finding-screen")
        self.finding = finding
        self.view = view

    @property
    def tokyo(self) -> TokyoApp:
        return cast("TokyoApp", self.app)

    def compose(self) -> ComposeResult:
        yield Static(classes="screen-title")
        yield FindingDetail(classes="detail-full")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.refresh_detail()
        self.query_one(FindingDetail).focus()

    def refresh_detail(self) -> None:
        """Redraw (after a dismissal, or once the owning view has loaded the diff)."""
        shown = self.view.shown
        where = f"{shown.index(self.finding) + 1} of {len(shown)}" if self.finding in shown else ""
        self.query_one(".screen-title", Static).update(
            Text.assemble(("Finding ", "bold"), where, ("   esc back · n/p next/previous", "dim"))
        )
        hunk = self.view.hunk_for(self.finding)
        self.query_one(FindingDetail).show(
            self.finding,
            hunk,
            decision=self.tokyo.decision(self.finding),
            agent_names=self.view.agent_names,
        )
        if hunk is None:
            self.view.ensure_hunk(self.finding)  # the view calls refresh_detail when loaded

    def action_step(self, delta: int) -> None:
        shown = self.view.shown
        if self.finding not in shown or not shown:
            return
        i = (shown.index(self.finding) + delta) % len(shown)
        self.finding = shown[i]
        self.view.table.move_cursor(row=i, animate=False)  # the view loads this one's diff
        self.refresh_detail()

    def action_copy(self) -> None:
        self.tokyo.copy_fingerprint(self.finding)

    def action_dismiss_finding(self) -> None:
        self.tokyo.ask_dismiss(self.finding)
