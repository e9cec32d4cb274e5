"""A fake OpenAI-compatible model server for tests and benchmarks (no network beyond 127.0.0.1).

``FakeProvider`` is a real HTTP server on ``127.0.0.1`` (random port) in a background thread,
answering ``POST /v1/chat/completions`` in OpenAI's response shape. Point a ``Gateway`` at it
with ``Gateway(api_base=fp.url)``. Thread-per-request, so 50+ requests can be in flight.

In pytest, take the ``fake_provider`` fixture. Outside pytest (a benchmark script)::

    with FakeProvider.start(latency=1.0) as fp:
        gateway = Gateway(api_base=fp.url)

Replies are scripted: the first script whose ``match`` substring occurs in the request's
concatenated message contents (and whose ``times`` is not used up, and whose ``model``, if
given, is the requested one) answers; otherwise the default reply
``{"findings": [], "summary": "ok"}``.

A request with ``"stream": true`` is answered as OpenAI streams: ``text/event-stream`` over
chunked transfer encoding (the connection stays open for the next request), one
``chat.completion.chunk`` per delta (the content split into up to ``STREAM_PIECES`` pieces,
``stream_delay`` seconds apart), a chunk carrying ``finish_reason``, a usage chunk with empty
``choices`` when ``stream_options.include_usage`` is set, then ``data: [DONE]``.

Servers that do not stream, said to: with ``stream_mode = "json"`` a streaming request is
answered with the plain (non-streamed) JSON body; with ``"drop"`` the stream sends
``stream_drop_after`` chunks and then the connection closes mid-body (no ``[DONE]``, no last
chunk of the chunked encoding), as a proxy that cuts streams would.

Tests that must see a run mid-way hold replies instead of racing a delay: a script with
``hold=threading.Event()`` answers only once the test calls ``hold.set()``, and
``stream_hold`` stops every streamed reply after ``stream_hold_after`` content deltas until
it is set. ``received(match)`` is an Event set when a request containing ``match`` arrives.
Stopping the server releases whatever is still held (those answers are dropped).
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

Reply = str | dict[str, Any] | Callable[[dict[str, Any]], "str | dict[str, Any]"]

DEFAULT_REPLY: dict[str, Any] = {"findings": [], "summary": "ok"}
RESET = "__tokyo_fake_reset__"
"""A reply that makes the server drop the connection with a TCP reset instead of answering."""
STREAM_PIECES = 4
"""How many content deltas a streamed reply is split into (fewer for very short content)."""
STATS_PATH = "/__stats"
"""``GET`` it for ``{"requests": n, "peak_in_flight": p, "arrivals": [monotonic s, ...]}``;
header ``X-Reset: 1`` also resets them."""
RAW_KEY = "__raw__"
"""A dict reply ``{RAW_KEY: payload}`` is sent as the whole response body (e.g. empty choices)."""

# OpenAI's error "type" for a few statuses, so litellm maps them the way it maps the real API.
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_api_key",
    403: "permission_denied",
    404: "not_found_error",
    429: "rate_limit_exceeded",
}


@dataclass
class Script:
    """One scripted answer. ``times=None`` answers forever; ``usage=(in, out)`` fixes tokens."""

    match: str
    reply: Reply
    status: int = 200
    delay: float | None = None
    times: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    usage: tuple[int, int] | None = None
    model: str | None = None
    hold: threading.Event | None = None
    used: int = 0

    def available(self) -> bool:
        return self.times is None or self.used < self.times

    def matches(self, body: dict[str, Any], text: str) -> bool:
        if self.model is not None and body.get("model") != self.model:
            return False
        return self.available() and self.match in text


def message_text(body: dict[str, Any]) -> str:
    """Concatenated text of every message's content (str or OpenAI content parts)."""
    parts: list[str] = []
    for message in body.get("messages", []):
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return "\n".join(parts)


def _rough_tokens(text: str) -> int:
    # ~4 characters per token, the usual rule of thumb; deterministic for assertions.
    return max(1, len(text) // 4)


class FakeProvider:
    """An OpenAI-compatible ``/v1/chat/completions`` server with scripted replies.

    Attributes:
        url: base URL ending in ``/v1`` (what ``api_base`` takes).
        latency: seconds every request waits before answering (settable at any time).
        stream_delay: seconds before each content delta of a streamed reply (default 0).
        stream_usage: send the usage chunk when the request asks for it (False: a provider
            that ignores ``stream_options``).
        stream_hold: when set to an Event, every streamed reply sends ``stream_hold_after``
            content deltas, then waits until the Event is set before sending the rest.
        requests: ``(json_body, headers)`` for every chat request received, in arrival order.
        raw_bodies: every POST body's bytes exactly as received (any path, JSON or not), in
            arrival order: what a test checks when nothing may reach the provider.
        peak_in_flight: the most requests that were being handled at the same moment.
    """

    def __init__(self, *, latency: float = 0.0) -> None:
        self.latency = latency
        self.stream_delay = 0.0
        self.stream_usage = True
        self.stream_hold: threading.Event | None = None
        self.stream_hold_after = STREAM_PIECES // 2
        self.stream_mode = "sse"  # "sse" | "json" | "drop" (see the module docstring)
        self.stream_drop_after = 1
        self.requests: list[tuple[dict[str, Any], dict[str, str]]] = []
        self.raw_bodies: list[bytes] = []
        self.arrivals: list[float] = []
        self.peak_in_flight = 0
        self.in_flight = 0
        self._scripts: list[Script] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._counter = 0
        self._holds: list[threading.Event] = []
        self._waiting: list[tuple[str, threading.Event]] = []

    # -- lifecycle -------------------------------------------------------------------------
    @classmethod
    def start(cls, *, latency: float = 0.0) -> FakeProvider:
        """Create and start a server on a free port; use as a context manager to stop it."""
        fp = cls(latency=latency)
        fp._serve()
        return fp

    def _serve(self) -> None:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self), bind_and_activate=False)
        server.daemon_threads = True
        server.request_queue_size = 256  # the default backlog of 5 refuses bursts of connections
        server.allow_reuse_address = True
        server.server_bind()
        server.server_activate()
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="fake-provider", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving; requests still sleeping or held are woken and their answers dropped."""
        self._stopping.set()
        with self._lock:
            held = [*self._holds, *([self.stream_hold] if self.stream_hold else [])]
        for event in held:
            event.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeProvider:
        if self._server is None:
            self._serve()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "FakeProvider is not running"
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # -- scripting -------------------------------------------------------------------------
    def script(
        self,
        match: str,
        reply: Reply,
        status: int = 200,
        delay: float | None = None,
        times: int | None = None,
        headers: dict[str, str] | None = None,
        usage: tuple[int, int] | None = None,
        model: str | None = None,
        hold: threading.Event | None = None,
    ) -> Script:
        """Answer requests whose message text contains ``match`` ("" matches every request).

        Args:
            reply: the assistant content: a str, a dict (sent as ``json.dumps``), or a callable
                taking the request JSON and returning either. For ``status != 200`` it is the
                error message (or, a dict with an ``"error"`` key, the whole error body).
            status: HTTP status; non-200 answers carry an OpenAI-style error body.
            delay: extra seconds before answering (on top of ``latency``).
            times: how many requests this script answers before it is skipped (None: forever).
            headers: extra response headers, e.g. ``{"retry-after": "1"}``.
            usage: ``(prompt_tokens, completion_tokens)``; default is ~4 characters per token.
            model: answer only requests for this model name (as sent, e.g. ``"gpt-4o"``).
            hold: answer only once this Event is set (after ``delay``): the test decides when
                the reply goes out instead of racing a timer. ``stop()`` sets it.
        """
        s = Script(match, reply, status, delay, times, dict(headers or {}), usage, model, hold)
        with self._lock:
            self._scripts.append(s)
            if hold is not None:
                self._holds.append(hold)
        return s

    def received(self, match: str = "") -> threading.Event:
        """An Event set once a chat request whose message text contains ``match`` has
        arrived (already set if one has). Wait on it instead of polling ``requests``."""
        event = threading.Event()
        with self._lock:
            if any(match in message_text(body) for body, _ in self.requests):
                event.set()
            else:
                self._waiting.append((match, event))
        return event

    def reset(self) -> None:
        """Forget scripts, received requests and the in-flight peak."""
        with self._lock:
            self._scripts.clear()
            self.requests.clear()
            self.raw_bodies.clear()
            self.arrivals.clear()
            self.peak_in_flight = 0

    # -- request handling (called on server threads) ---------------------------------------
    def _pick(self, body: dict[str, Any]) -> Script | None:
        text = message_text(body)
        with self._lock:
            for s in self._scripts:
                if s.matches(body, text):
                    s.used += 1
                    return s
        return None

    def _arrived(self, body: dict[str, Any], headers: dict[str, str]) -> None:
        text = message_text(body)
        with self._lock:
            self.requests.append((body, headers))
            self.arrivals.append(time.monotonic())
            due = [event for match, event in self._waiting if match in text]
            self._waiting = [(match, event) for match, event in self._waiting if match not in text]
        for event in due:
            event.set()

    def _answer(
        self, body: dict[str, Any]
    ) -> tuple[int, dict[str, str], dict[str, Any], float, threading.Event | None]:
        """(status, headers, payload, delay in seconds, the script's hold) for one request."""
        script = self._pick(body)
        reply: Reply = script.reply if script else DEFAULT_REPLY
        status = script.status if script else 200
        if callable(reply):
            reply = reply(body)
        content = json.dumps(reply) if isinstance(reply, dict) else str(reply)
        delay = self.latency + ((script.delay or 0.0) if script else 0.0)
        headers = dict(script.headers) if script else {}
        hold = script.hold if script else None
        if reply == RESET:
            return -1, headers, {}, delay, hold
        if isinstance(reply, dict) and RAW_KEY in reply:
            return status, headers, reply[RAW_KEY], delay, hold
        if status != 200:
            if isinstance(reply, dict) and "error" in reply:
                return status, headers, reply, delay, hold
            error = {
                "message": content,
                "type": _ERROR_TYPES.get(status, "server_error"),
                "param": None,
                "code": str(status),
            }
            return status, headers, {"error": error}, delay, hold
        if script and script.usage:
            tokens_in, tokens_out = script.usage
        else:
            tokens_in, tokens_out = _rough_tokens(message_text(body)), _rough_tokens(content)
        with self._lock:
            self._counter += 1
            n = self._counter
        payload = {
            "id": f"chatcmpl-fake-{n}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": tokens_in,
                "completion_tokens": tokens_out,
                "total_tokens": tokens_in + tokens_out,
            },
        }
        return status, headers, payload, delay, hold

    def stream_events(self, payload: dict[str, Any], body: dict[str, Any]) -> Iterator[tuple[float, dict[str, Any]]]:
        """``(delay_s, chunk)`` pairs streaming the non-stream ``payload``, in OpenAI's chunk shape."""
        choice = payload["choices"][0]
        content: str = choice["message"]["content"] or ""
        base = {k: payload[k] for k in ("id", "created", "model")} | {"object": "chat.completion.chunk"}

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return base | {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

        size = max(1, -(-len(content) // STREAM_PIECES))
        pieces = [content[i : i + size] for i in range(0, len(content), size)]
        for n, piece in enumerate(pieces):
            delta = {"role": "assistant", "content": piece} if n == 0 else {"content": piece}
            yield self.stream_delay, chunk(delta)
        yield 0.0, chunk({}, choice.get("finish_reason") or "stop")
        if self.stream_usage and (body.get("stream_options") or {}).get("include_usage"):
            yield 0.0, base | {"choices": [], "usage": payload["usage"]}

    def _enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1


def _make_handler(fp: FakeProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like the real APIs; needs Content-Length
        # Headers and body go out as two writes: with Nagle on, the body waits for the client's
        # delayed ACK (~40 ms on Linux), a delay no real provider adds.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            pass  # keep test output clean

        def handle(self) -> None:
            try:
                super().handle()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client dropped a kept-alive connection (a cancelled stream, exit)

        def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def _stream(self, payload: dict[str, Any], body: dict[str, Any], headers: dict[str, str]) -> None:
            """Server-sent events over chunked transfer encoding (keeps the connection alive)."""
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()

            def write(event: bytes) -> None:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
                self.wfile.flush()

            for sent, (delay, chunk) in enumerate(fp.stream_events(payload, body)):
                if delay > 0 and fp._stopping.wait(delay):
                    self.close_connection = True
                    return
                if fp.stream_mode == "drop" and sent == fp.stream_drop_after:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                hold = fp.stream_hold
                if hold is not None and sent == fp.stream_hold_after:
                    hold.wait()  # set by the test, or by stop()
                    if fp._stopping.is_set():
                        self.close_connection = True
                        return
                write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
            write(b"data: [DONE]\n\n")
            self.wfile.write(b"0\r\n\r\n")

        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            if self.path == STATS_PATH:  # for a server in another process (benchmarks)
                with fp._lock:
                    stats = {
                        "requests": len(fp.requests),
                        "peak_in_flight": fp.peak_in_flight,
                        "arrivals": list(fp.arrivals),
                        "cpu_s": time.process_time(),
                    }
                    if self.headers.get("X-Reset"):
                        fp.requests.clear()
                        fp.arrivals.clear()
                        fp.peak_in_flight = 0
                self._send(200, stats)
            elif self.path.rstrip("/").endswith("/models"):
                self._send(200, {"object": "list", "data": [{"id": "fake", "object": "model"}]})
            else:
                self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

        def do_POST(self) -> None:  # noqa: N802 - stdlib name
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            with fp._lock:
                fp.raw_bodies.append(raw)
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
                return
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                self._send(400, {"error": {"message": "body is not JSON", "type": "invalid_request_error"}})
                return
            fp._arrived(body, {k.lower(): v for k, v in self.headers.items()})
            fp._enter()
            try:
                status, headers, payload, delay, hold = fp._answer(body)
                if delay > 0 and fp._stopping.wait(delay):
                    return  # shutting down: drop the answer
                if hold is not None:
                    hold.wait()  # set by the test, or by stop()
                    if fp._stopping.is_set():
                        return
                if status == -1:  # RESET: abort the connection (RST), as a crashed proxy would
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.close_connection = True
                    self.connection.close()
                    return
                if (
                    status == 200
                    and body.get("stream")
                    and payload.get("object") == "chat.completion"
                    and fp.stream_mode != "json"
                ):
                    self._stream(payload, body, headers)
                else:
                    self._send(status, payload, headers)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (e.g. its timeout fired); nothing to answer
            finally:
                fp._leave()

    return Handler


@pytest.fixture
def fake_provider() -> Iterator[FakeProvider]:
    """A started ``FakeProvider`` (latency 0), stopped after the test."""
    fp = FakeProvider.start()
    try:
        yield fp
    finally:
        fp.stop()


def main() -> None:
    """``python tests/fakes/provider.py LATENCY``: serve in this process, print the URL, stop on EOF.

    Benchmarks run the fake in its own process, as a real provider is: a server sharing the
    client's interpreter (and its GIL) would bill its own request handling to the engine.
    """
    import sys

    fp = FakeProvider.start(latency=float(sys.argv[1]) if len(sys.argv) > 1 else 0.0)
    print(fp.url, flush=True)
    sys.stdin.read()
    fp.stop()


if __name__ == "__main__":
    main()
