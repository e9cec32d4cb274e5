"""A finding in full: severity, title, where, body, suggestion and the diff lines around it."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from tokyo_cli.findings import Finding
from tokyo_cli.report import clean_text, cwe_text, finding_body, one_line
from tokyo_cli.tui.hunks import HunkExcerpt
from tokyo_cli.tui.style import SEVERITY_STYLE, location, severity_text

SOURCES = {"model": "from the model", "analyzer": "from an analyzer", "synthesis": "from the synthesis"}


def hunk_text(hunk: HunkExcerpt) -> Text:
    """The excerpt as numbered diff lines, the finding's lines marked with ``▶``."""
    out = Text(no_wrap=True, overflow="ellipsis")
    if hunk.header:
        out.append(one_line(hunk.header) + "\n", style="cyan")
    width = max([len(str(dl.new_line or dl.old_line or 0)) for dl in hunk.lines] + [3])
    for dl in hunk.lines:
        number = dl.new_line if dl.new_line is not None else ""
        focus = dl.new_line is not None and dl.new_line in hunk.focus and dl.kind != "-"
        style = {"+": "green", "-": "red"}.get(dl.kind, "")
        out.append("▶" if focus else " ", "bold")
        out.append(f"{number:>{width}} ", "dim")
        out.append(f"{dl.kind} {clean_text(dl.text).expandtabs(4)}\n", f"{style} bold" if focus else style)
    if hunk.note:
        out.append(one_line(hunk.note) + "\n", style="dim italic")
    out.rstrip()
    return out


def detail_renderable(
    finding: Finding,
    hunk: HunkExcerpt | None,
    *,
    decision: tuple[str, str | None] = ("open", None),
    agent_names: dict[str, str] | None = None,
) -> RenderableType:
    """Everything about ``finding``; ``hunk`` None means the diff is still loading.

    ``decision`` is the ledger's ``(status, reason)``: open, accepted or dismissed.
    """
    names = agent_names or {}
    who = ", ".join(names.get(a, a) for a in finding.agents)
    head = Text.assemble(severity_text(finding.severity), "  ", (one_line(finding.category), "italic"), "  ·  ", who)
    status, reason = decision
    if status != "open":
        head.append(f"   {status}", style="bold magenta")
    parts: list[RenderableType] = [
        head,
        Text(one_line(finding.title), style=f"bold {SEVERITY_STYLE[finding.severity].replace('reverse', '')}".strip()),
        Text.assemble(
            (location(finding), "underline"),
            ("  ·  fingerprint ", "dim"),
            finding.fingerprint,
            ("  ·  " + (f"rule {one_line(finding.rule)}" if finding.rule else SOURCES.get(finding.source, "")), "dim"),
            (f"  ·  {cwe_text(finding)}" if finding.cwe else "", "dim"),
        ),
    ]
    if reason:
        parts.append(Text(f"{status.capitalize()}: {one_line(reason)}", style="magenta"))
    body = finding_body(finding)
    if body:
        parts += [Text(""), Text(body)]
    if finding.suggestion:
        parts += [Text(""), Text("Suggestion", style="bold"), Text(clean_text(finding.suggestion).strip())]
    parts += [Text(""), Text("Diff", style="bold")]
    parts.append(hunk_text(hunk) if hunk is not None else Text("loading the diff…", style="dim italic"))
    return Group(*parts)


class FindingDetail(VerticalScroll, can_focus=True):
    """Scrollable detail of the highlighted finding (or a hint when there is none)."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.finding: Finding | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text("No finding selected.", style="dim"), classes="detail-body")

    def show(
        self,
        finding: Finding | None,
        hunk: HunkExcerpt | None = None,
        *,
        decision: tuple[str, str | None] = ("open", None),
        agent_names: dict[str, str] | None = None,
        empty: str = "No finding selected.",
    ) -> None:
        """Show ``finding`` (``None``: the ``empty`` hint); scrolls back to the top on change."""
        if finding is None or self.finding is None or finding.fingerprint != self.finding.fingerprint:
            self.scroll_home(animate=False)
        self.finding = finding
        content = (
            Text(empty, style="dim")
            if finding is None
            else detail_renderable(finding, hunk, decision=decision, agent_names=agent_names)
        )
        self.query_one(".detail-body", Static).update(content)
