"""CLI commands through typer.testing.CliRunner, plus start-up cost checks in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from fakes.gitrepo import GitRepo
from tokyo_cli.cli.app import app

runner = CliRunner()


def test_help_lists_the_commands_and_teaches_the_first_step() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("review", "workflows", "agents", "history"):
        assert command in result.output
    assert "tokyo review" in result.output and "ANTHROPIC_API_KEY" in result.output


def test_review_help_explains_targets_and_exit_codes() -> None:
    result = runner.invoke(app, ["review", "--help"])
    assert result.exit_code == 0
    for text in ("--staged", "--base", "--all", "--path", "--model", "--api-base", "Exit codes"):
        assert text in result.output


def test_agents_list_shows_the_team_and_missing_keys() -> None:
    result = runner.invoke(app, ["agents", "list", "--json"])
    assert result.exit_code == 0
    agents = {a["id"]: a for a in json.loads(result.output)}
    assert list(agents) == ["akira", "yuki", "hiro", "sakura", "kenji"]
    assert agents["akira"]["model"].startswith("claude-")
    table = runner.invoke(app, ["agents", "list"])
    assert "offline (set GROQ_API_KEY)" in table.output


def test_agents_show_one_and_unknown_agent() -> None:
    result = runner.invoke(app, ["agents", "show", "sakura"])
    assert result.exit_code == 0
    assert "gemini/" in result.output and "GEMINI_API_KEY" in result.output
    bad = runner.invoke(app, ["agents", "show", "bob"])
    assert bad.exit_code != 0
    assert "unknown agent 'bob'" in str(bad.exception)


def test_workflows_list_and_validate(tmp_path: Path) -> None:
    listed = runner.invoke(app, ["workflows", "list", "--json"])
    assert {w["name"] for w in json.loads(listed.output)} >= {"review", "security"}
    ok = runner.invoke(app, ["workflows", "validate"])
    assert ok.exit_code == 0 and ok.output.count("ok ") >= 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nsteps:\n  - id: a\n    agent: bob\n  - id: b\n    agent: akira\n    depends_on: [zz]\n")
    result = runner.invoke(app, ["workflows", "validate", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:4: steps[0].agent: unknown agent 'bob'" in result.output
    assert "depends_on" in result.output and ":7:" in result.output


def test_history_lists_runs_newest_first(git_repo: GitRepo, tmp_path: Path) -> None:
    git_repo.write("a.py", "x = 1\n")
    git_repo.commit("base")
    git_repo.write("a.py", "x = 2\n")
    db = tmp_path / "h.db"
    for _ in range(2):
        r = runner.invoke(app, ["review", str(git_repo.root), "--offline", "--db", str(db), "-q"])
        assert r.exit_code == 0, r.output
    result = runner.invoke(app, ["history", "--db", str(db), "--json"])
    runs = json.loads(result.output)
    assert [r["id"] for r in runs] == [2, 1]
    assert runs[0]["workflow"] == "review" and runs[0]["status"] == "completed"
    table = runner.invoke(app, ["history", "--db", str(db), "--limit", "1"])
    rows = table.output.splitlines()[1:]
    assert table.exit_code == 0 and len(rows) == 1
    assert rows[0].split()[0] == "2" and "completed" in rows[0]


def _python(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    return proc.stdout.strip()


def test_help_does_not_import_litellm_or_the_core() -> None:
    out = _python(
        "import sys\n"
        "from tokyo_cli.cli.app import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = ('litellm', 'openai', 'git', 'sqlite_utils', 'tokyo_cli.engine.runner')\n"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    assert out.splitlines()[-1] == "[]"


def test_module_entry_point_runs() -> None:
    proc = subprocess.run([sys.executable, "-m", "tokyo_cli", "--version"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.startswith("tokyo ")
