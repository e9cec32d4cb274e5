"""The walkthrough of a change (:class:`~tokyo_cli.results.Walkthrough`) as Markdown and JSON
(the terminal's is :func:`tokyo_cli.report.terminal.render_walkthrough_terminal`): for
``tokyo describe``, the review reports and the GitHub summary comment.

Every text but the counts comes from the repository or a model: it is masked and escaped like
the rest of the Markdown report (:mod:`tokyo_cli.report.markdown`), cleaned of control
characters for the terminal.
"""

from __future__ import annotations

import json
from typing import Any

from tokyo_cli.report.markdown import _cell, code_span, escape_block
from tokyo_cli.results import FileRow, Walkthrough
from tokyo_cli.safety.masking import mask_data
from tokyo_cli.safety.textsafe import clean_text, one_line


def status_text(row: FileRow) -> str:
    """ "renamed from OLD" for a rename, else the status."""
    return f"renamed from {row.old_path}" if row.status == "renamed" and row.old_path else row.status


def walkthrough_markdown(w: Walkthrough, *, heading: str = "##", max_rows: int | None = None) -> str:
    """``w`` as GitHub-flavoured Markdown: title, overview, file table (at most ``max_rows``
    rows, then a line counting the rest), risk areas, tests touched and the suggested
    description. ``heading`` is the Markdown level of its title."""
    w = mask_data(w)
    by = "offline, from the change itself" if w.source == "offline" else f"by {one_line(w.agent or 'a model')}"
    out = [
        f"{heading} Walkthrough: {escape_block(one_line(w.title))}",
        "",
        f"_{len(w.files)} files, +{w.added} -{w.removed}; written {escape_block(by)}._",
        "",
        escape_block(clean_text(w.overview).strip()),
        "",
    ]
    rows = w.files if max_rows is None else w.files[:max_rows]
    if rows:
        out += ["| File | Status | + | - | Language | Test | Summary |", "|---|---|--:|--:|---|---|---|"]
        for r in rows:
            summary = r.summary or (f"not reviewed: {r.skipped}" if r.skipped else "")
            out.append(
                f"| {code_span(r.path, table=True)} | {_cell(status_text(r))} | {r.added} | {r.removed} | "
                f"{_cell(r.language or '')} | {'yes' if r.test else ''} | {_cell(summary) if summary else ''} |"
            )
        if len(rows) < len(w.files):
            out.append(f"| … | {len(w.files) - len(rows)} more files | | | | | |")
        out.append("")
    if w.risk_areas:
        out += ["**Risk areas:**", ""] + [f"- {escape_block(one_line(r))}" for r in w.risk_areas] + [""]
    if w.tests_touched:
        out += [
            f"**Tests touched:** {', '.join(code_span(p) for p in w.tests_touched[:20])}"
            + (f" and {len(w.tests_touched) - 20} more" if len(w.tests_touched) > 20 else ""),
            "",
        ]
    if w.source == "model":
        out += [
            "**Suggested title:** " + escape_block(one_line(w.title)),
            "",
            "**Suggested description:**",
            "",
            escape_block(clean_text(w.description).strip()),
            "",
        ]
    return "\n".join(out).rstrip("\n") + "\n"


def walkthrough_dict(w: Walkthrough) -> dict[str, Any]:
    """``w`` as JSON-ready data (masked), with the totals ``added`` and ``removed`` (lines)."""
    w = mask_data(w)
    return {**w.model_dump(mode="json"), "added": w.added, "removed": w.removed}


def walkthrough_json(w: Walkthrough) -> str:
    """:func:`walkthrough_dict` as indented JSON, ending with a newline."""
    return json.dumps(walkthrough_dict(w), indent=2, ensure_ascii=False) + "\n"
