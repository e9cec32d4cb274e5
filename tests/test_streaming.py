"""Streaming end to end: the Gateway reading a streamed reply from the fake provider
(``text/event-stream``), and the engine turning deltas into ``CallText`` events only when asked."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from fakes.gitrepo import GitRepo
from fakes.provider import FakeProvider
from tokyo_cli import events as ev
from tokyo_cli.config.settings import load_settings
from tokyo_cli.engine.review import ReviewRequest, prepare_review, run_review
from tokyo_cli.errors import ProviderError
from tokyo_cli.llm.gateway import Gateway, LLMRequest, Retrying

pytestmark = [
    pytest.mark.filterwarnings("ignore:Item .* is using the `ReadOnly` qualifier:UserWarning"),
    # litellm's streaming path reads pydantic fields off instances; not ours to fix.
    pytest.mark.filterwarnings("ignore:Accessing the 'model_.*' attribute on the instance is deprecated"),
]

REPLY = {"findings": [], "summary": "a streamed summary of the change"}
CONTENT = '{"findings": [], "summary": "a streamed summary of the change"}'


def ask(model: str = "gpt-4o", text: str = "review this") -> LLMRequest:
    return LLMRequest(model=model, messages=[{"role": "user", "content": text}])


def gateway(fp: FakeProvider, **kw: Any) -> Gateway:
    kw.setdefault("backoff_s", 0.01)
    kw.setdefault("timeout_s", 5)
    return Gateway(api_base=fp.url, **kw)


async def test_deltas_arrive_in_order_and_the_response_matches_a_plain_call(fake_provider: FakeProvider) -> None:
    fake_provider.script("", REPLY, usage=(1000, 100))
    deltas: list[str] = []
    streamed = await gateway(fake_provider).complete(ask(), on_text=deltas.append)
    plain = await gateway(fake_provider).complete(ask())
    assert len(deltas) > 1 and "".join(deltas) == CONTENT
    body = fake_provider.requests[0][0]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert "stream" not in fake_provider.requests[1][0]
    for field in ("content", "tokens_in", "tokens_out", "cost_usd", "finish_reason", "model", "provider"):
        assert getattr(streamed, field) == getattr(plain, field), field
    assert (streamed.tokens_in, streamed.tokens_out, streamed.finish_reason) == (1000, 100, "stop")
    assert streamed.cost_usd is not None and streamed.cost_usd > 0


async def test_no_usage_chunk_falls_back_to_counting_tokens(fake_provider: FakeProvider) -> None:
    fake_provider.stream_usage = False
    fake_provider.script("", REPLY, usage=(1000, 100))
    response = await gateway(fake_provider).complete(ask(), on_text=lambda _: None)
    assert response.content == CONTENT
    assert 0 < response.tokens_in < 1000 and 0 < response.tokens_out < 100  # litellm's count, not the server's


async def test_unknown_model_streams_with_no_price(fake_provider: FakeProvider) -> None:
    fake_provider.script("", REPLY, usage=(10, 5))
    response = await gateway(fake_provider).complete(ask("my-local-model"), on_text=lambda _: None)
    assert response.content == CONTENT and response.cost_usd is None


async def test_a_broken_listener_does_not_break_the_call(fake_provider: FakeProvider) -> None:
    fake_provider.script("", REPLY)
    calls: list[str] = []

    def broken(text: str) -> None:
        calls.append(text)
        raise RuntimeError("display crashed")

    response = await gateway(fake_provider).complete(ask(), on_text=broken)
    assert response.content == CONTENT and len(calls) == 1


async def test_timeout_covers_the_whole_stream(fake_provider: FakeProvider) -> None:
    fake_provider.script("", REPLY)
    fake_provider.stream_delay = 0.4  # headers at once, then four slow deltas
    deltas: list[str] = []
    with pytest.raises(ProviderError, match=r"gpt-4o: timed out after 0.6 s"):
        await gateway(fake_provider, timeout_s=0.6, retries=0).complete(ask(), on_text=deltas.append)
    assert deltas and "".join(deltas) != CONTENT  # it was cut mid-stream


async def test_a_429_before_the_stream_is_retried(fake_provider: FakeProvider) -> None:
    fake_provider.script("", "slow down", status=429, times=1, headers={"retry-after": "0.1"})
    fake_provider.script("", REPLY)
    notices: list[object] = []
    deltas: list[str] = []
    response = await gateway(fake_provider, listener=notices.append).complete(ask(), on_text=deltas.append)
    assert response.content == CONTENT and "".join(deltas) == CONTENT
    assert response.attempts == 2 and [type(n) for n in notices] == [Retrying]


async def test_an_empty_stream_is_an_empty_reply(fake_provider: FakeProvider) -> None:
    fake_provider.script("", "")
    deltas: list[str] = []
    response = await gateway(fake_provider).complete(ask(), on_text=deltas.append)
    assert response.content == "" and deltas == []


# --- the engine -------------------------------------------------------------------------------


def _events(git_repo: GitRepo, fp: FakeProvider, *, stream: bool) -> list[ev.Event]:
    git_repo.write("src/app.py", "def f():\n    return 1\n")
    git_repo.commit("base")
    git_repo.write("src/app.py", "def f():\n    return 2\n")
    fp.script("", REPLY)
    settings = load_settings(api_base=fp.url)
    prepared = prepare_review(ReviewRequest(repo=git_repo.root, working=True), settings)
    seen: list[ev.Event] = []
    outcome = asyncio.run(run_review(prepared, settings, seen.append, store=False, stream=stream))
    assert outcome.result.status == "completed"
    return seen


def test_engine_emits_call_text_only_when_streaming(git_repo: GitRepo, fake_provider: FakeProvider) -> None:
    seen = _events(git_repo, fake_provider, stream=True)
    texts = [e for e in seen if isinstance(e, ev.CallText)]
    started = {e.step_id for e in seen if isinstance(e, ev.CallStarted)}
    assert started and {t.step_id for t in texts} == started
    for step in started:
        assert "".join(t.text for t in texts if t.step_id == step) == CONTENT
        assert {t.chunk for t in texts if t.step_id == step} == {1}
    assert all(body.get("stream") is True for body, _ in fake_provider.requests)


def test_engine_does_not_stream_by_default(git_repo: GitRepo, fake_provider: FakeProvider) -> None:
    seen = _events(git_repo, fake_provider, stream=False)
    assert any(isinstance(e, ev.CallFinished) for e in seen)
    assert not any(isinstance(e, ev.CallText) for e in seen)
    assert not any("stream" in body for body, _ in fake_provider.requests)


# --- servers that do not stream -----------------------------------------------------------------


@pytest.mark.parametrize("mode", ["json", "drop"])
async def test_a_server_that_cannot_stream_is_asked_again_without_streaming(
    fake_provider: FakeProvider, mode: str
) -> None:
    fake_provider.stream_mode = mode  # a plain JSON body, or a stream cut after its first chunk
    fake_provider.script("", REPLY, usage=(1000, 100))
    deltas: list[str] = []
    gw = gateway(fake_provider, retries=0)
    response = await gw.complete(ask(), on_text=deltas.append)
    assert response.content == CONTENT and response.attempts == 1
    assert (response.tokens_in, response.tokens_out) == (1000, 100)
    assert "".join(deltas).endswith(CONTENT)  # the whole text reaches the listener
    assert [body.get("stream") for body, _ in fake_provider.requests] == [True, None]

    again = await gw.complete(ask(text="the next chunk"), on_text=deltas.append)
    assert again.content == CONTENT
    assert fake_provider.requests[-1][0].get("stream") is None, "not streamed from again in this run"


def test_a_streamed_run_against_a_server_that_answers_plain_json_completes(
    git_repo: GitRepo, fake_provider: FakeProvider
) -> None:
    fake_provider.stream_mode = "json"
    seen = _events(git_repo, fake_provider, stream=True)  # asserts the run completed
    finished = [e for e in seen if isinstance(e, ev.CallFinished)]
    assert finished and all(e.ok and e.error is None for e in finished)
    texts = [e for e in seen if isinstance(e, ev.CallText)]
    assert texts and {t.text for t in texts} == {CONTENT}
