"""Run history in SQLite: open the database, save runs, load them back, list them.

Typical use::

    from tokyo_cli.store import open_db, save_run, load_run, list_runs

    with open_db() as db:              # $TOKYO_HOME/history.db, migrated, WAL
        run_id = save_run(db, result)  # one transaction
        again = load_run(db, run_id)   # == result
        recent = list_runs(db, limit=10, repo="/src/app")

Every failure is a :class:`tokyo_cli.errors.StoreError` with one clear line.
"""

from __future__ import annotations

from tokyo_cli.store.db import default_db_path, open_db
from tokyo_cli.store.history import RunSummary, list_runs, load_run, save_run

__all__ = ["RunSummary", "default_db_path", "list_runs", "load_run", "open_db", "save_run"]
