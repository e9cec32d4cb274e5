"""``tokyo describe``: a walkthrough of a change — what it does, a file table, risk areas and a
suggested title and description (the packaged ``describe`` workflow; offline, the walkthrough
is built from the change alone)."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from tokyo_cli.cli.common import (
    AllOption,
    ApiBaseOption,
    BaseOption,
    DbOption,
    ModelOption,
    NoCacheOption,
    OfflineOption,
    OutputOption,
    PathArgument,
    PathsOption,
    QuietOption,
    StagedOption,
    WorkingOption,
    console,
    settings_for,
)

HELP = """Describe a change: what it does, every file with its status and +/- lines, risk areas,
and a suggested pull request title and description.

Target as for `tokyo review` (default: uncommitted changes, else your branch against its
merge-base). With a model (Kenji's, --model or --api-base) the prose is the model's; the file
table is always the change's own. Offline (no key, or --offline) the walkthrough is built from
the change alone: files, status (added, modified, deleted, renamed), +/- lines, language,
tests touched. The run is stored in history like a review.
"""


class DescribeFormat(str, Enum):
    terminal = "terminal"
    markdown = "markdown"
    json = "json"


def describe(
    path: PathArgument = Path("."),
    staged: StagedOption = False,
    working: WorkingOption = False,
    base: BaseOption = None,
    all_files: AllOption = False,
    paths: PathsOption = None,
    model: ModelOption = None,
    api_base: ApiBaseOption = None,
    offline: OfflineOption = None,
    fmt: Annotated[DescribeFormat, typer.Option("--format", "-f", help="Output format.")] = DescribeFormat.terminal,
    output: OutputOption = None,
    no_cache: NoCacheOption = False,
    db: DbOption = None,
    quiet: QuietOption = False,
) -> int:
    from tokyo_cli.cli.common import require_repo_root
    from tokyo_cli.cli.progress import ProgressListener
    from tokyo_cli.engine.review import ReviewRequest, prepare_review, run_review_blocking
    from tokyo_cli.errors import TokyoError

    root = require_repo_root(path)
    settings = settings_for(
        workflow="describe", model=model, api_base=api_base, offline=offline, db=db, cache=False if no_cache else None
    )
    prepared = prepare_review(
        ReviewRequest(
            repo=root, staged=staged, working=working, base=base, all_files=all_files, paths=list(paths or [])
        ),
        settings,
    )
    progress = ProgressListener(quiet=quiet)
    progress.start()
    try:
        outcome = run_review_blocking(prepared, settings, progress)
    finally:
        progress.stop()
    result = outcome.result
    if result.walkthrough is None:  # a cancelled run, or a repository workflow of that name refused
        raise TokyoError("no walkthrough was produced: " + (result.error or result.status), exit_code=3)
    for step in result.steps:
        if step.error:
            console(stderr=True).print(
                f"[yellow]warning:[/] {step.step_id}: {step.error}", markup=True, highlight=False
            )
    text = _render(result.walkthrough, fmt, output)
    if text is not None and output is None:
        sys.stdout.write(text)
    elif text is not None and output is not None:
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise TokyoError(f"cannot write {output}: {exc.strerror or exc}", exit_code=3) from None
        console(stderr=True).print(f"Walkthrough written to {output}")
    return 0 if result.status != "cancelled" else 130


def _render(w: object, fmt: DescribeFormat, output: Path | None) -> str | None:
    """The walkthrough in ``fmt`` as text; printed straight to the terminal (``None``) for
    the terminal format without ``--output``."""
    from tokyo_cli.report.terminal import render_walkthrough_terminal
    from tokyo_cli.report.walkthrough import walkthrough_json, walkthrough_markdown
    from tokyo_cli.results import Walkthrough

    assert isinstance(w, Walkthrough)
    if fmt is DescribeFormat.markdown:
        return walkthrough_markdown(w)
    if fmt is DescribeFormat.json:
        return walkthrough_json(w)
    if output is None:
        render_walkthrough_terminal(w, console())
        return None
    from io import StringIO

    from rich.console import Console

    buf = StringIO()
    render_walkthrough_terminal(w, Console(file=buf, width=120, color_system=None))
    return buf.getvalue()
