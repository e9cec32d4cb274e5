"""SARIF 2.1.0 reporter: schema validity, rules, fingerprints, suppressions, GitHub limits.

The schema in ``tests/data/sarif-schema-2.1.0.json`` is a verbatim copy of the OASIS SARIF
2.1.0 (errata01) JSON schema, taken from the project's shared contracts
(``shared/contracts/sarif-schema-2.1.0.json``, sha256 c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e;
upstream: https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json).
Tests read only the copy, never the shared directory.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tokyo_cli.findings import Finding, Severity
from tokyo_cli.report.sarif import (
    FINGERPRINT_KEY,
    MAX_RESULTS,
    render_sarif,
    rule_id_for,
    sarif_report,
)
from tokyo_cli.results import FileEntry, RunResult, StepResult

SCHEMA_PATH = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"
SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"
T0 = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft4Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def assert_valid(validator: jsonschema.Draft4Validator, text: str) -> dict[str, Any]:
    doc = json.loads(text)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
    return doc


def bandit() -> Finding:
    return Finding(
        path="src/app/server.py",
        line=9,
        severity=Severity.HIGH,
        category="security",
        title="subprocess call with shell=True identified, security issue.",
        body="subprocess call with shell=True identified, security issue.\nBandit B602.",
        agent="akira",
        source="analyzer",
        rule="bandit:B602",
        anchor_text="return subprocess.call(cmd, shell=True)",
    )


def model(line: int | None = 12, severity: Severity = Severity.MEDIUM, **kw: Any) -> Finding:
    base: dict[str, Any] = dict(
        path="src/app/name with space.py",
        line=line,
        severity=severity,
        category="security",
        title=f"Token compared with == at {line}",
        body="Use hmac.compare_digest.",
        agent="akira",
        agents=["akira", "kenji"],
    )
    base.update(kw)
    return Finding(**base)


def run(findings: list[Finding], **kw: Any) -> RunResult:
    data: dict[str, Any] = dict(
        run_id=7,
        repo="/tmp/repo",
        target="range",
        target_description="main...HEAD",
        base_sha="a" * 40,
        head_sha="b" * 40,
        workflow="review",
        status="completed",
        started_at=T0,
        finished_at=T0 + timedelta(seconds=3),
        files=[FileEntry(path="src/app/server.py", status="modified")],
        steps=[
            StepResult(
                step_id="security",
                agent="akira",
                agent_name="Akira",
                status="ok",
                files=["src/app/server.py"],
                findings=findings,
            )
        ],
        findings=findings,
    )
    data.update(kw)
    return RunResult(**data)


def test_schema_copy_is_the_official_one() -> None:
    assert hashlib.sha256(SCHEMA_PATH.read_bytes()).hexdigest() == SCHEMA_SHA256


def test_valid_sarif_with_rules_fingerprints_fixes_and_suppressions(validator: jsonschema.Draft4Validator) -> None:
    dismissed = model(20, Severity.LOW, title="Old finding", status="dismissed")
    fix = model(14, Severity.CRITICAL, end_line=15, title="Hard-coded key", suggestion="KEY = os.environ['KEY']")
    file_level = model(None, Severity.INFO, category="docs", agent="sakura", agents=["sakura"], title="Document it")
    result = run([bandit(), model(), fix, dismissed, file_level])
    doc = assert_valid(validator, render_sarif(result))

    assert doc["version"] == "2.1.0" and doc["$schema"].endswith("sarif-schema-2.1.0.json")
    (sarif_run,) = doc["runs"]
    rules = {r["id"]: r for r in sarif_run["tool"]["driver"]["rules"]}
    assert set(rules) == {"bandit:B602", "akira/security", "sakura/docs"}
    # The rule's level and security-severity follow its most severe result (the critical one).
    assert rules["akira/security"]["defaultConfiguration"] == {"level": "error"}
    assert rules["akira/security"]["properties"]["security-severity"] == "9.5"
    assert "security" in rules["akira/security"]["properties"]["tags"]
    assert "security-severity" not in rules["sakura/docs"]["properties"]

    results = sarif_run["results"]
    assert [r["ruleId"] for r in results][0] == "akira/security"  # most severe first
    for r in results:
        assert sarif_run["tool"]["driver"]["rules"][r["ruleIndex"]]["id"] == r["ruleId"]
    by_fp = {r["partialFingerprints"][FINGERPRINT_KEY]: r for r in results}
    assert set(by_fp) == {f.fingerprint for f in result.findings}

    fixed = by_fp[fix.fingerprint]
    assert fixed["level"] == "error"
    assert fixed["locations"][0]["physicalLocation"]["region"] == {"startLine": 14, "endLine": 15}
    assert fixed["locations"][0]["physicalLocation"]["artifactLocation"] == {
        "uri": "src/app/name%20with%20space.py",
        "uriBaseId": "%SRCROOT%",
    }
    replacement = fixed["fixes"][0]["artifactChanges"][0]["replacements"][0]
    assert replacement["deletedRegion"] == {"startLine": 14, "endLine": 15}
    assert replacement["insertedContent"]["text"] == "KEY = os.environ['KEY']\n"

    assert by_fp[dismissed.fingerprint]["suppressions"][0]["kind"] == "external"
    assert "suppressions" not in by_fp[fix.fingerprint]
    assert by_fp[file_level.fingerprint]["properties"]["fileLevel"] is True
    assert by_fp[file_level.fingerprint]["level"] == "note"
    bandit_result = by_fp[bandit().fingerprint]
    # Bandit's body starts with its title: the message does not repeat it.
    assert bandit_result["message"]["text"].count("shell=True identified") == 1
    assert "Bandit B602." in bandit_result["message"]["text"]  # the rest of the body is kept
    assert sarif_run["properties"]["tokyo"]["truncated"] is None
    assert sarif_run["invocations"][0]["executionSuccessful"] is True


def test_rule_ids() -> None:
    assert rule_id_for(bandit()) == "bandit:B602"
    assert rule_id_for(model(category="Error Handling!")) == "akira/error-handling"
    assert rule_id_for(model(category="")) == "akira/general"


def test_empty_and_failed_runs_are_valid(validator: jsonschema.Draft4Validator) -> None:
    doc = assert_valid(validator, render_sarif(run([])))
    assert doc["runs"][0]["results"] == [] and doc["runs"][0]["tool"]["driver"]["rules"] == []
    failed = run(
        [],
        status="failed",
        error="security: provider timed out",
        steps=[
            StepResult(
                step_id="security", agent="akira", agent_name="Akira", status="failed", error="provider timed out"
            )
        ],
    )
    doc = assert_valid(validator, render_sarif(failed))
    invocation = doc["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    texts = [n["message"]["text"] for n in invocation["toolExecutionNotifications"]]
    assert any("provider timed out" in t for t in texts)


def test_untrusted_text_is_cleaned_and_capped(validator: jsonschema.Draft4Validator) -> None:
    noisy = model(body="\x1b[31mred\x1b[0m " + "x" * 50_000)
    doc = assert_valid(validator, render_sarif(run([noisy])))
    text = doc["runs"][0]["results"][0]["message"]["text"]
    assert "\x1b" not in text and len(text) <= 10_000 and text.endswith("…")


def test_result_limit_keeps_the_most_severe_and_says_so(validator: jsonschema.Draft4Validator) -> None:
    findings = [model(i, Severity.LOW, title=f"low {i}") for i in range(1, 6)]
    findings.append(model(99, Severity.CRITICAL, title="the critical one"))
    report = sarif_report(run(findings), max_results=3)
    doc = assert_valid(validator, report.text)
    results = doc["runs"][0]["results"]
    assert (report.total, report.kept, len(results)) == (6, 3, 3)
    assert results[0]["properties"]["severity"] == "critical"
    assert report.truncation is not None and "3 of 6" in report.truncation and "25,000" in report.truncation
    notes = [n["message"]["text"] for n in doc["runs"][0]["invocations"][0]["toolExecutionNotifications"]]
    assert report.truncation in notes
    assert doc["runs"][0]["properties"]["tokyo"]["truncated"]["kept"] == 3
    assert MAX_RESULTS == 25_000


def test_size_limit_shrinks_until_the_gzipped_file_fits(validator: jsonschema.Draft4Validator) -> None:
    # Incompressible bodies, so the gzip limit bites with few results.
    findings = [
        model(i, Severity.MEDIUM, title=f"finding {i}", body=hashlib.sha512(str(i).encode()).hexdigest() * 40)
        for i in range(1, 201)
    ]
    full = sarif_report(run(findings))
    assert full.kept == 200 and full.truncation is None
    limit = full.gzip_bytes // 4
    report = sarif_report(run(findings), max_gzip_bytes=limit)
    assert_valid(validator, report.text)
    assert 0 < report.kept < 200
    assert len(gzip.compress(report.text.encode())) <= limit * 1.01  # compresslevel differs slightly
    assert report.gzip_bytes <= limit
    assert report.truncation is not None and "10 MB" in report.truncation


def test_render_is_deterministic() -> None:
    result = run([bandit(), model()])
    assert render_sarif(result) == render_sarif(result)


def test_cwe_ids_become_github_security_tags_and_still_validate(validator: jsonschema.Draft4Validator) -> None:
    sqli = model(14, Severity.HIGH, title="SQL injection", cwe=[89, 564])
    shell = bandit().model_copy(update={"cwe": [78]})
    docs = model(20, Severity.LOW, category="docs", title="wrong example", agent="sakura", cwe=[1059])
    plain = model(30, Severity.LOW, category="docs", title="typo", agent="sakura")
    doc = assert_valid(validator, render_sarif(run([sqli, shell, docs, plain])))
    r = doc["runs"][0]
    rules = {rule["id"]: rule for rule in r["tool"]["driver"]["rules"]}
    assert rules["akira/security"]["properties"]["tags"] == [
        "tokyo",
        "akira",
        "security",
        "external/cwe/cwe-89",
        "external/cwe/cwe-564",
    ]
    assert rules["bandit:B602"]["properties"]["tags"][-2:] == ["security", "external/cwe/cwe-78"]
    # a CWE makes a finding a security finding whatever its category; one without stays plain
    assert rules["sakura/docs"]["properties"]["tags"] == [
        "tokyo",
        "sakura",
        "docs",
        "security",
        "external/cwe/cwe-1059",
    ]
    assert rules["sakura/docs"]["properties"]["security-severity"] == "3.0"
    by_title = {res["message"]["text"].split("\n")[0]: res for res in r["results"]}
    assert by_title["SQL injection"]["properties"]["tags"] == [
        "security",
        "external/cwe/cwe-89",
        "external/cwe/cwe-564",
    ]
    assert by_title["SQL injection"]["properties"]["security-severity"] == "8.0"
    assert by_title["wrong example"]["properties"]["security-severity"] == "3.0"
    assert "tags" not in by_title["typo"]["properties"]
    assert "security-severity" not in by_title["typo"]["properties"]
