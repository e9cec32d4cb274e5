"""``tokyo init [PATH]``: show what :func:`tokyo_cli.config.scaffold.plan_init` would write, then write it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

HELP = (
    "Set a repository up for tokyo: show the files, then write them.\n\n"
    "Writes .tokyo.toml (tokyo's settings; --pyproject puts them in pyproject.toml's "
    "[tool.tokyo] instead), an agents.yaml overlay with commented examples, the pull request "
    "workflow .github/workflows/tokyo-review.yml (the action pinned to --action "
    "OWNER/REPO@SHA, a full commit SHA), and the tokyo-review hook in .pre-commit-config.yaml "
    "(added to an existing file's repos: list). A file that exists is left alone unless "
    "--force; --dry-run only prints."
)


def init(
    path: Annotated[Path, typer.Argument(help="A directory of the repository (default: the current one).")] = Path("."),
    pyproject: Annotated[bool, typer.Option("--pyproject", help="Settings as [tool.tokyo] in pyproject.toml.")] = False,
    action: Annotated[
        str | None,
        typer.Option(
            "--action",
            metavar="OWNER/REPO@SHA",
            help="The tokyo action and hook repository, pinned to a full commit SHA.",
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite files that exist.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print what would be written; write nothing.")] = False,
) -> int:
    """Plan, show and write the set-up files; 0 when done (also when every file was skipped)."""
    from rich.text import Text

    from tokyo_cli.cli.common import console, require_repo_root
    from tokyo_cli.config.scaffold import PLACEHOLDER_ACTION, plan_init, write_plan
    from tokyo_cli.safety.textsafe import one_line

    root = require_repo_root(path)
    plan = plan_init(root, pyproject=pyproject, force=force, action=action)
    out = console()
    width = max(len(p.path) for p in plan)
    for item in plan:
        out.print(Text(f"{item.action:<9} {item.path:<{width}}  {one_line(item.why)}"))
    for item in plan:
        if item.action != "skip":
            out.print(Text(f"\n── {item.path} ({item.action}) ──"))
            out.print(Text(item.shown.rstrip("\n")))
    out.print()
    if action is None:
        out.print(
            Text(
                f"! {PLACEHOLDER_ACTION} is a placeholder: pass --action OWNER/REPO@SHA (the tokyo "
                "release you pin), or edit the workflow and .pre-commit-config.yaml"
            )
        )
    if dry_run:
        out.print(Text("--dry-run: nothing written"))
        return 0
    written = write_plan(root, plan)
    out.print(
        Text(f"wrote {len(written)} of {len(plan)} files in {root}" + (f": {', '.join(written)}" if written else ""))
    )
    if written:
        out.print(
            Text(
                "next: commit them; pre-commit install --hook-type pre-commit --hook-type pre-push; add the "
                "provider keys you have (ANTHROPIC_API_KEY, ...) as repository secrets; tokyo doctor"
            )
        )
    return 0
