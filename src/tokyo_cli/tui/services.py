"""What the TUI needs from the rest of tokyo, handed to :class:`~tokyo_cli.tui.app.TokyoApp`.

The app never reaches for the engine, the database or git on its own: the CLI builds a
:class:`Services` from real modules (:func:`tokyo_cli.tui.launch.live_services`), tests pass
fakes (a scripted run, a frozen clock, an in-memory ledger).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from tokyo_cli.engine.runview import PlannedStep
from tokyo_cli.events import Listener

if TYPE_CHECKING:
    from sqlite_utils import Database

    from tokyo_cli.engine.review import ReviewOutcome
    from tokyo_cli.findings import Finding
    from tokyo_cli.tui.hunks import HunkExcerpt


T = TypeVar("T")


class DismissFn(Protocol):
    """``store.ledger.dismiss``: record that the finding ``fingerprint`` is not worth fixing."""

    def __call__(self, db: Database, fingerprint: str, *, reason: str, who: str | None = None) -> Any: ...


StartReview = Callable[[Listener], Awaitable["ReviewOutcome"]]
"""Starts the review with the given listener and returns the stored outcome
(:func:`tokyo_cli.engine.review.run_review` bound to its prepared change and settings). Cancelling
the awaiting task ends the run ``cancelled``; the outcome still comes back and is stored."""

HunkLookup = Callable[["Finding"], "HunkExcerpt"]
"""The diff lines around a finding's line (may run git: called from a thread worker)."""


@dataclass
class Services:
    """Everything the app calls out to.

    Attributes:
        open_db: opens the history database (:func:`tokyo_cli.store.db.open_db`); called in
            a thread worker, never on the event loop. ``None``: no history (a live run only).
        start_review: the live run (see :data:`StartReview`); ``None`` opens the history.
        plan: the steps the live run will have, for the first paint before ``RunStarted``.
        hunks: diff lines for a finding of the live run (its in-memory changeset).
        history_hunks: builds a :data:`HunkLookup` for a stored run (re-reads git).
        dismiss: the ledger's ``dismiss``; ``None`` when this build has no ledger module.
        ledger_status: the ledger's ``ledger_status(db, fingerprints) -> {fp: status}``,
            to mark a past run's findings dismissed or accepted since; ``None``: no ledger.
        stats: computes the stats view from an open database (``tui.statsdata.load_stats``).
        clock: monotonic seconds for elapsed times; tests freeze it.
        tz: time zone for dates in the runs list and a run (``None``: local); tests pin UTC.
            Stats use local calendar days, as ``tokyo stats`` does.
        tick_s: how often elapsed times repaint while a run is going (seconds; 0 = never).
        title: the run's title before ``RunStarted`` arrives.
    """

    open_db: Callable[[], Database] | None = None
    start_review: StartReview | None = None
    plan: list[PlannedStep] = field(default_factory=list)
    hunks: HunkLookup | None = None
    history_hunks: Callable[[Any], HunkLookup] | None = None
    dismiss: DismissFn | None = None
    ledger_status: Callable[[Database, list[str]], dict[str, str]] | None = None
    stats: Callable[[Database], Any] | None = None
    clock: Callable[[], float] = time.monotonic
    tz: tzinfo | None = None
    tick_s: float = 0.5
    title: str = ""

    def with_db(self, work: Callable[[Database], T]) -> T:
        """Open the history database, run ``work`` on it and close it; returns what ``work``
        returned. Blocking: call it from a thread worker (each thread its own connection).

        Raises:
            StoreError: no database configured, or it cannot be opened or read; and
            whatever ``work`` raises.
        """
        if self.open_db is None:
            from tokyo_cli.errors import StoreError

            raise StoreError("no history database")
        db = self.open_db()
        try:
            return work(db)
        finally:
            db.close()
