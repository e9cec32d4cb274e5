"""Findings table + filter line + detail pane, shared by the live screen and a past run.

Keys (shown in the footer while the table has focus): ``enter`` opens, ``v`` cycles the minimum severity,
``a`` the agent, ``s`` the sort order, ``/`` filters by text (title, path, category, rule),
``y`` copies its fingerprint, ``d`` dismisses it
through the findings ledger. The table is rebuilt from :attr:`FindingsView.findings` on every
change (hundreds of rows at most), keeping the highlighted finding.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Input, Static

from tokyo_cli.findings import Finding, Severity
from tokyo_cli.policy import rank_key
from tokyo_cli.report import one_line
from tokyo_cli.tui.hunks import HunkExcerpt
from tokyo_cli.tui.style import location, plain, severity_text
from tokyo_cli.tui.widgets.finding_detail import FindingDetail
from tokyo_cli.tui.widgets.tables import OpenTable

if TYPE_CHECKING:
    from tokyo_cli.tui.app import TokyoApp

SORTS: dict[str, Callable[[Finding], tuple[object, ...]]] = {
    "severity": lambda f: rank_key(f),
    "agent": lambda f: (f.agent, *rank_key(f)),
    "file": lambda f: (f.path, f.line or 0, -f.severity.rank),
    "title": lambda f: (f.title.lower(), *rank_key(f)),
}
SEVERITY_STEPS: list[Severity | None] = [None, Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL]


class FindingsTable(OpenTable):
    """The findings table; re-fits its columns to its own width whenever that changes."""

    def on_resize(self) -> None:
        view = next((a for a in self.ancestors if isinstance(a, FindingsView)), None)
        if view is not None:
            view.rebuild()


class FindingsView(Vertical):
    """The findings of one run. ``hunks`` maps a finding to its diff excerpt (may block)."""

    BINDINGS = [
        Binding("slash", "filter_text", "Filter", key_display="/"),
        Binding("v", "cycle_severity", "Severity"),
        Binding("a", "cycle_agent", "Agent"),
        Binding("s", "cycle_sort", "Sort"),
        Binding("y", "copy_fingerprint", "Copy fp"),
        Binding("d", "dismiss", "Dismiss"),
    ]

    def __init__(
        self,
        *,
        hunks: Callable[[Finding], HunkExcerpt] | None = None,
        agent_names: dict[str, str] | None = None,
        empty: str = "No findings.",
        id: str | None = None,
    ) -> None:
        super().__init__(id=id, classes="findings-view")
        self.findings: list[Finding] = []
        self.hunks = hunks
        self.agent_names = agent_names or {}
        self.empty = empty
        self.min_severity: Severity | None = None
        self.agent: str | None = None
        self.text = ""
        self.sort = "severity"
        self.shown: list[Finding] = []
        self._hunk_cache: dict[int, HunkExcerpt] = {}
        self._columns_for = (0, 0)  # (table width, location width) the columns fit
        self._widths = (20, 40)  # location, title: cells are cut to these with an ellipsis

    @property
    def tokyo(self) -> TokyoApp:
        return cast("TokyoApp", self.app)

    def compose(self) -> ComposeResult:
        yield Static("", classes="filters")
        yield Input(
            placeholder="filter: text in title, path, category or rule — enter to keep, esc to clear",
            classes="filter-input",
        )
        with Horizontal(classes="split"):
            yield FindingsTable(classes="findings-table")
            yield FindingDetail(classes="detail")

    def on_mount(self) -> None:
        self.query_one(".filter-input", Input).display = False
        self.rebuild()

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one(".findings-table", DataTable)

    # --- data -------------------------------------------------------------------------------

    def set_findings(self, findings: list[Finding], *, empty: str | None = None) -> None:
        """Replace the findings (e.g. the run's merged list once it finished)."""
        self.findings = list(findings)
        self._hunk_cache.clear()
        if empty is not None:
            self.empty = empty
        self.rebuild()

    def add_finding(self, finding: Finding) -> None:
        self.findings.append(finding)
        self.rebuild()

    def matches(self, f: Finding) -> bool:
        if self.min_severity is not None and not f.severity.at_least(self.min_severity):
            return False
        if self.agent is not None and self.agent not in f.agents:
            return False
        if self.text:
            hay = " ".join([f.title, f.location, f.category, f.rule or ""]).lower()
            return all(word in hay for word in self.text.lower().split())
        return True

    def selected(self) -> Finding | None:
        """The highlighted finding, or ``None`` when the table is empty."""
        row = self.table.cursor_row
        return self.shown[row] if 0 <= row < len(self.shown) else None

    # --- rendering --------------------------------------------------------------------------

    def _columns(self, table: DataTable[Text]) -> None:
        """Fit the columns to the table's width and the longest location (rebuilt on change)."""
        width = max(40, table.size.width or self.size.width or 80) - 2  # scrollbar
        loc = max([len(location(f)) for f in self.findings] + [8])
        loc = min(loc, max(12, width * 2 // 5))
        if (width, loc) == self._columns_for and table.columns:
            return
        self._columns_for = (width, loc)
        title = max(10, width - (4 + 7 + loc) - 8)
        self._widths = (loc, title)
        table.clear(columns=True)
        table.add_column("Sev", width=4, key="sev")
        table.add_column("Agent", width=7, key="agent")
        table.add_column("Location", width=loc, key="loc")
        table.add_column("Title", width=title, key="title")

    def rebuild(self) -> None:
        """Re-filter, re-sort and redraw, keeping the highlighted finding highlighted."""
        if not self.is_mounted:
            return
        table = self.table
        # Keep the highlighted finding highlighted, unless it is the top row: then stay on
        # top, so the most severe finding is the one shown while findings keep arriving.
        keep = self.selected() if table.cursor_row > 0 else None
        self._columns(table)
        self.shown = sorted((f for f in self.findings if self.matches(f)), key=SORTS[self.sort])
        table.clear()
        loc_w, title_w = self._widths
        for i, f in enumerate(self.shown):
            gone = self.tokyo.decision(f)[0] == "dismissed"
            title = plain(f.title, "dim strike" if gone else "")
            title.truncate(title_w, overflow="ellipsis")
            loc = location(f)
            where = Text(loc if len(loc) <= loc_w else "…" + loc[-(loc_w - 1) :])  # keep the line number
            table.add_row(severity_text(f.severity, short=True), plain(f.agent), where, title, key=str(i))
        if keep is not None and keep in self.shown:
            table.move_cursor(row=self.shown.index(keep), animate=False)
        self._update_filters()
        self._show_selected()

    def _update_filters(self) -> None:
        parts = [
            ("severity ", "dim"),
            (f"≥ {self.min_severity.value}" if self.min_severity else "all", "bold"),
            ("  agent ", "dim"),
            (self.agent_names.get(self.agent, self.agent) if self.agent else "all", "bold"),
            ("  sort ", "dim"),
            (self.sort, "bold"),
        ]
        if self.text:
            parts += [("  text ", "dim"), (f"“{one_line(self.text)}”", "bold")]
        parts.append((f"   {len(self.shown)} of {len(self.findings)} shown", "dim"))
        self.query_one(".filters", Static).update(Text.assemble(*parts))

    def _show_selected(self) -> None:
        finding = self.selected()
        detail = self.query_one(FindingDetail)
        if finding is None:
            hint = self.empty if not self.findings else "No finding matches the filter (v, a, / change it)."
            detail.show(None, empty=hint)
            return
        hunk = self._hunk_cache.get(id(finding))
        detail.show(finding, hunk, decision=self.tokyo.decision(finding), agent_names=self.agent_names)
        if hunk is None:
            self.ensure_hunk(finding)

    def ensure_hunk(self, finding: Finding) -> None:
        """Start loading ``finding``'s diff excerpt unless it is cached."""
        if id(finding) in self._hunk_cache:
            return
        if self.hunks is None:
            self._hunk_loaded(finding, HunkExcerpt(note="no diff for this run"))
        else:
            self._load_hunk(finding)

    @work(thread=True, exclusive=True, group="hunk")
    def _load_hunk(self, finding: Finding) -> None:
        assert self.hunks is not None
        try:
            hunk = self.hunks(finding)
        except Exception as exc:  # a lookup must not take the screen down; say why instead
            hunk = HunkExcerpt(note=f"the diff could not be read: {exc}")
        self.app.call_from_thread(self._hunk_loaded, finding, hunk)

    def _hunk_loaded(self, finding: Finding, hunk: HunkExcerpt) -> None:
        self._hunk_cache[id(finding)] = hunk
        if self.selected() is finding:
            self._show_selected()
        screen = self.app.screen
        if getattr(screen, "finding", None) is finding and getattr(screen, "view", None) is self:
            screen.refresh_detail()  # type: ignore[attr-defined]

    def hunk_for(self, finding: Finding) -> HunkExcerpt | None:
        """The cached excerpt of ``finding`` (``None`` while loading)."""
        return self._hunk_cache.get(id(finding))

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show_selected()

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    # --- actions ----------------------------------------------------------------------------

    def action_open(self) -> None:
        finding = self.selected()
        if finding is not None:
            self.tokyo.open_finding(finding, self)

    def action_cycle_severity(self) -> None:
        i = SEVERITY_STEPS.index(self.min_severity)
        self.min_severity = SEVERITY_STEPS[(i + 1) % len(SEVERITY_STEPS)]
        self.rebuild()

    def action_cycle_agent(self) -> None:
        agents: list[str | None] = [None, *dict.fromkeys(a for f in self.findings for a in f.agents)]
        i = agents.index(self.agent) if self.agent in agents else 0
        self.agent = agents[(i + 1) % len(agents)]
        self.rebuild()

    def action_cycle_sort(self) -> None:
        names = list(SORTS)
        self.sort = names[(names.index(self.sort) + 1) % len(names)]
        self.rebuild()

    def action_filter_text(self) -> None:
        box = self.query_one(".filter-input", Input)
        box.display = True
        box.value = self.text
        box.focus()

    @on(Input.Changed, ".filter-input")
    def _typed(self, event: Input.Changed) -> None:
        self.text = event.value.strip()
        self.rebuild()

    @on(Input.Submitted, ".filter-input")
    def _kept(self, event: Input.Submitted) -> None:
        event.input.display = False
        self.table.focus()

    def key_escape(self) -> bool:
        box = self.query_one(".filter-input", Input)
        if box.has_focus:
            box.value = ""
            box.display = False
            self.table.focus()
            return True
        return False

    def action_copy_fingerprint(self) -> None:
        finding = self.selected()
        if finding is not None:
            self.tokyo.copy_fingerprint(finding)

    def action_dismiss(self) -> None:
        finding = self.selected()
        if finding is not None:
            self.tokyo.ask_dismiss(finding)
