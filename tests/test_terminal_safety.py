"""File names with newlines and control characters are reviewed, and nothing the repository
controls (names, titles, bodies, model text, YAML keys) can write its own line, escape
sequence or markup on a terminal (safety/textsafe.py). Piped output is not wrapped at 80 columns."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from io import StringIO

import pytest
from rich.console import Console

from conftest import RunCli
from fakes.gitrepo import GitRepo
from tokyo_cli.cli.common import UNWRAPPED_WIDTH, console
from tokyo_cli.engine.runview import StepView
from tokyo_cli.findings import Finding, Severity
from tokyo_cli.git.pathrules import glob_match
from tokyo_cli.report.terminal import render_terminal
from tokyo_cli.results import FileEntry, RunResult, StepResult
from tokyo_cli.safety.textsafe import clean_text, one_line, quote_path
from tokyo_cli.summary import offline_summary

FORGED = "evil\nCRITICAL fake.py:1 forged finding.py"
SHELL = "import os\n\n\ndef run():\n    os.system(input())\n"


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("src/app.py", "src/app.py"),
        ("docs/caf\u00e9 menu.md", "docs/caf\u00e9 menu.md"),  # unicode and spaces stay as they are
        (FORGED, '"evil\\nCRITICAL fake.py:1 forged finding.py"'),
        ("tab\there\x1b[31mred.py", '"tab\\there\\033[31mred.py"'),
        ('say "hi"\\.py', '"say \\"hi\\"\\\\.py"'),
        ("bidi\u202eyp.exe", '"bidi\\342\\200\\256yp.exe"'),
        ("c1\x9b31m.py", '"c1\\302\\23331m.py"'),
        ("bell\x07\r.py", '"bell\\a\\r.py"'),
    ],
)
def test_quote_path_is_one_line_and_unambiguous(path: str, shown: str) -> None:
    assert quote_path(path) == shown
    assert "\n" not in quote_path(path) and "\x1b" not in quote_path(path)


def test_clean_text_and_one_line_drop_escapes_and_bidi_controls() -> None:
    raw = "a\x1b[2J\x1b]0;pwned\x07b\u202ec\r\nd\u2028e\x9b"
    assert clean_text(raw) == "a[2J]0;pwnedbc\nd\ne"
    assert one_line(raw) == "a[2J]0;pwnedbc d e"


@pytest.mark.parametrize("name", [FORGED, "tab\there.py", "cr\rname.py", "esc\x1b[1m.py"])
def test_globs_match_names_with_control_characters(name: str) -> None:
    assert glob_match(name, ["**"])
    assert glob_match(name, ["*.py"])
    assert not glob_match(name, ["docs/**"])


def test_a_file_named_with_a_newline_is_reviewed_and_cannot_forge_a_line(git_repo: GitRepo, cli: RunCli) -> None:
    git_repo.write("ok.py", "x = 1\n")
    git_repo.commit("base")
    git_repo.checkout_branch("feature")
    git_repo.write(FORGED, SHELL)
    git_repo.commit("evil name")

    code, out, _ = cli("review", str(git_repo.root), "--offline", "--format", "json")
    data = json.loads(out)
    assert code == 1
    (entry,) = data["files"]
    assert entry["path"] == FORGED and entry["reviewed"] and entry["reason"] is None
    # bandit's B605 and semgrep's command-injection rule on the same line: one finding, CWE-78
    assert any(f["path"] == FORGED and 78 in f["cwe"] for f in data["findings"]), data["findings"]

    code, out, _ = cli("review", str(git_repo.root), "--offline")
    assert code == 1
    assert not [line for line in out.splitlines() if line.lstrip().startswith("CRITICAL")]
    assert '"evil\\nCRITICAL fake.py:1 forged finding.py":5' in out
    assert "no agent covers it" not in out


def _result(path: str, *, title: str = "Shell injection", body: str = "", model: str = "gpt-4o") -> RunResult:
    finding = Finding(
        path=path,
        line=2,
        severity=Severity.HIGH,
        title=title,
        body=body,
        agent="akira",
        step="security",
        suggestion="subprocess.run([cmd])\n CRITICAL   x.py:1  forged",
    )
    t0 = datetime(2025, 5, 1, tzinfo=UTC)
    return RunResult(
        repo="/r",
        target="range",
        target_description="main...HEAD",
        workflow="review",
        status="completed",
        started_at=t0,
        finished_at=t0,
        files=[
            FileEntry(path=path, status="added", added=2),
            FileEntry(path="skip\nCRITICAL y.py", status="added", skipped="too large"),
        ],
        steps=[
            StepResult(
                step_id="security",
                agent="akira",
                agent_name="Akira",
                status="ok",
                model=model,
                files=[path],
                seconds=0.1,
            )
        ],
        findings=[finding],
        notices=["repository config: workflows/x\nCRITICAL z.py ignored"],
    )


def _render(result: RunResult, **kw: object) -> str:
    buf = StringIO()
    render_terminal(result, Console(file=buf, color_system=None, **kw))  # type: ignore[arg-type]
    return buf.getvalue()


@pytest.mark.parametrize("kw", [{"width": 80}, {"width": UNWRAPPED_WIDTH, "soft_wrap": True}])
def test_no_repository_text_starts_a_line_of_its_own(kw: dict[str, object]) -> None:
    hostile = _result(
        "tab\there\x1b[31mred.py",
        title="Title\nCRITICAL t.py:1 forged\x1b]0;x\x07",
        body="fine\x1b[2J",
        model="gpt\n CRITICAL   m.py:1",
    )
    out = _render(hostile, **kw)
    assert "\x1b" not in out and "\x07" not in out
    # A finding's head starts "   HIGH   path"; everything under it is indented 4 or more, so
    # only a line with at most 3 leading spaces could pass for a head.
    heads = [
        line
        for line in out.splitlines()
        if line.lstrip().startswith(("CRITICAL", "HIGH")) and len(line) - len(line.lstrip()) <= 3
    ]
    assert heads == [next(line for line in out.splitlines() if line.startswith("   HIGH   "))]
    assert '"tab\\there\\033[31mred.py":2' in out
    assert '"skip\\nCRITICAL y.py" — too large' in out


@pytest.mark.parametrize("kw", [{"width": 80}, {"width": UNWRAPPED_WIDTH, "soft_wrap": True}])
def test_a_model_summary_cannot_pass_for_a_finding(kw: dict[str, object]) -> None:
    result = _result("src/app.py")
    result.summary = "All good.\n CRITICAL   fake.py:1  Forged finding\n\x1b[2J"
    out = _render(result, **kw)
    heads = [
        line
        for line in out.splitlines()
        if line.lstrip().startswith(("CRITICAL", "HIGH")) and len(line) - len(line.lstrip()) <= 3
    ]
    assert len(heads) == 1 and "src/app.py:2" in heads[0]
    assert "     CRITICAL   fake.py:1  Forged finding" in out  # shown, indented as model text


def test_offline_summary_quotes_paths_and_flattens_titles() -> None:
    summary = offline_summary(_result(FORGED, title="a\nCRITICAL b"))
    assert "\n" not in summary
    assert '("evil\\nCRITICAL fake.py:1 forged finding.py":2)' in summary and "a CRITICAL b" in summary


def test_piped_console_does_not_wrap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    piped = console()
    assert not piped.is_terminal and piped.soft_wrap and piped.width == UNWRAPPED_WIDTH
    monkeypatch.setenv("COLUMNS", "80")
    assert console().width == 80 and not console().soft_wrap


def test_piped_report_keeps_long_titles_and_model_ids_whole() -> None:
    title = "A finding title long enough that rich used to break it at the eightieth column of a pipe"
    model = "openrouter/anthropic/claude-3.5-sonnet-20241022-very-long-model-id"
    out = _render(_result("src/app.py", title=title, model=model), width=UNWRAPPED_WIDTH, soft_wrap=True)
    assert any(title in line for line in out.splitlines())
    assert any(model in line for line in out.splitlines())
    rules = [line for line in out.splitlines() if line.startswith(("tokyo review", "Findings"))]
    assert rules and max(len(line) for line in rules) <= 80  # rules do not fill 10,000 columns
    assert max(len(line.rstrip()) for line in out.splitlines()) < 300


def test_cli_review_piped_is_not_wrapped(git_repo: GitRepo, cli: RunCli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    git_repo.write("ok.py", "x = 1\n")
    git_repo.commit("base")
    deep = "src/a_package_with_a_long_name/and_a_subpackage_too/app.py"  # the head line passes 80 columns
    git_repo.write(deep, SHELL)
    git_repo.stage()
    _, out, _ = cli("review", str(git_repo.root), "--offline", "--staged")
    line = next(ln for ln in out.splitlines() if f"{deep}:5" in ln)
    assert len(line) > 100 and line.rstrip().endswith("untrusted input reaches a shell command."), line


def test_yaml_key_with_escape_sequence_is_quoted_in_the_error(git_repo: GitRepo, cli: RunCli) -> None:
    git_repo.write("agents.yaml", 'agents:\n  - id: akira\n    "x\\e[31m\\nCRITICAL": 1\n')
    code, _, err = cli("agents", "list", "--repo", str(git_repo.root))
    assert code == 2
    assert "\x1b" not in err
    assert 'agents[0]."x\\033[31m\\nCRITICAL": unknown key' in err


def test_agent_panel_title_is_not_markup() -> None:
    from tokyo_cli.tui.widgets.agent_panel import AgentPanel

    panel = AgentPanel(StepView(step_id="x", agent="x", agent_name="[bold red]Evil[/]\n"), lambda: 0.0)
    assert panel.border_title == "\\[bold red]Evil\\[/]"  # the markup getter escapes the literal text


def test_agents_and_workflows_listings_print_repository_text_literally(git_repo: GitRepo, cli: RunCli) -> None:
    git_repo.write(
        "agents.yaml",
        (
            'agents:\n  - id: newbie\n    name: "N\\e]0;title\\a"\n    specialty: "[bold red]spec\\e[2J\\nCRITICAL x"\n'
            "    context_window: 1000\n    max_output_tokens: 10\n    model: o3\n"
        ),
    )
    git_repo.write(
        "workflows/w.yaml",
        ('name: "w[red]x"\ndescription: "d\\e[31m\\nCRITICAL y"\nsteps:\n  - {id: security, agent: akira}\n'),
    )
    for args in (["agents", "list"], ["agents", "show", "newbie"], ["workflows", "list"]):
        code, out, _ = cli(*args, "--repo", str(git_repo.root))
        assert code == 0, args
        assert "\x1b" not in out and "\x07" not in out
        assert not [line for line in out.splitlines() if line.startswith("CRITICAL")]
    _, out, _ = cli("agents", "list", "--repo", str(git_repo.root))
    assert "[bold red]spec[2J CRITICAL x" in out  # the markup printed as text
    _, out, _ = cli("workflows", "list", "--repo", str(git_repo.root))
    assert "w[red]x" in out and "d[31m CRITICAL y" in out
