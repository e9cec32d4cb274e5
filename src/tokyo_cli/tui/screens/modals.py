"""Small dialogs: confirm (y/n) and the reason for dismissing a finding."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tokyo_cli.findings import Finding
from tokyo_cli.tui.style import location, plain, severity_text


class ConfirmScreen(ModalScreen[bool]):
    """``question`` with y (yes) / n or esc (no); dismisses with the answer."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n", "answer(False)", "No"),
        Binding("escape", "answer(False)", "No", show=False),
    ]

    def __init__(self, question: str) -> None:
        super().__init__(classes="dialog-screen")
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self.question))
            yield Static(
                Text.assemble(("y", "bold"), " yes   ", ("n", "bold"), " / ", ("esc", "bold"), " no"),
                classes="dialog-keys",
            )

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class DismissScreen(ModalScreen[str | None]):
    """Asks why ``finding`` is dismissed; dismisses with the reason, or ``None`` (esc)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, finding: Finding) -> None:
        super().__init__(classes="dialog-screen")
        self.finding = finding

    def compose(self) -> ComposeResult:
        f = self.finding
        with Vertical(classes="dialog"):
            yield Static(Text.assemble(("Dismiss ", "bold"), severity_text(f.severity), " ", plain(f.title)))
            yield Static(Text(f"{location(f)} · fingerprint {f.fingerprint}", style="dim"))
            yield Input(placeholder="why? e.g. false positive: input is validated upstream", id="reason")
            yield Static(
                Text.assemble(("enter", "bold"), " dismiss   ", ("esc", "bold"), " cancel"), classes="dialog-keys"
            )

    def on_mount(self) -> None:
        self.query_one("#reason", Input).focus()

    @on(Input.Submitted, "#reason")
    def _submit(self, event: Input.Submitted) -> None:
        reason = event.value.strip()
        if not reason:
            self.notify("Say why, so the next reader knows.", severity="warning", markup=False)
            return
        self.dismiss(reason)

    def action_cancel(self) -> None:
        self.dismiss(None)
