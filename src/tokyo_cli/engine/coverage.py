"""Coverage: which changed files a step reviews, and after the run, who reviewed each file.

Every changed file ends the run either reviewed (``FileEntry.reviewed_by``: the agents whose
step covered it in full) or not reviewed with a reason (``FileEntry.skipped``: binary,
generated, vendored, too large, budget, provider failure, no agent covers it).
"""

from __future__ import annotations

from tokyo_cli.config.team import AgentSpec
from tokyo_cli.config.workflow import StepSpec
from tokyo_cli.git.repo import Changeset, FileChange, glob_match
from tokyo_cli.results import RunResult


def select_files(agent: AgentSpec, step: StepSpec, changeset: Changeset) -> list[FileChange] | None:
    """The reviewable files this step sends to its agent, or ``None`` when ``when`` skips it.

    ``step.paths`` (if set) replaces the agent's ``paths``; the agent's ``exclude`` always
    applies. ``when.paths`` is matched against every changed file, reviewable or not, also
    those of other shards (so every shard runs the same steps); only the run's shard
    (``changeset.scope``) is selected.
    """
    if (
        step.when is not None
        and step.when.paths
        and not any(glob_match(f.path, step.when.paths) for f in changeset.files)
    ):
        return None
    include = step.paths if step.paths is not None else agent.paths
    return [
        f
        for f in changeset.reviewable()
        if changeset.in_scope(f.path)
        and glob_match(f.path, include)
        and not (agent.exclude and glob_match(f.path, agent.exclude))
    ]


def fill_coverage(result: RunResult) -> None:
    """Set each file's ``reviewed_by`` (agents whose step covered it in full) and, for a
    reviewable file nobody covered, its ``skipped`` reason from the steps (budget, failure)."""
    by_path = {f.path: f for f in result.files}
    reasons: dict[str, str] = {}
    for step in result.steps:
        if step.task != "review":
            continue
        for path, reason in step.not_reviewed.items():
            reasons.setdefault(path, reason)
        if step.status not in ("ok", "partial", "offline"):
            for path in step.files:
                reasons.setdefault(path, "provider failure" if step.status == "failed" else "not reviewed")
            continue
        for path in step.files:
            entry = by_path.get(path)
            if entry is not None and path not in step.not_reviewed and step.agent not in entry.reviewed_by:
                entry.reviewed_by.append(step.agent)
    for entry in result.files:
        if entry.skipped is None and not entry.reviewed_by:
            entry.skipped = reasons.get(entry.path, "no agent covers it")
