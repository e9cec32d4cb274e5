"""The findings ledger: decisions by fingerprint, applied to later runs, kept through pruning."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlite_utils import Database

from test_store import make_run
from tokyo_cli.errors import StoreError
from tokyo_cli.findings import Finding, Severity
from tokyo_cli.results import RunResult
from tokyo_cli.store import open_db, save_run
from tokyo_cli.store.history import load_run, prune_runs
from tokyo_cli.store.ledger import accept, apply_ledger, dismiss, ledger_status, reopen
from tokyo_cli.store.ledger_query import get_entry, ledger_events, list_ledger, resolve_fingerprint


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_db(tmp_path / "history.db")
    yield database
    database.close()


def fingerprints(run: RunResult) -> dict[str, str]:
    """title -> fingerprint of the run's merged findings."""
    return {f.title: f.fingerprint for f in run.findings}


SQL = "SQL built with string formatting"
BANDIT = "Possible SQL injection vector through string-based query construction."
NO_TESTS = "No tests cover the new query helper"


def test_a_new_finding_is_open_and_seen_counts_runs(db: Database) -> None:
    first = make_run()
    save_run(db, first)
    save_run(db, make_run(repo="/src/other", started_at=first.started_at + timedelta(days=1)))
    entry = get_entry(db, fingerprints(first)[SQL])
    assert (entry.status, entry.seen, entry.path, entry.line, entry.severity) == ("open", 2, "app/db.py", 42, "high")
    assert (entry.first_run_id, entry.last_run_id, entry.repo) == (1, 2, "/src/other")
    assert entry.last_seen_at - entry.first_seen_at == timedelta(days=1)
    assert ledger_status(db, [fingerprints(first)[SQL], "ffffffffffffffff"]) == {
        fingerprints(first)[SQL]: "open",
        "ffffffffffffffff": "open",
    }


def test_dismiss_suppresses_in_later_runs_and_counts(db: Database) -> None:
    earlier = make_run()
    save_run(db, earlier)
    fp = fingerprints(earlier)
    dismiss(db, fp[BANDIT], reason="  the query is built from constants  ", who="mei")
    accept(db, fp[SQL], who="ken")

    later = make_run()
    assert apply_ledger(db, later) == 1
    assert later.suppressed == 1
    assert [f.title for f in later.findings] == [SQL, NO_TESTS]
    assert [f.status for f in later.findings] == ["accepted", "open"]
    # the steps' raw findings lose the dismissed one too, so step tables and SARIF agree
    assert all(f.fingerprint != fp[BANDIT] for s in later.steps for f in s.findings)
    assert [f.status for f in later.steps[0].findings] == ["accepted"]
    assert apply_ledger(db, later) == 0 and later.suppressed == 1  # applying again adds nothing

    run_id = save_run(db, later)
    assert load_run(db, run_id).suppressed == 1
    assert db["runs"].get(run_id)["suppressed"] == 1
    entry = get_entry(db, fp[BANDIT])
    assert (entry.status, entry.reason, entry.decided_by) == ("dismissed", "the query is built from constants", "mei")
    assert entry.seen == 1  # the suppressed run did not report it
    assert ledger_status(db, fp.values()) == {fp[SQL]: "accepted", fp[BANDIT]: "dismissed", fp[NO_TESTS]: "open"}


def test_accepting_marks_only_open_findings(db: Database) -> None:
    """A step finding a model already judged (status "dismissed", kept for history) keeps
    that status when the person accepts the fingerprint."""
    run = make_run()
    save_run(db, run)
    fp = fingerprints(run)[SQL]
    accept(db, fp)
    later = make_run()
    later.steps[0].findings[0].status = "dismissed"  # the model's verdict on this copy
    apply_ledger(db, later)
    assert [f.status for f in later.steps[0].findings] == ["dismissed", "open"]
    assert later.findings[0].status == "accepted"


def test_reopen_restores_reporting_and_history_keeps_every_decision(db: Database) -> None:
    run = make_run()
    save_run(db, run)
    fp = fingerprints(run)[NO_TESTS]
    dismiss(db, fp, reason="covered by integration tests", who="mei")
    accept(db, fp, who="ken", reason="we will add unit tests")
    reopen(db, fp, who="aya")
    reopen(db, fp, who="aya")  # already open: no second event
    assert get_entry(db, fp).status == "open" and get_entry(db, fp).reason is None
    events = ledger_events(db, fp)
    assert [(e.action, e.who, e.reason) for e in events] == [
        ("dismiss", "mei", "covered by integration tests"),
        ("accept", "ken", "we will add unit tests"),
        ("reopen", "aya", None),
    ]
    assert events[0].at.tzinfo is not None
    again = make_run()
    assert apply_ledger(db, again) == 0 and len(again.findings) == 3


def test_unknown_fingerprint_and_blank_reason_are_one_line_usage_errors(db: Database) -> None:
    with pytest.raises(StoreError, match="^no finding with fingerprint 0123456789abcdef$") as exc:
        dismiss(db, "0123456789abcdef", reason="x")
    assert exc.value.exit_code == 2
    save_run(db, make_run())
    fp = fingerprints(make_run())[SQL]
    with pytest.raises(StoreError, match="needs a reason") as exc:
        dismiss(db, fp, reason="   ")
    assert exc.value.exit_code == 2
    for action in (accept, reopen):
        with pytest.raises(StoreError, match="no finding with fingerprint"):
            action(db, "fedcba9876543210")


def test_a_step_only_finding_can_be_decided_and_is_then_suppressed(db: Database) -> None:
    """A raw step finding that merging folded into another still has a stored fingerprint."""
    run = make_run()
    save_run(db, run)
    raw = run.steps[0].findings[0]  # the model's SQL finding, as raised before merging
    hidden = Finding(path="app/db.py", line=7, severity=Severity.LOW, title="Only in a step", agent="akira")
    run2 = make_run()
    run2.steps[0].findings.append(hidden)
    save_run(db, run2)
    dismiss(db, hidden.fingerprint, reason="noise")
    assert get_entry(db, hidden.fingerprint).seen == 0  # never in a merged list
    third = make_run()
    third.steps[0].findings.append(hidden.model_copy())
    assert apply_ledger(db, third) == 0  # not in the merged list, so nothing to count...
    assert hidden.fingerprint not in {f.fingerprint for f in third.steps[0].findings}  # ...but gone
    assert raw.fingerprint in {f.fingerprint for f in third.steps[0].findings}


def test_resolve_fingerprint_by_unique_prefix(db: Database) -> None:
    run = make_run()
    save_run(db, run)
    fp = fingerprints(run)
    assert resolve_fingerprint(db, fp[SQL][:6].upper()) == fp[SQL]
    assert resolve_fingerprint(db, fp[SQL]) == fp[SQL]
    for bad, message in (
        ("ab", "at least 4 hex digits"),
        ("zzzzzz", "at least 4 hex digits"),
        ("0000000000000000", "no finding with fingerprint"),
    ):
        with pytest.raises(StoreError, match=message) as exc:
            resolve_fingerprint(db, bad)
        assert exc.value.exit_code == 2
    # two fingerprints that share a prefix
    db["ledger"].insert_all(
        [
            {"fingerprint": "abcd000000000001", "status": "open", "seen": 0},
            {"fingerprint": "abcd000000000002", "status": "open", "seen": 0},
        ]
    )
    with pytest.raises(StoreError, match="ambiguous: abcd000000000001, abcd000000000002"):
        resolve_fingerprint(db, "abcd")
    assert resolve_fingerprint(db, "abcd000000000002") == "abcd000000000002"


def test_list_filters_orders_and_searches(db: Database) -> None:
    run = make_run()
    save_run(db, run)
    other = RunResult(
        repo="/src/web",
        target="all",
        target_description="all files",
        workflow="review",
        started_at=datetime(2025, 6, 1, tzinfo=UTC),
        findings=[
            Finding(
                path="web/app.js",
                line=3,
                severity=Severity.CRITICAL,
                agent="akira",
                title="Secrets committed to the repository",
                body="An AWS key is in the diff.",
            )
        ],
    )
    save_run(db, other)
    fp = fingerprints(run)
    dismiss(db, fp[BANDIT], reason="constants only")

    titles = [e.title for e in list_ledger(db)]  # default: open, most severe first
    assert titles == ["Secrets committed to the repository", SQL, NO_TESTS]
    assert [e.fingerprint for e in list_ledger(db, status="dismissed")] == [fp[BANDIT]]
    assert len(list_ledger(db, status=None)) == 4
    assert [e.repo for e in list_ledger(db, repo="/src/web")] == ["/src/web"]
    assert [e.title for e in list_ledger(db, limit=1)] == ["Secrets committed to the repository"]
    # full-text search over titles and bodies, Porter-stemmed, any text safe
    assert [e.title for e in list_ledger(db, status=None, search="injections")] == [BANDIT]
    assert [e.title for e in list_ledger(db, status=None, search="aws keys")] == ["Secrets committed to the repository"]
    assert list_ledger(db, status=None, search='"unbalanced OR (') == []
    with pytest.raises(StoreError, match="unknown status 'closed'"):
        list_ledger(db, status="closed")


def test_prune_keeps_the_ledger_and_the_search_index_consistent(db: Database) -> None:
    old, new = make_run(), make_run(started_at=datetime(2030, 1, 1, tzinfo=UTC))
    save_run(db, old)
    save_run(db, new)
    fp = fingerprints(old)[BANDIT]
    dismiss(db, fp, reason="constants only")
    assert prune_runs(db, before=datetime(2029, 1, 1, tzinfo=UTC), dry_run=True) == 1
    assert db["runs"].count == 2
    assert prune_runs(db, before=datetime(2029, 1, 1, tzinfo=UTC)) == 1
    assert [r["id"] for r in db["runs"].rows] == [2]
    assert db["findings"].count_where("run_id = 1") == 0
    # FTS5 integrity-check fails if the index does not match the findings table exactly
    db.execute("INSERT INTO findings_fts(findings_fts) VALUES ('integrity-check')")
    assert db.execute("SELECT count(*) FROM findings_fts WHERE findings_fts MATCH 'injection'").fetchone()[0] == 2
    assert get_entry(db, fp).status == "dismissed" and db["ledger"].count == 3
    later = make_run()
    assert apply_ledger(db, later) == 1  # the decision outlives the runs it was made on
