"""History database: schema, exact round trip, listing, concurrency and clear errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database, Migrations

from tokyo_cli.errors import StoreConfigError, StoreError
from tokyo_cli.findings import Finding, Severity
from tokyo_cli.results import AnalyzerNote, CallRecord, FileEntry, RunResult, StepResult
from tokyo_cli.store import default_db_path, history, list_runs, load_run, open_db, save_run
from tokyo_cli.store.db import ensure_schema
from tokyo_cli.store.migrations import MIGRATIONS

ALL_MIGRATIONS = [m.name for m in MIGRATIONS._migrations]  # registration order = application order

JST = timezone(timedelta(hours=9))
T0 = datetime(2025, 3, 14, 9, 30, 0, 123456, tzinfo=JST)


def make_run(
    *,
    repo: str = "/src/app",
    workflow: str = "pr-review",
    status: str = "completed",
    started_at: datetime = T0,
) -> RunResult:
    """A realistic run: two steps, priced and unpriced calls, a failed analyzer, skipped files,
    merged findings with several agents and a file-level finding."""
    sql_injection = Finding(
        path="app/db.py",
        line=42,
        end_line=44,
        severity=Severity.HIGH,
        category="security",
        title="SQL built with string formatting",
        body="User input reaches `cursor.execute` through an f-string.",
        suggestion='cursor.execute("SELECT * FROM t WHERE id = ?", (uid,))',
        confidence=0.9,
        agent="akira",
        step="security",
        anchor_text='cursor.execute(f"SELECT * FROM t WHERE id = {uid}")',
    )
    bandit = Finding(
        path="app/db.py",
        line=42,
        severity=Severity.MEDIUM,
        category="security",
        title="Possible SQL injection vector through string-based query construction.",
        body="B608 https://bandit.readthedocs.io/en/latest/plugins/b608.html",
        agent="akira",
        step="security",
        source="analyzer",
        rule="bandit:B608",
        anchor_text='cursor.execute(f"SELECT * FROM t WHERE id = {uid}")',
    )
    no_tests = Finding(
        path="app/db.py",
        line=None,
        severity=Severity.LOW,
        title="No tests cover the new query helper",
        agent="yuki",
        step="tests",
    )
    merged = sql_injection.model_copy(deep=True)
    merged.agents = ["akira", "yuki"]
    security = StepResult(
        step_id="security",
        agent="akira",
        agent_name="Akira",
        status="partial",
        model="anthropic/claude-opus-4-1",
        configured_model="anthropic/claude-opus-4-1",
        files=["app/db.py", "app/api.py"],
        findings=[sql_injection, bandit],
        dropped_findings=2,
        calls=[
            CallRecord(
                step_id="security",
                agent="akira",
                model="anthropic/claude-opus-4-1",
                provider="anthropic",
                tokens_in=5123,
                tokens_out=812,
                cost_usd=0.13773,
                latency_s=8.25,
            ),
            CallRecord(
                step_id="security",
                agent="akira",
                model="openai/gpt-4o-mini",
                provider="openai",
                tokens_in=900,
                tokens_out=0,
                cost_usd=None,
                latency_s=120.0,
                attempts=3,
                status="error",
                error="akira: openai/gpt-4o-mini: timed out after 120 s",
                cache_hit=True,
            ),
        ],
        analyzers=[AnalyzerNote(name="bandit", findings=1, seconds=0.61)],
        summary="One injection risk.",
        seconds=9.5,
    )
    tests_step = StepResult(
        step_id="tests",
        agent="yuki",
        agent_name="Yuki",
        status="offline",
        configured_model="openai/o3",
        credential_env=["OPENAI_API_KEY"],
        files=["app/db.py"],
        findings=[no_tests],
        analyzers=[AnalyzerNote(name="pytest-cov", error="pytest-cov unavailable: not installed")],
        seconds=0.2,
    )
    return RunResult(
        repo=repo,
        target="range",
        target_description="main...HEAD (3 commits, merge-base 1a2b3c4)",
        target_chosen_by_default=True,
        base_sha="1a2b3c4d5e6f",
        head_sha="9f8e7d6c5b4a",
        workflow=workflow,
        workflow_hash="ab" * 32,
        fail_on=Severity.MEDIUM,
        status=status,
        started_at=started_at,
        finished_at=started_at + timedelta(seconds=12.75),
        files=[
            FileEntry(path="app/db.py", status="modified", added=10, removed=2),
            FileEntry(path="app/new.py", old_path="app/old.py", status="renamed", added=1),
            FileEntry(path="logo.png", status="added", skipped="binary"),
            FileEntry(path="poetry.lock", status="modified", added=300, removed=280, skipped="generated"),
        ],
        steps=[security, tests_step],
        findings=[merged, bandit, no_tests],
        summary="Fix the SQL injection before merging.",
        offline=False,
    )


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_db(tmp_path / "history.db")
    yield database
    database.close()


# --- schema ---------------------------------------------------------------------------


def test_fresh_db_has_tables_indexes_and_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "history.db"
    db = open_db(path)
    assert path.exists()
    assert {"runs", "steps", "llm_calls", "findings", "files"} <= set(db.table_names())
    indexed = {table: {tuple(i.columns) for i in db[table].indexes} for table in ("runs", "findings", "llm_calls")}
    assert {("started_at",), ("repo", "started_at"), ("workflow", "started_at"), ("status", "started_at")} <= indexed[
        "runs"
    ]
    assert {("run_id",), ("fingerprint",)} <= indexed["findings"]
    assert ("run_id", "latency_s") in indexed["llm_calls"]
    assert db.journal_mode == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] == 10_000
    for table in ("steps", "llm_calls", "findings", "files"):
        fks = [fk for fk in db[table].foreign_keys if fk.other_table == "runs"]
        assert fks and fks[0].on_delete == "CASCADE", table
    applied = [m.name for m in MIGRATIONS.applied(db)]
    assert applied == ALL_MIGRATIONS
    db.close()


def test_default_path_is_under_tokyo_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TOKYO_HOME", str(tmp_path / "th"))
    assert default_db_path() == tmp_path / "th" / "history.db"
    open_db().close()
    assert (tmp_path / "th" / "history.db").is_file()
    monkeypatch.delenv("TOKYO_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_db_path() == tmp_path / "xdg" / "tokyo" / "history.db"


def test_every_model_field_has_a_column(db: Database) -> None:
    """A field added to results.py without a new migration would be silently lost."""
    derived = {"run_id", "files", "steps", "findings", "rejected", "calls", "analyzers"}
    # Display-only fields are marked exclude=True (never dumped, so never stored): today only
    # RunResult.min_severity, the threshold of one rendering.
    display = {name for name, info in RunResult.model_fields.items() if info.exclude}
    assert display == {"min_severity"}
    derived |= display
    expected = {
        "runs": set(RunResult.model_fields) - derived,
        "steps": set(StepResult.model_fields) - {"findings", "calls"} | {"analyzers"},
        "llm_calls": set(CallRecord.model_fields),
        "findings": set(Finding.model_fields),
        "files": set(FileEntry.model_fields),
    }
    for table, fields in expected.items():
        missing = fields - set(db[table].columns_dict)
        assert not missing, f"{table} lacks columns {missing}: add a migration"


def test_upgrade_applies_only_new_migrations_and_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    db = open_db(path)
    run_id = save_run(db, make_run())
    later = Migrations("tokyo")  # a later tokyo: every shipped migration, then one more
    for shipped in MIGRATIONS._migrations:
        later(name=shipped.name, transactional=shipped.transactional)(shipped.fn)

    @later(name="m002_test_notes")
    def m002(database: Database) -> None:
        database["runs"].add_column("note", str)

    ensure_schema(db, path, later)  # would fail with "table runs already exists" if m001 re-ran
    assert [m.name for m in later.applied(db)] == [*ALL_MIGRATIONS, "m002_test_notes"]
    assert "note" in db["runs"].columns_dict
    assert load_run(db, run_id).model_copy(update={"uid": ""}) == make_run().model_copy(update={"run_id": run_id})
    db.close()


# --- round trip -----------------------------------------------------------------------


def test_round_trip_is_exact(db: Database) -> None:
    original = make_run()
    run_id = save_run(db, original)
    assert original.run_id == run_id
    loaded = load_run(db, run_id)
    assert loaded == original
    # == on datetimes ignores the offset; the JSON form does not.
    assert loaded.model_dump_json() == original.model_dump_json()
    assert loaded.started_at.utcoffset() == timedelta(hours=9)
    assert loaded.findings[0].agents == ["akira", "yuki"]
    assert loaded.findings[2].line is None
    assert loaded.steps[0].calls[1].cost_usd is None
    assert loaded.steps[0].cost_usd == pytest.approx(0.13773)
    assert loaded.steps[1].analyzers[0].error == "pytest-cov unavailable: not installed"
    assert [f.skipped for f in loaded.files] == [None, None, "binary", "generated"]
    assert (loaded.tokens_in, loaded.tokens_out, loaded.seconds) == (6023, 812, 12.75)


def test_round_trip_of_minimal_running_run(db: Database) -> None:
    run = RunResult(
        repo="r",
        target="staged",
        target_description="staged changes",
        workflow="review",
        started_at=datetime(2025, 1, 1, 12, 0),  # naive, unfinished, no steps
        offline=True,
    )
    loaded = load_run(db, save_run(db, run))
    assert loaded == run
    assert loaded.started_at.tzinfo is None and loaded.finished_at is None


def test_run_totals_are_stored_for_queries(db: Database) -> None:
    run_id = save_run(db, make_run())
    row = db["runs"].get(run_id)
    assert (row["tokens_in"], row["tokens_out"]) == (6023, 812)
    assert row["cost_usd"] == pytest.approx(0.13773)
    assert (row["findings_high"], row["findings_medium"], row["findings_low"]) == (1, 1, 1)
    assert db["findings"].count_where("run_id = ? AND scope = 'run'", [run_id]) == 3
    assert db["findings"].count_where("run_id = ? AND scope = 'step'", [run_id]) == 3


def test_ids_increase_and_missing_run_is_a_store_error(db: Database) -> None:
    first, second = save_run(db, make_run()), save_run(db, make_run())
    assert second > first
    with pytest.raises(StoreError, match="no run with id 999"):
        load_run(db, 999)


def test_deleting_a_run_cascades(db: Database) -> None:
    keep, gone = save_run(db, make_run()), save_run(db, make_run())
    db.execute("DELETE FROM runs WHERE id = ?", [gone])
    for table in ("steps", "llm_calls", "findings", "files"):
        assert db[table].count_where("run_id = ?", [gone]) == 0, table
        assert db[table].count_where("run_id = ?", [keep]) > 0, table


def test_a_failed_save_writes_nothing(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    real = history._call_row

    def broken(run_id: int, step_row_id: int, call: CallRecord) -> dict[str, Any]:
        return {**real(run_id, step_row_id, call), "model": None}  # NOT NULL violation

    monkeypatch.setattr(history, "_call_row", broken)
    run = make_run()
    with pytest.raises(StoreError):
        save_run(db, run)
    assert run.run_id is None
    for table in ("runs", "steps", "llm_calls", "findings", "files"):
        assert db[table].count == 0, table


def test_api_keys_are_not_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "sk-ant-api03-secret-value-never-stored"
    monkeypatch.setenv("ANTHROPIC_API_KEY", secret)
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    db = open_db(tmp_path / "history.db")
    save_run(db, make_run())
    db.close()
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert b"OPENAI_API_KEY" in stored  # the variable's *name* is kept for the report
    assert secret.encode() not in stored


# --- listing --------------------------------------------------------------------------


def test_list_runs_newest_first_with_filters_and_limit(db: Database) -> None:
    specs = [  # saved out of chronological order on purpose
        ("/a", "review", "completed", 3),
        ("/b", "review", "failed", 1),
        ("/a", "security", "completed", 5),
        ("/a", "review", "partial", 2),
        ("/b", "security", "completed", 4),
    ]
    ids = {}
    for repo, workflow, status, hour in specs:
        run = make_run(repo=repo, workflow=workflow, status=status, started_at=datetime(2025, 5, 1, hour, tzinfo=UTC))
        ids[hour] = save_run(db, run)
    assert [s.id for s in list_runs(db)] == [ids[h] for h in (5, 4, 3, 2, 1)]
    assert [s.id for s in list_runs(db, limit=2)] == [ids[5], ids[4]]
    assert [s.id for s in list_runs(db, repo="/a")] == [ids[5], ids[3], ids[2]]
    assert [s.id for s in list_runs(db, workflow="security")] == [ids[5], ids[4]]
    assert [s.id for s in list_runs(db, status="completed", repo="/a")] == [ids[5], ids[3]]
    assert list_runs(db, repo="/nowhere") == []
    top = list_runs(db, limit=1)[0]
    assert top.started_at == datetime(2025, 5, 1, 5, tzinfo=UTC)
    assert top.findings == {"critical": 0, "high": 1, "medium": 1, "low": 1, "info": 0}
    assert (top.tokens_in, top.tokens_out, top.seconds) == (6023, 812, 12.75)
    assert top.cost_usd == pytest.approx(0.13773)
    assert top.target_description.startswith("main...HEAD")


# --- errors ---------------------------------------------------------------------------


def _one_line(exc: pytest.ExceptionInfo[StoreError]) -> str:
    return _one_line_of(exc.value)


def _one_line_of(error: StoreError) -> str:
    message = str(error)
    assert "\n" not in message and "Traceback" not in message
    # No chained sqlite3/OSError traceback behind the one line.
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__
    return message


def test_path_under_a_file_is_a_configuration_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with pytest.raises(StoreConfigError) as exc:
        open_db(blocker / "sub" / "history.db")
    assert _one_line(exc) == (
        f"history database {blocker}/sub/history.db: {blocker} is a file, not a directory; pass --db PATH"
    )
    assert exc.value.exit_code == 2 and not (blocker.parent / "sub").exists()
    monkeypatch.setenv("TOKYO_HOME", str(blocker))
    with pytest.raises(StoreConfigError) as exc:
        open_db()
    assert _one_line(exc) == (
        f"TOKYO_HOME is a file, not a directory, so it cannot hold the history database "
        f"{blocker}/history.db; set TOKYO_HOME to a directory (tokyo creates it) or pass --db PATH"
    )
    with pytest.raises(StoreConfigError) as exc:
        open_db(tmp_path)
    assert "is a directory" in _one_line(exc)


def test_corrupt_file_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    path.write_bytes(b"this is not sqlite at all\n" * 200)
    with pytest.raises(StoreError) as exc:
        open_db(path)
    message = _one_line(exc)
    assert "corrupt or not a SQLite database" in message and str(path) in message


def _open_as_unprivileged(path: Path) -> str:
    """``open_db(path)`` as a user the directory's permissions apply to: this process when
    it is not root, else a forked child that drops to ``nobody`` (root ignores permission
    bits, as in CI containers). Returns the StoreError's one line ("" if it opened)."""
    import os

    def attempt() -> str:
        try:
            open_db(path).close()
        except StoreError as exc:
            return _one_line_of(exc)
        return ""

    if os.geteuid() != 0:
        return attempt()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        os.close(read)
        code = 0
        try:
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            os.write(write, attempt().encode())
        except BaseException as exc:  # noqa: BLE001 - report anything to the parent
            os.write(write, f"child failed: {type(exc).__name__}: {exc}".encode())
            code = 1
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        answer = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, answer
    return answer


def test_unwritable_directory_is_a_store_error() -> None:
    import os
    import shutil
    import tempfile

    # Under /tmp (world-traversable), not tmp_path: pytest's base directory is private to its
    # user, so `nobody` would fail on the way in rather than on the directory itself.
    outer = Path(tempfile.mkdtemp(prefix="tokyo-ro-"))
    try:
        outer.chmod(0o755)
        locked = outer / "ro"
        locked.mkdir()
        locked.chmod(0o555)
        if os.geteuid() == 0:
            assert os.access(locked, os.W_OK)  # root could write it: the child is who cannot
        message = _open_as_unprivileged(locked / "history.db")
        assert message == (
            f"cannot open history database {locked}/history.db: the directory is missing "
            "or not writable; set TOKYO_HOME or pass --db PATH"
        )
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)
        shutil.rmtree(outer)


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_directory_sqlite_cannot_write_is_a_store_error() -> None:
    # /proc refuses new files even for root, unlike a chmod-ed directory.
    with pytest.raises(StoreError) as exc:
        open_db(Path("/proc/history.db"))
    assert "not writable" in _one_line(exc)


def test_full_disk_is_a_store_error(db: Database) -> None:
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(StoreError) as exc:
        for _ in range(50):
            save_run(db, make_run())
    assert "disk is full" in _one_line(exc)


# Concurrency (spawned processes): tests/test_store_concurrency.py.


def test_cwe_ids_round_trip_in_run_and_step_findings(db: Database) -> None:
    run = make_run()
    run.findings[0].cwe = [89, 564]
    run.steps[0].findings[0].cwe = [79]
    run_id = save_run(db, run)
    loaded = load_run(db, run_id)
    assert loaded == run.model_copy(update={"run_id": run_id})
    assert loaded.findings[0].cwe == [89, 564] and loaded.steps[0].findings[0].cwe == [79]
    assert loaded.findings[0].fingerprint == run.findings[0].fingerprint
    rows = list(db.query("SELECT cwe FROM findings WHERE run_id = ? ORDER BY id", [run_id]))
    assert rows[0]["cwe"] == "[89, 564]" and "[]" in {r["cwe"] for r in rows}
