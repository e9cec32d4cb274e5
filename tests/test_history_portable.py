"""``tokyo history export`` / ``import``: runs carried between databases as JSON lines, stored
once however often imported, ledger decisions kept (newest wins), bad files refused whole."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlite_utils import Database

from test_store import make_run
from tokyo_cli.store import list_runs, load_run, open_db, save_run
from tokyo_cli.store.ledger import accept, dismiss, ledger_status
from tokyo_cli.store.ledger_query import ledger_events
from tokyo_cli.store.migrations import MIGRATIONS
from tokyo_cli.store.portable import export_lines, import_files


def runner_db(path: Path, runs: int = 2, repo: str = "/src/app") -> tuple[Database, list[int]]:
    db = open_db(path)
    t0 = datetime(2026, 5, 1, tzinfo=UTC)
    ids = [save_run(db, make_run(repo=repo, started_at=t0 + timedelta(hours=i))) for i in range(runs)]
    return db, ids


def export(db: Database, ids: list[int], path: Path) -> Path:
    path.write_text("".join(export_lines(db, ids)), encoding="utf-8")
    return path


def test_an_exported_run_imports_field_by_field_and_only_once(tmp_path: Path) -> None:
    a, ids = runner_db(tmp_path / "a.db")
    file = export(a, ids, tmp_path / "a.jsonl")
    central = open_db(tmp_path / "central.db")
    report = import_files(central, [file])
    assert (report.runs_added, report.runs_present) == (2, 0)
    for src_id, dst in zip(ids, sorted(r.id for r in list_runs(central))):
        original, copy = load_run(a, src_id), load_run(central, dst)
        assert copy.model_copy(update={"run_id": src_id}) == original  # steps, calls, raw and merged findings
        assert copy.uid == original.uid and len(copy.uid) == 32
    again = import_files(central, [file, file])
    assert (again.runs_added, again.runs_present) == (0, 4)
    assert len(list_runs(central)) == 2


def test_runs_from_many_runners_gather_in_one_database(tmp_path: Path) -> None:
    files = []
    for name in ("linux", "mac", "windows"):
        db, ids = runner_db(tmp_path / f"{name}.db", runs=2, repo=f"/src/{name}")
        files.append(export(db, ids, tmp_path / f"{name}.jsonl"))
    central = open_db(tmp_path / "central.db")
    assert import_files(central, files).runs_added == 6
    assert import_files(central, files[:2]).runs_added == 0  # the next collection brings old files again
    assert sorted({r.repo for r in list_runs(central)}) == ["/src/linux", "/src/mac", "/src/windows"]


def test_ledger_decisions_travel_and_the_newest_one_wins(tmp_path: Path) -> None:
    runner, ids = runner_db(tmp_path / "runner.db", runs=1)
    fp = load_run(runner, ids[0]).findings[0].fingerprint
    central = open_db(tmp_path / "central.db")
    import_files(central, [export(runner, ids, tmp_path / "first.jsonl")])
    accept(central, fp, who="lead", reason="real, tracked in JIRA-1")  # decided centrally first ...
    dismiss(runner, fp, reason="test fixture", who="mei")  # ... then on the runner, later
    first = import_files(central, [export(runner, ids, tmp_path / "second.jsonl")])
    assert (first.events_added, first.decisions_changed) == (1, 1)
    assert ledger_status(central, [fp]) == {fp: "dismissed"}
    assert [e.action for e in ledger_events(central, fp)] == ["accept", "dismiss"]
    again = import_files(central, [tmp_path / "second.jsonl"])
    assert (again.events_added, again.decisions_changed) == (0, 0)
    # an older decision arriving late does not override a newer one
    other, other_ids = runner_db(tmp_path / "other.db", runs=1)
    accept(other, fp, who="old", reason="x")
    other.execute("UPDATE ledger_events SET at = '2020-01-01T00:00:00+00:00'")
    other.conn.commit()
    late = import_files(central, [export(other, other_ids, tmp_path / "late.jsonl")])
    assert late.events_added == 1 and ledger_status(central, [fp]) == {fp: "dismissed"}


def test_an_imported_dismissal_suppresses_the_finding_in_a_later_review(tmp_path: Path, git_repo, cli) -> None:  # type: ignore[no-untyped-def]
    git_repo.write("run.py", "import subprocess\n\n\ndef go(cmd):\n    return subprocess.call(cmd, shell=True)\n")
    git_repo.commit("shell")
    runner_home = tmp_path / "runner.db"
    code, out, _ = cli("review", str(git_repo.root), "--all", "--offline", "-q", "-f", "json", "--db", str(runner_home))
    fp = next(f["fingerprint"] for f in json.loads(out)["findings"] if f["rule"] == "bandit:B602")
    assert cli("findings", "dismiss", fp, "--reason", "input is a constant", "--db", str(runner_home))[0] == 0
    code, _, err = cli("history", "export", "--since", "1d", "-o", str(tmp_path / "x.jsonl"), "--db", str(runner_home))
    assert code == 0 and "Exported 1 run to" in err
    central = tmp_path / "central.db"
    code, out, _ = cli("history", "import", str(tmp_path / "x.jsonl"), "--db", str(central))
    assert code == 0 and out.startswith("Imported 1 run(s) (0 already present) from 1 file(s); 1 ledger event(s)")
    code, out, _ = cli("review", str(git_repo.root), "--all", "--offline", "-q", "-f", "json", "--db", str(central))
    report = json.loads(out)
    assert fp not in {f["fingerprint"] for f in report["findings"]} and report["totals"]["suppressed"] >= 1


@pytest.mark.parametrize(
    "mangle, message",
    [
        (lambda t: t[: len(t) // 2], "the file is truncated"),
        (lambda t: t.replace('"kind": "run"', '"kind": "walrus"', 1), "unknown line kind 'walrus'"),
        (lambda t: t.replace('"started_at": "2026', '"started_at": "yesterday', 1), "invalid run: run.started_at"),
        (lambda t: "{}\n" + t, ":1: not a tokyo history export"),
        (lambda t: t.replace('"version": 1', '"version": 9', 1), "export format version 9"),
        (lambda t: t.replace("\n", "\n{oops\n", 1), ":2: malformed JSON"),
    ],
)
def test_a_bad_file_is_refused_whole_in_one_line(mangle, message: str, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    runner, ids = runner_db(tmp_path / "runner.db")
    good = export(runner, ids, tmp_path / "good.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(mangle(good.read_text()), encoding="utf-8")
    central = tmp_path / "central.db"
    code, out, err = cli("history", "import", str(good), str(bad), "--db", str(central))
    assert code == 2 and out == "" and err.count("\n") == 1 and message in err and "Traceback" not in err
    assert list_runs(open_db(central)) == []  # not even the good file: every file is checked first


def test_export_needs_runs_or_since_and_names_a_missing_run(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "h.db"
    runner_db(db, runs=1)
    assert cli("history", "export", "--db", str(db))[0] == 2
    assert cli("history", "export", "1", "--since", "1d", "--db", str(db))[0] == 2
    code, _, err = cli("history", "export", "--since", "last tuesday", "--db", str(db))
    assert code == 2 and "--since takes 7d, 12h or an ISO 8601 date" in err
    code, _, err = cli("history", "export", "42", "-o", str(tmp_path / "x.jsonl"), "--db", str(db))
    assert code == 2 and "no run with id 42" in err and not (tmp_path / "x.jsonl").exists()  # no half file
    code, out, _ = cli("history", "export", "--since", "2026-04-30", "--db", str(db))
    assert code == 0 and len(out.splitlines()) == 2


def test_no_api_key_reaches_an_export_file(tmp_path: Path, git_repo, cli, fake_provider, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    key = "sk-proj-" + "Q7x9" * 12
    monkeypatch.setenv("OPENAI_API_KEY", key)
    fake_provider.script("", f"not JSON at all, but the key {key} echoed back")
    git_repo.write("app.py", "def f():\n    return 1\n")
    git_repo.commit("app")
    cli("review", str(git_repo.root), "--all", "-q", "--api-base", fake_provider.url, "--model", "openai/gpt-4o-mini")
    code, out, _ = cli("history", "export", "--since", "1d")
    assert code == 0 and '"kind": "run"' in out and key not in out


def test_runs_stored_before_the_identity_migration_get_distinct_uids(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = Database(sqlite3.connect(path))
    db.execute("PRAGMA foreign_keys = ON")
    MIGRATIONS.apply(db, stop_before="m012_run_identity")
    for _ in range(3):
        save_run(db, make_run())  # an older tokyo's rows: no uid column yet
    assert "uid" not in db["runs"].columns_dict
    db.close()
    db = open_db(path)
    uids = [r["uid"] for r in db["runs"].rows]
    assert len(set(uids)) == 3 and all(len(u) == 32 for u in uids)
    assert any(i.unique and i.columns == ["uid"] for i in db["runs"].indexes)
    central = open_db(tmp_path / "central.db")
    file = export(db, [r["id"] for r in db["runs"].rows], tmp_path / "old.jsonl")
    assert import_files(central, [file]).runs_added == 3 and import_files(central, [file]).runs_present == 3
