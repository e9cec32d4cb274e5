"""The Markdown report: GitHub-flavoured Markdown for a PR comment, a job summary or a file.

Same content as the terminal report: header, agents table, offline notes, problems, files
not reviewed, files not analyzed (by agent, analyzer and reason, with examples), findings
grouped by file (``**HIGH**`` labels, suggestions in fenced blocks), summary and totals.

Finding titles, bodies, suggestions and summaries come from models, and paths and error
messages from the change under review: all are untrusted. The escaping rules here:

* ``<`` outside code becomes ``&lt;``, so no HTML tag, comment or autolink survives
  (``<img>`` tracking pixels, ``<!--`` hiding text, ``</details>`` breaking layout);
* code spans are found exactly as CommonMark does (a run of n backticks closed by the next
  run of exactly n, on the same line) and kept verbatim, where HTML is inert anyway;
* fenced blocks inside a body are re-emitted inside a fence longer than any backtick run in
  their content, and an unclosed fence is closed at the end of the body, so a body cannot
  swallow the rest of the report;
* suggestions sit in a fence longer than any backtick run they contain;
* ``@name`` gets a zero-width space after the ``@`` so a model cannot ping people or teams;
* table cells escape ``|``; control characters are removed everywhere.
"""

from __future__ import annotations

import re

from tokyo_cli.findings import Finding
from tokyo_cli.report import (
    agent_names,
    blocking_label,
    caveats,
    clean_text,
    commits_line,
    compact_counts,
    count_by_severity,
    cwe_text,
    empty_message,
    finding_body,
    format_seconds,
    format_tokens,
    format_usd,
    group_by_file,
    hidden_note,
    not_analyzed_count,
    not_analyzed_groups,
    not_reviewed,
    offline_notes,
    one_line,
    plural,
    problems,
    shown_findings,
    verification_text,
)
from tokyo_cli.results import RunResult, StepResult
from tokyo_cli.safety.masking import mask_data

DEFAULT_TARGET_HINT = "(chosen by default — use `--staged`, `--base REF` or `--all` to choose)"

NOT_ANALYZED_EXAMPLES = 3  # files listed per "not analyzed" row; the JSON report lists them all
_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_BACKTICKS = re.compile(r"`+")
_MENTION = re.compile(r"(?<![\w@./+-])@(?=[A-Za-z0-9])")
_INFO_CHARS = re.compile(r"[^A-Za-z0-9_+.#-]")


def render_markdown(result: RunResult) -> str:
    """The whole report as one GitHub-flavoured Markdown string, ending with a newline.

    Pure: reads only ``result``. When there are no findings it prints
    :func:`~tokyo_cli.report.empty_message`, which says "No findings." only when nothing was
    left unreviewed.

    Every text is masked first (:func:`tokyo_cli.safety.masking.mask_data`, the one secret detector).
    """
    result = mask_data(result)
    out: list[str] = []
    out += _header(result)
    if result.steps:
        out += ["### Agents", "", *_steps_table(result), ""]
    if result.walkthrough is not None:
        from tokyo_cli.report.walkthrough import walkthrough_markdown

        out += [walkthrough_markdown(result.walkthrough, heading="###"), ""]
    notes = offline_notes(result)
    for note in notes:
        out += [f"> **Offline:** {_prose(note)}", ">"]
    for notice in result.notices:
        out += [f"> **Note:** {_prose(notice)}", ">"]
    if notes or result.notices:
        out[-1] = ""

    trouble = problems(result)
    if trouble:
        out += [f"### Problems ({len(trouble)})", ""]
        out += [f"- {_prose(line)}" for line in trouble]
        out.append("")

    skipped = not_reviewed(result)
    if skipped:
        out += [f"### Not reviewed ({plural(len(skipped), 'file')})", ""]
        out += ["| File | Reason |", "|---|---|"]
        out += [f"| {code_span(n.path, table=True)} | {_cell(n.reason)} |" for n in skipped]
        out.append("")

    missed = not_analyzed_groups(result)
    if missed:
        out += [f"### Not analyzed ({plural(not_analyzed_count(missed), 'file')})", ""]
        out += ["| Agent | Analyzer | Files | Reason | Examples |", "|---|---|--:|---|---|"]
        for g in missed:
            examples = ", ".join(
                code_span(p, table=True) + (f" ({_cell(d)})" if d else "") for p, d in g.items[:NOT_ANALYZED_EXAMPLES]
            )
            more = len(g.items) - NOT_ANALYZED_EXAMPLES
            if more > 0:
                examples += f", … and {more} more"
            out.append(
                f"| {_cell(g.agent)} | {code_span(g.analyzer, table=True)} | {len(g.items)} "
                f"| {_cell(g.reason)} | {examples} |"
            )
        out.append("")

    shown, hidden = shown_findings(result)
    if shown:
        out += [f"### Findings ({len(shown)})", ""]
        names = agent_names(result)
        for path, findings in group_by_file(shown):
            out += [f"#### {code_span(path)}", ""]
            for f in findings:
                out += _finding(f, names)
    if hidden:
        out += [f"_{_prose(hidden_note(result) or '')}_", ""]
    elif not shown:
        out += [f"**{_prose(empty_message(result))}**", ""]
    if result.rejected:
        names = agent_names(result)
        out += [
            f"### Rejected by verification ({len(result.rejected)})",
            "",
            "_False positives in the verifier's judgement: not counted above, kept in history._",
            "",
        ]
        out += [
            f"- **{f.severity.value.upper()}** · {code_span(f.location)} · {_prose(one_line(f.title))} — "
            f"{_prose(verification_text(f, names) or '')}"
            for f in result.rejected
        ]
        out.append("")

    summary = clean_text(result.summary).strip()
    if summary:
        out += ["### Summary", "", escape_block(summary), ""]
    why = caveats(result)
    if result.findings and why:
        out += [f"**Incomplete review:** {_prose(', '.join(why))}.", ""]
    out += _totals(result)
    return "\n".join(out).rstrip("\n") + "\n"


# --- sections ---------------------------------------------------------------------------------


def _header(result: RunResult) -> list[str]:
    target = _prose(one_line(result.target_description) or result.target)
    if result.target_chosen_by_default:
        target += f" _{DEFAULT_TARGET_HINT}_"
    lines = [
        f"## tokyo review: {result.status}",
        "",
        f"- **Repository:** {code_span(result.repo)}",
        f"- **Target:** {target}",
    ]
    commits = commits_line(result)
    if commits:
        lines.append(f"- **Commits:** {code_span(commits)}")
    lines += [
        f"- **Workflow:** {code_span(result.workflow)}",
        f"- **Status:** {result.status}",
        # "run 7", not "#7": GitHub would turn "#7" into a link to issue 7.
        f"- **Run:** {result.run_id if result.run_id is not None else 'not saved'}",
        "",
    ]
    return lines


def _steps_table(result: RunResult) -> list[str]:
    lines = [
        "| Step | Agent | Status | Model | Findings | Tokens in / out | USD | Seconds |",
        "|---|---|---|---|---|--:|--:|--:|",
    ]
    for s in result.steps:
        cells = [
            code_span(s.step_id, table=True),
            _cell(s.agent_name or s.agent),
            s.status,
            _model_cell(s),
            compact_counts(count_by_severity(s.findings), empty="—"),
            f"{format_tokens(s.tokens_in)} / {format_tokens(s.tokens_out)}",
            format_usd(s.cost_usd),
            format_seconds(s.seconds),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _model_cell(step: StepResult) -> str:
    if step.status == "offline":
        return "offline"
    model = step.model or step.configured_model
    return code_span(model, table=True) if model else "—"


def _finding(f: Finding, names: dict[str, str]) -> list[str]:
    label = f"**{f.severity.value.upper()}**"
    # Two trailing spaces: a hard line break, keeping the attribution line under the title.
    lines = [f"{label} · {code_span(f.location)} · {_prose(one_line(f.title))}  "]
    meta = "Raised by " + ", ".join(_prose(one_line(names.get(a, a))) for a in f.agents)
    if f.rule:
        meta += f" · rule {code_span(f.rule)}"
    if f.category and f.category != "general":
        meta += f" · {_prose(one_line(f.category))}"
    if f.cwe:
        meta += f" · {cwe_text(f)}"
    checked = verification_text(f, names)
    if checked:
        meta += f" · {_prose(checked)}"
    lines += [meta, ""]
    body = finding_body(f)
    if body:
        lines += [escape_block(body), ""]
    suggestion = clean_text(f.suggestion).strip("\n")
    if suggestion.strip():
        lines += ["Suggestion:", "", fenced(suggestion, fence_language(f.path)), ""]
    patch = clean_text(f.patch).strip("\n")
    if patch.strip():
        lines += ["Suggested patch (`tokyo fix` applies it):", "", fenced(patch, "diff"), ""]
    return lines


def _totals(result: RunResult) -> list[str]:
    counts = count_by_severity(result.findings)
    findings = str(len(result.findings))
    if result.findings:
        findings += f" ({compact_counts(counts)})"
    rows = [
        ("Findings", findings),
        (blocking_label(result), str(len(result.blocking()))),
    ]
    if result.rejected:
        rows.append(("Rejected", f"{len(result.rejected)} (by a verify step; not counted)"))
    dropped = sum(s.dropped_findings for s in result.steps)
    if dropped:
        rows.append(("Dropped", f"{dropped} (not anchored to the change)"))
    if result.suppressed:
        rows.append(
            (
                "Suppressed",
                f"{result.suppressed} (dismissed in the findings ledger: `tokyo findings list --status dismissed`)",
            )
        )
    rows += [
        ("Model calls", str(len(result.calls))),
        ("Tokens", f"{format_tokens(result.tokens_in)} in / {format_tokens(result.tokens_out)} out"),
        ("Cost", format_usd(result.cost_usd)),
        ("Wall time", f"{format_seconds(result.seconds)} s"),
    ]
    lines = ["### Totals", "", "| | |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return lines


# --- escaping ---------------------------------------------------------------------------------


def fence_language(path: str) -> str:
    """The code-fence info string for ``path``: its extension (``"py"``), or ``""``."""
    ext = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
    return ext if ext.isalnum() else ""


def _longest_backtick_run(text: str) -> int:
    return max((len(m.group()) for m in _BACKTICKS.finditer(text)), default=0)


def fenced(code: str, info: str = "") -> str:
    """``code`` in a backtick fence longer than any backtick run inside it (at least 3).

    A fence closes only on a line of at least as many backticks as opened it (CommonMark
    4.5), so nothing in ``code`` can end the block early. ``info`` is reduced to safe
    characters (a language name).
    """
    fence = "`" * max(3, _longest_backtick_run(code) + 1)
    info = _INFO_CHARS.sub("", info)
    return f"{fence}{info}\n{code}\n{fence}"


def code_span(text: str | None, *, table: bool = False) -> str:
    """``text`` as an inline code span that its own backticks cannot close.

    Uses one more backtick than the longest run inside and pads with spaces when the text
    starts or ends with a backtick (CommonMark 6.1). ``table=True`` also escapes ``|``,
    which GFM tables split cells on even inside code. Newlines become spaces.
    """
    text = one_line(text)
    if not text:
        return "—"
    ticks = "`" * (_longest_backtick_run(text) + 1)
    if text.startswith("`") or text.endswith("`"):
        text = f" {text} "
    if table:
        text = text.replace("|", "\\|")
    return f"{ticks}{text}{ticks}"


def _cell(text: str | None) -> str:
    return _prose(one_line(text)).replace("|", "\\|") or "—"


def _escape_plain(text: str) -> str:
    """Untrusted prose as inert Markdown: ``<`` escaped (no raw HTML, no forged markers),
    ``@mentions`` broken (no pings), ``[`` escaped (no links or remote images: a model could be
    talked into ``[x](javascript:...)`` or a tracking ``![](https://...)``)."""
    return _MENTION.sub("@\u200b", text.replace("<", "&lt;").replace("[", "\\["))


def _prose(text: str) -> str:
    """Escape one paragraph's worth of text; code spans are kept verbatim.

    A code span here must open and close on the same line: CommonMark builds blocks before
    inlines, so a span across lines might be split by a block boundary and its raw content
    would then be read as HTML. Single-line spans are read identically by GitHub.
    """
    out: list[str] = []
    start = i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2  # a backslash-escaped character (a backtick too) is literal text
            continue
        if c != "`":
            i += 1
            continue
        j = i
        while j < n and text[j] == "`":
            j += 1
        run = j - i
        close = -1
        line_end = text.find("\n", j)
        line_end = n if line_end == -1 else line_end
        for m in _BACKTICKS.finditer(text, j, line_end):
            if len(m.group()) == run:
                close = m.start()
                break
        if close == -1:
            i = j  # no closer: the backticks are literal
            continue
        out.append(_escape_plain(text[start:i]))
        out.append(text[i : close + run])
        start = i = close + run
    out.append(_escape_plain(text[start:]))
    return "".join(out)


def escape_block(text: str) -> str:
    """A multi-line untrusted body as safe Markdown (see the module docstring).

    Fenced code blocks (backtick or tilde, CommonMark 4.5) are re-fenced with
    :func:`fenced`; an unclosed one ends at the end of ``text``. Everything else goes
    through the prose escaping.
    """
    lines = clean_text(text).split("\n")
    out: list[str] = []
    prose: list[str] = []
    i = 0
    while i < len(lines):
        m = _FENCE_OPEN.match(lines[i])
        if m and not (m.group(1)[0] == "`" and "`" in m.group(2)):
            fence = m.group(1)
            info = m.group(2).strip().split(" ")[0] if m.group(2).strip() else ""
            close = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$")
            j = i + 1
            while j < len(lines) and not close.match(lines[j]):
                j += 1
            if prose:
                out.append(_prose("\n".join(prose)))
                prose = []
            out.append(fenced("\n".join(lines[i + 1 : j]), info))
            i = j + 1
            continue
        prose.append(lines[i])
        i += 1
    if prose:
        out.append(_prose("\n".join(prose)))
    return "\n".join(out)
