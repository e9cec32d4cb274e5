"""``tokyo agents``: the review team, as configured for this repository."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tokyo_cli.cli.common import JsonOption, RepoOption, console, exits, repo_root_or_none, warn_plugins

app = typer.Typer(help="Show the agent team (agents.yaml).", no_args_is_help=True)


@app.command("list")
@exits
def list_(repo: RepoOption = Path("."), as_json: JsonOption = False) -> int:
    """List the agents: specialty, model, and whether its provider key is set."""
    from tokyo_cli.config.team import load_team
    from tokyo_cli.llm.gateway import credential_env, has_credentials

    warn_plugins()
    team = load_team(repo_root_or_none(repo))
    if as_json:
        from tokyo_cli.cli.listing import emit_json

        emit_json([a.model_dump(mode="json") for a in team.agents.values()])
        return 0
    from rich.table import Table
    from rich.text import Text

    from tokyo_cli.safety.textsafe import one_line

    table = Table(box=None, pad_edge=False)
    table.add_column("id", no_wrap=True)
    table.add_column("specialty", ratio=1)
    table.add_column("model", no_wrap=True)
    table.add_column("key", no_wrap=True)
    for a in team.agents.values():
        ready = has_credentials(a.model, api_base=None)
        key = "set" if ready else f"offline (set {' or '.join(credential_env(a.model)) or 'a key'})"
        # Text, never markup: a repository's agents.yaml wrote these.
        table.add_row(*(Text(one_line(v)) for v in (a.id, a.specialty, a.model, key)))
    console().print(table)
    return 0


@app.command("show")
@exits
def show(
    agent_id: Annotated[str, typer.Argument(metavar="ID", help="Agent id, e.g. akira.")],
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
) -> int:
    """Show one agent in full: model, fallbacks, limits, file globs, analyzers, instructions."""
    from tokyo_cli.config.team import load_team
    from tokyo_cli.llm.gateway import credential_env
    from tokyo_cli.safety.textsafe import clean_text, one_line

    warn_plugins()
    agent = load_team(repo_root_or_none(repo)).get(agent_id)
    if as_json:
        typer.echo(agent.model_dump_json(indent=2))
        return 0
    out = console()
    rows = [
        ("id", agent.id),
        ("name", agent.name),
        ("specialty", agent.specialty),
        ("model", agent.model),
        ("fallbacks", ", ".join(agent.fallbacks) or "—"),
        ("key", " or ".join(credential_env(agent.model)) or "—"),
        ("context window", f"{agent.context_window:,} tokens"),
        ("max output", f"{agent.max_output_tokens:,} tokens"),
        ("temperature", "provider default" if agent.temperature is None else str(agent.temperature)),
        ("paths", ", ".join(agent.paths)),
        ("exclude", ", ".join(agent.exclude) or "—"),
        ("analyzers", ", ".join(agent.analyzers) or "—"),
    ]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        out.print(f"{k:<{width}}  {one_line(v)}", markup=False)
    out.print()
    out.print(clean_text(agent.instructions).strip(), markup=False)
    return 0
