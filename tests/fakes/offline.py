"""What tests that start tokyo in subprocesses share: an environment that reaches no
provider, and a way to print measurements through pytest's capture."""

from __future__ import annotations

import socket
import sys

import pytest


def closed_port() -> int:
    """A 127.0.0.1 port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def offline_env(base: dict[str, str], port: int) -> dict[str, str]:
    """``base`` with no provider key, no TOKYO_* setting and every proxy at the closed
    127.0.0.1 ``port``; git identity and no colour."""
    env = {
        k: v
        for k, v in base.items()
        if not (
            k.endswith(("_API_KEY", "_API_BASE", "_BASE_URL"))
            or k.startswith("TOKYO_")
            or k.lower().endswith("_proxy")
            or k.startswith(("PRE_COMMIT", "GITHUB_"))
        )
    }
    closed = f"http://127.0.0.1:{port}"
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy"):
        env[name] = closed
    env.update(
        OPENAI_BASE_URL=f"{closed}/v1",
        NO_PROXY="",
        no_proxy="",
        PRE_COMMIT_COLOR="never",
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Test",
        GIT_AUTHOR_EMAIL="test@example.com",
        GIT_COMMITTER_NAME="Test",
        GIT_COMMITTER_EMAIL="test@example.com",
        NO_COLOR="1",
    )
    return env


def say(request: pytest.FixtureRequest, line: str, prefix: str = "tokyo") -> None:
    """Print a measurement in the pytest output (not captured). In a pytest-xdist worker
    (``config.workerinput``), whose terminal is not shown, to its stderr, which is the
    controller's."""
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if capture is None:
        return
    with capture.global_and_fixture_disabled():
        if hasattr(request.config, "workerinput"):
            sys.stderr.write(f"\n[{prefix}] {line}\n")
            sys.stderr.flush()
        elif reporter is not None:
            reporter.write_line(f"[{prefix}] {line}")
