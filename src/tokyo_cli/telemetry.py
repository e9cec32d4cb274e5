"""Optional OpenTelemetry traces: a span per run, per step and per model call.

Off unless the OpenTelemetry environment asks for it: ``OTEL_EXPORTER_OTLP_ENDPOINT``,
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` or ``OTEL_TRACES_EXPORTER`` set (and
``OTEL_SDK_DISABLED`` not ``true``), and the SDK importable (``pip install 'tokyo-cli[otel]'``).
Otherwise nothing of OpenTelemetry is imported and every :func:`span` is a no-op.

Exporters follow the SDK's variables (opentelemetry.io "SDK environment variables"):
``OTEL_TRACES_EXPORTER`` is ``otlp`` (default), ``console`` or ``none`` (comma-separated for
several); OTLP speaks ``http/protobuf`` unless ``OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`` /
``OTEL_EXPORTER_OTLP_PROTOCOL`` say ``grpc`` (which needs the grpc exporter installed); the
exporters read their endpoint, headers and timeout from ``OTEL_EXPORTER_OTLP_*`` themselves.
``service.name`` is ``tokyo`` unless ``OTEL_SERVICE_NAME`` or ``OTEL_RESOURCE_ATTRIBUTES``
name one.

Span names and attributes (the GenAI semantic conventions where they have a name):

- ``tokyo.run``: ``tokyo.workflow``, ``tokyo.target``; at the end ``tokyo.outcome`` (the
  run's status), ``tokyo.findings``, ``gen_ai.usage.input_tokens`` / ``output_tokens``
  (tokens), ``tokyo.cost_usd`` (USD, known prices only), ``tokyo.calls``;
- ``tokyo.step``: ``tokyo.step.id``, ``tokyo.agent``, ``tokyo.task``, ``gen_ai.request.model``
  (the model it calls, if any); at the end ``tokyo.outcome`` (the step's status),
  ``tokyo.findings``, tokens and cost as above;
- ``chat MODEL`` (one per model call, cached or not): ``gen_ai.operation.name`` = ``chat``,
  ``gen_ai.request.model``, ``gen_ai.response.model``, ``gen_ai.provider.name``,
  ``gen_ai.usage.input_tokens`` / ``output_tokens``, ``tokyo.cost_usd``, ``tokyo.cache_hit``,
  ``tokyo.attempts``, ``tokyo.outcome`` (``ok``, ``invalid_output``, ``error``, ``budget``).

No prompt, reply, file name or key is put in a span.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import threading
from collections.abc import Iterator
from typing import Any

SWITCHES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_TRACES_EXPORTER")
"""Environment variables whose presence turns tracing on."""
FLUSH_TIMEOUT_MS = 5_000
"""How long :func:`flush` waits for the exporter at the end of a run, milliseconds."""

_lock = threading.Lock()
_state: dict[str, Any] = {}  # "tracer": the Tracer or None once decided; "provider": the SDK provider


class Span:
    """What instrumented code holds: :meth:`set` adds attributes, :meth:`fail` marks the span
    as an error. A no-op without a tracer."""

    def __init__(self, span: Any = None) -> None:
        self._span = span

    def set(self, attributes: dict[str, Any]) -> None:
        """Set ``{"gen_ai.request.model": "o3", ...}``; ``None`` values are left out."""
        if self._span is not None:
            self._span.set_attributes(_clean(attributes))

    def fail(self, message: str) -> None:
        """Mark the span's status as an error with ``message``."""
        if self._span is not None:
            from opentelemetry.trace import Status, StatusCode

            self._span.set_status(Status(StatusCode.ERROR, message[:500]))


def _clean(attributes: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attributes.items() if v is not None}


def enabled_by_env() -> bool:
    """True when the environment asks for traces (see the module docstring)."""
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return any(os.environ.get(name, "").strip() for name in SWITCHES)


def tracer() -> Any:
    """The OpenTelemetry tracer, or ``None`` (tracing off, or the SDK is not installed).
    Decided once per process; the SDK is imported only when the environment asks."""
    with _lock:
        if "tracer" not in _state:
            _state["tracer"] = _setup() if enabled_by_env() else None
        return _state["tracer"]


def use_tracer_provider(provider: Any) -> None:
    """Trace through ``provider`` (an SDK ``TracerProvider``), whatever the environment says;
    ``None`` turns tracing off. For tests (an in-memory exporter) and embedding programs."""
    with _lock:
        _state["provider"] = provider
        _state["tracer"] = provider.get_tracer("tokyo_cli") if provider is not None else None


def _setup() -> Any:
    """A tracer exporting where the OTEL_* variables say, or ``None`` when the SDK or the
    chosen exporter is missing, or the exporters are ``none``."""
    try:
        from opentelemetry import trace
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        return None
    exporters = [e.strip().lower() for e in os.environ.get("OTEL_TRACES_EXPORTER", "otlp").split(",") if e.strip()]
    processors = []
    for name in exporters:
        exporter = _exporter(name)
        if exporter is not None:
            processors.append(BatchSpanProcessor(exporter))
    if not processors:
        return None
    named = os.environ.get("OTEL_SERVICE_NAME") or "service.name=" in os.environ.get("OTEL_RESOURCE_ATTRIBUTES", "")
    provider = TracerProvider(resource=Resource.create({} if named else {"service.name": "tokyo"}))
    for processor in processors:
        provider.add_span_processor(processor)
    _state["provider"] = provider
    current = trace.get_tracer_provider()
    if type(current).__name__ == "ProxyTracerProvider":  # nobody set one: share ours (litellm's "otel" callback)
        trace.set_tracer_provider(provider)
    return provider.get_tracer("tokyo_cli")


def _exporter(name: str) -> Any:
    """The span exporter called ``name`` (``otlp``, ``console``), or ``None`` (``none``, an
    unknown name, or its package missing)."""
    try:
        if name == "console":
            from opentelemetry.sdk.trace.export import ConsoleSpanExporter

            return ConsoleSpanExporter()
        if name == "otlp":
            protocol = (
                (
                    os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
                    or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
                    or "http/protobuf"
                )
                .strip()
                .lower()
            )
            # By name: the gRPC exporter is an optional package the `otel` extra does not install.
            kind = "grpc" if protocol == "grpc" else "http"
            return importlib.import_module(
                f"opentelemetry.exporter.otlp.proto.{kind}.trace_exporter"
            ).OTLPSpanExporter()
    except ImportError:
        return None
    return None


def current() -> Span:
    """The span current in this context (a no-op Span when tracing is off)."""
    if tracer() is None:
        return Span()
    from opentelemetry import trace

    return Span(trace.get_current_span())


@contextlib.contextmanager
def span(name: str, attributes: dict[str, Any] | None = None) -> Iterator[Span]:
    """A span named ``name``, current for the block (children nest under it, asyncio tasks
    created inside too), with ``attributes`` (see :meth:`Span.set`); an exception leaving
    the block is recorded and marks it an error. A no-op when tracing is off."""
    current = tracer()
    if current is None:
        yield Span()
        return
    with current.start_as_current_span(name, attributes=_clean(attributes or {})) as otel_span:
        yield Span(otel_span)


def flush() -> None:
    """Export the spans still buffered (at most FLUSH_TIMEOUT_MS): tokyo's process ends
    without interpreter teardown (:mod:`tokyo_cli.cli.leave`), so nothing may wait for it."""
    provider = _state.get("provider")
    if provider is not None and hasattr(provider, "force_flush"):
        provider.force_flush(FLUSH_TIMEOUT_MS)
