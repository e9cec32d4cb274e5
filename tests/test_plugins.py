"""Plugins: a dummy distribution (a dist-info with entry_points.txt in a tmp dir, on PYTHONPATH
of a tokyo subprocess; nothing is installed in the venv) registers an analyzer, a report
format, an agent and a workflow; a broken one is reported and never fatal."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from fakes.gitrepo import GitRepo

DUMMY = """
from pathlib import Path

from tokyo_cli.analyzers.base import AnalyzerRun
from tokyo_cli.analyzers.common import make_finding
from tokyo_cli.findings import Severity
from tokyo_cli.plugins import hookimpl

HERE = Path(__file__).parent


class TodoAnalyzer:
    name = "todo-markers"

    def run(self, changeset, files, *, agent, timeout_s):
        found = []
        for change in files:
            for hunk in change.hunks:
                for line in hunk.lines:
                    if line.kind == "+" and "TODO" in line.text:
                        found.append(make_finding(changeset, path=change.path, line=line.new_line,
                                                  severity=Severity.LOW, title="A TODO marker was added",
                                                  body="Track it in an issue.", agent=agent,
                                                  rule="todo-markers:todo", category="style"))
        return AnalyzerRun(name=self.name, findings=found)


def render_csv(result):
    rows = ["rule,path,line"] + [f"{f.rule},{f.path},{f.line}" for f in result.findings]
    return "\\n".join(rows) + "\\n"


@hookimpl
def register_analyzers(register):
    register("todo-markers", TodoAnalyzer)


@hookimpl
def register_report_formats(register):
    register("csv", render_csv, suffix=".csv")


@hookimpl
def register_agents(register):
    register(HERE / "agents.yaml")


@hookimpl
def register_workflows(register):
    register(HERE / "workflows")
"""
AGENTS = """\
agents:
  - id: tanuki
    name: Tanuki
    specialty: TODO markers
    model: claude-sonnet-4-5
    context_window: 200000
    max_output_tokens: 4096
    analyzers: [todo-markers]
    instructions: Report TODO markers.
"""
WORKFLOW = "name: todo\ndescription: TODO markers only\nsteps:\n  - {id: todos, agent: tanuki}\n"


def _dist(site: Path, dist: str, module: str, files: dict[str, str], entry: str | None = None) -> None:
    """A minimal installed distribution: the module's files and a dist-info with an entry
    point ``tokyo = <entry or module>``."""
    for rel, text in files.items():
        path = site / module / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    info = site / f"{dist.replace('-', '_')}-0.1.dist-info"  # a dist-info name has no "-" in its name part
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[tokyo]\n{module.removeprefix('tokyo_')} = {entry or module}\n")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A directory holding the dummy plugin, a broken one and one whose hook raises."""
    site = tmp_path / "site"
    site.mkdir()
    _dist(
        site,
        "tokyo-dummy",
        "tokyo_dummy",
        {"__init__.py": DUMMY, "agents.yaml": AGENTS, "workflows/todo.yaml": WORKFLOW},
    )
    _dist(site, "tokyo-broken", "tokyo_broken", {"__init__.py": "import no_such_module_anywhere\n"})
    _dist(
        site,
        "tokyo-raises",
        "tokyo_raises",
        {
            "__init__.py": textwrap.dedent("""\
        from tokyo_cli.plugins import hookimpl

        @hookimpl
        def register_analyzers(register):
            register("half-done", object)
            raise RuntimeError("boom in a hook")

        @hookimpl
        def register_report_formats(register):
            register("json", str)
        """)
        },
    )
    _dist(
        site,
        "tokyo-taken",
        "tokyo_taken",
        {
            "__init__.py": textwrap.dedent("""\
        from tokyo_cli.plugins import hookimpl

        @hookimpl
        def register_analyzers(register):
            register("bandit", object)  # a built-in name: refused, never replaced
        """)
        },
    )
    return site


def _tokyo(
    site: Path, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    run_env = {**os.environ, "PYTHONPATH": str(site), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "tokyo_cli", *args], capture_output=True, text=True, timeout=300, env=run_env, cwd=cwd
    )


def test_plugins_list_shows_the_dummy_and_the_broken_ones(site: Path) -> None:
    proc = _tokyo(site, "plugins", "list", "--json")
    assert proc.returncode == 0, proc.stderr
    by_name = {p["name"]: p for p in json.loads(proc.stdout)}
    assert set(by_name) == {"dummy", "broken", "raises", "taken"}
    dummy = by_name["dummy"]
    assert (dummy["distribution"], dummy["version"], dummy["error"]) == ("tokyo-dummy", "0.1", None)
    assert dummy["analyzers"] == ["todo-markers"] and dummy["report_formats"] == ["csv"]
    assert dummy["agents"][0].endswith("tokyo_dummy/agents.yaml")
    assert dummy["workflows"][0].endswith("tokyo_dummy/workflows/todo.yaml")
    assert dummy["hooks"] == ["register_agents", "register_analyzers", "register_report_formats", "register_workflows"]
    assert by_name["broken"]["error"] == "cannot load: ModuleNotFoundError: No module named 'no_such_module_anywhere'"
    assert by_name["raises"]["error"] == "a hook failed: RuntimeError: boom in a hook"
    assert by_name["raises"]["analyzers"] == []  # what it registered before failing is dropped
    assert by_name["taken"]["error"] == "analyzer 'bandit' is already registered (built in or by another plugin)"
    table = _tokyo(site, "plugins", "list")
    assert table.returncode == 0 and "tokyo-dummy 0.1" in table.stdout and "error: cannot load" in table.stdout


def test_a_plugins_analyzer_agent_workflow_and_format_run_in_an_offline_review(
    site: Path, git_repo: GitRepo, tmp_path: Path
) -> None:
    git_repo.write("app.py", "x = 1\n")
    git_repo.commit("base")
    git_repo.write("app.py", "x = 1\n# TODO: remove this\n")
    proc = _tokyo(
        site, "review", str(git_repo.root), "--working", "--offline", "--workflow", "todo", "--format", "csv", "--quiet"
    )
    assert proc.returncode == 0, proc.stderr
    assert list(csv.reader(io.StringIO(proc.stdout))) == [
        ["rule", "path", "line"],
        ["todo-markers:todo", "app.py", "2"],
    ]
    # one warning line for the two plugins that could not be used, and the review went on
    warnings = [line for line in proc.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1 and all(f"'{name}'" in warnings[0] for name in ("broken", "raises", "taken"))
    out = tmp_path / "report.csv"  # the plugin's suffix picks its format
    proc = _tokyo(
        site,
        "review",
        str(git_repo.root),
        "--working",
        "--offline",
        "--workflow",
        "todo",
        "--output",
        str(out),
        "--quiet",
    )
    assert proc.returncode == 0, proc.stderr
    assert out.read_text().splitlines()[1] == "todo-markers:todo,app.py,2"


def test_a_repository_may_name_a_plugin_analyzer(site: Path, git_repo: GitRepo) -> None:
    git_repo.write("app.py", "x = 1\n")
    git_repo.commit("base")
    git_repo.write("agents.yaml", "agents:\n  - id: sakura\n    analyzers: [todo-markers]\n")
    git_repo.write("README.md", "# TODO write this\n")
    proc = _tokyo(
        site,
        "review",
        str(git_repo.root),
        "--working",
        "--offline",
        "--format",
        "json",
        "--quiet",
        "--path",
        "README.md",
        env={"TOKYO_PLUGINS": "dummy"},
    )
    assert proc.returncode == 0, proc.stderr
    assert "warning" not in proc.stderr  # TOKYO_PLUGINS left the broken ones out
    assert [f["rule"] for f in json.loads(proc.stdout)["findings"] if f["rule"].startswith("todo")] == [
        "todo-markers:todo"
    ]


def test_tokyo_plugins_selects_and_empty_loads_none(site: Path) -> None:
    proc = _tokyo(site, "plugins", "list", "--json", env={"TOKYO_PLUGINS": "tokyo-broken"})  # a distribution name
    assert [p["name"] for p in json.loads(proc.stdout)] == ["broken"]
    proc = _tokyo(site, "plugins", "list", "--json", env={"TOKYO_PLUGINS": ""})
    assert json.loads(proc.stdout) == []


def test_an_unknown_format_is_one_line_and_exit_2(site: Path, git_repo: GitRepo) -> None:
    proc = _tokyo(site, "review", str(git_repo.root), "--offline", "--format", "xml")
    assert proc.returncode == 2 and proc.stdout == ""
    assert (
        proc.stderr.strip() == "tokyo: error: unknown report format 'xml' (known: terminal, markdown, json, sarif, csv)"
    )


def test_help_loads_no_plugin(site: Path) -> None:
    code = (
        "import sys\nfrom tokyo_cli.cli.app import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith(('tokyo_dummy', 'pluggy', 'tokyo_cli.plugins'))))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(site)},
    )
    assert proc.stdout.splitlines()[-1] == "[]"
