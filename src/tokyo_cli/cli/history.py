"""``tokyo history``: recent runs from the history database."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from tokyo_cli.cli.common import exits, DbOption, JsonOption, console

app = typer.Typer(help="Past runs stored in the history database.", invoke_without_command=True)


@app.callback(invoke_without_command=True)
@exits
def history(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many runs.")] = 20,
    repo: Annotated[Optional[str], typer.Option("--repo", help="Only runs of this repository path.")] = None,
    workflow: Annotated[Optional[str], typer.Option("--workflow", help="Only runs of this workflow.")] = None,
    status: Annotated[Optional[str], typer.Option("--status", help="completed|partial|failed|cancelled.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> int:
    """List recent runs, newest first."""
    if ctx.invoked_subcommand is not None:
        return 0
    from pathlib import Path

    from tokyo_cli.settings import load_settings
    from tokyo_cli.store.db import open_db
    from tokyo_cli.store.history import list_runs

    settings = load_settings(None, db=db)
    repo_path = str(Path(repo).resolve()) if repo else None
    runs = list_runs(open_db(settings.db_path()), limit=limit, repo=repo_path, workflow=workflow, status=status)
    if as_json:
        import json

        typer.echo(json.dumps([r.model_dump(mode="json") for r in runs], indent=2))
        return 0
    if not runs:
        console(stderr=True).print("No runs yet. Run `tokyo review` in a git repository.")
        return 0
    from rich.table import Table

    table = Table("id", "when", "repo", "target", "workflow", "status", "findings", "USD", "s", box=None, pad_edge=False)
    for r in runs:
        counts = " ".join(f"{n}{sev[0].upper()}" for sev, n in r.findings.items() if n) or "0"
        cost = "—" if r.cost_usd is None else f"{r.cost_usd:.4f}"
        when = r.started_at.astimezone().strftime("%Y-%m-%d %H:%M")
        table.add_row(str(r.id), when, Path(r.repo).name, r.target, r.workflow, r.status, counts, cost, f"{r.seconds:.1f}")
    console().print(table)
    return 0
