"""`tokyo history|show|stats|findings` through the real entry point, on real repositories.

The ledger test drives `tokyo review` twice on a git repository (offline, bandit's B602 as
the finding): dismissed once, the finding stays suppressed when its line moves down by 10
lines in a later commit.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from fakes.gitrepo import GitRepo
from fakes.provider import FakeProvider
from test_review_e2e import RunCli, project, script_team  # noqa: F401  (project: a fixture)
from test_store import make_run
from tokyo_cli.store import list_runs, open_db, save_run

BASE = 'import subprocess\n\n\ndef ping(host):\n    return subprocess.run(["ping", "-c", "1", host], check=False)\n'
RUNNER = '\n\ndef run(cmd):\n    """Run a shell command."""\n    return subprocess.call(cmd, shell=True)\n'
HELPER = (
    '\n\ndef helper():\n    """Ten lines above run()."""\n    a = 1\n    b = 2\n    c = 3\n    d = 4\n'
    "    e = 5\n    return a + b + c + d + e\n"
)
SHELL = "    return subprocess.call(cmd, shell=True)"
COLOUR = re.compile(r"\x1b\[(?:\d+;)*(?:3[0-9]|9[0-7]|38;[25])")  # a foreground colour, not bold


def shell_line(text: str) -> int:
    return text.splitlines().index(SHELL) + 1


def b602(report: dict) -> list[dict]:  # type: ignore[type-arg]
    return [f for f in report["findings"] if f["rule"] == "bandit:B602"]


def test_a_dismissed_finding_stays_suppressed_when_its_line_moves_down_10_lines(git_repo: GitRepo, cli: RunCli) -> None:
    git_repo.write("server.py", BASE)
    git_repo.commit("base")
    git_repo.checkout_branch("feature")
    git_repo.write("server.py", BASE + RUNNER)
    git_repo.commit("add run()")
    review = ("review", str(git_repo.root), "--base", "main", "--offline", "-f", "json", "-q")

    code, out, err = cli(*review)
    first = json.loads(out)
    (finding,) = b602(first)
    assert (finding["line"], code) == (shell_line(BASE + RUNNER), 1), err
    fp = finding["fingerprint"]

    code, out, err = cli("findings", "dismiss", fp[:7], "--reason", "only trusted input reaches run()")
    assert code == 0, err
    assert out.startswith(f"Dismissed {fp}: server.py:{finding['line']} — subprocess call with shell=True")

    git_repo.write("server.py", BASE + HELPER + RUNNER)  # the same line, 10 lines further down
    git_repo.commit("add helper() above run()")
    assert shell_line(BASE + HELPER + RUNNER) - shell_line(BASE + RUNNER) == 10
    code, out, err = cli(*review)
    second = json.loads(out)
    assert b602(second) == []
    assert second["totals"]["suppressed"] == 1
    assert code == 0, second["findings"]  # nothing left at or above high: a hook would pass

    code, out, _ = cli("history", "--json")
    assert [(r["id"], r["suppressed"]) for r in json.loads(out)] == [(2, 1), (1, 0)]
    code, out, _ = cli("show", "2", "-f", "json")
    assert json.loads(out) == second  # the stored run says the same

    # a different line of code is a different finding: reported despite the dismissal
    changed = (BASE + HELPER + RUNNER).replace("call(cmd, shell=True)", "call(command, shell=True)")
    git_repo.write("server.py", changed.replace("def run(cmd):", "def run(command):"))
    git_repo.commit("rename")
    code, out, _ = cli(*review)
    third = json.loads(out)
    (again,) = b602(third)
    assert again["fingerprint"] != fp and third["totals"]["suppressed"] == 0 and code == 1

    code, out, _ = cli("findings", "reopen", fp)
    assert code == 0 and out.startswith(f"Reopened {fp}")
    code, out, _ = cli("findings", "show", fp[:8], "--json")
    entry = json.loads(out)
    assert (entry["status"], [e["action"] for e in entry["events"]]) == ("open", ["dismiss", "reopen"])


@pytest.mark.parametrize("fmt", ["terminal", "markdown", "json", "sarif"])
def test_show_reproduces_the_original_report_from_the_database_alone(
    project: GitRepo,
    cli: RunCli,
    fake_provider: FakeProvider,
    monkeypatch: pytest.MonkeyPatch,
    fmt: str,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-do-not-store-0123456789abcdef")
    script_team(fake_provider)
    code, original, err = cli("review", str(project.root), "--api-base", fake_provider.url, "-f", fmt, "-q")
    assert code == 1, err
    shutil.rmtree(project.root)  # no repository needed
    code, shown, err = cli("show", "1", "--format", fmt)
    assert code == 0, err
    assert shown == original
    if fmt == "json":
        totals = json.loads(shown)["totals"]
        assert totals["calls"] == 6 and totals["tokens_in"] > 0 and totals["findings"] >= 5


def test_show_unknown_run_and_colour_rules(tmp_path: Path, cli: RunCli, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "h.db"
    code, out, err = cli("show", "7", "--db", str(db))
    assert (code, out) == (2, "")
    assert err == "tokyo: error: no run with id 7 (see tokyo history)\n"
    database = open_db(db)
    save_run(database, make_run())
    database.close()
    monkeypatch.setenv("FORCE_COLOR", "1")  # as if on a terminal
    monkeypatch.delenv("NO_COLOR")
    _, coloured, _ = cli("show", "1", "--db", str(db))
    assert COLOUR.search(coloured)
    monkeypatch.setenv("NO_COLOR", "1")
    _, plain, _ = cli("show", "1", "--db", str(db))
    assert "HIGH" in plain and not COLOUR.search(plain)


@pytest.fixture
def history_db(tmp_path: Path) -> Path:
    """Four runs: two of repository a (workflows review, security), one failed of b, one of c."""
    path = tmp_path / "history.db"
    (tmp_path / "a" / "sub").mkdir(parents=True)
    database = open_db(path)
    for repo, workflow, status in (
        ("a", "review", "completed"),
        ("b", "review", "failed"),
        ("a", "security", "completed"),
        ("c", "review", "partial"),
    ):
        save_run(database, make_run(repo=str(tmp_path / repo), workflow=workflow, status=status))
    database.close()
    return path


def test_history_filters_json_and_piped_output(history_db: Path, cli: RunCli, tmp_path: Path) -> None:
    db = ("--db", str(history_db))
    code, out, _ = cli("history", *db)
    lines = out.splitlines()
    assert code == 0 and "\x1b" not in out
    assert lines[0].split("\t") == [
        "id",
        "when",
        "repo",
        "target",
        "workflow",
        "status",
        "findings",
        "suppressed",
        "USD",
        "s",
    ]
    assert [line.split("\t")[0] for line in lines[1:]] == ["4", "3", "2", "1"]  # same start: newest id first
    assert lines[1].split("\t")[2] == str(tmp_path / "c") and lines[1].split("\t")[6] == "1H 1M 1L"

    def ids(*args: str) -> list[int]:
        code, out, err = cli("history", *db, "--json", *args)
        assert code == 0, err
        return [r["id"] for r in json.loads(out)]

    assert ids("--limit", "2") == [4, 3]
    assert ids("--status", "failed") == [2]
    assert ids("--workflow", "security") == [3]
    assert ids("--repo", str(tmp_path / "a" / "sub")) == [3, 1]  # a subdirectory finds its repository
    assert ids("--repo", str(tmp_path / "nowhere")) == []
    code, _, err = cli("history", *db, "--status", "done")
    assert code == 2 and "done" in err
    code, out, err = cli("history", *db, "--repo", str(tmp_path / "nowhere"))
    assert (code, out, err.strip()) == (0, "", "No runs match.")


def test_history_prune_keeps_the_ledger(history_db: Path, cli: RunCli) -> None:
    db = ("--db", str(history_db))
    database = open_db(history_db)
    fresh = save_run(database, make_run(started_at=make_run().started_at.replace(year=2999)))
    fp = make_run().findings[1].fingerprint
    database.close()
    assert cli("findings", "dismiss", fp, "-r", "constants only", *db)[0] == 0
    code, out, _ = cli("history", "prune", "--older-than", "30", "--dry-run", *db)
    assert code == 0 and out.startswith("Would delete 4 runs that started before ")
    code, out, _ = cli("history", "prune", "--older-than", "30", "--vacuum", *db)
    assert code == 0 and out.startswith("Deleted 4 runs") and "the findings ledger is kept" in out
    code, out, _ = cli("history", "--json", *db)
    assert [r["id"] for r in json.loads(out)] == [fresh]
    code, out, _ = cli("findings", "list", "--status", "dismissed", "--json", *db)
    assert [(e["fingerprint"], e["reason"]) for e in json.loads(out)] == [(fp, "constants only")]


def test_prune_older_than_0_needs_all_and_ids_are_never_reused(history_db: Path, cli: RunCli) -> None:
    db = ("--db", str(history_db))
    code, out, err = cli("history", "prune", "--older-than", "0", *db)
    assert (code, out) == (2, "")
    assert err == "tokyo: error: --older-than 0 deletes every run: pass --all if that is what you mean\n"
    for bad in (["--all", "--older-than", "5"], []):
        assert cli("history", "prune", *bad, *db)[0] == 2
    assert len(json.loads(cli("history", "--json", *db)[1])) == 4  # nothing was deleted

    database = open_db(history_db)
    future = save_run(database, make_run(started_at=make_run().started_at.replace(year=2999)))
    database.close()
    code, out, _ = cli("history", "prune", "--all", "--dry-run", *db)
    assert (code, out) == (0, "Would delete every run (5 runs).\n")
    code, out, _ = cli("history", "prune", "--older-than", "0", "--all", *db)  # not a terminal: no question
    assert (code, out) == (0, "Deleted 5 runs; the findings ledger is kept.\n")
    assert json.loads(cli("history", "--json", *db)[1]) == []
    code, out, _ = cli("history", "prune", "--all", *db)
    assert (code, out) == (0, "Nothing to delete.\n")
    database = open_db(history_db)
    assert save_run(database, make_run()) == future + 1  # not 1: `tokyo show 1` stays gone
    database.close()
    code, _, err = cli("show", "1", *db)
    assert code != 0 and "no run with id 1" in err


def _prune_on_a_terminal(db: Path, answer: str, *flags: str) -> str:
    """`tokyo history prune --older-than 30 FLAGS` with a pseudo-terminal as stdin and stdout,
    typing ``answer`` once the question is shown; everything it printed."""
    import os
    import pty
    import subprocess
    import sys

    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tokyo_cli", "history", "prune", "--older-than", "30", "--db", str(db), *flags],
        stdin=follower,
        stdout=follower,
        stderr=follower,
    )
    os.close(follower)
    seen = b""
    try:
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
            if answer and seen.rstrip().endswith(b"[y/N]:"):
                os.write(leader, answer.encode() + b"\n")
                answer = ""
    finally:
        os.close(leader)
        proc.wait(timeout=60)
    assert proc.returncode == 0, seen
    return seen.decode().replace("\r\n", "\n")


def test_prune_asks_first_on_a_terminal(history_db: Path) -> None:
    out = _prune_on_a_terminal(history_db, "n")
    assert "Delete 4 runs that started before " in out and "(the findings ledger is kept)? [y/N]:" in out
    assert out.rstrip().endswith("Nothing deleted.")
    assert len(list_runs(open_db(history_db))) == 4
    out = _prune_on_a_terminal(history_db, "y")
    assert out.rstrip().endswith("; the findings ledger is kept.") and "Deleted 4 runs" in out
    assert list_runs(open_db(history_db)) == []


def test_prune_yes_does_not_ask_on_a_terminal(history_db: Path) -> None:
    out = _prune_on_a_terminal(history_db, "", "--yes")
    assert "[y/N]" not in out and out.startswith("Deleted 4 runs")


def test_findings_commands(history_db: Path, cli: RunCli) -> None:
    db = ("--db", str(history_db))
    code, out, _ = cli("findings", "list", *db)
    rows = [line.split("\t") for line in out.splitlines()]
    assert rows[0][:5] == ["fingerprint", "status", "severity", "location", "title"]
    assert [(r[1], r[2], r[3]) for r in rows[1:]] == [
        ("open", "high", "app/db.py:42"),
        ("open", "medium", "app/db.py:42"),
        ("open", "low", "app/db.py"),
    ]
    sql, bandit = rows[1][0], rows[2][0]

    code, out, err = cli("findings", "dismiss", bandit[:6], "--reason", "constants only", "--by", "mei", *db)
    assert code == 0 and out.startswith(f"Dismissed {bandit}: app/db.py:42 — Possible SQL injection")
    assert "tokyo findings reopen" in err
    code, out, _ = cli("findings", "accept", sql[:6], *db)
    assert code == 0 and out.startswith(f"Accepted {sql}")
    code, out, _ = cli("findings", "list", "-s", "all", "--json", *db)
    status = {e["fingerprint"]: (e["status"], e["reason"], e["decided_by"]) for e in json.loads(out)}
    assert status[bandit] == ("dismissed", "constants only", "mei") and status[sql][0] == "accepted"
    code, out, _ = cli("findings", "list", "--search", "injections", "-s", "all", "--json", *db)
    assert [e["fingerprint"] for e in json.loads(out)] == [bandit]
    code, out, _ = cli("findings", "show", bandit, *db)
    assert "dismissed by mei" in out and "history" in out and "constants only" in out

    for args, message in (
        (("dismiss", "0000aaaa", "--reason", "x"), "tokyo: error: no finding with fingerprint 0000aaaa\n"),
        (
            ("accept", "xyz"),
            "tokyo: error: 'xyz' is not a fingerprint: give at least 4 hex digits (see tokyo findings list)\n",
        ),
    ):
        code, out, err = cli("findings", *args, *db)
        assert (code, out, err) == (2, "", message)
    code, _, err = cli("findings", "dismiss", bandit, *db)  # --reason is required
    assert code == 2 and "--reason" in err


def test_stats_command(history_db: Path, cli: RunCli) -> None:
    db = ("--db", str(history_db))
    code, out, _ = cli("stats", "--by", "agent", "--json", *db)
    rows = {r["key"]: r for r in json.loads(out)}
    assert code == 0 and rows["akira"]["runs"] == 4 and rows["akira"]["calls"] == 8
    assert rows["akira"]["latency_p95_s"] == 120.0 and rows["yuki"]["calls"] == 0
    code, out, _ = cli("stats", *db)
    header, row = (line.split("\t") for line in out.splitlines())
    assert header[:3] == ["group", "runs", "calls"] and header[-1] == "suppressed"
    assert row[:3] == ["all", "4", "8"]
    code, out, err = cli("stats", "--since", "last tuesday", *db)
    assert code == 2 and err.startswith("tokyo: error: --since 'last tuesday': expected a date")
    code, _, err = cli("stats", "--by", "week", *db)
    assert code == 2 and "week" in err
    code, out, err = cli("stats", "--since", "1d", *db)  # the runs are from 2025
    assert (code, out, err.strip()) == (0, "", "No runs match.")
