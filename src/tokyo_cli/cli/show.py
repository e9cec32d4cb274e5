"""``tokyo show RUN_ID``: re-render a stored run's report from the history database alone."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tokyo_cli.cli.common import DbOption
from tokyo_cli.cli.review import FormatOption


def show(
    run_id: Annotated[int, typer.Argument(metavar="RUN_ID", help="A run id from `tokyo history`.")],
    fmt_name: FormatOption = "terminal",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", dir_okay=False, help="Write the report to FILE.")
    ] = None,
    db: DbOption = None,
) -> int:
    """Show a past run's report exactly as `tokyo review` printed it.

    Needs only the history database (not the repository): the same findings, totals,
    suppressed count and coverage notes, in any report format.
    """
    from tokyo_cli.cli.common import warn_plugins
    from tokyo_cli.cli.listing import open_history
    from tokyo_cli.cli.review import _emit_report, report_format
    from tokyo_cli.store.history import load_run

    fmt = report_format(fmt_name)
    warn_plugins()
    database = open_history(db)
    try:
        result = load_run(database, run_id)
    finally:
        database.close()
    _emit_report(result, fmt, output)
    return 0
