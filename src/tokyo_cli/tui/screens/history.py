"""The runs list (``tokyo tui``): when, repo, target, workflow, status, findings, cost.

Reads happen in thread workers, each with its own connection (sqlite connections belong to
the thread that opened them), so a slow or locked database never freezes the screen.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from tokyo_cli.errors import TokyoError
from tokyo_cli.findings import Severity
from tokyo_cli.report import format_usd, one_line, plural
from tokyo_cli.results import RunResult
from tokyo_cli.store.history import RunSummary
from tokyo_cli.tui.services import Services
from tokyo_cli.tui.style import SEVERITY_STYLE, STATUS_STYLE, elapsed, when
from tokyo_cli.tui.widgets.tables import OpenTable

COLUMNS = {
    "id": "#",
    "when": "When",
    "repo": "Repo",
    "target": "Target",
    "workflow": "Workflow",
    "status": "Status",
    "findings": "Findings",
    "usd": "USD",
    "time": "Time",
}
HISTORY_LIMIT = 500
"""Runs listed, newest first (the stats view covers every run)."""


def severity_counts(counts: dict[str, int]) -> Text:
    """``1C 2H 3M`` in severity colours; ``—`` when there are none."""
    out = Text()
    for sev in Severity:
        n = counts.get(sev.value, 0)
        if n:
            out.append(" " if out else "")
            out.append(f"{n}{sev.value[0].upper()}", SEVERITY_STYLE[sev])
    return out if out else Text("—", style="dim")


class HistoryScreen(Screen[None]):
    """Every stored run; ``enter`` opens one, ``t`` the stats view."""

    BINDINGS = [
        Binding("t", "stats", "Stats"),
        Binding("r", "reload", "Reload"),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, services: Services, *, root: bool = False) -> None:
        super().__init__(id="history")
        self.services = services
        self.root = root
        self.runs: list[RunSummary] = []

    def compose(self) -> ComposeResult:
        yield Static(Text.assemble(("tokyo history", "bold"), ("  loading…", "dim")), classes="screen-title")
        yield OpenTable(id="runs")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#runs", DataTable).focus()
        self.action_reload()

    def on_resize(self) -> None:
        if self.runs:
            self._show(self.runs)

    def _columns(self, table: DataTable[Text]) -> list[str]:
        """Column keys for the table's width: target and time go below 100 columns."""
        wide = (table.size.width or self.size.width) >= 100
        keys = [k for k in COLUMNS if wide or k not in ("target", "time")]
        if list(table.columns) != keys:
            table.clear(columns=True)
            for key in keys:
                table.add_column(COLUMNS[key], key=key)
        return keys

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back":
            return not self.root
        if action == "open":
            return bool(self.runs)
        return True

    # --- loading ----------------------------------------------------------------------------

    def action_reload(self) -> None:
        if self.services.open_db is None:
            self._show_error("no history database")
            return
        self._load()

    @work(thread=True, exclusive=True, group="history")
    def _load(self) -> None:
        from tokyo_cli.store.history import list_runs

        try:
            runs = self.services.with_db(lambda db: list_runs(db, limit=HISTORY_LIMIT))
        except TokyoError as exc:
            self.app.call_from_thread(self._show_error, exc.message)
            return
        self.app.call_from_thread(self._show, runs)

    def _show_error(self, message: str) -> None:
        self.query_one(".screen-title", Static).update(
            Text.assemble(("tokyo history", "bold"), "  ", (one_line(message), "red"))
        )

    def _show(self, runs: list[RunSummary]) -> None:
        self.runs = runs
        tz = self.services.tz
        table = self.query_one("#runs", DataTable)
        keep = table.cursor_row
        keys = self._columns(table)
        table.clear()
        for r in runs:
            cells = {
                "id": Text(str(r.id), style="dim"),
                "when": Text(when(r.started_at, tz)),
                "repo": Text(one_line(Path(r.repo).name)),
                "target": Text(one_line(r.target)),
                "workflow": Text(one_line(r.workflow)),
                "status": Text(r.status, style=STATUS_STYLE.get(r.status, "")),
                "findings": severity_counts(r.findings),
                "usd": Text(format_usd(r.cost_usd), justify="right"),
                "time": Text(elapsed(r.seconds), justify="right"),
            }
            table.add_row(*(cells[k] for k in keys), key=str(r.id))
        if runs:
            table.move_cursor(row=min(max(keep, 0), len(runs) - 1), animate=False)
        cost = sum(r.cost_usd or 0.0 for r in runs)
        head = Text.assemble(("tokyo history", "bold"), "  ", plural(len(runs), "run"))
        if runs:
            head.append(f" · {format_usd(cost)}", "dim")
        else:
            head.append(" — none yet: run `tokyo review` in a git repository", "dim")
        self.query_one(".screen-title", Static).update(head)
        self.refresh_bindings()

    # --- actions ----------------------------------------------------------------------------

    @on(DataTable.RowSelected, "#runs")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        table = self.query_one("#runs", DataTable)
        if 0 <= table.cursor_row < len(self.runs):
            self._open(self.runs[table.cursor_row].id)

    @work(thread=True, exclusive=True, group="open-run")
    def _open(self, run_id: int) -> None:
        from tokyo_cli.store.history import load_run

        try:
            result = self.services.with_db(lambda db: load_run(db, run_id))
        except TokyoError as exc:
            self.app.call_from_thread(self.notify, exc.message, severity="error", markup=False)
            return
        self.app.call_from_thread(self._push_run, result)

    def _push_run(self, result: RunResult) -> None:
        from tokyo_cli.tui.screens.run import RunScreen

        self.app.push_screen(RunScreen(result, self.services))

    def action_stats(self) -> None:
        from tokyo_cli.tui.screens.stats import StatsScreen

        self.app.push_screen(StatsScreen(self.services))

    def action_back(self) -> None:
        if not self.root:
            self.app.pop_screen()
