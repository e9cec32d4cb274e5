"""Helpers for tests that write YAML/config files and assert on path-bearing messages."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest


def write(path: Path, text: str) -> Path:
    """Write dedented ``text`` to ``path`` (parents created); returns ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


@pytest.fixture
def neutral_cwd(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in an empty working directory.

    Messages show paths relative to the working directory when below it; a neutral cwd
    keeps tmp paths absolute in the expected messages wherever pytest is started.
    """
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
