"""The terminal report: a :class:`RunResult` rendered with rich for a person at a shell.

Sections, in order: header (repository, target, workflow, status, run id), one table row per
workflow step, offline notes, problems (failed steps and calls, unavailable analyzers),
files not reviewed with reasons, files an analyzer could not analyze (grouped by agent,
analyzer and reason, with a few examples), findings grouped by file, summary and totals.

Colour and width come from the ``Console`` the caller passes: rich drops ANSI codes when the
output is not a terminal or ``NO_COLOR`` is set. A console of 80 columns gets a report that
fits them; a console that does not wrap (``soft_wrap``, what the CLI uses for piped output)
gets lines as long as their text, so model ids and titles are never broken mid-word.
Untrusted text goes in as ``Text`` objects after :mod:`tokyo_cli.safety.textsafe` (file names through
``quote_path``, titles and ids through ``one_line``, bodies through ``clean_text``), never as
markup, so neither a model nor a file name can inject rich markup, ANSI escape sequences or a
line of its own.
"""

from __future__ import annotations

from rich import box
from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.rule import Rule
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from tokyo_cli.findings import Finding, Severity
from tokyo_cli.report import (
    STEP_STATUS_STYLE,
    agent_names,
    blocking_label,
    caveats,
    clean_text,
    commits_line,
    compact_counts,
    compact_tokens,
    count_by_severity,
    cwe_text,
    empty_message,
    finding_body,
    finding_location,
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
    quote_path,
    shown_findings,
    verification_text,
)
from tokyo_cli.results import RunResult, StepResult, Walkthrough
from tokyo_cli.safety.masking import mask_data

DEFAULT_TARGET_HINT = "(chosen by default — use --staged, --base REF or --all to choose)"
NOT_ANALYZED_EXAMPLES = 3  # files listed under each "not analyzed" group; JSON lists them all

SEVERITY_STYLE: dict[Severity, str] = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}
RUN_STATUS_STYLE = {
    "completed": "bold green",
    "partial": "bold yellow",
    "failed": "bold red",
    "cancelled": "bold magenta",
    "running": "bold blue",
}


def _indent(renderable: RenderableType, columns: int) -> Padding:
    # expand=False: no trailing spaces to the full width in logs and piped output.
    return Padding(renderable, (0, 0, 0, columns), expand=False)


def _prefixed(text: Text, columns: int) -> Text:
    """``text`` with every line indented by ``columns`` spaces, as plain text: for a console
    that does not wrap, where Padding would fill each line to the longest one with spaces."""
    out = Text()
    for i, line in enumerate(text.split("\n", allow_blank=True)):
        if i:
            out.append("\n")
        out.append(" " * columns)
        out.append_text(line)
    return out


def render_terminal(result: RunResult, console: Console) -> None:
    """Print the whole report for ``result`` on ``console`` (stdout in the CLI).

    Never raises for odd data: unknown cost prints ``—``, a step without calls prints zero
    tokens, an offline step prints ``offline`` as its model. When there are no findings the
    last line before the totals is :func:`~tokyo_cli.report.empty_message`, which only says
    "No findings." when nothing was left unreviewed.

    Every text is masked first (:func:`tokyo_cli.safety.masking.mask_data`, the one secret detector).
    """
    result = mask_data(result)
    _rule(console, _title(result))
    console.print(_header(result))
    if result.steps:
        console.print(_steps_table(result, capped=not console.soft_wrap))
        console.print()
    if result.walkthrough is not None:
        render_walkthrough_terminal(result.walkthrough, console)
        console.print()
    notes = offline_notes(result) + [one_line(n) for n in result.notices]
    for note in notes:
        console.print(Text("! ", style="bold yellow") + Text(note, style="yellow"))
    if notes:
        console.print()

    trouble = problems(result)
    if trouble:
        console.print(Text(f"Problems ({len(trouble)})", style="bold red"))
        for line in trouble:
            console.print(_indent(Text(line, style="red"), 2))
        console.print()

    skipped = not_reviewed(result)
    if skipped:
        console.print(Text(f"Not reviewed ({plural(len(skipped), 'file')})", style="bold"))
        for n in skipped:
            row = Text("  ") + Text(quote_path(n.path)) + Text(f" — {n.reason}", style="dim")
            console.print(row, overflow="fold")
        console.print()

    missed = not_analyzed_groups(result)
    if missed:
        console.print(Text(f"Not analyzed ({plural(not_analyzed_count(missed), 'file')})", style="bold"))
        for group in missed:
            console.print(Text("  ") + Text(group.headline, style="yellow"), overflow="fold")
            for path, detail in group.items[:NOT_ANALYZED_EXAMPLES]:
                row = Text("    ") + Text(quote_path(path))
                if detail:
                    row.append(f" — {detail}", style="dim")
                console.print(row, overflow="fold")
            more = len(group.items) - NOT_ANALYZED_EXAMPLES
            if more > 0:
                console.print(Text(f"    … and {more} more (every file: --format json)", style="dim"))
        console.print()

    shown, hidden = shown_findings(result)
    if shown:
        _rule(console, Text(f"Findings ({len(shown)})", style="bold"))
        names = agent_names(result)
        for path, findings in group_by_file(shown):
            console.print(Text(quote_path(path), style="bold underline"), overflow="fold")
            for f in findings:
                console.print(_finding(f, names, piped=console.soft_wrap))
    if hidden:
        console.print(Text(hidden_note(result) or "", style="dim"))
        console.print()
    elif not shown:
        message = empty_message(result)
        style = "bold green" if message == "No findings." else "bold yellow"
        console.print(Text(message, style=style))
        console.print()
    if result.rejected:
        names = agent_names(result)
        console.print(Text(f"Rejected by verification ({len(result.rejected)}; not counted)", style="bold"))
        for f in result.rejected:
            row = (
                Text(f"  {f.severity.value} ", style="dim") + Text(finding_location(f)) + Text(f"  {one_line(f.title)}")
            )
            row.append(f" — {verification_text(f, names)}", style="dim")
            console.print(row, overflow="fold")
        console.print()
    console.print(_summary(result))


def _rule(console: Console, title: Text) -> None:
    """A left-aligned heading rule: the console's width, or 80 columns when the console
    does not wrap (piped output, see ``cli.common.console``: its width is unlimited)."""
    console.print(Rule(title, align="left"), width=min(console.width, 80) if console.soft_wrap else None)


def _title(result: RunResult) -> Text:
    return Text("tokyo review · ", style="bold") + Text(
        result.status, style=RUN_STATUS_STYLE.get(result.status, "bold")
    )


def _header(result: RunResult) -> RenderableType:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column(overflow="fold")
    target = Text(one_line(result.target_description) or result.target)
    if result.target_chosen_by_default:
        target.append(" " + DEFAULT_TARGET_HINT, style="dim")
    grid.add_row("Repository", Text(quote_path(result.repo)))
    grid.add_row("Target", target)
    commits = commits_line(result)
    if commits:
        grid.add_row("Commits", Text(commits))
    grid.add_row("Workflow", Text(one_line(result.workflow)))
    grid.add_row("Status", Text(result.status, style=RUN_STATUS_STYLE.get(result.status, "")))
    grid.add_row("Run", Text(f"#{result.run_id}" if result.run_id is not None else "not saved"))
    return Group(grid, Text())


def _steps_table(result: RunResult, *, capped: bool = True) -> Table:
    # Right padding only: with the box's blank separator that makes two-space gaps.
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1, 0, 0), pad_edge=False, show_edge=False, expand=False)
    # On a width-limited console, max_width caps what a long unbreakable id (a step id, a
    # litellm model id) may claim, so the table still fits 80 columns; "fold" wraps the rest
    # onto the next line. Unwrapped (piped) output keeps every id whole.
    table.add_column("Step", overflow="fold", max_width=14 if capped else None)
    table.add_column("Agent", overflow="fold", max_width=12 if capped else None)
    table.add_column("Status", no_wrap=True)
    table.add_column("Model", overflow="fold", max_width=18 if capped else None)
    table.add_column("Findings")
    table.add_column("Tokens in/out", justify="right", overflow="fold")
    table.add_column("USD", justify="right", no_wrap=True)
    table.add_column("s", justify="right", no_wrap=True)
    for s in result.steps:
        table.add_row(
            Text(one_line(s.step_id)),
            Text(one_line(s.agent_name) or s.agent),
            Text(s.status, style=STEP_STATUS_STYLE.get(s.status, "")),
            _model_cell(s),
            Text(compact_counts(count_by_severity(s.findings), empty="—")),
            Text(f"{compact_tokens(s.tokens_in)}/{compact_tokens(s.tokens_out)}"),
            Text(format_usd(s.cost_usd)),
            Text(format_seconds(s.seconds)),
        )
    return table


def _model_cell(step: StepResult) -> Text:
    if step.status == "offline":
        return Text("offline", style="yellow")
    if step.model:
        return Text(one_line(step.model))
    return Text(one_line(step.configured_model) or "—", style="dim")


def _finding(f: Finding, names: dict[str, str], *, piped: bool = False) -> RenderableType:
    head = Text("  ")
    head.append(f" {f.severity.value.upper()} ", style=SEVERITY_STYLE[f.severity])
    head.append("  ")
    head.append(finding_location(f), style="bold")
    head.append("  ")
    head.append(one_line(f.title))

    meta = Text(", ".join(one_line(names.get(a, a)) for a in f.agents), style="magenta")
    if f.rule:
        meta.append(" · ")
        meta.append(one_line(f.rule), style="dim")
    if f.category and f.category != "general":
        meta.append(" · ")
        meta.append(one_line(f.category), style="dim")
    if f.cwe:
        meta.append(" · ")
        meta.append(cwe_text(f), style="dim")
    checked = verification_text(f, names)
    if checked:
        meta.append(" · ")
        meta.append(checked, style="green" if f.verification in ("verified", "corrected") else "yellow")

    parts: list[RenderableType] = [meta]
    body = finding_body(f)
    if body:
        parts.append(Text(body))
    if f.suggestion and clean_text(f.suggestion).strip():
        code = clean_text(f.suggestion).rstrip("\n")
        parts.append(Text("Suggestion:", style="bold"))
        lexer = Syntax.guess_lexer(f.path, code)
        syntax = Syntax(code, lexer, theme="ansi_dark", background_color="default", word_wrap=True)
        parts.append(_indent(syntax, 2))
    if f.patch and clean_text(f.patch).strip():
        parts.append(Text("Suggested patch (tokyo fix applies it):", style="bold"))
        patch = clean_text(f.patch).rstrip("\n")
        parts.append(
            Text(patch)
            if piped
            else _indent(Syntax(patch, "diff", theme="ansi_dark", background_color="default", word_wrap=True), 2)
        )
    if piped:  # no trailing spaces in logs and pipes; only texts to indent, no syntax panel
        return Group(head, *[_prefixed(p, 4) if isinstance(p, Text) else _indent(p, 4) for p in parts], Text())
    return Group(head, _indent(Group(*parts), 4), Text())


def _summary(result: RunResult) -> RenderableType:
    parts: list[RenderableType] = []
    summary = clean_text(result.summary).strip()
    if summary:
        # Indented 4, like finding bodies: a model's summary line can never sit where a
        # finding's head does (3 columns in), so it cannot pass for one.
        parts += [Text("Summary", style="bold"), _indent(Text(summary), 4), Text()]
    why = caveats(result)
    if result.findings and why:
        # With findings the empty-message line is not printed; coverage gaps still must be.
        parts += [Text("Incomplete review: " + ", ".join(why) + ".", style="yellow"), Text()]

    counts = count_by_severity(result.findings)
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column(overflow="fold")
    findings = Text(f"{len(result.findings)}")
    if result.findings:
        findings.append(f" ({compact_counts(counts)})")
    grid.add_row("Findings", findings)
    blocking = len(result.blocking())
    grid.add_row(
        blocking_label(result),
        Text(str(blocking), style="bold red" if blocking else "green"),
    )
    if result.rejected:
        grid.add_row("Rejected", Text(f"{len(result.rejected)} (by a verify step; not counted)"))
    dropped = sum(s.dropped_findings for s in result.steps)
    if dropped:
        grid.add_row("Dropped", Text(f"{dropped} (not anchored to the change)"))
    if result.suppressed:
        grid.add_row(
            "Suppressed",
            Text(f"{result.suppressed} (dismissed in the findings ledger: tokyo findings list --status dismissed)"),
        )
    grid.add_row("Model calls", Text(str(len(result.calls))))
    grid.add_row(
        "Tokens",
        Text(f"{format_tokens(result.tokens_in)} in / {format_tokens(result.tokens_out)} out"),
    )
    grid.add_row("Cost", Text(format_usd(result.cost_usd)))
    grid.add_row("Wall time", Text(f"{format_seconds(result.seconds)} s"))
    parts += [Text("Totals", style="bold"), _indent(grid, 2)]
    return Group(*parts)


def render_walkthrough_terminal(w: Walkthrough, console: Console) -> None:
    """``w`` on a rich console: title, overview, the file table, risk areas."""
    from tokyo_cli.report.walkthrough import status_text

    w = mask_data(w)
    by = "offline" if w.source == "offline" else one_line(w.agent or "model")
    console.print(Text("Walkthrough: ", style="bold") + Text(one_line(w.title)) + Text(f"  ({by})", style="dim"))
    console.print(Text(clean_text(w.overview).strip()))
    console.print()
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1, 0, 0), pad_edge=False, show_edge=False)
    for name, justify in (
        ("File", "left"),
        ("Status", "left"),
        ("+", "right"),
        ("-", "right"),
        ("Language", "left"),
        ("Test", "left"),
        ("Summary", "left"),
    ):
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for r in w.files:
        summary = r.summary or (f"not reviewed: {r.skipped}" if r.skipped else "")
        table.add_row(
            Text(quote_path(r.path)),
            Text(one_line(status_text(r))),
            str(r.added),
            str(r.removed),
            r.language or "",
            "yes" if r.test else "",
            Text(one_line(summary)),
        )
    console.print(table)
    if w.risk_areas:
        console.print(Text("Risk areas", style="bold"))
        for risk in w.risk_areas:
            console.print(Text("  - " + one_line(risk)), overflow="fold")
    if w.source == "model" and w.description.strip():
        console.print()
        console.print(Text("Suggested description", style="bold"))
        console.print(Text(clean_text(w.description).strip()))
