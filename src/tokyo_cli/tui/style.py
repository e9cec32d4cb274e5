"""Shared look of the TUI: severity and status styles and the small text helpers widgets use.

Every piece of untrusted text (model output, paths, provider errors) reaches the screen as a
``rich.text.Text`` built from :func:`tokyo_cli.report.clean_text`, never as markup, so a
finding titled ``[bold]x`` prints literally and escape sequences are stripped.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from rich.text import Text

from tokyo_cli.findings import Finding, Severity
from tokyo_cli.report import finding_location, one_line

SEVERITY_STYLE = {
    Severity.CRITICAL: "bold reverse red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}

STATUS_STYLE = {
    "pending": "dim",
    "starting": "dim",
    "running": "bold",
    "ok": "green",
    "completed": "green",
    "offline": "yellow",
    "partial": "yellow",
    "skipped": "dim",
    "failed": "bold red",
    "cancelled": "yellow",
}

STATUS_ICON = {
    "pending": "·",
    "running": "◌",
    "ok": "✓",
    "offline": "○",
    "partial": "◐",
    "skipped": "–",
    "failed": "✗",
    "cancelled": "⊘",
}


def severity_text(severity: Severity, *, short: bool = False) -> Text:
    """``CRITICAL`` (or ``crit`` when ``short``) in its severity style."""
    label = severity.value
    label = {"critical": "crit", "medium": "med"}.get(label, label) if short else label.upper()
    return Text(label, style=SEVERITY_STYLE[severity])


def status_text(status: str) -> Text:
    return Text(status, style=STATUS_STYLE.get(status, ""))


def plain(text: str | None, style: str = "") -> Text:
    """Untrusted text on one line, safe to render (no markup, no control characters)."""
    return Text(one_line(text), style=style)


def location(finding: Finding) -> str:
    """``path:line`` on one line, the path quoted as git quotes it when it holds a newline or
    another control character (:func:`tokyo_cli.report.finding_location`)."""
    return finding_location(finding)


def when(stamp: datetime, tz: tzinfo | None, *, year: bool = False) -> str:
    """``"01-31 14:05"`` (``"2026-01-31 14:05"`` with ``year``) in ``tz`` (local if None)."""
    local = stamp.astimezone(tz) if tz is not None else stamp.astimezone()
    return local.strftime("%Y-%m-%d %H:%M" if year else "%m-%d %H:%M")


def elapsed(seconds: float) -> str:
    """``"8.2s"``, ``"1m05s"``."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s"
