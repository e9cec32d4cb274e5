"""Nothing silent (issue 14): a file an analyzer could not analyze is recorded with the reason
(syntax the running Python cannot parse, a timeout, a missing tool), carried per agent in the
results and the history, and shown in every report; a run that skipped files never says
"No findings."."""

from __future__ import annotations

import json
import stat
import sys
import threading
from datetime import UTC
from pathlib import Path
from types import SimpleNamespace

import pytest

from fakes.gitrepo import GitRepo
from tokyo_cli.analyzers import AnalyzerRun, base, run_analyzers
from tokyo_cli.analyzers import bandit as bandit_mod
from tokyo_cli.analyzers.bandit import BanditAnalyzer, Interpreter, bandit_errors
from tokyo_cli.analyzers.common import PYTHON_VERSION, NotAnalyzedLog, collect_not_analyzed, parse_python
from tokyo_cli.git.repo import Changeset, FileChange, load_changeset, resolve_target
from tokyo_cli.report import empty_message, not_analyzed_groups, reason_kind
from tokyo_cli.results import AnalyzerNote, FileEntry, RunResult, StepResult

# PEP 701 (3.12): the same quotes inside an f-string replacement field; PEP 695: `type X = ...`.
PEP701 = 'row = {"a": 1}\nprint(f"{row["a"]}")\n'
PEP695 = "type Alias = int\n\n\ndef f():\n    return 1\n"
SHELL = 'import os\n\n\ndef run(cmd):\n    os.system("ls " + cmd)\n'

needs_311 = pytest.mark.skipif(sys.version_info >= (3, 12), reason="3.12 syntax parses on this Python")


def changeset(repo: GitRepo) -> Changeset:
    return load_changeset(repo.root, resolve_target(repo.root, working=True))


@pytest.fixture
def no_newer_python(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bandit_mod, "newer_pythons", lambda: ())


# --- parse_python records, centrally -------------------------------------------------------------


def test_parse_python_records_only_files_it_was_given(git_repo: GitRepo) -> None:
    git_repo.write("a.py", "def (:\n")
    cs = changeset(git_repo)
    assert parse_python("def (:\n") is None  # outside a run: nothing to record into
    log = NotAnalyzedLog(cs, cs.reviewable())
    with collect_not_analyzed(log):
        assert parse_python("x = (\n") is None  # an old version, or a file outside the change
        assert log.entries == {}
        assert parse_python("def (:\n") is None
        assert parse_python("y = [\n", path="b.py") is None  # a caller that names the path
    assert log.entries == {
        "a.py": f"syntax not supported by Python {PYTHON_VERSION} (line 1: invalid syntax)",
        "b.py": log.entries["b.py"],
    }
    assert log.entries["b.py"].startswith(f"syntax not supported by Python {PYTHON_VERSION} (line 1: ")


@needs_311
def test_python_analyzers_record_unparsable_files_without_their_help(git_repo: GitRepo) -> None:
    # docstrings calls parse_python(text) without a path: the run's collector finds the file
    # by its text among the files the analyzer was given; complexity names the path.
    git_repo.write("pkg/new.py", PEP701)
    git_repo.write("pkg/alias.py", PEP695)
    git_repo.write("pkg/fine.py", "def g():\n    return 2\n")
    cs = changeset(git_repo)
    runs = run_analyzers(["docstrings", "complexity"], cs, cs.reviewable(), agent="a")
    for run in runs:
        assert run.error is None
        assert sorted(run.not_analyzed) == ["pkg/alias.py", "pkg/new.py"], run.name
        assert run.not_analyzed["pkg/new.py"].startswith(f"syntax not supported by Python {PYTHON_VERSION} (line 2: ")
        assert run.not_analyzed["pkg/alias.py"] == (
            f"syntax not supported by Python {PYTHON_VERSION} (line 1: invalid syntax)"
        )


# --- bandit ----------------------------------------------------------------------------------------


@needs_311
def test_bandit_lists_files_it_cannot_parse_with_the_reason(git_repo: GitRepo, no_newer_python: None) -> None:
    git_repo.write("pkg/new.py", PEP701)
    git_repo.write("pkg/alias.py", PEP695)
    git_repo.write("pkg/shell.py", SHELL)
    cs = changeset(git_repo)
    [run] = run_analyzers(["bandit"], cs, cs.reviewable(), agent="akira")
    assert run.error is None
    assert [(f.path, f.rule) for f in run.findings] == [("pkg/shell.py", "bandit:B605")]
    assert run.not_analyzed == {
        "pkg/alias.py": f"syntax not supported by Python {PYTHON_VERSION} (line 1: invalid syntax)",
        "pkg/new.py": run.not_analyzed["pkg/new.py"],
    }
    assert run.not_analyzed["pkg/new.py"].startswith(
        f"syntax not supported by Python {PYTHON_VERSION} (line 2: f-string"
    )


def test_bandit_errors_array_maps_to_repository_paths(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    files: dict[str, FileChange] = {
        "a.py": FileChange(path="a.py", status="added"),
        "b c.py": FileChange(path="b c.py", status="added"),
    }
    report = {
        "results": [],
        "errors": [
            {"filename": str(root / "a.py"), "reason": "syntax error while parsing AST from file"},
            {"filename": str(root / "b c.py"), "reason": "exception while scanning\nfile"},
            {"filename": "/elsewhere/x.py", "reason": "not ours"},  # never mapped onto a repo path
            "garbage",
        ],
    }
    assert bandit_errors(report, files, root=root) == {
        "a.py": "syntax error while parsing AST from file",
        "b c.py": "exception while scanning file",
    }
    assert bandit_errors({"results": []}, files, root=root) == {}


FAKE_BANDIT = """\
import json, os, sys
args = sys.argv[1:]
tree = args[args.index("-r") + 1]
names = sorted(os.path.join(d, f) for d, _, fs in os.walk(tree) for f in fs)
print(json.dumps({"results": [], "errors": [
    {"filename": n, "reason": "exception while scanning file"} for n in names]}))
"""


def test_a_bandit_error_on_a_file_that_parses_keeps_bandits_reason(git_repo: GitRepo, tmp_path: Path) -> None:
    git_repo.write("ok.py", "x = 1\n")
    script = tmp_path / "fake_bandit.py"
    script.write_text(FAKE_BANDIT, encoding="utf-8")
    cs = changeset(git_repo)
    run = BanditAnalyzer([sys.executable, str(script)]).run(cs, cs.reviewable(), agent="akira")
    assert run.error is None and run.not_analyzed == {"ok.py": "bandit error (exception while scanning file)"}


# A stand-in for a newer interpreter: `-m bandit` reports one finding per file it was given,
# the probe says "3.99" and whether bandit is there, the parse check says every file parses.
FAKE_PYTHON = """\
#!{python}
import json, os, sys
args = sys.argv[1:]
if "-m" in args:
    tree = args[args.index("-r") + 1]
    names = sorted(os.path.join(d, f) for d, _, fs in os.walk(tree) for f in fs)
    print(json.dumps({{"errors": [], "results": [{{
        "filename": n, "test_id": "B999", "test_name": "newer", "issue_text": "seen by the newer bandit",
        "issue_severity": "LOW", "issue_confidence": "HIGH", "line_number": 1, "line_range": [1]}}
        for n in names]}}))
elif "import bandit" in args[-1]:
    print("3.99")
    print({has_bandit!r})
else:
    print(json.dumps([True] * len(json.load(sys.stdin))))
"""


def fake_python(tmp_path: Path, *, has_bandit: bool) -> str:
    exe = tmp_path / "python3.99"
    exe.write_text(
        FAKE_PYTHON.format(python=sys.executable, has_bandit="bandit" if has_bandit else "-"), encoding="utf-8"
    )
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return str(exe)


@needs_311
def test_bandit_rescans_newer_syntax_under_a_newer_python_that_has_bandit(
    git_repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exe = fake_python(tmp_path, has_bandit=True)
    monkeypatch.setattr(bandit_mod, "newer_pythons", lambda: (Interpreter(exe, (3, 99), True),))
    git_repo.write("pkg/new.py", PEP701)
    git_repo.write("pkg/shell.py", SHELL)
    cs = changeset(git_repo)
    [run] = run_analyzers(["bandit"], cs, cs.reviewable(), agent="akira")
    assert run.error is None and run.not_analyzed == {}
    # shell.py by this Python's bandit; new.py, and only it, by the newer one.
    assert sorted((f.path, f.rule) for f in run.findings) == [
        ("pkg/new.py", "bandit:B999"),
        ("pkg/shell.py", "bandit:B605"),
    ]


@needs_311
def test_a_newer_python_without_bandit_says_the_syntax_is_newer(
    git_repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exe = fake_python(tmp_path, has_bandit=False)
    monkeypatch.setattr(bandit_mod, "newer_pythons", lambda: (Interpreter(exe, (3, 99), False),))
    git_repo.write("pkg/new.py", PEP701)
    cs = changeset(git_repo)
    [run] = run_analyzers(["bandit"], cs, cs.reviewable(), agent="akira")
    assert run.findings == [] and run.not_analyzed == {
        "pkg/new.py": f"syntax newer than Python {PYTHON_VERSION} (parses under Python 3.99, "
        "which has no bandit installed)"
    }


def test_newer_pythons_probes_the_candidates_and_skips_ones_that_do_not_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = fake_python(tmp_path, has_bandit=True)
    shim = tmp_path / "shim"
    shim.write_text("#!/bin/sh\necho 'pyenv: python3.x: command not found' >&2\nexit 127\n", encoding="utf-8")
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    minor = sys.version_info[1]
    table = {f"python3.{minor + 1}": str(shim), f"python3.{minor + 2}": good}
    monkeypatch.setattr(bandit_mod, "find_tool", table.get)
    bandit_mod.newer_pythons.cache_clear()
    try:
        assert bandit_mod.newer_pythons() == (Interpreter(good, (3, 99), True),)
    finally:
        bandit_mod.newer_pythons.cache_clear()


# --- timeouts and missing tools ----------------------------------------------------------------------

_release = threading.Event()


class StuckAnalyzer:
    name = "stuck-na"

    @staticmethod
    def accepts(path: str) -> bool:
        return path.endswith(".py")

    def run(self, changeset: Changeset, files: list[FileChange], *, agent: str, timeout_s: float) -> AnalyzerRun:
        _release.wait(30)
        return AnalyzerRun(name=self.name)


def test_a_timed_out_analyzer_leaves_every_file_it_accepts_not_analyzed(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(base._REGISTRY, "stuck-na", f"{__name__}:StuckAnalyzer")
    monkeypatch.setattr(base, "TIMEOUT_GRACE_S", 0.0)
    git_repo.write("a.py", "x = 1\n")
    git_repo.write("README.md", "hello\n")
    cs = changeset(git_repo)
    try:
        [run] = run_analyzers(["stuck-na"], cs, cs.reviewable(), agent="a", timeout_s=0.2)
    finally:
        _release.set()
    assert run.error == "stuck-na unavailable: timed out after 0.2 s"
    assert run.not_analyzed == {"a.py": "timed out (after 0.2 s)"}


def test_bandit_timing_out_or_missing_leaves_its_python_files_not_analyzed(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    git_repo.write("a.py", SHELL)
    git_repo.write("README.md", "hello\n")
    cs = changeset(git_repo)
    monkeypatch.setattr(bandit_mod, "BANDIT_COMMAND", [sys.executable, "-c", "import time; time.sleep(30)"])
    [slow] = run_analyzers(["bandit"], cs, cs.reviewable(), agent="akira", timeout_s=0.5)
    assert slow.error == "bandit unavailable: timed out after 0.5 s"
    assert slow.not_analyzed == {"a.py": "timed out (after 0.5 s)"}
    monkeypatch.setattr(bandit_mod, "BANDIT_COMMAND", [sys.executable, "-m", "tokyo_no_such_module"])
    [missing] = run_analyzers(["bandit"], cs, cs.reviewable(), agent="akira")
    assert list(missing.not_analyzed) == ["a.py"]
    assert missing.not_analyzed["a.py"].startswith("tool unavailable (bandit unavailable: ")


def test_detect_secrets_timing_out_lists_what_it_did_not_scan(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tokyo_cli.analyzers import secrets as secrets_mod

    # A keyword on each line: files detect-secrets' prefilter lets through to the scan.
    git_repo.write("a.txt", "password_hint: one\n")
    git_repo.write("b.txt", "password_hint: two\n")
    cs = changeset(git_repo)
    clock = iter([0.0, 0.0])  # start, then the check before a.txt; 5 s later at b.txt
    monkeypatch.setattr(secrets_mod, "time", SimpleNamespace(monotonic=lambda: next(clock, 5.0)))
    SecretsAnalyzer = secrets_mod.SecretsAnalyzer
    run = SecretsAnalyzer().run(cs, cs.reviewable(), agent="akira", timeout_s=1)
    assert run.error == "detect-secrets unavailable: timed out after 1 s"
    assert run.not_analyzed == {"b.txt": "timed out (after 1 s)"}


def test_a_crashing_analyzer_leaves_its_files_not_analyzed(git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(self: BanditAnalyzer, *args: object, **kwargs: object) -> AnalyzerRun:
        raise RuntimeError("boom")

    monkeypatch.setattr(BanditAnalyzer, "run", boom)
    git_repo.write("a.py", "x = 1\n")
    git_repo.write("README.md", "hello\n")
    cs = changeset(git_repo)
    [run] = run_analyzers(["bandit"], cs, cs.reviewable(), agent="akira")
    assert run.not_analyzed == {"a.py": "analyzer failed (bandit failed: RuntimeError: boom)"}


# --- reports and history ---------------------------------------------------------------------------

HOSTILE = "evil\nCRITICAL fake.py:1\x1b[31m.py"


def result_with_skips() -> RunResult:
    from datetime import datetime

    reasons = {
        "pkg/new.py": f"syntax not supported by Python {PYTHON_VERSION} (line 2: f-string: unmatched '[')",
        HOSTILE: f"syntax not supported by Python {PYTHON_VERSION} (line 1: invalid syntax)",
        "pkg/c.py": f"syntax not supported by Python {PYTHON_VERSION} (line 1: invalid syntax)",
        "pkg/d.py": f"syntax not supported by Python {PYTHON_VERSION} (line 1: invalid syntax)",
    }
    files = [*reasons, "pkg/e.py"]
    return RunResult(
        repo="/r",
        target="all",
        target_description="whole tree",
        workflow="review",
        status="completed",
        started_at=datetime(2026, 1, 1, tzinfo=UTC),
        finished_at=datetime(2026, 1, 1, 0, 0, 2, tzinfo=UTC),
        files=[FileEntry(path=p, status="added", reviewed_by=["akira"]) for p in files],
        steps=[
            StepResult(
                step_id="security",
                agent="akira",
                agent_name="Akira",
                status="offline",
                files=files,
                analyzers=[
                    AnalyzerNote(name="bandit", not_analyzed=reasons),
                    AnalyzerNote(
                        name="detect-secrets",
                        error="detect-secrets unavailable: timed out after 5 s",
                        not_analyzed={"pkg/e.py": "timed out (after 5 s)"},
                    ),
                ],
            )
        ],
    )


def test_not_analyzed_groups_count_and_caveat() -> None:
    groups = not_analyzed_groups(result_with_skips())
    assert [(g.agent, g.analyzer, g.reason, len(g.items)) for g in groups] == [
        ("Akira", "bandit", f"syntax not supported by Python {PYTHON_VERSION}", 4),
        ("Akira", "detect-secrets", "timed out", 1),
    ]
    assert groups[0].headline == f"Akira: bandit: 4 files not analyzed: syntax not supported by Python {PYTHON_VERSION}"
    assert groups[0].items[0] == ("pkg/new.py", "line 2: f-string: unmatched '['")
    assert reason_kind("timed out") == ("timed out", "")
    message = empty_message(result_with_skips())
    assert message != "No findings." and message.startswith("No findings in what was reviewed — ")
    assert (
        f"5 files were not analyzed (bandit: syntax not supported by Python {PYTHON_VERSION}, "
        "detect-secrets: timed out)"
    ) in message


def test_terminal_lists_not_analyzed_files_escaped(monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.console import Console

    from tokyo_cli.report.terminal import render_terminal

    console = Console(width=200, soft_wrap=True, record=True, force_terminal=False)
    render_terminal(result_with_skips(), console)
    out = console.export_text()
    assert "Not analyzed (5 files)" in out
    assert f"  Akira: bandit: 4 files not analyzed: syntax not supported by Python {PYTHON_VERSION}\n" in out
    assert "    pkg/new.py — line 2: f-string: unmatched '['\n" in out
    assert '    "evil\\nCRITICAL fake.py:1\\033[31m.py" — line 1: invalid syntax\n' in out
    assert "    … and 1 more (every file: --format json)\n" in out
    assert "  Akira: detect-secrets: 1 file not analyzed: timed out\n" in out
    assert "\x1b" not in out and "\nCRITICAL fake.py" not in out
    assert "No findings." not in out.replace("No findings in what was reviewed", "")
    assert "5 files were not analyzed" in out


def test_markdown_lists_not_analyzed_files() -> None:
    from tokyo_cli.report.markdown import render_markdown

    md = render_markdown(result_with_skips())
    assert "### Not analyzed (5 files)" in md
    assert (
        f"| Akira | `bandit` | 4 | syntax not supported by Python {PYTHON_VERSION} | "
        "`pkg/new.py` (line 2: f-string: unmatched '\\['), "
    ) in md
    assert ", … and 1 more |" in md
    assert "| Akira | `detect-secrets` | 1 | timed out | `pkg/e.py` (after 5 s) |" in md
    assert "\x1b" not in md and "\nCRITICAL" not in md
    assert "**No findings.**" not in md and "5 files were not analyzed" in md


def test_json_lists_every_not_analyzed_file_with_its_reason() -> None:
    from tokyo_cli.report.jsonout import report_dict

    doc = report_dict(result_with_skips())
    bandit, secrets = doc["steps"][0]["analyzers"]
    assert [e["path"] for e in bandit["not_analyzed"]] == ["pkg/new.py", HOSTILE, "pkg/c.py", "pkg/d.py"]
    assert bandit["not_analyzed"][0]["reason"].startswith(f"syntax not supported by Python {PYTHON_VERSION} (line 2")
    assert secrets["not_analyzed"] == [{"path": "pkg/e.py", "reason": "timed out (after 5 s)"}]
    assert doc["run"]["complete"] is False
    assert any("5 files were not analyzed" in c for c in doc["run"]["caveats"])


def test_history_round_trip_keeps_not_analyzed(tmp_path: Path) -> None:
    from tokyo_cli.store import load_run, open_db, save_run

    db = open_db(tmp_path / "history.db")
    try:
        result = result_with_skips()
        stored = load_run(db, save_run(db, result))
    finally:
        db.close()
    assert stored.steps[0].analyzers == result.steps[0].analyzers
    assert not_analyzed_groups(stored) == not_analyzed_groups(result)
    # A row written before not_analyzed existed reads back as {} (no schema change needed).
    assert AnalyzerNote(**{"name": "bandit", "findings": 0, "error": None, "seconds": 0.1}).not_analyzed == {}


@needs_311
def test_an_offline_review_of_newer_syntax_says_so_everywhere(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tokyo_cli.cli.app import main

    monkeypatch.setattr(bandit_mod, "newer_pythons", lambda: ())
    git_repo.write("app/new.py", PEP701)
    git_repo.commit("newer syntax")
    with pytest.raises(SystemExit):
        main(["review", str(git_repo.root), "--all", "-w", "security", "--offline", "-f", "json", "-q"])
    doc = json.loads(capsys.readouterr().out)
    akira = next(s for s in doc["steps"] if s["agent"] == "akira")
    bandit = next(a for a in akira["analyzers"] if a["name"] == "bandit")
    [entry] = bandit["not_analyzed"]
    assert entry["path"] == "app/new.py"
    assert entry["reason"].startswith(f"syntax not supported by Python {PYTHON_VERSION} (line 2: ")
    with pytest.raises(SystemExit):
        main(["review", str(git_repo.root), "--all", "-w", "security", "--offline", "-q"])
    out = capsys.readouterr().out
    assert f"bandit: 1 file not analyzed: syntax not supported by Python {PYTHON_VERSION}" in out
    assert "No findings." not in out.replace("No findings in what was reviewed", "")
    with pytest.raises(SystemExit):
        main(["review", str(git_repo.root), "--all", "-w", "security", "--offline", "-q", "-f", "markdown"])
    assert "### Not analyzed (1 file)" in capsys.readouterr().out


def test_the_offline_summary_does_not_claim_a_clean_run() -> None:
    from tokyo_cli.summary import offline_summary

    assert offline_summary(result_with_skips()).startswith(
        "No findings in 5 reviewed files, but 5 files were not analyzed by an analyzer (see Not analyzed)."
    )
