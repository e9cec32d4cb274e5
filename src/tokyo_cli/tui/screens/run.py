"""One past run: its outcome and totals, a row per step, and its findings with details."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from tokyo_cli.errors import TokyoError
from tokyo_cli.report import caveats, compact_tokens, empty_message, format_usd, one_line, plural
from tokyo_cli.results import RunResult
from tokyo_cli.tui.services import Services
from tokyo_cli.tui.style import STATUS_STYLE, elapsed, when
from tokyo_cli.tui.widgets.findings_view import FindingsView

if TYPE_CHECKING:
    from tokyo_cli.tui.app import TokyoApp


STEP_COLUMNS = {
    "step": "Step",
    "status": "Status",
    "model": "Model",
    "calls": "Calls",
    "tokens": "Tokens",
    "usd": "USD",
    "found": "Found",
    "time": "Time",
}


class RunScreen(Screen[None]):
    """``result`` as stored; the diff around a finding is re-read from git on demand."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, result: RunResult, services: Services) -> None:
        super().__init__(classes="run-screen")
        self.result = result
        self.services = services

    def compose(self) -> ComposeResult:
        r = self.result
        title = Text.assemble(
            (f"Run {r.run_id}", "bold"),
            "  ",
            (r.status, STATUS_STYLE.get(r.status, "")),
            "  ",
            one_line(r.workflow),
            " · ",
            one_line(r.target_description),
            (f"  {one_line(Path(r.repo).name)}", "dim"),
        )
        yield Static(title, classes="screen-title")
        totals = Text.assemble(
            when(r.started_at, self.services.tz, year=True),
            ("  time ", "dim"),
            elapsed(r.seconds),
            ("  tokens ", "dim"),
            f"{compact_tokens(r.tokens_in)}→{compact_tokens(r.tokens_out)}",
            "  ",
            format_usd(r.cost_usd),
            "  ",
            plural(len(r.findings), "finding"),
        )
        if r.suppressed:
            totals.append(f"  ({r.suppressed} dismissed in the ledger, not shown)", "dim")
        why = caveats(r)
        if why:
            totals.append("  — " + "; ".join(why), "yellow")
        yield Static(totals, classes="run-totals")
        if r.summary:
            yield Static(Text(one_line(r.summary), style="italic"), classes="run-summary")
        steps: DataTable[Text] = DataTable(cursor_type="row", show_cursor=False, id="steps")
        steps.can_focus = False
        yield steps
        names = {s.agent: s.agent_name for s in r.steps}
        hunks = self.services.history_hunks(r) if self.services.history_hunks is not None else None
        yield FindingsView(hunks=hunks, agent_names=names, empty=empty_message(r))
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self._fill_steps()
        view = self.query_one(FindingsView)
        view.set_findings(self.result.findings)
        view.table.focus()
        if self.services.ledger_status is not None and self.services.open_db is not None and self.result.findings:
            self._ledger()

    def on_resize(self) -> None:
        self._fill_steps()

    def _fill_steps(self) -> None:
        """One row per step; model, tokens and time only when the screen is 100+ wide."""
        table = self.query_one("#steps", DataTable)
        wide = self.size.width >= 100
        keys = [k for k in STEP_COLUMNS if wide or k not in ("model", "tokens", "time")]
        if list(table.columns) == keys and table.row_count:
            return
        table.clear(columns=True)
        for key in keys:
            table.add_column(STEP_COLUMNS[key], key=key)
        for s in self.result.steps:
            label = s.agent_name if s.step_id == s.agent else f"{s.agent_name} · {s.step_id}"
            model = s.model or ("offline" if s.status == "offline" else "—")
            cells = {
                "step": Text(one_line(label)),
                "status": Text(s.status, style=STATUS_STYLE.get(s.status, "")),
                "model": Text(one_line(model), style="" if s.model else "dim"),
                "calls": Text(str(len(s.calls)), justify="right"),
                "tokens": Text(f"{compact_tokens(s.tokens_in)}→{compact_tokens(s.tokens_out)}", justify="right"),
                "usd": Text(format_usd(s.cost_usd), justify="right"),
                "found": Text(str(len(s.findings)), justify="right"),
                "time": Text(elapsed(s.seconds), justify="right"),
            }
            table.add_row(*(cells[k] for k in keys))

    @work(thread=True, exclusive=True, group="ledger-status")
    def _ledger(self) -> None:
        """Mark findings dismissed or accepted in the ledger since the run was stored."""
        status = self.services.ledger_status
        assert status is not None
        try:
            statuses = self.services.with_db(lambda db: status(db, [f.fingerprint for f in self.result.findings]))
        except TokyoError as exc:
            self.app.call_from_thread(
                self.notify, f"Ledger unavailable: {exc.message}", severity="warning", markup=False
            )
            return
        self.app.call_from_thread(cast("TokyoApp", self.app).merge_decisions, statuses)
