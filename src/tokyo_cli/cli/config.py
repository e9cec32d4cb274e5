"""``tokyo config``: the effective settings of a review and where each came from."""

from __future__ import annotations

from pathlib import Path

import typer

from tokyo_cli.cli.common import JsonOption, RepoOption, console, exits, repo_root_or_none, warn_plugins

app = typer.Typer(help="Show the effective configuration (flags, TOKYO_*, config files).", no_args_is_help=True)


@app.command("show")
@exits
def show(repo: RepoOption = Path("."), as_json: JsonOption = False) -> int:
    """Show every setting with its value and source: default, user config, env (TOKYO_*),
    flag, repository (.tokyo.toml or [tool.tokyo]) or workflow; then the repository's
    overrides applied and refused."""
    from tokyo_cli.cli.common import settings_for
    from tokyo_cli.engine.configview import effective_config

    warn_plugins()
    view = effective_config(settings_for(), repo_root_or_none(repo))
    if as_json:
        typer.echo(view.model_dump_json(indent=2))
        return 0
    from rich.table import Table
    from rich.text import Text

    from tokyo_cli.safety.textsafe import one_line

    out = console()
    state = "" if view.user_config_exists else " (not found)"
    out.print(Text(f"user config: {view.user_config}{state}"))
    if view.repository is not None:
        where = view.repository.settings_file or "no .tokyo.toml or [tool.tokyo]"
        out.print(Text(f"repository: {view.repository.root} ({where})"))
    table = Table("setting", "value", "source", box=None, pad_edge=False)
    for v in view.values:
        value = "—" if v.value is None else str(v.value)
        source = f"{v.source} ({v.detail})" if v.detail else v.source
        table.add_row(v.name, Text(one_line(value)), Text(one_line(source)))  # Text: repository text is never markup
    out.print(table)
    if view.repository is not None:
        for line in [*view.repository.applied, *view.repository.notices]:
            out.print(Text(one_line(line)))
    return 0
