"""``tokyo doctor``: each check, its level, the exit code, the JSON model, and the hostile cases
(a repository that tries to pick models, a symlinked config, keys that must not show)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from conftest import RunCli
from fakes.gitrepo import GitRepo
from fakes.provider import FakeProvider
from tokyo_cli.engine.doctor import Diagnosis

CANARY = "sk-ant-api03-doctorCanary0123456789abcdefghijklmnopqrstuvwxyz"  # pragma: allowlist secret


@pytest.fixture
def repo(committed_repo: GitRepo) -> GitRepo:
    return committed_repo


def doctor_json(cli: RunCli, *args: str) -> tuple[int, Diagnosis, dict[str, Any]]:
    code, out, err = cli("doctor", "--json", *args)
    assert "Traceback" not in err
    return code, Diagnosis.model_validate_json(out), json.loads(out)


def test_a_fresh_repository_without_keys_is_ready_with_one_warning_per_variable(cli: RunCli, repo: GitRepo) -> None:
    repo.write("app.py", "print('changed')\n")
    repo.write("new.txt", "untracked\n")
    code, d, _ = doctor_json(cli, str(repo.root))
    assert code == 0 and d.exit_code == 0
    assert d.git.version and d.git.version[0].isdigit()
    r = d.repository
    assert (r.is_repository, r.root, r.head, r.branch) == (True, str(repo.root.resolve()), repo.head(), "main")
    assert (r.dirty, r.changed_files, r.untracked_files, r.shallow) == (True, 1, 1, False)
    assert d.workflow == "review"
    assert {a.id: (a.mode, a.needs) for a in d.agents} == {
        "akira": ("offline", ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"]),
        "yuki": ("offline", ["OPENAI_API_KEY"]),
        "hiro": ("offline", ["GROQ_API_KEY"]),
        "sakura": ("offline", ["GEMINI_API_KEY", "GOOGLE_API_KEY"]),
        "kenji": ("offline", ["OPENAI_API_KEY"]),
    }
    # Yuki and Kenji share a variable: one warning for both.
    assert [(p.level, p.fix) for p in d.problems] == [
        ("warning", "set ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN"),
        ("warning", "set OPENAI_API_KEY"),
        ("warning", "set GROQ_API_KEY"),
        ("warning", "set GEMINI_API_KEY or GOOGLE_API_KEY"),
    ]
    assert "Yuki and Kenji run offline" in d.problems[1].message
    assert d.providers is None  # not asked for: no call
    status = {a.name: a for a in d.analyzers}
    assert {"bandit", "semgrep", "detect-secrets", "zizmor", "hadolint", "docstrings"} <= set(status)
    assert all(a.available for a in status.values()), [a for a in status.values() if not a.available]
    assert status["semgrep"].agents == ["akira"] and status["semgrep"].version
    assert status["docstrings"].detail == "part of tokyo"
    assert not d.history.exists and d.history.expected_schema_version > 0


def test_the_table_says_ready_and_how_to_give_agents_models(cli: RunCli, repo: GitRepo) -> None:
    code, out, err = cli("doctor", str(repo.root))
    assert code == 0, err
    assert "set ANTHROPIC_API_KEY" in out and "Analyzers" in out
    assert out.rstrip().splitlines()[-1] == "tokyo doctor: ready (0 errors, 4 warnings)"


def test_a_key_gives_a_model_and_its_value_is_never_shown(
    cli: RunCli, repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", CANARY)
    code, d, _ = doctor_json(cli, str(repo.root))
    akira = next(a for a in d.agents if a.id == "akira")
    assert (akira.mode, akira.model, akira.needs) == ("model", "claude-opus-4-5", [])
    assert not any("Akira" in p.message for p in d.problems)
    for args in (("--json",), ()):
        _, out, err = cli("doctor", *args, str(repo.root))
        assert CANARY not in out + err


def test_an_offline_run_warns_about_nothing(cli: RunCli, repo: GitRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKYO_OFFLINE", "1")
    code, d, _ = doctor_json(cli, str(repo.root))
    assert code == 0 and d.problems == []
    assert all(a.mode == "offline" and a.needs == [] for a in d.agents)


def test_outside_a_repository_is_an_error(cli: RunCli, tmp_path: Path) -> None:
    code, d, _ = doctor_json(cli, str(tmp_path))
    assert code == 1
    assert [(p.level, p.check) for p in d.problems] == [("error", "repository")]
    assert "not a git repository" in d.problems[0].message and d.agents == []
    code, out, err = cli("doctor", str(tmp_path))
    assert code == 1 and "x error   not a git repository" in out and "Traceback" not in err


def test_a_bad_setting_is_an_error_in_one_line(cli: RunCli, repo: GitRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKYO_TIMEOUT", "-1")
    code, d, _ = doctor_json(cli, str(repo.root))
    assert code == 1
    assert [p.check for p in d.problems if p.level == "error"] == ["settings"]
    assert "invalid setting timeout" in d.problems[0].message


def test_a_missing_security_analyzer_is_an_error_and_another_a_warning(
    cli: RunCli, repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tokyo_cli.analyzers.common as common

    real = common.find_tool
    monkeypatch.setattr(common, "find_tool", lambda name: None if name in ("semgrep", "zizmor") else real(name))
    code, d, _ = doctor_json(cli, str(repo.root))
    assert code == 1
    found = {(p.level, p.message) for p in d.problems if p.check == "analyzers"}
    assert found == {
        ("error", "semgrep unavailable: the semgrep executable is not installed"),
        ("warning", "zizmor unavailable: the zizmor executable is not installed"),
    }
    monkeypatch.setattr(common, "find_tool", lambda name: None if name == "zizmor" else real(name))
    assert doctor_json(cli, str(repo.root))[0] == 0  # a warning alone never fails it


# -- history database ---------------------------------------------------------------------


def _made_db(tmp_path: Path) -> Path:
    from tokyo_cli.store.db import open_db

    path = tmp_path / "history.db"
    open_db(path).close()
    return path


def test_history_health_reads_without_writing(cli: RunCli, repo: GitRepo, tmp_path: Path) -> None:
    path = _made_db(tmp_path)
    before = path.read_bytes()
    code, d, _ = doctor_json(cli, str(repo.root), "--db", str(path))
    h = d.history
    assert code == 0
    assert (h.exists, h.integrity, h.schema_version, h.size_bytes) == (
        True,
        "ok",
        h.expected_schema_version,
        len(before),
    )
    assert path.read_bytes() == before
    missing = tmp_path / "none" / "history.db"
    code, d, _ = doctor_json(cli, str(repo.root), "--db", str(missing))
    assert code == 0 and not d.history.exists and not missing.parent.exists()  # never created


def test_a_corrupt_history_database_is_an_error(cli: RunCli, repo: GitRepo, tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    path.write_bytes(b"this is not a database" * 100)
    code, d, _ = doctor_json(cli, str(repo.root), "--db", str(path))
    assert code == 1
    assert "corrupt or not a SQLite database" in (d.history.error or "")
    assert [p.check for p in d.problems if p.level == "error"] == ["history"]


def test_a_history_database_from_a_newer_tokyo_is_an_error(cli: RunCli, repo: GitRepo, tmp_path: Path) -> None:
    path = _made_db(tmp_path)
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
            "VALUES ('tokyo', 'm999_future', '2030-01-01')"
        )
    conn.close()
    code, d, _ = doctor_json(cli, str(repo.root), "--db", str(path))
    assert code == 1
    assert d.history.schema_version == d.history.expected_schema_version + 1
    assert "newer than tokyo" in (d.history.error or "")


def test_a_failed_integrity_check_is_an_error(cli: RunCli, repo: GitRepo, tmp_path: Path) -> None:
    """An index that no longer matches its table (its definition rewritten behind SQLite's
    back): every page is readable, only ``PRAGMA integrity_check`` finds it."""
    path = _made_db(tmp_path)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("CREATE TABLE filler (x TEXT, y TEXT)")
        conn.executemany("INSERT INTO filler VALUES (?, ?)", [(str(i), str(-i)) for i in range(50)])
        conn.execute("CREATE INDEX filler_x ON filler (x)")
    with conn:
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute("UPDATE sqlite_master SET sql = 'CREATE INDEX filler_x ON filler (y)' WHERE name = 'filler_x'")
    conn.close()
    code, d, _ = doctor_json(cli, str(repo.root), "--db", str(path))
    assert code == 1
    assert (d.history.integrity or "").startswith("row 2 missing from index filler_x")
    assert d.history.error == f"integrity check failed: {d.history.integrity}"


# -- providers ----------------------------------------------------------------------------


def test_check_providers_makes_one_one_token_call_and_shows_its_cost(
    cli: RunCli, repo: GitRepo, fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOKYO_API_BASE", fake_provider.url)
    fake_provider.script("", "OK", usage=(12, 1))
    code, d, _ = doctor_json(cli, str(repo.root), "--check-providers")
    assert code == 0, d.problems
    assert all(a.mode == "model" for a in d.agents)
    (check,) = d.providers or []
    assert (check.provider, check.model, check.ok, check.tokens_in, check.tokens_out) == (
        fake_provider.url,
        "claude-opus-4-5",
        True,
        12,
        1,
    )
    assert check.cost_usd is not None and 0 < check.cost_usd < 0.001  # claude-opus-4-5's list price
    ((body, _),) = fake_provider.requests
    assert body["max_tokens"] == 1 and "response_format" not in body
    _, out, _ = cli("doctor", "--check-providers", str(repo.root))
    assert f"{check.cost_usd:.6f}" in out


def test_without_the_flag_no_provider_is_called(
    cli: RunCli, repo: GitRepo, fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOKYO_API_BASE", fake_provider.url)
    code, d, _ = doctor_json(cli, str(repo.root))
    assert code == 0 and d.providers is None and fake_provider.requests == []


def test_a_provider_that_refuses_the_key_is_an_error_without_the_key(
    cli: RunCli, repo: GitRepo, fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOKYO_API_BASE", fake_provider.url)
    monkeypatch.setenv("OPENAI_API_KEY", CANARY)  # what the gateway sends to an --api-base server
    fake_provider.script("", f"Incorrect API key provided: {CANARY}", status=401)
    code, d, raw = doctor_json(cli, str(repo.root), "--check-providers")
    assert code == 1
    (check,) = d.providers or []
    assert not check.ok and check.error
    assert [p.check for p in d.problems if p.level == "error"] == ["providers"]
    assert CANARY not in json.dumps(raw)


# -- the reviewed repository is hostile ------------------------------------------------------


def test_a_repository_cannot_pick_the_model_doctor_reports(
    cli: RunCli, repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its agents.yaml gives Akira a model whose key is set: refused, as in a review; doctor
    still says Akira needs ANTHROPIC_API_KEY and shows the refusal."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-proj-not-a-real-key-0000000000")  # pragma: allowlist secret
    repo.write("agents.yaml", "agents:\n  - id: akira\n    model: openai/gpt-4o\n")
    code, d, _ = doctor_json(cli, str(repo.root))
    akira = next(a for a in d.agents if a.id == "akira")
    assert (akira.mode, akira.configured_model, akira.needs) == (
        "offline",
        "claude-opus-4-5",
        ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"],
    )
    assert any(p.check == "settings" and "model" in p.message and "ignored" in p.message for p in d.problems)


def test_a_symlinked_agents_yaml_is_never_followed(cli: RunCli, repo: GitRepo, tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text("agents:\n  - id: akira\n    analyzers: []\n", encoding="utf-8")
    (repo.root / "agents.yaml").symlink_to(outside)
    code, d, _ = doctor_json(cli, str(repo.root))
    assert code == 0
    assert any("agents.yaml ignored: a symlink is never followed" in p.message for p in d.problems)
    assert "bandit" in next(a for a in d.agents if a.id == "akira").analyzers
