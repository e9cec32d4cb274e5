"""Reporters: terminal (rich), Markdown and JSON rendering of hand-built RunResults."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from markdown_it import MarkdownIt
from rich.console import Console

from tokyo_cli.findings import Finding, Severity
from tokyo_cli.report import empty_message, not_reviewed
from tokyo_cli.report.jsonout import render_json
from tokyo_cli.report.markdown import code_span, escape_block, render_markdown
from tokyo_cli.report.terminal import render_terminal
from tokyo_cli.results import AnalyzerNote, CallRecord, FileEntry, RunResult, StepResult

T0 = datetime(2025, 5, 1, 12, 0, 0, tzinfo=UTC)
OFFLINE_NOTE = "Yuki ran without a model — set OPENAI_API_KEY to give it o4-mini"


def call(step: str, agent: str, tin: int, tout: int, usd: float | None, **kw: object) -> CallRecord:
    return CallRecord(
        step_id=step,
        agent=agent,
        model="claude-opus-4-5",
        provider="anthropic",
        tokens_in=tin,
        tokens_out=tout,
        cost_usd=usd,
        latency_s=1.02,
        **kw,
    )


def sql_finding() -> Finding:
    return Finding(
        path="src/app/db.py",
        line=42,
        severity=Severity.HIGH,
        category="security",
        title="SQL query built from user input",
        body="`name` flows from the request into an f-string query.",
        suggestion='cur.execute("SELECT * FROM users WHERE name = ?", (name,))',
        agent="akira",
        agents=["akira", "yuki"],
        step="security",
        rule="bandit:B608",
        anchor_text='cur.execute(f"SELECT ... {name}")',
    )


def low_finding() -> Finding:
    return Finding(
        path="src/app/db.py", line=10, severity=Severity.LOW, title="Unused import os", agent="kenji", step="design"
    )


def docs_finding() -> Finding:
    return Finding(
        path="README.md",
        severity=Severity.LOW,
        title="Document --fast",
        body="The new flag is not in the README.",
        agent="sakura",
        step="docs",
    )


def completed_run() -> RunResult:
    """Three agents ran (one offline); three findings in two files; a binary file skipped."""
    f1, f2, f3 = sql_finding(), low_finding(), docs_finding()
    steps = [
        StepResult(
            step_id="security",
            agent="akira",
            agent_name="Akira",
            status="ok",
            model="claude-opus-4-5",
            configured_model="claude-opus-4-5",
            files=["src/app/db.py", "README.md"],
            findings=[f1],
            calls=[call("security", "akira", 1234, 210, 0.0123)],
            analyzers=[AnalyzerNote(name="bandit", findings=1, seconds=0.4)],
            seconds=1.4,
        ),
        StepResult(
            step_id="tests",
            agent="yuki",
            agent_name="Yuki",
            status="offline",
            configured_model="o4-mini",
            credential_env=["OPENAI_API_KEY"],
            files=["src/app/db.py"],
            seconds=0.1,
        ),
        StepResult(
            step_id="design",
            agent="kenji",
            agent_name="Kenji",
            status="ok",
            model="groq/meta-llama/llama-4-scout-17b-16e-instruct",
            files=["src/app/db.py"],
            findings=[f2],
            calls=[call("design", "kenji", 99_999, 12_345, None)],
            seconds=12.25,
        ),
        StepResult(
            step_id="docs",
            agent="sakura",
            agent_name="Sakura",
            status="ok",
            model="gemini/gemini-2.5-pro",
            files=["README.md"],
            findings=[f3],
            calls=[call("docs", "sakura", 500, 40, 0.0007)],
            seconds=2.0,
        ),
    ]
    return RunResult(
        run_id=7,
        repo="/home/dev/shop",
        target="working",
        target_description="working tree (uncommitted changes)",
        target_chosen_by_default=True,
        workflow="review",
        status="completed",
        started_at=T0,
        finished_at=T0 + timedelta(seconds=3.25),
        files=[
            FileEntry(path="src/app/db.py", status="modified", added=10, removed=2),
            FileEntry(path="README.md", status="modified", added=3),
            FileEntry(path="assets/logo.png", status="added", skipped="binary"),
        ],
        steps=steps,
        findings=[f3, f2, f1],
        summary="One injection risk; the rest is small.",
    )


def partial_run() -> RunResult:
    """Hiro's step failed (provider timeout); Akira's bandit was unavailable."""
    r = completed_run()
    r.status = "partial"
    r.steps.append(
        StepResult(
            step_id="ops",
            agent="hiro",
            agent_name="Hiro",
            status="failed",
            configured_model="groq/llama-4",
            files=["Dockerfile"],
            error="hiro: groq/llama-4: timed out after 120 s",
            seconds=120.0,
            calls=[call("ops", "hiro", 0, 0, None, status="error", error="timed out")],
        )
    )
    r.steps[0].analyzers = [AnalyzerNote(name="bandit", error="bandit unavailable: exit 2")]
    r.files.append(FileEntry(path="Dockerfile", status="modified", added=1))
    return r


def empty_run(*, skipped: str | None) -> RunResult:
    """No findings; one reviewed file plus, optionally, one file skipped for ``skipped``."""
    files = [FileEntry(path="app.py", status="modified", added=1)]
    if skipped:
        files.append(FileEntry(path="data/dump.sql", status="added", skipped=skipped))
    return RunResult(
        repo="/r",
        target="staged",
        target_description="staged changes",
        workflow="review",
        status="completed",
        started_at=T0,
        finished_at=T0 + timedelta(seconds=1),
        files=files,
        steps=[
            StepResult(
                step_id="akira",
                agent="akira",
                agent_name="Akira",
                status="ok",
                model="claude-opus-4-5",
                files=["app.py"],
                calls=[call("akira", "akira", 100, 10, 0.001)],
                seconds=0.5,
            )
        ],
    )


def terminal(result: RunResult, width: int = 100) -> str:
    buf = StringIO()
    render_terminal(result, Console(file=buf, width=width, color_system=None))
    return buf.getvalue()


# --- terminal -----------------------------------------------------------------------------------


def test_terminal_completed_run_shows_header_table_notes_and_grouped_findings() -> None:
    out = terminal(completed_run())
    assert "\x1b[" not in out
    assert "/home/dev/shop" in out
    assert "working tree (uncommitted changes) (chosen by default — use --staged, --base REF" in out
    assert "#7" in out and "review" in out and "completed" in out
    rows = {line.split()[0]: line for line in out.splitlines() if line.split()}
    assert rows["security"].split()[1:5] == ["Akira", "ok", "claude-opus-4-5", "1"]
    assert "1 high" in rows["security"] and "1,234/210" in rows["security"]
    assert "$0.0123" in rows["security"] and rows["security"].rstrip().endswith("1.4")
    assert "offline" in rows["tests"].split()[2:4]  # status and model both say offline
    assert "100.0k/12.3k" in rows["design"] and "—" in rows["design"]  # unknown cost
    assert "! " + OFFLINE_NOTE in out
    assert "assets/logo.png — binary" in out
    # grouped by file, most severe file first; every agent that raised it is named
    db, readme = out.index("src/app/db.py\n"), out.index("README.md\n")
    assert db < out.index("HIGH   src/app/db.py:42  SQL query built from user input") < readme
    assert db < out.index("LOW   src/app/db.py:10  Unused import os") < readme
    assert readme < out.index("LOW   README.md  Document --fast")
    assert "Akira, Yuki · bandit:B608 · security" in out
    assert 'cur.execute("SELECT * FROM users WHERE name = ?", (name,))' in out
    assert "One injection risk; the rest is small." in out
    assert "3 (1 high · 2 low)" in out
    assert "101,733 in / 12,595 out" in out
    assert "$0.0130" in out and "3.2 s" in out
    assert "No findings" not in out


def test_terminal_fits_80_columns_with_every_column() -> None:
    out = terminal(completed_run(), width=80)
    assert max(len(line) for line in out.splitlines()) <= 80
    header = next(line for line in out.splitlines() if line.startswith("Step"))
    assert header.split() == ["Step", "Agent", "Status", "Model", "Findings", "Tokens", "in/out", "USD", "s"]
    # the long model id wraps instead of pushing columns off screen
    design = next(line for line in out.splitlines() if line.startswith("design"))
    assert design.rstrip().endswith("12.2")


def test_terminal_partial_run_lists_problems_and_says_review_is_incomplete() -> None:
    out = terminal(partial_run())
    assert "partial" in out
    assert "Hiro (step ops) failed: hiro: groq/llama-4: timed out after 120 s" in out
    assert "Akira: bandit unavailable: exit 2" in out
    assert "Dockerfile — review failed" in out
    assert (
        "Incomplete review: 1 file was not reviewed (review failed), 1 step failed, 1 analyzer was unavailable."
    ) in " ".join(out.split())  # the line may wrap


def test_terminal_offline_steps_name_the_env_var_and_model() -> None:
    r = completed_run()
    r.steps[0] = r.steps[0].model_copy(
        update={
            "status": "offline",
            "model": None,
            "calls": [],
            "credential_env": ["ANTHROPIC_API_KEY"],
        }
    )
    r.steps[3] = r.steps[3].model_copy(
        update={
            "status": "offline",
            "model": None,
            "calls": [],
            "configured_model": "gemini/gemini-2.5-pro",
            "credential_env": ["GEMINI_API_KEY", "GOOGLE_API_KEY"],
        }
    )
    out = terminal(r)
    assert "Akira ran without a model — set ANTHROPIC_API_KEY to give it claude-opus-4-5" in out
    assert OFFLINE_NOTE in out
    assert ("Sakura ran without a model — set GEMINI_API_KEY or GOOGLE_API_KEY to give it gemini/gemini-2.5-pro") in out
    assert "Kenji ran without a model" not in out


@pytest.mark.parametrize("reason", ["too large", "excluded"])
def test_no_findings_but_skipped_files_never_says_no_findings(reason: str) -> None:
    r = empty_run(skipped=reason)
    expected = f"No findings in what was reviewed — 1 file was not reviewed ({reason}) (see above)."
    out = terminal(r)
    assert "No findings." not in out
    assert expected in out
    assert f"data/dump.sql — {reason}" in out
    assert "No findings." not in render_markdown(r)
    assert expected in render_markdown(r)
    doc = json.loads(render_json(r))
    assert doc["run"]["complete"] is False
    assert doc["files"][1] == {
        "path": "data/dump.sql",
        "old_path": None,
        "status": "added",
        "added": 0,
        "removed": 0,
        "reviewed": False,
        "reviewed_by": [],
        "reason": reason,
    }


def test_no_findings_after_a_failed_step_says_steps_failed() -> None:
    r = empty_run(skipped=None)
    r.status = "partial"
    r.steps.append(StepResult(step_id="hiro", agent="hiro", agent_name="Hiro", status="failed", error="boom"))
    assert empty_message(r) == "No findings in what was reviewed — 1 step failed (see above)."
    assert "No findings." not in terminal(r)


@pytest.mark.parametrize("skipped", [None, "binary", "vendored"])
def test_clean_run_says_no_findings(skipped: str | None) -> None:
    r = empty_run(skipped=skipped)
    assert "No findings.\n" in terminal(r)
    assert "**No findings.**" in render_markdown(r)
    assert json.loads(render_json(r))["run"]["complete"] is True


def test_nothing_reviewable_is_not_reported_as_a_clean_review() -> None:
    r = empty_run(skipped="binary")
    r.files = r.files[1:]
    r.steps[0].files = []
    assert empty_message(r) == "Nothing to review: the change has no reviewable files."


def test_file_no_step_selected_counts_as_not_reviewed() -> None:
    r = empty_run(skipped=None)
    r.files.append(FileEntry(path="main.rs", status="added", added=5))
    gaps = not_reviewed(r)
    assert [(g.path, g.reason, g.benign) for g in gaps] == [("main.rs", "no agent covers it", False)]
    assert "main.rs — no agent covers it" in terminal(r)


def test_terminal_prints_untrusted_text_literally() -> None:
    r = empty_run(skipped=None)
    r.findings = [
        Finding(
            path="app.py",
            line=1,
            severity=Severity.MEDIUM,
            agent="akira",
            title="[bold red]fake[/] \x1b[2Jcleared",
            body="x\x1b]8;;http://e\x07y",
        )
    ]
    out = terminal(r)
    assert "[bold red]fake[/] [2Jcleared" in out
    assert "\x1b" not in out and "\x07" not in out


# --- markdown -----------------------------------------------------------------------------------


def html_of(md: str) -> str:
    return MarkdownIt("commonmark", {"html": True}).enable("table").render(md)


def test_markdown_has_the_same_content() -> None:
    md = render_markdown(completed_run())
    assert md.startswith("## tokyo review: completed\n")
    assert "- **Target:** working tree (uncommitted changes) _(chosen by default" in md
    assert "| `security` | Akira | ok | `claude-opus-4-5` | 1 high | 1,234 / 210 | $0.0123 | 1.4 |" in md
    assert "| `tests` | Yuki | offline | offline | — | 0 / 0 | — | 0.1 |" in md
    assert f"> **Offline:** {OFFLINE_NOTE}" in md
    assert "| `assets/logo.png` | binary |" in md
    assert (
        md.index("#### `src/app/db.py`")
        < md.index("**HIGH** · `src/app/db.py:42` · SQL query")
        < md.index("**LOW** · `src/app/db.py:10`")
        < md.index("#### `README.md`")
    )
    assert "Raised by Akira, Yuki · rule `bandit:B608` · security" in md
    assert '```py\ncur.execute("SELECT * FROM users WHERE name = ?", (name,))\n```' in md
    assert "| Findings | 3 (1 high · 2 low) |" in md
    assert "| Cost | $0.0130 |" in md
    assert "<td>Akira</td>" in html_of(md)  # the tables are real GFM tables


def test_markdown_body_with_fences_cannot_swallow_the_report() -> None:
    r = completed_run()
    r.findings[2].body = "Before\n```python\nx = 1\n```\nthen an unclosed one:\n```\n<img src=x>"
    r.findings[2].suggestion = "s = '```'\n```\n</details>\n````"
    md = render_markdown(r)
    html = html_of(md)
    # the body's own block is kept as code; the unclosed one is closed at the body's end
    assert '<pre><code class="language-python">x = 1\n</code></pre>' in html
    assert "<pre><code>&lt;img src=x&gt;\n</code></pre>" in html
    # the suggestion is one block, fenced longer than its longest backtick run
    assert "`````py\ns = '```'\n```\n</details>\n````\n`````" in md
    assert "<pre><code class=\"language-py\">s = '```'\n```\n&lt;/details&gt;\n````\n</code></pre>" in html
    # what follows is still Markdown, not code
    assert "<h3>Summary</h3>" in html and "<h3>Totals</h3>" in html
    assert "<strong>LOW</strong>" in html


def test_markdown_neutralises_html_and_mentions_outside_code() -> None:
    r = completed_run()
    r.findings[2].title = "Use `<br>` not <img src=//t/x.png> (cc @octocat)"
    r.findings[2].body = "<!-- hide -->\n</details>\n<script>alert(1)</script> user@example.com"
    html = html_of(render_markdown(r))
    assert "<code>&lt;br&gt;</code>" in html  # inside a code span: shown as written
    for tag in ("<img", "<!--", "</details>", "<script"):
        assert tag not in html
    assert "&lt;img src=//t/x.png&gt;" in html and "&lt;script&gt;" in html
    assert "@\u200boctocat" in html and "user@example.com" in html


def test_markdown_escaping_helpers() -> None:
    assert code_span("a`b") == "``a`b``"
    assert code_span("`x") == "`` `x ``"
    assert code_span("we|ird.py", table=True) == "`we\\|ird.py`"
    # an escaped backtick is literal text, so the "<u>" after it is not code and is escaped
    assert escape_block("\\`<u>` x`") == "\\`&lt;u>` x`"
    # a code span may not cross lines: the second line's HTML is escaped
    assert escape_block("`a\n<b>`") == "`a\n&lt;b>`"


def test_markdown_partial_run() -> None:
    md = render_markdown(partial_run())
    assert "### Problems (2)" in md
    assert "- Hiro (step ops) failed: hiro: groq/llama-4: timed out after 120 s" in md
    assert "- Akira: bandit unavailable: exit 2" in md
    assert "**Incomplete review:** 1 file was not reviewed (review failed), 1 step failed" in md


# --- json ---------------------------------------------------------------------------------------


def test_json_shape_counts_and_order() -> None:
    text = render_json(completed_run())
    doc = json.loads(text)
    assert list(doc) == ["version", "run", "totals", "steps", "files", "findings", "rejected", "walkthrough", "summary"]
    assert doc["version"] == 1
    run = doc["run"]
    assert list(run)[:6] == ["id", "repo", "target", "target_description", "target_chosen_by_default", "base_sha"]
    assert (run["id"], run["status"], run["fail_on"], run["seconds"]) == (7, "completed", "high", 3.25)
    assert run["started_at"] == "2025-05-01T12:00:00+00:00"
    assert run["complete"] is True and run["caveats"] == [] and run["exit_code"] == 1
    assert doc["totals"] == {
        "findings": 3,
        "by_severity": {"critical": 0, "high": 1, "medium": 0, "low": 2, "info": 0},
        "blocking": 1,
        "rejected": 0,
        "dropped": 0,
        "suppressed": 0,
        "calls": 3,
        "failed_calls": 0,
        "tokens_in": 101_733,
        "tokens_out": 12_595,
        "cost_usd": 0.013,
    }
    assert [s["id"] for s in doc["steps"]] == ["security", "tests", "design", "docs"]
    tests = doc["steps"][1]
    assert (tests["status"], tests["model"], tests["offline_note"]) == ("offline", None, OFFLINE_NOTE)
    assert doc["steps"][2]["cost_usd"] is None and doc["steps"][2]["calls"][0]["cost_usd"] is None
    assert [(f["path"], f["reviewed"], f["reason"]) for f in doc["files"]] == [
        ("src/app/db.py", True, None),
        ("README.md", True, None),
        ("assets/logo.png", False, "binary"),
    ]
    assert [f["location"] for f in doc["findings"]] == ["src/app/db.py:42", "README.md", "src/app/db.py:10"]
    first = doc["findings"][0]
    assert first["agents"] == ["akira", "yuki"] and first["rule"] == "bandit:B608"
    assert len(first["fingerprint"]) == 16
    assert doc["summary"] == "One injection risk; the rest is small."
    assert render_json(completed_run()) == text  # deterministic


def test_json_partial_run_reports_caveats_and_failed_calls() -> None:
    doc = json.loads(render_json(partial_run()))
    assert doc["run"]["complete"] is False
    assert doc["run"]["caveats"] == [
        "1 file was not reviewed (review failed)",
        "1 step failed",
        "1 analyzer was unavailable",
    ]
    assert doc["totals"]["failed_calls"] == 1
    ops = doc["steps"][-1]
    assert (ops["status"], ops["error"]) == ("failed", "hiro: groq/llama-4: timed out after 120 s")
    assert ops["calls"][0]["status"] == "error"


def test_markdown_and_json_do_not_import_rich() -> None:
    code = (
        "import sys, tokyo_cli.report.markdown, tokyo_cli.report.jsonout; "
        "assert 'rich' not in sys.modules, 'rich imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_partial_step_is_a_caveat_but_a_repaired_call_is_not() -> None:
    r = empty_run(skipped=None)
    # invalid output, then a successful repair: the review is whole
    r.steps[0].calls.insert(0, call("akira", "akira", 50, 5, 0.0005, status="invalid_output", error="not JSON"))
    assert empty_message(r) == "No findings."
    assert json.loads(render_json(r))["totals"]["failed_calls"] == 1

    r.steps[0].status = "partial"
    r.steps[0].error = "1 of 2 calls failed: claude-opus-4-5: timed out after 120 s"
    out = terminal(r)
    assert ("Akira (step akira) finished in part: 1 of 2 calls failed: claude-opus-4-5: timed out after 120 s") in out
    assert "No findings in what was reviewed — 1 step finished in part (see above)." in out
    assert "No findings." not in out


def test_one_offline_note_per_agent_commits_and_title_not_repeated_in_body() -> None:
    r = completed_run()
    r.steps.append(r.steps[1].model_copy(update={"step_id": "tests2"}))
    r.base_sha, r.head_sha = "1a2b3c4d5e6f", None
    r.findings[2].body = "SQL query built from user input\n\nBandit B608."
    out = terminal(r)
    assert out.count(OFFLINE_NOTE) == 1
    assert "Commits     base 1a2b3c4" in out
    assert out.count("SQL query built from user input") == 1 and "Bandit B608." in out
    md = render_markdown(r)
    assert md.count(OFFLINE_NOTE) == 1 and "- **Commits:** `base 1a2b3c4`" in md
    r.head_sha = "9f8e7d6c5b4a"
    assert "- **Commits:** `1a2b3c4..9f8e7d6`" in render_markdown(r)


def test_piped_terminal_findings_have_no_trailing_spaces() -> None:
    """Logs and pipes (a console that does not wrap) get finding lines without padding."""
    buf = StringIO()
    render_terminal(completed_run(), Console(file=buf, width=100, color_system=None, soft_wrap=True))
    out = buf.getvalue()
    section = out[out.index("Findings (") : out.index("Summary")]
    assert section.count("\n") > 5
    assert [line for line in section.splitlines() if line != line.rstrip()] == []


def test_cwe_ids_in_json_markdown_and_terminal() -> None:
    result = completed_run()
    sql = next(f for f in result.findings if f.rule == "bandit:B608")
    sql.cwe = [89, 564]
    doc = json.loads(render_json(result))
    by_title = {f["title"]: f for f in doc["findings"]}
    assert by_title["SQL query built from user input"]["cwe"] == [89, 564]
    assert list(by_title["SQL query built from user input"])[-4:] == ["members", "cwe", "file_line", "corroborated"]
    assert by_title["Unused import os"]["cwe"] == []
    md = render_markdown(result)
    assert "Raised by Akira, Yuki · rule `bandit:B608` · security · CWE-89, CWE-564" in md
    assert md.count("CWE-") == 2
    out = terminal(result)
    assert "bandit:B608 · security · CWE-89, CWE-564" in out and out.count("CWE-") == 2
