"""Reading a streamed chat completion for :class:`tokyo_cli.llm.gateway.Gateway` (no litellm import).

litellm's ``acompletion(..., stream=True)`` returns an async iterator of
``ModelResponseStream`` chunks in OpenAI's ``chat.completion.chunk`` shape
(https://platform.openai.com/docs/api-reference/chat-streaming): ``choices[0].delta.content``
carries the text deltas, ``choices[0].finish_reason`` is set on the last content chunk, and with
``stream_options={"include_usage": True}`` a final chunk carries ``usage`` (litellm passes it
through with empty ``choices``). Providers that ignore ``include_usage`` send no usage at all.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

TextListener = Callable[[str], None]


@dataclass
class Streamed:
    """What a stream delivered. ``prompt_tokens``/``completion_tokens`` are the provider's usage
    (``None`` when it sent none); ``last_chunk_at`` is ``time.monotonic()`` at the last chunk."""

    content: str = ""
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    last_chunk_at: float = 0.0
    chunks: list[Any] = field(default_factory=list)


async def read_stream(stream: AsyncIterator[Any], on_text: TextListener | None) -> Streamed:
    """Consume ``stream`` to the end, calling ``on_text(delta)`` for each non-empty text delta.

    A listener that raises is logged once and not called again for this stream: a broken
    display must not fail the call. Errors from the stream itself propagate unchanged (the
    caller classifies them). The stream is closed on the way out, also on error/cancellation.
    """
    out = Streamed(last_chunk_at=time.monotonic())
    parts: list[str] = []
    try:
        async for chunk in stream:
            out.chunks.append(chunk)
            out.last_chunk_at = time.monotonic()
            usage = getattr(chunk, "usage", None)
            if usage is not None and (
                getattr(usage, "prompt_tokens", None) or getattr(usage, "completion_tokens", None)
            ):
                out.prompt_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
                out.completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
            choices = getattr(chunk, "choices", None) or []
            if not choices:
                continue
            choice = choices[0]
            if getattr(choice, "finish_reason", None):
                out.finish_reason = choice.finish_reason
            delta = getattr(choice, "delta", None)
            text = getattr(delta, "content", None) if delta is not None else None
            if not text:
                continue
            parts.append(text)
            if on_text is not None:
                try:
                    on_text(text)
                except Exception:
                    log.exception("stream text listener failed; not calling it again for this call")
                    on_text = None
    finally:
        await _close(stream)
    out.content = "".join(parts)
    return out


async def _close(stream: Any) -> None:
    close = getattr(stream, "aclose", None)
    if close is None:
        return
    try:
        await close()
    except Exception as exc:  # closing is best effort; the answer (or the real error) wins
        log.debug("closing the stream failed: %s", type(exc).__name__)


def stream_tokens(litellm: Any, model: str, messages: list[dict[str, Any]], streamed: Streamed) -> tuple[int, int]:
    """(prompt, completion) tokens of a finished stream: the provider's usage chunk, else
    litellm's ``token_counter`` on the messages and the content (``(0, 0)`` if it cannot count).
    ``litellm`` is the module, passed in: :mod:`tokyo_cli.llm.gateway` is the only importer."""
    if streamed.prompt_tokens is not None and streamed.completion_tokens is not None:
        return streamed.prompt_tokens, streamed.completion_tokens
    try:
        prompt = int(litellm.token_counter(model=model, messages=messages))
        completion = int(litellm.token_counter(model=model, text=streamed.content, count_response_tokens=True))
    except Exception as exc:  # an unknown tokenizer: no counts rather than a failed call
        log.debug("token count failed for %s: %s", model, type(exc).__name__)
        return 0, 0
    return prompt, completion


def rebuilt_response(litellm: Any, messages: list[dict[str, Any]], streamed: Streamed) -> Any:
    """litellm's whole-response view of the stream (``stream_chunk_builder``: usage from the
    usage chunk, else counted), which ``completion_cost`` prices; ``None`` if it cannot."""
    try:
        return litellm.stream_chunk_builder(streamed.chunks, messages=messages)
    except Exception as exc:  # the caller prices from the token counts instead
        log.debug("could not rebuild the streamed response: %s", type(exc).__name__)
        return None
