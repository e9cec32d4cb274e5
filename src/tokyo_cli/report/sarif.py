"""The SARIF 2.1.0 report (``--format sarif``): findings for GitHub code scanning and any
SARIF viewer.

Shape (OASIS SARIF 2.1.0, errata01; validated against the official JSON schema in tests)::

    {"$schema": SARIF_SCHEMA, "version": "2.1.0",
     "runs": [{
       "tool": {"driver": {"name": "tokyo", "version": ..., "rules": [rule, ...]}},
       "automationDetails": {"id": "tokyo/<workflow>/<run>"},
       "originalUriBaseIds": {"%SRCROOT%": {"uri": "file:///repo/"}},
       "invocations": [{"executionSuccessful": bool, "toolExecutionNotifications": [...]}],
       "results": [result, ...],
       "properties": {"tokyo": {run id, status, target, shas, cost, truncation}}}]}

Rules: one per analyzer rule (``bandit:B602``) and one per agent and category of model
findings (``akira/security``). A rule's ``defaultConfiguration.level`` and, for security
rules, its ``security-severity`` (GitHub's 0.0-10.0 scale) follow the most severe of its
results. A security finding (category "security", or any CWE id) tags its rule and itself
``security`` and ``external/cwe/cwe-<id>`` per CWE; the result carries its own
``security-severity`` too. Results carry ``partialFingerprints["tokyoFingerprint/v1"]`` (the finding's
line-shift-proof fingerprint), a ``suppressions`` entry when the findings ledger dismissed
the finding, and a ``fixes`` entry when the finding carries a replacement.

GitHub's upload limits (docs.github.com, "SARIF support for code scanning" and "SARIF
results exceed limit"): at most 25,000 results per run and 10 MB gzip-compressed per file.
:func:`sarif_report` keeps the most severe results within both limits and says so in the
run's ``toolExecutionNotifications`` and ``properties.tokyo.truncated``.
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tokyo_cli import __version__
from tokyo_cli.findings import Finding, Severity
from tokyo_cli.policy import rank_key
from tokyo_cli.report import agent_names, clean_text, finding_body, problems
from tokyo_cli.results import RunResult
from tokyo_cli.safety.masking import mask_data

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FINGERPRINT_KEY = "tokyoFingerprint/v1"
SRCROOT = "%SRCROOT%"

# GitHub code scanning limits (see the module docstring).
MAX_RESULTS = 25_000
MAX_GZIP_BYTES = 10 * 1024 * 1024
# One result's message is capped so a runaway model body cannot eat the size budget.
MAX_MESSAGE_CHARS = 10_000
MAX_RELATED = 1000  # relatedLocations per grouped result; the JSON report keeps every member

LEVELS = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub code scanning reads a rule's ``properties["security-severity"]`` (a string holding a
# number 0.0-10.0) and ``properties.tags`` ("security", "external/cwe/cwe-89"): "Over 9.0 is
# critical, 7.0 to 8.9 is high, 4.0 to 6.9 is medium and 3.9 or less is low", and a CWE tag
# files the alert under that CWE. Source: docs.github.com, code-security/code-scanning/
# integrating-with-code-scanning/sarif-support-for-code-scanning ("reportingDescriptor
# object"). Each value below sits well inside its GitHub band.
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.1",
}
MAX_TAGS = 20
_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class SarifReport:
    """A rendered SARIF document and what truncation did.

    ``text``: the JSON document (ends with a newline); ``total``: findings in the run;
    ``kept``: results written; ``gzip_bytes``: size of ``text`` gzip-compressed;
    ``truncation``: the sentence saying what was left out and why, or ``None``.
    """

    text: str
    total: int
    kept: int
    gzip_bytes: int
    truncation: str | None


def render_sarif(result: RunResult) -> str:
    """``result`` as a SARIF 2.1.0 JSON document within GitHub's upload limits."""
    return sarif_report(result).text


def sarif_report(
    result: RunResult, *, max_results: int = MAX_RESULTS, max_gzip_bytes: int = MAX_GZIP_BYTES
) -> SarifReport:
    """Render ``result``, keeping at most ``max_results`` results and at most
    ``max_gzip_bytes`` bytes gzip-compressed (the most severe findings are kept first).

    Deterministic: the same result gives the same text. Every text is masked first
    (:func:`tokyo_cli.safety.masking.mask_data`, the one secret detector).
    """
    result = mask_data(result)
    findings = sorted(result.findings, key=rank_key)
    total = len(findings)
    keep = min(total, max_results)
    reason = "GitHub accepts at most 25,000 results per run" if keep < total else None
    while True:
        doc = _document(result, findings[:keep], total, reason)
        text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
        size = len(gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0))
        if size <= max_gzip_bytes or keep == 0:
            return SarifReport(text, total, keep, size, _truncation_text(keep, total, reason))
        # Shrink in proportion to the overshoot, with a margin, so this converges quickly.
        keep = min(keep - 1, int(keep * max_gzip_bytes / size * 0.95))
        keep = max(keep, 0)
        reason = "GitHub accepts at most 10 MB of gzip-compressed SARIF"


def _truncation_text(kept: int, total: int, reason: str | None) -> str | None:
    if kept >= total or reason is None:
        return None
    return (
        f"SARIF truncated: {kept} of {total} results kept, the most severe first "
        f"({reason}); the full list is in the Markdown and JSON reports and in history."
    )


def _document(result: RunResult, findings: list[Finding], total: int, reason: str | None) -> dict[str, Any]:
    names = agent_names(result)
    rules: dict[str, dict[str, Any]] = {}
    index: dict[str, int] = {}
    worst: dict[str, Severity] = {}
    results = []
    for f in findings:
        rule_id = rule_id_for(f)
        if rule_id not in rules:
            rules[rule_id] = _rule(rule_id, f, names)
            index[rule_id] = len(index)
            worst[rule_id] = f.severity
        elif f.severity.rank > worst[rule_id].rank:
            worst[rule_id] = f.severity
        tags = rules[rule_id]["properties"]["tags"]
        for tag in _security_tags(f):  # a rule carries every CWE of its results
            if tag not in tags and len(tags) < MAX_TAGS:
                tags.append(tag)
        results.append(_result(f, rule_id, index[rule_id]))
    rule_list = []
    for rule_id, rule in rules.items():
        sev = worst[rule_id]
        rule["defaultConfiguration"] = {"level": LEVELS[sev]}
        if "security" in rule["properties"]["tags"]:
            rule["properties"]["security-severity"] = SECURITY_SEVERITY[sev]
        rule_list.append(rule)
    truncation = _truncation_text(len(findings), total, reason)
    notes = [
        {"level": "error" if result.status == "failed" else "warning", "message": {"text": p}} for p in problems(result)
    ]
    if truncation:
        notes.append({"level": "warning", "message": {"text": truncation}})
    invocation: dict[str, Any] = {
        "executionSuccessful": result.status in ("completed", "partial"),
        "startTimeUtc": _utc(result.started_at),
    }
    if result.finished_at is not None:
        invocation["endTimeUtc"] = _utc(result.finished_at)
    if notes:
        invocation["toolExecutionNotifications"] = notes
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "tokyo",
                "fullName": "tokyo-cli: a team of AI code reviewers",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": rule_list,
            }
        },
        "automationDetails": {"id": f"tokyo/{_slug(result.workflow) or 'review'}/{_run_key(result)}"},
        "originalUriBaseIds": {SRCROOT: {"uri": _root_uri(result.repo)}},
        "invocations": [invocation],
        "results": results,
        "properties": {
            "tokyo": {
                "runId": result.run_id,
                "status": result.status,
                "target": result.target_description,
                "baseSha": result.base_sha,
                "headSha": result.head_sha,
                "workflow": result.workflow,
                "costUsd": None if result.cost_usd is None else round(result.cost_usd, 6),
                "findings": total,
                "truncated": None if truncation is None else {"kept": len(findings), "total": total, "reason": reason},
                "uid": result.uid,
                "targetKind": result.target,
                "failOn": result.fail_on.value,
                "shard": result.shard.model_dump() if result.shard else None,
                "merged": result.merged.model_dump() if result.merged else None,
            }
        },
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def rule_id_for(f: Finding) -> str:
    """The SARIF ``ruleId`` of a finding: the analyzer rule (``bandit:B602``), else
    ``<agent>/<category slug>`` (``akira/security``, ``kenji/general``)."""
    if f.rule:
        return f.rule
    return f"{f.agent}/{_slug(f.category) or 'general'}"


def _rule(rule_id: str, f: Finding, names: dict[str, str]) -> dict[str, Any]:
    who = names.get(f.agent, f.agent)
    if f.rule:
        tool = f.rule.split(":", 1)[0]
        short = clean_text(f.title).strip() or rule_id
        help_text = f"Reported by the {tool} analyzer (run by {who}). {short}"
    else:
        short = f"{who}: {f.category} findings"
        help_text = (
            f"Findings in the '{f.category}' category raised by {who}, a tokyo review "
            "agent. Each result's message explains the specific issue."
        )
    tags = ["tokyo", f.agent]
    category = _slug(f.category)
    if category and category not in tags:
        tags.append(category)
    return {
        "id": rule_id,
        "name": _rule_name(rule_id),
        "shortDescription": {"text": _cap(short, 1000)},
        "fullDescription": {"text": _cap(help_text, 1000)},
        "help": {"text": _cap(help_text, 1000)},
        "properties": {"tags": tags[:MAX_TAGS]},
    }


def is_security(f: Finding) -> bool:
    """A security finding: its category says so, or it names a CWE."""
    return "security" in f.category.lower() or bool(f.cwe)


def _security_tags(f: Finding) -> list[str]:
    """``["security", "external/cwe/cwe-89", ...]`` for a security finding, else ``[]``
    (GitHub's spelling of a CWE tag, see ``SECURITY_SEVERITY``)."""
    if not is_security(f):
        return []
    # dict.fromkeys: SARIF's tags are unique items, whatever list a finding was built with
    return list(dict.fromkeys(["security", *(f"external/cwe/cwe-{int(n)}" for n in f.cwe)]))[:MAX_TAGS]


def _result(f: Finding, rule_id: str, rule_index: int) -> dict[str, Any]:
    title = clean_text(f.title).strip()
    body = finding_body(f)  # without a first line that only repeats the title
    text = f"{title}\n\n{body}" if body else title
    # SARIF has no diff restriction: a finding off the changed lines keeps the line it names.
    region: dict[str, Any] = {"startLine": f.line or f.file_line or 1}
    if f.line and f.end_line and f.end_line > f.line:
        region["endLine"] = f.end_line
    location = {"physicalLocation": {"artifactLocation": _artifact(f.path), "region": region}}
    out: dict[str, Any] = {
        "ruleId": rule_id,
        "ruleIndex": rule_index,
        "level": LEVELS[f.severity],
        "message": {"text": _cap(text, MAX_MESSAGE_CHARS)},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
        "properties": {
            "severity": f.severity.value,
            "category": f.category,
            "agents": list(f.agents),
            "source": f.source,
            "status": f.status,
            "fileLevel": f.line is None and f.file_line is None,
            "onChangedLine": f.line is not None,
            "step": f.step,
            "corroborated": f.corroborated,
        },
    }
    if f.confidence is not None:
        out["properties"]["confidence"] = f.confidence
    tags = _security_tags(f)
    if tags:
        out["properties"]["tags"] = tags
        out["properties"]["security-severity"] = SECURITY_SEVERITY[f.severity]
    if f.members:  # a grouped finding (tokyo_cli.engine.grouping): every repeat is a related location
        out["properties"]["members"] = len(f.members)
        out["relatedLocations"] = [
            {
                "id": i,
                "physicalLocation": {"artifactLocation": _artifact(m.path), "region": {"startLine": m.line or 1}},
                "message": {"text": _cap(clean_text(m.title).strip() or rule_id, MAX_MESSAGE_CHARS)},
                # what tokyo merge needs to rebuild the member (tokyo_cli.report.reading)
                "properties": {"fingerprint": m.fingerprint, "severity": m.severity.value, "line": m.line},
            }
            for i, m in enumerate(f.members[:MAX_RELATED])
        ]
    if f.status == "dismissed":
        out["suppressions"] = [
            {"kind": "external", "status": "accepted", "justification": "dismissed in the tokyo findings ledger"}
        ]
    suggestion = clean_text(f.suggestion)
    if f.line and suggestion.strip():
        replacement = suggestion if suggestion.endswith("\n") else suggestion + "\n"
        out["fixes"] = [
            {
                "description": {"text": "Replacement suggested by the reviewer"},
                "artifactChanges": [
                    {
                        "artifactLocation": _artifact(f.path),
                        "replacements": [
                            {
                                "deletedRegion": {"startLine": f.line, "endLine": f.end_line or f.line},
                                "insertedContent": {"text": _cap(replacement, MAX_MESSAGE_CHARS)},
                            }
                        ],
                    }
                ],
            }
        ]
    return out


def _artifact(path: str) -> dict[str, str]:
    # Relative, percent-encoded URI reference (RFC 3986); "/" separators kept.
    return {"uri": quote(path, safe="/"), "uriBaseId": SRCROOT}


def _root_uri(repo: str) -> str:
    try:
        uri = Path(repo).resolve().as_uri()
    except ValueError:
        return "file:///"
    return uri if uri.endswith("/") else uri + "/"


def _run_key(result: RunResult) -> str:
    if result.run_id is not None:
        return f"run-{result.run_id}"
    return result.started_at.strftime("%Y%m%dT%H%M%SZ")


def _utc(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _slug(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-")


def _rule_name(rule_id: str) -> str:
    # SARIF suggests a Pascal-case identifier for reportingDescriptor.name.
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", rule_id) if part) or "Finding"


def _cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def empty_sarif(reason: str) -> str:
    """A valid SARIF 2.1.0 document with one run, no results and ``reason`` as a tool
    notification: what ``tokyo review --github`` writes for a pull request it skips (draft,
    closed, filtered), so a workflow's upload step has a file to upload and no job fails for
    a missing one. Validates against the SARIF 2.1.0 schema (tests/data)."""
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "tokyo",
                "fullName": "tokyo-cli: a team of AI code reviewers",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [],
            }
        },
        "automationDetails": {"id": "tokyo/review/skipped"},
        "invocations": [
            {
                "executionSuccessful": True,
                "toolExecutionNotifications": [{"level": "note", "message": {"text": reason}}],
            }
        ],
        "results": [],
    }
    return json.dumps({"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}, indent=2) + "\n"
