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
from types import TracebackType

from rich.console import Console, RenderableType
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from tokyo_cli.engine.runview import RunView, StepView
from tokyo_cli.events import (
    CallFinished,
    CallStarted,
    Event,
    RunFinished,
    RunStarted,
    StepFinished,
    StepStarted,
)
from tokyo_cli.report import STEP_STATUS_STYLE, compact_tokens, format_usd, one_line, plural


def _label(step: StepView) -> str:
    """``akira/security``, or the step id alone when it is the agent's id or not known yet."""
    if not step.agent or step.agent == step.step_id:
        return step.step_id
    return f"{step.agent}/{step.step_id}"


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
        self._view = RunView()  # the same event folding as the TUI's live screen
        self._spinners: dict[str, Spinner] = {}
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

    def _apply(self, event: Event) -> str | None:
        """Fold ``event`` into the run view and return its plain line (None: nothing to say)."""
        step = self._view.apply(event, self._clock())
        if isinstance(event, RunStarted):
            self._title = f"{one_line(event.workflow)}: {one_line(event.target_description)}"
            return f"[tokyo] {self._title} — {plural(len(event.steps), 'step')}, {plural(event.files, 'file')}"
        if isinstance(event, RunFinished):
            return f"[tokyo] run {event.status}: {plural(event.findings, 'finding')} in {event.seconds:.1f} s"
        assert step is not None  # every other event belongs to a step
        if isinstance(event, StepStarted):
            model = one_line(event.model) if event.model else "offline: analyzers only"
            return f"[{_label(step)}] started ({model}, {plural(event.files, 'file')})"
        if isinstance(event, CallStarted):
            return f"[{_label(step)}] call {step.calls_started}/{step.calls_total} started ({one_line(event.model)})"
        if isinstance(event, CallFinished):
            n = f"{step.calls_done}/{max(step.chunks, step.calls_done)}"
            if not event.ok:
                err = one_line(event.error) or "no error recorded"
                return f"[{_label(step)}] call {n} failed after {event.latency_s:.2f} s: {err}"
            usd = format_usd(event.cost_usd) if event.cost_usd is not None else "cost unknown"
            return (
                f"[{_label(step)}] call {n} done: {event.tokens_in:,} in / {event.tokens_out:,} "
                f"out tokens, {usd}, {event.latency_s:.2f} s"
            )
        if isinstance(event, StepFinished):
            return self._finished_line(step, event)
        return None

    @staticmethod
    def _finished_line(row: StepView, event: StepFinished) -> str:
        found = f"{plural(event.findings, 'finding')} in {event.seconds:.1f} s"
        err = one_line(event.error)
        if event.status == "ok":
            return f"[{_label(row)}] finished: {found}"
        if event.status == "offline":
            return f"[{_label(row)}] finished offline (analyzers only): {found}"
        if event.status == "partial":
            return f"[{_label(row)}] finished in part: {found}" + (f" ({err})" if err else "")
        if event.status == "failed":
            return f"[{_label(row)}] failed after {event.seconds:.1f} s: {err or 'no error recorded'}"
        if event.status == "skipped":
            return f"[{_label(row)}] skipped" + (f": {err}" if err else "")
        return f"[{_label(row)}] {event.status}" + (f": {err}" if err else "")

    # --- live table -----------------------------------------------------------------------

    def __rich__(self) -> RenderableType:
        """The live table (rich calls this on every refresh)."""
        with self._lock:
            rows = list(self._view.steps.values())
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
                elapsed = r.elapsed(now)
                status: RenderableType = (
                    self._spinners.setdefault(r.step_id, Spinner("dots", text=Text("running")))
                    if r.status == "running"
                    else Text(r.status, style=STEP_STATUS_STYLE.get(r.status, ""))
                )
                if r.status == "pending":
                    model = Text("")
                elif r.model:
                    model = Text(one_line(r.model))
                else:
                    model = Text("offline", style="yellow")
                table.add_row(
                    Text(_label(r)),
                    status,
                    model,
                    f"{elapsed:.1f}",
                    f"{r.calls_done}/{max(r.chunks, r.calls_done)}" if r.chunks else "—",
                    f"{compact_tokens(r.tokens_in)}/{compact_tokens(r.tokens_out)}",
                    str(r.findings),
                )
            return table
