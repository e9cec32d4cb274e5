"""``tokyo workflows``: list the available workflows and validate workflow files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tokyo_cli.cli.common import JsonOption, RepoOption, console, exits, repo_root_or_none, warn_plugins

app = typer.Typer(help="List and validate workflows (workflows/*.yaml).", no_args_is_help=True)


@app.command("list")
@exits
def list_(repo: RepoOption = Path("."), as_json: JsonOption = False) -> int:
    """List workflows: the packaged ones and the repository's own (which override by name)."""
    from tokyo_cli.config.workflow import list_workflows

    warn_plugins()
    infos = list_workflows(repo_root_or_none(repo))
    if as_json:
        from tokyo_cli.cli.listing import emit_json

        emit_json([{"name": i.name, "description": i.description, "origin": i.origin, "path": i.shown} for i in infos])
        return 0
    from rich.table import Table
    from rich.text import Text

    from tokyo_cli.safety.textsafe import one_line

    table = Table("name", "origin", "description", box=None, pad_edge=False)
    for i in infos:  # Text, never markup: a repository's workflow wrote name and description
        table.add_row(Text(one_line(i.name)), i.origin, Text(one_line(i.description)))
    console().print(table)
    return 0


@app.command("validate")
@exits
def validate(
    files: Annotated[list[Path] | None, typer.Argument(help="Workflow files. Default: every known workflow.")] = None,
    repo: RepoOption = Path("."),
) -> int:
    """Check workflow files strictly: unknown keys, unknown agents, cycles, dangling depends_on.

    Prints every problem as FILE:LINE: key: message. Exit 0 when all are valid, 2 otherwise.
    """
    from tokyo_cli.config.team import load_team
    from tokyo_cli.config.workflow import list_workflows, validate_workflow_file
    from tokyo_cli.safety.textsafe import clean_text, quote_path

    root = repo_root_or_none(repo)
    warn_plugins()
    team = load_team(root)
    targets = [(p, str(p)) for p in files] if files else [(i.path, i.shown) for i in list_workflows(root)]
    out, err = console(), console(stderr=True)
    bad = 0
    for path, shown in targets:
        problems = [p.replace(str(path), shown) for p in validate_workflow_file(path, team)]
        if problems:
            bad += 1
            for p in problems:
                err.print(clean_text(p), markup=False, highlight=False, soft_wrap=True)
        else:
            out.print(f"ok  {quote_path(shown)}", markup=False, soft_wrap=True)
    return 2 if bad else 0
