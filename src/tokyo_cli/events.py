"""Events the engine emits while a run happens; any listener (progress, TUI, log) takes them.

A listener is a plain callable ``(Event) -> None`` called on the event loop's thread; it must
not block. Events carry ids, not live objects, so a listener cannot change the run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from tokyo_cli.findings import Finding


@dataclass(frozen=True)
class RunStarted:
    workflow: str
    target_description: str
    steps: list[str] = field(default_factory=list)
    files: int = 0


@dataclass(frozen=True)
class StepStarted:
    step_id: str
    agent: str
    model: str | None  # None: offline (analyzers only)
    files: int = 0


@dataclass(frozen=True)
class CallStarted:
    step_id: str
    model: str
    chunk: int
    chunks: int


@dataclass(frozen=True)
class CallText:
    """A piece of text the model streamed for ``step_id``'s call on chunk ``chunk`` (1-based).

    Only emitted when the engine runs with ``EngineOptions.stream``; ``text`` is a delta
    (append it), untrusted model output, and a retried attempt streams again from the start.
    """

    step_id: str
    chunk: int
    text: str


@dataclass(frozen=True)
class CallFinished:
    step_id: str
    model: str
    tokens_in: int
    tokens_out: int
    cost_usd: float | None
    latency_s: float
    ok: bool
    error: str | None = None
    cache_hit: bool = False


@dataclass(frozen=True)
class FindingRaised:
    step_id: str
    finding: Finding


@dataclass(frozen=True)
class StepFinished:
    step_id: str
    status: str
    findings: int
    seconds: float
    error: str | None = None


@dataclass(frozen=True)
class RunFinished:
    status: str
    findings: int
    seconds: float


Event = RunStarted | StepStarted | CallStarted | CallText | CallFinished | FindingRaised | StepFinished | RunFinished
Listener = Callable[[Event], None]


def null_listener(event: Event) -> None:
    """A listener that ignores every event."""
