"""What a live display knows about a run, built from engine events alone.

Shared by the TUI's live screen and the rich progress display (``cli/progress.py``), so both
fold events the same way; no Textual or rich here.

:class:`RunView` folds :mod:`tokyo_cli.events` into per-step :class:`StepView` rows and the
list of findings raised so far; widgets render from it. Times are seconds on the injected
monotonic clock (``now`` arguments), so a test can freeze them.

The "current call" of a step is what the events tell: how many calls are in flight and since
when, and — when the run streams (``EngineOptions.stream``) — the tail of the text its latest
call is streaming (:class:`~tokyo_cli.events.CallText`), model text for widgets to clean,
masked by the secret detector (:mod:`tokyo_cli.safety.masking`) as it accumulates.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tokyo_cli import events as ev
from tokyo_cli.findings import Finding
from tokyo_cli.safety.masking import mask_secrets

STREAM_TAIL = 200  # characters of streamed text a step keeps (about two panel lines)
FINISHED = frozenset({"ok", "partial", "offline", "failed", "skipped", "cancelled"})


@dataclass
class StepView:
    """One workflow step as the panels show it (tokens, USD, seconds as in the events)."""

    step_id: str
    agent: str = ""
    agent_name: str = ""
    task: str = "review"
    model: str | None = None  # None before it starts, or offline
    configured_model: str | None = None
    status: str = "pending"
    files: int = 0
    started: float | None = None
    seconds: float | None = None  # wall time, once finished
    calls_started: int = 0
    calls_done: int = 0
    calls_failed: int = 0
    chunks: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float | None = None
    findings: int = 0
    error: str | None = None
    in_flight_since: list[float] = field(default_factory=list)  # start times of open calls
    streamed: str = ""  # the last STREAM_TAIL characters the current call streamed (untrusted, masked)
    streamed_chunk: int = 0  # which chunk ``streamed`` belongs to (0: none)

    @property
    def label(self) -> str:
        """``"Akira"``, or ``"Kenji · summary"`` when the step id is not the agent's specialty."""
        name = self.agent_name or self.agent or self.step_id
        return name if self.step_id in ("", self.agent) else f"{name} · {self.step_id}"

    @property
    def calls_total(self) -> int:
        """Calls known so far: the chunk count, or more when repair calls were made."""
        return max(self.chunks, self.calls_started)

    @property
    def in_flight(self) -> int:
        return len(self.in_flight_since)

    def elapsed(self, now: float) -> float:
        """Seconds since the step started (its final wall time once finished; 0 if pending)."""
        if self.seconds is not None:
            return self.seconds
        return max(0.0, now - self.started) if self.started is not None else 0.0

    def call_elapsed(self, now: float) -> float:
        """Seconds the oldest call in flight has been waiting (0 with none in flight)."""
        return max(0.0, now - self.in_flight_since[0]) if self.in_flight_since else 0.0


@dataclass
class PlannedStep:
    """A step known before the run starts (from the workflow and team), for the first paint."""

    step_id: str
    agent: str
    agent_name: str
    task: str = "review"
    model: str | None = None


@dataclass
class RunView:
    """The whole run as events describe it; ``apply`` is the only mutator."""

    workflow: str = ""
    target_description: str = ""
    files: int = 0
    status: str = "starting"  # starting | running | completed | partial | failed | cancelled
    started: float | None = None
    seconds: float | None = None
    steps: dict[str, StepView] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)  # raw, in arrival order

    @classmethod
    def planned(cls, plan: list[PlannedStep], *, workflow: str = "", target_description: str = "") -> RunView:
        """A view with every planned step pending (names and configured models known)."""
        view = cls(workflow=workflow, target_description=target_description)
        for p in plan:
            view.steps[p.step_id] = StepView(
                step_id=p.step_id, agent=p.agent, agent_name=p.agent_name, task=p.task, configured_model=p.model
            )
        return view

    def step(self, step_id: str) -> StepView:
        view = self.steps.get(step_id)
        if view is None:
            view = self.steps[step_id] = StepView(step_id=step_id)
        return view

    @property
    def running(self) -> bool:
        return self.status in ("starting", "running")

    def elapsed(self, now: float) -> float:
        if self.seconds is not None:
            return self.seconds
        return max(0.0, now - self.started) if self.started is not None else 0.0

    @property
    def steps_done(self) -> int:
        return sum(1 for s in self.steps.values() if s.status in FINISHED)

    @property
    def calls_done(self) -> int:
        return sum(s.calls_done for s in self.steps.values())

    @property
    def calls_total(self) -> int:
        return sum(s.calls_total for s in self.steps.values())

    @property
    def tokens_in(self) -> int:
        return sum(s.tokens_in for s in self.steps.values())

    @property
    def tokens_out(self) -> int:
        return sum(s.tokens_out for s in self.steps.values())

    @property
    def cost_usd(self) -> float | None:
        known = [s.cost_usd for s in self.steps.values() if s.cost_usd is not None]
        return sum(known) if known else None

    def apply(self, event: ev.Event, now: float) -> StepView | None:
        """Fold ``event`` in; returns the step it changed (``None`` for run-level events)."""
        if isinstance(event, ev.RunStarted):
            self.workflow, self.target_description = event.workflow, event.target_description
            self.files, self.status, self.started = event.files, "running", now
            for step_id in event.steps:
                self.step(step_id)
            return None
        if isinstance(event, ev.RunFinished):
            self.status, self.seconds = event.status, event.seconds
            return None
        step = self.step(event.step_id)
        if isinstance(event, ev.StepStarted):
            step.agent, step.model, step.files = event.agent, event.model, event.files
            step.status, step.started = "running", now
        elif isinstance(event, ev.CallStarted):
            step.calls_started += 1
            step.chunks = max(step.chunks, event.chunks)
            step.model = event.model
            step.in_flight_since.append(now)
        elif isinstance(event, ev.CallText):
            # Concurrent chunks each stream; the panel follows whichever spoke last.
            # Masked whole each time: a secret split across deltas is masked once both halves are in.
            kept = step.streamed if event.chunk == step.streamed_chunk else ""
            tail = mask_secrets((kept + event.text)[-2 * STREAM_TAIL :])[0]
            step.streamed, step.streamed_chunk = tail[-STREAM_TAIL:], event.chunk
        elif isinstance(event, ev.CallFinished):
            step.streamed, step.streamed_chunk = "", 0
            # Events do not say which chunk finished; the oldest open call is the best guess.
            if step.in_flight_since:
                step.in_flight_since.pop(0)
            step.calls_done += 1
            step.tokens_in += event.tokens_in
            step.tokens_out += event.tokens_out
            if event.cost_usd is not None:
                step.cost_usd = (step.cost_usd or 0.0) + event.cost_usd
            if not event.ok:
                step.calls_failed += 1
                step.error = event.error
        elif isinstance(event, ev.FindingRaised):
            step.findings += 1
            self.findings.append(event.finding)
        elif isinstance(event, ev.StepFinished):
            step.status, step.seconds = event.status, event.seconds
            step.findings = max(step.findings, event.findings)
            step.error = event.error or step.error
            step.in_flight_since.clear()
            step.streamed, step.streamed_chunk = "", 0
        return step
