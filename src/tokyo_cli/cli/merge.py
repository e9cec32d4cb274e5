"""``tokyo merge``: join shard outputs into one run, report it and store it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from tokyo_cli.cli.common import DbOption, console, settings_for
from tokyo_cli.cli.review import FormatOption, JsonOutputOption, ReportOutputOption, StepOutputsOption

HELP = """Merge the outputs of `tokyo review --shard I/N` into one run, report it and store it.

  tokyo review --all --shard 1/3 -f json -o shard-1.json     (one per CI matrix job)
  tokyo merge shard-*.json -f sarif -o tokyo.sarif

Inputs are tokyo JSON reports (lossless) or tokyo SARIF (findings and the shard's identity;
no steps, calls or file list). Every input must be a shard of the same change; findings
are de-duplicated by fingerprint and grouped across shards as one run would group them. A
missing or failed shard makes the merged run partial and the report names it.
--synthesize lets the lead (Kenji) synthesise the merged findings when a model is available.

Exit codes as for tokyo review: 0 nothing at/above --fail-on; 1 findings at/above it (in a
partial run too: a shard missing or failed); 2 bad input (a file that is not a tokyo report,
shards of different changes); 3 nothing usable; 4 not saved to history.
"""


def merge(
    files: Annotated[
        list[Path], typer.Argument(metavar="FILE...", help="Shard outputs: tokyo JSON or SARIF files.", dir_okay=False)
    ],
    fmt_name: FormatOption = "terminal",
    output: ReportOutputOption = None,
    fail_on: Annotated[
        str | None,
        typer.Option("--fail-on", metavar="SEVERITY", help="critical|high|medium|low|info. [default: the shards']"),
    ] = None,
    synthesize: Annotated[
        bool, typer.Option("--synthesize", help="Let the lead agent synthesise the merged findings (needs a model).")
    ] = False,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="litellm model id for the synthesis (or TOKYO_MODEL).")
    ] = None,
    api_base: Annotated[
        str | None, typer.Option("--api-base", metavar="URL", help="OpenAI-compatible server for the synthesis.")
    ] = None,
    max_cost: Annotated[
        float | None, typer.Option("--max-cost", metavar="USD", min=0, help="Cost cap of the synthesis call.")
    ] = None,
    json_output: JsonOutputOption = None,
    step_outputs: StepOutputsOption = False,
    db: DbOption = None,
    no_store: Annotated[bool, typer.Option("--no-store", help="Do not store the merged run in history.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No notes on stderr.")] = False,
) -> int:
    from tokyo_cli.cli.review import _emit_report, emit_extras, report_format, saved_line
    from tokyo_cli.engine.merging import merge_runs
    from tokyo_cli.engine.review import ReviewOutcome, store_result
    from tokyo_cli.report.reading import read_report

    fmt = report_format(fmt_name)
    settings = settings_for(fail_on=fail_on, db=db, model=model, api_base=api_base, max_cost=max_cost)
    inputs = [(str(path), read_report(path)) for path in files]
    result = merge_runs(inputs, fail_on=settings.fail_on if fail_on else None)
    if synthesize:
        import asyncio

        from tokyo_cli.engine.merging import synthesize_merged

        box = []

        async def main() -> None:
            box.append(await synthesize_merged(result, settings, lambda event: None))

        asyncio.run(main())
    store_error = None if no_store else store_result(result, settings)
    outcome = ReviewOutcome(result=result, store_error=store_error)
    from tokyo_cli.github.context import untrusted_output

    with untrusted_output(step_outputs):  # the runner must not obey "::" commands in findings
        _emit_report(result, fmt, output, store_error=store_error)
        emit_extras(result, fmt, output, json_output=json_output, step_outputs=step_outputs, store_error=store_error)
    line = saved_line(outcome)
    if line is not None:
        sys.stderr.write(line + "\n")
    elif result.run_id is not None and not quiet:
        console(stderr=True).print(f"[dim]Merged run {result.run_id} saved to history (tokyo history).[/]")
    return outcome.exit_code() if not no_store else result.exit_code()
