"""The JSON report: one stable, documented object for scripts and CI (``--format json``).

Shape (version 1; keys always present and always in this order; ``null`` where unknown)::

    {
      "version": 1,
      "run": {
        "id": int | null,                 # history run id, null when not saved
        "repo": str,                      # repository root path
        "target": "staged" | "working" | "range" | "all",
        "target_description": str,        # e.g. "main...HEAD (3 commits, merge-base 1a2b3c4)"
        "target_chosen_by_default": bool, # no target flag was given
        "base_sha": str | null, "head_sha": str | null,
        "workflow": str, "workflow_hash": str,   # sha256 hex of the workflow file
        "status": "completed" | "partial" | "failed" | "cancelled" | "running",
        "started_at": str, "finished_at": str | null,   # ISO 8601
        "seconds": float,                 # wall time
        "fail_on": "critical" | "high" | "medium" | "low" | "info",
        "block_on": "all" | "verified" | "corroborated",   # which findings fail_on counts
        "min_severity": str,              # display threshold of terminal/Markdown/GitHub
                                          # (this report lists every finding regardless)
        "offline": bool,
        "complete": bool,                 # every step succeeded in full, every changed
                                          # file was reviewed or benignly skipped, and every
                                          # analyzer analyzed every file it was given
        "caveats": [str],                 # why not complete, e.g. "1 step failed"
        "notices": [str],                 # facts to show: cache hits, cost cap, --since-last
        "branch": str | null,
        "error": str | null,
        "exit_code": int,                 # README "Exit codes": 0 clean, 1 blocking findings
                                          # (partial runs too), 3 nothing usable, 4 not saved,
                                          # 130 cancelled
        "store_error": str | null,        # why the run was not saved to history (exit code 4)
        "uid": str,                       # the run's identity in every database (32 hex)
        "shard": null | {                 # set by tokyo review --shard I/N
          "index": int, "count": int,     # shard I (1-based) of N
          "change": str,                  # the change's id: equal in the N shard outputs
          "files": int, "total_files": int,   # files of this shard, of the whole change
          "group_repeats": int, "group_files": int   # grouping tokyo merge applies
        },
        "merged": null | {                # set by tokyo merge
          "shards": int, "change": str, "present": [int], "missing": [int],
          "failed": [int], "sources": [str]   # sources: the merged runs' uids
        }
      },
      "totals": {
        "findings": int,
        "by_severity": {"critical": int, "high": int, "medium": int, "low": int, "info": int},
        "blocking": int,                  # findings at or above fail_on (that block_on counts)
        "rejected": int,                  # findings a verify step rejected (not in "findings")
        "dropped": int,                   # model findings that could not be anchored
        "suppressed": int,                # findings left out: dismissed in the findings ledger
        "calls": int,
        "failed_calls": int,              # calls that errored or returned invalid output
                                          # (one the repair retry fixed counts too)
        "tokens_in": int, "tokens_out": int,
        "cost_usd": float | null          # null when no call had a known price
      },
      "steps": [{
        "id": str, "agent": str, "agent_name": str, "task": "review" | "synthesize" | "verify",
        "status": "ok" | "partial" | "offline" | "failed" | "skipped" | "pending" | "running",
        "model": str | null,              # the model that answered; null when offline
        "configured_model": str | null, "credential_env": [str],
        "offline_note": str | null,       # "Akira ran without a model — set ... to give it ..."
        "files": [str],
        "findings": int, "by_severity": {...}, "dropped": int,
        "calls": [{"model", "provider", "tokens_in", "tokens_out", "cost_usd", "latency_s",
                   "attempts", "status", "error", "cache_hit"}],
        "tokens_in": int, "tokens_out": int, "cost_usd": float | null,
        "analyzers": [{"name", "findings", "error", "seconds",
                       "not_analyzed": [{"path": str, "reason": str}]}],
                                          # files it could not analyze, e.g. reason "syntax not
                                          # supported by Python 3.11 (line 2: ...)", "timed out
                                          # (after 60 s)", "tool unavailable (...)"
        "not_reviewed": {path: reason},   # this step's files left unreviewed: budget, ...
        "summary": str, "error": str | null, "seconds": float
      }],
      "files": [{
        "path": str, "old_path": str | null,
        "status": "added" | "modified" | "deleted" | "renamed",
        "added": int, "removed": int,
        "reviewed": bool,
        "reviewed_by": [str],             # agents that reviewed the whole file
        "reason": str | null              # why not reviewed: binary, too large, excluded,
                                          # review failed, no agent covers it, ...
      }],
      "findings": [{                      # merged; security and correctness first, then
                                          # severity, confidence, agents, path, line
        "fingerprint": str, "path": str, "line": int | null, "end_line": int | null,
        "location": str, "severity": str, "category": str, "title": str, "body": str,
        "suggestion": str | null, "confidence": float | null, "rule": str | null,
        "agent": str, "agents": [str], "step": str, "source": "model" | "analyzer" | "synthesis",
        "status": str,
        "verification": "verified" | "corrected" | "rejected" | "unverified" | null,
        "verification_reason": str | null, "verified_by": str | null,   # a verify step's verdict
        "patch": str | null,              # a fix step's checked unified diff
        "members": [{"fingerprint", "path", "line", "title", "severity"}],
                                          # a grouped finding: every repeat it stands for
        "cwe": [int],                     # CWE ids (89 = CWE-89); [] when none is known
        "file_line": int | null,          # line named off the changed lines (line is null)
        "corroborated": bool              # a model confirmed this analyzer finding
      }],
      "rejected": [{...}],                # findings a verify step rejected, same shape
      "walkthrough": {                    # null unless a describe step ran
        "title": str, "description": str, "overview": str, "source": "model" | "offline",
        "agent": str | null, "added": int, "removed": int, "risk_areas": [str],
        "tests_touched": [str],
        "files": [{"path", "old_path", "status", "added", "removed", "language", "test",
                   "skipped", "summary"}]
      } | null,
      "summary": str
    }

Costs are USD rounded to 6 decimals, seconds rounded to 3. Strings are emitted as given
(JSON escaping makes them safe); consumers rendering them as HTML must escape them.
"""

from __future__ import annotations

import json
from typing import Any

from tokyo_cli.findings import Finding
from tokyo_cli.policy import rank_key
from tokyo_cli.report import (
    caveats,
    count_by_severity,
    failed_calls,
    not_reviewed,
    offline_note,
)
from tokyo_cli.report.walkthrough import walkthrough_dict
from tokyo_cli.results import CallRecord, RunResult, StepResult
from tokyo_cli.safety.masking import mask_data

JSON_VERSION = 1


def render_json(result: RunResult, *, store_error: str | None = None) -> str:
    """``result`` as the version-1 JSON document described in the module docstring;
    ``store_error`` is why the run could not be saved to history (``None``: it was, or it
    is a stored run shown again).

    Deterministic: same result, same bytes (fixed key order, findings sorted, 2-space indent,
    non-ASCII kept as UTF-8). Ends with a newline.
    """
    return json.dumps(report_dict(result, store_error=store_error), indent=2, ensure_ascii=False) + "\n"


def report_dict(result: RunResult, *, store_error: str | None = None) -> dict[str, Any]:
    """The same document as a dict (for callers that embed it, e.g. a GitHub step output).
    Every text is masked first (:func:`tokyo_cli.safety.masking.mask_data`, the one secret detector)."""
    result = mask_data(result)
    why = caveats(result)
    missing = {n.path: n.reason for n in not_reviewed(result)}
    return {
        "version": JSON_VERSION,
        "run": {
            "id": result.run_id,
            "repo": result.repo,
            "target": result.target,
            "target_description": result.target_description,
            "target_chosen_by_default": result.target_chosen_by_default,
            "base_sha": result.base_sha,
            "head_sha": result.head_sha,
            "workflow": result.workflow,
            "workflow_hash": result.workflow_hash,
            "status": result.status,
            "started_at": result.started_at.isoformat(),
            "finished_at": result.finished_at.isoformat() if result.finished_at else None,
            "seconds": round(result.seconds, 3),
            "fail_on": result.fail_on.value,
            "block_on": result.block_on,
            "min_severity": result.min_severity.value,
            "offline": result.offline,
            "complete": not why,
            "caveats": why,
            "notices": list(result.notices),
            "branch": result.branch,
            "error": result.error,
            "exit_code": result.exit_code(saved=store_error is None),
            "store_error": store_error,
            "uid": result.uid,
            "shard": result.shard.model_dump() if result.shard else None,
            "merged": result.merged.model_dump() if result.merged else None,
        },
        "totals": {
            "findings": len(result.findings),
            "by_severity": count_by_severity(result.findings),
            "blocking": len(result.blocking()),
            "rejected": len(result.rejected),
            "dropped": sum(s.dropped_findings for s in result.steps),
            "suppressed": result.suppressed,
            "calls": len(result.calls),
            "failed_calls": sum(failed_calls(s) for s in result.steps),
            "tokens_in": result.tokens_in,
            "tokens_out": result.tokens_out,
            "cost_usd": _usd(result.cost_usd),
        },
        "steps": [_step(s) for s in result.steps],
        "files": [
            {
                "path": f.path,
                "old_path": f.old_path,
                "status": f.status,
                "added": f.added,
                "removed": f.removed,
                "reviewed": f.path not in missing,
                "reviewed_by": list(f.reviewed_by),
                "reason": missing.get(f.path),
            }
            for f in result.files
        ],
        "findings": [_finding(f) for f in sorted(result.findings, key=rank_key)],
        "rejected": [_finding(f) for f in sorted(result.rejected, key=rank_key)],
        "walkthrough": walkthrough_dict(result.walkthrough) if result.walkthrough is not None else None,
        "summary": result.summary,
    }


def _usd(cost: float | None) -> float | None:
    return None if cost is None else round(cost, 6)


def _step(s: StepResult) -> dict[str, Any]:
    return {
        "id": s.step_id,
        "agent": s.agent,
        "agent_name": s.agent_name,
        "task": s.task,
        "status": s.status,
        "model": s.model,
        "configured_model": s.configured_model,
        "credential_env": list(s.credential_env),
        "offline_note": offline_note(s),
        "files": list(s.files),
        "findings": len(s.findings),
        "by_severity": count_by_severity(s.findings),
        "dropped": s.dropped_findings,
        "calls": [_call(c) for c in s.calls],
        "tokens_in": s.tokens_in,
        "tokens_out": s.tokens_out,
        "cost_usd": _usd(s.cost_usd),
        "analyzers": [
            {
                "name": a.name,
                "findings": a.findings,
                "error": a.error,
                "seconds": round(a.seconds, 3),
                "not_analyzed": [{"path": p, "reason": r} for p, r in a.not_analyzed.items()],
            }
            for a in s.analyzers
        ],
        "not_reviewed": dict(s.not_reviewed),
        "summary": s.summary,
        "error": s.error,
        "seconds": round(s.seconds, 3),
    }


def _call(c: CallRecord) -> dict[str, Any]:
    return {
        "model": c.model,
        "provider": c.provider,
        "tokens_in": c.tokens_in,
        "tokens_out": c.tokens_out,
        "cost_usd": _usd(c.cost_usd),
        "latency_s": round(c.latency_s, 3),
        "attempts": c.attempts,
        "status": c.status,
        "error": c.error,
        "cache_hit": c.cache_hit,
    }


def _finding(f: Finding) -> dict[str, Any]:
    return {
        "fingerprint": f.fingerprint,
        "path": f.path,
        "line": f.line,
        "end_line": f.end_line,
        "location": f.location,
        "severity": f.severity.value,
        "category": f.category,
        "title": f.title,
        "body": f.body,
        "suggestion": f.suggestion,
        "confidence": f.confidence,
        "rule": f.rule,
        "agent": f.agent,
        "agents": list(f.agents),
        "step": f.step,
        "source": f.source,
        "status": f.status,
        "verification": f.verification,
        "verification_reason": f.verification_reason,
        "verified_by": f.verified_by,
        "patch": f.patch,
        "members": [m.model_dump(mode="json") for m in f.members],
        "cwe": list(f.cwe),
        "file_line": f.file_line,
        "corroborated": f.corroborated,
    }
