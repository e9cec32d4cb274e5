"""SARIF report details the schema does not check: the run key, times, levels, rule texts.

Written against mutation-testing survivors (issue 13, benchmarks/mutation.py).
``automationDetails.id`` matters beyond the schema: GitHub code scanning groups uploads by
it, so a changed format splits one repository's alerts into two analyses.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from tokyo_cli import __version__
from tokyo_cli.findings import Finding, GroupMember, Severity
from tokyo_cli.report.sarif import render_sarif, sarif_report
from tokyo_cli.results import CallRecord, RunResult, StepResult

T0 = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
AWS_KEY = "AKIAQYLPMN5HHHFPZAM2"


def finding(line: int | None = 12, severity: str = "medium", **kw: Any) -> Finding:
    base: dict[str, Any] = dict(
        path="src/app.py",
        line=line,
        severity=severity,
        category="security",
        title=f"Issue at {line}",
        body="Details.",
        agent="akira",
    )
    base.update(kw)
    return Finding(**base)


def run(findings: list[Finding], **kw: Any) -> RunResult:
    data: dict[str, Any] = dict(
        run_id=7,
        repo="/",
        target="range",
        target_description="main...HEAD",
        base_sha="a" * 40,
        head_sha="b" * 40,
        workflow="review",
        status="completed",
        started_at=T0,
        finished_at=T0 + timedelta(seconds=3),
        steps=[
            StepResult(
                step_id="security",
                agent="akira",
                agent_name="Akira",
                status="ok",
                files=["src/app.py"],
                findings=findings,
            )
        ],
        findings=findings,
    )
    data.update(kw)
    return RunResult(**data)


def sarif_run(result: RunResult) -> dict[str, Any]:
    (only,) = json.loads(render_sarif(result))["runs"]
    return only


@pytest.mark.parametrize(
    ("kw", "key"),
    [
        ({}, "tokyo/review/run-7"),
        ({"workflow": "Security Audit!"}, "tokyo/security-audit/run-7"),
        ({"workflow": "--Nightly__Full--"}, "tokyo/nightly-full/run-7"),
        ({"workflow": "!!!"}, "tokyo/review/run-7"),
        ({"workflow": ""}, "tokyo/review/run-7"),
        ({"run_id": None}, "tokyo/review/20260501T120000Z"),
        ({"run_id": None, "started_at": datetime(2026, 1, 2, 3, 4, 5)}, "tokyo/review/20260102T030405Z"),
    ],
)
def test_automation_id_is_tokyo_slash_workflow_slash_run(kw: dict[str, Any], key: str) -> None:
    assert sarif_run(run([], **kw))["automationDetails"] == {"id": key}


def test_times_are_utc_with_milliseconds() -> None:
    plus2 = timezone(timedelta(hours=2))
    inv = sarif_run(
        run(
            [],
            started_at=datetime(2026, 5, 1, 14, 0, 0, 123456, tzinfo=plus2),
            finished_at=datetime(2026, 5, 1, 12, 0, 3, tzinfo=UTC),
        )
    )["invocations"][0]
    assert (inv["startTimeUtc"], inv["endTimeUtc"]) == ("2026-05-01T12:00:00.123Z", "2026-05-01T12:00:03.000Z")
    naive = sarif_run(run([], started_at=datetime(2026, 5, 1, 9, 30), finished_at=None))["invocations"][0]
    assert naive["startTimeUtc"] == "2026-05-01T09:30:00.000Z" and "endTimeUtc" not in naive


def test_run_properties_and_driver() -> None:
    call = CallRecord(step_id="security", agent="akira", model="m", provider="p", cost_usd=0.12345678)
    steps = [StepResult(step_id="security", agent="akira", agent_name="Akira", status="ok", calls=[call])]
    r = sarif_run(run([finding()], steps=steps, workflow="audit"))
    assert r["properties"]["tokyo"] == {
        "runId": 7,
        "status": "completed",
        "target": "main...HEAD",
        "baseSha": "a" * 40,
        "headSha": "b" * 40,
        "workflow": "audit",
        "costUsd": 0.123457,
        "findings": 1,
        "truncated": None,
        # what tokyo merge reads back (tokyo_cli.report.reading)
        "uid": "",
        "targetKind": "range",
        "failOn": "high",
        "shard": None,
        "merged": None,
    }
    assert sarif_run(run([]))["properties"]["tokyo"]["costUsd"] is None
    driver = r["tool"]["driver"]
    assert (driver["name"], driver["version"], driver["semanticVersion"]) == ("tokyo", __version__, __version__)
    assert r["originalUriBaseIds"] == {"%SRCROOT%": {"uri": "file:///"}}


def test_repo_root_uri_ends_with_a_slash(tmp_path: Any) -> None:
    uri = sarif_run(run([], repo=str(tmp_path)))["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert uri == tmp_path.resolve().as_uri() + "/"


@pytest.mark.parametrize(
    ("status", "successful", "level"),
    [
        ("completed", True, None),
        ("partial", True, "warning"),
        ("failed", False, "error"),
        ("cancelled", False, "warning"),
    ],
)
def test_execution_success_and_notification_levels(status: str, successful: bool, level: str | None) -> None:
    steps = [
        StepResult(
            step_id="security",
            agent="akira",
            agent_name="Akira",
            status="ok" if level is None else "failed",
            error=None if level is None else "boom",
        )
    ]
    inv = sarif_run(run([], status=status, steps=steps))["invocations"][0]
    assert inv["executionSuccessful"] is successful
    if level is None:
        assert "toolExecutionNotifications" not in inv
    else:
        assert {n["level"] for n in inv["toolExecutionNotifications"]} == {level}


@pytest.mark.parametrize(
    ("severity", "level", "security"),
    [
        ("critical", "error", "9.5"),
        ("high", "error", "8.0"),
        ("medium", "warning", "5.5"),
        ("low", "note", "3.0"),
        ("info", "note", "0.1"),
    ],
)
def test_levels_and_security_severity(severity: str, level: str, security: str) -> None:
    r = sarif_run(run([finding(severity=severity)]))
    (rule,) = r["tool"]["driver"]["rules"]
    assert r["results"][0]["level"] == level
    assert rule["defaultConfiguration"] == {"level": level}
    assert rule["properties"]["security-severity"] == security


def test_model_rules() -> None:
    fs = [
        finding(1, category="Security Review"),
        finding(2, category="akira", agent="akira"),
        finding(3, category="style", agent="sakura"),
    ]
    rules = {r["id"]: r for r in sarif_run(run(fs))["tool"]["driver"]["rules"]}
    sec = rules["akira/security-review"]
    assert sec["name"] == "AkiraSecurityReview"
    assert sec["properties"]["tags"] == ["tokyo", "akira", "security-review", "security"]
    assert sec["shortDescription"] == {"text": "Akira: Security Review findings"}
    assert (
        sec["fullDescription"]["text"]
        == sec["help"]["text"]
        == (
            "Findings in the 'Security Review' category raised by Akira, a tokyo review agent. "
            "Each result's message explains the specific issue."
        )
    )
    assert rules["akira/akira"]["properties"]["tags"] == ["tokyo", "akira"]
    assert "security-severity" not in rules["akira/akira"]["properties"]
    style = rules["sakura/style"]
    assert style["shortDescription"]["text"] == "sakura: style findings"  # no step names sakura
    assert style["properties"]["tags"] == ["tokyo", "sakura", "style"]


def test_analyzer_rules() -> None:
    f = finding(category="security", rule="bandit:B602", title="  shell=True  ", source="analyzer")
    (rule,) = sarif_run(run([f]))["tool"]["driver"]["rules"]
    assert (rule["id"], rule["name"]) == ("bandit:B602", "BanditB602")
    assert rule["shortDescription"] == {"text": "shell=True"}
    assert rule["help"]["text"] == "Reported by the bandit analyzer (run by Akira). shell=True"
    long = finding(rule="radon:CC", title="t" * 2000, category="complexity", source="analyzer")
    (rule,) = sarif_run(run([long]))["tool"]["driver"]["rules"]
    assert rule["shortDescription"]["text"] == "t" * 999 + "…"
    assert len(rule["help"]["text"]) == 1000 and rule["help"]["text"].endswith("…")
    assert "security-severity" not in rule["properties"]
    (rule,) = sarif_run(run([finding(rule="x:!!!", title="   ", category="")]))["tool"]["driver"]["rules"]
    assert rule["name"] == "X" and rule["shortDescription"]["text"] == "x:!!!"


def test_rule_index_and_level_follow_the_worst_result_of_each_rule() -> None:
    fs = [finding(1, "low", title="a"), finding(2, "high", title="b"), finding(3, "low", category="style", title="c")]
    r = sarif_run(run(fs))
    rules = r["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == ["akira/security", "akira/style"]
    assert [(res["ruleId"], res["ruleIndex"]) for res in r["results"]] == [
        ("akira/security", 0),
        ("akira/security", 0),
        ("akira/style", 1),
    ]
    assert rules[0]["defaultConfiguration"] == {"level": "error"}
    assert rules[0]["properties"]["security-severity"] == "8.0"
    assert rules[1]["defaultConfiguration"] == {"level": "note"}


def test_result_regions_properties_and_fixes() -> None:
    fs = [
        finding(5, "high", title="ranged", end_line=7, suggestion="a\nb\n", confidence=0.75),
        finding(9, "high", title="same end", end_line=9, suggestion="x"),
        finding(11, "high", title="blank suggestion", suggestion="  \n"),
        finding(None, "high", title="file level", suggestion="ignored", body=""),
    ]
    by_title = {res["message"]["text"].split("\n")[0]: res for res in sarif_run(run(fs))["results"]}
    ranged = by_title["ranged"]
    assert ranged["locations"][0]["physicalLocation"]["region"] == {"startLine": 5, "endLine": 7}
    assert ranged["properties"] == {
        "severity": "high",
        "category": "security",
        "agents": ["akira"],
        "source": "model",
        "status": "open",
        "fileLevel": False,
        "onChangedLine": True,
        "step": "",
        "corroborated": False,
        "confidence": 0.75,
        "tags": ["security"],
        "security-severity": "8.0",
    }
    (change,) = ranged["fixes"][0]["artifactChanges"]
    assert change["replacements"] == [
        {"deletedRegion": {"startLine": 5, "endLine": 7}, "insertedContent": {"text": "a\nb\n"}}
    ]
    assert change["artifactLocation"] == {"uri": "src/app.py", "uriBaseId": "%SRCROOT%"}
    assert ranged["message"]["text"] == "ranged\n\nDetails."
    same = by_title["same end"]
    assert same["locations"][0]["physicalLocation"]["region"] == {"startLine": 9}
    assert same["fixes"][0]["artifactChanges"][0]["replacements"][0]["deletedRegion"] == {"startLine": 9, "endLine": 9}
    assert "confidence" not in same["properties"]
    assert "fixes" not in by_title["blank suggestion"]
    file_level = by_title["file level"]
    assert file_level["locations"][0]["physicalLocation"]["region"] == {"startLine": 1}
    assert "fixes" not in file_level and file_level["message"]["text"] == "file level"
    assert "suppressions" not in file_level


def test_dismissed_results_are_suppressed() -> None:
    (res,) = sarif_run(run([finding(status="dismissed")]))["results"]
    assert res["suppressions"] == [
        {"kind": "external", "status": "accepted", "justification": "dismissed in the tokyo findings ledger"}
    ]


def test_truncation_sentence_and_boundaries() -> None:
    fs = [finding(i, title=f"f{i}") for i in range(1, 7)]
    report = sarif_report(run(fs), max_results=3)
    assert report.truncation == (
        "SARIF truncated: 3 of 6 results kept, the most severe first (GitHub accepts at most "
        "25,000 results per run); the full list is in the Markdown and JSON reports and in history."
    )
    props = json.loads(report.text)["runs"][0]["properties"]["tokyo"]
    assert props["truncated"] == {"kept": 3, "total": 6, "reason": "GitHub accepts at most 25,000 results per run"}
    exact = sarif_report(run(fs), max_results=6)
    assert (exact.kept, exact.truncation) == (6, None)
    nothing = sarif_report(run(fs), max_gzip_bytes=1)
    assert (nothing.total, nothing.kept) == (6, 0) and json.loads(nothing.text)["runs"][0]["results"] == []
    assert nothing.truncation is not None and "0 of 6" in nothing.truncation and "10 MB" in nothing.truncation
    assert report.text.endswith("}\n") and report.text.startswith('{\n  "$schema"')


def test_secrets_never_reach_the_document() -> None:
    text = render_sarif(
        run(
            [finding(title=f"key {AWS_KEY}", body=f"body {AWS_KEY}", suggestion=AWS_KEY)],
            target_description=f"x {AWS_KEY}",
        )
    )
    assert AWS_KEY not in text and "[MASKED:aws-access-key]" in text


def test_severity_order_decides_which_results_are_kept() -> None:
    fs = [finding(1, "low", title="low"), finding(2, "critical", title="crit"), finding(3, "info", title="info")]
    report = sarif_report(run(fs), max_results=1)
    (res,) = json.loads(report.text)["runs"][0]["results"]
    assert res["message"]["text"].startswith("crit") and Severity.CRITICAL.value == res["properties"]["severity"]


# --- pinned against survivors of a later mutation run ---------------------------------------


def test_driver_full_name_and_fix_description_are_pinned() -> None:
    r = sarif_run(run([finding(5, suggestion="fixed()")]))
    assert r["tool"]["driver"]["fullName"] == "tokyo-cli: a team of AI code reviewers"
    assert r["results"][0]["fixes"][0]["description"] == {"text": "Replacement suggested by the reviewer"}


def test_a_rule_level_follows_a_more_severe_result_ranked_after_it() -> None:
    # Ranking puts security before style, so the low security finding comes first; the rule
    # (shared by both) still takes the level of the high one.
    fs = [
        finding(1, "high", category="style", rule="bandit:B101", title="b"),
        finding(2, "low", category="security", rule="bandit:B101", title="a"),
    ]
    r = sarif_run(run(fs))
    assert [res["level"] for res in r["results"]] == ["note", "error"]
    (rule,) = r["tool"]["driver"]["rules"]
    assert rule["defaultConfiguration"] == {"level": "error"}
    assert rule["properties"]["security-severity"] == "8.0"


def test_group_members_are_related_locations() -> None:
    members = [
        GroupMember(fingerprint="f1", path="src/name with space.py", line=None, title="  ", severity="low"),
        GroupMember(fingerprint="f2", path="src/b.py", line=7, title="second one", severity="low"),
    ]
    (res,) = sarif_run(run([finding(3, members=members)]))["results"]
    assert res["properties"]["members"] == 2
    assert res["relatedLocations"] == [
        {
            "id": 0,
            "physicalLocation": {
                "artifactLocation": {"uri": "src/name%20with%20space.py", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 1},
            },
            "message": {"text": "akira/security"},
            "properties": {"fingerprint": "f1", "severity": "low", "line": None},
        },  # a blank member title falls back to the rule id
        {
            "id": 1,
            "physicalLocation": {
                "artifactLocation": {"uri": "src/b.py", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 7},
            },
            "message": {"text": "second one"},
            "properties": {"fingerprint": "f2", "severity": "low", "line": 7},
        },
    ]


def test_texts_at_exactly_the_cap_are_kept_whole() -> None:
    (res,) = sarif_run(run([finding(title="t", body="x" * 9997)]))["results"]
    assert res["message"]["text"] == "t\n\n" + "x" * 9997  # 10,000 characters, not capped
    (rule,) = sarif_run(run([finding(rule="radon:CC", title="t" * 1000, category="complexity")]))["tool"]["driver"][
        "rules"
    ]
    assert rule["shortDescription"]["text"] == "t" * 1000


def test_long_analyzer_help_is_capped_in_full_description_too() -> None:
    long = finding(rule="radon:CC", title="t" * 2000, category="complexity", source="analyzer")
    (rule,) = sarif_run(run([long]))["tool"]["driver"]["rules"]
    assert len(rule["fullDescription"]["text"]) == 1000 and rule["fullDescription"]["text"].endswith("…")


def test_analyzer_tool_is_the_part_before_the_first_colon() -> None:
    f = finding(rule="semgrep:python.lang:eval", title="eval", source="analyzer")
    (rule,) = sarif_run(run([f]))["tool"]["driver"]["rules"]
    assert rule["help"]["text"] == "Reported by the semgrep analyzer (run by Akira). eval"
    assert rule["name"] == "SemgrepPythonLangEval"


def test_a_rule_id_without_letters_or_digits_is_named_finding() -> None:
    (rule,) = sarif_run(run([finding(rule=":::", title="x")]))["tool"]["driver"]["rules"]
    assert (rule["id"], rule["name"]) == (":::", "Finding")


def test_an_unresolvable_repo_root_is_file_root() -> None:
    assert sarif_run(run([], repo="bad\0path"))["originalUriBaseIds"] == {"%SRCROOT%": {"uri": "file:///"}}


def test_times_are_utc_whatever_the_local_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        plus2 = timezone(timedelta(hours=2))
        inv = sarif_run(run([], started_at=datetime(2026, 5, 1, 14, 0, 0, tzinfo=plus2), finished_at=None))
        assert inv["invocations"][0]["startTimeUtc"] == "2026-05-01T12:00:00.000Z"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_non_ascii_text_is_written_as_is() -> None:
    text = sarif_report(run([finding(title="café ü")])).text
    assert '"café ü' in text and "\\u00e9" not in text


def _incompressible(i: int) -> str:
    return "".join(hashlib.sha512(f"{i}:{j}".encode()).hexdigest() for j in range(8))


def test_a_document_of_exactly_the_size_limit_is_kept_whole() -> None:
    fs = [finding(i, title=f"f{i}", body=_incompressible(i)) for i in range(1, 4)]
    full = sarif_report(run(fs))
    exact = sarif_report(run(fs), max_gzip_bytes=full.gzip_bytes)
    assert (exact.kept, exact.truncation, exact.text) == (3, None, full.text)


def test_the_size_limit_shrinks_in_proportion_with_a_five_percent_margin() -> None:
    # Results of equal size: one proportional step (95% of limit/size) already fits, so one
    # shrink is all it takes (a 25,000-result run must not shrink one result per gzip pass).
    # At half the size the margin leaves room for one more result: it is not filled.
    fs = [finding(i, title=f"f{i}", body=_incompressible(i)) for i in range(1, 101)]
    full = sarif_report(run(fs))
    limit = full.gzip_bytes // 2
    report = sarif_report(run(fs), max_gzip_bytes=limit)
    assert report.kept == int(100 * limit / full.gzip_bytes * 0.95)
    assert report.gzip_bytes <= limit
    assert report.truncation == (
        f"SARIF truncated: {report.kept} of 100 results kept, the most severe first (GitHub accepts at "
        "most 10 MB of gzip-compressed SARIF); the full list is in the Markdown and JSON reports and in history."
    )


def test_the_size_limit_keeps_one_of_two_when_one_fits() -> None:
    fs = [finding(i, title=f"f{i}", body=_incompressible(i)) for i in (1, 2)]
    two = sarif_report(run(fs))
    one = sarif_report(run(fs), max_results=1)  # about the size of the truncated document
    limit = one.gzip_bytes + 40
    assert limit < two.gzip_bytes
    report = sarif_report(run(fs), max_gzip_bytes=limit)
    assert (report.kept, report.total) == (1, 2) and report.gzip_bytes <= limit
