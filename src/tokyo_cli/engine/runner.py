"""The engine: runs a workflow's step DAG over a changeset, concurrently, and emits events.

Per review step: select files (agent globs, step ``when``) -> offline analyzers -> pack the
hunks into chunks -> one gateway call per chunk, all concurrent -> parse and validate the JSON
(one repair retry) -> anchor findings to the change. A synthesize step merges its upstream
findings, lets the lead model name duplicates and write the summary. Every step starts as
soon as its ``depends_on`` are done, so independent steps run at the same time. The model
calls themselves (cache, gateway, repair retry, call records) are :mod:`tokyo_cli.engine.calls`.

No step's failure loses another's findings: a failed call is recorded, the step ends
``failed`` or ``partial`` (a failed step keeps its analyzer findings), and the run ends
``partial``; it is ``failed`` only when nothing usable came back — no step produced a result
and no finding exists, not even an analyzer's. A run-wide time limit
(``EngineOptions.time_limit_s``) stops the steps still running and ends the run ``partial``;
a cancellation (Ctrl-C, the TUI's cancel) ends it ``cancelled``. Either way what finished is
kept, including the analyzer findings of the steps cut short.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pydantic import TypeAdapter

from tokyo_cli import events as ev
from tokyo_cli import telemetry
from tokyo_cli.analyzers import AnalyzerRun, run_analyzers
from tokyo_cli.analyzers.base import SECURITY_ANALYZERS, analyzer_time_limit
from tokyo_cli.analyzers.base import unfinished as analyzer_unfinished
from tokyo_cli.analyzers.evidence import active, reconcile
from tokyo_cli.config.team import AgentSpec, Team
from tokyo_cli.config.workflow import StepSpec, WorkflowSpec
from tokyo_cli.engine.cache import DbCache, ResponseCache, analyzer_key, changeset_digest, plan_key
from tokyo_cli.engine.calls import CallFailed, ChunkCaller
from tokyo_cli.engine.coverage import fill_coverage, select_files
from tokyo_cli.engine.grouping import group_repeats
from tokyo_cli.engine.packing import TokenMeter, pack
from tokyo_cli.engine.prompts import (
    PATH_NOTES_RESERVE,
    repository_instructions,
    review_messages,
    synthesis_messages,
    system_prompt,
)
from tokyo_cli.engine.tasks.verify import Judgement, apply_judgements
from tokyo_cli.findings import AgentOutput, Finding, anchor_finding, merge_duplicates, merge_group
from tokyo_cli.git.repo import Changeset, FileChange
from tokyo_cli.llm.gateway import Gateway, credential_env, has_credentials
from tokyo_cli.policy import apply_policy, rank_key
from tokyo_cli.results import AnalyzerNote, RunResult, StepResult, Walkthrough
from tokyo_cli.summary import offline_summary

_ANALYZER_RUNS = TypeAdapter(list[AnalyzerRun])
PROMPT_MARGIN_TOKENS = 1_500  # framing around the diff and the analyzer evidence list
EVIDENCE_SHARE = 0.05  # of the context window, kept free for analyzer evidence
SMALL_WINDOW_TOKENS = 32_768  # at or below, prompts are measured with the tokenizer, not in bytes


@dataclass
class EngineOptions:
    """Run-wide choices. ``model`` overrides every agent's model (and drops fallbacks)."""

    model: str | None = None
    offline: bool = False
    api_base: str | None = None
    analyzer_timeout: float = 60.0  # seconds per analyzer per 1,000 files (analyzer_time_limit)
    max_chunk_tokens: int = 60_000  # bounds one call's latency and cost even on 1M-token models
    cache: ResponseCache | None = None
    local_cache: DbCache | None = None  # deterministic local work: analyzer results, token counts
    time_limit_s: float | None = None  # whole run, seconds; None = no limit (see Engine.run)
    stream: bool = False  # stream calls and emit CallText deltas (the live TUI); off: no cost
    # One shard of the change (tokyo_cli.engine.shards): repeated-rule grouping and synthesis
    # need every shard's findings, so they are left to ``tokyo merge``; a describe step
    # (a walkthrough of the whole change) is skipped.
    shard: bool = False


def configured_models(agent: AgentSpec, model_override: str | None) -> list[str]:
    """The agent's model then its fallbacks; ``--model`` (``model_override``) replaces all."""
    return [model_override] if model_override else [agent.model, *agent.fallbacks]


def callable_models(agent: AgentSpec, model_override: str | None, api_base: str | None) -> list[str]:
    """:func:`configured_models` that can be called: all of them through ``api_base``, else
    those whose provider key is set (:func:`~tokyo_cli.llm.providers.has_credentials`)."""
    models = configured_models(agent, model_override)
    return models if api_base else [m for m in models if has_credentials(m, api_base=None)]


@dataclass
class _Outcome:
    """What a finished step hands to its dependants.

    A verify step also hands over ``judgements`` (fingerprint -> its verdict) and ``passed``:
    every finding it received, judged, without the rejected ones (what its dependants see).
    """

    result: StepResult
    summary: str = ""
    duplicate_groups: list[list[str]] = field(default_factory=list)  # fingerprints
    judgements: dict[str, Judgement] = field(default_factory=dict)
    passed: list[Finding] = field(default_factory=list)
    walkthrough: Walkthrough | None = None  # a describe step's
    patches: dict[str, str] = field(default_factory=dict)  # a fix step's: fingerprint -> patch


class Engine:
    """Runs one workflow over one changeset. Create one per run.

    Args:
        team, workflow, changeset: the loaded inputs.
        gateway: the provider gateway; ``None`` means every agent runs offline.
        options: run-wide choices (model override, offline, api_base, analyzer time limit).
        listener: receives :mod:`tokyo_cli.events` as the run happens.
    """

    def __init__(
        self,
        *,
        team: Team,
        workflow: WorkflowSpec,
        changeset: Changeset,
        gateway: Gateway | None,
        options: EngineOptions | None = None,
        listener: ev.Listener = ev.null_listener,
    ) -> None:
        self.team = team
        self.workflow = workflow
        self.changeset = changeset
        self.gateway = gateway
        self.options = options or EngineOptions()
        self.emit = listener
        self._outcomes: dict[str, _Outcome] = {}
        self._started: dict[str, StepResult] = {}
        self._evidence: dict[str, list[Finding]] = {}  # step id -> its analyzer findings
        self._analyzer_notes: list[str] = []  # AnalyzerRun.notes of every step, for the run's notices
        self.meter = TokenMeter(self.options.local_cache)
        self._digest: str | None = None
        self.caller = ChunkCaller(gateway, self.options.cache, listener, stream=self.options.stream)

    # ------------------------------------------------------------------ run

    async def run(self, result: RunResult) -> RunResult:
        """Run every step, fill ``result`` (steps, findings, summary, status) and return it.

        Never raises for a provider or analyzer failure (those end up in the steps); a
        cancellation (Ctrl-C) ends the run ``cancelled`` with every finished step kept, and
        each step it cut short keeps the analyzer findings it already had (see
        :meth:`_cut_short`; its files are listed as not reviewed, "cancelled").

        With ``options.time_limit_s``, steps still running that many seconds after the start
        are stopped and the run ends ``partial`` (not ``cancelled``: nobody abandoned it, and
        what finished is a valid report): a stopped step keeps its analyzer findings, its
        files are listed as not reviewed ("time limit") and ``result.notices`` says so.
        """
        steps = [s for layer in self.workflow.layers() for s in layer]
        self.emit(
            ev.RunStarted(
                workflow=self.workflow.name,
                target_description=result.target_description,
                steps=[s.id for s in steps],
                files=len(self.changeset.scoped()),
            )
        )
        self._warm_gateway(steps)
        tasks: dict[str, asyncio.Task[_Outcome]] = {}
        for step in steps:
            deps = [tasks[d] for d in step.depends_on]
            tasks[step.id] = asyncio.create_task(self._run_step(step, deps), name=f"step:{step.id}")
        cancelled = timed_out = False
        try:
            await asyncio.wait_for(asyncio.gather(*tasks.values()), self.options.time_limit_s)
        except TimeoutError:
            timed_out = True
        except asyncio.CancelledError:
            cancelled = True
        if cancelled or timed_out:
            for task in tasks.values():
                task.cancel()
            await asyncio.gather(*tasks.values(), return_exceptions=True)
        self._finish(result, steps, cancelled, timed_out)
        self.emit(ev.RunFinished(status=result.status, findings=len(result.findings), seconds=result.seconds))
        return result

    def _warm_gateway(self, steps: Sequence[StepSpec]) -> None:
        """Start the litellm import now when some call of this run will miss the cache.

        The import takes seconds; begun here, before any analyzer, it overlaps the analyzers
        and prompt packing instead of delaying the first call. A call's cache key needs its
        prompt, which needs the analyzer evidence, so it is not known yet; what is known is
        the plan a previous run of the same step over the same change stored
        (:func:`~tokyo_cli.engine.cache.plan_key`: the keys its calls used). No plan, or a plan
        whose keys are not all cached, means a miss. A fully cached re-run therefore never
        imports litellm; a wrong guess costs only time, never an answer (the calls still
        check the cache themselves).
        """
        if self.gateway is None or self.options.offline:
            return
        online = [
            s for s in steps if callable_models(self.team.get(s.agent), self.options.model, self.options.api_base)
        ]
        if not online:
            return
        cache, store = self.options.cache, self.options.local_cache
        if cache is None or store is None:
            self.gateway.preload()
            return
        for step in online:
            keys = _plan_keys(store.get_text(self._plan_key(step)))
            if keys is None or any(cache.get(k) is None for k in keys):
                self.gateway.preload()
                return

    def _plan_key(self, step: StepSpec) -> str:
        """:func:`~tokyo_cli.engine.cache.plan_key` of ``step`` in this run."""
        agent = self.team.get(step.agent)
        return plan_key(
            self._change_digest(),
            step.model_dump_json(),
            agent.model_dump_json(),
            self.workflow.hash + self.workflow.origin,
            f"{self.options.model}|{self.options.api_base}",
        )

    def _remember_plan(self, step: StepSpec, res: StepResult) -> None:
        """Store the cache keys of a step whose every call is answered and cached (see
        :meth:`_warm_gateway`), and an empty plan for a step that needed no call (no file of
        its selection changed); a step with a failed or refused call stores nothing."""
        store = self.options.local_cache
        keys = self.caller.keys.get(step.id, [])
        if store is None or self.options.cache is None or res.status not in ("ok", "skipped"):
            return
        if res.status == "skipped" and (keys or res.error):  # skipped by the cost cap: calls to come
            return
        store.put_text(self._plan_key(step), "plan", json.dumps(keys))

    def _finish(self, result: RunResult, steps: Sequence[StepSpec], cancelled: bool, timed_out: bool = False) -> None:
        result.steps = []
        unfinished: list[str] = []
        for step in steps:
            outcome = self._outcomes.get(step.id)
            if outcome is not None:
                result.steps.append(outcome.result)
            elif step.id in self._started:
                res = self._started[step.id]
                if timed_out:
                    why = f"stopped at the time limit ({self.options.time_limit_s:g} s) before it finished"
                    self._cut_short(res, why, "time limit")
                else:
                    self._cut_short(res, "cancelled before it finished", "cancelled")
                result.steps.append(res)
                unfinished.append(f"{res.agent_name} ({step.id})")
            else:
                unfinished.append(f"{step.id} (not started)")
        # Verify and fix steps' findings are copies of their input: their verdicts and patches
        # apply below.
        findings = [f for s in result.steps if s.task not in ("verify", "fix") for f in active(s.findings)]
        merged = merge_duplicates(findings)
        judged: dict[str, Judgement] = {}
        for outcome in self._outcomes.values():
            for group in outcome.duplicate_groups:
                merged = merge_group(merged, group)
            judged.update(outcome.judgements)
        merged, result.rejected = apply_judgements(merged, judged, advisory=self.workflow.origin == "repository")
        patches = {fp: p for o in self._outcomes.values() for fp, p in o.patches.items()}
        merged = [
            f.model_copy(update={"patch": patches[f.fingerprint]}) if f.fingerprint in patches else f for f in merged
        ]
        # One rule repeating in a file (or across the change) becomes one finding listing
        # every location; step findings stay ungrouped (tokyo_cli.engine.grouping).
        if not self.options.shard:
            merged = group_repeats(merged, repeats=self.workflow.group_repeats, files=self.workflow.group_files)
        result.findings = merged
        result.notices.extend(_dismissal_notices(result.steps))
        result.notices.extend(_rejection_notices(result.rejected))
        result.notices.extend(n for n in self._analyzer_notes if n not in result.notices)
        fill_coverage(result)  # before the summary, which counts the files reviewed
        described = [o.walkthrough for o in self._outcomes.values() if o.walkthrough is not None]
        result.walkthrough = described[-1] if described else None
        synth = [o for o in self._outcomes.values() if o.result.task == "synthesize" and o.summary]
        result.summary = synth[-1].summary if synth else offline_summary(result)
        result.finished_at = datetime.now(UTC)
        result.offline = all(s.status in ("offline", "skipped") for s in result.steps)
        usable = [s for s in result.steps if s.status in ("ok", "partial", "offline")]
        # A security analyzer that did not finish leaves files unchecked for what matters
        # most: the run is partial, whatever the models said.
        unchecked = [
            (s, a)
            for s in result.steps
            for a in s.analyzers
            if a.name in SECURITY_ANALYZERS and analyzer_unfinished(a.error)
        ]
        for unfinished_step, note in unchecked:
            result.notices.append(
                f"{note.name} ({unfinished_step.agent_name}, {unfinished_step.step_id}) did not finish: {note.error}; "
                f"{len(note.not_analyzed)} file(s) not analyzed by it are listed, and the run is partial"
            )
        troubled = [
            s
            for s in result.steps
            if s.status in ("failed", "partial")
            or s.not_reviewed
            or (s.status == "skipped" and s.error)
            or any(s is u for u, _ in unchecked)
        ]
        if cancelled:
            result.status = "cancelled"
        elif timed_out:
            result.status = "partial"
            result.notices.append(
                f"time limit {self.options.time_limit_s:g} s reached: {', '.join(unfinished)} did not finish; "
                "what finished is reported, analyzer findings of the stopped steps included"
            )
        elif troubled and not usable and not merged:
            # Nothing usable came back. A failed step's analyzer findings are usable: a
            # provider outage with findings in hand is a partial run, not a failed one.
            result.status = "failed"
            result.error = "; ".join(f"{s.step_id}: {s.error}" for s in troubled if s.error)
        elif troubled:
            result.status = "partial"
        else:
            result.status = "completed"

    def _cut_short(self, res: StepResult, why: str, reason: str) -> None:
        """A step stopped before it finished (time limit or cancellation): its analyzer
        findings, if its analyzers had finished, are kept; it is ``partial`` with them and
        ``failed`` without; ``why`` becomes its error and ``reason`` (``"time limit"``,
        ``"cancelled"``) the not-reviewed reason of each of its files."""
        res.error = why
        res.findings = list(self._evidence.get(res.step_id, []))
        res.status = "partial" if res.step_id in self._evidence else "failed"
        if res.task == "review":
            res.not_reviewed = {path: reason for path in res.files}

    async def _run_step(self, step: StepSpec, deps: list[asyncio.Task[_Outcome]]) -> _Outcome:
        upstream = list(await asyncio.gather(*deps)) if deps else []
        agent = self.team.get(step.agent)
        res = StepResult(step_id=step.id, agent=agent.id, agent_name=agent.name, task=step.task)
        self._started[step.id] = res
        t0 = time.perf_counter()
        # The step's span is current while it runs: its calls' spans are its children.
        with telemetry.span(
            "tokyo.step", {"tokyo.step.id": step.id, "tokyo.agent": agent.id, "tokyo.task": step.task}
        ) as span:
            if step.task in ("synthesize", "describe") and self.options.shard:
                # Both read the whole change's findings or files: one shard has a part of them.
                res.status = "skipped"
                res.summary = (
                    "Synthesis runs over every shard's findings: tokyo merge --synthesize."
                    if step.task == "synthesize"
                    else "A walkthrough describes the whole change: "
                    "run tokyo describe (or review --describe) without --shard."
                )
                outcome = _Outcome(result=res)
            elif step.task == "synthesize":
                outcome = await self._synthesize(step, agent, res, upstream)
            elif step.task == "verify":
                outcome = await self._verify(step, agent, res, upstream)
            elif step.task == "describe":
                outcome = await self._describe(step, agent, res)
            elif step.task == "fix":
                outcome = await self._fix(step, agent, res, upstream)
            else:
                outcome = await self._review(step, agent, res)
            span.set(
                {
                    "gen_ai.request.model": res.model,
                    "tokyo.outcome": res.status,
                    "tokyo.findings": len(res.findings),
                    "gen_ai.usage.input_tokens": res.tokens_in,
                    "gen_ai.usage.output_tokens": res.tokens_out,
                    "tokyo.cost_usd": res.cost_usd,
                }
            )
            if res.status == "failed":
                span.fail(res.error or "failed")
        res.seconds = round(time.perf_counter() - t0, 3)
        # The severity policy caps every finding of the step (analyzer, model, synthesis, a
        # model's re-rating) before anyone sees it: events, reports, fail-on, history.
        res.findings = sorted((apply_policy(f) for f in res.findings), key=rank_key)
        for f in res.findings:
            self.emit(ev.FindingRaised(step_id=step.id, finding=f))
        self.emit(
            ev.StepFinished(
                step_id=step.id, status=res.status, findings=len(res.findings), seconds=res.seconds, error=res.error
            )
        )
        self._remember_plan(step, res)
        self._outcomes[step.id] = outcome
        return outcome

    # -------------------------------------------------------------- helpers

    def _online(self, agent: AgentSpec, res: StepResult) -> tuple[str, list[str]] | None:
        """The models to call, or ``None`` (and the step marked offline) when there are none."""
        configured = configured_models(agent, self.options.model)
        res.configured_model = configured[0]
        if self.gateway is None or self.options.offline:
            return None
        usable = callable_models(agent, self.options.model, self.options.api_base)
        if not usable:
            res.credential_env = credential_env(configured[0])
            return None
        return usable[0], usable[1:]

    async def _analyze(self, agent: AgentSpec, res: StepResult, files: list[FileChange]) -> list[Finding]:
        if not agent.analyzers or not files:
            return []
        store = self.options.local_cache
        key = ""
        if store:
            inputs = ""
            if "test-gaps" in agent.analyzers:  # it reads coverage data, which the change digest misses
                from tokyo_cli.analyzers.coverage_data import data_fingerprint

                inputs = data_fingerprint(self.changeset)
            key = analyzer_key(self._change_digest(), agent.id, agent.analyzers, [f.path for f in files], inputs)
        cached = store.get_text(key) if store else None
        if cached is not None:
            runs = _ANALYZER_RUNS.validate_json(cached)
        else:
            # The limit grows with the files (a whole-tree audit is not a small change), and
            # never outlasts the run's own limit (a hook's --time-limit).
            limit = analyzer_time_limit(self.options.analyzer_timeout, len(files))
            if self.options.time_limit_s is not None:
                limit = min(limit, max(self.options.time_limit_s, 0.1))
            runs = await asyncio.to_thread(
                run_analyzers,
                agent.analyzers,
                self.changeset,
                files,
                agent=agent.id,
                timeout_s=limit,
            )
            if store and not any(r.error for r in runs):  # a timeout must not be remembered
                store.put_text(key, "analyzers", _ANALYZER_RUNS.dump_json(runs).decode())
        found: list[Finding] = []
        for r in runs:
            # A shard reports on its own files only; the other shards report the rest.
            mine = [f for f in r.findings if self.changeset.in_scope(f.path)]
            res.analyzers.append(
                AnalyzerNote(
                    name=r.name,
                    findings=len(mine),
                    error=r.error,
                    seconds=round(r.seconds, 3),
                    not_analyzed=dict(r.not_analyzed),
                )
            )
            for f in mine:
                found.append(apply_policy(f).model_copy(update={"step": res.step_id}))
            self._analyzer_notes += [n for n in r.notes if n not in self._analyzer_notes]
        return found

    # --------------------------------------------------------------- review

    async def _review(self, step: StepSpec, agent: AgentSpec, res: StepResult) -> _Outcome:
        files = select_files(agent, step, self.changeset)
        models = self._online(agent, res)
        res.model = models[0] if models else None
        if not files:
            res.status = "skipped"
            res.summary = (
                "No changed file matched this step." if files is not None else "Skipped: `when` did not match."
            )
            self.emit(ev.StepStarted(step_id=step.id, agent=agent.id, model=res.model, files=0))
            return _Outcome(result=res)
        res.files = [f.path for f in files]
        res.status = "running"
        self.emit(ev.StepStarted(step_id=step.id, agent=agent.id, model=res.model, files=len(files)))
        evidence = await self._analyze(agent, res, files)
        self._evidence[step.id] = evidence
        if models is None:
            res.status = "offline"
            res.findings = evidence
            return _Outcome(result=res)

        model = models[0]
        # Without a cost cap a small change skips loading tokenizers (~0.4 s each); a small
        # window (a local model) needs real counts, or the byte bound would leave no room.
        exact = self._exact_tokens() or agent.context_window <= SMALL_WINDOW_TOKENS
        trusted = self.workflow.origin != "repository"
        prompt = system_prompt(agent, step.instructions if trusted else None)
        notes = repository_instructions(agent, None if trusted else step.instructions)
        framing = prompt + (notes or "")  # the repository's instructions ride in every chunk's message
        fixed = (self.meter.count(model, [framing])[0] if exact else len(framing.encode())) + PROMPT_MARGIN_TOKENS
        if self.workflow.path_instructions:  # and path instructions in chunks with a matching file
            fixed += PATH_NOTES_RESERVE
        room = agent.context_window - agent.max_output_tokens - fixed - int(agent.context_window * EVIDENCE_SHARE)
        # Tokenizing a big change takes seconds of CPU (in Rust, GIL released): off the loop.
        chunks = await asyncio.to_thread(
            pack, files, min(room, self.options.max_chunk_tokens), model=model, meter=self.meter, exact=exact
        )
        jobs = []
        for i, chunk in enumerate(chunks, 1):
            messages, _ = review_messages(
                agent,
                chunk,
                target_description=self.changeset.target.description,
                evidence=evidence,
                index=i,
                total=len(chunks),
                step_instructions=step.instructions if trusted else None,
                repo_instructions=notes,
                path_instructions=self.workflow.path_instructions,
            )
            jobs.append(self.caller.call(res, agent, models, messages, i, len(chunks), fixed + chunk.tokens))
        outputs = await asyncio.gather(*jobs, return_exceptions=True)

        found: list[Finding] = []
        replies: list[tuple[list[str], AgentOutput]] = []  # (paths shown, reply) for evidence verdicts
        summaries, errors, refused = [], [], 0
        reviewed: set[str] = set()
        for chunk, out in zip(chunks, outputs):
            if isinstance(out, CallFailed):
                for path in chunk.paths:
                    res.not_reviewed.setdefault(path, out.reason)
                if out.reason == "budget":
                    refused += 1
                else:
                    errors.append(str(out))
                continue
            if isinstance(out, BaseException):
                raise out
            summaries.append(out.summary.strip())
            replies.append((chunk.paths, out))
            shown = set(chunk.paths)
            reviewed |= shown
            for raw in out.findings:
                f = anchor_finding(raw, self.changeset, paths=shown, agent=agent.id, step=step.id)
                if f is None:
                    res.dropped_findings += 1
                else:
                    found.append(f)
        # The models' verdicts on the analyzer evidence: dismissed ones stay in the step only.
        kept, dismissed = reconcile(evidence, replies, found)
        res.findings = merge_duplicates(kept + found) + dismissed
        res.summary = " ".join(s for s in summaries if s)
        done = len(chunks) - len(errors) - refused
        if errors:
            res.error = errors[0] if len(errors) == 1 else f"{len(errors)} of {len(chunks)} calls failed: {errors[0]}"
        elif refused:
            res.error = f"cost cap reached: {refused} of {len(chunks)} calls not started"
        if done == len(chunks):
            res.status = "ok"
        elif done:
            res.status = "partial"
        else:
            res.status = "failed" if errors else "skipped"
        return _Outcome(result=res, summary=res.summary)

    # ----------------------------------------------------------- synthesize

    async def _synthesize(
        self, step: StepSpec, agent: AgentSpec, res: StepResult, upstream: list[_Outcome]
    ) -> _Outcome:
        merged = self._upstream_findings(upstream)
        res.files = sorted({p for o in upstream for p in o.result.files})
        models = self._online(agent, res)
        res.model = models[0] if models else None
        res.status = "running"
        self.emit(ev.StepStarted(step_id=step.id, agent=agent.id, model=res.model, files=len(res.files)))
        if models is None:
            res.status = "offline"
            return _Outcome(result=res)
        summaries = {o.result.agent_name: o.summary for o in upstream if o.summary}
        messages, ids, _ = synthesis_messages(
            agent, merged, summaries, target_description=self.changeset.target.description
        )
        try:
            out = await self.caller.call(res, agent, models, messages, 1, 1, self._prompt_size(models[0], messages))
        except CallFailed as exc:
            res.status = "skipped" if exc.reason == "budget" else "failed"
            res.error = str(exc) if exc.reason != "budget" else f"cost cap reached: {exc}"
            return _Outcome(result=res)
        groups = [[ids[i] for i in group if i in ids] for group in out.duplicates]
        shown = {f.path for f in self.changeset.reviewable()}
        for raw in out.findings:
            f = anchor_finding(raw, self.changeset, paths=shown, agent=agent.id, step=step.id, source="synthesis")
            if f is None:
                res.dropped_findings += 1
            else:
                res.findings.append(f)
        res.summary = out.summary.strip()
        res.status = "ok"
        return _Outcome(result=res, summary=res.summary, duplicate_groups=[g for g in groups if len(g) > 1])

    async def synthesize_findings(
        self, step: StepSpec, findings: list[Finding], steps: Sequence[StepResult]
    ) -> tuple[StepResult, list[list[str]]]:
        """Run synthesize ``step`` over ``findings`` made elsewhere (``tokyo merge --synthesize``),
        with ``steps`` as the upstream steps (their summaries and files). Returns the step and
        the duplicate groups (lists of fingerprints) the lead named; never raises for a
        provider failure (the step is ``failed`` or ``skipped`` with the reason)."""
        agent = self.team.get(step.agent)
        res = StepResult(step_id=step.id, agent=agent.id, agent_name=agent.name, task="synthesize")
        upstream = []
        for s in steps:
            mine = [f for f in findings if f.step == s.step_id]
            upstream.append(_Outcome(result=s.model_copy(update={"findings": mine}), summary=s.summary))
        named = {s.step_id for s in steps}
        rest = [f for f in findings if f.step not in named]
        if rest:
            upstream.append(
                _Outcome(result=StepResult(step_id="merged", agent=agent.id, agent_name=agent.name, findings=rest))
            )
        t0 = time.perf_counter()
        outcome = await self._synthesize(step, agent, res, upstream)
        res.seconds = round(time.perf_counter() - t0, 3)
        res.findings = sorted((apply_policy(f) for f in res.findings), key=rank_key)
        return res, outcome.duplicate_groups

    # --------------------------------------------------------------- verify

    async def _verify(self, step: StepSpec, agent: AgentSpec, res: StepResult, upstream: list[_Outcome]) -> _Outcome:
        """Cross-examine the upstream findings (:mod:`tokyo_cli.engine.tasks.verify`): one call per
        file, concurrent; a failed call or an offline agent leaves its findings unverified."""
        from tokyo_cli.engine.tasks import verify as vt

        candidates = self._upstream_findings(upstream)
        chosen = vt.eligible(candidates, step.min_severity)
        res.files = sorted({f.path for f in chosen})
        models = self._online(agent, res)
        res.model = models[0] if models else None
        res.status = "running"
        self.emit(ev.StepStarted(step_id=step.id, agent=agent.id, model=res.model, files=len(res.files)))
        advisory = self.workflow.origin == "repository"
        if not chosen:
            res.status, res.summary = "skipped", "No finding to verify."
            return _Outcome(result=res, passed=candidates)
        if models is None:
            judged = vt.unverified(chosen, agent.id, "the verifier had no model (offline)")
            res.status = "offline"
        else:
            judged = await self._verify_calls(step, agent, res, models, vt.verify_ids(chosen))
        kept, rejected = apply_judgements(chosen, judged, advisory=advisory)
        res.findings = kept + rejected
        passed, _ = apply_judgements(candidates, judged, advisory=advisory)
        counts = {
            v: sum(1 for j in judged.values() if j.verification == v)
            for v in ("verified", "corrected", "rejected", "unverified")
        }
        tally = ", ".join(f"{n} {v}" for v, n in counts.items() if n)
        res.summary = " ".join(x for x in (f"Verified {len(chosen)} finding(s): {tally}.", res.summary) if x)
        return _Outcome(result=res, summary=res.summary, judgements=judged, passed=passed)

    async def _verify_calls(
        self, step: StepSpec, agent: AgentSpec, res: StepResult, models: tuple[str, list[str]], ids: dict[str, Finding]
    ) -> dict[str, Judgement]:
        from tokyo_cli.engine.tasks import verify as vt

        trusted = self.workflow.origin != "repository"
        notes = repository_instructions(agent, None if trusted else step.instructions)
        by_path: dict[str, list[tuple[str, Finding]]] = {}
        for key, f in ids.items():
            by_path.setdefault(f.path, []).append((key, f))
        jobs = []
        for i, (path, items) in enumerate(by_path.items(), 1):
            messages = vt.verify_messages(
                agent,
                path,
                items,
                self.changeset,
                target_description=self.changeset.target.description,
                step_instructions=step.instructions if trusted else None,
                repo_instructions=notes,
            )
            jobs.append(
                self.caller.call(
                    res,
                    agent,
                    models,
                    messages,
                    i,
                    len(by_path),
                    self._prompt_size(models[0], messages),
                    schema=vt.VerifyOutput,
                )
            )
        outputs = await asyncio.gather(*jobs, return_exceptions=True)
        replies: list[tuple[set[str], vt.VerifyOutput]] = []
        failed: dict[str, Judgement] = {}
        errors, refused, summaries = [], 0, []
        for items, out in zip(by_path.values(), outputs):
            if isinstance(out, CallFailed):
                refused += out.reason == "budget"
                if out.reason != "budget":
                    errors.append(str(out))
                failed.update(vt.unverified((f for _, f in items), agent.id, f"the verify call failed ({out.reason})"))
                continue
            if isinstance(out, BaseException):
                raise out
            replies.append(({k for k, _ in items}, out))
            summaries.append(out.summary.strip())
        judged = {**vt.judge(ids, replies, agent.id, self.changeset), **failed}
        done = len(by_path) - len(errors) - refused
        if errors:
            res.error = errors[0] if len(errors) == 1 else f"{len(errors)} of {len(by_path)} calls failed: {errors[0]}"
        elif refused:
            res.error = f"cost cap reached: {refused} of {len(by_path)} calls not started"
        res.status = "ok" if done == len(by_path) else "partial" if done else ("failed" if errors else "skipped")
        res.summary = " ".join(s for s in summaries if s)
        return judged

    # ------------------------------------------------------------- describe

    async def _describe(self, step: StepSpec, agent: AgentSpec, res: StepResult) -> _Outcome:
        """The walkthrough (:mod:`tokyo_cli.engine.tasks.describe`): the deterministic one offline or
        when the call fails (the step then says why), the model's prose over it otherwise."""
        from tokyo_cli.engine.tasks import describe as dt

        base = dt.offline_walkthrough(self.changeset)
        res.files = [r.path for r in base.files]
        models = self._online(agent, res)
        res.model = models[0] if models else None
        res.status = "running"
        self.emit(ev.StepStarted(step_id=step.id, agent=agent.id, model=res.model, files=len(res.files)))
        res.summary = base.overview
        if models is None:
            res.status = "offline"
            return _Outcome(result=res, walkthrough=base)
        trusted = self.workflow.origin != "repository"
        table = dt.table_text(base)
        fixed = len(table.encode()) + PROMPT_MARGIN_TOKENS
        room = agent.context_window - agent.max_output_tokens - fixed
        chunks = await asyncio.to_thread(
            pack,
            self.changeset.reviewable(),
            min(room, self.options.max_chunk_tokens),
            model=models[0],
            meter=self.meter,
            exact=self._exact_tokens(),
        )
        messages = dt.describe_messages(
            agent,
            base,
            chunks[0] if chunks else None,
            target_description=self.changeset.target.description,
            step_instructions=step.instructions if trusted else None,
            repo_instructions=repository_instructions(agent, None if trusted else step.instructions),
        )
        try:
            out = await self.caller.call(
                res, agent, models, messages, 1, 1, self._prompt_size(models[0], messages), schema=dt.DescribeOutput
            )
        except CallFailed as exc:
            res.status = "skipped" if exc.reason == "budget" else "failed"
            res.error = f"{exc}; the walkthrough is the offline one"
            return _Outcome(result=res, walkthrough=base)
        walkthrough = dt.merge_reply(base, out, agent.id)
        res.status, res.summary = "ok", walkthrough.overview
        return _Outcome(result=res, walkthrough=walkthrough)

    # ------------------------------------------------------------------ fix

    async def _fix(self, step: StepSpec, agent: AgentSpec, res: StepResult, upstream: list[_Outcome]) -> _Outcome:
        """A checked patch per upstream finding (:mod:`tokyo_cli.engine.tasks.fix`), concurrently,
        checked against the changeset's own text (never the working tree)."""
        from tokyo_cli.engine.tasks.fix import FixProposal, propose
        from tokyo_cli.engine.tasks.patches import check_against
        from tokyo_cli.engine.tasks.verify import eligible

        candidates = self._upstream_findings(upstream)
        chosen = [f for f in eligible(candidates, step.min_severity) if self.changeset.new_content(f.path) is not None]
        res.files = sorted({f.path for f in chosen})
        models = self._online(agent, res)
        res.model = models[0] if models else None
        res.status = "running"
        self.emit(ev.StepStarted(step_id=step.id, agent=agent.id, model=res.model, files=len(res.files)))
        if not chosen:
            res.status, res.summary = "skipped", "No finding to fix."
            return _Outcome(result=res, passed=candidates)

        def check(patch: str) -> str | None:
            return check_against(patch, self.changeset)

        async def one(i: int, f: Finding) -> FixProposal:
            content = self.changeset.new_content(f.path) or ""
            return await propose(
                f,
                content,
                check,
                caller=self.caller if models else None,
                res=res,
                agent=agent,
                models=models,
                index=i,
                total=len(chosen),
                size=lambda m: self._prompt_size(models[0] if models else "", m),
            )

        proposals = await asyncio.gather(*(one(i, f) for i, f in enumerate(chosen, 1)))
        patches = {p.finding.fingerprint: p.patch for p in proposals if p.patch}
        failed = [p for p in proposals if p.error and "call failed" in p.error]
        res.findings = [
            f.model_copy(update={"patch": patches[f.fingerprint]}) for f in chosen if f.fingerprint in patches
        ]
        res.summary = f"Patches for {len(patches)} of {len(chosen)} finding(s)."
        if models is None:
            res.status = "offline"
        elif failed:
            res.status = "partial" if len(failed) < len(chosen) else "failed"
            res.error = failed[0].error
        else:
            res.status = "ok"
        return _Outcome(result=res, summary=res.summary, passed=candidates, patches=patches)

    def _prompt_size(self, model: str, messages: list[dict[str, str]]) -> int:
        """Tokens of ``messages`` (exact under a cost cap, else a bytes bound) plus the margin."""
        texts = [m["content"] for m in messages]
        size = sum(self.meter.count(model, texts)) if self._exact_tokens() else sum(len(t.encode()) for t in texts)
        return size + PROMPT_MARGIN_TOKENS

    def _upstream_findings(self, upstream: Sequence[_Outcome]) -> list[Finding]:
        """The merged findings the steps of ``upstream`` hand on: their active findings, and
        for a verify step the findings it passed, with every upstream verdict applied (a
        finding a verify step rejected is left out, whichever step raised it)."""
        found: list[Finding] = []
        judged: dict[str, Judgement] = {}
        for o in upstream:
            found += o.passed if o.result.task in ("verify", "fix") else active(o.result.findings)
            judged.update(o.judgements)
        kept, _ = apply_judgements(merge_duplicates(found), judged, advisory=self.workflow.origin == "repository")
        return kept

    def _change_digest(self) -> str:
        """:func:`~tokyo_cli.engine.cache.changeset_digest`, hashed once per run (steps share it)."""
        if self._digest is None:
            self._digest = changeset_digest(self.changeset)
        return self._digest

    def _exact_tokens(self) -> bool:
        """Real token counts matter only under a cost cap; otherwise a bytes bound will do."""
        return self.gateway is not None and getattr(self.gateway.budget, "max_cost_usd", None) is not None


def _plan_keys(text: str | None) -> list[str] | None:
    """The call keys of a stored plan, or ``None`` when there is none or it is unreadable."""
    if text is None:
        return None
    try:
        keys = json.loads(text)
    except ValueError:
        return None
    return [k for k in keys if isinstance(k, str)] if isinstance(keys, list) else None


def _rejection_notices(rejected: Sequence[Finding]) -> list[str]:
    """One line per analyzer finding a verify step rejected, with its reason: like a
    dismissal, a rejection of an analyzer's finding is never silent."""
    return [
        f"{f.verified_by} rejected {f.rule or f.category} at {f.location} ({f.severity.value}: {f.title[:80]}) "
        f"because: {(f.verification_reason or '')[:300]}"
        for f in rejected
        if f.source == "analyzer"
    ]


def _dismissal_notices(steps: Sequence[StepResult]) -> list[str]:
    """One line per analyzer finding a model dismissed, with its reason: a dismissal is never
    silent (a change could carry text that talks a model into dismissing its own findings)."""
    out: list[str] = []
    seen: set[str] = set()
    for step in steps:
        for f in step.findings:
            if f.status == "dismissed" and f.fingerprint not in seen:
                seen.add(f.fingerprint)
                out.append(
                    f"{step.agent_name} ({step.step_id}) dismissed {f.rule or f.category} at {f.location} "
                    f"({f.severity.value}: {f.title[:80]}) because: {(f.dismissed_reason or '')[:300]}"
                )
    return out
