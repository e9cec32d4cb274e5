"""Real services for the TUI and the two ways the CLI opens it.

``live_review`` runs one prepared review inside the app and returns its stored outcome;
``browse_history`` opens the history browser. Both refuse to start without an interactive
terminal (a full-screen app on a pipe would only print escape codes).
"""

from __future__ import annotations

import sys
from functools import partial
from typing import TYPE_CHECKING, Any

from tokyo_cli.engine.runview import PlannedStep
from tokyo_cli.errors import ConfigError
from tokyo_cli.tui.services import Services

if TYPE_CHECKING:
    from tokyo_cli.config.settings import Settings
    from tokyo_cli.engine.review import PreparedReview, ReviewOutcome


def require_terminal() -> None:
    """Raises ConfigError (exit 2) unless stdin and stdout are terminals."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise ConfigError("the TUI needs an interactive terminal; in scripts use `tokyo review` or `tokyo history`")


def plan_of(prepared: PreparedReview, settings: Settings) -> list[PlannedStep]:
    """The workflow's steps in run order, with each agent's display name and model."""
    plan = []
    for layer in prepared.workflow.layers():
        for step in layer:
            agent = prepared.team.get(step.agent)
            plan.append(PlannedStep(step.id, agent.id, agent.name, task=step.task, model=settings.model or agent.model))
    return plan


def history_services(settings: Settings) -> Services:
    """Services for ``tokyo tui``: the history database, ledger, stats, git re-reads."""
    from tokyo_cli.store.db import open_db
    from tokyo_cli.store.ledger import dismiss, ledger_status
    from tokyo_cli.tui.hunks import history_hunks
    from tokyo_cli.tui.statsdata import load_stats

    return Services(
        open_db=partial(open_db, settings.db_path()),
        history_hunks=history_hunks,
        dismiss=dismiss,
        ledger_status=ledger_status,
        stats=load_stats,
    )


def live_services(prepared: PreparedReview, settings: Settings) -> Services:
    """Services for ``tokyo review --tui``: the run itself plus everything history has."""
    from tokyo_cli.engine.review import run_review
    from tokyo_cli.tui.hunks import changeset_hunks

    services = history_services(settings)
    services.start_review = partial(run_review, prepared, settings, stream=True)
    services.plan = plan_of(prepared, settings)
    services.hunks = changeset_hunks(prepared.changeset)
    services.title = prepared.target.description
    return services


def run_app(services: Services) -> Any:
    """Run the app full screen until the user quits; re-raises what a live run raised."""
    from tokyo_cli.tui.app import TokyoApp

    app = TokyoApp(services)
    value = app.run()
    if app.error is not None:
        raise app.error
    return value


def live_review(prepared: PreparedReview, settings: Settings) -> ReviewOutcome:
    """Run the review inside the TUI and return its stored outcome (also when cancelled).

    Raises:
        ConfigError: no interactive terminal.
        TokyoError: (exit 3) the app closed without an outcome (it crashed; Textual has
            printed why); anything the run itself raised is re-raised as it was.
    """
    from tokyo_cli.errors import TokyoError

    require_terminal()
    outcome: ReviewOutcome | None = run_app(live_services(prepared, settings))
    if outcome is None:
        raise TokyoError("the TUI closed before the run finished", exit_code=3)
    return outcome


def browse_history(settings: Settings) -> None:
    """Open the history browser."""
    require_terminal()
    run_app(history_services(settings))
