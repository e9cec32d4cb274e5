"""What a run produces: plain pydantic data that the store saves and reporters render.

Data first, rendering second: the engine fills these, ``store.history`` saves and reloads
them, and every reporter (terminal, markdown, json, sarif, github) reads only these.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import uuid4

from pydantic import BaseModel, Field

from tokyo_cli.errors import EXIT_CLEAN, EXIT_FAILED, EXIT_FINDINGS, EXIT_INTERRUPTED, EXIT_NOT_SAVED
from tokyo_cli.findings import Finding, Severity, count_by_severity

RunStatus = Literal["running", "completed", "partial", "failed", "cancelled"]
StepStatus = Literal["pending", "running", "ok", "partial", "offline", "failed", "skipped"]
CallStatus = Literal["ok", "error", "invalid_output", "skipped"]


class CallRecord(BaseModel):
    """One provider call (after its retries): tokens, USD cost, latency in seconds.

    ``cost_usd`` is ``None`` when the model has no known price (never a crash).
    """

    step_id: str
    agent: str
    model: str
    provider: str
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float | None = None
    latency_s: float = 0.0
    attempts: int = 1
    status: CallStatus = "ok"
    error: str | None = None
    cache_hit: bool = False


class AnalyzerNote(BaseModel):
    """What an offline analyzer did: how many findings, or why it was unavailable, and the
    files it could not analyze (``not_analyzed``: path -> reason, "kind (detail)"; see
    :class:`tokyo_cli.analyzers.base.AnalyzerRun`). History keeps it in the steps table's
    ``analyzers`` JSON column (no schema change: an older row reads back as ``{}``)."""

    name: str
    findings: int = 0
    error: str | None = None
    seconds: float = 0.0
    not_analyzed: dict[str, str] = Field(default_factory=dict)


class StepResult(BaseModel):
    """One workflow step: an agent's review (or synthesis) of its file selection.

    ``status``: ``ok``; ``partial`` when some of its calls failed; ``failed`` when every call
    failed (analyzer findings are still kept); ``skipped`` when no file matched. It is
    ``offline`` when the agent ran its analyzers alone (no credentials or ``--offline``);
    ``credential_env`` then names the environment variables that would give it a model, and
    ``configured_model`` the model the agent is configured with (``model`` is ``None`` when
    offline, so reports need this to say which model the agent is missing).
    """

    step_id: str
    agent: str
    agent_name: str
    task: Literal["review", "synthesize", "verify", "describe", "fix"] = "review"
    status: StepStatus = "pending"
    model: str | None = None
    configured_model: str | None = None
    credential_env: list[str] = Field(default_factory=list)
    files: list[str] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    dropped_findings: int = 0
    calls: list[CallRecord] = Field(default_factory=list)
    analyzers: list[AnalyzerNote] = Field(default_factory=list)
    not_reviewed: dict[str, str] = Field(default_factory=dict)  # path -> "budget" | "provider failure" | ...
    summary: str = ""
    error: str | None = None
    seconds: float = 0.0

    @property
    def tokens_in(self) -> int:
        return sum(c.tokens_in for c in self.calls)

    @property
    def tokens_out(self) -> int:
        return sum(c.tokens_out for c in self.calls)

    @property
    def cost_usd(self) -> float | None:
        """Sum of known call costs in USD; ``None`` when no call had a known cost."""
        known = [c.cost_usd for c in self.calls if c.cost_usd is not None]
        return sum(known) if known else None


class FileEntry(BaseModel):
    """A changed file as the report lists it: reviewed, or skipped with the reason."""

    path: str
    status: str  # added | modified | deleted | renamed
    old_path: str | None = None
    added: int = 0
    removed: int = 0
    skipped: str | None = None  # binary | deleted | vendored | generated | too large | excluded
    # | budget | provider failure | no agent covers it  (set after the run for reviewable files)
    reviewed_by: list[str] = Field(default_factory=list)  # agent ids that reviewed it in full


class FileRow(BaseModel):
    """One changed file of the walkthrough. ``added``/``removed`` are lines, as
    ``git diff --numstat`` counts them (0 for a binary file)."""

    path: str
    old_path: str | None = None
    status: Literal["added", "modified", "deleted", "renamed"]
    added: int = 0
    removed: int = 0
    language: str | None = None
    test: bool = False
    skipped: str | None = None  # why tokyo does not review it (binary, generated, ...)
    summary: str = ""


class Walkthrough(BaseModel):
    """A pull-request walkthrough; ``source`` says whether a model wrote its prose."""

    title: str
    description: str
    overview: str
    files: list[FileRow] = Field(default_factory=list)
    risk_areas: list[str] = Field(default_factory=list)
    tests_touched: list[str] = Field(default_factory=list)
    source: Literal["model", "offline"] = "offline"
    agent: str | None = None

    @property
    def added(self) -> int:
        return sum(f.added for f in self.files)

    @property
    def removed(self) -> int:
        return sum(f.removed for f in self.files)


class ShardInfo(BaseModel):
    """What a shard run (``tokyo review --shard I/N``) declares, so ``tokyo merge`` can join N
    outputs and name a missing one: shard ``index`` (1-based) of ``count`` of the change
    ``change`` (:func:`tokyo_cli.engine.shards.change_id`), the ``files`` it covered of the
    change's ``total_files``, and the workflow's grouping settings (``group_repeats``,
    ``group_files``), which the merge applies: a shard leaves repeated-rule grouping to the
    merge, since grouping across the change needs every shard's findings."""

    index: int
    count: int
    change: str
    files: int
    total_files: int
    group_repeats: int = 3
    group_files: int = 10


class MergeInfo(BaseModel):
    """How a merged run (``tokyo merge``) was made: ``shards`` expected (N) of change
    ``change``; ``present`` shard numbers found, ``missing`` ones not found, ``failed`` ones
    whose run failed or was cancelled; ``sources`` the run ids (``RunResult.uid``) merged;
    ``group_repeats``/``group_files`` the grouping applied (the shards' workflow's)."""

    shards: int
    change: str
    present: list[int] = Field(default_factory=list)
    missing: list[int] = Field(default_factory=list)
    failed: list[int] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    group_repeats: int = 3
    group_files: int = 10


def new_uid() -> str:
    """A fresh run identity: 32 hex digits (a random UUID4), the same in every database the
    run is exported to (:mod:`tokyo_cli.store.portable`)."""
    return uuid4().hex


class RunResult(BaseModel):
    """A whole run: target, steps, merged findings, totals and final status.

    ``findings`` is the run's merged, de-duplicated list (what reports show and exit codes
    judge); each step keeps its own raw findings.
    """

    run_id: int | None = None
    # The run's identity across databases (history export/import; new_uid()), set when the run
    # starts or, at the latest, when it is first saved; run_id is one database's id for it.
    uid: str = ""
    repo: str
    target: str  # staged | working | range | all
    target_description: str
    # True when no target flag was given and tokyo picked the target (repo.ReviewTarget).
    target_chosen_by_default: bool = False
    base_sha: str | None = None
    head_sha: str | None = None
    workflow: str
    workflow_hash: str = ""
    fail_on: Severity = Severity.HIGH
    # Which findings fail_on counts (workflow ``block_on``): all, verified or corroborated.
    block_on: Literal["all", "verified", "corroborated"] = "all"
    # Display threshold (not stored): terminal, Markdown and GitHub comments show findings at
    # or above it and count the rest; JSON, SARIF and history keep every finding.
    min_severity: Severity = Field(default=Severity.LOW, exclude=True)
    status: RunStatus = "running"
    started_at: datetime
    finished_at: datetime | None = None
    files: list[FileEntry] = Field(default_factory=list)
    steps: list[StepResult] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    # Findings a verify step rejected as false positives (verification "rejected", with the
    # reason): out of ``findings`` and every count, shown separately, kept in history.
    rejected: list[Finding] = Field(default_factory=list)
    # Merged findings left out because the findings ledger has them dismissed (store.ledger).
    suppressed: int = 0
    summary: str = ""
    # The change's walkthrough, when a describe step ran (tokyo_cli.engine.tasks.describe).
    walkthrough: Walkthrough | None = None
    error: str | None = None
    offline: bool = False
    branch: str | None = None  # the checked-out branch, for --since-last
    notices: list[str] = Field(default_factory=list)  # one-line facts the report must show
    shard: ShardInfo | None = None  # this run reviewed one shard of the change (--shard I/N)
    merged: MergeInfo | None = None  # this run joins shard runs (tokyo merge)

    @property
    def seconds(self) -> float:
        if self.finished_at is None:
            return 0.0
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def calls(self) -> list[CallRecord]:
        return [c for s in self.steps for c in s.calls]

    @property
    def tokens_in(self) -> int:
        return sum(s.tokens_in for s in self.steps)

    @property
    def tokens_out(self) -> int:
        return sum(s.tokens_out for s in self.steps)

    @property
    def cost_usd(self) -> float | None:
        known = [c.cost_usd for c in self.calls if c.cost_usd is not None]
        return sum(known) if known else None

    def severity_counts(self) -> dict[str, int]:
        """``{"critical": n, "high": n, ...}`` over the merged findings, every key present."""
        return count_by_severity(self.findings)

    def blocking(self) -> list[Finding]:
        """Findings at or above ``fail_on`` that ``block_on`` counts: the ones that make the
        exit code 1. ``verified`` counts findings a verify step kept or corrected;
        ``corroborated`` also those raised by 2+ agents or confirmed by a model
        (:attr:`Finding.corroborated_by_team`). A finding a verify step could not judge
        (``unverified``) counts under either: a failed verifier never lets a finding pass."""
        return [f for f in self.findings if f.severity.at_least(self.fail_on) and self._counts(f)]

    def _counts(self, f: Finding) -> bool:
        if self.block_on == "all" or f.verification == "unverified":
            return True
        if self.block_on == "verified":
            return f.verification in ("verified", "corrected")
        return f.corroborated_by_team

    def exit_code(self, *, saved: bool = True) -> int:
        """The process exit code for this run (README "Exit codes"; :mod:`tokyo_cli.errors`).

        The first that applies: 130 cancelled (what finished is kept); 3 ``failed``, nothing
        usable came back; 4 not ``saved`` to history (the report still printed); 1 findings
        at or above ``fail_on``, also in a ``partial`` run; 0 otherwise.
        """
        if self.status == "cancelled":
            return EXIT_INTERRUPTED
        if self.status == "failed":
            return EXIT_FAILED
        if not saved:
            return EXIT_NOT_SAVED
        return EXIT_FINDINGS if self.blocking() else EXIT_CLEAN
