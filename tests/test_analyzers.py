"""Offline analyzers: registry, error handling, and bandit on real repositories."""

from __future__ import annotations

import asyncio
import sys

import pytest

from fakes.gitrepo import GitRepo
from tokyo_cli.analyzers import Analyzer, AnalyzerRun, available_analyzers, get_analyzer, run_analyzers
from tokyo_cli.analyzers import bandit as bandit_mod
from tokyo_cli.analyzers.bandit import BanditAnalyzer
from tokyo_cli.errors import ConfigError
from tokyo_cli.findings import Severity
from tokyo_cli.git.repo import Changeset, load_changeset, resolve_target

OLD = """\
import subprocess


def legacy(cmd):
    return subprocess.call(cmd, shell=True)
"""
NEW = (
    OLD
    + """

def added(cmd):
    return subprocess.call(cmd, shell=True)
"""
)
ADDED_LINE = 9  # the second subprocess.call


def changeset(repo: GitRepo, **flags: bool) -> Changeset:
    return load_changeset(repo.root, resolve_target(repo.root, **flags))


def run_bandit(cs: Changeset, analyzer: BanditAnalyzer | None = None, timeout_s: float = 60) -> AnalyzerRun:
    return (analyzer or BanditAnalyzer()).run(cs, cs.reviewable(), agent="akira", timeout_s=timeout_s)


@pytest.fixture
def repo(git_repo: GitRepo) -> GitRepo:
    git_repo.write("pkg/tool.py", OLD)
    git_repo.commit("legacy code with an old issue")
    return git_repo


def test_registry() -> None:
    names = available_analyzers()
    assert names == sorted(names) and {
        "bandit",
        "detect-secrets",
        "zizmor",
        "hadolint",
        "test-gaps",
        "docstrings",
        "doc-links",
        "import-cycles",
        "complexity",
    } <= set(names)
    for name in names:
        analyzer = get_analyzer(name)
        assert isinstance(analyzer, Analyzer) and analyzer.name == name
    with pytest.raises(ConfigError, match=r"^unknown analyzer 'pylint' \(known: bandit, complexity, "):
        get_analyzer("pylint")


def test_bandit_reports_only_the_added_line(repo: GitRepo) -> None:
    repo.write("pkg/tool.py", NEW)
    cs = changeset(repo, working=True)
    run = run_bandit(cs)
    assert run.error is None and run.name == "bandit" and run.seconds > 0
    assert [(f.path, f.line, f.rule) for f in run.findings] == [("pkg/tool.py", ADDED_LINE, "bandit:B602")]
    [f] = run.findings
    assert f.severity is Severity.HIGH and f.confidence == 0.9
    assert (f.category, f.source, f.agent, f.agents) == ("security", "analyzer", "akira", ["akira"])
    assert f.anchor_text == "    return subprocess.call(cmd, shell=True)"
    assert f.title == "subprocess call with shell=True identified, security issue."
    assert "https://bandit.readthedocs.io/" in f.body and "# nosec B602" in f.body
    assert cs.is_anchor(f.path, f.line)  # type: ignore[arg-type]


def test_bandit_maps_results_back_to_unicode_paths(repo: GitRepo) -> None:
    repo.write("données/été script.py", NEW)
    run = run_bandit(changeset(repo, working=True))
    assert sorted((f.path, f.line, f.rule) for f in run.findings) == [
        ("données/été script.py", 5, "bandit:B602"),
        ("données/été script.py", ADDED_LINE, "bandit:B602"),
    ]


def test_bandit_whole_tree_audit_reports_every_line(repo: GitRepo) -> None:
    repo.write("pkg/tool.py", NEW)
    repo.commit("add another")
    run = run_bandit(changeset(repo, all_files=True))
    by_rule = sorted((f.rule, f.line) for f in run.findings)
    # Line 5 is an old line: only an audit reports it. B404 (import subprocess) is skipped noise.
    assert by_rule == [("bandit:B602", 5), ("bandit:B602", ADDED_LINE)]
    assert all(f.severity is Severity.HIGH for f in run.findings)


def test_bandit_scans_the_staged_version_for_a_staged_review(repo: GitRepo) -> None:
    repo.write("pkg/tool.py", NEW)
    repo.stage("pkg/tool.py")
    repo.write("pkg/tool.py", OLD + "\n\ndef added(cmd):\n    return cmd\n")
    staged = run_bandit(changeset(repo, staged=True))
    assert [(f.line, f.rule) for f in staged.findings] == [(ADDED_LINE, "bandit:B602")]
    working = run_bandit(changeset(repo, working=True))
    assert working.error is None and working.findings == []


def test_bandit_keeps_multiline_calls_touched_on_any_line(repo: GitRepo) -> None:
    repo.write("pkg/multi.py", "import subprocess\n\nsubprocess.call(\n    '/bin/ls',\n    shell=False,\n)\n")
    repo.commit("multi-line call")
    repo.write("pkg/multi.py", "import subprocess\n\nsubprocess.call(\n    '/bin/ls',\n    shell=True,\n)\n")
    run = run_bandit(changeset(repo, working=True))
    assert [f.rule for f in run.findings] == ["bandit:B602"]
    [f] = run.findings
    cs = changeset(repo, working=True)
    assert cs.is_anchor("pkg/multi.py", f.line)  # type: ignore[arg-type]
    assert 3 <= f.line <= 6  # type: ignore[operator]


def test_bandit_honours_nosec_and_skips_non_python_and_skipped_files(repo: GitRepo) -> None:
    repo.write("pkg/tool.py", OLD + "\nsubprocess.call('/bin/ls', shell=True)  # nosec B602\n")
    repo.write("vendor/lib.py", "import subprocess\nsubprocess.call('x', shell=True)\n")
    repo.write("notes.md", "subprocess.call(cmd, shell=True)\n")
    run = run_bandit(changeset(repo, working=True))
    assert run.error is None and run.findings == []


def test_bandit_unavailable_is_reported_not_raised(repo: GitRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    repo.write("pkg/tool.py", NEW)
    monkeypatch.setattr(bandit_mod, "BANDIT_COMMAND", [sys.executable, "-m", "tokyo_no_such_module"])
    cs = changeset(repo, working=True)
    [run] = run_analyzers(["bandit"], cs, cs.reviewable(), agent="akira")
    assert run.findings == []
    assert run.error is not None and run.error.startswith("bandit unavailable: ")
    assert "No module named tokyo_no_such_module" in run.error


def test_bandit_missing_executable_and_garbage_output(repo: GitRepo) -> None:
    repo.write("pkg/tool.py", NEW)
    cs = changeset(repo, working=True)
    missing = run_bandit(cs, BanditAnalyzer(["/nonexistent/bandit-binary"]))
    assert missing.error is not None and missing.error.startswith("bandit unavailable: ")
    assert "bandit-binary" in missing.error
    garbage = run_bandit(cs, BanditAnalyzer([sys.executable, "-c", "print('not json')"]))
    assert garbage.error == "bandit unavailable: no report on stdout (exit code 0)"


def test_bandit_time_limit(repo: GitRepo) -> None:
    repo.write("pkg/tool.py", NEW)
    slow = BanditAnalyzer([sys.executable, "-c", "import time; time.sleep(30)"])
    run = run_bandit(changeset(repo, working=True), slow, timeout_s=0.5)
    assert run.error == "bandit unavailable: timed out after 0.5 s"
    assert run.seconds < 10


def test_no_python_files_means_no_bandit_process(repo: GitRepo) -> None:
    repo.write("README.md", "hello\n")
    never = BanditAnalyzer(["/nonexistent/bandit-binary"])  # would error if it were started
    run = run_bandit(changeset(repo, working=True), never)
    assert (run.error, run.findings) == (None, [])


def test_run_analyzers_survives_a_crashing_analyzer_and_unknown_names(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.write("pkg/tool.py", NEW)

    def boom(self: BanditAnalyzer, *args: object, **kwargs: object) -> AnalyzerRun:
        raise RuntimeError("boom")

    monkeypatch.setattr(BanditAnalyzer, "run", boom)
    cs = changeset(repo, working=True)
    runs = run_analyzers(["bandit", "nope"], cs, cs.reviewable(), agent="akira")
    assert [(r.name, r.error) for r in runs] == [
        ("bandit", "bandit failed: RuntimeError: boom"),
        ("nope", f"unknown analyzer 'nope' (known: {', '.join(available_analyzers())})"),
    ]


async def test_run_analyzers_from_asyncio_to_thread(repo: GitRepo) -> None:
    repo.write("pkg/tool.py", NEW)
    cs = changeset(repo, working=True)
    runs = await asyncio.gather(
        *(asyncio.to_thread(run_analyzers, ["bandit"], cs, cs.reviewable(), agent=agent) for agent in ("akira", "hiro"))
    )
    assert [[(f.agent, f.line) for f in r.findings] for [r] in runs] == [
        [("akira", ADDED_LINE)],
        [("hiro", ADDED_LINE)],
    ]


def test_bandit_noise_policy_skips_asserts_in_tests_but_not_in_code(repo: GitRepo) -> None:
    repo.write("tests/test_x.py", "def test_a():\n    assert 1 + 1 == 2\n")
    repo.write("src/pkg/tests/helpers.py", "def check(x):\n    assert x\n")  # a nested tests/ dir
    repo.write("src/lib.py", "import subprocess\n\n\ndef f(x):\n    assert x\n    return x\n")
    run = run_bandit(changeset(repo, working=True))
    assert sorted((f.path, f.rule) for f in run.findings) == [("src/lib.py", "bandit:B101")]


# --- CWE ids and the measured noise policy ----------------------------------------------


def test_bandit_cwe_ids_are_corrected_where_bandits_are_too_generic(repo: GitRepo) -> None:
    repo.write(
        "pkg/q.py",
        (
            "import subprocess\n\n\n"
            "def find(db, name):\n"
            "    return db.execute(\"SELECT * FROM users WHERE name = '%s'\" % name)\n\n\n"
            "def calc(expr):\n"
            "    return eval(expr)\n\n\n"
            "def go(cmd):\n"
            "    return subprocess.call(cmd, shell=True)\n"
        ),
    )
    run = run_bandit(changeset(repo, working=True))
    assert run.error is None
    by_rule = {f.rule: f for f in run.findings}
    assert by_rule["bandit:B608"].cwe == [89]
    assert by_rule["bandit:B307"].cwe == [95]  # bandit says 78 (OS command injection)
    assert by_rule["bandit:B602"].cwe == [78]
    assert "CWE-95" in by_rule["bandit:B307"].body and "CWE-78" not in by_rule["bandit:B307"].body


def test_bandit_keeps_a_subprocess_call_without_shell_only_when_its_command_varies(repo: GitRepo) -> None:
    repo.write(
        "pkg/run.py",
        (
            "import subprocess\nimport sys\n\n\n"
            "def fixed():\n"
            "    subprocess.call(['/bin/ls', '-l'])\n"
            "    subprocess.run([sys.executable, '-m', 'pip', 'list'])\n"
            "    subprocess.run(args=('git', 'status'))\n\n\n"
            "def varies(url, argv):\n"
            "    subprocess.call(['/usr/bin/xdg-open', url])\n"
            "    subprocess.run(argv)\n"
        ),
    )
    run = run_bandit(changeset(repo, working=True))
    assert run.error is None
    assert sorted((f.rule, f.line) for f in run.findings if f.path == "pkg/run.py") == [
        ("bandit:B603", 12),
        ("bandit:B603", 13),
    ]
    assert all(f.cwe == [78] for f in run.findings if f.path == "pkg/run.py")


def test_bandit_cwe_table_and_constant_commands() -> None:
    from tokyo_cli.analyzers.bandit import bandit_cwe, constant_command

    assert bandit_cwe({"test_id": "B307", "issue_cwe": {"id": 78}}) == [95]
    assert bandit_cwe({"test_id": "B102", "issue_cwe": {"id": 78}}) == [94]
    assert bandit_cwe({"test_id": "B314", "issue_cwe": {"id": 20}}) == [611]
    assert bandit_cwe({"test_id": "B410", "issue_cwe": {"id": 20}}) == [611]
    assert bandit_cwe({"test_id": "B506", "issue_cwe": {"id": 20}}) == [502]
    assert bandit_cwe({"test_id": "B113", "issue_cwe": {"id": 400}}) == [400]  # bandit's kept
    assert bandit_cwe({"test_id": "B999", "issue_cwe": {"id": "junk"}}) == []
    assert bandit_cwe({"test_id": "B999", "issue_cwe": None}) == []
    src = b"import subprocess\nsubprocess.call('ls')\nsubprocess.call(['ls', x])\nsubprocess.call(*a)\n"
    assert constant_command(src, 2) is True
    assert constant_command(src, 3) is False
    assert constant_command(src, 4) is False  # starred: cannot tell, kept
    assert constant_command(src, 1) is False  # no call there: kept
    assert constant_command(b"def (:\n", 1) is False  # does not parse: kept
