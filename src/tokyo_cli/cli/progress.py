"""Live progress of a run on stderr: an ``events.Listener`` for the ``review`` command.

On a terminal: a transient rich ``Live`` table, one row per step (agent, status with a
spinner while running, model or "offline", elapsed seconds, calls done, tokens in/out,
findings) that disappears when the run ends, leaving the screen to the report.

Not on a terminal (CI logs, pipes, ``2>file``): one plain line per event, e.g.::

    [tokyo] review: staged changes — 3 steps, 12 files
    [akira] started (claude-opus-4-5, 12 files)
    [akira] call 1/1 started (claude-opus-4-5)
    [akira] call 1/1 done: 1,234 in / 210 out tokens, $0.0123, 1.02 s
    [akira] finished: 3 findings in 1.4 s
    [tokyo] run completed: 3 findings in 1.6 s

A step whose id differs from its agent's is labelled ``[akira/security]``. ``FindingRaised``
events are counted, not printed: the report lists every finding. Quiet mode prints nothing.
Diagnostics only: everything goes to the console given (stderr by default), never stdout.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType

from rich.console import Console, RenderableType
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from tokyo_cli.events import (
    CallFinished,
    CallStarted,
    Event,
    FindingRaised,
    RunFinished,
    RunStarted,
    StepFinished,
    StepStarted,
)
from tokyo_cli.report import compact_tokens, format_usd, one_line, plural

_STATUS_STYLE = {
    "ok": "green",
    "offline": "yellow",
    "partial": "yellow",
    "failed": "bold red",
    "skipped": "dim",
    "pending": "dim",
}


@dataclass
class _Row:
    """What the display knows about one step (tokens, USD and seconds as in events)."""

    step_id: str
    agent: str = ""
    model: str | None = None
    status: str = "pending"
    files: int = 0
    started: float | None = None  # monotonic clock
    seconds: float | None = None  # set when finished
    calls_started: int = 0
    calls_done: int = 0
    chunks: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float | None = None
    findings: int = 0
    spinner: Spinner = field(default_factory=lambda: Spinner("dots", text=Text("running")))

    @property
    def label(self) -> str:
        if not self.agent or self.agent == self.step_id:
            return self.step_id
        return f"{self.agent}/{self.step_id}"


class ProgressListener:
    """Shows a run's progress; pass the instance as the engine's ``listener``.

    Args:
        console: where to draw; default ``Console(stderr=True)``. Its ``is_terminal`` decides
            between the live table and plain lines (rich also honours ``NO_COLOR`` and
            ``TERM=dumb``).
        quiet: print nothing at all (``--quiet``).
        live: force the live table (True) or plain lines (False); None = decide from console.
        clock: monotonic seconds, injectable for tests.

    Use ``start()`` before the run and ``stop()`` after it (or ``with listener:``); calling
    the listener with events works either way. It never raises on unexpected events.
    """

    def __init__(
        self,
        console: Console | None = None,
        *,
        quiet: bool = False,
        live: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.console = console if console is not None else Console(stderr=True)
        self.quiet = quiet
        if live is None:
            live = self.console.is_terminal and not self.console.is_dumb_terminal
        self.live = live
        self._clock = clock
        self._rows: dict[str, _Row] = {}
        self._title = ""
        self._lock = threading.Lock()  # events arrive on the loop thread, refresh on Live's
        self._display: Live | None = None

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Start the live display (no-op when quiet, not live, or already started)."""
        if self.quiet or not self.live or self._display is not None:
            return
        self._display = Live(
            self,
            console=self.console,
            transient=True,
            refresh_per_second=8,
            # Only stderr is ours; stdout carries the report and must stay untouched.
            redirect_stdout=False,
            redirect_stderr=True,
        )
        self._display.start()

    def stop(self) -> None:
        """Stop and clear the live display; safe to call twice or without ``start()``."""
        display, self._display = self._display, None
        if display is not None:
            display.stop()

    def __enter__(self) -> ProgressListener:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- events ---------------------------------------------------------------------------

    def __call__(self, event: Event) -> None:
        """Record ``event``; print its line when not live. Never blocks, never raises."""
        if self.quiet:
            return
        with self._lock:
            line = self._apply(event)
        if line is not None and not self.live:
            self.console.print(Text(line), soft_wrap=True, highlight=False)

    def _row(self, step_id: str) -> _Row:
        row = self._rows.get(step_id)
        if row is None:
            row = self._rows[step_id] = _Row(step_id=step_id)
        return row

    def _apply(self, event: Event) -> str | None:
        """Update the state for ``event`` and return its plain line (None: nothing to say)."""
        if isinstance(event, RunStarted):
            for step_id in event.steps:
                self._row(step_id)
            self._title = f"{one_line(event.workflow)}: {one_line(event.target_description)}"
            return (
                f"[tokyo] {self._title} — {plural(len(event.steps), 'step')}, "
                f"{plural(event.files, 'file')}"
            )
        if isinstance(event, StepStarted):
            row = self._row(event.step_id)
            row.agent, row.model, row.files = event.agent, event.model, event.files
            row.status, row.started = "running", self._clock()
            model = one_line(event.model) if event.model else "offline: analyzers only"
            return f"[{row.label}] started ({model}, {plural(event.files, 'file')})"
        if isinstance(event, CallStarted):
            row = self._row(event.step_id)
            row.calls_started += 1
            row.chunks = max(row.chunks, event.chunks)
            total = max(row.chunks, row.calls_started)
            model = one_line(event.model)
            return f"[{row.label}] call {row.calls_started}/{total} started ({model})"
        if isinstance(event, CallFinished):
            row = self._row(event.step_id)
            row.calls_done += 1
            row.tokens_in += event.tokens_in
            row.tokens_out += event.tokens_out
            if event.cost_usd is not None:
                row.cost_usd = (row.cost_usd or 0.0) + event.cost_usd
            n = f"{row.calls_done}/{max(row.chunks, row.calls_done)}"
            if not event.ok:
                err = one_line(event.error) or "no error recorded"
                return f"[{row.label}] call {n} failed after {event.latency_s:.2f} s: {err}"
            usd = format_usd(event.cost_usd) if event.cost_usd is not None else "cost unknown"
            return (
                f"[{row.label}] call {n} done: {event.tokens_in:,} in / {event.tokens_out:,} "
                f"out tokens, {usd}, {event.latency_s:.2f} s"
            )
        if isinstance(event, FindingRaised):
            self._row(event.step_id).findings += 1
            return None
        if isinstance(event, StepFinished):
            row = self._row(event.step_id)
            row.status, row.seconds = event.status, event.seconds
            row.findings = max(row.findings, event.findings)
            return self._finished_line(row, event)
        if isinstance(event, RunFinished):
            return (
                f"[tokyo] run {event.status}: {plural(event.findings, 'finding')} "
                f"in {event.seconds:.1f} s"
            )
        return None

    @staticmethod
    def _finished_line(row: _Row, event: StepFinished) -> str:
        found = f"{plural(event.findings, 'finding')} in {event.seconds:.1f} s"
        err = one_line(event.error)
        if event.status == "ok":
            return f"[{row.label}] finished: {found}"
        if event.status == "offline":
            return f"[{row.label}] finished offline (analyzers only): {found}"
        if event.status == "partial":
            return f"[{row.label}] finished in part: {found}" + (f" ({err})" if err else "")
        if event.status == "failed":
            return f"[{row.label}] failed after {event.seconds:.1f} s: {err or 'no error recorded'}"
        if event.status == "skipped":
            return f"[{row.label}] skipped" + (f": {err}" if err else "")
        return f"[{row.label}] {event.status}" + (f": {err}" if err else "")

    # --- live table -----------------------------------------------------------------------

    def __rich__(self) -> RenderableType:
        """The live table (rich calls this on every refresh)."""
        with self._lock:
            rows = list(self._rows.values())
            title = self._title
            now = self._clock()
            done = sum(1 for r in rows if r.seconds is not None)
            table = Table(
                title=Text(f"tokyo · {title} · {done}/{len(rows)} steps done", style="bold"),
                title_justify="left",
                box=None,
                padding=(0, 2, 0, 0),
            )
            for header in ("Agent", "Status", "Model", "s", "Calls", "Tokens in/out", "Findings"):
                right = header in ("s", "Calls", "Tokens in/out", "Findings")
                table.add_column(header, justify="right" if right else "left", no_wrap=True)
            for r in rows:
                if r.seconds is not None:
                    elapsed = r.seconds
                elif r.started is not None:
                    elapsed = now - r.started
                else:
                    elapsed = 0.0
                status: RenderableType = (
                    r.spinner
                    if r.status == "running"
                    else Text(r.status, style=_STATUS_STYLE.get(r.status, ""))
                )
                if r.status == "pending":
                    model = Text("")
                elif r.model:
                    model = Text(one_line(r.model))
                else:
                    model = Text("offline", style="yellow")
                table.add_row(
                    Text(r.label),
                    status,
                    model,
                    f"{elapsed:.1f}",
                    f"{r.calls_done}/{max(r.chunks, r.calls_done)}" if r.chunks else "—",
                    f"{compact_tokens(r.tokens_in)}/{compact_tokens(r.tokens_out)}",
                    str(r.findings),
                )
            return table
