"""Stats: cost and findings per agent and per model (with daily trends), and per day."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from tokyo_cli.errors import TokyoError
from tokyo_cli.report import compact_tokens, format_usd, one_line, plural
from tokyo_cli.tui.services import Services
from tokyo_cli.tui.statsdata import Row, Stats, sparkline


class StatsScreen(Screen[None]):
    """Computed in a thread worker from the whole history database."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back"), Binding("r", "reload", "Reload")]

    def __init__(self, services: Services) -> None:
        super().__init__(classes="stats-screen")
        self.services = services
        self.stats: Stats | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text.assemble(("Stats", "bold"), ("  computing…", "dim")), classes="screen-title")
        with VerticalScroll(id="stats-body"):
            for key, title in (("agents", "By agent"), ("models", "By model"), ("days", "By day")):
                yield Static(Text(title, style="bold"), classes="section-title")
                table: DataTable[Text] = DataTable(cursor_type="row", zebra_stripes=True, id=f"stats-{key}")
                yield table
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        if self.services.open_db is None or self.services.stats is None:
            self._error("no history database")
            return
        self._compute()

    @work(thread=True, exclusive=True, group="stats")
    def _compute(self) -> None:
        import sqlite3

        from tokyo_cli.store.db import describe_error

        assert self.services.open_db is not None and self.services.stats is not None
        try:
            db = self.services.open_db()
            try:
                stats = self.services.stats(db, self.services.tz)
            finally:
                db.close()
        except TokyoError as exc:
            self.app.call_from_thread(self._error, exc.message)
            return
        except sqlite3.Error as exc:
            self.app.call_from_thread(self._error, describe_error(exc, "history"))
            return
        self.app.call_from_thread(self._show, stats)

    def _error(self, message: str) -> None:
        self.query_one(".screen-title", Static).update(Text.assemble(("Stats", "bold"), "  ", (one_line(message), "red")))

    def on_resize(self) -> None:
        if self.stats is not None:
            self._show(self.stats)

    def _show(self, stats: Stats) -> None:
        self.stats = stats
        wide = self.size.width >= 100
        days = len(stats.trend_days) if wide else min(7, len(stats.trend_days))
        head = Text.assemble(("Stats", "bold"), "  ", plural(stats.runs, "run"), " · ", format_usd(stats.cost_usd),
                             " · ", plural(stats.findings, "finding"))
        if stats.trend_days:
            first, last = stats.trend_days[-days], stats.trend_days[-1]
            head.append(f"   trends {first:%m-%d}…{last:%m-%d}, a mark a day", "dim")
        self.query_one(".screen-title", Static).update(head)
        self._fill(self.query_one("#stats-agents", DataTable), "Agent", stats.agents, days=days, wide=wide)
        self._fill(self.query_one("#stats-models", DataTable), "Model", stats.models, days=days, wide=wide,
                   latency=True)
        self._fill(self.query_one("#stats-days", DataTable), "Day", stats.days, days=0, wide=wide)
        if self.focused is None:
            self.query_one("#stats-agents", DataTable).focus()

    @staticmethod
    def _fill(table: DataTable[Text], label: str, rows: list[Row], *, days: int, wide: bool,
              latency: bool = False) -> None:
        """Rows of one group; tokens and latency only 100+ columns wide; ``days`` of trend."""
        table.clear(columns=True)
        columns = [label, "Runs", "Calls"] + (["Tokens"] if wide else []) + ["USD", "Found"]
        if latency and wide:
            columns.append("Avg s")
        if days:
            columns += ["USD/day", "Found/day"]
        for c in columns:
            table.add_column(c)
        for row in rows:
            cells = [
                Text(one_line(row.key)),
                Text(str(row.runs), justify="right"),
                Text(str(row.calls) + (f" ({row.failed_calls}✗)" if row.failed_calls else ""), justify="right"),
            ]
            if wide:
                cells.append(Text(f"{compact_tokens(row.tokens_in)}→{compact_tokens(row.tokens_out)}", justify="right"))
            cells += [Text(format_usd(row.cost_usd), justify="right"), Text(str(row.findings), justify="right")]
            if latency and wide:
                avg = row.avg_latency_s
                cells.append(Text("—" if avg is None else f"{avg:.1f}", justify="right"))
            if days:
                cells += [Text(sparkline(row.cost_trend[-days:]), style="green"),
                          Text(sparkline(row.finding_trend[-days:]), style="yellow")]
            table.add_row(*cells)
