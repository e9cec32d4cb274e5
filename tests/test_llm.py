"""Gateway tests: the fake OpenAI-compatible server, a stubbed litellm.acompletion for
provider-routing cases, and handwritten VCR cassettes for the Anthropic and Gemini routes."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from fakes.provider import DEFAULT_REPLY, FakeProvider
from tokyo_cli.errors import BudgetExceeded, ProviderError
from tokyo_cli.llm.gateway import FallingBack, Gateway, LLMRequest, Retrying
from tokyo_cli.llm.providers import credential_env, has_credentials, provider_of, redact, wire_model_name

# litellm's own types trip a pydantic notice on first use; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:Item .* is using the `ReadOnly` qualifier:UserWarning")

CASSETTES = Path(__file__).parent / "cassettes"
SECRET_HEADERS = ["authorization", "x-api-key", "x-goog-api-key"]


def ask(model: str = "gpt-4o", text: str = "review this", **kw: Any) -> LLMRequest:
    return LLMRequest(model=model, messages=[{"role": "user", "content": text}], **kw)


def fast_gateway(fp: FakeProvider, **kw: Any) -> Gateway:
    kw.setdefault("backoff_s", 0.01)
    # A test about time-outs sets its own short limit. Otherwise the limit only has to stay
    # out of the way: a first litellm call in a fresh pytest-xdist worker does litellm's lazy
    # set-up inside the attempt, and with 5 s it timed out and was retried (attempts == 2)
    # when the machine ran two suites at once (load average ~11 on 2 cores).
    kw.setdefault("timeout_s", 60)
    return Gateway(api_base=fp.url, **kw)


# -- provider rules (no litellm) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "provider"),
    [
        ("claude-opus-4-5", "anthropic"),
        ("anthropic/claude-sonnet-4-5", "anthropic"),
        ("gpt-4o", "openai"),
        ("o3", "openai"),
        ("o4-mini", "openai"),
        ("openai/gpt-4o", "openai"),
        ("groq/meta-llama/llama-4-maverick-17b-128e-instruct", "groq"),
        ("gemini/gemini-2.5-pro", "gemini"),
        ("gemini-2.5-pro", "vertex_ai"),
        ("ollama/llama3", "ollama"),
        ("mistral/mistral-large-latest", "mistral"),
        ("llama3", "unknown"),
    ],
)
def test_provider_of(model: str, provider: str) -> None:
    assert provider_of(model) == provider


def test_credential_env_names() -> None:
    assert credential_env("claude-opus-4-5") == ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"]
    assert credential_env("o3") == ["OPENAI_API_KEY"]
    assert credential_env("groq/llama-3.3-70b-versatile") == ["GROQ_API_KEY"]
    assert credential_env("gemini/gemini-2.5-pro") == ["GEMINI_API_KEY", "GOOGLE_API_KEY"]
    assert credential_env("ollama/llama3") == []
    assert credential_env("some-new/model") == ["SOME_NEW_API_KEY"]


def test_has_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not has_credentials("claude-opus-4-5")
    assert has_credentials("claude-opus-4-5", api_base="http://127.0.0.1:1/v1")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "   ")
    assert not has_credentials("claude-opus-4-5"), "a blank variable is not a key"
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    assert has_credentials("claude-opus-4-5")
    assert not has_credentials("gpt-4o")
    monkeypatch.setenv("GOOGLE_API_KEY", "test")
    assert has_credentials("gemini/gemini-2.5-pro"), "litellm's gemini route also reads GOOGLE_API_KEY"
    assert has_credentials("ollama/llama3")
    assert not has_credentials("llama3")


def test_wire_model_name_strips_only_provider_prefixes() -> None:
    assert wire_model_name("openai/gpt-4o") == "gpt-4o"
    assert wire_model_name("groq/meta-llama/llama-4") == "meta-llama/llama-4"
    assert wire_model_name("meta-llama/llama-4") == "meta-llama/llama-4"
    assert wire_model_name("claude-opus-4-5") == "claude-opus-4-5"


def test_redact_masks_env_keys_and_key_shapes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROQ_API_KEY", "plain-secret-value")
    text = redact(
        "a plain-secret-value b sk-proj-abcdefghijklmnop c AIzaSyA1234567890abcdefghijk" + "x" * 11 + " d given-key-1",
        ["given-key-1"],
    )
    assert text == ("a [MASKED:env:GROQ_API_KEY] b [MASKED:openai-key] c [MASKED:google-api-key] d [MASKED:api-key]")


def test_import_does_not_load_litellm() -> None:
    code = (
        "import sys, tokyo_cli.llm.gateway as m;"
        "m.provider_of('claude-opus-4-5'); m.credential_env('gpt-4o'); m.has_credentials('o3', api_base=None);"
        "m.Gateway(); m.LLMRequest(model='x', messages=[]);"
        "print(sorted(k for k in sys.modules if k.split('.')[0] in ('litellm', 'openai')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_preload_imports_in_a_background_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    import tokyo_cli.llm.gateway as llm

    monkeypatch.setattr(llm, "_loaded", None)
    monkeypatch.setattr(llm, "_preloading", None)
    Gateway().preload()
    thread = llm._preloading
    assert thread is not None and thread is not threading.current_thread()
    Gateway().preload()
    assert llm._preloading is thread, "idempotent: one import thread"
    thread.join(60)
    assert llm._loaded is sys.modules["litellm"]


# -- happy path against the fake server -----------------------------------------------------------


async def test_tokens_cost_and_request_shape(fake_provider: FakeProvider) -> None:
    fake_provider.script("", {"findings": [], "summary": "fine"}, usage=(1000, 100))
    response = await fast_gateway(fake_provider).complete(ask("openai/gpt-4o", temperature=0.2, max_tokens=300))
    assert json.loads(response.content) == {"findings": [], "summary": "fine"}
    assert (response.tokens_in, response.tokens_out) == (1000, 100)
    assert response.cost_usd == pytest.approx(1000 * 2.5e-6 + 100 * 10e-6)  # gpt-4o list price
    assert response.model == "openai/gpt-4o" and response.provider == "openai-compatible"
    assert response.attempts == 1 and response.errors == []
    assert 0 < response.latency_s <= response.elapsed_s
    body, headers = fake_provider.requests[0]
    assert body["model"] == "gpt-4o", "the provider prefix is stripped for --api-base"
    assert body["temperature"] == 0.2 and body["max_tokens"] == 300
    assert body["response_format"] == {"type": "json_object"}
    assert headers["authorization"] == "Bearer sk-local"
    assert headers.get("x-stainless-retry-count") == "0", "the OpenAI SDK must not retry behind our back"


async def test_priced_by_the_agents_model_id(fake_provider: FakeProvider) -> None:
    fake_provider.script("", "{}", usage=(1000, 100))
    response = await fast_gateway(fake_provider).complete(ask("claude-opus-4-5"))
    assert response.cost_usd == pytest.approx(1000 * 5e-6 + 100 * 25e-6)  # Opus 4.5 list price


async def test_unknown_model_has_no_cost_and_no_crash(fake_provider: FakeProvider) -> None:
    fake_provider.script("", "{}", usage=(10, 5))
    response = await fast_gateway(fake_provider).complete(ask("my-local-model"))
    assert response.cost_usd is None
    assert (response.tokens_in, response.tokens_out) == (10, 5)


async def test_json_mode_off_sends_no_response_format(fake_provider: FakeProvider) -> None:
    await fast_gateway(fake_provider).complete(ask(json_mode=False))
    assert "response_format" not in fake_provider.requests[0][0]


async def test_openai_api_key_is_used_for_api_base(
    fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-user-key-for-proxy")
    await fast_gateway(fake_provider).complete(ask())
    assert fake_provider.requests[0][1]["authorization"] == "Bearer sk-user-key-for-proxy"


# -- retries, timeouts, fallbacks -----------------------------------------------------------------


async def test_429_honours_retry_after_then_succeeds(fake_provider: FakeProvider) -> None:
    fake_provider.script("", "slow down", status=429, times=1, headers={"retry-after": "0.4"})
    notices: list[Any] = []
    started = time.monotonic()
    response = await fast_gateway(fake_provider, listener=notices.append).complete(ask())
    assert time.monotonic() - started >= 0.4, "Retry-After (0.4 s) beats the 0.01 s backoff"
    assert response.attempts == 2 and len(fake_provider.requests) == 2
    assert response.errors == [f"gpt-4o: rate limited (HTTP 429) at {fake_provider.url}: slow down"]
    assert [type(n) for n in notices] == [Retrying]
    assert notices[0].wait_s >= 0.4


async def test_retry_after_ms_header(fake_provider: FakeProvider) -> None:
    fake_provider.script("", "slow down", status=429, times=1, headers={"retry-after-ms": "250"})
    started = time.monotonic()
    response = await fast_gateway(fake_provider).complete(ask())
    assert time.monotonic() - started >= 0.25
    assert response.attempts == 2


async def test_500_then_success(fake_provider: FakeProvider) -> None:
    fake_provider.script("", "upstream broke", status=500, times=1)
    response = await fast_gateway(fake_provider).complete(ask())
    assert response.attempts == 2
    assert response.content == '{"findings": [], "summary": "ok"}'


async def test_500_every_time_fails_after_all_retries(fake_provider: FakeProvider) -> None:
    fake_provider.script("", "upstream broke", status=503)
    with pytest.raises(ProviderError) as err:
        await fast_gateway(fake_provider, retries=2).complete(ask())
    assert len(fake_provider.requests) == 3
    assert str(err.value) == f"gpt-4o: provider error (HTTP 503) at {fake_provider.url}: upstream broke (3 attempts)"
    assert err.value.exit_code == 3


async def test_timeout_gives_clear_error(fake_provider: FakeProvider) -> None:
    fake_provider.script("", "too late", delay=2)
    import litellm  # noqa: F401 - its first import (~2.5 s) must not count as the call's time

    started = time.monotonic()
    with pytest.raises(ProviderError) as err:
        await fast_gateway(fake_provider, timeout_s=0.3, retries=0).complete(ask("claude-opus-4-5"))
    assert str(err.value) == "claude-opus-4-5: timed out after 0.3 s"
    assert time.monotonic() - started < 1.5


async def test_timeouts_are_retried(fake_provider: FakeProvider) -> None:
    fake_provider.script("", "too late", delay=2, times=1)
    response = await fast_gateway(fake_provider, timeout_s=0.3).complete(ask())
    assert response.attempts == 2
    assert response.errors == ["gpt-4o: timed out after 0.3 s"]


async def test_auth_error_is_not_retried_and_names_the_env_var(fake_provider: FakeProvider) -> None:
    fake_provider.script("", "Incorrect API key provided: sk-abcdefghijklmnopqrst", status=401)
    with pytest.raises(ProviderError) as err:
        await fast_gateway(fake_provider, retries=3).complete(ask())
    assert len(fake_provider.requests) == 1
    assert "authentication failed (HTTP 401)" in str(err.value)
    assert "OPENAI_API_KEY" in str(err.value)
    assert "sk-abcdefghijklmnopqrst" not in str(err.value)


async def test_bad_request_is_not_retried_and_masks_keys(fake_provider: FakeProvider) -> None:
    fake_provider.script("", "bad field near sk-proj-abcdefghijklmnopqrstuv", status=400)
    with pytest.raises(ProviderError) as err:
        await fast_gateway(fake_provider, retries=3).complete(ask())
    assert len(fake_provider.requests) == 1
    assert (
        str(err.value)
        == f"gpt-4o: request rejected (HTTP 400) at {fake_provider.url}: bad field near [MASKED:openai-key]"
    )


async def test_connection_refused_is_retried_then_fails() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: nothing listens there
    gateway = Gateway(api_base=f"http://127.0.0.1:{port}/v1", retries=1, backoff_s=0.01, timeout_s=5)
    with pytest.raises(ProviderError) as err:
        await gateway.complete(ask())
    assert str(err.value) == f"gpt-4o: connection refused at http://127.0.0.1:{port}/v1 (2 attempts)"


async def test_fallback_answers_when_primary_fails_for_good(fake_provider: FakeProvider) -> None:
    fake_provider.script("", "overloaded", status=529, model="claude-opus-4-5")
    notices: list[Any] = []
    gateway = fast_gateway(fake_provider, retries=1, listener=notices.append)
    response = await gateway.complete(ask("claude-opus-4-5"), fallbacks=["gpt-4o-mini"])
    assert response.model == "gpt-4o-mini"
    assert response.attempts == 3
    assert [b["model"] for b, _ in fake_provider.requests] == ["claude-opus-4-5", "claude-opus-4-5", "gpt-4o-mini"]
    failed = f"claude-opus-4-5: provider error (HTTP 529) at {fake_provider.url}: overloaded"
    assert response.errors == [failed, failed]
    assert [type(n) for n in notices] == [Retrying, FallingBack]
    assert notices[1] == FallingBack("claude-opus-4-5", "gpt-4o-mini", failed + " (2 attempts)")


async def test_every_model_failing_names_each(fake_provider: FakeProvider) -> None:
    fake_provider.script("", "nope", status=404)
    with pytest.raises(ProviderError) as err:
        await fast_gateway(fake_provider).complete(ask("model-a"), fallbacks=["model-b"])
    message = str(err.value)
    assert message.startswith("model-a: model not found (HTTP 404)")
    assert "; model-b: model not found (HTTP 404)" in message


async def test_broken_listener_does_not_fail_the_call(fake_provider: FakeProvider) -> None:
    def listener(notice: Any) -> None:
        raise RuntimeError("display crashed")

    fake_provider.script("", "x", status=500, times=1)
    response = await fast_gateway(fake_provider, listener=listener).complete(ask())
    assert response.attempts == 2


# -- concurrency -----------------------------------------------------------------------------------


async def test_concurrency_limit_per_provider(fake_provider: FakeProvider) -> None:
    fake_provider.latency = 0.3
    gateway = fast_gateway(fake_provider, max_concurrency_per_provider=3)
    responses = await asyncio.gather(*(gateway.complete(ask(text=f"chunk {i}")) for i in range(10)))
    assert len(responses) == 10
    assert fake_provider.peak_in_flight == 3


async def test_fake_provider_serves_many_in_flight(fake_provider: FakeProvider) -> None:
    # Every reply is held until 60 requests are in flight at once (or 60 s pass, and then the
    # assertion fails): no latency to race on a busy machine. Speed is for benchmarks.
    release = threading.Event()
    fake_provider.script("chunk", DEFAULT_REPLY, hold=release)
    gateway = fast_gateway(fake_provider, max_concurrency_per_provider=60, timeout_s=120)

    async def release_when_all_arrived() -> None:
        deadline = time.monotonic() + 60
        while fake_provider.in_flight < 60 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        release.set()

    await asyncio.gather(release_when_all_arrived(), *(gateway.complete(ask(text=f"chunk {i}")) for i in range(60)))
    assert fake_provider.peak_in_flight == 60


def test_gateway_works_across_event_loops(fake_provider: FakeProvider) -> None:
    gateway = fast_gateway(fake_provider, max_concurrency_per_provider=2)
    for _ in range(2):  # a Semaphore bound to the first loop would fail in the second
        asyncio.run(gateway.complete(ask()))
    assert len(fake_provider.requests) == 2


class _StubCompletion:
    """Stands in for litellm.acompletion: counts calls in flight per provider."""

    def __init__(self, fail: dict[str, Exception] | None = None) -> None:
        self.in_flight: dict[str, int] = {}
        self.peak: dict[str, int] = {}
        self.calls: list[str] = []
        self.fail = fail or {}

    async def __call__(self, **kwargs: Any) -> Any:
        import litellm

        model = kwargs["model"]
        self.calls.append(model)
        if model in self.fail:
            raise self.fail[model]
        key = provider_of(model)
        self.in_flight[key] = self.in_flight.get(key, 0) + 1
        self.peak[key] = max(self.peak.get(key, 0), self.in_flight[key])
        try:
            await asyncio.sleep(0.1)
        finally:
            self.in_flight[key] -= 1
        return litellm.ModelResponse(
            model=model,
            choices=[{"index": 0, "message": {"role": "assistant", "content": "{}"}, "finish_reason": "stop"}],
            usage={"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
        )


async def test_each_provider_has_its_own_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    import litellm

    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    stub = _StubCompletion()
    monkeypatch.setattr(litellm, "acompletion", stub)
    gateway = Gateway(max_concurrency_per_provider=2)
    calls = [ask(m, text=str(i)) for i in range(6) for m in ("claude-opus-4-5", "gpt-4o")]
    await asyncio.gather(*(gateway.complete(r) for r in calls))
    assert stub.peak == {"anthropic": 2, "openai": 2}


async def test_fallback_without_credentials_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    import litellm

    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-revoked")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    denied = litellm.AuthenticationError(message="invalid x-api-key", llm_provider="anthropic", model="claude-opus-4-5")
    stub = _StubCompletion(fail={"claude-opus-4-5": denied})
    monkeypatch.setattr(litellm, "acompletion", stub)
    response = await Gateway(retries=3, backoff_s=0.01).complete(
        ask("claude-opus-4-5"), fallbacks=["groq/llama-3.3-70b-versatile", "gpt-4o"]
    )
    assert response.model == "gpt-4o" and response.provider == "openai"
    assert stub.calls == ["claude-opus-4-5", "gpt-4o"], "auth errors are not retried; groq has no key"
    assert response.errors == [
        "claude-opus-4-5: authentication failed (HTTP 401) from anthropic: "
        "check ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN",
        "groq/llama-3.3-70b-versatile: skipped, no credentials (set GROQ_API_KEY)",
    ]


async def test_models_without_credentials_make_no_call(monkeypatch: pytest.MonkeyPatch) -> None:
    import litellm

    stub = _StubCompletion()
    monkeypatch.setattr(litellm, "acompletion", stub)
    with pytest.raises(ProviderError) as err:
        await Gateway().complete(ask("gemini/gemini-2.5-pro"), fallbacks=["llama3"])
    assert stub.calls == []
    assert str(err.value) == (
        "gemini/gemini-2.5-pro: skipped, no credentials (set GEMINI_API_KEY or GOOGLE_API_KEY); "
        "llama3: skipped, unknown provider (use a litellm id such as 'openai/llama3', or --api-base)"
    )


def test_gateway_repr_hides_the_key() -> None:
    assert "sk-secret" not in repr(Gateway(api_base="http://127.0.0.1:1/v1", api_key="sk-secret"))


# -- Anthropic and Gemini routes through cassettes --------------------------------------------------


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    return {
        "filter_headers": SECRET_HEADERS,
        "filter_query_parameters": ["key"],
        "record_mode": "none",
        # The key is filtered out of recordings, so the query cannot be part of the match.
        "match_on": ["method", "scheme", "host", "path"],
    }


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    return str(CASSETTES)


REVIEW_PROMPT = [{"role": "user", "content": "Review this diff and answer in JSON."}]

# What litellm really sent, seen by the header filter before it drops the key: proves which
# header carries each provider's key (and that the cassettes' matching on path is enough).
SENT: dict[str, Any] = {}


def _capture(key: str, value: str, request: Any) -> None:
    SENT[key.lower()] = value
    SENT["uri"] = request.uri
    SENT["body"] = json.loads(request.body)
    return None  # still filtered out


CAPTURING_FILTERS = [(h, _capture) for h in SECRET_HEADERS]


@pytest.mark.vcr(filter_headers=CAPTURING_FILTERS)
@pytest.mark.default_cassette("anthropic_messages.yaml")
async def test_anthropic_route_replays_cassette(monkeypatch: pytest.MonkeyPatch) -> None:
    SENT.clear()
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-not-a-real-key")
    response = await Gateway().complete(LLMRequest(model="claude-opus-4-5", messages=REVIEW_PROMPT, max_tokens=1024))
    assert json.loads(response.content)["findings"][0]["title"] == "SQL built from user input"
    assert (response.tokens_in, response.tokens_out) == (412, 38)
    assert response.cost_usd == pytest.approx(412 * 5e-6 + 38 * 25e-6)
    assert response.provider == "anthropic" and response.finish_reason == "stop"
    assert SENT["x-api-key"] == "sk-ant-test-not-a-real-key"
    assert SENT["uri"] == "https://api.anthropic.com/v1/messages"
    assert SENT["body"]["model"] == "claude-opus-4-5" and SENT["body"]["max_tokens"] == 1024


@pytest.mark.vcr(filter_headers=CAPTURING_FILTERS)
@pytest.mark.default_cassette("gemini_generate_content.yaml")
async def test_gemini_route_replays_cassette(monkeypatch: pytest.MonkeyPatch) -> None:
    SENT.clear()
    monkeypatch.setenv("GEMINI_API_KEY", "gemini-test-not-a-real-key")
    request = LLMRequest(model="gemini/gemini-2.5-pro", messages=REVIEW_PROMPT, max_tokens=1024)
    response = await Gateway().complete(request)
    assert json.loads(response.content) == {"findings": [], "summary": "Docs read well; no issues."}
    assert response.tokens_in == 350
    assert response.tokens_out == 21 + 120, "thinking tokens are billed as output"
    assert response.cost_usd == pytest.approx(350 * 1.25e-6 + 141 * 10e-6)
    assert response.provider == "gemini"
    assert SENT["x-goog-api-key"] == "gemini-test-not-a-real-key", "key in a header ..."
    assert "key=" not in SENT["uri"], "... not in the URL"
    assert SENT["body"]["generationConfig"]["response_mime_type"] == "application/json", "JSON mode"


@pytest.mark.vcr
@pytest.mark.default_cassette("anthropic_messages.yaml")
async def test_cassette_does_not_answer_another_route(monkeypatch: pytest.MonkeyPatch) -> None:
    """record_mode none: a request the cassette does not hold fails instead of going out."""
    monkeypatch.setenv("GEMINI_API_KEY", "gemini-test-not-a-real-key")
    with pytest.raises(ProviderError) as err:
        await Gateway(retries=0).complete(LLMRequest(model="gemini/gemini-2.5-pro", messages=REVIEW_PROMPT))
    assert "no recorded interaction matches" in str(err.value)


KEY_SHAPES = re.compile(r"sk-ant-|sk-[A-Za-z0-9_\-]{16,}|AIza[0-9A-Za-z_\-]{20,}|gsk_[A-Za-z0-9]{16,}|[?&]key=")


@pytest.mark.parametrize("path", sorted(CASSETTES.glob("**/*.yaml")), ids=lambda p: p.name)
def test_cassettes_hold_no_secrets(path: Path) -> None:
    text = path.read_text()
    assert not KEY_SHAPES.search(text)
    for interaction in yaml.safe_load(text)["interactions"]:
        headers = {h.lower() for h in interaction["request"].get("headers", {})}
        assert not headers & set(SECRET_HEADERS)


def test_recording_filters_the_key(
    fake_provider: FakeProvider, vcr_config: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If someone re-records with this vcr_config, the key does not reach the cassette."""
    import vcr

    monkeypatch.setenv("OPENAI_API_KEY", "sk-recorded-secret-0123456789")
    cassette = tmp_path / "recorded.yaml"
    recorder = vcr.VCR(**{**vcr_config, "record_mode": "once"})
    with recorder.use_cassette(str(cassette)):
        asyncio.run(fast_gateway(fake_provider).complete(ask()))
    text = cassette.read_text()
    assert "127.0.0.1" in text, "the call was recorded"
    assert "sk-recorded-secret" not in text
    assert len(fake_provider.requests) == 1


async def test_a_circuit_that_opens_mid_retry_is_a_provider_failure_not_the_cost_cap(
    fake_provider: FakeProvider,
) -> None:
    fake_provider.script("", "upstream broke", status=503)
    with pytest.raises(ProviderError) as err:
        await fast_gateway(fake_provider, retries=2, breaker_threshold=1).complete(ask())
    assert not isinstance(err.value, BudgetExceeded)  # "cost cap reached" would be a lie
    assert "circuit open after 1 consecutive failures" in str(err.value)
    assert len(fake_provider.requests) == 1


# -- provider errors in tokyo's words -------------------------------------------------------------

LIBRARY_TEXT = ("ssl:", "object at 0x", "Handle with", "litellm", "Exception", "Error code", "{")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed when the block ends: nothing listens there


@pytest.mark.parametrize(
    ("model", "key", "base"),
    [
        ("claude-opus-4-5", "ANTHROPIC_API_KEY", "ANTHROPIC_API_BASE"),  # litellm's aiohttp route
        ("o3", "OPENAI_API_KEY", "OPENAI_BASE_URL"),  # the OpenAI SDK's route
    ],
)
async def test_a_dead_provider_endpoint_is_named_without_library_internals(
    monkeypatch: pytest.MonkeyPatch, model: str, key: str, base: str
) -> None:
    port = closed_port()
    monkeypatch.setenv(key, "test-key-not-real")
    monkeypatch.setenv(base, f"http://127.0.0.1:{port}" + ("/v1" if base == "OPENAI_BASE_URL" else ""))
    with pytest.raises(ProviderError) as err:
        await Gateway(retries=0, timeout_s=5).complete(ask(model))
    provider = "anthropic" if key.startswith("ANTHROPIC") else "openai"
    assert str(err.value) == f"{model}: connection refused at http://127.0.0.1:{port} ({provider})"


async def test_an_http_error_names_the_status_and_the_provider(
    fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_provider.script("", {"error": {"message": "The server had an error", "type": "server_error"}}, status=500)
    monkeypatch.setenv("GROQ_API_KEY", "test-key-not-real")
    monkeypatch.setenv("GROQ_API_BASE", fake_provider.url)
    with pytest.raises(ProviderError) as err:
        await Gateway(retries=0, timeout_s=5).complete(ask("groq/llama-3.3-70b-versatile"))
    assert (
        str(err.value) == "groq/llama-3.3-70b-versatile: provider error (HTTP 500) from groq: The server had an error"
    )


async def test_tokyo_debug_adds_the_raw_text(monkeypatch: pytest.MonkeyPatch) -> None:
    port = closed_port()
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key-not-real")
    monkeypatch.setenv("ANTHROPIC_API_BASE", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("TOKYO_DEBUG", "1")
    with pytest.raises(ProviderError) as err:
        await Gateway(retries=0, timeout_s=5).complete(ask("claude-opus-4-5"))
    message = str(err.value)
    assert message.startswith(f"claude-opus-4-5: connection refused at http://127.0.0.1:{port} (anthropic) [raw: ")
    assert f"Cannot connect to host 127.0.0.1:{port}" in message and "\n" not in message


def _chained(*errors: BaseException) -> BaseException:
    """``errors[0]`` raised from ``errors[1]`` raised from ... (the way libraries wrap)."""
    for outer, inner in zip(errors, errors[1:]):
        outer.__cause__ = inner
    return errors[0]


class InternalServerError(Exception):
    """Shaped like litellm's: a status code and a message with its prefixes and trailer."""

    def __init__(self, message: str, status_code: int = 500) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


class ClientConnectorError(OSError):
    pass


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (
            _chained(
                InternalServerError(
                    "litellm.InternalServerError: AnthropicException - Cannot connect to host "
                    "api.example:443 ssl:<ssl.SSLContext object at 0x7f88> [Name or service not "
                    "known]. Handle with `litellm.InternalServerError`."
                ),
                ClientConnectorError("Cannot connect to host api.example:443 ssl:<ssl.SSLContext object at 0x7f88>"),
                socket.gaierror(-2, "Name or service not known"),
            ),
            "m: host not found at api.example:443 (unknown)",
        ),
        (
            _chained(
                InternalServerError("litellm.InternalServerError: OpenAIException - Connection error."),
                __import__("ssl").SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] self-signed"),
            ),
            "m: TLS certificate not trusted at unknown",
        ),
        (
            _chained(
                InternalServerError("litellm.InternalServerError: OpenAIException - Connection error."),
                ConnectionResetError(104, "Connection reset by peer"),
            ),
            "m: connection dropped at unknown",
        ),
        (
            InternalServerError(
                "litellm.InternalServerError: InternalServerError: OpenAIException - Error code: 503 - "
                '{"error": {"message": "Service overloaded", "type": "server_error"}}',
                503,
            ),
            "m: provider error (HTTP 503) from unknown: Service overloaded",
        ),
        (
            InternalServerError(
                "litellm.InternalServerError: InternalServerError: OpenAIException - "
                "<aiohttp.client.ClientResponse object at 0x7f88>. Handle with `litellm.InternalServerError`.",
                502,
            ),
            "m: provider error (HTTP 502) from unknown",
        ),
        (
            InternalServerError(
                'litellm.BadRequestError: OpenAIException - b\'{"error": {"message": "max_tokens is too large"}}\'', 400
            ),
            "m: request rejected (HTTP 400) from unknown: max_tokens is too large",
        ),
    ],
)
def test_library_text_becomes_a_short_cause(exc: BaseException, expected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from tokyo_cli.llm.errors import classify

    monkeypatch.delenv("TOKYO_DEBUG", raising=False)
    failure = classify("m", exc, timeout_s=120, api_base=None, secrets=[])  # type: ignore[arg-type]
    assert failure.message == expected
    assert not any(mark in failure.message for mark in LIBRARY_TEXT[:4])


def test_an_endpoint_is_shown_without_its_credentials_or_query() -> None:
    from tokyo_cli.llm.errors import classify

    exc = _chained(InternalServerError("Connection error."), ConnectionRefusedError(111, "Connection refused"))
    failure = classify(
        "m", exc, timeout_s=120, api_base="https://user:s3cret@proxy.example:8443/v1?key=abc", secrets=[]
    )  # type: ignore[arg-type]
    assert failure.message == "m: connection refused at https://proxy.example:8443/v1"
