"""Test isolation: no test touches the real home, a real provider key, or the network."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable

import pytest

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

# Every provider credential a user might have; tests must never see a real one.
PROVIDER_ENV = (
    "ANTHROPIC_API_KEY",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_API_BASE",
    "GROQ_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "GITHUB_TOKEN",
    "GITHUB_EVENT_PATH",
    "GITHUB_ACTIONS",
)

pytest_plugins = ["fakes.provider", "fakes.gitrepo", "fakes.github", "fakes.files", "fakes.wheelhouse"]

RunCli = Callable[..., tuple[int, str, str]]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Files with tests marked ``slow`` first, most such tests first; each file's tests kept
    together and in order.

    Under pytest-xdist (``--dist loadfile --no-loadscope-reorder``, pyproject's addopts) the
    longest files then start at once, one per worker, beside the rest of the suite instead of
    after it: the pre-commit module (two environment installs) ran last otherwise, alone on one
    worker. Without xdist only the order changes; module fixtures are still built once.
    """
    slow = Counter(item.nodeid.split("::", 1)[0] for item in items if item.get_closest_marker("slow"))
    items.sort(key=lambda item: -slow[item.nodeid.split("::", 1)[0]])  # stable: files stay whole


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> RunCli:
    """Run ``tokyo ARGS`` in-process through the real entry point (its error boundary
    included); returns (exit code, stdout, stderr)."""
    from tokyo_cli.cli.app import main

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        with pytest.raises(SystemExit) as exit_info:
            main(list(args))
        out, err = capsys.readouterr()
        return int(exit_info.value.code or 0), out, err

    return run


@pytest.fixture(autouse=True)
def _isolate(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    # The user config file (tokyo_cli.config.userconfig) on Windows and macOS comes from these or HOME.
    monkeypatch.setenv("APPDATA", str(home / "AppData" / "Roaming"))
    monkeypatch.setenv("LOCALAPPDATA", str(home / "AppData" / "Local"))
    monkeypatch.setenv("TOKYO_HOME", str(home / "tokyo"))
    # pytest-xdist workers inherit COLUMNS=80 (the suite runs with -n auto): output must not
    # depend on which runner started the test; tests that want a width set it themselves.
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Test")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "test@example.com")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Test")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "test@example.com")
    monkeypatch.setenv("NO_COLOR", "1")
    from tokyo_cli.llm.providers import CREDENTIALS

    for name in {*PROVIDER_ENV, *(n for groups in CREDENTIALS.values() for g in groups for n in g)}:
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if name.startswith("TOKYO_") and name != "TOKYO_HOME":  # TOKYO_CONFIG, TOKYO_PLUGINS too
            monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if name.startswith("OTEL_"):  # no test exports spans anywhere
            monkeypatch.delenv(name, raising=False)
    from tokyo_cli.config.userconfig import user_config_path

    assert user_config_path().is_relative_to(home), "the user config file must be under the test's home"
