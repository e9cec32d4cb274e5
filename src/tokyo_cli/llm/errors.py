"""How a failed provider call is judged: retry or not, how long to wait, what to tell the user.

Duck-typed on the exceptions litellm raises (subclasses of openai's, each with a
``status_code``), so this module never imports litellm. Every message is one line, starts
with the model id, has API keys masked, and says the cause in tokyo's words — the library's
own text (``Cannot connect to host ... ssl:<ssl.SSLContext object at 0x...>``, ``Handle with
`litellm.InternalServerError```, an HTTP body as JSON) never reaches it::

    gpt-4o: connection refused at http://127.0.0.1:9/v1
    claude-opus-4-5: host not found at https://api.anthropic.com (anthropic)
    o3: provider error (HTTP 500) from openai: The server had an error
    o3: timed out after 120 s

Only the provider's own message (the ``message`` of its JSON error body, or its plain text)
follows a colon. With ``TOKYO_DEBUG=1`` the raw exception text is appended as ``[raw: ...]``
(masked, one line) for a bug report.
"""

from __future__ import annotations

import email.utils
import errno
import json
import os
import re
import time
from urllib.parse import urlsplit

from tokyo_cli.llm.providers import credential_env, provider_of, redact

DETAIL_CHARS = 200
"""The provider's message is cut to this many characters."""
RAW_CHARS = 500
"""With TOKYO_DEBUG=1, the raw exception text is cut to this many characters."""


class CallFailure(Exception):
    """One failed attempt. ``message`` is safe to show; ``retryable`` says whether another
    attempt can help (429, 5xx, timeout, connection); ``retry_after`` is the provider's wait
    in seconds, if it sent one."""

    def __init__(self, message: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.retry_after = retry_after
        self.attempts = 1  # set by the Gateway: attempts this model used ...
        self.verdict = message  # ... and the one-line summary for ProviderError
        self.timed_out = False  # the provider may have done (and billed) the work
        self.refused = False  # never sent (the cost cap stopped it) or refused by a gateway's budget
        self.budget_stop = False  # a LiteLLM Proxy answered that its budget is spent (proxy_budget_stop)


def timed_out(model: str, timeout_s: float) -> CallFailure:
    """``"claude-opus-4-5: timed out after 120 s"``."""
    failure = CallFailure(f"{model}: timed out after {timeout_s:g} s", retryable=True)
    failure.timed_out = True
    return failure


def refused(message: str) -> CallFailure:
    """An attempt the cost cap stopped before it was sent; never retried."""
    failure = CallFailure(message, retryable=False)
    failure.refused = True
    return failure


def classify(model: str, exc: Exception, *, timeout_s: float, api_base: str | None, secrets: list[str]) -> CallFailure:
    """Turn a litellm/openai exception from calling ``model`` into a :class:`CallFailure`.

    401/403 name the env var to set; 400/404/422 are not retried; 429, 5xx, timeouts and
    connection errors are. The message names the cause (see the module docstring) and where:
    ``at <api_base>`` when one is set, else ``from <provider>`` (``at <origin> (<provider>)``
    for a connection, the URL cut to scheme, host and port: no path, no query, no password).
    ``secrets`` are extra strings to mask in the provider's message.
    """
    status = getattr(exc, "status_code", None)
    name = type(exc).__name__
    provider = provider_of(model)
    where = f" at {_origin(api_base, keep_path=True)}" if api_base else f" from {provider}"
    if name in ("Timeout", "APITimeoutError") or status == 408:
        return timed_out(model, timeout_s)
    cause = _connection_cause(exc)
    if cause is not None or name == "APIConnectionError":
        if api_base:
            at = _origin(api_base, keep_path=True)
        else:
            url = _request_url(exc)
            at = f"{_origin(url)} ({provider})" if url else provider
        if cause is None or cause == "connection failed":  # no precise cause: the text may say more
            detail = _detail(exc, secrets)
            return _failure(
                f"{model}: connection failed at {at}" + (f": {detail}" if detail else ""), exc, secrets, retryable=True
            )
        return _failure(f"{model}: {cause} at {at}", exc, secrets, retryable=True)
    detail = _detail(exc, secrets)
    tail = f": {detail}" if detail else ""
    if status in (400, 403, 429) and is_proxy_budget_error(exc):
        return proxy_budget_stop(f"{model}: budget exceeded (HTTP {status}){where}{tail}")
    if status in (401, 403):
        env = "OPENAI_API_KEY" if api_base else " or ".join(credential_env(model)) or "the provider's API key"
        message = f"{model}: authentication failed (HTTP {status}){where}: check {env}"
        return _failure(message, exc, secrets, retryable=False)
    if status == 429:
        return _failure(
            f"{model}: rate limited (HTTP 429){where}{tail}", exc, secrets, retryable=True, retry_after=retry_after(exc)
        )
    if isinstance(status, int) and status >= 500:
        return _failure(
            f"{model}: provider error (HTTP {status}){where}{tail}",
            exc,
            secrets,
            retryable=True,
            retry_after=retry_after(exc),
        )
    if status == 404:
        return _failure(f"{model}: model not found (HTTP 404){where}{tail}", exc, secrets, retryable=False)
    if isinstance(status, int) and 400 <= status < 500:
        return _failure(f"{model}: request rejected (HTTP {status}){where}{tail}", exc, secrets, retryable=False)
    kind = re.sub(r"(Error|Exception)$", "", name) or name
    return _failure(f"{model}: call failed ({kind.lower()}){tail}", exc, secrets, retryable=False)


# LiteLLM Proxy's budget refusals (docs.litellm.ai/docs/proxy/budgets and users; checked
# against litellm 1.109.3's proxy): a key, user, team or proxy-wide budget answers HTTP 400
# with error type "budget_exceeded" ("Budget has been exceeded! Current cost: ..., Max
# budget: ..."); a deployment or provider budget (router budgets, kept in memory) answers
# HTTP 429 "No deployments available - crossed budget: Exceeded budget for deployment ...";
# the user-budget limiter answers 429 "Max budget limit reached.". A 429 without these words
# is a rate limit (retried); one with them will not pass until the budget resets.
_PROXY_BUDGET = re.compile(
    r"budget_exceeded|budget has been exceeded|crossed budget|exceeded budget|max budget limit reached|"
    r"exceededtokenbudget|exceeded (?:the )?(?:key|team|user|proxy|end.?user) budget",
    re.IGNORECASE,
)


def is_proxy_budget_error(exc: BaseException) -> bool:
    """True when ``exc`` is a LiteLLM Proxy budget refusal (see ``_PROXY_BUDGET``): its text,
    or the JSON body litellm kept, names the spent budget."""
    texts = [str(exc), str(getattr(exc, "message", "") or ""), str(getattr(exc, "body", "") or "")]
    response = getattr(exc, "response", None)
    try:
        texts.append(str(getattr(response, "text", "") or ""))
    except Exception:  # httpx raises for a streamed body never read
        pass
    return any(_PROXY_BUDGET.search(t) for t in texts if t)


def proxy_budget_stop(message: str) -> CallFailure:
    """A call a gateway refused because its budget is spent: never retried, counted as a
    budget stop (the step lists its files as not reviewed, "budget"), not as a provider
    failure; the gateway sends nothing more to that server in this run."""
    failure = CallFailure(message, retryable=False)
    failure.refused = True
    failure.budget_stop = True
    return failure


def debug_enabled() -> bool:
    """``TOKYO_DEBUG`` is set to 1/true/yes (what the CLI's error boundary reads too)."""
    return os.environ.get("TOKYO_DEBUG", "").strip().lower() in ("1", "true", "yes")


def _failure(
    message: str, exc: BaseException, secrets: list[str], *, retryable: bool, retry_after: float | None = None
) -> CallFailure:
    """The :class:`CallFailure`; with TOKYO_DEBUG=1 the raw text follows as ``[raw: ...]``."""
    if debug_enabled():
        raw = " ".join(f"{type(exc).__name__}: {exc}".split())
        raw = redact(raw, secrets)
        message += f" [raw: {raw[:RAW_CHARS]}{'...' if len(raw) > RAW_CHARS else ''}]"
    return CallFailure(message, retryable=retryable, retry_after=retry_after)


# The parts of litellm's text that are about litellm, not about the provider.
_LITELLM_TAIL = re.compile(
    r"\s*(Handle with `litellm\.\w+`|Received Model Group=|Available Model Group|"
    r"LiteLLM Retried:|model_group=|For more information check:).*$",
    re.S,
)
_OBJECT_REPR = re.compile(r"<[^<>]*\bobject at 0x[0-9a-fA-F]+>")
_INTERNALS = ("Traceback", 'File "', "litellm", "object at 0x", "ssl:")
_SAYS_NOTHING = {"connection error", "internal server error", "server error", "error", "none", "unknown error"}


def _detail(exc: BaseException, secrets: list[str]) -> str:
    """The provider's own message: the ``message`` of its JSON error body or its plain text,
    first line, without litellm's prefixes and trailers, keys masked; "" when what is left is
    about a library rather than the provider (the cause alone is then the message)."""
    text = str(getattr(exc, "message", None) or exc).strip()
    text = text.splitlines()[0] if text and not text.lstrip("b'\"").startswith("{") else text
    for _ in range(4):  # "litellm.RateLimitError: RateLimitError: OpenAIException - msg"
        head, sep, rest = text.partition(": ")
        if sep and (head.startswith("litellm.") or head.endswith(("Error", "Exception"))) and " " not in head:
            text = rest
    if "Exception - " in text:  # litellm's "OpenAIException - <provider message>"
        text = text.split("Exception - ", 1)[1]
    text = re.sub(r"^Error code: \d{3}( - )?", "", text)
    text = _LITELLM_TAIL.sub("", text)
    text = _json_message(text)
    text = _OBJECT_REPR.sub("", text)
    line = " ".join(text.split())
    if not line or any(mark in line for mark in _INTERNALS) or re.fullmatch(r"[\W\d_]*", line):
        return ""
    if line.lower().rstrip(".") in _SAYS_NOTHING:
        return ""
    line = redact(line, secrets)
    return line[:DETAIL_CHARS] + ("..." if len(line) > DETAIL_CHARS else "")


def _json_message(text: str) -> str:
    """The ``error.message`` (or ``message``, ``detail``) of a JSON error body, else ``text``.
    Accepts the ``b'{...}'`` repr litellm shows for a streamed body."""
    body = text.strip()
    if body.startswith(("b'", 'b"')) and body.endswith(body[1]):
        body = body[2:-1]
    start = body.find("{")
    if start == -1:
        return text
    try:
        data = json.loads(body[start:])
    except ValueError:
        return text
    for _ in range(3):
        if not isinstance(data, dict):
            break
        inner = data.get("error", data.get("message", data.get("detail")))
        if isinstance(inner, str):
            return inner
        data = inner
    return text


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and what caused it (``__cause__``, else ``__context__``), at most 8 deep."""
    out: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and len(out) < 8 and seen not in out:
        out.append(seen)
        seen = seen.__cause__ or seen.__context__
    return out


def _connection_cause(exc: BaseException) -> str | None:
    """What kept the request from reaching the server, in a few words, or ``None`` when it
    did reach it (an HTTP error). Read from the exception chain: the OS error at its bottom
    (refused, reset, unreachable), a DNS or TLS failure, or the client's connect error."""
    import socket
    import ssl

    chain = _chain(exc)
    text = " ".join(str(e) for e in chain)
    for e in reversed(chain):  # the innermost cause is the most precise
        if isinstance(e, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(e):
            return "TLS certificate not trusted"
        if isinstance(e, ssl.SSLError):
            return "TLS handshake failed"
        if isinstance(e, socket.gaierror) or type(e).__name__ == "ClientConnectorDNSError":
            return "host not found"
        if isinstance(e, ConnectionRefusedError) or getattr(e, "errno", None) == errno.ECONNREFUSED:
            return "connection refused"
        if isinstance(e, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
            return "connection dropped"
        if getattr(e, "errno", None) in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return "network unreachable"
    names = {type(e).__name__ for e in chain}
    if names & {"ConnectTimeout", "ServerTimeoutError"}:
        return "connection timed out"
    if names & {"RemoteProtocolError", "ServerDisconnectedError", "ReadError"} or "Server disconnected" in text:
        return "connection dropped"
    if names & {"ConnectError", "ClientConnectorError", "ClientOSError", "APIConnectionError"}:
        if "Name or service not known" in text or "nodename nor servname" in text:
            return "host not found"
        if "Connect call failed" in text or "Connection refused" in text:
            return "connection refused"
        return "connection failed"
    if "Cannot connect to host" in text or "Connection error." in text:
        return "connection failed"
    return None


def _request_url(exc: BaseException) -> str | None:
    """The URL the failed request went to, if known: httpx keeps it on its exception, the
    innermost that has one (litellm's outer exceptions carry placeholder requests)."""
    for e in reversed(_chain(exc)):
        if type(e).__module__.startswith("litellm"):
            continue  # a placeholder request (https://docs.litellm.ai, https://api.openai.com)
        try:
            url = getattr(getattr(e, "request", None), "url", None)
        except RuntimeError:  # httpx raises when an exception has no request attached
            continue
        if url is not None and str(url).startswith(("http://", "https://")):
            return str(url)
    for e in _chain(exc):
        found = re.search(r"Cannot connect to host ([\w.\-\[\]:]+)", str(e))
        if found:
            return f"//{found.group(1)}"
    return None


def _origin(url: str, *, keep_path: bool = False) -> str:
    """``url`` without user, password, query and fragment (and without its path unless
    ``keep_path``): a Gemini URL carries the key in its query."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    scheme = f"{parts.scheme}://" if parts.scheme else ""
    path = parts.path.rstrip("/") if keep_path else ""
    return f"{scheme}{host}{port}{path}" or url


def retry_after(exc: Exception) -> float | None:
    """Seconds from a ``retry-after-ms`` / ``retry-after`` response header (seconds or an
    HTTP date), wherever litellm kept the headers; ``None`` when absent or unparsable."""
    for source in (
        getattr(exc, "litellm_response_headers", None),
        getattr(exc, "headers", None),
        getattr(getattr(exc, "response", None), "headers", None),
    ):
        if not source:
            continue
        try:
            ms = source.get("retry-after-ms")
            if ms is not None:
                return float(ms) / 1000
            value = source.get("retry-after")
            if value is None:
                continue
            try:
                return max(0.0, float(value))
            except ValueError:
                return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError, AttributeError):
            continue
    return None
