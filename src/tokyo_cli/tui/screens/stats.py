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
from tokyo_cli.store.stats import StatsRow
from tokyo_cli.tui.services import Services
from tokyo_cli.tui.statsdata import Stats, found, sparkline


class StatsScreen(Screen[None]):
    """Computed in a thread worker from the whole history database (``Services.stats``)."""

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

    def on_resize(self) -> None:
        if self.stats is not None:
            self._show(self.stats)

    def action_reload(self) -> None:
        if self.services.open_db is None or self.services.stats is None:
            self._error("no history database")
            return
        self._compute()

    @work(thread=True, exclusive=True, group="stats")
    def _compute(self) -> None:
        assert self.services.stats is not None
        try:
            stats = self.services.with_db(self.services.stats)
        except TokyoError as exc:
            self.app.call_from_thread(self._error, exc.message)
            return
        self.app.call_from_thread(self._show, stats)

    def _error(self, message: str) -> None:
        self.query_one(".screen-title", Static).update(
            Text.assemble(("Stats", "bold"), "  ", (one_line(message), "red"))
        )

    def _show(self, stats: Stats) -> None:
        self.stats = stats
        wide = self.size.width >= 100
        days = len(stats.trend_days) if wide else min(7, len(stats.trend_days))
        head = Text.assemble(("Stats", "bold"), "  ")
        total = stats.total
        if total is None:
            head.append("no runs yet", "dim")
        else:
            head.append(
                f"{plural(total.runs, 'run')} · {format_usd(total.cost_usd)} · {plural(found(total), 'finding')}"
            )
            if total.suppressed:
                head.append(f" · {total.suppressed} dismissed", "dim")
        if days:
            first, last = stats.trend_days[-days], stats.trend_days[-1]
            head.append(f"   trends {first:%m-%d}…{last:%m-%d}, a mark a day", "dim")
        self.query_one(".screen-title", Static).update(head)
        self._fill("agents", "Agent", stats.agents, stats, days=days, wide=wide)
        self._fill("models", "Model", stats.models, stats, days=days, wide=wide)
        self._fill("days", "Day", stats.days, stats, days=0, wide=wide)
        if self.focused is None:
            self.query_one("#stats-agents", DataTable).focus()

    def _fill(self, group: str, label: str, rows: list[StatsRow], stats: Stats, *, days: int, wide: bool) -> None:
        """One table; tokens and latency only 100+ columns wide; ``days`` of trend (0: none)."""
        table = self.query_one(f"#stats-{group}", DataTable)
        table.clear(columns=True)
        latency = wide and group != "days"
        columns = [label, "Runs", "Calls"] + (["Tokens"] if wide else []) + ["USD", "Found"]
        columns += (["p50 s", "p95 s"] if latency else []) + (["USD/day", "Found/day"] if days else [])
        for c in columns:
            table.add_column(c)
        kind = group[:-1]  # "agent" | "model"
        for row in rows:
            cells = [
                Text(one_line(row.key)),
                Text(str(row.runs), justify="right"),
                Text(str(row.calls) + (f" ({row.failed_calls}✗)" if row.failed_calls else ""), justify="right"),
            ]
            if wide:
                cells.append(Text(f"{compact_tokens(row.tokens_in)}→{compact_tokens(row.tokens_out)}", justify="right"))
            cells += [Text(format_usd(row.cost_usd), justify="right"), Text(str(found(row)), justify="right")]
            if latency:
                for value in (row.latency_p50_s, row.latency_p95_s):
                    cells.append(Text("—" if value is None else f"{value:.1f}", justify="right"))
            if days:
                usd = stats.cost_trend.get((kind, row.key), [0.0] * len(stats.trend_days))[-days:]
                raised = stats.finding_trend.get((kind, row.key), [0] * len(stats.trend_days))[-days:]
                cells += [Text(sparkline(usd), style="green"), Text(sparkline(raised), style="yellow")]
            table.add_row(*cells)
