"""One chunk's model call: the response cache, the gateway, one repair retry, call records.

:class:`ChunkCaller` is the part of the engine that talks to models. For each chunk (or a
synthesis prompt) it answers from the response cache when it can, else calls the gateway;
a reply that is not valid output gets one repair call. Every call, cached or not, is
recorded on the step (:class:`~tokyo_cli.results.CallRecord`) and announced as events.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from tokyo_cli import events as ev
from tokyo_cli import telemetry
from tokyo_cli.config.team import AgentSpec
from tokyo_cli.engine.cache import CachedReply, ResponseCache, cache_key
from tokyo_cli.engine.prompts import InvalidOutput, parse_output, repair_messages
from tokyo_cli.errors import BudgetExceeded, ProviderError
from tokyo_cli.findings import AgentOutput
from tokyo_cli.llm.gateway import Gateway, LLMRequest, LLMResponse, provider_of
from tokyo_cli.results import CallRecord, StepResult


class CallFailed(Exception):
    """A chunk's call failed for good; the message is already recorded on the step.

    ``reason`` is how the coverage report lists the chunk's files: "provider failure",
    "invalid output" or "budget" (the cost cap stopped it before it started).
    """

    def __init__(self, message: str, reason: str = "provider failure") -> None:
        super().__init__(message)
        self.reason = reason


class ChunkCaller:
    """Makes a step's model calls for the engine.

    Args:
        gateway: the provider gateway (required for :meth:`call` to reach a model).
        cache: the response cache, or ``None`` (``--no-cache``, offline).
        emit: receives ``CallStarted``/``CallText``/``CallFinished`` events.
        stream: stream every call and emit its text deltas (the live TUI).
    """

    def __init__(
        self, gateway: Gateway | None, cache: ResponseCache | None, emit: ev.Listener, *, stream: bool = False
    ) -> None:
        self.gateway = gateway
        self.cache = cache
        self.emit = emit
        self.stream = stream
        self.keys: dict[str, list[str]] = {}  # step id -> the cache key of each of its calls

    async def call(
        self,
        res: StepResult,
        agent: AgentSpec,
        models: tuple[str, list[str]],
        messages: list[dict[str, str]],
        index: int,
        total: int,
        prompt_tokens: int,
        schema: type[BaseModel] = AgentOutput,
    ) -> Any:
        """One chunk's call (from the cache when it has the answer) plus at most one repair
        call; records every call on ``res``. ``prompt_tokens`` is the prompt's size as packing
        measured it (for the cost cap). The reply is parsed into ``schema`` (an
        :class:`AgentOutput` unless a task asks for its own reply model) and returned.
        Raises :class:`CallFailed`."""
        model, fallbacks = models
        # A usable reply is cached under the first prompt's key, even when it took a repair:
        # the next run asks that prompt again, never the repair conversation.
        key = cache_key(model, fallbacks, messages, temperature=agent.temperature, max_tokens=agent.max_output_tokens)
        self.keys.setdefault(res.step_id, []).append(key)
        for attempt in ("first", "repair"):
            with telemetry.span(
                f"chat {model}",
                {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.request.model": model,
                    "tokyo.step.id": res.step_id,
                    "tokyo.chunk": index,
                    "tokyo.repair": attempt == "repair",
                },
            ):
                self.emit(ev.CallStarted(step_id=res.step_id, model=model, chunk=index, chunks=total))
                cached = self.cache.get(key) if self.cache is not None and attempt == "first" else None
                if cached is not None:
                    output = self._parse_cached(res, agent, cached, schema)
                    if output is not None:
                        return output
                reply = await self._complete(res, agent, models, messages, prompt_tokens, index)
                record = CallRecord(
                    step_id=res.step_id,
                    agent=agent.id,
                    model=reply.model,
                    provider=reply.provider,
                    tokens_in=reply.tokens_in,
                    tokens_out=reply.tokens_out,
                    cost_usd=reply.cost_usd,
                    latency_s=round(reply.latency_s, 3),
                    attempts=reply.attempts,
                )
                try:
                    output = parse_output(reply.content, schema)
                except InvalidOutput as problem:
                    record.status = "invalid_output"
                    record.error = str(problem)
                    self._record(res, record)
                    if attempt == "repair":
                        raise CallFailed(
                            f"{reply.model} returned unusable output twice ({problem})", "invalid output"
                        ) from None
                    messages = repair_messages(messages, reply.content, str(problem))
                    prompt_tokens += reply.tokens_out + 100
                    continue
                self._record(res, record)
                if self.cache is not None:
                    self.cache.put(
                        key,
                        CachedReply(
                            content=reply.content,
                            model=reply.model,
                            provider=reply.provider,
                            tokens_in=reply.tokens_in,
                            tokens_out=reply.tokens_out,
                            cost_usd=reply.cost_usd,
                        ),
                    )
                return output
        raise AssertionError("unreachable")

    async def _complete(
        self,
        res: StepResult,
        agent: AgentSpec,
        models: tuple[str, list[str]],
        messages: list[dict[str, str]],
        prompt_tokens: int,
        chunk: int,
    ) -> LLMResponse:
        """The gateway call (streamed, emitting :class:`~tokyo_cli.events.CallText`, when
        ``self.stream``); a failure is recorded on ``res`` and raised as :class:`CallFailed`."""
        assert self.gateway is not None
        model, fallbacks = models
        request = LLMRequest(
            model=model,
            messages=messages,
            temperature=agent.temperature,
            max_tokens=agent.max_output_tokens,
            prompt_tokens=prompt_tokens,
        )

        def on_text(text: str) -> None:
            self.emit(ev.CallText(step_id=res.step_id, chunk=chunk, text=text))

        try:
            return await self.gateway.complete(request, fallbacks=fallbacks, on_text=on_text if self.stream else None)
        except ProviderError as exc:
            budget = isinstance(exc, BudgetExceeded)
            self._record(
                res,
                CallRecord(
                    step_id=res.step_id,
                    agent=agent.id,
                    model=model,
                    provider=provider_of(model),
                    status="skipped" if budget else "error",
                    error=str(exc),
                ),
            )
            raise CallFailed(str(exc), "budget" if budget else "provider failure") from None

    def _parse_cached(
        self, res: StepResult, agent: AgentSpec, cached: CachedReply, schema: type[BaseModel]
    ) -> BaseModel | None:
        try:
            output = parse_output(cached.content, schema)
        except InvalidOutput:
            return None
        self._record(
            res,
            CallRecord(
                step_id=res.step_id,
                agent=agent.id,
                model=cached.model,
                provider=cached.provider,
                tokens_in=cached.tokens_in,
                tokens_out=cached.tokens_out,
                cost_usd=0.0,
                attempts=0,
                cache_hit=True,
            ),
        )
        return output

    def _record(self, res: StepResult, record: CallRecord) -> None:
        res.calls.append(record)
        span = telemetry.current()  # the call's span (see call): the record's numbers join it
        span.set(
            {
                "gen_ai.response.model": record.model,
                "gen_ai.provider.name": record.provider,
                "gen_ai.usage.input_tokens": record.tokens_in,
                "gen_ai.usage.output_tokens": record.tokens_out,
                "tokyo.cost_usd": record.cost_usd,
                "tokyo.cache_hit": record.cache_hit,
                "tokyo.attempts": record.attempts,
                "tokyo.outcome": {"skipped": "budget"}.get(record.status, record.status),
            }
        )
        if record.error:
            span.fail(record.error)
        self.emit(
            ev.CallFinished(
                step_id=res.step_id,
                model=record.model,
                tokens_in=record.tokens_in,
                tokens_out=record.tokens_out,
                cost_usd=record.cost_usd,
                latency_s=record.latency_s,
                ok=record.status == "ok",
                error=record.error,
                cache_hit=record.cache_hit,
            )
        )
