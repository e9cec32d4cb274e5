"""Signal over noise: the severity policy, ranking, grouping of repeats (and the ledger on
groups), and the display threshold (--min-severity) in every report."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path
from typing import Any

from rich.console import Console

from fakes.gitrepo import GitRepo
from tokyo_cli.engine.grouping import group_fingerprint, group_repeats
from tokyo_cli.findings import Finding, Severity
from tokyo_cli.policy import apply_policy, ceiling, policy_markdown, rank_key
from tokyo_cli.report.jsonout import render_json
from tokyo_cli.report.markdown import render_markdown
from tokyo_cli.report.sarif import render_sarif
from tokyo_cli.report.terminal import render_terminal
from tokyo_cli.results import FileEntry, RunResult, StepResult
from tokyo_cli.store.db import open_db
from tokyo_cli.store.history import load_run, save_run
from tokyo_cli.store.ledger import apply_ledger, dismiss

README = Path(__file__).resolve().parents[1] / "README.md"


def finding(line: int | None, severity: str = "medium", path: str = "app.py", **kw: Any) -> Finding:
    data: dict[str, Any] = dict(
        path=path,
        line=line,
        severity=Severity(severity),
        title=f"Issue at {path}:{line}",
        body="Because.",
        agent="sakura",
        anchor_text=f"text of {path}:{line}",
    )
    data.update(kw)
    return Finding(**data)


def undocumented(n: int, path: str = "app/api.py", start: int = 1) -> list[Finding]:
    return [
        finding(
            start + 10 * i,
            "low",
            path,
            title=f"Public function `f{i}` has no docstring",
            rule="docstrings:missing",
            category="docs",
            source="analyzer",
        )
        for i in range(n)
    ]


def run(findings: list[Finding], **kw: Any) -> RunResult:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    data: dict[str, Any] = dict(
        repo="/r",
        target="range",
        target_description="pr",
        workflow="review",
        status="completed",
        started_at=now,
        finished_at=now,
        files=[FileEntry(path="app.py", status="modified")],
        steps=[
            StepResult(
                step_id="docs",
                agent="sakura",
                agent_name="Sakura",
                status="offline",
                files=["app.py"],
                findings=list(findings),
            )
        ],
        findings=findings,
    )
    data.update(kw)
    return RunResult(**data)


# --- the policy ---------------------------------------------------------------------------


def test_rule_and_category_ceilings() -> None:
    assert apply_policy(finding(1, "high", rule="docstrings:missing", category="docs")).severity is Severity.LOW
    assert apply_policy(finding(1, "critical", rule="test-gaps:untested", category="tests")).severity is Severity.LOW
    assert apply_policy(finding(1, "high", rule="readme-mentions:env", category="docs")).severity is Severity.LOW
    # Rules with a specific reason keep their severity within the category's ceiling.
    removed = finding(1, "high", rule="test-gaps:assertions-removed", category="tests")
    assert apply_policy(removed) is removed
    assert apply_policy(finding(1, "critical", category="Security")).severity is Severity.CRITICAL
    assert apply_policy(finding(1, "critical", category="error_handling")).severity is Severity.CRITICAL
    assert apply_policy(finding(1, "critical", category="style")).severity is Severity.LOW
    assert apply_policy(finding(1, "critical", category="architecture")).severity is Severity.MEDIUM
    assert apply_policy(finding(1, "critical", category="who-knows")).severity is Severity.HIGH  # general
    assert ceiling(finding(1, rule="complexity:C901", category="architecture")) is Severity.LOW


def test_capping_keeps_the_fingerprint() -> None:
    f = finding(3, "high", rule="docstrings:missing", category="docs")
    assert apply_policy(f).fingerprint == f.fingerprint


def test_security_and_correctness_rank_first_then_severity_confidence_agents() -> None:
    docs_high = finding(1, "medium", category="docs", title="docs")
    sec_low = finding(9, "low", category="security", title="sec low")
    bug_med = finding(5, "medium", category="bug", title="bug")
    sure = finding(2, "medium", category="ops", title="sure", confidence=0.9)
    unsure = finding(2, "medium", category="ops", title="unsure", confidence=0.2)
    two = finding(3, "medium", category="ops", title="two agents", agents=["hiro", "kenji"], agent="hiro")
    ranked = sorted([docs_high, unsure, sec_low, two, sure, bug_med], key=rank_key)
    assert [f.title for f in ranked] == ["bug", "sec low", "sure", "two agents", "docs", "unsure"]


def test_readme_shows_the_policy_table() -> None:
    text = README.read_text(encoding="utf-8")
    table = text.split("<!-- severity-policy:start -->\n", 1)[1].split("\n<!-- severity-policy:end -->", 1)[0]
    assert table == policy_markdown()


# --- grouping -----------------------------------------------------------------------------


def test_twelve_repeats_in_one_file_become_one_finding_listing_every_location() -> None:
    members = undocumented(12)
    (group,) = group_repeats(members)
    assert [m.fingerprint for m in group.members] == [f.fingerprint for f in members]
    assert (group.path, group.line) == ("app/api.py", 1)  # anchored on the first
    assert group.title.startswith("12 public definitions have no docstring: `f0`, `f1`, `f2`, `f3`, `f4`, … (+7)")
    # The body lists the first 10 locations; JSON (members) and SARIF keep all 12.
    assert [f"`app/api.py:{f.line}`" in group.body for f in members] == [True] * 10 + [False] * 2
    assert "… and 2 more" in group.body
    assert group.severity is Severity.LOW and group.rule == "docstrings:missing"
    # The group's fingerprint depends on rule and path only: the same in every run.
    assert group.fingerprint == group_fingerprint("docstrings:missing", "app/api.py")
    assert group_repeats(undocumented(13))[0].fingerprint == group.fingerprint


def test_below_the_threshold_and_model_findings_stay_single() -> None:
    two = undocumented(2)
    assert group_repeats(two) == sorted(two, key=rank_key)
    models = [finding(i, title="same words") for i in range(1, 6)]  # no rule: a model's
    assert len(group_repeats(models)) == 5
    assert len(group_repeats(undocumented(5), repeats=0)) == 5


def test_a_group_takes_the_highest_severity_and_every_agent() -> None:
    members = undocumented(3)
    members[1] = members[1].model_copy(update={"severity": Severity.MEDIUM, "agents": ["kenji"], "agent": "kenji"})
    (group,) = group_repeats(members)
    assert group.severity is Severity.MEDIUM and group.agents == ["sakura", "kenji"]


def test_a_rule_across_many_files_becomes_one_finding_for_the_change_except_security() -> None:
    spread = [f for i in range(11) for f in undocumented(1, path=f"pkg/m{i:02}.py")]
    (group,) = group_repeats(spread)
    assert len(group.members) == 11 and "in 11 files" in group.title
    assert group.fingerprint == group_fingerprint("docstrings:missing", None)
    assert len(group_repeats(spread[:10])) == 10  # at the threshold: not yet
    sql = [
        finding(
            3, "high", path=f"pkg/m{i:02}.py", rule="bandit:B608", category="security", title="SQL built from strings"
        )
        for i in range(11)
    ]
    assert len(group_repeats(sql)) == 11  # every file with a vulnerability keeps its own


# --- the ledger on groups ---------------------------------------------------------------


def test_dismissing_a_group_dismisses_its_members_and_a_new_member_reopens_it(tmp_path: Path) -> None:
    db = open_db(tmp_path / "history.db")
    first = run(group_repeats(undocumented(4)))
    save_run(db, first)
    group = first.findings[0]
    stored = load_run(db, 1).findings[0]
    assert stored.members == group.members  # members survive the round trip
    dismiss(db, group.fingerprint, reason="generated code")
    for m in group.members:
        status = db.execute("SELECT status FROM ledger WHERE fingerprint = ?", [m.fingerprint]).fetchone()
        assert status == ("dismissed",)

    again = run(group_repeats(undocumented(4)))
    assert apply_ledger(db, again) == 1 and again.findings == [] and again.suppressed == 1
    assert again.steps[0].findings == []  # the members themselves are dismissed too

    grown = run(group_repeats(undocumented(5)))
    apply_ledger(db, grown)
    (reopened,) = grown.findings
    assert reopened.fingerprint == group.fingerprint and len(reopened.members) == 5
    assert reopened.status == "open"
    db.close()


# --- the display threshold ----------------------------------------------------------------


def terminal(result: RunResult) -> str:
    buf = StringIO()
    render_terminal(result, Console(file=buf, width=200, color_system=None))
    return buf.getvalue()


def test_min_severity_hides_from_people_and_keeps_for_machines() -> None:
    findings = [
        finding(1, "high", title="the high one"),
        finding(2, "low", title="the low one"),
        finding(3, "info", title="the info one"),
    ]
    result = run(findings)  # default threshold: low
    text = terminal(result)
    assert "the high one" in text and "the low one" in text and "the info one" not in text
    assert "1 finding below low not shown (1 info)" in text
    strict = run(findings, min_severity=Severity.HIGH)
    md = render_markdown(strict)
    assert "the high one" in md and "the low one" not in md and "2 findings below high not shown" in md
    assert "the low one" not in terminal(strict)
    data = json.loads(render_json(strict))
    assert len(data["findings"]) == 3 and data["run"]["min_severity"] == "high"
    assert len(json.loads(render_sarif(strict))["runs"][0]["results"]) == 3


def test_only_hidden_findings_never_read_as_no_findings() -> None:
    result = run([finding(3, "info", title="the info one")])
    text = terminal(result)
    assert "No findings." not in text and "1 finding below low not shown" in text


def test_sarif_gives_group_members_as_related_locations() -> None:
    result = run(group_repeats(undocumented(3)))
    (res,) = json.loads(render_sarif(result))["runs"][0]["results"]
    assert [r["physicalLocation"]["region"]["startLine"] for r in res["relatedLocations"]] == [1, 11, 21]
    assert res["properties"]["members"] == 3


# --- end to end ---------------------------------------------------------------------------


def test_offline_review_groups_repeated_skips_and_min_severity_flag(
    git_repo: GitRepo, cli: Any, tmp_path: Path
) -> None:
    git_repo.write("tests/test_api.py", "".join(f"def test_{i}():\n    assert {i}\n\n" for i in range(5)))
    git_repo.commit("tests")
    git_repo.write(
        "tests/test_api.py",
        "import pytest\n\n"
        + "".join(f"@pytest.mark.skip  # flaky {i}\ndef test_{i}():\n    assert {i}\n\n" for i in range(5)),
    )
    out_json = tmp_path / "r.json"
    code, out, err = cli("review", str(git_repo.root), "--offline", "-q", "--format", "json", "--output", str(out_json))
    data = json.loads(out_json.read_text())
    skipped = [f for f in data["findings"] if f["rule"] == "test-gaps:skipped"]
    assert len(skipped) == 1 and len(skipped[0]["members"]) == 5, data["findings"]
    assert skipped[0]["title"].startswith("Test newly skipped without a reason (and 4 more like it)")
    assert skipped[0]["severity"] == "medium"

    code, out, err = cli("review", str(git_repo.root), "--offline", "-q", "--min-severity", "high")
    assert "Test newly skipped" not in out
    assert re.search(r"1 finding below high not shown \(1 medium\)", out), out


def test_a_run_with_groups_and_single_findings_is_stored(tmp_path: Path) -> None:
    db = open_db(tmp_path / "history.db")
    mixed = group_repeats([*undocumented(3), finding(99, "high", title="single")])
    result = run(mixed)
    save_run(db, result)
    loaded = load_run(db, result.run_id or 0).findings
    assert sorted((f.title, len(f.members)) for f in loaded) == sorted((f.title, len(f.members)) for f in mixed)
    db.close()


def test_twelve_undocumented_exported_functions_give_one_grouped_finding(
    git_repo: GitRepo, cli: Any, tmp_path: Path
) -> None:
    names = [f"f{i:02}" for i in range(12)]
    git_repo.write("pkg/__init__.py", '"""Package."""\n')
    git_repo.write("pkg/api.py", '"""API."""\n')
    git_repo.commit("base")
    git_repo.write(
        "pkg/api.py",
        f'"""API."""\n\n__all__ = {names!r}\n\n'
        + "".join(f"\n\ndef {n}(x):\n    return x + {i}\n" for i, n in enumerate(names)),
    )
    out_json = tmp_path / "r.json"
    cli("review", str(git_repo.root), "--offline", "-q", "--format", "json", "--output", str(out_json))
    data = json.loads(out_json.read_text())
    docs = [f for f in data["findings"] if f["rule"] == "docstrings:missing"]
    assert len(docs) == 1, data["findings"]
    (group,) = docs
    assert group["path"] == "pkg/api.py" and len(group["members"]) == 12 and group["severity"] == "low"
    assert group["title"].startswith("12 public definitions have no docstring: `f00`")
    assert group["line"] == min(m["line"] for m in group["members"])


def test_a_group_carries_every_cwe_of_its_members() -> None:
    members = [
        finding(
            10 * i, "low", rule="bandit:B603", category="security", source="analyzer", title="subprocess call", cwe=cwe
        )
        for i, cwe in enumerate(([78], [], [78, 88]), 1)
    ]
    (group,) = group_repeats(members)
    assert group.members and group.cwe == [78, 88]
