"""Function summaries over semgrep's per-function taint (analyzers/taint.py): flows into
helpers of another module, sanitizing helpers, chains of helpers, validation guards, and
which files are sent to semgrep.

Each case is its own repository (summaries are keyed by function name, so cases sharing a
repository would share helpers); all are scanned in one module-scoped fixture."""

from __future__ import annotations

from pathlib import Path

import pytest

from fakes.gitrepo import GitRepo
from tokyo_cli.analyzers import run_analyzers, taint
from tokyo_cli.analyzers import semgrep as semgrep_mod
from tokyo_cli.findings import Finding
from tokyo_cli.git.repo import load_changeset, resolve_target

pytestmark = pytest.mark.skipif(semgrep_mod.semgrep_command() is None, reason="semgrep not installed")

VIEW = """\
from flask import Flask, request

from app.services import {helper}

app = Flask(__name__)


@app.route("/x")
def view():
    value = request.args.get("q", "")
    cleaned = value.strip()
    return {call}
"""

CASES: dict[str, dict[str, str]] = {
    # The sink is in a helper of another module: reported there, with the caller named.
    "helper_sink": {
        "app/views.py": VIEW.format(helper="find_users", call="str(find_users(cleaned))"),
        "app/services.py": """\
import sqlite3


def find_users(name):
    conn = sqlite3.connect("app.db")
    return conn.execute("SELECT id FROM users WHERE name = '%s'" % name).fetchall()
""",
    },
    # The same helper with a bound parameter: nothing.
    "helper_sink_bound": {
        "app/views.py": VIEW.format(helper="find_users", call="str(find_users(cleaned))"),
        "app/services.py": """\
import sqlite3


def find_users(name):
    conn = sqlite3.connect("app.db")
    return conn.execute("SELECT id FROM users WHERE name = ?", (name,)).fetchall()
""",
    },
    # A helper that passes its argument through: the handler's redirect is reported.
    "propagating_helper": {
        "app/views.py": VIEW.format(helper="next_url", call="redirect(next_url(cleaned))").replace(
            "from flask import Flask, request", "from flask import Flask, redirect, request"
        ),
        "app/services.py": """\
def next_url(target):
    return target if target else "/account"
""",
    },
    # A helper that only returns a relative path: the redirect is safe.
    "sanitizing_helper": {
        "app/views.py": VIEW.format(helper="next_url", call="redirect(next_url(cleaned))").replace(
            "from flask import Flask, request", "from flask import Flask, redirect, request"
        ),
        "app/services.py": """\
def next_url(target):
    if not target.startswith("/") or target.startswith("//"):
        return "/account"
    return target
""",
    },
    # view -> run_report -> shell: a chain of two helpers, reported at the inner sink.
    "chain": {
        "app/views.py": VIEW.format(helper="run_report", call="str(run_report(cleaned))"),
        "app/services.py": """\
import subprocess


def run_report(name):
    return _shell("report --name " + name)


def _shell(command):
    return subprocess.check_output(command, shell=True)
""",
    },
    # An allow-list guard that exits: silent. A guard that only checks emptiness: reported.
    "guard_allow_list": {
        "app/views.py": """\
import os

from flask import Flask, abort, request

app = Flask(__name__)
ALLOWED = {"daily", "weekly"}


@app.route("/x")
def view():
    kind = request.args.get("kind", "")
    if kind not in ALLOWED:
        abort(400)
    os.system("make-report " + kind)
    return "ok"
""",
    },
    "guard_empty_only": {
        "app/views.py": """\
import os

from flask import Flask, abort, request

app = Flask(__name__)


@app.route("/x")
def view():
    kind = request.args.get("kind", "")
    if not kind:
        abort(400)
    os.system("make-report " + kind)
    return "ok"
""",
    },
}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = {}
    for name, files in CASES.items():
        repo = GitRepo(tmp_path_factory.mktemp(name) / "repo").init()
        repo.write("app/__init__.py", "")
        for path, text in files.items():
            repo.write(path, text)
        repo.commit(name)
        cs = load_changeset(repo.root, resolve_target(repo.root, all_files=True))
        [run] = run_analyzers(["semgrep"], cs, cs.reviewable(), agent="akira", timeout_s=120)
        assert run.error is None, run.error
        out[name] = run.findings
    return out


def where(findings: list[Finding]) -> list[tuple[str, int, str]]:
    return sorted((f.path, f.line, f.rule or "") for f in findings)


def test_flow_into_a_helper_of_another_module_is_reported_at_its_sink(results: dict[str, list[Finding]]) -> None:
    [finding] = results["helper_sink"]
    assert (finding.path, finding.line, finding.rule, finding.cwe) == (
        "app/services.py",
        6,
        "semgrep:sql-injection",
        [89],
    )
    assert "find_users() is called with untrusted data at app/views.py:12" in finding.body
    assert results["helper_sink_bound"] == []


def test_a_helper_that_passes_its_argument_on_taints_its_result(results: dict[str, list[Finding]]) -> None:
    assert where(results["propagating_helper"]) == [("app/views.py", 12, "semgrep:open-redirect")]
    assert "next_url() returns untrusted data it was given" in results["propagating_helper"][0].body


def test_a_sanitizing_helper_clears_the_flow(results: dict[str, list[Finding]]) -> None:
    assert results["sanitizing_helper"] == []


def test_a_chain_of_helpers_is_followed_to_the_inner_sink(results: dict[str, list[Finding]]) -> None:
    assert where(results["chain"]) == [("app/services.py", 9, "semgrep:command-injection")]
    assert "_shell() receives untrusted data from run_report()" in results["chain"][0].body


def test_a_validation_guard_sanitizes_and_an_emptiness_check_does_not(results: dict[str, list[Finding]]) -> None:
    assert results["guard_allow_list"] == []
    assert where(results["guard_empty_only"]) == [("app/views.py", 13, "semgrep:command-injection")]


def test_helper_modules_without_sources_are_sent_and_unrelated_files_are_not(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo").init()
    repo.write("app/views.py", CASES["helper_sink"]["app/views.py"])
    repo.write("app/services.py", CASES["helper_sink"]["app/services.py"])
    repo.write("app/maths.py", "def total(xs):\n    return sum(xs)\n")
    repo.commit("x")
    cs = load_changeset(repo.root, resolve_target(repo.root, all_files=True))
    assert sorted(semgrep_mod.scan_targets(cs, cs.reviewable())) == ["app/services.py", "app/views.py"]


def test_project_functions_are_found_by_text_and_builtins_are_never_summarised() -> None:
    src = (
        b"def find_users(name):\n    pass\n\nclass A:\n    async def load(self):\n        pass\n"
        b"    def _shell(self, c):\n        pass\n\ndef open(p):\n    pass\n"
    )
    assert taint.project_functions([src]) == ["_shell", "find_users", "load"]
    config = taint.build_config(["find_users"])
    ids = [r["id"] for r in config["rules"]]
    assert "sql-injection" in ids and "sql-injection--summary" in ids and "sql-injection--call" in ids
    assert "insecure-cookie--summary" not in ids  # a search rule has no flow to summarise
    # No helper names (a scan of one module without functions): the packaged rules only.
    assert sorted(r["id"] for r in taint.build_config([])["rules"]) == sorted(r["id"] for r in taint.load_pack()[1])


def test_enclosing_function_by_indentation() -> None:
    src = b"import os\n\ndef a(x):\n    y = 1\n\n    if y:\n        return x\n\nz = 2\n"
    assert taint.enclosing_function(src, 7) == "a"
    assert taint.enclosing_function(src, 4) == "a"
    assert taint.enclosing_function(src, 9) is None
    assert taint.enclosing_function(src, 99) is None


QUOTED = """\
import shlex
import subprocess

from flask import Flask, request

app = Flask(__name__)


@app.route("/ping")
def ping():
    host = request.args.get("host", "")
    return subprocess.run(f"ping -c 1 {shlex.quote(host)}", shell=True, capture_output=True).stdout
"""


def _quoted_repo(root: Path):  # type: ignore[no-untyped-def]
    repo = GitRepo(root).init()
    repo.write("app/views.py", QUOTED)
    repo.write("tools/cleanup.py", "import os\n\n\ndef clean(path):\n    os.system('rm -rf ' + path)\n")
    repo.commit("x")
    return load_changeset(repo.root, resolve_target(repo.root, all_files=True))


def test_taint_supersedes_bandit_sink_patterns_on_files_semgrep_scanned(tmp_path: Path) -> None:
    """A quoted shell command built from request data: bandit's B602 (any shell=True call) is
    dropped because semgrep scanned the file and its taint rule saw the quoting; B605 in a
    file semgrep did not scan (no source, no caller) stays."""
    cs = _quoted_repo(tmp_path / "repo")
    semgrep_run, bandit_run = run_analyzers(["semgrep", "bandit"], cs, cs.reviewable(), agent="akira", timeout_s=120)
    assert semgrep_run.error is None and semgrep_run.findings == []
    assert where(bandit_run.findings) == [("tools/cleanup.py", 5, "bandit:B605")]


def test_without_semgrep_bandit_keeps_every_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cs = _quoted_repo(tmp_path / "repo")
    monkeypatch.setattr(semgrep_mod, "semgrep_command", lambda: None)
    semgrep_run, bandit_run = run_analyzers(["semgrep", "bandit"], cs, cs.reviewable(), agent="akira", timeout_s=120)
    assert semgrep_run.error and semgrep_run.error.startswith("semgrep unavailable")
    assert where(bandit_run.findings) == [("app/views.py", 12, "bandit:B602"), ("tools/cleanup.py", 5, "bandit:B605")]


def test_a_rule_semgrep_refuses_makes_the_run_unavailable_not_silent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Measured: one regex of 4,945 helper names made semgrep 1.185 refuse every taint rule
    ("invalid regex") and still exit 0 with no results."""
    cs = _quoted_repo(tmp_path / "repo")
    build = taint.build_config
    monkeypatch.setattr(taint, "REGEX_CHUNK", 10**6)
    monkeypatch.setattr(taint, "build_config", lambda names, **_: build([f"attachment_item{i}" for i in range(5000)]))
    [run] = run_analyzers(["semgrep"], cs, cs.reviewable(), agent="akira", timeout_s=120)
    assert run.error is not None and run.error.startswith("semgrep unavailable: semgrep refused a rule (")
    assert run.findings == [] and "app/views.py" in run.not_analyzed


def test_thousands_of_helpers_fit_semgrep_regex_limits(tmp_path: Path) -> None:
    """4,000 helper names (a large repository): the names are split over several regexes,
    which semgrep accepts, and a flow into one of them is still followed."""
    names = [f"helper_{i}" for i in range(4000)]
    config = taint.build_config(names)
    rule = next(r for r in config["rules"] if r["id"] == "sql-injection--call")
    [sink] = rule["pattern-sinks"]
    assert len(sink["patterns"][0]["pattern-either"]) == -(-4000 // taint.REGEX_CHUNK)
    repo = GitRepo(tmp_path / "repo").init()
    repo.write("app/__init__.py", "")
    repo.write("app/views.py", CASES["helper_sink"]["app/views.py"])
    repo.write("app/services.py", CASES["helper_sink"]["app/services.py"])
    for k in range(6):  # 600 more helpers, each called once, in modules of ~400 lines
        repo.write(
            f"app/h{k}.py",
            "".join(f"\n\ndef helper_{k}_{i}(x):\n    return x\n" for i in range(100))
            + "".join(f"\nhelper_{k}_{i}(1)" for i in range(100))
            + "\n",
        )
    repo.commit("x")
    cs = load_changeset(repo.root, resolve_target(repo.root, all_files=True))
    [run] = run_analyzers(["semgrep"], cs, cs.reviewable(), agent="akira", timeout_s=120)
    assert run.error is None, run.error
    assert where(run.findings) == [("app/services.py", 6, "semgrep:sql-injection")]


def test_a_failed_summary_scan_keeps_the_packaged_rules_findings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The summary scan is an addition: when it fails, the direct flows are still reported
    and the run says the summaries are missing."""
    repo = GitRepo(tmp_path / "repo").init()
    repo.write("app/__init__.py", "")
    repo.write("app/views.py", CASES["guard_empty_only"]["app/views.py"])
    repo.write("app/services.py", CASES["helper_sink"]["app/services.py"])
    repo.write("app/more.py", CASES["helper_sink"]["app/views.py"])
    repo.commit("x")
    cs = load_changeset(repo.root, resolve_target(repo.root, all_files=True))
    real = semgrep_mod.SemgrepAnalyzer._invoke

    def failing_summaries(self, command, paths, timeout_s, *, config, **kw):  # type: ignore[no-untyped-def]
        if kw.get("threshold"):
            raise semgrep_mod.ToolUnavailable("timed out after 60 s")
        return real(self, command, paths, timeout_s, config=config, **kw)

    monkeypatch.setattr(semgrep_mod.SemgrepAnalyzer, "_invoke", failing_summaries)
    [run] = run_analyzers(["semgrep"], cs, cs.reviewable(), agent="akira", timeout_s=120)
    assert run.error is None
    assert where(run.findings) == [("app/views.py", 13, "semgrep:command-injection")]
    assert run.notes == [
        "semgrep: cross-function summaries unavailable (timed out after 60 s); "
        "flows through the project's own helpers were not followed"
    ]


def test_functions_of_very_long_modules_are_not_summarised() -> None:
    long_module = b"def vendored_helper(x):\n    return x\n" + b"# filler\n" * (taint.MAX_HELPER_LINES + 1)
    caller = b"vendored_helper(request.args['q'])\nfind_users(name)\n"
    short = b"def find_users(name):\n    pass\n"
    assert taint.project_functions([short], called_only=True, callers=[long_module, caller, short]) == ["find_users"]
