"""Findings: the one shape every agent and analyzer reports in, plus fingerprint and merge.

The model-facing JSON shape (every agent, every provider) is::

    {"findings": [{"path": str, "line": int, "end_line"?: int,
                   "severity": "critical"|"high"|"medium"|"low"|"info",
                   "category": str, "title": str, "body": str,
                   "suggestion"?: str, "confidence"?: float 0..1,
                   "cwe"?: int | str | [int | str]}],
     "summary": str}
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from enum import Enum
from typing import Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tokyo_cli.safety.masking import mask_data


class Severity(str, Enum):
    """Finding severity, ordered critical > high > medium > low > info (SARIF-like levels)."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """4 for critical down to 0 for info; higher is more severe."""
        return _RANK[self]

    def at_least(self, other: Severity) -> bool:
        """True when this severity is ``other`` or more severe."""
        return self.rank >= other.rank

    @classmethod
    def parse(cls, value: str) -> Severity:
        """Parse a user or model spelling ('HIGH', 'warning', 'error'); raises ValueError."""
        v = value.strip().lower()
        v = _ALIASES.get(v, v)
        return cls(v)


_RANK = {
    Severity.CRITICAL: 4,
    Severity.HIGH: 3,
    Severity.MEDIUM: 2,
    Severity.LOW: 1,
    Severity.INFO: 0,
}
_ALIASES = {
    "error": "high",
    "blocker": "critical",
    "major": "high",
    "warning": "medium",
    "warn": "medium",
    "moderate": "medium",
    "minor": "low",
    "note": "info",
    "nit": "info",
    "informational": "info",
}

FindingSource = Literal["model", "analyzer", "synthesis"]
Verification = Literal["verified", "corrected", "rejected", "unverified"]


MAX_CWE_ID = 100_000  # CWE ids are small (under 2000 today); anything huge is garbage
MAX_CWES = 10
_CWE_TEXT = re.compile(r"^\s*(?:cwe\s*[-_:]?\s*)?(\d{1,6})\s*$", re.IGNORECASE)


def parse_cwe(value: object) -> list[int]:
    """CWE ids from untrusted input: ``89``, ``"CWE-89"``, ``"89"`` or a list of them.

    Keeps ints 1..:data:`MAX_CWE_ID` in first-seen order without repeats (at most
    :data:`MAX_CWES`); everything else (booleans, floats, other text, nesting) is dropped.
    """
    items = value if isinstance(value, (list, tuple)) else [value]
    out: list[int] = []
    for item in items[:100]:
        n: int | None = None
        if isinstance(item, int) and not isinstance(item, bool):
            n = item
        elif isinstance(item, str) and len(item) <= 20:
            m = _CWE_TEXT.match(item)
            n = int(m.group(1)) if m else None
        if n is not None and 1 <= n <= MAX_CWE_ID and n not in out:
            out.append(n)
            if len(out) >= MAX_CWES:
                break
    return out


ModelT = TypeVar("ModelT", bound=BaseModel)


def lenient_list(model: type[ModelT], value: object, limit: int) -> list[ModelT]:
    """The items of ``value`` (a list; anything else gives ``[]``), at most ``limit`` of them
    tried, that validate as ``model``: a malformed item of a model's reply costs only itself,
    never the whole (otherwise valid) reply."""
    if not isinstance(value, list):
        return []
    kept = []
    for item in value[:limit]:
        try:
            kept.append(model.model_validate(item))
        except ValidationError:
            continue
    return kept


def cut_text(value: object, limit: int) -> object:
    """``value`` cut to ``limit`` characters, the last one "…", when it is a longer str;
    anything else as it is (validation then judges it)."""
    return value[: limit - 1] + "…" if isinstance(value, str) and len(value) > limit else value


class MaskedReply(BaseModel):
    """Base of a task's reply model (verify, describe, fix): unknown keys are ignored and
    every string is masked (:func:`tokyo_cli.safety.masking.mask_data`) before any field is read."""

    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _mask(cls, data: object) -> object:
        return mask_data(data)


class ModelFinding(BaseModel):
    """One finding as a model returns it (validated from untrusted JSON)."""

    model_config = ConfigDict(extra="ignore")

    path: str = Field(min_length=1, max_length=1000)
    line: int | None = Field(default=None, ge=0)
    end_line: int | None = Field(default=None, ge=0)
    severity: Severity
    category: str = Field(default="general", max_length=100)
    title: str = Field(min_length=1, max_length=300)
    body: str = Field(default="", max_length=20_000)
    suggestion: str | None = Field(default=None, max_length=20_000)
    confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    cwe: list[int] = Field(default_factory=list)

    @field_validator("severity", mode="before")
    @classmethod
    def _severity(cls, v: object) -> object:
        return Severity.parse(v) if isinstance(v, str) else v

    @field_validator("cwe", mode="before")
    @classmethod
    def _cwe(cls, v: object) -> list[int]:
        # Lenient: a bad CWE id costs only itself, never the finding or the reply.
        return parse_cwe(v)

    @field_validator("title", "body", "suggestion", "category", mode="before")
    @classmethod
    def _truncate(cls, v: object, info: object) -> object:
        # A rambling model should cost us its excess text, not the whole (otherwise valid) reply.
        return cut_text(v, {"title": 300, "category": 100}.get(getattr(info, "field_name", ""), 20_000))

    @field_validator("path")
    @classmethod
    def _path(cls, v: str) -> str:
        v = v.strip().replace("\\", "/")
        while v.startswith("./"):
            v = v[2:]
        for prefix in ("a/", "b/"):
            # Models often echo diff headers ("b/src/x.py").
            if v.startswith(prefix) and len(v) > 2:
                v = v[2:]
                break
        return v


_VERDICT_ALIASES = {
    "confirmed": "confirm",
    "agree": "confirm",
    "real": "confirm",
    "refined": "refine",
    "dismissed": "dismiss",
    "reject": "dismiss",
    "rejected": "dismiss",
    "false_positive": "dismiss",
    "false positive": "dismiss",
}


class EvidenceVerdict(BaseModel):
    """A model's verdict on one analyzer finding it was shown as evidence (id ``A1``...).

    ``confirm``: real as reported; ``refine``: real, with a corrected ``severity`` and/or
    ``title``; ``dismiss``: a false positive in context, ``reason`` says why (required).
    """

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=20)
    verdict: Literal["confirm", "refine", "dismiss"]
    reason: str = Field(default="", max_length=2_000)
    severity: Severity | None = None
    title: str | None = Field(default=None, max_length=300)

    @field_validator("verdict", mode="before")
    @classmethod
    def _verdict(cls, v: object) -> object:
        if not isinstance(v, str):
            return v
        v = v.strip().lower()
        return _VERDICT_ALIASES.get(v, v)

    @field_validator("severity", mode="before")
    @classmethod
    def _severity(cls, v: object) -> object:
        return optional_severity(v)


def optional_severity(v: object) -> object:
    """A model's optional severity before validation: a spelling :meth:`Severity.parse`
    knows, ``""`` as ``None``; anything else is left for validation to judge."""
    return Severity.parse(v) if isinstance(v, str) and v.strip() else (None if v == "" else v)


MAX_FINDINGS_PER_REPLY = 200  # more than this from one call is noise, not review


class AgentOutput(BaseModel):
    """The whole JSON object a model returns for one review or synthesis call.

    Over-long text is truncated and findings past ``MAX_FINDINGS_PER_REPLY`` are dropped
    (``truncated`` counts them) rather than rejecting an otherwise valid reply. Every string
    of the reply is masked first (:func:`tokyo_cli.safety.masking.mask_data`): whatever a model
    writes, no secret the detector knows is kept.
    """

    model_config = ConfigDict(extra="ignore")

    findings: list[ModelFinding] = Field(default_factory=list)
    summary: str = Field(default="", max_length=20_000)
    # Only for review calls shown analyzer evidence: one verdict per evidence id.
    evidence: list[EvidenceVerdict] = Field(default_factory=list, max_length=500)

    @field_validator("evidence", mode="before")
    @classmethod
    def _evidence(cls, v: object) -> object:
        # A malformed verdict costs only itself (the finding stays as the analyzer reported it).
        return lenient_list(EvidenceVerdict, v, 500)

    # Only for synthesize: groups of upstream finding ids that say the same thing.
    duplicates: list[list[str]] = Field(default_factory=list)
    truncated: int = 0

    @field_validator("summary", mode="before")
    @classmethod
    def _summary(cls, v: object) -> object:
        return cut_text(v, 20_000)

    @model_validator(mode="before")
    @classmethod
    def _cap(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("findings"), list):
            extra = len(data["findings"]) - MAX_FINDINGS_PER_REPLY
            if extra > 0:
                data = {**data, "findings": data["findings"][:MAX_FINDINGS_PER_REPLY], "truncated": extra}
        # Masked before any field is truncated: a cut must not leave half a secret unmaskable.
        return mask_data(data)


class GroupMember(BaseModel):
    """One finding folded into a grouped finding (:mod:`tokyo_cli.engine.grouping`): its own
    fingerprint (the ledger decides on members), location, title and severity."""

    fingerprint: str
    path: str
    line: int | None = None
    title: str
    severity: Severity


class Finding(BaseModel):
    """A finding owned by the run: anchored, attributed and fingerprinted.

    ``line`` is a 1-based line number in the new version of ``path``; ``None`` means a
    file-level finding (nothing in the change to anchor to). ``file_line`` is then the line
    the reviewer named, when there was one: not on a changed line (or in a file the change does
    not touch), so no review comment can sit on it, but reports without a diff restriction
    (SARIF, workflow annotations) still place the finding there. ``agents`` lists every agent that
    raised it after merging; ``agent`` is the first of them. ``members`` is non-empty for a
    grouped finding: every repeat of one rule it stands for, the first being its anchor.
    """

    path: str
    line: int | None = None
    end_line: int | None = None
    file_line: int | None = None
    severity: Severity
    category: str = "general"
    title: str
    body: str = ""
    suggestion: str | None = None
    confidence: float | None = None
    agent: str
    agents: list[str] = Field(default_factory=list)
    step: str = ""
    source: FindingSource = "model"
    rule: str | None = None
    anchor_text: str = ""
    fingerprint: str = ""
    status: str = "open"
    # Analyzer findings a model reviewed: confirmed or refined -> corroborated; dismissed ->
    # status "dismissed" with the model's reason (kept in history, out of the merged list).
    corroborated: bool = False
    dismissed_reason: str | None = None
    members: list[GroupMember] = Field(default_factory=list)
    cwe: list[int] = Field(default_factory=list)
    # Cross-examination by a verify step (tokyo_cli.engine.tasks.verify): "verified" (kept as is),
    # "corrected" (kept with the verifier's severity, title or line; the fingerprint stays),
    # "rejected" (a false positive: out of the run's findings, kept in history with the
    # reason), "unverified" (a verify step was to judge it and could not: offline, a failed
    # call, no verdict). None: no verify step was asked about it.
    verification: Verification | None = None
    verification_reason: str | None = None
    verified_by: str | None = None  # the verifying agent's id
    # A checked unified diff that fixes it (a fix step, tokyo_cli.engine.tasks.fix), against the
    # reviewed version of its file; None when no fix step made one.
    patch: str | None = None

    def model_post_init(self, __context: object) -> None:
        if not self.agents:
            self.agents = [self.agent]
        if not self.fingerprint:
            self.fingerprint = fingerprint(self)

    @property
    def corroborated_by_team(self) -> bool:
        """Raised by two or more agents (merged by fingerprint or place), an analyzer finding
        a model confirmed, or kept by a verify step: the ``block_on: corroborated`` test."""
        return len(set(self.agents)) >= 2 or self.corroborated or self.verification in ("verified", "corrected")

    @property
    def location(self) -> str:
        """``path:line`` (or ``path`` for a file-level finding)."""
        if self.line is None:
            return self.path
        if self.end_line and self.end_line != self.line:
            return f"{self.path}:{self.line}-{self.end_line}"
        return f"{self.path}:{self.line}"


_WS = re.compile(r"\s+")
_NON_WORD = re.compile(r"[^a-z0-9 ]+")


def normalize_text(text: str) -> str:
    """Lower-case, drop punctuation and collapse whitespace: 'Foo(x) ;' -> 'foo x'."""
    return _WS.sub(" ", _NON_WORD.sub(" ", text.lower())).strip()


def fingerprint(finding: Finding) -> str:
    """A 16-hex-digit id that survives line shifts.

    Hash of (path, rule or agent, normalised anchored line text, normalised title). The line
    number itself is left out on purpose, so the same finding on a line that moved keeps its
    fingerprint.
    """
    who = finding.rule or finding.agent
    parts = [finding.path, who, normalize_text(finding.anchor_text), normalize_text(finding.title)]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


_MASKED_FIELDS = ("title", "body", "anchor_text", "suggestion", "dismissed_reason", "verification_reason", "patch")


def redact(finding: Finding) -> Finding:
    """``finding`` with likely secrets masked (:func:`tokyo_cli.safety.masking.mask_data`, the
    one detector) in its title, body, suggestion, patch, anchored line text, dismissal and
    verification reasons.

    The fingerprint is recomputed from the masked text, so it stays stable without holding
    the secret. Returns ``finding`` itself when nothing needed masking. The path is left as
    it is (anchoring needs it); the run result is masked whole before it is stored or shown.
    """
    return redact_all([finding])[0]


def redact_all(findings: list[Finding]) -> list[Finding]:
    """:func:`redact` for many findings, with one scan of all their texts."""
    values = [[getattr(f, name) for name in _MASKED_FIELDS] for f in findings]
    masked = mask_data(values)
    if masked is values:
        return list(findings)
    out = []
    for f, before, after in zip(findings, values, masked):
        if before == after:
            out.append(f)
            continue
        data = f.model_dump()
        data.update(zip(_MASKED_FIELDS, after), fingerprint="")
        out.append(Finding(**data))
    return out


def sort_key(f: Finding) -> tuple[int, str, int, str]:
    """Most severe first, then by path and line: the order every report uses."""
    return (-f.severity.rank, f.path, f.line or 0, f.title)


def _title_words(f: Finding) -> frozenset[str]:
    return frozenset(normalize_text(f.title).split())


def _same_issue(a: Finding, b: Finding, ta: frozenset[str], tb: frozenset[str]) -> bool:
    """Same path (the caller's bucket), overlapping lines, and a shared rule, a specific
    category or at least half the title words (``ta``/``tb``: the titles' word sets)."""
    if a.line is None or b.line is None:
        return a.line == b.line and ta == tb
    a_end, b_end = a.end_line or a.line, b.end_line or b.line
    if not (a.line <= b_end and b.line <= a_end):
        return False
    if a.rule and a.rule == b.rule:
        return True
    if not ta or not tb:
        return False
    jaccard = len(ta & tb) / len(ta | tb)
    return jaccard >= 0.5 or (a.category == b.category and a.category != "general")


def merge_duplicates(findings: list[Finding]) -> list[Finding]:
    """Merge findings that describe the same issue at the same place.

    Two findings merge when they share a path, their line ranges overlap, and they share an
    analyzer rule, a specific category, or at least half their title words. The merged
    finding keeps the most severe copy's text and the unions of ``agents`` and ``cwe`` (in
    first-seen order). Returns a new list sorted by :func:`sort_key`. Candidates are compared within
    their file only, so thousands of findings across many files merge in linear time.
    """
    merged: list[Finding] = []
    by_fingerprint: dict[str, Finding] = {}
    by_path: dict[str, list[tuple[Finding, frozenset[str]]]] = {}
    for f in sorted(findings, key=sort_key):
        words = _title_words(f)
        target = by_fingerprint.get(f.fingerprint)
        if target is None:
            target = next((m for m, mw in by_path.get(f.path, ()) if _same_issue(m, f, mw, words)), None)
        if target is not None:
            _note_other_rule(target, f)  # bandit and semgrep on one line: both rules stay named
            for a in f.agents:
                if a not in target.agents:
                    target.agents.append(a)
            if target.suggestion is None and f.suggestion:
                target.suggestion = f.suggestion
            for c in f.cwe:
                if c not in target.cwe:
                    target.cwe.append(c)
            continue
        # agents and cwe are the lists a merge extends: copied, so the input is never mutated
        copy = f.model_copy(update={"agents": list(f.agents), "cwe": list(f.cwe)})
        merged.append(copy)
        by_fingerprint.setdefault(copy.fingerprint, copy)
        by_path.setdefault(copy.path, []).append((copy, words))
    return sorted(merged, key=sort_key)


def _note_other_rule(target: Finding, dup: Finding) -> None:
    """Keep the provenance of an analyzer finding merged into ``target`` under another rule
    (bandit and semgrep on one line): "Also reported by `bandit:B608`." closes ``target``'s
    body, once per rule."""
    if dup.source != "analyzer" or not dup.rule or dup.rule == target.rule or f"`{dup.rule}`" in target.body:
        return
    target.body = (target.body.rstrip() + "\n" if target.body.strip() else "") + f"Also reported by `{dup.rule}`."


def merge_group(findings: list[Finding], fingerprints: list[str]) -> list[Finding]:
    """Fold the findings whose fingerprints are in ``fingerprints`` into the most severe one."""
    members = [f for f in findings if f.fingerprint in fingerprints]
    if len(members) < 2:
        return findings
    keeper = min(members, key=sort_key)
    for f in members:
        if f is keeper:
            continue
        for a in f.agents:
            if a not in keeper.agents:
                keeper.agents.append(a)
        for c in f.cwe:
            if c not in keeper.cwe:
                keeper.cwe.append(c)
    dropped = {id(f) for f in members if f is not keeper}
    return [f for f in findings if id(f) not in dropped]


def count_by_severity(findings: Iterable[Finding]) -> dict[str, int]:
    """``{"critical": n, "high": n, "medium": n, "low": n, "info": n}``, every key present."""
    counts = {s.value: 0 for s in Severity}
    for f in findings:
        counts[f.severity.value] += 1
    return counts


class AnchorIndex(Protocol):
    """What anchoring needs from a changeset (``repo.Changeset`` satisfies it)."""

    def is_anchor(self, path: str, line: int) -> bool: ...

    def line_text(self, path: str, line: int) -> str: ...

    def line_count(self, path: str) -> int | None: ...

    def in_head(self, path: str) -> bool: ...


def anchor_finding(
    raw: ModelFinding,
    changes: AnchorIndex,
    *,
    paths: set[str],
    agent: str,
    step: str,
    source: FindingSource = "model",
) -> Finding | None:
    """Turn a model's finding into a run finding anchored to the change, or ``None`` to drop it.

    - ``raw.line`` a valid anchor (a new-file line inside a hunk) of a file among ``paths``
      (the files this call was shown): kept on that line; ``end_line`` kept only when it is
      also an anchor at or after ``line``.
    - a file among ``paths``, any other line: demoted to a file-level finding (``line=None``)
      — the problem may be real, but it cannot be placed on a changed line; ``file_line``
      keeps the line when it is inside the file.
    - another file of the reviewed tree (``changes.in_head``: in the change but shown to
      another call, or a file the change does not touch): file-level, ``file_line`` kept as
      named, no suggestion; the report lists it (a review body, never an inline comment).
    - a path that is no file of the reviewed tree: dropped (``None``).

    The finding's texts (the model's, and the anchored line's) are masked (:func:`redact`).
    """
    shown = raw.path in paths
    if not shown and not changes.in_head(raw.path):
        return None
    line = raw.line if shown and raw.line and changes.is_anchor(raw.path, raw.line) else None
    file_line = None
    if line is None and raw.line and raw.line > 0:
        count = changes.line_count(raw.path)
        file_line = raw.line if count is None or raw.line <= count else None
    end_line = None
    if line is not None and raw.end_line and raw.end_line > line and changes.is_anchor(raw.path, raw.end_line):
        end_line = raw.end_line
    # The line's text, also off the changed lines: the fingerprint then survives an
    # incremental review in which that line is no longer changed (same finding, same id).
    at = line if line is not None else file_line
    anchor_text = changes.line_text(raw.path, at) if at is not None else ""
    return redact(
        Finding(
            path=raw.path,
            line=line,
            end_line=end_line,
            file_line=file_line,
            severity=raw.severity,
            category=raw.category,
            title=raw.title.strip(),
            body=raw.body.strip(),
            suggestion=raw.suggestion if line is not None else None,
            confidence=raw.confidence,
            agent=agent,
            step=step,
            source=source,
            anchor_text=anchor_text,
            cwe=list(raw.cwe),
        )
    )
