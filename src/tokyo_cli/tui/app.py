"""The Textual app: the live review screen (``tokyo review --tui``) or the history browser
(``tokyo tui``), over the services it is given.

Screens (one module each under ``tui/screens``): live run, runs list, one past run, stats,
a finding full screen, and two small dialogs. App-wide actions live here because every
screen with findings needs them: open a finding, copy its fingerprint (OSC 52 clipboard),
dismiss it through the ledger, quit (which first cancels and stores a live run).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App
from textual.binding import Binding

from tokyo_cli.findings import Finding
from tokyo_cli.tui.services import Services

if TYPE_CHECKING:
    from tokyo_cli.engine.review import ReviewOutcome
    from tokyo_cli.tui.widgets.findings_view import FindingsView

LEDGER_MISSING = "Dismissing needs the findings ledger (tokyo_cli.store.ledger), which this build does not have."


class TokyoApp(App[Any]):
    """``TokyoApp(services).run()`` returns the live run's ``ReviewOutcome`` (``None`` when
    browsing history). ``error`` holds an exception the live run raised, for the caller to
    report once the terminal is restored."""

    CSS_PATH = "tokyo.tcss"
    TITLE = "tokyo"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (34, "-tall")]
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True),
        Binding("question_mark", "help", "Keys", key_display="?", show=False),
    ]

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services
        self.decisions: dict[str, tuple[str, str | None]] = {}  # fingerprint -> (status, reason)
        self.pending_dismissals: list[tuple[str, str]] = []  # made before the live run was saved
        self.outcome: ReviewOutcome | None = None
        self.error: BaseException | None = None

    def on_mount(self) -> None:
        if self.services.start_review is not None:
            from tokyo_cli.tui.screens.live import LiveScreen

            self.push_screen(LiveScreen(self.services))
        else:
            from tokyo_cli.tui.screens.history import HistoryScreen

            self.push_screen(HistoryScreen(self.services, root=True))

    # --- app-wide actions -------------------------------------------------------------------

    async def action_quit(self) -> None:
        """Quit; a live run still going is cancelled first and stored as ``cancelled``."""
        from tokyo_cli.tui.screens.live import LiveScreen

        live = next((s for s in self.screen_stack if isinstance(s, LiveScreen)), None)
        if live is not None and live.busy:
            live.cancel_run(quit_after=True)
            return
        self.exit(self.outcome)

    def action_help(self) -> None:
        self.action_show_help_panel()

    def open_finding(self, finding: Finding, view: FindingsView) -> None:
        """Show ``finding`` full screen; ``n``/``p`` there walk ``view``'s shown findings."""
        from tokyo_cli.tui.screens.finding import FindingScreen

        self.push_screen(FindingScreen(finding, view))

    def copy_fingerprint(self, finding: Finding) -> None:
        """Put the fingerprint on the clipboard (OSC 52, so it works over SSH too)."""
        self.copy_to_clipboard(finding.fingerprint)
        self.notify(f"Copied fingerprint {finding.fingerprint}", markup=False)

    def ask_dismiss(self, finding: Finding) -> None:
        """Ask for a reason, then dismiss ``finding`` in the ledger (a notice if no ledger).

        The ledger only knows stored findings, so during a live run the dismissal waits
        until the run is saved (:meth:`flush_dismissals`); the table marks it at once.
        """
        if self.services.dismiss is None or self.services.open_db is None:
            self.notify(LEDGER_MISSING, severity="warning", markup=False, timeout=6)
            return
        if self.decision(finding)[0] == "dismissed":
            self.notify("Already dismissed.", markup=False)
            return
        from tokyo_cli.tui.screens.modals import DismissScreen

        def done(reason: str | None) -> None:
            if not reason:
                return
            self._mark(finding.fingerprint, "dismissed", reason)
            if self._run_unsaved():
                self.pending_dismissals.append((finding.fingerprint, reason))
                self.notify("Dismissal noted: it goes to the ledger once the run is saved.", markup=False)
            else:
                self._dismiss([(finding.fingerprint, reason)])

        self.push_screen(DismissScreen(finding), done)

    def decision(self, finding: Finding) -> tuple[str, str | None]:
        """``(status, reason)`` from the ledger or this session: open, accepted or dismissed."""
        if finding.fingerprint in self.decisions:
            return self.decisions[finding.fingerprint]
        return (finding.status if finding.status in ("accepted", "dismissed") else "open", None)

    def flush_dismissals(self, saved: bool) -> None:
        """Write the dismissals made during the live run, now that it is stored (or say why not)."""
        pending, self.pending_dismissals = self.pending_dismissals, []
        if not pending:
            return
        if saved:
            self._dismiss(pending)
            return
        for fingerprint, _ in pending:
            self.decisions.pop(fingerprint, None)
        self._redraw()
        self.notify("Dismissals not recorded: the run was not saved to history.", severity="error", markup=False)

    def _run_unsaved(self) -> bool:
        from tokyo_cli.tui.screens.live import LiveScreen

        return any(isinstance(s, LiveScreen) and s.busy for s in self.screen_stack)

    @work(thread=True, group="ledger")
    def _dismiss(self, items: list[tuple[str, str]]) -> None:
        from tokyo_cli.errors import TokyoError

        dismiss = self.services.dismiss
        assert dismiss is not None
        for fingerprint, reason in items:
            try:
                self.services.with_db(partial(dismiss, fingerprint=fingerprint, reason=reason))
            except Exception as exc:  # a ledger failure is reported, never takes the screen down
                why = exc.message if isinstance(exc, TokyoError) else f"{type(exc).__name__}: {exc}"
                self.call_from_thread(self._not_dismissed, fingerprint, why)
                continue
            self.call_from_thread(self.notify, f"Dismissed {fingerprint} in the findings ledger.", markup=False)

    def _not_dismissed(self, fingerprint: str, why: str) -> None:
        self.decisions.pop(fingerprint, None)
        self._redraw()
        self.notify(f"Not dismissed: {why}", severity="error", markup=False, timeout=8)

    def _mark(self, fingerprint: str, status: str, reason: str | None) -> None:
        self.decisions[fingerprint] = (status, reason)
        self._redraw()

    def merge_decisions(self, statuses: dict[str, str]) -> None:
        """Fold ledger statuses (``{fingerprint: status}``) in without losing known reasons."""
        for fingerprint, status in statuses.items():
            if status != "open" and self.decisions.get(fingerprint, ("open", None))[0] != status:
                self.decisions[fingerprint] = (status, None)
        self._redraw()

    def _redraw(self) -> None:
        from tokyo_cli.tui.widgets.findings_view import FindingsView

        for screen in self.screen_stack:
            for view in screen.query(FindingsView):
                view.rebuild()
        refresh = getattr(self.screen, "refresh_detail", None)
        if refresh is not None:
            refresh()
