"""Config files: the user's config.toml (trusted) and a repository's .tokyo.toml (untrusted, held
to the same rules as [tool.tokyo]); precedence, `tokyo config show`, and the report naming the
repository overrides it applied."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from fakes.gitrepo import GitRepo
from tokyo_cli.config.limits import MAX_CONFIG_BYTES

RunCli = Callable[..., tuple[int, str, str]]

VULN = "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
# The two files a repository may configure tokyo with, and how each spells a key.
REPO_FILES = pytest.mark.parametrize(
    "rel,header,label",
    [
        (".tokyo.toml", "", ".tokyo.toml"),
        ("pyproject.toml", "[tool.tokyo]\n", "[tool.tokyo]"),
    ],
)


@pytest.fixture
def user_config() -> Path:
    """The user config file's path (under the test's home; see conftest's _isolate)."""
    from tokyo_cli.config.userconfig import user_config_path

    path = user_config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _values(out: str) -> dict[str, dict[str, object]]:
    return {v["name"]: v for v in json.loads(out)["values"]}


# -- the user config file --------------------------------------------------------------------


def test_user_config_lies_in_the_platform_config_dir_under_xdg() -> None:
    from tokyo_cli.config.userconfig import user_config_path

    assert user_config_path() == Path(os.environ["XDG_CONFIG_HOME"]) / "tokyo" / "config.toml"


def test_precedence_flag_over_env_over_user_config_over_default(
    user_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tokyo_cli.config.settings import load_settings

    user_config.write_text('model = "openai/from-file"\ntimeout = 10\nretries = 4\nmax-cost = 1.5\n')
    monkeypatch.setenv("TOKYO_TIMEOUT", "20")
    monkeypatch.setenv("TOKYO_RETRIES", "5")
    settings = load_settings(retries=6)
    assert (settings.model, settings.timeout, settings.retries, settings.max_cost) == ("openai/from-file", 20.0, 6, 1.5)
    assert [settings.origin(k) for k in ("model", "timeout", "retries", "max_cost", "cache")] == [
        "user config",
        "env",
        "flag",
        "user config",
        "default",
    ]


def test_config_show_names_each_source(
    user_config: Path, git_repo: GitRepo, cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    user_config.write_text('model = "openai/gpt-4o-mini"\n')
    monkeypatch.setenv("TOKYO_TIMEOUT", "30")
    git_repo.write(".tokyo.toml", 'workflow = "security"\n')
    code, out, err = cli("config", "show", "--json", "--repo", str(git_repo.root))
    assert code == 0, err
    values = _values(out)
    assert values["model"] == {
        "name": "model",
        "value": "openai/gpt-4o-mini",
        "source": "user config",
        "detail": str(user_config),
    }
    assert values["timeout"]["source"] == "env" and values["timeout"]["detail"] == "TOKYO_TIMEOUT"
    assert values["workflow"] == {
        "name": "workflow",
        "value": "security",
        "source": "repository",
        "detail": ".tokyo.toml",
    }
    assert values["retries"]["source"] == "default"
    assert values["fail_on"]["source"] == "workflow" and values["fail_on"]["detail"] == "security"
    data = json.loads(out)
    assert data["user_config_exists"] is True and data["repository"]["settings_file"] == ".tokyo.toml"
    assert data["repository"]["applied"] == ["repository config applied: .tokyo.toml workflow = security"]
    code, text, _ = cli("config", "show", "--repo", str(git_repo.root))
    assert code == 0 and "repository (.tokyo.toml)" in text and "user config (" in text


def test_a_flag_is_named_as_the_source() -> None:
    from tokyo_cli.config.settings import load_settings
    from tokyo_cli.engine.configview import effective_config

    view = effective_config(load_settings(model="openai/x", offline=True), None)
    by_name = {v.name: v for v in view.values}
    assert by_name["model"].source == "flag" and by_name["offline"].source == "flag"
    assert by_name["timeout"].source == "default" and view.repository is None


@pytest.mark.parametrize(
    "text,message",
    [
        ("model = \n", "invalid TOML"),
        ("modle = 'x'\n", "unknown setting 'modle'"),
        ("timeout = -1\n", "invalid setting timeout"),
    ],
)
def test_a_bad_user_config_is_one_line_and_exit_2(user_config: Path, cli: RunCli, text: str, message: str) -> None:
    user_config.write_text(text)
    code, out, err = cli("config", "show")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err and "Traceback" not in err
    assert str(user_config) in err


def test_tokyo_config_names_the_file_and_a_missing_one_is_an_error(
    tmp_path: Path, cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tokyo_cli.config.settings import load_settings

    named = tmp_path / "mine.toml"
    monkeypatch.setenv("TOKYO_CONFIG", str(named))
    code, _, err = cli("config", "show")
    assert code == 2 and "no such user config file (TOKYO_CONFIG)" in err
    named.write_text("offline = true\n")
    assert load_settings().offline is True


def test_user_config_fail_on_is_the_users_default_a_repository_may_still_raise(
    user_config: Path, git_repo: GitRepo
) -> None:
    from tokyo_cli.config.settings import load_settings
    from tokyo_cli.engine.review import load_review_config

    user_config.write_text('fail_on = "critical"\n')
    assert load_review_config(git_repo.root, load_settings(), None).workflow.fail_on.value == "critical"
    git_repo.write(".tokyo.toml", 'fail_on = "medium"\n')
    config = load_review_config(git_repo.root, load_settings(), None)
    assert config.workflow.fail_on.value == "medium"
    assert config.applied == ["repository config applied: .tokyo.toml fail_on = medium (stricter than critical)"]
    # a flag (or TOKYO_FAIL_ON) is the user's word for this run: the repository never replaces it
    assert load_review_config(git_repo.root, load_settings(fail_on="low"), None).workflow.fail_on.value == "medium"


def test_history_listing_reads_the_database_the_user_config_names(
    user_config: Path, tmp_path: Path, cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TOKYO_HOME")
    db = tmp_path / "elsewhere" / "mine.db"
    user_config.write_text(f'db = "{db}"\n')
    code, _, err = cli("history")
    assert code == 0, err
    assert db.is_file()


# -- the repository's .tokyo.toml ------------------------------------------------------------


@REPO_FILES
def test_refused_keys_are_refused_alike_in_both_files(git_repo: GitRepo, rel: str, header: str, label: str) -> None:
    from tokyo_cli.config.settings import load_settings
    from tokyo_cli.engine.review import load_review_config

    git_repo.write(
        rel,
        header + 'fail_on = "critical"\nmodel = "openai/attacker"\napi_base = "http://127.0.0.1:9"\n'
        'analyzer_timeout = 0.001\nmax_file_bytes = 1\nworkflow = "../../x.yaml"\ncallbacks = ["langfuse"]\n',
    )
    config = load_review_config(git_repo.root, load_settings(), None)
    notices = "\n".join(config.notices)
    for key in ("model", "api_base", "analyzer_timeout", "max_file_bytes", "callbacks"):
        assert f"repository config: {label} {key} ignored: only the user sets it" in notices, key
    assert f"{label} fail_on ignored: critical would block less than the workflow's high" in notices
    assert f"{label} workflow ignored: a repository names a workflow, it never gives a path" in notices
    assert config.workflow.name == "review" and config.workflow.fail_on.value == "high"
    assert config.repo.settings_file == label and not config.repo.applied


def test_tokyo_toml_wins_over_tool_tokyo_with_a_notice(git_repo: GitRepo) -> None:
    from tokyo_cli.config.settings import load_settings
    from tokyo_cli.engine.review import load_review_config

    git_repo.write("pyproject.toml", '[tool.tokyo]\nworkflow = "security"\n')
    git_repo.write(".tokyo.toml", 'fail_on = "medium"\n')
    config = load_review_config(git_repo.root, load_settings(), None)
    assert config.workflow.name == "review" and config.workflow.fail_on.value == "medium"
    assert (
        "repository config: [tool.tokyo] in pyproject.toml ignored: .tokyo.toml takes precedence "
        "(one file configures a repository)"
    ) in config.notices


def test_a_symlinked_tokyo_toml_is_never_followed(git_repo: GitRepo, tmp_path: Path, cli: RunCli) -> None:
    outside = tmp_path / "outside.toml"
    outside.write_text('workflow = "security"\n# OUTSIDE-CANARY\n')
    (git_repo.root / ".tokyo.toml").symlink_to(outside)
    code, out, err = cli("config", "show", "--json", "--repo", str(git_repo.root))
    assert code == 0, err
    data = json.loads(out)
    assert "repository config: .tokyo.toml ignored: a symlink is never followed" in data["repository"]["notices"]
    assert _values(out)["workflow"]["value"] == "review" and data["repository"]["settings_file"] is None
    assert "OUTSIDE-CANARY" not in out + err


def test_a_huge_tokyo_toml_is_exit_2_and_never_parsed(git_repo: GitRepo, cli: RunCli) -> None:
    git_repo.write(".tokyo.toml", 'workflow = "review"\n' + "#" * MAX_CONFIG_BYTES)
    code, out, err = cli("config", "show", "--repo", str(git_repo.root))
    assert code == 2 and out == ""
    assert ".tokyo.toml: larger than the 1 MB limit for a configuration file (1000000 bytes)" in err


@pytest.mark.parametrize(
    "text,problem",
    [
        ("workflow = \n", "invalid TOML"),
        ("a = " + "[" * 40 + "]" * 40 + "\n", "nested deeper than 32 levels"),
        (b"workflow = '\xff'\n", "cannot read"),
    ],
)
def test_a_malformed_tokyo_toml_is_one_line_and_exit_2(
    git_repo: GitRepo, cli: RunCli, text: str | bytes, problem: str
) -> None:
    git_repo.write(".tokyo.toml", text)
    code, out, err = cli("config", "show", "--repo", str(git_repo.root))
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and problem in err and ".tokyo.toml" in err
    assert "Traceback" not in err and "tokyo-config-" not in err  # the private copy's path is not shown


def test_a_range_review_reads_tokyo_toml_from_the_base_and_flags_its_change(git_repo: GitRepo, cli: RunCli) -> None:
    git_repo.write("app.py", "def ok():\n    return 1\n")
    git_repo.commit("base")
    git_repo.checkout_branch("feature")
    git_repo.write("app.py", VULN)
    git_repo.write(".tokyo.toml", 'fail_on = "critical"\nworkflow = "docs-only"\n')
    git_repo.commit("silence the review")
    code, out, _ = cli("review", str(git_repo.root), "--base", "main", "--offline", "--format", "json")
    data = json.loads(out)
    assert code == 1 and data["run"]["fail_on"] == "high" and data["run"]["workflow"] == "review"
    assert {f["path"] for f in data["findings"] if f.get("rule") == "tokyo:review-config"} == {".tokyo.toml"}
    assert not any("repository config" in n for n in data["run"]["notices"])  # the head's file was never read


def test_a_symlinked_tokyo_toml_in_the_base_commit_is_never_followed(git_repo: GitRepo, tmp_path: Path) -> None:
    from tokyo_cli.config.repository import load_repo_config

    outside = tmp_path / "outside.toml"
    outside.write_text('workflow = "security"\n')
    (git_repo.root / ".tokyo.toml").symlink_to(outside)
    base = git_repo.commit("a link as config")  # git stores the link (mode 120000), not the file
    cfg = load_repo_config(git_repo.root, base)
    assert cfg.settings == {} and cfg.settings_file is None
    assert cfg.notices == ["repository config: .tokyo.toml ignored: a symlink is never followed"]


def test_the_report_names_the_repository_overrides_applied(git_repo: GitRepo, cli: RunCli) -> None:
    git_repo.write("app.py", "x = 1\n")
    git_repo.commit("base")
    git_repo.write(".tokyo.toml", 'fail_on = "medium"\n')
    git_repo.write("agents.yaml", "agents:\n  - id: sakura\n    exclude: ['legacy/**']\n")
    git_repo.write("app.py", "x = 2\n")
    code, out, err = cli("review", str(git_repo.root), "--working", "--offline", "--format", "json", "--path", "app.py")
    data = json.loads(out)
    applied = [
        "repository config applied: .tokyo.toml fail_on = medium (stricter than high)",
        "repository config applied: agents.yaml agent 'sakura': exclude",
    ]
    assert [n for n in data["run"]["notices"] if n.startswith("repository config applied")] == applied
    run_id = str(data["run"]["id"])
    for fmt in ("markdown", "terminal"):
        code, text, _ = cli("show", run_id, "--format", fmt)
        assert code == 0 and all(line in text for line in applied), fmt


def test_doctor_shows_each_setting_not_at_its_default_with_its_source(
    user_config: Path, git_repo: GitRepo, cli: RunCli
) -> None:
    user_config.write_text("max_cost = 2.5\n")
    git_repo.write(".tokyo.toml", 'fail_on = "medium"\n')
    code, out, err = cli("doctor", str(git_repo.root), "--json")
    settings = {v["name"]: (v["value"], v["source"], v["detail"]) for v in json.loads(out)["settings"]}
    assert settings["max_cost"] == (2.5, "user config", str(user_config))
    assert settings["fail_on"] == ("medium", "repository", ".tokyo.toml")
    assert settings["home"][1] == "env" and "retries" not in settings  # defaults are left out
    code, text, _ = cli("doctor", str(git_repo.root))
    assert "fail_on = medium (repository: .tokyo.toml)" in text
