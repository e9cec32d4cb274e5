"""Markdown for what tokyo posts on a pull request: inline comments, the review body and
the sticky summary comment.

Hidden markers (HTML comments, invisible on GitHub) make re-runs idempotent:

* ``<!-- tokyo:fp=<fingerprint> -->`` on every inline comment and after every finding listed
  in a review body, so a re-push does not post the same finding again;
* ``<!-- tokyo:summary -->`` opens the summary comment, which is found and edited in place.

Untrusted text (titles, bodies, suggestions, paths) goes through the Markdown report's
escaping (:mod:`tokyo_cli.report.markdown`): ``<`` is escaped outside code, so a finding
cannot forge a marker, hide text or close a ``<details>`` block.

Every body fits GitHub's limit of 65,536 characters for comment, review and review-comment
bodies ("Body is too long (maximum is 65536 characters)"): long parts are cut and the cut
is said.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from tokyo_cli.findings import Finding
from tokyo_cli.report import (
    agent_names,
    caveats,
    clean_text,
    compact_counts,
    count_by_severity,
    finding_body,
    format_seconds,
    format_tokens,
    format_usd,
    hidden_note,
    not_reviewed,
    offline_notes,
    one_line,
    plural,
    problems,
)
from tokyo_cli.report.markdown import code_span, escape_block, fence_language, fenced
from tokyo_cli.results import RunResult

MAX_BODY = 65_536
SUMMARY_MARKER = "<!-- tokyo:summary -->"
REVIEW_MARKER = "<!-- tokyo:review -->"
_FP = re.compile(r"<!-- tokyo:fp=([0-9a-f]{16}) -->")
_CUT_NOTE = "\n\n_(cut to fit GitHub's 65,536-character limit)_"
# Room kept in a body for the lines that close it.
_RESERVE = 600


MAX_WALKTHROUGH_ROWS = 100
MAX_WALKTHROUGH = 20_000
"""Characters of the summary comment a walkthrough (``describe: true``) may take."""


def fit_block_md(markdown: str, budget: int) -> str:
    """Already-escaped Markdown cut at a line boundary to at most ``budget`` characters, the
    cut said (a cut inside a line could split an escape or a code span)."""
    if len(markdown) <= budget:
        return markdown
    kept = markdown[: budget - len(_CUT_NOTE)].rsplit("\n", 1)[0]
    return kept + _CUT_NOTE


def fp_marker(fingerprint: str) -> str:
    """The hidden marker for a finding: ``<!-- tokyo:fp=0123456789abcdef -->``."""
    return f"<!-- tokyo:fp={fingerprint} -->"


def fingerprints_in(body: str | None) -> set[str]:
    """Every fingerprint marker in a comment or review body."""
    return set(_FP.findall(body or ""))


def label(f: Finding) -> str:
    return f"**{f.severity.value.upper()}**"


def fit_block(text: str, budget: int) -> str:
    """Untrusted multi-line ``text`` as escaped Markdown of at most ``budget`` characters.

    Cuts the raw text (then escapes it again, so fences stay closed) until it fits, and
    says so. Returns "" when not even the note fits.
    """
    out = escape_block(text)
    if len(out) <= budget:
        return out
    raw = text
    while raw:
        keep = max(0, min(len(raw) - 1, int(len(raw) * budget / max(len(out), 1) * 0.9) - len(_CUT_NOTE)))
        raw = raw[:keep]
        out = escape_block(raw) + _CUT_NOTE if raw else ""
        if len(out) <= budget:
            return out
    return ""


def inline_comment(f: Finding, names: dict[str, str], *, suggestion_block: bool) -> str:
    """The body of one inline review comment (at most :data:`MAX_BODY` characters).

    ``suggestion_block``: render ``f.suggestion`` as a GitHub suggestion (only when the
    comment spans exactly the lines the replacement is for); otherwise as a plain fenced
    block, since a suggestion block would replace the wrong lines.
    """
    who = ", ".join(one_line(names.get(a, a)) for a in f.agents)
    meta = [label(f)]
    if f.category and f.category != "general":
        meta.append(escape_block(one_line(f.category)))
    meta.append(escape_block(who))
    if f.rule:
        meta.append(code_span(f.rule))
    head = f"{fp_marker(f.fingerprint)}\n{' · '.join(meta)}\n\n**{escape_block(one_line(f.title))}**"
    tail = ""
    code = clean_text(f.suggestion).strip("\n")
    if code.strip():
        if suggestion_block:
            tail = "\n\n" + fenced(code, "suggestion")
        else:
            tail = "\n\nSuggested replacement:\n\n" + fenced(code, fence_language(f.path))
    if len(head) + len(tail) > MAX_BODY // 2:
        tail = "\n\n_(the suggested replacement is too long to show here; see the job summary)_"
    body = finding_body(f)
    text = head
    if body:
        text += "\n\n" + fit_block(body, MAX_BODY - len(head) - len(tail) - 2)
    return (text + tail)[:MAX_BODY]


@dataclass(frozen=True)
class Listed:
    """A finding listed in the review body, with why it is not an inline comment."""

    finding: Finding
    reason: str


def review_body(listed: list[Listed], *, inline: int, run_url: str | None) -> tuple[str, set[str]]:
    """The review's body and the fingerprints it lists (only those get markers).

    ``inline``: how many inline comments the review carries. Findings are grouped by reason
    and listed most severe first until the body would pass :data:`MAX_BODY`; the rest are
    counted ("and 12 more: see the summary comment").
    """
    counts = compact_counts(count_by_severity(x.finding for x in listed), empty="")
    lines = [REVIEW_MARKER, "### tokyo review", ""]
    parts = [plural(inline, "inline comment")] if inline else []
    if listed:
        parts.append(f"{plural(len(listed), 'finding')} listed below ({counts})")
    lines.append(("This push: " + " and ".join(parts) + ".") if parts else "This push: no new findings.")
    lines.append("")
    shown: set[str] = set()
    size = sum(len(x) + 1 for x in lines)
    left_out = 0
    for reason, group in _by_reason(listed):
        header = [f"#### {reason} ({len(group)})", ""]
        size += sum(len(x) + 1 for x in header)
        lines += header
        for x in group:
            item = _listed_item(x.finding)
            if size + len(item) + 1 > MAX_BODY - _RESERVE:
                left_out += 1
                continue
            lines.append(item)
            size += len(item) + 1
            shown.add(x.finding.fingerprint)
        lines.append("")
    if left_out:
        lines.append(
            f"_{plural(left_out, 'more finding')} did not fit in this review; the summary "
            "comment and the job summary list everything._"
        )
    if run_url:
        lines.append(f"_[Job log and full report]({run_url})_")
    return "\n".join(lines).rstrip("\n") + "\n", shown


def _by_reason(listed: list[Listed]) -> list[tuple[str, list[Listed]]]:
    groups: dict[str, list[Listed]] = {}
    for x in listed:
        groups.setdefault(x.reason, []).append(x)
    return list(groups.items())


def _where(f: Finding) -> str:
    """``path:line``, with the line the reviewer named for a finding off the changed lines."""
    return f"{f.path}:{f.file_line}" if f.line is None and f.file_line else f.location


def _listed_item(f: Finding) -> str:
    line = f"- {label(f)} {code_span(_where(f))} {escape_block(one_line(f.title))} {fp_marker(f.fingerprint)}"
    body = finding_body(f)
    if body:
        detail = fit_block(body, 4000)
        indented = "\n".join(("  " + x) if x else "" for x in detail.split("\n"))
        line += f"\n  <details><summary>Details</summary>\n\n{indented}\n\n  </details>"
    return line


@dataclass(frozen=True)
class SummaryStats:
    """What this run posted, for the summary comment (counts of findings).

    ``state_marker``: the hidden pull request state (:mod:`tokyo_cli.github.state`), placed
    right after the summary marker so no cut can lose it; ``decisions``: Markdown lines for
    the decisions taken on GitHub (already escaped).
    """

    inline: int = 0
    listed: int = 0
    already_posted: int = 0
    dismissed: int = 0
    review_url: str | None = None
    review_error: str | None = None
    state_marker: str | None = None
    decisions: tuple[str, ...] = ()


def summary_comment(result: RunResult, stats: SummaryStats, *, run_url: str | None = None) -> str:
    """The sticky summary comment: status and severity counts, a table per agent, the
    walkthrough when a describe step ran (at most MAX_WALKTHROUGH_ROWS files), what this
    push posted, cost, coverage, what was not reviewed, decisions taken on GitHub, and every
    open finding of this run (collapsed).

    Starts with :data:`SUMMARY_MARKER` (then the state marker, when given); at most
    :data:`MAX_BODY` characters.
    """
    open_findings = [f for f in result.findings if f.status != "dismissed"]
    counts = compact_counts(count_by_severity(open_findings), empty="no findings")
    commit = result.head_sha[:7] if result.head_sha else "?"
    lines = [SUMMARY_MARKER, *([stats.state_marker] if stats.state_marker else []), f"## tokyo review: {counts}", ""]
    meta = [f"Reviewed {code_span(commit)}", f"workflow {code_span(result.workflow)}", f"status {result.status}"]
    if result.run_id is not None:
        meta.append(f"run {result.run_id}")
    if run_url:
        meta.append(f"[job log]({run_url})")
    lines += [" · ".join(meta), ""]
    lines += _agents_table(result) + [""]
    if result.walkthrough is not None:
        from tokyo_cli.report.walkthrough import walkthrough_markdown

        lines += [
            fit_block_md(
                walkthrough_markdown(result.walkthrough, heading="###", max_rows=MAX_WALKTHROUGH_ROWS), MAX_WALKTHROUGH
            ),
            "",
        ]
    lines.append("**This push:** " + _push_line(stats))
    if stats.review_error:
        lines.append(f"**The review could not be posted:** {escape_block(one_line(stats.review_error))}")
    blocking = [f for f in open_findings if f.severity.at_least(result.fail_on)]
    lines.append(f"**At or above {result.fail_on.value}:** {len(blocking)}")
    lines.append(
        f"**Cost:** {format_usd(result.cost_usd)} · {format_tokens(result.tokens_in)} tokens in / "
        f"{format_tokens(result.tokens_out)} out · {len(result.calls)} model calls · "
        f"{format_seconds(result.seconds)} s"
    )
    lines.append("**Coverage:** " + _coverage(result))
    hidden = hidden_note(result)
    for note in [*result.notices, *offline_notes(result), *([hidden] if hidden else [])]:
        lines.append(f"> {escape_block(one_line(note))}")
    if stats.decisions:
        lines += ["", f"**Decisions on GitHub ({len(stats.decisions)}):**", ""]
        lines += [f"- {d}" for d in stats.decisions[:50]]
    synthesis = clean_text(result.summary).strip()
    if synthesis:
        lines += ["", "**Summary:**", "", fit_block(synthesis, 6000)]
    trouble = problems(result)
    if trouble:
        lines += ["", f"**Problems ({len(trouble)}):**", ""]
        lines += [f"- {escape_block(p)}" for p in trouble[:20]]
    skipped = not_reviewed(result)
    if skipped:
        lines += [
            "",
            "<details><summary>Not reviewed (" + plural(len(skipped), "file") + ")</summary>",
            "",
            "| File | Reason |",
            "|---|---|",
        ]
        lines += [f"| {code_span(n.path, table=True)} | {escape_block(n.reason)} |" for n in skipped[:200]]
        if len(skipped) > 200:
            lines.append(f"| … | {len(skipped) - 200} more |")
        lines += ["", "</details>"]
    footer = [
        "",
        "_Edited in place on every push. tokyo posts COMMENT reviews only; it never approves or requests changes._",
    ]
    shown = [f for f in open_findings if f.severity.at_least(result.min_severity)]
    lines += _all_findings(shown, agent_names(result), MAX_BODY - _RESERVE - sum(len(x) + 1 for x in lines + footer))
    text = "\n".join(lines + footer) + "\n"
    return text[:MAX_BODY]


def _agents_table(result: RunResult) -> list[str]:
    names = agent_names(result)
    rows = ["| Agent | Step | Status | Model | Findings | Cost |", "|---|---|---|---|---|--:|"]
    for s in result.steps:
        model = "offline" if s.status == "offline" else (code_span(s.model or s.configured_model, table=True))
        rows.append(
            "| "
            + " | ".join(
                [
                    escape_block(one_line(names.get(s.agent, s.agent))).replace("|", "\\|"),
                    code_span(s.step_id, table=True),
                    s.status,
                    model,
                    compact_counts(count_by_severity(s.findings), empty="—"),
                    format_usd(s.cost_usd),
                ]
            )
            + " |"
        )
    return rows


def _push_line(stats: SummaryStats) -> str:
    parts = [plural(stats.inline, "new inline comment"), f"{stats.listed} in the review body"]
    if stats.already_posted:
        parts.append(f"{stats.already_posted} already posted on an earlier push")
    if stats.dismissed:
        parts.append(f"{stats.dismissed} dismissed (not posted)")
    text = ", ".join(parts) + "."
    if stats.review_url:
        text += f" [Review]({stats.review_url})"
    return text


def _coverage(result: RunResult) -> str:
    skipped = not_reviewed(result)
    reviewed = len(result.files) - len(skipped)
    text = f"{reviewed} of {plural(len(result.files), 'changed file')} reviewed"
    why = caveats(result)
    return text + (f"; incomplete: {escape_block(', '.join(why))}." if why else ".")


def _all_findings(findings: Iterable[Finding], names: dict[str, str], budget: int) -> list[str]:
    items = list(findings)
    if not items:
        return []
    out = ["", f"<details><summary>All open findings ({len(items)})</summary>", ""]
    used = sum(len(x) + 1 for x in out) + 40
    shown = 0
    for f in items:
        who = ", ".join(one_line(names.get(a, a)) for a in f.agents)
        line = f"- {label(f)} {code_span(f.location)} {escape_block(one_line(f.title))} · {escape_block(who)}"
        if used + len(line) + 1 > budget:
            break
        out.append(line)
        used += len(line) + 1
        shown += 1
    if shown < len(items):
        out.append(f"- … and {len(items) - shown} more (job summary and SARIF have all of them)")
    out += ["", "</details>"]
    return out
