"""The Gateway: every model call goes through here, and this is the only module that imports
litellm — lazily, inside the call path, so ``import tokyo_cli.llm.gateway`` stays fast and offline
runs never load it.

One :meth:`Gateway.complete` call = one logical request: a per-provider concurrency slot, a
timeout per attempt, retries with exponential backoff and jitter on transient failures (429,
5xx, timeouts, connection errors; ``Retry-After`` honoured), then each fallback model in order.
Auth errors and bad requests are not retried. Keys are never logged nor put in messages.

Every request's messages are masked (:func:`tokyo_cli.safety.masking.mask_data`, the one secret
detector) as the call's arguments are built, right before litellm sends them: whatever path
built the prompt (review, evidence, synthesis, repair, streamed or not), no secret the
detector knows leaves the machine. Response cache keys are computed from the prompt before
that, so they do not change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import random
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field

from tokyo_cli.errors import BudgetExceeded, ProviderError
from tokyo_cli.llm.budget import Budget
from tokyo_cli.llm.errors import CallFailure, classify, proxy_budget_stop, refused, timed_out
from tokyo_cli.llm.providers import credential_env, has_credentials, provider_of, wire_model_name
from tokyo_cli.llm.stream import Streamed, TextListener, read_stream, rebuilt_response, stream_tokens
from tokyo_cli.safety.masking import mask_data

__all__ = [
    "FallingBack",
    "Gateway",
    "LLMRequest",
    "LLMResponse",
    "Retrying",
    "credential_env",
    "has_credentials",
    "provider_of",
]

log = logging.getLogger(__name__)

LOCAL_API_KEY = "sk-local"  # sent to --api-base servers when OPENAI_API_KEY is unset; they ignore it
API_BASE_PROVIDER = "openai-compatible"


class LLMRequest(BaseModel):
    """One chat request. ``messages`` are OpenAI-style ``{"role", "content"}`` dicts;
    ``max_tokens`` caps the output (tokens); ``json_mode`` asks for a JSON object reply where
    the model supports it (the prompt should still ask for JSON: not every model can be forced).
    """

    model: str
    messages: list[dict[str, Any]]
    temperature: float | None = None
    max_tokens: int = 4096
    json_mode: bool = True
    prompt_tokens: int = 0  # estimated input tokens, for the cost cap (0: unknown)


class LLMResponse(BaseModel):
    """A model's answer. ``model`` is the one that answered (a fallback if the primary failed).

    ``tokens_in``/``tokens_out``: prompt/completion tokens from the provider's usage.
    ``cost_usd``: USD the gateway reported (a LiteLLM Proxy's ``x-litellm-response-cost``
    header, ``cost_source="gateway"``), else from litellm's price map; ``None`` when neither
    knows a price.
    ``latency_s``: seconds of the successful provider round trip. ``elapsed_s``: seconds of the
    whole :meth:`Gateway.complete` (queueing for a slot, failed attempts, backoff, fallbacks).
    ``attempts``: provider calls made in total, across retries and fallbacks.
    """

    model: str
    provider: str
    content: str
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float | None = None
    # "gateway": the cost a LiteLLM Proxy reported (x-litellm-response-cost), what it books
    # against its budgets; "price map": litellm's list price for the tokens.
    cost_source: Literal["price map", "gateway"] = "price map"
    latency_s: float = 0.0
    elapsed_s: float = 0.0
    attempts: int = 1
    finish_reason: str | None = None
    errors: list[str] = Field(default_factory=list)  # each failed attempt before the answer


@dataclass(frozen=True)
class Retrying:
    """Listener notice: ``attempt`` (1-based) of ``model`` failed; retrying after ``wait_s`` s."""

    model: str
    attempt: int
    error: str
    wait_s: float


@dataclass(frozen=True)
class FallingBack:
    """Listener notice: ``from_model`` failed for good (``error``); trying ``to_model``."""

    from_model: str
    to_model: str
    error: str


GatewayListener = Callable[[Retrying | FallingBack], None]


_loaded: Any = None  # the litellm module once imported and configured
_preload_lock = threading.Lock()
_preloading: threading.Thread | None = None


def preload() -> None:
    """:meth:`Gateway.preload` without a Gateway: start the litellm import in a daemon
    thread and return at once (idempotent)."""
    global _preloading
    with _preload_lock:
        if _loaded is None and _preloading is None:
            _preloading = threading.Thread(target=_import_ahead, name="tokyo-import-litellm", daemon=True)
            _preloading.start()


def _import_ahead() -> None:
    """The preload thread: litellm, then what the first call would otherwise load on its
    way to the provider: tokyo's price map (read by the cost cap's estimate) and the
    file-id helpers litellm imports inside its first ``completion``. A cold review's first
    call spent ~0.35 s and ~0.25 s of the GIL on them (py-spy, 25-file change, shared
    machine); here they fill time the run spends waiting for its analyzers."""
    _litellm()
    from tokyo_cli.llm.pricing import price_map

    price_map()
    try:
        import litellm.proxy.openai_files_endpoints.common_utils  # noqa: F401
    except ImportError:  # another litellm layout: its first call imports what it needs
        pass


def _litellm() -> Any:
    """Import litellm on first use, offline: the bundled price map, no debug banners, and no
    ``.env`` file (see :func:`_without_dotenv`)."""
    global _loaded
    if _loaded is None:
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        with _without_dotenv():
            import litellm
        import openai.resources  # noqa: F401

        # ^ litellm's OpenAI route imports this on its first call: ~0.5 s of blocking work
        #   that would otherwise be charged to that call's timeout. (openai 3.60 loads its
        #   resources lazily and litellm has already imported their types: ~0 s there.)
        litellm.suppress_debug_info = True
        # litellm logs harmless worker warnings ("event loop changed") that would reach the
        # user's stderr in the middle of a report; its real failures reach us as exceptions.
        for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy"):
            logging.getLogger(name).setLevel(logging.ERROR)
        _loaded = litellm
    return _loaded


@contextlib.contextmanager
def _without_dotenv() -> Iterator[None]:
    """Import litellm without letting it load a ``.env`` into this process.

    litellm (in its default ``LITELLM_MODE=DEV``) calls ``dotenv.load_dotenv()`` on import,
    which searches upward from litellm's install folder (or from the current directory when
    run from ``python -c``, a REPL or under a debugger): with the virtualenv inside the
    reviewed repository, or tokyo started in it, a committed ``.env`` setting
    ``OPENAI_BASE_URL`` would send the user's key and code to another host. Three locks, any
    one enough: ``LITELLM_MODE=PRODUCTION`` (litellm's switch; outside its proxy server it
    changes nothing else), ``PYTHON_DOTENV_DISABLED=1`` (python-dotenv >= 1.2), and
    ``dotenv.load_dotenv`` replaced by a no-op while litellm is imported. Both variables stay
    set (no later code path of litellm may load one either); analyzer processes never see
    them (their environment is an allow-list).
    """
    os.environ["LITELLM_MODE"] = "PRODUCTION"
    os.environ["PYTHON_DOTENV_DISABLED"] = "1"
    try:
        import dotenv
    except ImportError:  # litellm without python-dotenv loads nothing
        yield
        return
    saved = dotenv.load_dotenv

    def refuse(*args: Any, **kwargs: Any) -> bool:
        return False

    dotenv.load_dotenv = refuse
    try:
        yield
    finally:
        dotenv.load_dotenv = saved


async def _litellm_async() -> Any:
    # The first import takes ~2.5 s; in a thread, the event loop (progress display, other
    # steps' analyzers) keeps running. Concurrent first calls all wait on Python's import lock.
    return _loaded if _loaded is not None else await asyncio.to_thread(_litellm)


def install_callbacks(litellm: Any, names: Sequence[str]) -> None:
    """Hand litellm the callback ``names`` (idempotent): those litellm knows as logger
    classes (``litellm._known_custom_logger_compatible_callbacks``: ``"otel"``, ``"langfuse"``,
    ...) go to ``litellm.callbacks``, any other name to ``litellm.success_callback`` and
    ``failure_callback`` (its older string integrations), as litellm's docs
    ("Callbacks") describe."""
    known = set(getattr(litellm, "_known_custom_logger_compatible_callbacks", ()))
    for name in names:
        targets = [litellm.callbacks] if name in known else [litellm.success_callback, litellm.failure_callback]
        for target in targets:
            if name not in target:
                target.append(name)


def _no_credentials(model: str) -> str:
    names = credential_env(model)
    if not names:
        return f"{model}: skipped, unknown provider (use a litellm id such as 'openai/{model}', or --api-base)"
    hint = f"; or use gemini/{model} with GEMINI_API_KEY" if model.startswith("gemini-") else ""
    return f"{model}: skipped, no credentials (set {' or '.join(names)}{hint})"


class Gateway:
    """Async access to every model through litellm.

    Args:
        timeout_s: seconds one attempt may take before it counts as timed out.
        max_concurrency_per_provider: calls in flight at once per provider (per ``api_base``
            server when one is set), per event loop.
        retries: extra attempts per model after the first, for transient failures only.
        backoff_s: first backoff in seconds; doubled each retry, with jitter, capped by
            ``max_backoff_s``. A ``Retry-After`` from the provider wins (capped the same way).
        api_base: an OpenAI-compatible server (``--api-base``) that takes every call.
        api_key: key for ``api_base`` (default ``OPENAI_API_KEY``, else a placeholder);
            ignored without ``api_base`` — providers read their own env vars.
        listener: called with :class:`Retrying` / :class:`FallingBack` notices; must not block.
        budget: the run's cost cap; each attempt reserves its worst case first and is not
            sent when that could exceed the cap (see :mod:`tokyo_cli.llm.budget`).
        breaker_threshold: consecutive failed attempts after which a provider's circuit
            opens: no more calls to it for the life of this Gateway (one run); its models
            fail at once so fallbacks on other providers take over.
        callbacks: litellm callback names (``"langfuse"``, ``"otel"``): the user's setting
            (flag, ``TOKYO_CALLBACKS``, user config; never a repository's), installed when
            litellm loads (:func:`install_callbacks`). They see the masked messages.
    """

    def __init__(
        self,
        *,
        timeout_s: float = 120,
        max_concurrency_per_provider: int = 8,
        retries: int = 2,
        api_base: str | None = None,
        api_key: str | None = None,
        listener: GatewayListener | None = None,
        backoff_s: float = 1.0,
        max_backoff_s: float = 30.0,
        budget: Budget | None = None,
        breaker_threshold: int = 5,
        callbacks: Sequence[str] = (),
    ) -> None:
        if timeout_s <= 0 or max_concurrency_per_provider < 1 or retries < 0:
            raise ValueError("timeout_s > 0, max_concurrency_per_provider >= 1, retries >= 0")
        self.timeout_s = float(timeout_s)
        self.max_concurrency_per_provider = max_concurrency_per_provider
        self.retries = retries
        self.api_base = api_base.rstrip("/") if api_base else None
        self._api_key = api_key
        self.listener = listener
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        # Semaphores bind to the loop that first waits on them; one set per loop keeps a
        # Gateway usable across asyncio.run() calls (tests, TUI workers).
        self._slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Semaphore]]
        self._slots = weakref.WeakKeyDictionary()
        self._json_support: dict[str, bool] = {}
        self.budget = budget
        self.callbacks = list(callbacks)
        self.breaker_threshold = breaker_threshold
        self._consecutive_failures: dict[str, int] = {}
        self._no_stream: set[str] = set()  # servers (api_base or provider) that cannot stream
        # Servers (a LiteLLM Proxy) that answered "budget exceeded": nothing more is sent to
        # them in this run; the value is their first answer. budget_stops counts the refusals.
        self.spent_gateways: dict[str, str] = {}
        self.budget_stops = 0

    def preload(self) -> None:
        """Start importing litellm in a background thread and return at once (idempotent).

        Call it when a run is known to go online, before the slow local work (git, analyzers),
        so the ~2.5 s import overlaps with it instead of delaying the first provider call.
        """
        preload()

    def __repr__(self) -> str:  # never show the key
        return f"Gateway(timeout_s={self.timeout_s:g}, api_base={self.api_base!r})"

    # -- public ----------------------------------------------------------------------------
    async def complete(
        self, request: LLMRequest, *, fallbacks: Sequence[str] = (), on_text: TextListener | None = None
    ) -> LLMResponse:
        """Answer ``request`` with its model, else each of ``fallbacks`` in order.

        With ``on_text`` the call streams (``stream=True``, usage requested with
        ``stream_options.include_usage``) and ``on_text(delta)`` gets each non-empty text delta
        as it arrives, on the event loop's thread; it must not block, and an exception from it
        is logged, never fails the call. The response is the same as without streaming. A
        retried or fallback attempt streams again from the start (the listener sees both).
        A server that answers a streaming request with a plain JSON body, or whose stream
        breaks after it started, is asked again at once without streaming (``on_text`` then
        gets the whole text in one piece), and is not streamed from again in this run.

        A model without credentials (see :func:`has_credentials`) is skipped without a call:
        litellm would fail it anyway, some routes only after a network round trip.

        Returns:
            :class:`LLMResponse` with content, tokens, USD cost (or None), seconds, attempts.
        Raises:
            ProviderError: every model failed for good; the message has one clause per model,
                e.g. ``"claude-opus-4-5: timed out after 120 s (3 attempts)"``.
        """
        started = time.monotonic()
        errors: list[str] = []  # every failed attempt, for the response
        verdicts: list[str] = []  # one clause per model, for the ProviderError
        attempts = 0
        models = [request.model, *[m for m in fallbacks if m and m != request.model]]
        refusals = 0
        for index, model in enumerate(models):
            if not has_credentials(model, api_base=self.api_base):
                skipped = _no_credentials(model)
                errors.append(skipped)
                verdicts.append(skipped)
                continue
            if self._circuit_open(model):
                verdicts.append(f"{model}: skipped, circuit open after {self.breaker_threshold} consecutive failures")
                continue
            try:
                response, used = await self._complete_one(request.model_copy(update={"model": model}), errors, on_text)
            except CallFailure as failure:
                attempts += failure.attempts
                verdicts.append(failure.verdict)
                refusals += failure.refused
                if index + 1 < len(models):
                    self._notify(FallingBack(model, models[index + 1], failure.verdict))
                continue
            response.attempts = attempts + used
            response.elapsed_s = time.monotonic() - started
            response.errors = errors
            return response
        if refusals and refusals == len(verdicts):
            raise BudgetExceeded("; ".join(verdicts))
        raise ProviderError("; ".join(verdicts) if verdicts else f"{request.model}: no model to call")

    def _breaker_key(self, model: str) -> str:
        return self.api_base or provider_of(model)

    def _circuit_open(self, model: str) -> bool:
        return self._consecutive_failures.get(self._breaker_key(model), 0) >= self.breaker_threshold

    # -- one model, with retries -----------------------------------------------------------
    async def _complete_one(
        self, request: LLMRequest, errors: list[str], on_text: TextListener | None = None
    ) -> tuple[LLMResponse, int]:
        """(response, attempts used), appending each failed attempt's message to ``errors``;
        or raise the last :class:`CallFailure`, its ``verdict`` and ``attempts`` filled in."""
        attempt = 0
        key = self._breaker_key(request.model)
        while True:
            attempt += 1
            if self._circuit_open(request.model):  # opened by other calls while this one waited to retry
                stopped = CallFailure(
                    f"{request.model}: stopped, circuit open after {self.breaker_threshold} consecutive failures",
                    retryable=False,
                )
                stopped.attempts = attempt - 1
                raise stopped
            hold = None
            if self.budget is not None:
                hold = await self.budget.acquire(request.model, request.prompt_tokens, request.max_tokens)
                if hold is None:
                    cap = self.budget.max_cost_usd or 0.0
                    refusal = refused(f"{request.model}: not started, it could exceed the cost cap of ${cap:.2f}")
                    refusal.attempts = attempt - 1
                    raise refusal
            try:
                if key in self.spent_gateways:  # a gateway's budget is spent: asking again only costs time
                    raise proxy_budget_stop(f"{request.model}: not sent, the budget at {self.spent_gateways[key]}")
                response = await self._attempt(request, on_text)
            except CallFailure as failure:
                if hold is not None and self.budget is not None:
                    self.budget.settle(hold, "timeout" if failure.timed_out else "rejected")
                if failure.budget_stop:
                    self.budget_stops += 1
                    self.spent_gateways.setdefault(key, _gateway_of(failure.message))
                if failure.retryable:
                    self._consecutive_failures[key] = self._consecutive_failures.get(key, 0) + 1
                errors.append(failure.message)
                if not failure.retryable or attempt > self.retries:
                    failure.attempts = attempt
                    failure.verdict = failure.message + (f" ({attempt} attempts)" if attempt > 1 else "")
                    raise
                wait = self._backoff(attempt, failure.retry_after)
                log.info("%s; retrying in %.2f s", failure.message, wait)
                self._notify(Retrying(request.model, attempt, failure.message, wait))
                await asyncio.sleep(wait)
                continue
            if hold is not None and self.budget is not None:
                self.budget.settle(hold, "ok", response.cost_usd, measured=response.cost_source == "gateway")
            self._consecutive_failures[key] = 0
            return response, attempt

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait after failed ``attempt``: Retry-After if given, else exponential
        (``backoff_s * 2**(attempt-1)``) times a random factor in [0.5, 1] so that
        concurrent callers hit by the same 429 do not retry in lockstep."""
        if retry_after is not None and retry_after >= 0:
            return min(retry_after, self.max_backoff_s) + random.uniform(0, self.backoff_s / 10)
        base = min(self.backoff_s * 2.0 ** (attempt - 1), self.max_backoff_s)
        return base * random.uniform(0.5, 1.0)

    def _slot(self, key: str) -> asyncio.Semaphore:
        slots = self._slots.setdefault(asyncio.get_running_loop(), {})
        if key not in slots:
            slots[key] = asyncio.Semaphore(self.max_concurrency_per_provider)
        return slots[key]

    async def _attempt(self, request: LLMRequest, on_text: TextListener | None = None) -> LLMResponse:
        """One provider call under the provider's slot and the timeout (which covers the whole
        stream when ``on_text`` asks for streaming); :class:`CallFailure` on error."""
        litellm = await _litellm_async()
        if self.callbacks:
            install_callbacks(litellm, self.callbacks)
        model = request.model
        provider = API_BASE_PROVIDER if self.api_base else provider_of(model)
        kwargs = self._call_kwargs(litellm, request)
        server = self.api_base or provider
        streamed: Streamed | None = None
        async with self._slot(server):
            sent = time.monotonic()
            try:
                async with asyncio.timeout(self.timeout_s):
                    if on_text is not None and server not in self._no_stream:
                        stream = await litellm.acompletion(
                            **kwargs, stream=True, stream_options={"include_usage": True}
                        )
                        streamed = await self._read_or_give_up(stream, on_text, server, model)
                    if streamed is None:
                        raw = await litellm.acompletion(**kwargs)
            except TimeoutError:
                raise timed_out(model, self.timeout_s) from None
            except Exception as exc:  # litellm maps provider errors onto openai's classes
                raise classify(
                    model, exc, timeout_s=self.timeout_s, api_base=self.api_base, secrets=[self._api_key or ""]
                ) from None
            latency = time.monotonic() - sent
        if streamed is not None:
            response = self._streamed_response(litellm, request, provider, streamed, streamed.last_chunk_at - sent)
            reported = gateway_cost(stream)
            if reported is not None:
                response.cost_usd, response.cost_source = reported, "gateway"
            return response
        reported = gateway_cost(raw)
        usage = getattr(raw, "usage", None)
        choice = raw.choices[0] if getattr(raw, "choices", None) else None
        content = (choice.message.content if choice is not None else None) or ""
        if on_text is not None and content:  # a listener asked for text: it gets it in one piece
            try:
                on_text(content)
            except Exception:
                log.exception("stream text listener failed")
        return LLMResponse(
            model=model,
            provider=provider,
            content=content,
            tokens_in=int(getattr(usage, "prompt_tokens", 0) or 0),
            tokens_out=int(getattr(usage, "completion_tokens", 0) or 0),
            cost_usd=self._cost(litellm, model, raw) if reported is None else reported,
            cost_source="price map" if reported is None else "gateway",
            latency_s=latency,
            finish_reason=getattr(choice, "finish_reason", None),
        )

    async def _read_or_give_up(self, stream: Any, on_text: TextListener, server: str, model: str) -> Streamed | None:
        """The stream read to its end, or ``None`` when ``server`` cannot stream: it answered
        the streaming request with a plain JSON body (litellm then yields no text and no
        usage) or the stream broke after it had started (a dropped connection, a malformed
        event). ``server`` is then asked without streaming for the rest of this Gateway's
        life (one run), so no step pays for it twice; the caller makes that call at once,
        under the same timeout. Errors before the stream starts (HTTP status, 429) are the
        caller's, as for any call."""
        try:
            streamed = await read_stream(stream, on_text)
        except Exception as exc:  # cancellation (the timeout) is a BaseException: not caught
            log.info(
                "%s: the stream from %s broke (%s); asking again without streaming", model, server, type(exc).__name__
            )
            self._no_stream.add(server)
            return None
        if not streamed.content and not streamed.completion_tokens:
            log.info("%s: %s answered a streaming request with no stream; asking without streaming", model, server)
            self._no_stream.add(server)
            return None
        return streamed

    def _streamed_response(
        self, litellm: Any, request: LLMRequest, provider: str, streamed: Streamed, latency: float
    ) -> LLMResponse:
        """The :class:`LLMResponse` of a finished stream (tokens: see :func:`stream_tokens`);
        priced by :meth:`_cost`, on litellm's rebuilt response except for ``api_base`` servers."""
        tokens_in, tokens_out = stream_tokens(litellm, request.model, request.messages, streamed)
        raw = None if self.api_base else rebuilt_response(litellm, request.messages, streamed)
        return LLMResponse(
            model=request.model,
            provider=provider,
            content=streamed.content,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            cost_usd=self._cost(litellm, request.model, raw, tokens=(tokens_in, tokens_out)),
            latency_s=max(0.0, latency),
            finish_reason=streamed.finish_reason,
        )

    def _call_kwargs(self, litellm: Any, request: LLMRequest) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "model": request.model,
            "messages": mask_data(request.messages),  # the last step before litellm sends them
            "max_tokens": request.max_tokens,
            "timeout": self.timeout_s,
            # The Gateway owns retries; litellm's and the OpenAI SDK's would multiply them.
            "num_retries": 0,
            "max_retries": 0,
            # Params a model cannot take (temperature on o-series) are dropped, not fatal.
            "drop_params": True,
        }
        if request.temperature is not None:
            kwargs["temperature"] = request.temperature
        if self.api_base:
            kwargs["model"] = wire_model_name(request.model)
            kwargs["custom_llm_provider"] = "openai"
            kwargs["api_base"] = self.api_base
            kwargs["api_key"] = self._api_key or os.environ.get("OPENAI_API_KEY") or LOCAL_API_KEY
        if request.json_mode and self._supports_json(litellm, kwargs["model"], kwargs.get("custom_llm_provider")):
            kwargs["response_format"] = {"type": "json_object"}
        return kwargs

    def _supports_json(self, litellm: Any, model: str, custom_provider: str | None) -> bool:
        key = f"{custom_provider or ''}|{model}"
        if key not in self._json_support:
            try:
                params = litellm.get_supported_openai_params(model=model, custom_llm_provider=custom_provider)
                self._json_support[key] = "response_format" in (params or [])
            except Exception:  # an unmapped model: send plain text, the prompt asks for JSON anyway
                self._json_support[key] = False
        return self._json_support[key]

    def _cost(self, litellm: Any, model: str, raw: Any, *, tokens: tuple[int, int] | None = None) -> float | None:
        """USD for ``raw`` (or, when ``raw`` is None, for ``tokens`` = (prompt, completion)) at
        ``model``'s list price; ``None`` when litellm has no price."""
        try:
            if self.api_base or raw is None:
                # completion_cost would price by the wire provider ("openai") and the server's
                # echoed name; price by the model id the agent asked for instead.
                usage = getattr(raw, "usage", None)
                prompt_tokens, completion_tokens = tokens or (
                    int(getattr(usage, "prompt_tokens", 0) or 0),
                    int(getattr(usage, "completion_tokens", 0) or 0),
                )
                prompt, completion = litellm.cost_per_token(
                    model=model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
                )
                cost = float(prompt) + float(completion)
            else:
                cost = float(litellm.completion_cost(completion_response=raw, model=model))
        except Exception as exc:  # unknown price is normal (local models, new releases)
            log.debug("no price for %s: %s", model, type(exc).__name__)
            return None
        return cost

    # -- errors ----------------------------------------------------------------------------
    def _notify(self, notice: Retrying | FallingBack) -> None:
        if self.listener is None:
            return
        try:
            self.listener(notice)
        except Exception:  # a broken progress display must not fail a review
            log.exception("gateway listener failed")


COST_HEADER = "x-litellm-response-cost"
"""LiteLLM Proxy's response header: the USD it booked for the call (docs.litellm.ai,
"Response headers"; seen on litellm 1.109.3's proxy, e.g. ``x-litellm-response-cost: 0.0516``)."""


def gateway_cost(response: Any) -> float | None:
    """USD a gateway reported for ``response`` (:data:`COST_HEADER`), or ``None`` when no header
    says it (a provider's own API, a server that is no LiteLLM Proxy) or it is no number >= 0.
    litellm keeps response headers in ``_response_headers`` and, prefixed ``llm_provider-``, in
    ``_hidden_params["additional_headers"]`` (a stream keeps the latter)."""
    sources: list[Any] = [getattr(response, "_response_headers", None)]
    hidden = getattr(response, "_hidden_params", None)
    if isinstance(hidden, dict):
        extra = hidden.get("additional_headers") or {}
        sources.append(
            {k.removeprefix("llm_provider-"): v for k, v in extra.items()} if isinstance(extra, dict) else None
        )
    for headers in sources:
        if not headers:
            continue
        try:
            value = headers.get(COST_HEADER)
        except AttributeError:
            continue
        if value is None:
            continue
        try:
            cost = float(value)
        except (TypeError, ValueError):
            return None
        return cost if cost >= 0 and math.isfinite(cost) else None
    return None


def _gateway_of(message: str) -> str:
    """The place a budget-stop message names (``at http://proxy:4000``), with its reason."""
    _, _, rest = message.partition(": ")
    return rest or message
