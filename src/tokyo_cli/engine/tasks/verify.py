"""``task: verify``: cross-examination — an agent judges each upstream finding against its code.

The findings of the steps a verify step depends on (merged; with ``min_severity``, only those
at or above it) are shown to the step's agent — usually another model than the one that raised
them — one call per file, all concurrent, each with the code around its findings: the
enclosing function or class (Python, found with :mod:`ast`; never imported or run) or a window
of :data:`WINDOW_LINES` lines each side, cut at :data:`MAX_REGION_LINES`. The code comes from
the changeset, i.e. from the same source the review read (the head blob of a range or
``--github`` review, the index for ``--staged``, the working tree through :mod:`tokyo_cli.safety.safefs`
otherwise); a symlink is never read. The reply (:class:`VerifyOutput`, validated with pydantic,
one repair retry in :mod:`tokyo_cli.engine.calls`)::

    {"verdicts": [{"id": "V1", "verdict": "keep" | "correct" | "reject", "reason": str,
                   "severity"?: str, "title"?: str, "line"?: int}],
     "summary": str}

:func:`judge` turns verdicts into :class:`Judgement` s and :func:`apply_judgements` applies
them to findings (by fingerprint):

* ``keep`` -> ``verification = "verified"``;
* ``correct`` with a reason -> ``"corrected"`` with the verifier's severity, title and line
  (a line only when it is an anchor of the change; the fingerprint stays, so history and the
  ledger still track the finding);
* ``reject`` with a reason -> ``"rejected"``: the finding leaves the run's findings (and every
  count), and is kept in history and shown separately with the reason;
* no usable verdict (a reject or correct without a reason, a failed call, offline) ->
  ``"unverified"``, which ``block_on`` still counts: a verifier that fails never lets a finding
  pass. A secret finding (``detect-secrets:*``) cannot be rejected: the verifier only sees the
  value masked.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tokyo_cli.analyzers.evidence import UNDISMISSABLE_PREFIXES
from tokyo_cli.config.team import AgentSpec
from tokyo_cli.engine.prompts import delimit, task_messages
from tokyo_cli.findings import (
    Finding,
    MaskedReply,
    Severity,
    Verification,
    cut_text,
    lenient_list,
    optional_severity,
)
from tokyo_cli.git.diff import split_lines
from tokyo_cli.policy import apply_policy
from tokyo_cli.safety.masking import mask_secrets

if TYPE_CHECKING:
    from tokyo_cli.git.repo import Changeset

WINDOW_LINES = 30
"""Lines of context each side of a finding when no enclosing function is found."""
MAX_REGION_LINES = 200
"""A function longer than this is shown as a window instead (tokens, and focus)."""
MAX_VERDICTS = 500

VERIFY_CONTRACT = """\
Reply with ONE JSON object and nothing else, in exactly this shape:
{"verdicts": [{"id": "V1", "verdict": "keep", "reason": "why, in one or two sentences"},
              {"id": "V2", "verdict": "correct", "reason": "...", "severity": "medium",
               "title": "Corrected title", "line": 42},
              {"id": "V3", "verdict": "reject", "reason": "why it is a false positive"}],
 "summary": "One or two sentences on how many findings held up."}
Rules:
- Give exactly one verdict for every id listed.
- keep: the finding is real and correctly described.
- correct: the finding is real but its severity, title or line is wrong; give the corrected
  fields (severity is one of critical, high, medium, low, info; line is a new-file line number
  shown at the left of the code) and the reason.
- reject: the finding is a false positive in this code; the reason must say why (for example:
  the value is a constant, the input is validated on line N, the code path cannot run).
- Judge from the code shown. When the code does not settle it, keep the finding.
"""

VERIFY_TASK = """\
You are cross-examining findings that other reviewers raised on a change. For each finding
below (ids V1..Vn), read the code around it and decide whether it is real: keep it, correct
it, or reject it as a false positive, with a reason. Do not raise new findings.
"""

_VERDICT_ALIASES = {
    "keep": "keep",
    "kept": "keep",
    "verified": "keep",
    "verify": "keep",
    "confirm": "keep",
    "confirmed": "keep",
    "real": "keep",
    "correct": "correct",
    "corrected": "correct",
    "refine": "correct",
    "refined": "correct",
    "reject": "reject",
    "rejected": "reject",
    "dismiss": "reject",
    "dismissed": "reject",
    "false_positive": "reject",
    "false positive": "reject",
}


class VerifyVerdict(BaseModel):
    """A verifier's verdict on one finding it was shown (id ``V1``...)."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=20)
    verdict: Literal["keep", "correct", "reject"]
    reason: str = Field(default="", max_length=2_000)
    severity: Severity | None = None
    title: str | None = Field(default=None, max_length=300)
    line: int | None = Field(default=None, ge=1)

    @field_validator("verdict", mode="before")
    @classmethod
    def _verdict(cls, v: object) -> object:
        return _VERDICT_ALIASES.get(v.strip().lower(), v) if isinstance(v, str) else v

    @field_validator("severity", mode="before")
    @classmethod
    def _severity(cls, v: object) -> object:
        return optional_severity(v)

    @field_validator("reason", "title", mode="before")
    @classmethod
    def _truncate(cls, v: object, info: object) -> object:
        return cut_text(v, 300 if getattr(info, "field_name", "") == "title" else 2_000)


class VerifyOutput(MaskedReply):
    """The JSON object a verify call returns. A malformed verdict costs only itself."""

    verdicts: list[VerifyVerdict] = Field(default_factory=list)
    summary: str = Field(default="", max_length=20_000)

    @field_validator("verdicts", mode="before")
    @classmethod
    def _verdicts(cls, v: object) -> object:
        if not isinstance(v, list):  # not a verdict list at all: the reply is unusable (repair)
            raise ValueError("verdicts must be a list")
        return lenient_list(VerifyVerdict, v, MAX_VERDICTS)

    @field_validator("summary", mode="before")
    @classmethod
    def _summary(cls, v: object) -> object:
        return cut_text(v, 20_000)


@dataclass(frozen=True)
class Judgement:
    """What a verify step decided about one finding (applied by :func:`apply_judgements`)."""

    verification: Verification
    verifier: str
    reason: str | None = None
    severity: Severity | None = None
    title: str | None = None
    line: int | None = None


def eligible(findings: Iterable[Finding], min_severity: Severity | None) -> list[Finding]:
    """The findings a verify step judges: those at or above ``min_severity`` (all for None)."""
    return [f for f in findings if min_severity is None or f.severity.at_least(min_severity)]


def verify_ids(findings: Sequence[Finding]) -> dict[str, Finding]:
    """``{"V1": first, "V2": second, ...}`` in the order given (one numbering per step)."""
    return {f"V{i}": f for i, f in enumerate(findings, 1)}


def code_region(changes: Changeset, finding: Finding) -> tuple[int, int] | None:
    """``(first, last)`` 1-based new-file lines to show around ``finding``, or ``None`` when
    its file's text is not in the changeset (a file outside the change, binary, symlink...).

    The innermost Python function or class around the finding's line, when it has at most
    :data:`MAX_REGION_LINES` lines; else :data:`WINDOW_LINES` lines each side.
    """
    content = changes.new_content(finding.path)
    if content is None:
        return None
    total = len(split_lines(content))
    if total == 0:
        return None
    line = finding.line or finding.file_line or _first_changed(changes, finding.path) or 1
    line = min(max(line, 1), total)
    end_line = min(max(finding.end_line or line, line), total)
    scope = _python_scope(changes, finding.path, content, line) if finding.path.endswith((".py", ".pyi")) else None
    if scope is not None and scope[1] - scope[0] < MAX_REGION_LINES:
        return scope
    return max(1, line - WINDOW_LINES), min(total, end_line + WINDOW_LINES)


def _first_changed(changes: Changeset, path: str) -> int | None:
    change = changes.file(path)
    return min(change.added_lines) if change is not None and change.added_lines else None


def _python_scope(changes: Changeset, path: str, content: str, line: int) -> tuple[int, int] | None:
    """The innermost ``def``/``class`` (decorators included) containing ``line``; parsed once
    per file and kept in ``changes.memo``. ``None`` when the file does not parse."""
    from tokyo_cli.analyzers.common import parse_ast

    key = f"verify-scopes:{path}"
    scopes = changes.memo.get(key)
    if scopes is None:
        try:
            tree = parse_ast(content)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            tree = None
        scopes = (
            []
            if tree is None
            else [
                (min([n.lineno, *(d.lineno for d in n.decorator_list)]), n.end_lineno or n.lineno)
                for n in ast.walk(tree)
                if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            ]
        )
        changes.memo[key] = scopes
    around = [(a, b) for a, b in scopes if a <= line <= b]
    return min(around, key=lambda s: s[1] - s[0]) if around else None


def _render_region(lines: list[str], first: int, last: int) -> str:
    width = len(str(last))
    return "\n".join(f"{n:>{width}} | {lines[n - 1]}" for n in range(first, last + 1))


def verify_messages(
    agent: AgentSpec,
    path: str,
    items: Sequence[tuple[str, Finding]],
    changes: Changeset,
    *,
    target_description: str,
    step_instructions: str | None = None,
    repo_instructions: str | None = None,
) -> list[dict[str, str]]:
    """Messages for one verify call: the findings of ``path`` (``(id, finding)`` pairs) and the
    code regions around them (overlapping regions merged), masked and delimited as data.
    ``step_instructions`` are trusted (system message); ``repo_instructions`` are the
    repository's, delimited in the user message."""
    rows = [
        {
            "id": key,
            "location": f.location,
            "severity": f.severity.value,
            "category": f.category,
            "title": f.title,
            "body": f.body[:1500],
            "raised_by": f.agents,
            "rule": f.rule,
        }
        for key, f in items
    ]
    findings_text, _ = mask_secrets(json.dumps(rows, indent=1, ensure_ascii=False))
    content = changes.new_content(path)
    regions = sorted(r for _, f in items if (r := code_region(changes, f)) is not None)
    merged: list[list[int]] = []
    for first, last in regions:
        if merged and first <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], last)
        else:
            merged.append([first, last])
    if content is None or not merged:
        code = "(the code of this file is not part of the change: judge from the finding alone)"
    else:
        lines = split_lines(content)
        code = "\n...\n".join(_render_region(lines, a, b) for a, b in merged)
    code, _ = mask_secrets(code)
    user = [
        f"Change under review: {target_description}.",
        f"Findings to verify in {path}:",
        delimit(findings_text),
        f"The code of {path} around them (new version; the line number is at the left of each line):",
        delimit(code),
    ]
    return task_messages(
        agent,
        VERIFY_TASK,
        VERIFY_CONTRACT,
        user,
        step_instructions=step_instructions,
        repo_instructions=repo_instructions,
    )


def judge(
    ids: dict[str, Finding],
    outputs: Iterable[tuple[set[str], VerifyOutput]],
    verifier: str,
    changes: Changeset | None = None,
) -> dict[str, Judgement]:
    """Fingerprint -> :class:`Judgement` for every finding of ``ids``.

    ``outputs`` holds ``(ids shown to the call, its reply)`` for each successful call; a
    verdict counts only for an id its call was shown. Findings without a usable verdict are
    ``unverified`` (see the module docstring for the guards).
    """
    found: dict[str, Judgement] = {}
    for shown, output in outputs:
        for v in output.verdicts:
            key = v.id.strip().upper()
            target = ids.get(key)
            if target is None or key not in shown or target.fingerprint in found:
                continue
            found[target.fingerprint] = _judgement(v, target, verifier, changes)
    for f in ids.values():
        found.setdefault(f.fingerprint, Judgement("unverified", verifier, "no verdict from the verifier"))
    return found


def _judgement(v: VerifyVerdict, f: Finding, verifier: str, changes: Changeset | None) -> Judgement:
    reason = v.reason.strip() or None
    if v.verdict == "keep":
        return Judgement("verified", verifier, reason)
    if reason is None:
        return Judgement("unverified", verifier, f"the verifier's '{v.verdict}' gave no reason and was ignored")
    if v.verdict == "reject":
        if f.rule and f.rule.startswith(UNDISMISSABLE_PREFIXES):
            return Judgement(
                "unverified", verifier, f"a secret cannot be rejected: the verifier saw it masked (it said: {reason})"
            )
        return Judgement("rejected", verifier, reason)
    line = v.line if v.line is not None and changes is not None and changes.is_anchor(f.path, v.line) else None
    title = v.title.strip() if v.title and v.title.strip() else None
    return Judgement("corrected", verifier, reason, severity=v.severity, title=title, line=line)


def unverified(findings: Iterable[Finding], verifier: str, why: str) -> dict[str, Judgement]:
    """Every finding ``unverified`` with the same reason (offline, a failed call, budget)."""
    return {f.fingerprint: Judgement("unverified", verifier, why) for f in findings}


def apply_judgements(
    findings: Iterable[Finding], judgements: dict[str, Judgement], *, advisory: bool = False
) -> tuple[list[Finding], list[Finding]]:
    """Apply ``judgements`` by fingerprint; returns ``(kept, rejected)`` (copies where changed).

    ``advisory`` (a repository workflow's verify step, which may not weaken a review): a
    rejection is recorded as ``unverified`` with the verifier's reason, and the finding stays.
    A correction goes through the severity policy again (:func:`tokyo_cli.policy.apply_policy`).
    """
    kept: list[Finding] = []
    rejected: list[Finding] = []
    for f in findings:
        j = judgements.get(f.fingerprint)
        if j is None:
            kept.append(f)
            continue
        update: dict[str, object] = {
            "verification": j.verification,
            "verification_reason": j.reason,
            "verified_by": j.verifier,
        }
        if j.verification == "rejected" and advisory:
            update.update(
                verification="unverified",
                verification_reason=f"rejected, but a repository workflow's verify step is advisory: {j.reason}",
            )
        if j.verification == "corrected":
            if j.severity is not None:
                update["severity"] = j.severity
            if j.title:
                update["title"] = j.title
            if j.line is not None:
                update.update(line=j.line, end_line=None)
        copy = f.model_copy(update=update)
        if update["verification"] == "rejected":
            rejected.append(copy)
        else:
            kept.append(apply_policy(copy))
    return kept, rejected
