"""How a failed provider call is judged: retry or not, how long to wait, what to tell the user.

Duck-typed on the exceptions litellm raises (subclasses of openai's, each with a
``status_code``), so this module never imports litellm. Every message is one line, starts
with the model id, and has API keys masked.
"""

from __future__ import annotations

import email.utils
import time

from tokyo_cli.providers import credential_env, redact


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
        self.refused = False  # never sent: the cost cap stopped it


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


def classify(
    model: str, exc: Exception, *, timeout_s: float, api_base: str | None, secrets: list[str]
) -> CallFailure:
    """Turn a litellm/openai exception from calling ``model`` into a :class:`CallFailure`.

    401/403 name the env var to set; 400/404/422 are not retried; 429, 5xx, timeouts and
    connection errors are. ``secrets`` are extra strings to mask in the provider's message.
    """
    status = getattr(exc, "status_code", None)
    name = type(exc).__name__
    detail = _detail(exc, secrets)
    where = f" at {api_base}" if api_base else ""
    if name in ("Timeout", "APITimeoutError") or status == 408:
        return timed_out(model, timeout_s)
    if name == "APIConnectionError" or _is_connection_error(exc):
        return CallFailure(f"{model}: connection failed{where}: {detail}", retryable=True)
    if status in (401, 403):
        env = "OPENAI_API_KEY" if api_base else " or ".join(credential_env(model)) or "the provider's API key"
        return CallFailure(f"{model}: authentication failed (HTTP {status}){where}: check {env}", retryable=False)
    if status == 429:
        return CallFailure(f"{model}: rate limited (HTTP 429): {detail}", retryable=True, retry_after=retry_after(exc))
    if isinstance(status, int) and status >= 500:
        message = f"{model}: provider error (HTTP {status}){where}: {detail}"
        return CallFailure(message, retryable=True, retry_after=retry_after(exc))
    if status == 404:
        return CallFailure(f"{model}: model not found (HTTP 404){where}: {detail}", retryable=False)
    if isinstance(status, int) and 400 <= status < 500:
        return CallFailure(f"{model}: request rejected (HTTP {status}){where}: {detail}", retryable=False)
    return CallFailure(f"{model}: call failed ({name}): {detail}", retryable=False)


def _detail(exc: Exception, secrets: list[str]) -> str:
    """The provider's message, first line, litellm's class prefixes removed, keys masked."""
    text = str(getattr(exc, "message", None) or exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    for _ in range(3):  # "litellm.RateLimitError: RateLimitError: OpenAIException - msg"
        head, sep, rest = line.partition(": ")
        if sep and (head.startswith("litellm.") or head.endswith(("Error", "Exception"))):
            line = rest
    if "Exception - " in line:  # litellm's "OpenAIException - <provider message>"
        line = line.split("Exception - ", 1)[1]
    line = redact(line, secrets)
    return line[:200] + ("..." if len(line) > 200 else "")


def _is_connection_error(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) is a failure to reach the server at all."""
    seen: BaseException | None = exc
    for _ in range(6):
        if seen is None:
            return False
        if type(seen).__name__ in ("ConnectError", "ConnectTimeout", "ClientConnectorError", "APIConnectionError"):
            return True
        if "Connection error" in str(seen) or "Cannot connect to host" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


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
