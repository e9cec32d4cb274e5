"""``tokyo doctor [PATH]``: render :func:`tokyo_cli.engine.doctor.diagnose` (a table, or ``--json``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tokyo_cli.cli.common import DbOption, JsonOption

if TYPE_CHECKING:
    from rich.console import Console

    from tokyo_cli.engine.doctor import Diagnosis

HELP = (
    "Check what a review of PATH would run with: git, the repository, which agents would call "
    "a model and which run offline (and the variable that would change it), the analyzers and "
    "their versions, and the history database (schema version, integrity, size).\n\n"
    "--check-providers also makes one one-token call per provider the agents would use "
    "(it costs a fraction of a cent; the cost is shown).\n\n"
    "Exit code 0 when nothing is an error, also with warnings (an agent without its key runs "
    "offline, an optional analyzer is missing, a repository setting is refused). 1 when a "
    "review would fail or lose security coverage: git missing, not a git repository, a "
    "settings or configuration error, bandit, semgrep or detect-secrets unavailable, a corrupt "
    "or newer history database, a provider that failed --check-providers."
)


def doctor(
    path: Annotated[Path, typer.Argument(help="The repository to check (default: the current directory).")] = Path("."),
    as_json: JsonOption = False,
    check_providers: Annotated[
        bool, typer.Option("--check-providers", help="Make one one-token call per provider (costs money).")
    ] = False,
    db: DbOption = None,
) -> int:
    """Diagnose tokyo's set-up for a repository; exit 1 on an error-level problem."""
    from tokyo_cli.engine.doctor import diagnose

    diagnosis = diagnose(path, db=db, check_providers=check_providers)
    if as_json:
        typer.echo(diagnosis.model_dump_json(indent=2))
    else:
        from tokyo_cli.cli.common import console

        _render(diagnosis, console())
    return diagnosis.exit_code


def _render(d: Diagnosis, out: Console) -> None:
    from rich.table import Table
    from rich.text import Text

    from tokyo_cli.report import plural
    from tokyo_cli.safety.textsafe import one_line

    def row(label: str, value: str) -> None:
        out.print(Text(f"{label:<11} ") + Text(one_line(value)))  # repository text: never markup

    repo = d.repository
    row("tokyo", f"{d.tokyo_version} · Python {d.python} · {d.platform}")
    row("git", d.git.version or f"not usable: {d.git.error}")
    if repo.root is None:
        row("repository", f"{repo.path}: {repo.error}")
    else:
        state = f"uncommitted changes in {plural(repo.changed_files or 0, 'file')}" if repo.dirty else "clean"
        head = repo.head[:7] if repo.head else "no commit yet"
        branch = repo.branch or "detached HEAD"
        row(
            "repository",
            f"{repo.root} · {branch} · {head} · {state}, {repo.untracked_files} untracked"
            + (" · shallow clone" if repo.shallow else ""),
        )
    if d.workflow:
        row("workflow", d.workflow)
    for v in d.settings:  # what is not at its default, and who said so
        row("setting", f"{v.name} = {v.value} ({v.source}{': ' + v.detail if v.detail else ''})")
    h = d.history
    if not h.exists:
        row("history", f"{h.path} (not created yet: the first review creates it)")
    else:
        row(
            "history",
            f"{h.path} · {h.size_bytes:,} bytes (+{h.wal_bytes or 0:,} WAL) · schema "
            f"{h.schema_version} of {h.expected_schema_version} · integrity {h.integrity or 'not checked'}",
        )
    if d.agents:
        table = Table(title="Agents", title_justify="left", box=None, pad_edge=False)
        for col in ("agent", "runs", "model", "to give it its model"):
            table.add_column(col, no_wrap=col != "to give it its model")
        for a in d.agents:
            how = "—" if a.mode == "model" else (f"set {' or '.join(a.needs)}" if a.needs else "offline run")
            table.add_row(*(Text(one_line(v)) for v in (a.name, a.mode, a.model or a.configured_model, how)))
        out.print()
        out.print(table)
    if d.providers is not None:
        table = Table(title="Providers (one one-token call each)", title_justify="left", box=None, pad_edge=False)
        for col in ("provider", "model", "result", "s", "tokens in/out", "USD"):
            table.add_column(col, justify="right" if col in ("s", "tokens in/out", "USD") else "left")
        for check in d.providers:
            cost = "—" if check.cost_usd is None else f"{check.cost_usd:.6f}"
            result = "ok" if check.ok else f"failed: {check.error}"
            table.add_row(
                *(
                    Text(one_line(v))
                    for v in (
                        check.provider,
                        check.model,
                        result,
                        f"{check.seconds:.2f}",
                        f"{check.tokens_in}/{check.tokens_out}",
                        cost,
                    )
                )
            )
        out.print()
        out.print(table if d.providers else Text("Providers: none to check (every agent runs offline)"))
    if d.analyzers:
        table = Table(title="Analyzers", title_justify="left", box=None, pad_edge=False)
        for col in ("analyzer", "status", "version", "agents", "detail"):
            table.add_column(col)
        for s in d.analyzers:
            table.add_row(
                *(
                    Text(one_line(v))
                    for v in (
                        s.name,
                        "ok" if s.available else "missing",
                        s.version or "—",
                        ", ".join(s.agents),
                        s.detail or "",
                    )
                )
            )
        out.print()
        out.print(table)
    out.print()
    for problem in d.problems:
        mark = "x error  " if problem.level == "error" else "! warning"
        fix = f" — {one_line(problem.fix)}" if problem.fix else ""
        out.print(Text(f"{mark} {one_line(problem.message)}{fix}"))
    errors = sum(p.level == "error" for p in d.problems)
    warnings = len(d.problems) - errors
    verdict = "ready" if errors == 0 else "not ready"
    out.print(Text(f"tokyo doctor: {verdict} ({plural(errors, 'error')}, {plural(warnings, 'warning')})"))
