"""``tokyo fix``: patches for findings of a stored run, printed or applied to the working tree."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tokyo_cli.cli.common import (
    ApiBaseOption,
    DbOption,
    ModelOption,
    NoCacheOption,
    OfflineOption,
    PathArgument,
    console,
    settings_for,
)

if TYPE_CHECKING:
    from tokyo_cli.config.settings import Settings
    from tokyo_cli.config.team import Team
    from tokyo_cli.engine.cache import DbCache
    from tokyo_cli.results import RunResult

HELP = """Propose a minimal patch for findings of a past review, and apply it if you ask.

Findings come from the latest run of this repository in history (--run RUN_ID for another),
narrowed by --fingerprint (repeatable; a unique prefix will do), --severity (at or above) and
--agent. Each finding gets an analyzer's known safe rewrite when there is one (yaml.load ->
yaml.safe_load), else a patch from the agent that raised it (needs its provider key, or
--model/--api-base). Every patch is checked with `git apply --check` against the working tree
(one repair call when it does not apply); patches that edit anything but existing files
inside the repository (.git/, symlinks, paths outside) are refused.

--dry-run (the default) prints the patches on stdout (pipe them to `git apply`); --apply
applies them to the working tree, unstaged, all or nothing.

Exit codes: 0 every chosen finding got a patch (applied with --apply); 1 some did not (each
says why on stderr); 2 usage error, no run or no matching finding; 3 no patch at all, or the
patches did not apply (nothing changed).
"""


def fix(
    path: PathArgument = Path("."),
    fingerprints: Annotated[
        list[str] | None, typer.Option("--fingerprint", metavar="FP", help="A finding (repeatable).")
    ] = None,
    severity: Annotated[
        str | None, typer.Option("--severity", metavar="SEVERITY", help="Findings at or above it.")
    ] = None,
    agent: Annotated[str | None, typer.Option("--agent", metavar="ID", help="Findings raised by this agent.")] = None,
    apply: Annotated[bool, typer.Option("--apply", help="Apply the patches to the working tree (unstaged).")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the patches only (the default).")] = False,
    run_id: Annotated[int | None, typer.Option("--run", metavar="RUN_ID", help="A run from `tokyo history`.")] = None,
    model: ModelOption = None,
    api_base: ApiBaseOption = None,
    offline: OfflineOption = None,
    no_cache: NoCacheOption = False,
    db: DbOption = None,
) -> int:
    import asyncio

    from tokyo_cli.cli.common import require_repo_root
    from tokyo_cli.engine.tasks.fix_tree import choose, fix_in_tree
    from tokyo_cli.engine.tasks.patches import apply_in_tree, check_in_tree
    from tokyo_cli.errors import ConfigError, TokyoError
    from tokyo_cli.findings import Severity

    if apply and dry_run:
        raise ConfigError("choose one: --apply or --dry-run")
    try:
        floor = Severity.parse(severity) if severity else None
    except ValueError:
        raise ConfigError(f"--severity: not a severity: {severity!r} (critical, high, medium, low, info)") from None
    root = require_repo_root(path)
    settings = settings_for(model=model, api_base=api_base, offline=offline, db=db, cache=False if no_cache else None)
    result, full, team, cache = _load(root, settings, run_id, fingerprints or [])
    chosen = choose(result.findings, fingerprints=full, severity=floor, agent=agent)
    if not chosen:
        raise ConfigError(f"no finding of run {result.run_id} matches (see tokyo show {result.run_id})")
    proposals, calls = asyncio.run(fix_in_tree(chosen, team, root, settings, cache))
    err = console(stderr=True)
    for p in proposals:
        what = f"{p.finding.fingerprint} {p.finding.severity.value} {p.finding.location}: {p.finding.title[:80]}"
        if p.patch:
            by = "the analyzer's safe rewrite" if p.source == "analyzer" else f"{p.finding.agent}'s model"
            err.print(f"patch for {what} ({by})", markup=False, highlight=False)
        else:
            err.print(f"no patch for {what}: {p.error}", markup=False, highlight=False)
    if calls.calls:
        cost = calls.cost_usd
        err.print(
            f"{len(calls.calls)} model call(s), {calls.tokens_in:,} tokens in / {calls.tokens_out:,} out"
            + (f", ${cost:.4f}" if cost is not None else ""),
            markup=False,
            highlight=False,
        )
    patches = [p.patch for p in proposals if p.patch]
    if not patches:
        raise TokyoError("no patch could be made for the chosen findings", exit_code=3)
    combined = "".join(patches)
    if not apply:
        sys.stdout.write(combined)
    else:
        # All or nothing: patches that each apply may still clash with one another.
        why = check_in_tree(combined, root) or apply_in_tree(combined, root)
        if why is not None:
            raise TokyoError(f"the patches do not apply to the working tree, nothing was changed: {why}", exit_code=3)
        err.print(
            f"applied {len(patches)} patch(es) to the working tree (unstaged; review with git diff)",
            markup=False,
            highlight=False,
        )
    return 0 if len(patches) == len(proposals) else 1


def _load(
    root: Path, settings: Settings, run_id: int | None, prefixes: list[str]
) -> tuple[RunResult, list[str], Team, DbCache | None]:
    """The run (``run_id``, else the latest of ``root``), the full fingerprints the prefixes
    name, the team (the working tree's configuration: models are never the repository's to
    pick) and the response cache (``None`` with ``--no-cache``).

    Raises:
        StoreError, ConfigError: no history, no run of this repository, unknown fingerprint.
    """
    from tokyo_cli.config.repository import load_repo_config
    from tokyo_cli.config.team import load_team
    from tokyo_cli.engine.cache import DbCache
    from tokyo_cli.errors import ConfigError
    from tokyo_cli.store.db import open_db
    from tokyo_cli.store.history import list_runs, load_run
    from tokyo_cli.store.ledger_query import resolve_fingerprint

    db = open_db(settings.db_path())
    if run_id is None:
        latest = list_runs(db, limit=1, repo=str(root))
        if not latest:
            raise ConfigError(f"no review of {root} in history: run tokyo review first")
        run_id = latest[0].id
    result = load_run(db, run_id)
    full = [resolve_fingerprint(db, p) for p in prefixes]
    team = load_team(load_repo_config(root))
    cache = DbCache(db) if settings.cache else None
    return result, full, team, cache
