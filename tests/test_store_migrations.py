"""Schema evolution: a database written by the first release upgrades in place, and a fresh
one has the ledger, the search index and the query indexes."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlite_utils import Database, Migrations

from test_store import ALL_MIGRATIONS, make_run
from tokyo_cli.errors import StoreConfigError
from tokyo_cli.store import list_runs, load_run, open_db, save_run
from tokyo_cli.store.ledger import apply_ledger, dismiss
from tokyo_cli.store.ledger_query import get_entry, list_ledger
from tokyo_cli.store.migrations import MIGRATIONS, m001_initial
from tokyo_cli.store.stats import compute_stats

OLD_FP = "0123456789abcdef"
OLD_FINDING = {
    "run_id": 1,
    "fingerprint": OLD_FP,
    "path": "app.py",
    "line": 3,
    "end_line": None,
    "severity": "high",
    "category": "security",
    "title": "Shell injection in the task runner",
    "body": "User input reaches os.system.",
    "suggestion": None,
    "confidence": 0.8,
    "agent": "akira",
    "agents": '["akira"]',
    "step": "security",
    "source": "model",
    "rule": None,
    "anchor_text": "os.system(cmd)",
    "status": "open",
}


def first_release_db(path: Path) -> None:
    """A database exactly as the first schema (m001_initial alone) left it, with one run
    written the way that release wrote runs."""
    first = Migrations("tokyo")
    first(name="m001_initial")(m001_initial)
    db = Database(sqlite3.connect(path))
    first.apply(db)
    db["runs"].insert(
        {
            "id": 1,
            "repo": "/src/old",
            "target": "range",
            "target_description": "main...HEAD",
            "target_chosen_by_default": 0,
            "base_sha": "1a2b3c4",
            "head_sha": "5d6e7f8",
            "workflow": "review",
            "workflow_hash": "ab" * 32,
            "fail_on": "high",
            "status": "completed",
            "started_at": "2025-01-02T03:04:05+00:00",
            "finished_at": "2025-01-02T03:04:07.500000+00:00",
            "seconds": 2.5,
            "tokens_in": 100,
            "tokens_out": 20,
            "cost_usd": 0.01,
            "findings_critical": 0,
            "findings_high": 1,
            "findings_medium": 0,
            "findings_low": 0,
            "findings_info": 0,
            "summary": "One injection.",
            "error": None,
            "offline": 0,
        }
    )
    db["steps"].insert(
        {
            "id": 1,
            "run_id": 1,
            "step_id": "security",
            "agent": "akira",
            "agent_name": "Akira",
            "task": "review",
            "status": "ok",
            "model": "openai/o3",
            "configured_model": "openai/o3",
            "credential_env": "[]",
            "files": '["app.py"]',
            "dropped_findings": 0,
            "analyzers": "[]",
            "summary": "",
            "error": None,
            "seconds": 2.0,
        }
    )
    db["llm_calls"].insert(
        {
            "run_id": 1,
            "step_row_id": 1,
            "step_id": "security",
            "agent": "akira",
            "model": "openai/o3",
            "provider": "openai",
            "tokens_in": 100,
            "tokens_out": 20,
            "cost_usd": 0.01,
            "latency_s": 1.5,
            "attempts": 1,
            "status": "ok",
            "error": None,
            "cache_hit": 1,
        }
    )
    db["findings"].insert({**OLD_FINDING, "scope": "run", "step_row_id": None})
    db["findings"].insert({**OLD_FINDING, "scope": "step", "step_row_id": 1})
    db["files"].insert(
        {
            "run_id": 1,
            "path": "app.py",
            "status": "modified",
            "old_path": None,
            "added": 3,
            "removed": 1,
            "skipped": None,
        }
    )
    assert [m.name for m in first.applied(db)] == ["m001_initial"]
    db.close()


def test_a_first_release_database_upgrades_in_place(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    first_release_db(path)

    db = open_db(path)
    assert [m.name for m in MIGRATIONS.applied(db)] == ALL_MIGRATIONS
    assert MIGRATIONS.pending(db) == []
    old = load_run(db, 1)  # the old run reads back through the current model
    assert (old.suppressed, old.tokens_in, old.cost_usd, old.seconds) == (0, 100, 0.01, 2.5)
    assert [f.fingerprint for f in old.findings] == [OLD_FP]
    assert old.steps[0].calls[0].cache_hit is True
    row = db["runs"].get(1)
    assert (row["calls"], row["failed_calls"], row["cache_hits"]) == (1, 0, 1)  # backfilled
    # the ledger knows the old finding, and search finds it (stemmed: "injections")
    entry = get_entry(db, OLD_FP)
    assert (entry.status, entry.seen, entry.first_run_id, entry.repo) == ("open", 1, 1, "/src/old")
    assert [e.fingerprint for e in list_ledger(db, search="injections")] == [OLD_FP]
    db.execute("INSERT INTO findings_fts(findings_fts) VALUES ('integrity-check')")
    assert compute_stats(db, by="agent")[0].latency_p50_s == 1.5
    assert [r.id for r in list_runs(db)] == [1]

    # the upgraded database works like a new one: decide, store, suppress
    dismiss(db, OLD_FP, reason="fixed in the runner rewrite")
    new_id = save_run(db, make_run())
    assert load_run(db, new_id).model_copy(update={"uid": ""}) == make_run().model_copy(update={"run_id": new_id})
    db.close()
    db = open_db(path)  # a second open has nothing to do
    assert db["_sqlite_migrations"].count == len(ALL_MIGRATIONS)
    db.close()


def test_fresh_db_has_ledger_search_and_query_indexes(tmp_path: Path) -> None:
    db = open_db(tmp_path / "history.db")
    assert {"ledger", "ledger_events", "findings_fts"} <= set(db.table_names())
    assert db["findings"].detect_fts() == "findings_fts"
    assert {t.name for t in db["findings"].triggers} >= {"findings_ai", "findings_ad", "findings_au"}
    assert db["ledger"].pks == ["fingerprint"]
    fk = db["ledger_events"].foreign_keys[0]
    assert (fk.other_table, fk.other_column, fk.on_delete) == ("ledger", "fingerprint", "CASCADE")
    assert "suppressed" in db["runs"].columns_dict
    indexed = {t: {tuple(i.columns) for i in db[t].indexes} for t in ("llm_calls", "steps", "findings")}
    assert ("agent", "latency_s", "run_id", "tokens_in", "tokens_out", "cost_usd", "cache_hit", "status") in indexed[
        "llm_calls"
    ]
    assert ("agent", "run_id") in indexed["steps"]
    assert ("scope", "agent", "severity", "step_row_id") in indexed["findings"]
    run = make_run()
    save_run(db, run)
    assert apply_ledger(db, make_run()) == 0
    db.close()


# --- run ids are never reused (m005_run_ids) ----------------------------------------------


def last_release_db(path: Path) -> list[int]:
    """A database as the release before ``m005_run_ids`` left it (every earlier migration),
    holding three runs; their ids."""
    db = Database(sqlite3.connect(path))
    db.execute("PRAGMA foreign_keys = ON")
    MIGRATIONS.apply(db, stop_before="m005_run_ids")
    ids = [save_run(db, make_run(repo=f"/src/r{i}")) for i in range(3)]
    db.close()
    return ids


def children(db: Database, run_id: int) -> dict[str, int]:
    return {t: db[t].count_where("run_id = ?", [run_id]) for t in ("steps", "llm_calls", "findings", "files")}


def test_an_old_database_upgrades_to_ids_that_are_never_reused(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    ids = last_release_db(path)
    old = Database(sqlite3.connect(path))
    before = {i: children(old, i) for i in ids}
    assert "AUTOINCREMENT" not in old["runs"].schema
    old.execute("DELETE FROM runs WHERE id = ?", [ids[-1]])  # the old schema hands id 3 out again
    old.conn.commit()
    assert save_run(old, make_run()) == ids[-1]
    old.close()

    db = open_db(path)
    assert "AUTOINCREMENT" in db["runs"].schema
    assert [m.name for m in MIGRATIONS.applied(db)] == ALL_MIGRATIONS
    # The rebuild kept every run, and every row that cascades from one (foreign keys were off).
    assert sorted(r.id for r in list_runs(db)) == ids
    assert {i: children(db, i) for i in ids[:2]} == {i: before[i] for i in ids[:2]}
    assert all(n > 0 for n in children(db, ids[0]).values())
    assert {tuple(i.columns) for i in db["runs"].indexes} >= {
        ("started_at",),
        ("repo", "started_at"),
        ("status", "started_at"),
        ("repo", "branch"),
    }
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert load_run(db, ids[0]).model_copy(update={"uid": ""}) == make_run(repo="/src/r0").model_copy(
        update={"run_id": ids[0]}
    )

    newest = save_run(db, make_run())
    assert newest == ids[-1] + 1
    db.execute("DELETE FROM runs WHERE id = ?", [newest])  # what `tokyo history prune` does
    assert children(db, newest) == {"steps": 0, "llm_calls": 0, "findings": 0, "files": 0}  # still cascades
    assert save_run(db, make_run()) == newest + 1  # never the deleted one's
    db.close()


def test_the_run_id_migration_is_not_done_twice(tmp_path: Path) -> None:
    """A crash after the rebuild but before its record: the next open finds it done."""
    from tokyo_cli.store.migrations import m005_run_ids

    path = tmp_path / "history.db"
    ids = last_release_db(path)
    db = Database(sqlite3.connect(path))
    m005_run_ids(db)
    schema = db["runs"].schema
    db.close()
    db = open_db(path)
    # Not rebuilt again: later migrations only append columns to the rebuilt table.
    assert db["runs"].schema.startswith(schema[:-1]) and sorted(r.id for r in list_runs(db)) == ids
    db.close()


# --- a database from a newer tokyo is refused, never written ------------------------------


def newer_db(path: Path, future: str = "add") -> None:
    """A database a later tokyo wrote: every migration of this one, one run, then one more
    migration this tokyo does not know (``add``: a column added; ``rename``: runs.status
    renamed to state)."""
    db = open_db(path)
    save_run(db, make_run())
    later = Migrations("tokyo")
    for shipped in MIGRATIONS._migrations:
        later(name=shipped.name, transactional=shipped.transactional)(shipped.fn)

    @later(name="m006_from_the_future")
    def m006(database: Database) -> None:
        if future == "rename":
            database.execute('ALTER TABLE runs RENAME COLUMN "status" TO "state"')
        else:
            database["runs"].add_column("reviewer", str)

    later.apply(db)
    db.close()


def snapshot(path: Path) -> tuple[bytes, list[tuple[object, ...]]]:
    con = sqlite3.connect(path)
    try:
        return path.read_bytes(), con.execute("SELECT * FROM _sqlite_migrations ORDER BY id").fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("future", ["add", "rename"])
def test_a_newer_database_is_refused_naming_both_versions_and_left_unchanged(tmp_path: Path, future: str) -> None:
    path = tmp_path / "history.db"
    newer_db(path, future)
    before = snapshot(path)
    with pytest.raises(StoreConfigError) as exc:
        open_db(path)
    message = str(exc.value)
    ours = len(ALL_MIGRATIONS)
    assert f"schema version {ours + 1}, newer than tokyo " in message
    assert f"(schema version {ours}; unknown migration m006_from_the_future)" in message
    assert str(path) in message and "\n" not in message and exc.value.exit_code == 2
    assert snapshot(path) == before


def test_a_database_missing_a_column_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    open_db(path).close()
    con = sqlite3.connect(path)
    con.execute('ALTER TABLE runs RENAME COLUMN "status" TO "state"')  # no migration recorded
    con.close()
    with pytest.raises(
        StoreConfigError,
        match=rf"does not match schema version {len(ALL_MIGRATIONS)} of this "
        r"tokyo: column runs.status is missing",
    ):
        open_db(path)


@pytest.mark.parametrize("future", ["add", "rename"])
def test_tokyo_history_on_a_newer_database_is_a_one_line_usage_error(
    tmp_path: Path, future: str, cli: Callable[..., tuple[int, str, str]]
) -> None:
    path = tmp_path / "history.db"
    newer_db(path, future)
    before = snapshot(path)
    for args in (["history"], ["show", "1"], ["stats"], ["findings", "list"], ["history", "prune", "--all", "-y"]):
        code, out, err = cli(*args, "--db", str(path))
        assert (code, out) == (2, ""), (args, err)
        assert err.startswith(f"tokyo: error: history database {path} has schema version ") and err.count("\n") == 1
    assert snapshot(path) == before


# --- CWE ids (m007_finding_cwe) ----------------------------------------------------------


def test_a_database_before_the_cwe_column_upgrades_and_keeps_its_findings(tmp_path: Path) -> None:

    path = tmp_path / "history.db"
    db = Database(sqlite3.connect(path))
    db.execute("PRAGMA foreign_keys = ON")
    MIGRATIONS.apply(db, stop_before="m007_finding_cwe")
    old_id = save_run(db, make_run())  # written without a cwe column: the keys are left out
    assert "cwe" not in db["findings"].columns_dict
    db.close()

    db = open_db(path)
    assert "m007_finding_cwe" in [m.name for m in MIGRATIONS.applied(db)]
    assert db["findings"].columns_dict["cwe"] is str
    assert {r["cwe"] for r in db["findings"].rows} == {"[]"}
    assert load_run(db, old_id).model_copy(update={"uid": ""}) == make_run().model_copy(update={"run_id": old_id})
    run = make_run()
    run.findings[0].cwe = [89]
    new_id = save_run(db, run)  # one finding with CWE ids, the others without: one insert
    loaded = load_run(db, new_id)
    assert [f.cwe for f in loaded.findings] == [[89]] + [[] for _ in run.findings[1:]]
    assert compute_stats(db, by="cwe")[0].key == "CWE-89"
    db.close()


def test_a_database_before_verification_upgrades_and_stores_the_team_tasks(tmp_path: Path) -> None:
    """m009_verification, m010_walkthrough and m011_finding_patch on a database that has runs."""
    from tokyo_cli.results import FileRow, Walkthrough

    path = tmp_path / "history.db"
    db = Database(sqlite3.connect(path))
    db.execute("PRAGMA foreign_keys = ON")
    MIGRATIONS.apply(db, stop_before="m009_verification")
    old_id = save_run(db, make_run())  # the new columns' keys are left out
    assert "verification" not in db["findings"].columns_dict and "walkthrough" not in db["runs"].columns_dict
    db.close()

    db = open_db(path)
    applied = [m.name for m in MIGRATIONS.applied(db)]
    assert {"m009_verification", "m010_walkthrough", "m011_finding_patch"} <= set(applied)
    assert {r["block_on"] for r in db["runs"].rows} == {"all"}
    assert load_run(db, old_id).model_copy(update={"uid": ""}) == make_run().model_copy(update={"run_id": old_id})
    run = make_run()
    run.block_on = "verified"
    kept, gone = run.findings[0], run.findings[1]
    kept.verification, kept.verified_by, kept.patch = "verified", "kenji", "--- a/x\n+++ b/x\n"
    run.findings = [kept, *run.findings[2:]]
    run.rejected = [
        gone.model_copy(
            update={"verification": "rejected", "verification_reason": "a constant", "verified_by": "kenji"}
        )
    ]
    run.walkthrough = Walkthrough(
        title="T",
        description="D",
        overview="O",
        files=[FileRow(path="a.py", status="renamed", old_path="b.py", added=1)],
    )
    loaded = load_run(db, save_run(db, run))
    assert loaded == run  # save_run set run.run_id
    assert [f.verification_reason for f in loaded.rejected] == ["a constant"]
    db.close()
