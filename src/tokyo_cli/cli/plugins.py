"""``tokyo plugins``: the installed plugins (entry point group ``tokyo``) and what they add."""

from __future__ import annotations

import typer

from tokyo_cli.cli.common import JsonOption, console, exits

app = typer.Typer(help="Show installed plugins (analyzers, report formats, agents, workflows).", no_args_is_help=True)


@app.command("list")
@exits
def list_(as_json: JsonOption = False) -> int:
    """List the plugins: distribution, version, what each registers, and why one failed.

    A plugin that failed is listed with its error and is not used; the exit code stays 0.
    TOKYO_PLUGINS=a,b loads only the plugins named (empty: none).
    """
    from tokyo_cli.plugins import registry

    infos = registry().plugins
    if as_json:
        from tokyo_cli.cli.listing import emit_json

        emit_json([i.model_dump(mode="json") for i in infos])
        return 0
    out = console()
    if not infos:
        out.print("No plugins installed (entry point group 'tokyo').")
        return 0
    from rich.table import Table
    from rich.text import Text

    from tokyo_cli.safety.textsafe import one_line

    table = Table("name", "distribution", "provides", "status", box=None, pad_edge=False)
    for i in infos:
        dist = f"{i.distribution or '?'} {i.version or ''}".strip()
        provides = (
            "; ".join(
                f"{what}: {', '.join(names)}"
                for what, names in (
                    ("analyzers", i.analyzers),
                    ("formats", i.report_formats),
                    ("agents", i.agents),
                    ("workflows", i.workflows),
                )
                if names
            )
            or "—"
        )
        status = f"error: {i.error}" if i.error else "ok"
        table.add_row(*(Text(one_line(v)) for v in (i.name, dist, provides, status)))  # plugin text is no markup
    out.print(table)
    return 0
