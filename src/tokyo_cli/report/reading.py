"""tokyo's own reports read back into a :class:`~tokyo_cli.results.RunResult` (``tokyo merge``).

Two formats:

* the JSON report (:mod:`tokyo_cli.report.jsonout`, version 1): lossless for what a merge
  needs — the run and its shard, every step with its calls, analyzers and unreviewed files,
  every file with its coverage, every finding;
* SARIF 2.1.0 as tokyo writes it (:mod:`tokyo_cli.report.sarif`): the run's identity and shard
  (``runs[0].properties.tokyo``) and its findings (each result's ``tokyoFingerprint/v1``,
  properties, location, message, CWE tags and fix). Steps, calls and the file list are not in
  SARIF: a run read from it has none, and its totals are its findings only.

The files are untrusted input (a CI artifact anyone with write access to a branch can
shape): they are parsed as data, validated field by field (pydantic), never followed to
anything on disk, and every text is masked again before anything is shown or stored. A file
that is not one of these documents, or is cut short, raises one ``ConfigError`` line naming
the file and what is wrong, never a traceback.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tokyo_cli.errors import ConfigError
from tokyo_cli.findings import Finding, GroupMember, Severity
from tokyo_cli.report.sarif import FINGERPRINT_KEY
from tokyo_cli.results import (
    AnalyzerNote,
    CallRecord,
    FileEntry,
    MergeInfo,
    RunResult,
    ShardInfo,
    StepResult,
    Walkthrough,
)
from tokyo_cli.safety.masking import mask_data

MAX_REPORT_BYTES = 1 << 30
"""A report larger than this (1 GiB) is refused rather than read into memory."""


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _JsonRun(_Loose):
    uid: str = ""
    repo: str
    target: str
    target_description: str = ""
    target_chosen_by_default: bool = False
    base_sha: str | None = None
    head_sha: str | None = None
    workflow: str
    workflow_hash: str = ""
    status: str
    started_at: datetime
    finished_at: datetime | None = None
    fail_on: Severity
    block_on: Literal["all", "verified", "corroborated"] = "all"
    min_severity: Severity = Severity.LOW
    offline: bool = False
    notices: list[str] = Field(default_factory=list)
    branch: str | None = None
    error: str | None = None
    shard: ShardInfo | None = None
    merged: MergeInfo | None = None


class _JsonAnalyzer(_Loose):
    name: str
    findings: int = 0
    error: str | None = None
    seconds: float = 0.0
    not_analyzed: list[dict[str, str]] = Field(default_factory=list)


class _JsonStep(_Loose):
    id: str
    agent: str
    agent_name: str = ""
    task: str = "review"
    status: str
    model: str | None = None
    configured_model: str | None = None
    credential_env: list[str] = Field(default_factory=list)
    files: list[str] = Field(default_factory=list)
    dropped: int = 0
    calls: list[dict[str, Any]] = Field(default_factory=list)
    analyzers: list[_JsonAnalyzer] = Field(default_factory=list)
    not_reviewed: dict[str, str] = Field(default_factory=dict)
    summary: str = ""
    error: str | None = None
    seconds: float = 0.0


class _JsonFile(_Loose):
    path: str
    old_path: str | None = None
    status: str
    added: int = 0
    removed: int = 0
    reviewed: bool = True
    reviewed_by: list[str] = Field(default_factory=list)
    reason: str | None = None


class _JsonReport(_Loose):
    version: int
    run: _JsonRun
    totals: dict[str, Any] = Field(default_factory=dict)
    steps: list[_JsonStep] = Field(default_factory=list)
    files: list[_JsonFile] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    rejected: list[Finding] = Field(default_factory=list)
    walkthrough: Walkthrough | None = None
    summary: str = ""


def read_report(path: Path) -> RunResult:
    """The run a tokyo JSON or SARIF report at ``path`` describes (format from its content).

    Raises:
        ConfigError: unreadable, too large, truncated or malformed JSON, or a JSON document
            that is neither tokyo's JSON report nor tokyo's SARIF (exit code 2).
    """
    try:
        size = path.stat().st_size
        if size > MAX_REPORT_BYTES:
            raise ConfigError(f"{path}: {size:,} bytes is more than a report can be ({MAX_REPORT_BYTES:,})")
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text, so not a tokyo JSON or SARIF report") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        cut = " (truncated?)" if exc.pos >= len(text.rstrip()) else ""
        raise ConfigError(f"{path}: malformed JSON{cut}: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if isinstance(doc, dict) and "runs" in doc and "version" in doc and str(doc.get("version")) == "2.1.0":
        return mask_data(_from_sarif(path, doc))
    if isinstance(doc, dict) and isinstance(doc.get("run"), dict) and "findings" in doc:
        return mask_data(_from_json(path, doc))
    raise ConfigError(f"{path}: neither a tokyo JSON report (--format json) nor tokyo SARIF (--format sarif)")


def _invalid(path: Path, what: str, exc: ValidationError) -> ConfigError:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ())) or "document"
    return ConfigError(f"{path}: not a valid {what}: {where}: {first.get('msg', 'invalid')}")


def _from_json(path: Path, doc: dict[str, Any]) -> RunResult:
    try:
        report = _JsonReport.model_validate(doc)
    except ValidationError as exc:
        raise _invalid(path, "tokyo JSON report", exc) from None
    if report.version != 1:
        raise ConfigError(f"{path}: JSON report version {report.version}; this tokyo reads version 1")
    run = report.run
    steps = [
        StepResult(
            step_id=s.id,
            agent=s.agent,
            agent_name=s.agent_name or s.agent,
            task="synthesize" if s.task == "synthesize" else "review",
            status=s.status if s.status in _STEP_STATUSES else "failed",  # type: ignore[arg-type]
            model=s.model,
            configured_model=s.configured_model,
            credential_env=s.credential_env,
            files=s.files,
            dropped_findings=s.dropped,
            not_reviewed=s.not_reviewed,
            summary=s.summary,
            error=s.error,
            seconds=s.seconds,
            calls=[_call(path, s, c) for c in s.calls],
            analyzers=[
                AnalyzerNote(
                    name=a.name,
                    findings=a.findings,
                    error=a.error,
                    seconds=a.seconds,
                    not_analyzed={n.get("path", ""): n.get("reason", "") for n in a.not_analyzed},
                )
                for a in s.analyzers
            ],
        )
        for s in report.steps
    ]
    files = [
        FileEntry(
            path=f.path,
            old_path=f.old_path,
            status=f.status,
            added=f.added,
            removed=f.removed,
            skipped=None if f.reviewed else (f.reason or "not reviewed"),
            reviewed_by=f.reviewed_by,
        )
        for f in report.files
    ]
    return RunResult(
        uid=run.uid,
        repo=run.repo,
        target=run.target,
        target_description=run.target_description,
        target_chosen_by_default=run.target_chosen_by_default,
        base_sha=run.base_sha,
        head_sha=run.head_sha,
        workflow=run.workflow,
        workflow_hash=run.workflow_hash,
        fail_on=run.fail_on,
        min_severity=run.min_severity,
        status=run.status if run.status in _RUN_STATUSES else "failed",  # type: ignore[arg-type]
        started_at=run.started_at,
        finished_at=run.finished_at,
        files=files,
        steps=steps,
        findings=report.findings,
        rejected=report.rejected,
        walkthrough=report.walkthrough,
        block_on=run.block_on,
        suppressed=int(report.totals.get("suppressed") or 0),
        summary=report.summary,
        error=run.error,
        offline=run.offline,
        branch=run.branch,
        notices=run.notices,
        shard=run.shard,
        merged=run.merged,
    )


def _call(path: Path, step: _JsonStep, call: dict[str, Any]) -> CallRecord:
    fields = {k: v for k, v in call.items() if k in CallRecord.model_fields and k not in ("step_id", "agent")}
    try:
        return CallRecord(step_id=step.id, agent=step.agent, **fields)
    except ValidationError as exc:
        raise _invalid(path, f"tokyo JSON report (a call of step {step.id[:64]!r})", exc) from None


_RUN_STATUSES = ("running", "completed", "partial", "failed", "cancelled")
_STEP_STATUSES = ("pending", "running", "ok", "partial", "offline", "failed", "skipped")


class _SarifTokyo(_Loose):
    uid: str = ""
    status: str = "completed"
    target: str = ""
    targetKind: str = "all"  # noqa: N815 - SARIF property names are camelCase
    baseSha: str | None = None  # noqa: N815
    headSha: str | None = None  # noqa: N815
    workflow: str = "review"
    failOn: Severity = Severity.HIGH  # noqa: N815
    shard: ShardInfo | None = None
    merged: MergeInfo | None = None


def _from_sarif(path: Path, doc: dict[str, Any]) -> RunResult:
    runs = doc.get("runs")
    if not isinstance(runs, list) or len(runs) != 1 or not isinstance(runs[0], dict):
        raise ConfigError(f"{path}: tokyo writes SARIF with exactly one run; this file has another shape")
    run = runs[0]
    driver = ((run.get("tool") or {}).get("driver") or {}) if isinstance(run.get("tool"), dict) else {}
    if not isinstance(driver, dict) or driver.get("name") != "tokyo":
        raise ConfigError(f"{path}: SARIF from another tool ({str(driver.get('name'))[:40]!r}); tokyo merges its own")
    try:
        props = _SarifTokyo.model_validate(((run.get("properties") or {}).get("tokyo")) or {})
    except (ValidationError, AttributeError) as exc:
        if isinstance(exc, ValidationError):
            raise _invalid(path, "tokyo SARIF run", exc) from None
        raise ConfigError(f"{path}: runs[0].properties is not an object") from None
    invocation = (run.get("invocations") or [{}])[0] if isinstance(run.get("invocations"), list) else {}
    started = _time(invocation.get("startTimeUtc")) if isinstance(invocation, dict) else None
    finished = _time(invocation.get("endTimeUtc")) if isinstance(invocation, dict) else None
    results = run.get("results") or []
    if not isinstance(results, list):
        raise ConfigError(f"{path}: runs[0].results is not a list")
    findings = [_sarif_finding(path, i, r) for i, r in enumerate(results)]
    status = props.status if props.status in _RUN_STATUSES else "failed"
    return RunResult(
        uid=props.uid,
        repo=_root(run),
        target=props.targetKind,
        target_description=props.target,
        base_sha=props.baseSha,
        head_sha=props.headSha,
        workflow=props.workflow,
        fail_on=props.failOn,
        status=status,  # type: ignore[arg-type]
        started_at=started or datetime.now(UTC),
        finished_at=finished,
        findings=findings,
        shard=props.shard,
        merged=props.merged,
    )


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _root(run: dict[str, Any]) -> str:
    base = (
        (run.get("originalUriBaseIds") or {}).get("%SRCROOT%")
        if isinstance(run.get("originalUriBaseIds"), dict)
        else None
    )
    uri = base.get("uri") if isinstance(base, dict) else None
    if isinstance(uri, str) and uri.startswith("file://"):
        return unquote(uri[len("file://") :]).rstrip("/") or "/"
    return ""


class _SarifProps(_Loose):
    severity: Severity
    category: str = "general"
    agents: list[str] = Field(min_length=1)
    source: str = "model"
    status: str = "open"
    confidence: float | None = None
    fileLevel: bool = False  # noqa: N815
    onChangedLine: bool = False  # noqa: N815
    step: str = ""
    corroborated: bool = False
    tags: list[str] = Field(default_factory=list)


def _sarif_finding(path: Path, index: int, result: object) -> Finding:
    where = f"{path}: runs[0].results[{index}]"
    if not isinstance(result, dict):
        raise ConfigError(f"{where} is not an object")
    try:
        props = _SarifProps.model_validate(result.get("properties") or {})
        location = result["locations"][0]["physicalLocation"]
        uri = location["artifactLocation"]["uri"]
        region = location.get("region") or {}
        start = int(region.get("startLine") or 1)
        end = region.get("endLine")
        text = str(result["message"]["text"])
        fingerprint = str(result["partialFingerprints"][FINGERPRINT_KEY])
    except ValidationError as exc:
        raise _invalid(Path(where), "tokyo SARIF result", exc) from None
    except (KeyError, IndexError, TypeError, ValueError):
        raise ConfigError(f"{where} lacks a tokyo location, message or fingerprint") from None
    title, _, body = text.partition("\n\n")
    rule = str(result.get("ruleId") or "") if props.source == "analyzer" else None
    cwe = [
        int(t.rsplit("-", 1)[1])
        for t in props.tags
        if t.startswith("external/cwe/cwe-") and t.rsplit("-", 1)[1].isdigit()
    ]
    line = start if props.onChangedLine else None
    members = []
    for related in result.get("relatedLocations") or []:
        try:
            loc = related["physicalLocation"]
            extra = related.get("properties") or {}
            members.append(
                GroupMember(
                    fingerprint=str(extra.get("fingerprint", "")),
                    path=unquote(loc["artifactLocation"]["uri"]),
                    line=extra.get("line"),
                    title=str(related["message"]["text"]),
                    severity=Severity(extra.get("severity", props.severity.value)),
                )
            )
        except (KeyError, TypeError, ValueError, ValidationError):
            raise ConfigError(f"{where}: a related location is not tokyo's") from None
    suggestion = None
    try:
        suggestion = result["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"]["text"]
    except (KeyError, IndexError, TypeError):
        pass
    status = props.status if props.status in ("open", "accepted", "dismissed") else "open"
    try:
        return Finding(
            path=unquote(str(uri)),
            line=line,
            end_line=int(end) if line and isinstance(end, int) else None,
            file_line=None if line or props.fileLevel else start,
            severity=props.severity,
            category=props.category,
            title=title,
            body=body,
            suggestion=suggestion if isinstance(suggestion, str) else None,
            confidence=props.confidence,
            agent=props.agents[0],
            agents=props.agents,
            step=props.step,
            source=props.source if props.source in ("model", "analyzer", "synthesis") else "model",  # type: ignore[arg-type]
            rule=rule or None,
            fingerprint=fingerprint,
            status=status,
            corroborated=props.corroborated,
            members=members,
            cwe=cwe,
        )
    except ValidationError as exc:
        raise _invalid(Path(where), "tokyo SARIF result", exc) from None


__all__ = ["MAX_REPORT_BYTES", "read_report"]
