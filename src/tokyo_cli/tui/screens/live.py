"""The live review: a panel per agent, overall progress, findings as they arrive, detail.

The run is an async worker on the app's own event loop: the engine calls :meth:`engine_event`
on that loop, so events update widgets directly (nothing polls the engine; a timer only
repaints elapsed seconds). Cancelling cancels the worker's task: the engine catches it, ends
the run ``cancelled`` with every finished step, and ``review.run_review`` stores it.
"""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal
from textual.screen import Screen
from textual.widgets import Footer, ProgressBar, Static
from textual.worker import Worker

from tokyo_cli import events as ev
from tokyo_cli.engine.runview import RunView
from tokyo_cli.report import compact_tokens, empty_message, format_usd, one_line, plural
from tokyo_cli.tui.services import Services
from tokyo_cli.tui.style import STATUS_STYLE, elapsed
from tokyo_cli.tui.widgets.agent_panel import AgentPanel
from tokyo_cli.tui.widgets.findings_view import FindingsView

if TYPE_CHECKING:
    from tokyo_cli.engine.review import ReviewOutcome
    from tokyo_cli.tui.app import TokyoApp


class LiveScreen(Screen[None]):
    """Watches one run from :attr:`Services.start_review` to its stored outcome."""

    BINDINGS = [
        Binding("c", "cancel_run", "Cancel"),
        Binding("h", "history", "History"),
    ]

    def __init__(self, services: Services) -> None:
        super().__init__(id="live")
        self.services = services
        self.view = RunView.planned(services.plan, target_description=services.title)
        self.panels: dict[str, AgentPanel] = {}
        self.outcome: ReviewOutcome | None = None
        self._worker: Worker[None] | None = None
        self._cancelling = False
        self._quit_after = False
        self._loop_thread = threading.get_ident()
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def tokyo(self) -> TokyoApp:
        return cast("TokyoApp", self.app)

    @property
    def busy(self) -> bool:
        """True until the run's outcome is stored (or the run raised)."""
        return self.outcome is None and self.tokyo.error is None

    def compose(self) -> ComposeResult:
        yield Static(classes="screen-title", id="run-title")
        with Horizontal(id="run-progress"):
            yield ProgressBar(total=max(1, len(self.view.steps)), show_eta=False, show_percentage=False)
            yield Static(id="totals")
        with Grid(id="agents"):
            for step in self.view.steps.values():
                panel = self.panels[step.step_id] = AgentPanel(step, self.services.clock)
                yield panel
        names = {p.agent: p.agent_name for p in self.services.plan}
        yield FindingsView(hunks=self.services.hunks, agent_names=names, empty="No findings yet.")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self._loop_thread = threading.get_ident()
        self._loop = asyncio.get_running_loop()
        self._sync_header()
        self.query_one(".findings-table").focus()
        self._worker = self.run_review()
        if self.services.tick_s > 0:
            self.set_interval(self.services.tick_s, self._tick)

    # --- the run ----------------------------------------------------------------------------

    @work(group="review", exclusive=True, exit_on_error=False)
    async def run_review(self) -> None:
        """Run the review on this loop; the outcome (also when cancelled) lands in history."""
        assert self.services.start_review is not None
        try:
            outcome = await self.services.start_review(self.engine_event)
        except Exception as exc:  # shown on screen, re-raised by the CLI after the TUI closes
            self.tokyo.error = exc
            self.view.status = "failed"
            self._sync_header()
            self.notify(f"The run failed: {type(exc).__name__}: {exc}", severity="error", markup=False, timeout=10)
            self.refresh_bindings()
            if self._quit_after:
                self.app.exit(None)
            return
        self._finished(outcome)

    def engine_event(self, event: ev.Event) -> None:
        """The engine's listener: never blocks; an event from another thread is queued onto
        the app's loop (``call_soon_threadsafe``) instead of touching widgets there."""
        if threading.get_ident() != self._loop_thread:
            assert self._loop is not None
            self._loop.call_soon_threadsafe(self.engine_event, event)
            return
        step = self.view.apply(event, self.services.clock())
        if isinstance(event, ev.RunStarted):
            self._add_missing_panels()
        if step is not None and step.step_id in self.panels:
            self.panels[step.step_id].sync()
        if isinstance(event, ev.FindingRaised):
            self.query_one(FindingsView).add_finding(event.finding)
        if isinstance(event, ev.StepFinished) and step is not None and step.findings:
            fresh = [f.fingerprint for f in self.view.findings if f.step == event.step_id]
            self._ledger_marks(fresh)
        self._sync_header()

    @work(thread=True, group="ledger-status")
    def _ledger_marks(self, fingerprints: list[str]) -> None:
        """Strike through raised findings the ledger already has dismissed (the stored run
        leaves them out; until then the table says so instead of showing them as new)."""
        from tokyo_cli.errors import TokyoError

        status = self.services.ledger_status
        if status is None or self.services.open_db is None or not fingerprints:
            return
        try:
            statuses = self.services.with_db(lambda db: status(db, fingerprints))
        except TokyoError:
            return  # marks are a courtesy; the stored run applies the ledger itself
        self.app.call_from_thread(self.tokyo.merge_decisions, statuses)

    def _add_missing_panels(self) -> None:
        grid = self.query_one("#agents", Grid)
        for step in self.view.steps.values():
            if step.step_id not in self.panels:
                panel = self.panels[step.step_id] = AgentPanel(step, self.services.clock)
                grid.mount(panel)
        self.query_one(ProgressBar).update(total=max(1, len(self.view.steps)))

    def _finished(self, outcome: ReviewOutcome) -> None:
        self.outcome = self.tokyo.outcome = outcome
        result = outcome.result
        self.view.status = result.status
        self.view.seconds = result.seconds
        self._settle_steps(outcome)
        raised = len(self.view.findings)
        self.query_one(FindingsView).set_findings(result.findings, empty=empty_message(result))
        self._sync_header()
        if outcome.store_error:
            self.notify(f"Not saved to history: {outcome.store_error}", severity="error", markup=False, timeout=10)
        self.tokyo.flush_dismissals(saved=result.run_id is not None and not outcome.store_error)
        merged = f", merged from {raised} raised" if raised != len(result.findings) else ""
        hidden = f", {result.suppressed} dismissed in the ledger" if result.suppressed else ""
        self.notify(f"Run {result.status}: {plural(len(result.findings), 'finding')}{merged}{hidden}.", markup=False)
        for notice in result.notices:
            self.notify(one_line(notice), markup=False, timeout=8)
        for panel in self.panels.values():
            panel.sync()
        self.refresh_bindings()
        if self._quit_after:
            self.app.exit(outcome)

    def _settle_steps(self, outcome: ReviewOutcome) -> None:
        """Steps a cancellation cut short get no ``StepFinished``: take their end from the
        stored result (``failed``: cancelled before it finished), or ``cancelled`` if never started."""
        now = self.services.clock()
        stored = {s.step_id: s for s in outcome.result.steps}
        for step in self.view.steps.values():
            if step.status not in ("pending", "running"):
                continue
            done = stored.get(step.step_id)
            if done is not None and done.status not in ("pending", "running"):
                step.status, step.error = done.status, done.error
            elif outcome.result.status == "cancelled":
                step.status = "cancelled" if step.started is None else "failed"
                step.error = None if step.started is None else "cancelled before it finished"
            step.seconds = step.elapsed(now) if step.started is not None else None
            step.in_flight_since.clear()

    def cancel_run(self, *, quit_after: bool = False) -> None:
        """Cancel once (a second cancel would interrupt the engine while it keeps the
        finished steps); the stored outcome arrives through :meth:`_finished`."""
        self._quit_after = self._quit_after or quit_after
        if self._cancelling or self._worker is None or not self.busy:
            return
        self._cancelling = True
        self._sync_header()
        self.refresh_bindings()
        self._worker.cancel()

    # --- header -----------------------------------------------------------------------------

    def _tick(self) -> None:
        if self.busy:
            for panel in self.panels.values():
                if panel.step.status == "running":
                    panel.refresh()
            self._sync_header()

    def _sync_header(self) -> None:
        v = self.view
        now = self.services.clock()
        title = Text.assemble(("tokyo review", "bold"), "  ")
        if v.workflow:
            title.append(one_line(v.workflow), "bold")
            title.append(" · ")
        title.append(one_line(v.target_description) or "starting…")
        if v.files:
            title.append(f" · {plural(v.files, 'file')}", "dim")
        self.query_one("#run-title", Static).update(title)
        bar = self.query_one(ProgressBar)
        bar.update(total=max(1, len(v.steps)), progress=v.steps_done)
        status = "cancelling…" if self._cancelling and self.busy else v.status
        totals = Text.assemble(
            (f"{v.steps_done}/{len(v.steps)} steps", ""),
            ("  calls ", "dim"),
            f"{v.calls_done}/{v.calls_total}",
            ("  tokens ", "dim"),
            f"{compact_tokens(v.tokens_in)}→{compact_tokens(v.tokens_out)}",
            "  ",
            format_usd(v.cost_usd),
            "  ",
            elapsed(v.elapsed(now)),
            "  ",
            (status, STATUS_STYLE.get(status, "bold")),
        )
        if self.outcome is not None and self.outcome.result.run_id is not None:
            totals.append(f"  saved as run {self.outcome.result.run_id}", "dim")
        self.query_one("#totals", Static).update(totals)

    # --- actions ----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # The footer has room for one of the two at 80 columns: cancel while the run goes,
        # history once it is stored.
        if action == "cancel_run":
            return self.busy and not self._cancelling
        if action == "history":
            return self.services.open_db is not None and not self.busy
        return True

    def action_cancel_run(self) -> None:
        from tokyo_cli.tui.screens.modals import ConfirmScreen

        if not self.busy:
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self.cancel_run()

        self.app.push_screen(
            ConfirmScreen("Cancel the run? Finished steps keep their findings; it is saved as cancelled."),
            answer,
        )

    def action_history(self) -> None:
        from tokyo_cli.tui.screens.history import HistoryScreen

        self.app.push_screen(HistoryScreen(self.services))
