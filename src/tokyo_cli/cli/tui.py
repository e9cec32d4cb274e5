"""``tokyo tui``: browse past runs, their findings and stats in a full-screen terminal UI."""

from __future__ import annotations

from tokyo_cli.cli.common import DbOption

HELP = """Browse the review history full screen: runs, their findings and details, and stats.

Keys are shown at the bottom of every screen: enter opens, esc goes back, t shows stats
(cost and findings per agent and model over time), / v a s filter and sort findings,
y copies a finding's fingerprint, d dismisses it, q quits.

To watch a review as it happens, run `tokyo review --tui`.
"""


def tui(db: DbOption = None) -> int:
    from tokyo_cli.config.settings import load_settings
    from tokyo_cli.tui.launch import browse_history

    browse_history(load_settings(db=db))
    return 0
