"""The litellm import starts before the analyzers when a call will miss the response cache,
and never on a fully cached re-run (issue 17, item 1)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fakes.gitrepo import GitRepo
from fakes.provider import FakeProvider
from tokyo_cli import events as ev
from tokyo_cli.config.settings import load_settings
from tokyo_cli.engine.review import ReviewOutcome, ReviewRequest, prepare_review, run_review
from tokyo_cli.llm.gateway import Gateway

REPLY = {"findings": [], "summary": "looked at it"}


@pytest.fixture
def change(git_repo: GitRepo) -> GitRepo:
    git_repo.write("src/app.py", "def f():\n    return 1\n")
    git_repo.commit("base")
    git_repo.write("src/app.py", "import subprocess\n\ndef f(cmd):\n    return subprocess.call(cmd, shell=True)\n")
    return git_repo


def _review(repo: GitRepo, fp: FakeProvider, order: list[str], **settings: object) -> ReviewOutcome:
    config = load_settings(api_base=fp.url, **settings)
    prepared = prepare_review(ReviewRequest(repo=repo.root, working=True), config)

    def listen(event: ev.Event) -> None:
        order.append(type(event).__name__)

    return asyncio.run(run_review(prepared, config, listen))


@pytest.fixture
def preloads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every Gateway.preload call appends "preload" to the list the events go to."""
    order: list[str] = []
    monkeypatch.setattr(Gateway, "preload", lambda self: order.append("preload"))
    return order


def test_a_cold_run_starts_the_import_before_any_step_and_a_cached_rerun_never(
    change: GitRepo, fake_provider: FakeProvider, preloads: list[str]
) -> None:
    fake_provider.script("", REPLY)
    first = _review(change, fake_provider, preloads)
    assert first.result.status == "completed" and fake_provider.requests
    assert preloads.count("preload") == 1
    assert preloads.index("preload") < preloads.index("StepStarted"), preloads

    preloads.clear()
    sent = len(fake_provider.requests)
    again = _review(change, fake_provider, preloads)
    assert again.result.status == "completed"
    assert len(fake_provider.requests) == sent, "every call came from the cache"
    assert all(c.cache_hit for c in again.result.calls) and again.result.calls
    assert "preload" not in preloads

    change.write("src/app.py", "def f():\n    return 3\n")  # a new change: its calls will miss
    preloads.clear()
    _review(change, fake_provider, preloads)
    assert preloads.index("preload") < preloads.index("StepStarted"), preloads


def test_steps_with_no_file_to_review_do_not_make_a_cached_rerun_import(
    git_repo: GitRepo, fake_provider: FakeProvider, preloads: list[str]
) -> None:
    git_repo.write("docs/guide.md", "# Guide\n")
    git_repo.commit("base")
    git_repo.write("docs/guide.md", "# Guide\n\nRun `make`.\n")  # akira, yuki and hiro review no docs
    fake_provider.script("", REPLY)
    _review(git_repo, fake_provider, preloads)
    preloads.clear()
    again = _review(git_repo, fake_provider, preloads)
    assert "skipped" in {s.status for s in again.result.steps} and again.result.calls
    assert all(c.cache_hit for c in again.result.calls)
    assert "preload" not in preloads


def test_no_cache_preloads_and_offline_never(change: GitRepo, fake_provider: FakeProvider, preloads: list[str]) -> None:
    fake_provider.script("", REPLY)
    _review(change, fake_provider, preloads, cache=False)
    assert preloads.index("preload") < preloads.index("StepStarted")
    preloads.clear()
    _review(change, fake_provider, preloads, offline=True)
    assert "preload" not in preloads


def test_a_plan_whose_answers_are_gone_preloads(
    change: GitRepo, fake_provider: FakeProvider, preloads: list[str]
) -> None:
    from tokyo_cli.store.db import open_db

    fake_provider.script("", REPLY)
    _review(change, fake_provider, preloads)
    db = open_db(load_settings().db_path())
    db.execute("DELETE FROM cache WHERE key NOT LIKE 'plan:%' AND model != 'analyzers'")
    db.conn.commit()
    db.conn.close()
    preloads.clear()
    _review(change, fake_provider, preloads)
    assert preloads.index("preload") < preloads.index("StepStarted")


def test_a_cached_rerun_in_a_fresh_process_never_imports_litellm(
    change: GitRepo, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    fake_provider.script("", REPLY)
    _review(change, fake_provider, [])  # fills the cache in this process (TOKYO_HOME is shared)
    code = (
        "import sys\n"
        "from tokyo_cli.cli.app import main\n"
        "try:\n"
        f"    main(['review', {str(change.root)!r}, '--working', '--api-base', {fake_provider.url!r},"
        " '-q', '-f', 'json'])\n"
        "except SystemExit as exc:\n"
        "    sys.stderr.write(f'exit={exc.code} litellm={\"litellm\" in sys.modules}\\n')\n"
    )
    sent = len(fake_provider.requests)
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env={**os.environ}, cwd=tmp_path
    )
    assert "exit=1 litellm=False" in proc.stderr, proc.stderr  # 1: bandit's shell=True finding
    assert len(fake_provider.requests) == sent


def test_a_first_run_starts_the_import_before_reading_the_change(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import tokyo_cli.llm.gateway as llm
    from tokyo_cli.engine.early import start_import_early

    started: list[bool] = []
    monkeypatch.setattr(llm, "preload", lambda: started.append(True))
    db = tmp_path / "history.db"
    assert start_import_early(load_settings(api_base="http://127.0.0.1:9/v1", db=db)), "no history yet"
    assert not start_import_early(load_settings(db=db)), "no key, no --api-base: offline"
    assert not start_import_early(load_settings(api_base="http://127.0.0.1:9/v1", db=db, offline=True))
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-not-real")
    assert start_import_early(load_settings(db=db))
    db.write_bytes(b"")  # a history database exists: its cache may answer, the engine decides
    assert not start_import_early(load_settings(db=db))
    assert start_import_early(load_settings(db=db, cache=False))
    assert len(started) == 3


def test_the_preload_also_loads_what_the_first_call_would(tmp_path: Path) -> None:
    # In a fresh process (this one may have both already): after the preload thread, the price
    # map is read and litellm's lazily imported file-id helpers are in, off the first call's path.
    code = (
        "import sys\n"
        "from tokyo_cli.llm import gateway, pricing\n"
        "assert pricing.price_map.cache_info().currsize == 0\n"
        "gateway.preload()\n"
        "gateway._preloading.join(300)\n"
        "print(pricing.price_map.cache_info().currsize, len(pricing.price_map()) > 100,\n"
        "      'litellm.proxy.openai_files_endpoints.common_utils' in sys.modules)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env={**os.environ}, cwd=tmp_path
    )
    assert proc.stdout.split() == ["1", "True", "True"], proc.stderr


def test_tokyo_review_starts_the_import_before_loading_the_engine_or_the_store(tmp_path: Path) -> None:
    # In a fresh process: the preload is the first thing `tokyo review` does once its settings
    # are read, before the engine (~0.3 s of imports) and sqlite-utils are loaded; the path
    # is not a repository, so the run stops right after (the import thread is a daemon).
    code = (
        "import sys\n"
        "import tokyo_cli.llm.gateway as gateway\n"
        "seen = []\n"
        "gateway.preload = lambda: seen.append(sorted(m for m in ('tokyo_cli.engine.review', 'tokyo_cli.store',\n"
        "    'sqlite_utils', 'tokyo_cli.git.repo') if m in sys.modules))\n"
        "from tokyo_cli.cli.app import main\n"
        "try:\n"
        f"    main(['review', {str(tmp_path / 'not-a-repo')!r}, '--api-base', 'http://127.0.0.1:9/v1'])\n"
        "except SystemExit as exc:\n"
        "    print(exc.code, seen)\n"
    )
    env = {**os.environ, "TOKYO_HOME": str(tmp_path / "home")}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path
    )
    assert proc.stdout.split(None, 1) == ["2", "[[]]\n"], proc.stdout + proc.stderr
