"""One agent's panel on the live screen: status, model, elapsed, calls, tokens, USD, activity.

Two shapes from one widget: a bordered card of three lines on tall terminals, a single
aligned row when the screen is short (the live screen's ``-short`` class sets ``height: 1``).
The panel reads its :class:`~tokyo_cli.engine.runview.StepView` on every render, so an event
only has to call :meth:`AgentPanel.refresh`.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.widget import Widget

from tokyo_cli.engine.runview import StepView
from tokyo_cli.report import compact_tokens, format_usd, one_line
from tokyo_cli.tui.style import STATUS_ICON, STATUS_STYLE, elapsed, plain


def _trim(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def _tail(text: str, width: int) -> Text:
    """The end of untrusted streamed ``text`` on one line (literal, no control characters),
    cut on the left with ``…`` to fit ``width`` cells, so the newest words stay visible."""
    line = plain(text, style="italic")
    if line.cell_len > width:
        line = plain("…" + line.plain[-max(1, width - 1) :], style="italic")
    return line


class AgentPanel(Widget):
    """Renders ``step`` against ``now()`` (monotonic seconds from the app's clock)."""

    def __init__(self, step: StepView, now: Callable[[], float], *, id: str | None = None) -> None:
        super().__init__(id=id, classes="agent-panel")
        self.step = step
        self._now = now
        self.border_title = Text(one_line(step.label))  # a str would be read as markup

    def on_mount(self) -> None:
        self.sync()

    def sync(self) -> None:
        """Repaint after the step changed (title, status class, content)."""
        s = self.step
        self.border_title = Text(one_line(s.label))
        self.border_subtitle = s.status
        for status in STATUS_STYLE:
            self.set_class(s.status == status, f"-{status}")
        self.refresh()

    # --- pieces -----------------------------------------------------------------------------

    def _model(self) -> str:
        s = self.step
        if s.model:
            return one_line(s.model)
        if s.status in ("offline",):
            return "offline · analyzers only"
        if s.status == "skipped":
            return "no files matched"
        return one_line(s.configured_model) if s.configured_model else "—"

    def _calls(self) -> str:
        s = self.step
        return f"{s.calls_done}/{s.calls_total}" if s.calls_total else "—"

    def _usage(self) -> str:
        s = self.step
        return f"{compact_tokens(s.tokens_in)}→{compact_tokens(s.tokens_out)}"

    def _activity(self, now: float, width: int = 80) -> Text:
        """What the step is doing now: the end of the text its call is streaming, waiting on
        calls (elapsed), or done. ``width``: cells available for the text."""
        s = self.step
        if s.status == "running":
            if s.in_flight and s.streamed.strip():
                return _tail(s.streamed, width)
            if s.in_flight:
                what = "waiting for the model" if s.in_flight == 1 else f"{s.in_flight} calls in flight"
                return Text(f"{what} · {elapsed(s.call_elapsed(now))}", style="italic")
            return Text("running analyzers" if not s.calls_started else "checking the output", style="italic")
        if s.status == "pending":
            return Text("waiting for its turn", style="dim")
        if s.status == "cancelled":
            return Text("not run: the run was cancelled", style="dim")
        if s.status in ("failed", "partial") and s.error:
            return Text(one_line(s.error), style="red")
        word = "finding" if s.findings == 1 else "findings"
        return Text(f"{s.findings} {word}", style="bold" if s.findings else "dim")

    # --- render -----------------------------------------------------------------------------

    def render(self) -> RenderableType:
        now = self._now()
        s = self.step
        if self.size.height <= 1:
            return self._row(now)
        icon = STATUS_ICON.get(s.status, "·")
        width = max(10, self.size.width)
        grid = Table.grid(expand=True)
        grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        grid.add_column(justify="right", no_wrap=True)
        grid.add_row(Text(_trim(self._model(), width - 9)), Text(elapsed(s.elapsed(now))))
        usd = format_usd(s.cost_usd)
        grid.add_row(Text(f"calls {self._calls()} · {self._usage()} tok", overflow="ellipsis"), Text(" " + usd))
        activity = Text.assemble((icon + " ", STATUS_STYLE.get(s.status, "")), self._activity(now, width - 2))
        activity.truncate(width, overflow="ellipsis")
        return Group(grid, activity)

    def _row(self, now: float) -> Text:
        """One line: ``✓ Akira       claude-opus-4-5  ok        8.2s  1/1  12.3k→1.2k  $0.0123  3``."""
        s = self.step
        style = STATUS_STYLE.get(s.status, "")
        width = self.size.width or 80
        model_w = max(8, min(22, width - 63))
        row = Text(no_wrap=True, overflow="ellipsis")
        row.append(STATUS_ICON.get(s.status, "·") + " ", style)
        row.append(f"{_trim(one_line(s.label).replace(' · ', '·'), 15):<15} ")
        row.append(f"{_trim(self._model(), model_w):<{model_w}} ", "dim" if not s.model else "")
        if s.status == "running" and s.in_flight:
            row.append(f"{'waiting':<9}", "italic")
        else:
            row.append(f"{_trim(s.status, 9):<9}", style)
        row.append(f"{elapsed(s.elapsed(now)):>6} {self._calls():>4} {self._usage():>11} ")
        row.append(f"{format_usd(s.cost_usd):>7} ")
        row.append(f"{s.findings:>3}", "bold" if s.findings else "dim")
        return row
