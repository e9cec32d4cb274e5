"""OpenTelemetry: spans for the run, its steps and its model calls (the SDK's in-memory
exporter, the fake provider), nothing imported when the OTEL_* variables are unset, and the
litellm callbacks setting."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from fakes.gitrepo import GitRepo
from fakes.provider import FakeProvider
from tokyo_cli import telemetry

RunCli = Callable[..., tuple[int, str, str]]
MODEL = "openai/gpt-4o-mini"  # a priced model: calls carry a cost


@pytest.fixture
def spans() -> Iterator[Any]:
    """An in-memory exporter that receives every span tokyo ends in this test."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    telemetry.use_tracer_provider(provider)
    yield exporter
    telemetry.use_tracer_provider(None)


@pytest.fixture
def change(committed_repo: GitRepo) -> GitRepo:
    """One uncommitted change to ``app.py``."""
    committed_repo.write("app.py", "print('bye')\n")
    return committed_repo


def _by_name(spans: Any) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for s in spans.get_finished_spans():
        out.setdefault(s.name, []).append(s)
    return out


def test_spans_for_the_run_its_steps_and_its_calls(
    change: GitRepo, cli: RunCli, fake_provider: FakeProvider, spans: Any, tmp_path: Path
) -> None:
    workflow = tmp_path / "two.yaml"
    workflow.write_text(
        "name: two\nsteps:\n  - {id: sec, agent: akira}\n  - {id: docs, agent: sakura}\n"
        "  - {id: lead, agent: kenji, task: synthesize, depends_on: [sec, docs]}\n"
    )
    fake_provider.script("Sakura", {"nope": 1}, status=400)  # one step's call fails for good
    code, _, err = cli(
        "review",
        str(change.root),
        "--working",
        "--api-base",
        fake_provider.url,
        "--model",
        MODEL,
        "--workflow",
        str(workflow),
        "--format",
        "json",
        "--path",
        "app.py",
    )
    assert code == 0, err
    named = _by_name(spans)
    [run] = named["tokyo.run"]
    assert run.parent is None
    assert run.attributes["tokyo.workflow"] == "two" and run.attributes["tokyo.target"] == "working"
    assert run.attributes["tokyo.outcome"] == "partial" and run.attributes["tokyo.calls"] == 3
    assert run.attributes["gen_ai.usage.input_tokens"] > 0 and run.attributes["tokyo.cost_usd"] > 0
    steps = {s.attributes["tokyo.step.id"]: s for s in named["tokyo.step"]}
    assert set(steps) == {"sec", "docs", "lead"}
    assert all(s.parent.span_id == run.context.span_id for s in steps.values())
    assert steps["sec"].attributes["tokyo.outcome"] == "ok" and steps["sec"].attributes["tokyo.agent"] == "akira"
    assert steps["docs"].attributes["tokyo.outcome"] == "failed" and not steps["docs"].status.is_ok
    assert steps["lead"].attributes["tokyo.task"] == "synthesize"
    calls = named[f"chat {MODEL}"]
    assert len(calls) == 3
    by_step = {c.attributes["tokyo.step.id"]: c for c in calls}
    for step_id, call in by_step.items():
        assert call.parent.span_id == steps[step_id].context.span_id
        assert call.attributes["gen_ai.operation.name"] == "chat"
        assert call.attributes["gen_ai.request.model"] == MODEL and call.attributes["tokyo.cache_hit"] is False
    ok = by_step["sec"].attributes
    assert ok["tokyo.outcome"] == "ok" and ok["gen_ai.response.model"] == MODEL
    assert ok["gen_ai.usage.input_tokens"] > 0 and ok["gen_ai.usage.output_tokens"] > 0 and ok["tokyo.cost_usd"] > 0
    failed = by_step["docs"]
    assert failed.attributes["tokyo.outcome"] == "error" and not failed.status.is_ok

    spans.clear()  # the same review again: Akira's answer comes from the response cache
    cli(
        "review",
        str(change.root),
        "--working",
        "--api-base",
        fake_provider.url,
        "--model",
        MODEL,
        "--workflow",
        str(workflow),
        "--format",
        "json",
        "--path",
        "app.py",
    )
    cached = [c for c in _by_name(spans)[f"chat {MODEL}"] if c.attributes["tokyo.step.id"] == "sec"]
    assert [c.attributes["tokyo.cache_hit"] for c in cached] == [True]
    assert cached[0].attributes["tokyo.outcome"] == "ok"


def test_no_otel_variables_no_import(change: GitRepo) -> None:
    code = (
        "import sys\nfrom tokyo_cli.cli.app import main\n"
        f"try:\n    main(['review', {str(change.root)!r}, '--working', '--offline', '--quiet', '--format', 'json'])\n"
        "except SystemExit:\n    pass\n"
        "print('\\nIMPORTED', sorted(m for m in sys.modules if m.startswith('opentelemetry')))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.stdout.splitlines()[-1] == "IMPORTED []", proc.stderr


def test_otel_traces_exporter_exports_before_the_process_leaves(change: GitRepo, tmp_path: Path) -> None:
    # A real `tokyo` process (it ends with os._exit): the console exporter's spans must be out.
    env = {**os.environ, "OTEL_TRACES_EXPORTER": "console", "OTEL_SERVICE_NAME": "tokyo-test"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tokyo_cli",
            "review",
            str(change.root),
            "--working",
            "--offline",
            "--quiet",
            "--output",
            str(tmp_path / "r.json"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert '"name": "tokyo.run"' in proc.stdout and '"name": "tokyo.step"' in proc.stdout
    assert '"service.name": "tokyo-test"' in proc.stdout


def test_tracing_is_off_without_a_switch_or_with_the_sdk_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not telemetry.enabled_by_env()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    assert telemetry.enabled_by_env()
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert not telemetry.enabled_by_env()


def test_callbacks_go_where_litellm_reads_them(monkeypatch: pytest.MonkeyPatch) -> None:
    from tokyo_cli.config.settings import load_settings
    from tokyo_cli.engine.review import make_gateway
    from tokyo_cli.llm.gateway import install_callbacks

    fake = SimpleNamespace(
        callbacks=[],
        success_callback=["mine"],
        failure_callback=[],
        _known_custom_logger_compatible_callbacks=["langfuse", "otel"],
    )
    install_callbacks(fake, ["langfuse", "helicone", "langfuse"])
    assert fake.callbacks == ["langfuse"]
    assert fake.success_callback == ["mine", "helicone"] and fake.failure_callback == ["helicone"]
    monkeypatch.setenv("TOKYO_CALLBACKS", "langfuse, otel")
    gateway = make_gateway(load_settings())
    assert gateway is not None and gateway.callbacks == ["langfuse", "otel"]
    assert make_gateway(load_settings(callbacks=["x"])).callbacks == ["x"]  # type: ignore[union-attr]
