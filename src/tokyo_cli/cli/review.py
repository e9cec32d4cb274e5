"""``tokyo review``: run the agent team over a change and report."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tokyo_cli.cli.common import (
    AllOption,
    ApiBaseOption,
    BaseOption,
    DbOption,
    ModelOption,
    NoCacheOption,
    OfflineOption,
    PathArgument,
    PathsOption,
    QuietOption,
    StagedOption,
    WorkingOption,
    console,
    settings_for,
    warn_plugins,
)

if TYPE_CHECKING:
    from tokyo_cli.engine.review import ReviewOutcome
    from tokyo_cli.plugins import ReportFormatPlugin
    from tokyo_cli.results import RunResult

HELP = """Review a change with the agent team and print the report.

Target (pick one; default: uncommitted changes if any, else your branch against its
merge-base with the default branch — the report says which it chose):

  tokyo review --staged          what `git commit` would commit
  tokyo review --working         everything uncommitted (staged, unstaged, untracked)
  tokyo review --base main       main...HEAD, like a pull request
  tokyo review --all             every tracked file, as an audit

Sharding (a CI matrix): --shard I/N reviews part I of N of the change's files (a
deterministic split balanced by changed bytes, every file in exactly one shard); `tokyo
merge` joins the N JSON or SARIF outputs into one run.

Models: each agent uses its own model when its provider key is set (ANTHROPIC_API_KEY,
OPENAI_API_KEY, GROQ_API_KEY, GEMINI_API_KEY); without one it runs its offline analyzers.
--model sets one model for every agent; --api-base points at any OpenAI-compatible server
(Ollama, vLLM, llama.cpp).

Exit codes: 0 nothing at/above --fail-on; 1 findings at/above it (also when some steps
failed: the run is partial); 2 usage or configuration error; 3 nothing usable came back
(every step failed, no analyzer finding); 4 the run was not saved to history (with --github:
or the review not posted); 130 interrupted (what finished is stored).
"""


class ReportFormat(str, Enum):
    """The built-in report formats (plugins add more: :func:`report_format`)."""

    terminal = "terminal"
    markdown = "markdown"
    json = "json"
    sarif = "sarif"


FormatOption = Annotated[
    str,
    typer.Option(
        "--format",
        "-f",
        metavar="FORMAT",
        help="terminal|markdown|json|sarif, or a format a plugin adds (tokyo plugins list). [default: terminal]",
    ),
]
ReportOutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", dir_okay=False, help="Write the report to FILE.")
]
JsonOutputOption = Annotated[
    Path | None,
    typer.Option(
        "--json-output",
        metavar="FILE",
        dir_okay=False,
        help="Also write the JSON report to FILE, whatever --format (tokyo merge reads it).",
    ),
]
StepOutputsOption = Annotated[
    bool,
    typer.Option(
        "--step-outputs",
        help="In GitHub Actions: status and counts as step outputs, the report in the job summary "
        "(the action's audit and merge modes).",
    ),
]
_SUFFIXES = {".md": ReportFormat.markdown, ".json": ReportFormat.json, ".sarif": ReportFormat.sarif}


def report_format(name: str) -> ReportFormat | ReportFormatPlugin:
    """The built-in format called ``name``, else the plugin format (plugins load only then).

    Raises:
        ConfigError: "unknown report format 'x' (known: terminal, markdown, json, sarif, ...)".
    """
    try:
        return ReportFormat(name)
    except ValueError:
        pass
    from tokyo_cli.errors import ConfigError
    from tokyo_cli.plugins import registry

    found = registry().report_formats.get(name)
    if found is None:
        known = [*(f.value for f in ReportFormat), *sorted(registry().report_formats)]
        raise ConfigError(f"unknown report format {name!r} (known: {', '.join(known)})")
    return found


def review(
    path: PathArgument = Path("."),
    staged: StagedOption = False,
    working: WorkingOption = False,
    base: BaseOption = None,
    all_files: AllOption = False,
    paths: PathsOption = None,
    shard: Annotated[
        str | None,
        typer.Option(
            "--shard", metavar="I/N", help="Review shard I of N of the change (1-based); join with tokyo merge."
        ),
    ] = None,
    workflow: Annotated[
        str | None, typer.Option("--workflow", "-w", help="Workflow name or YAML file. [default: review]")
    ] = None,
    model: ModelOption = None,
    api_base: ApiBaseOption = None,
    offline: OfflineOption = None,
    context_window: Annotated[
        int | None,
        typer.Option(
            "--context-window",
            metavar="TOKENS",
            min=2048,
            help="The model's context window, for one litellm's model map does not know (a local model). "
            "[default: the map's for --model, else each agent's]",
        ),
    ] = None,
    max_output_tokens: Annotated[
        int | None,
        typer.Option("--max-output-tokens", metavar="TOKENS", min=16, help="Output cap per call, every agent."),
    ] = None,
    callbacks: Annotated[
        list[str] | None,
        typer.Option(
            "--callback",
            metavar="NAME",
            help="A litellm callback for every call, e.g. langfuse (repeatable; or TOKYO_CALLBACKS=a,b).",
        ),
    ] = None,
    timeout: Annotated[
        float | None, typer.Option("--timeout", metavar="SECONDS", help="Per provider call. [default: 120]")
    ] = None,
    fail_on: Annotated[
        str | None,
        typer.Option("--fail-on", metavar="SEVERITY", help="critical|high|medium|low|info. [default: workflow's]"),
    ] = None,
    min_severity: Annotated[
        str | None,
        typer.Option(
            "--min-severity",
            metavar="SEVERITY",
            help="Show findings at or above it in the terminal, Markdown and GitHub comments; "
            "JSON, SARIF and history keep all. [default: workflow's, low]",
        ),
    ] = None,
    fmt_name: FormatOption = "terminal",
    output: ReportOutputOption = None,
    max_cost: Annotated[
        float | None,
        typer.Option("--max-cost", metavar="USD", min=0, help="Hard cost cap: no call starts that could exceed it."),
    ] = None,
    json_output: JsonOutputOption = None,
    step_outputs: StepOutputsOption = False,
    no_cache: NoCacheOption = False,
    since_last: Annotated[
        bool, typer.Option("--since-last", help="Only what changed since this branch's last review.")
    ] = False,
    github: Annotated[
        bool,
        typer.Option(
            "--github", help="Review the pull request of GITHUB_EVENT_PATH and post a review (GitHub Actions)."
        ),
    ] = False,
    max_comments: Annotated[
        int, typer.Option("--max-comments", metavar="N", min=0, help="With --github: at most N inline comments.")
    ] = 25,
    db: DbOption = None,
    quiet: QuietOption = False,
    tui: Annotated[
        bool, typer.Option("--tui", help="Watch the run live full screen (Textual); the report prints when you quit.")
    ] = False,
    describe: Annotated[
        bool, typer.Option("--describe", help="Add a walkthrough of the change (a describe step, run alongside).")
    ] = False,
) -> int:
    from tokyo_cli.engine.early import start_import_early

    settings = settings_for(
        workflow=workflow,
        model=model,
        api_base=api_base,
        offline=offline,
        context_window=context_window,
        max_output_tokens=max_output_tokens,
        callbacks=callbacks or None,
        timeout=timeout,
        fail_on=fail_on,
        min_severity=min_severity,
        db=db,
        max_cost=max_cost,
        cache=False if no_cache else None,
    )
    # First, before anything else is loaded: the litellm import is the longest single piece
    # of a cold run, and it overlaps everything below (reading the change, the analyzers).
    start_import_early(settings)
    from tokyo_cli.cli.common import require_repo_root
    from tokyo_cli.cli.progress import ProgressListener
    from tokyo_cli.engine.review import ReviewRequest, prepare_review, run_review_blocking

    fmt = report_format(fmt_name)
    spec = None
    if shard is not None:
        from tokyo_cli.engine.shards import ShardSpec

        spec = ShardSpec.parse(shard)
        if github:
            from tokyo_cli.errors import ConfigError

            raise ConfigError("--shard splits an audit or a change across jobs; it cannot post a pull request review")
    root = require_repo_root(path)
    warn_plugins()
    request = ReviewRequest(
        repo=root,
        staged=staged,
        working=working,
        base=base,
        all_files=all_files,
        paths=list(paths or []),
        since_last=since_last,
        shard=spec,
    )
    gh = None
    if github:
        from tokyo_cli.github import action

        gh = action.start()
        if gh.skip:
            written = _skipped_sarif(fmt, output, gh.skip)
            action.skipped_outputs(gh, written)
            return gh.done or 0
        prepared = action.prepare(gh, request, settings)
    else:
        prepared = prepare_review(request, settings)
    if describe:
        from dataclasses import replace

        from tokyo_cli.config.workflow import with_describe

        prepared = replace(prepared, workflow=with_describe(prepared.workflow, prepared.team))
    if tui:
        from tokyo_cli.tui.launch import live_review

        outcome = live_review(prepared, settings)
    else:
        progress = ProgressListener(quiet=quiet)
        progress.start()
        try:
            outcome = run_review_blocking(prepared, settings, progress)
        finally:
            progress.stop()
    result = outcome.result
    from tokyo_cli.github.context import untrusted_output

    with untrusted_output(github or step_outputs):  # the runner must not obey "::" commands in findings
        _emit_report(result, fmt, output, store_error=outcome.store_error)
        if github and output is not None:
            _emit_report(result, ReportFormat.terminal, None)  # the job log keeps the report
        emit_extras(
            result,
            fmt,
            output,
            json_output=json_output,
            step_outputs=step_outputs and not github,
            store_error=outcome.store_error,
        )
    saved = saved_line(outcome)
    if saved is not None:
        sys.stderr.write(saved + "\n")
    elif result.run_id is not None and not quiet:
        console(stderr=True).print(f"[dim]Run {result.run_id} saved to history (tokyo history).[/]")
    if gh is not None:
        return action.finish(
            gh,
            prepared,
            outcome,
            max_comments=max_comments,
            sarif_written=output is not None
            and output.is_file()
            and (fmt is ReportFormat.sarif or output.suffix.lower() == ".sarif"),
        )
    return outcome.exit_code()


def emit_extras(
    result: RunResult,
    fmt: ReportFormat | ReportFormatPlugin,
    output: Path | None,
    *,
    json_output: Path | None,
    step_outputs: bool,
    store_error: str | None,
) -> None:
    """``--json-output`` (the JSON report, also written) and ``--step-outputs`` (GitHub step
    outputs and job summary, :func:`tokyo_cli.github.steps.publish_step`)."""
    if json_output is not None:
        _emit_report(result, ReportFormat.json, json_output, store_error=store_error)
    if step_outputs:
        from tokyo_cli.github.steps import publish_step

        sarif = (
            output is not None and output.is_file() and (fmt is ReportFormat.sarif or output.suffix.lower() == ".sarif")
        )
        publish_step(result, sarif_written=sarif)


def _skipped_sarif(fmt: ReportFormat | ReportFormatPlugin, output: Path | None, reason: str) -> bool:
    """For a skipped pull request, write a valid empty SARIF file where the SARIF report was
    asked for (so an upload step never misses its file); True when written."""
    if output is None or not (fmt is ReportFormat.sarif or output.suffix.lower() == ".sarif"):
        return False
    from tokyo_cli.report.sarif import empty_sarif

    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(empty_sarif(f"tokyo did not review: {reason}"), encoding="utf-8")
    except OSError as exc:
        sys.stderr.write(f"tokyo: warning: cannot write {output}: {exc.strerror or exc}\n")
        return False
    return True


def saved_line(outcome: ReviewOutcome) -> str | None:
    """The one line (never wrapped) for a run that was interrupted or not saved to history,
    else ``None``: ``"tokyo: interrupted: run 7 saved as cancelled with 3 findings from the
    steps that finished"``, ``"tokyo: warning: the run was not saved to history: <why>"``."""
    from tokyo_cli.report import one_line, plural

    result = outcome.result
    unsaved = f"the run was not saved to history: {one_line(outcome.store_error)}" if outcome.store_error else None
    if result.status == "cancelled":
        kept = (
            (
                f"run {result.run_id} saved as cancelled with {plural(len(result.findings), 'finding')} "
                "from the steps that finished"
            )
            if unsaved is None
            else unsaved
        )
        return f"tokyo: interrupted: {kept}"
    return None if unsaved is None else f"tokyo: warning: {unsaved}"


def _emit_report(
    result: RunResult, fmt: ReportFormat | ReportFormatPlugin, output: Path | None, *, store_error: str | None = None
) -> None:
    """Print the report to stdout, or write it to ``output`` (format from --format or suffix,
    a plugin's suffix too); ``store_error`` (the run was not saved) goes into the JSON
    report's exit code.

    Raises:
        TokyoError: the file cannot be written, or a plugin's format failed (exit 3).
    """
    if output is not None and fmt is ReportFormat.terminal:
        fmt = _SUFFIXES.get(output.suffix.lower()) or _plugin_suffix(output.suffix.lower()) or fmt
    if not isinstance(fmt, ReportFormat):
        text = _plugin_report(fmt, result)
    elif fmt is ReportFormat.terminal:
        from tokyo_cli.report.terminal import render_terminal

        if output is None:
            render_terminal(result, console())
            return
        from io import StringIO

        from rich.console import Console

        buf = StringIO()
        render_terminal(result, Console(file=buf, width=100, color_system=None))
        text = buf.getvalue()
    elif fmt is ReportFormat.markdown:
        from tokyo_cli.report.markdown import render_markdown

        text = render_markdown(result)
    elif fmt is ReportFormat.sarif:
        from tokyo_cli.report.sarif import sarif_report

        sarif = sarif_report(result)
        if sarif.truncation:
            console(stderr=True).print(f"[yellow]warning:[/] {sarif.truncation}")
        text = sarif.text
    else:
        from tokyo_cli.report.jsonout import render_json

        text = render_json(result, store_error=store_error)
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    from tokyo_cli.errors import TokyoError

    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise TokyoError(f"cannot write {output}: {exc.strerror or exc}", exit_code=3) from None
    console(stderr=True).print(f"Report written to {output}")


def _plugin_suffix(suffix: str) -> ReportFormatPlugin | None:
    """The plugin format whose suffix is ``suffix`` (plugins load only for a suffix that is no
    built-in one)."""
    if not suffix or suffix == ".txt":
        return None
    from tokyo_cli.plugins import registry

    return next((f for f in registry().report_formats.values() if f.suffix == suffix), None)


def _plugin_report(fmt: ReportFormatPlugin, result: RunResult) -> str:
    """A plugin format's report text. Raises TokyoError (exit 3) when the plugin fails."""
    from tokyo_cli.errors import TokyoError

    try:
        text = fmt.render(result)
    except Exception as exc:
        raise TokyoError(
            f"report format {fmt.name!r} (plugin {fmt.plugin}) failed: {type(exc).__name__}: {exc}", exit_code=3
        ) from None
    if not isinstance(text, str):
        raise TokyoError(f"report format {fmt.name!r} (plugin {fmt.plugin}) returned no text", exit_code=3)
    return text
