"""Several tokyo processes on one history database at the same moment (spawned processes).

The hook, the CLI, the TUI and the Action may all open, migrate and write the database at
once: every process must succeed, the schema must end at head exactly once, and no write may
be lost or fail with "database is locked".
"""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from test_store import ALL_MIGRATIONS, make_run
from tokyo_cli.errors import StoreError
from tokyo_cli.store import list_runs, open_db, save_run
from tokyo_cli.store.ledger import accept, apply_ledger, reopen
from tokyo_cli.store.migrations import MIGRATIONS


def _open_worker(path: str, barrier: Any, results: Any) -> None:
    """Open the (fresh) database the moment every process is ready, then write one run."""
    try:
        barrier.wait(timeout=60)
        db = open_db(Path(path))
        save_run(db, make_run(repo="/opener"))
        db.close()
        results.put([])
    except BaseException as exc:  # reported to the parent, which fails the test
        results.put([f"{type(exc).__name__}: {exc}"])


def _writer(path: str, barrier: Any, results: Any, role: str, count: int) -> None:
    """A hook (stores runs) or the TUI (stores runs and decides about findings meanwhile).

    Every StoreError (e.g. "database is locked") is collected, not raised, so the parent
    sees how many writes failed.
    """
    errors: list[str] = []
    try:
        db = open_db(Path(path))
        barrier.wait(timeout=60)
        for _ in range(count):
            try:
                run = make_run(repo=f"/{role}")
                apply_ledger(db, run)
                save_run(db, run)
                if role == "tui":
                    accept(db, run.findings[0].fingerprint, who="tui")
                    reopen(db, run.findings[0].fingerprint, who="tui")
            except StoreError as exc:
                errors.append(str(exc))
        db.close()
    except BaseException as exc:
        errors.append(f"{type(exc).__name__}: {exc}")
    results.put(errors)


def _run_processes(target: Any, args_list: list[tuple[Any, ...]]) -> list[list[str]]:
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(len(args_list)), ctx.Queue()
    procs = [ctx.Process(target=target, args=(a[0], barrier, results, *a[1:])) for a in args_list]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=180) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    return outcomes


@pytest.mark.slow
@pytest.mark.parametrize("attempt", range(5))
def test_six_processes_open_a_fresh_db_at_once(tmp_path: Path, attempt: int) -> None:
    path = tmp_path / "fresh" / "history.db"
    outcomes = _run_processes(_open_worker, [(str(path),)] * 6)
    assert outcomes == [[]] * 6  # 0 failures
    db = Database(sqlite3.connect(path))
    assert [m.name for m in MIGRATIONS.applied(db)] == ALL_MIGRATIONS  # at head, each once
    assert MIGRATIONS.pending(db) == []
    assert db["_sqlite_migrations"].count == len(ALL_MIGRATIONS)
    assert db.journal_mode == "wal"
    assert db["runs"].count == 6
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()


@pytest.mark.slow
def test_a_hook_and_the_tui_writing_at_once(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    open_db(path).close()
    count = 25
    outcomes = _run_processes(_writer, [(str(path), "hook", count), (str(path), "tui", count)])
    assert outcomes == [[], []]  # 0 "database is locked" (or any other) errors
    db = open_db(path)
    assert db["runs"].count == 2 * count
    assert len(list_runs(db, repo="/hook", limit=None)) == count
    assert len(list_runs(db, repo="/tui", limit=None)) == count
    # every run is whole: 2 steps, 2 calls, 6 findings, 4 files each
    assert (db["steps"].count, db["llm_calls"].count) == (4 * count, 4 * count)
    assert (db["findings"].count, db["files"].count) == (12 * count, 8 * count)
    # no lost update in the ledger: each merged fingerprint seen once per run, every decision kept
    assert [r["seen"] for r in db["ledger"].rows] == [2 * count] * 3
    assert db["ledger_events"].count == 2 * count
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.execute("INSERT INTO findings_fts(findings_fts) VALUES ('integrity-check')")
    db.close()
