"""``tokyo merge``: N shard runs (``tokyo review --shard I/N``) joined into one run.

What a merged run is made of:

* **identity** — every input must declare the same change (``ShardInfo.change``) and the same
  N, else the merge refuses (outputs of different changes do not add up). A shard found
  twice (a re-run job) counts once: the same ``uid`` is the same run; of two different runs
  the better one (completed over partial over failed, then the later) is kept and a notice
  says so.
* **coverage** — the shards' file lists joined (disjoint by construction). A shard number
  without an input is ``missing``, one whose run failed or was cancelled is ``failed``; either
  makes the merged run ``partial`` and a notice names the shard, never hides it.
* **findings** — the shards' findings (ungrouped: a shard leaves grouping to the merge)
  de-duplicated (same fingerprint, or the same issue at the same place:
  :func:`~tokyo_cli.findings.merge_duplicates`), then grouped with the workflow's settings the
  shards carried (:func:`~tokyo_cli.engine.grouping.group_repeats`): the same steps an
  unsharded run takes, so its fingerprints come out the same.
* **steps and totals** — one step per step id, its files, calls, analyzers and unreviewed
  files joined across shards; tokens, calls and USD are then the sums.
* **synthesis** (``--synthesize``) — the lead agent (Kenji) reads the merged findings as it
  reads a run's upstream findings (:meth:`Engine.synthesize_findings`), names duplicates
  and writes the summary; offline or without a key it is skipped with a notice.

Inputs without shard information (whole runs) may be merged too: their findings are
de-duplicated and their totals summed, with no missing-shard check.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, cast

from tokyo_cli.engine.grouping import DEFAULT_GROUP_FILES, DEFAULT_GROUP_REPEATS, group_repeats
from tokyo_cli.errors import ConfigError
from tokyo_cli.findings import Finding, Severity, merge_duplicates, merge_group
from tokyo_cli.results import AnalyzerNote, MergeInfo, RunResult, RunStatus, StepResult, new_uid
from tokyo_cli.summary import offline_summary

if TYPE_CHECKING:
    from tokyo_cli import events as ev
    from tokyo_cli.config.settings import Settings
    from tokyo_cli.git.diff import FileStatus

# Rules an analyzer reports once per project or per change, on the first file (in the
# change's path order) its selection holds: each shard reports it on its own first file, so
# the merge keeps the one on the first path, where an unsharded run puts it.
ONCE_PER_CHANGE_RULES = frozenset({"test-gaps:no-tests"})

_RANK = {"completed": 3, "partial": 2, "running": 1, "failed": 0, "cancelled": 0}
_STEP_RANK = {"failed": 0, "pending": 0, "running": 0, "partial": 1, "skipped": 2, "offline": 3, "ok": 4}


def merge_runs(inputs: list[tuple[str, RunResult]], *, fail_on: Severity | None = None) -> RunResult:
    """One run from ``inputs`` (``(source name, run)`` pairs, e.g. file names and
    :func:`~tokyo_cli.report.reading.read_report` results); see the module docstring.

    ``fail_on`` (``--fail-on``) wins; else the strictest of the inputs'. The result is not
    stored (the caller applies the ledger and saves it) and its findings are masked by the
    inputs' reader.

    Raises:
        ConfigError: no input, or inputs of different changes or shard counts (exit code 2).
    """
    if not inputs:
        raise ConfigError("tokyo merge needs at least one report (JSON or SARIF)")
    kept, notices = _one_per_shard(inputs)
    runs = [run for _, run in kept]
    info = _merge_info(kept)
    first = runs[0]
    shard = next((r.shard for r in runs if r.shard is not None), None)
    steps = _merge_steps(runs)
    result = RunResult(
        uid=new_uid(),
        repo=first.repo,
        target=first.target,
        target_description=first.target_description,
        target_chosen_by_default=first.target_chosen_by_default,
        base_sha=first.base_sha,
        head_sha=first.head_sha,
        workflow=first.workflow,
        workflow_hash=first.workflow_hash,
        fail_on=fail_on or min((r.fail_on for r in runs), key=lambda s: s.rank),
        min_severity=min((r.min_severity for r in runs), key=lambda s: s.rank),
        started_at=min(r.started_at for r in runs),
        finished_at=max((r.finished_at or r.started_at for r in runs), default=None),
        files=[f for r in runs for f in r.files],
        steps=steps,
        suppressed=sum(r.suppressed for r in runs),
        offline=all(r.offline for r in runs),
        branch=first.branch,
        merged=info,
    )
    result.findings = merge_duplicates(_once_per_change([f for r in runs for f in r.findings]))
    result.rejected = merge_duplicates([f for r in runs for f in r.rejected])  # a verify step's rejections
    result.walkthrough = next((r.walkthrough for r in runs if r.walkthrough is not None), None)
    result.block_on = first.block_on
    result.findings = group_repeats(result.findings, repeats=info.group_repeats, files=info.group_files)
    result.notices = _notices(runs, info, notices, shard.total_files if shard else None, len(result.files))
    errors = [f"shard {r.shard.index if r.shard else '?'}: {r.error}" for r in runs if r.error]
    result.error = "; ".join(errors) or None
    result.status = _status(runs, info, result)
    result.summary = offline_summary(result)
    return result


def _once_per_change(findings: list[Finding]) -> list[Finding]:
    """``findings`` with one finding per rule of :data:`ONCE_PER_CHANGE_RULES` and title: the
    one on the first path."""
    first: dict[tuple[str, str], Finding] = {}
    for f in findings:
        if f.rule in ONCE_PER_CHANGE_RULES:
            key = (f.rule, f.title)
            if key not in first or f.path < first[key].path:
                first[key] = f
    return [f for f in findings if f.rule not in ONCE_PER_CHANGE_RULES or first[(f.rule, f.title)] is f]


def _one_per_shard(inputs: list[tuple[str, RunResult]]) -> tuple[list[tuple[str, RunResult]], list[str]]:
    """The inputs with one run per shard number (see the module docstring), and the notices
    for the ones left out."""
    sharded = [(name, run) for name, run in inputs if run.shard is not None]
    if sharded and len(sharded) != len(inputs):
        whole = next(name for name, run in inputs if run.shard is None)
        raise ConfigError(f"{whole} is a whole run and {sharded[0][0]} a shard: merge the shards of one change")
    if not sharded:
        seen: dict[str, tuple[str, RunResult]] = {}
        for name, run in inputs:
            seen.setdefault(run.uid or name, (name, run))
        return list(seen.values()), []
    name0, run0 = sharded[0]
    assert run0.shard is not None
    for name, run in sharded[1:]:
        assert run.shard is not None
        if run.shard.change != run0.shard.change:
            raise ConfigError(
                f"{name} is a shard of change {run.shard.change}, {name0} of change "
                f"{run0.shard.change}: only the shards of one change can be merged"
            )
        if run.shard.count != run0.shard.count:
            raise ConfigError(
                f"{name} is shard {run.shard.index}/{run.shard.count}, {name0} shard "
                f"{run0.shard.index}/{run0.shard.count}: the shard counts differ"
            )
    best: dict[int, tuple[str, RunResult]] = {}
    notices: list[str] = []
    for name, run in sharded:
        assert run.shard is not None
        index = run.shard.index
        other = best.get(index)
        if other is None:
            best[index] = (name, run)
            continue
        if other[1].uid and other[1].uid == run.uid:
            continue  # the same run, downloaded twice
        keep, drop = sorted(
            [other, (name, run)], key=lambda nr: (_RANK.get(nr[1].status, 0), nr[1].finished_at or nr[1].started_at)
        )[::-1]
        best[index] = keep
        notices.append(
            f"shard {index}/{run.shard.count} was given twice: {keep[0]} ({keep[1].status}) is merged, "
            f"{drop[0]} ({drop[1].status}) left out"
        )
    return [best[i] for i in sorted(best)], notices


def _merge_info(kept: list[tuple[str, RunResult]]) -> MergeInfo:
    runs = [run for _, run in kept]
    shard = runs[0].shard
    if shard is None:
        return MergeInfo(
            shards=len(runs),
            change="",
            present=list(range(1, len(runs) + 1)),
            failed=[i for i, r in enumerate(runs, 1) if r.status in ("failed", "cancelled")],
            sources=[r.uid for r in runs],
        )
    present = sorted(r.shard.index for r in runs if r.shard is not None)
    return MergeInfo(
        shards=shard.count,
        change=shard.change,
        present=present,
        group_repeats=shard.group_repeats,
        group_files=shard.group_files,
        missing=[i for i in range(1, shard.count + 1) if i not in present],
        failed=sorted(r.shard.index for r in runs if r.shard is not None and r.status in ("failed", "cancelled")),
        sources=[r.uid for r in runs],
    )


def _merge_steps(runs: list[RunResult]) -> list[StepResult]:
    """One step per step id (first-seen order), joined across the shards."""
    by_id: dict[str, list[StepResult]] = {}
    for run in runs:
        for step in run.steps:
            by_id.setdefault(step.step_id, []).append(step)
    return [_join_steps(same) for same in by_id.values()]


def _join_steps(same: list[StepResult]) -> StepResult:
    first = same[0]
    statuses = {s.status for s in same}
    if len(statuses) == 1:
        status = first.status
    elif statuses <= {"ok", "skipped", "offline"}:
        status = "ok" if "ok" in statuses else "offline"
    else:
        status = "partial" if statuses & {"ok", "offline", "partial"} else "failed"
    analyzers: dict[str, AnalyzerNote] = {}
    for step in same:
        for note in step.analyzers:
            joined = analyzers.get(note.name)
            if joined is None:
                analyzers[note.name] = note.model_copy(update={"not_analyzed": dict(note.not_analyzed)})
                continue
            joined.findings += note.findings
            joined.seconds = round(joined.seconds + note.seconds, 3)
            joined.error = joined.error or note.error
            joined.not_analyzed.update(note.not_analyzed)
    return first.model_copy(
        update={
            "status": status,
            "model": next((s.model for s in same if s.model), None),
            "files": [p for s in same for p in s.files],
            "findings": [f for s in same for f in s.findings],
            "dropped_findings": sum(s.dropped_findings for s in same),
            "calls": [c for s in same for c in s.calls],
            "analyzers": list(analyzers.values()),
            "not_reviewed": {p: r for s in same for p, r in s.not_reviewed.items()},
            "summary": " ".join(dict.fromkeys(s.summary for s in same if s.summary)),
            "error": next((s.error for s in same if s.error), None),
            "seconds": max(s.seconds for s in same),
        }
    )


def _notices(runs: list[RunResult], info: MergeInfo, extra: list[str], total: int | None, listed: int) -> list[str]:
    out: list[str] = []
    for run in runs:
        for notice in run.notices:
            if run.shard is not None and notice.startswith(f"shard {run.shard.index}/{run.shard.count} of change "):
                continue  # the per-shard line; the merged line below replaces them
            if notice not in out:
                out.append(notice)
    of = f" of {total} file(s) of the change" if total is not None else ""
    if info.change:
        out.append(
            f"merged {len(info.present)} of {info.shards} shards of change {info.change}: {listed} file(s) listed{of}"
        )
    else:
        out.append(f"merged {len(runs)} runs (no shard information: no missing-shard check)")
    for index in info.missing:
        out.append(f"shard {index}/{info.shards} is missing: its files are not in this run, which is partial")
    for run in runs:
        if run.shard is not None and run.shard.index in info.failed:
            why = f": {run.error}" if run.error else ""
            out.append(f"shard {run.shard.index}/{info.shards} {run.status}{why}; the run is partial")
    return out + extra


def _status(runs: list[RunResult], info: MergeInfo, result: RunResult) -> RunStatus:
    """``failed`` when no shard run is usable and nothing was found; ``partial`` when a shard
    is missing, failed or partial; else ``completed``."""
    usable = [r for r in runs if r.status in ("completed", "partial")]
    if not usable and not result.findings:
        return "failed"
    if info.missing or info.failed or any(r.status != "completed" for r in runs):
        return "partial"
    return "completed"


# --------------------------------------------------------------------------- synthesis


async def synthesize_merged(result: RunResult, settings: Settings, listener: ev.Listener) -> RunResult:
    """Run the packaged lead agent's synthesis over ``result``'s findings (``--synthesize``).

    The lead sees the merged findings (grouped ones as groups) as upstream findings and the
    steps' summaries; duplicates it names are folded, its own findings join (file-level: a
    merge has the change's file list, not its diff) and its summary becomes the run's.
    A synthesis step is added to ``result.steps`` with its call; offline, without a key or
    when the call fails, the step says why and the offline summary stays.
    """
    from tokyo_cli.config.team import LEAD_AGENT, load_team
    from tokyo_cli.config.workflow import StepSpec, WorkflowSpec
    from tokyo_cli.engine.modelfit import fit_team
    from tokyo_cli.engine.review import make_gateway
    from tokyo_cli.engine.runner import Engine, EngineOptions
    from tokyo_cli.git.diff import FileChange
    from tokyo_cli.git.repo import Changeset
    from tokyo_cli.git.targets import ReviewTarget, TargetKind
    from tokyo_cli.llm.budget import Budget

    team = load_team(None)  # the packaged team: a merge reads no repository's configuration
    team, fitted = fit_team(
        team, settings.model, context_window=settings.context_window, max_output_tokens=settings.max_output_tokens
    )
    result.notices.extend(n for n in fitted if n not in result.notices)
    step = StepSpec(id="merge-synthesis", agent=LEAD_AGENT, task="synthesize")
    workflow = WorkflowSpec(
        name=result.workflow or "merge", steps=[step], source=Path("<tokyo merge>"), hash="", origin="packaged"
    )
    kind = result.target if result.target in {k.value for k in TargetKind} else TargetKind.ALL.value
    changeset = Changeset(
        root=Path("/nonexistent-tokyo-merge"),
        target=ReviewTarget(kind=TargetKind(kind), description=result.target_description or "merged shards"),
        base_sha=result.base_sha,
        head_sha=result.head_sha,
        files=[FileChange(path=f.path, status=_file_status(f.status), skipped=f.skipped) for f in result.files],
    )
    changeset.memo["head_paths"] = frozenset(f.path for f in result.files)  # never ask git: no tree here
    budget = Budget(max_cost_usd=settings.max_cost, unknown_call_usd=settings.unknown_call_usd)
    engine = Engine(
        team=team,
        workflow=workflow,
        changeset=changeset,
        gateway=make_gateway(settings, budget),
        options=EngineOptions(model=settings.model, offline=settings.offline, api_base=settings.api_base),
        listener=listener,
    )
    res, groups = await engine.synthesize_findings(step, result.findings, result.steps)
    result.steps.append(res)
    if res.status != "ok":
        why = res.error or ("no model: offline or no provider key" if res.status == "offline" else res.status)
        result.notices.append(f"--synthesize: the lead's synthesis did not run ({why}); the summary is generated")
        return result
    merged = merge_duplicates([*result.findings, *res.findings])
    for group in groups:
        merged = merge_group(merged, group)
    info = result.merged
    result.findings = group_repeats(
        merged,
        repeats=info.group_repeats if info else DEFAULT_GROUP_REPEATS,
        files=info.group_files if info else DEFAULT_GROUP_FILES,
    )
    result.summary = res.summary or offline_summary(result)
    result.finished_at = datetime.now(UTC)
    return result


def _file_status(status: str) -> FileStatus:
    """A listed file's status as a diff status (a shard report's file list is untrusted text)."""
    return cast("FileStatus", status) if status in ("added", "modified", "deleted", "renamed") else "modified"


__all__ = ["merge_runs", "synthesize_merged"]
