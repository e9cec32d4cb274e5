"""The walkthrough of a change (:class:`~tokyo_cli.results.Walkthrough`) as Markdown, terminal
text and JSON: for ``tokyo describe``, the review reports and the GitHub summary comment.

Every text but the counts comes from the repository or a model: it is masked and escaped like
the rest of the Markdown report (:mod:`tokyo_cli.report.markdown`), cleaned of control
characters for the terminal.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from tokyo_cli.masking import mask_data
from tokyo_cli.report.markdown import _cell, code_span, escape_block
from tokyo_cli.results import FileRow, Walkthrough
from tokyo_cli.textsafe import clean_text, one_line, quote_path

if TYPE_CHECKING:
    from rich.console import Console


def _status(row: FileRow) -> str:
    return f"renamed from {row.old_path}" if row.status == "renamed" and row.old_path else row.status


def walkthrough_markdown(w: Walkthrough, *, heading: str = "##", max_rows: int | None = None) -> str:
    """``w`` as GitHub-flavoured Markdown: title, overview, file table (at most ``max_rows``
    rows, then a line counting the rest), risk areas, tests touched and the suggested
    description. ``heading`` is the Markdown level of its title."""
    w = mask_data(w)
    by = "offline, from the change itself" if w.source == "offline" else f"by {one_line(w.agent or 'a model')}"
    out = [f"{heading} Walkthrough: {escape_block(one_line(w.title))}", "",
           f"_{len(w.files)} files, +{w.added} -{w.removed}; written {escape_block(by)}._", "",
           escape_block(clean_text(w.overview).strip()), ""]
    rows = w.files if max_rows is None else w.files[:max_rows]
    if rows:
        out += ["| File | Status | + | - | Language | Test | Summary |", "|---|---|--:|--:|---|---|---|"]
        for r in rows:
            summary = r.summary or (f"not reviewed: {r.skipped}" if r.skipped else "")
            out.append(f"| {code_span(r.path, table=True)} | {_cell(_status(r))} | {r.added} | {r.removed} | "
                       f"{_cell(r.language or '')} | {'yes' if r.test else ''} | {_cell(summary) if summary else ''} |")
        if len(rows) < len(w.files):
            out.append(f"| … | {len(w.files) - len(rows)} more files | | | | | |")
        out.append("")
    if w.risk_areas:
        out += ["**Risk areas:**", ""] + [f"- {escape_block(one_line(r))}" for r in w.risk_areas] + [""]
    if w.tests_touched:
        out += [f"**Tests touched:** {', '.join(code_span(p) for p in w.tests_touched[:20])}"
                + (f" and {len(w.tests_touched) - 20} more" if len(w.tests_touched) > 20 else ""), ""]
    if w.source == "model":
        out += ["**Suggested title:** " + escape_block(one_line(w.title)), "", "**Suggested description:**", "",
                escape_block(clean_text(w.description).strip()), ""]
    return "\n".join(out).rstrip("\n") + "\n"


def walkthrough_dict(w: Walkthrough) -> dict[str, Any]:
    """``w`` as JSON-ready data (masked), with the totals ``added`` and ``removed`` (lines)."""
    w = mask_data(w)
    return {**w.model_dump(mode="json"), "added": w.added, "removed": w.removed}


def walkthrough_json(w: Walkthrough) -> str:
    """:func:`walkthrough_dict` as indented JSON, ending with a newline."""
    return json.dumps(walkthrough_dict(w), indent=2, ensure_ascii=False) + "\n"


def render_walkthrough_terminal(w: Walkthrough, console: Console) -> None:
    """``w`` on a rich console: title, overview, the file table, risk areas."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    w = mask_data(w)
    by = "offline" if w.source == "offline" else one_line(w.agent or "model")
    console.print(Text("Walkthrough: ", style="bold") + Text(one_line(w.title)) + Text(f"  ({by})", style="dim"))
    console.print(Text(clean_text(w.overview).strip()))
    console.print()
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1, 0, 0), pad_edge=False, show_edge=False)
    for name, justify in (("File", "left"), ("Status", "left"), ("+", "right"), ("-", "right"),
                          ("Language", "left"), ("Test", "left"), ("Summary", "left")):
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for r in w.files:
        summary = r.summary or (f"not reviewed: {r.skipped}" if r.skipped else "")
        table.add_row(Text(quote_path(r.path)), Text(one_line(_status(r))), str(r.added), str(r.removed),
                      r.language or "", "yes" if r.test else "", Text(one_line(summary)))
    console.print(table)
    if w.risk_areas:
        console.print(Text("Risk areas", style="bold"))
        for risk in w.risk_areas:
            console.print(Text("  - " + one_line(risk)), overflow="fold")
    if w.source == "model" and w.description.strip():
        console.print()
        console.print(Text("Suggested description", style="bold"))
        console.print(Text(clean_text(w.description).strip()))
