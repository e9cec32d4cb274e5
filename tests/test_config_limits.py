"""Limits on untrusted configuration: alias bombs, huge files, deep nesting, control
characters, too many agents or steps. Each is a ConfigError (exit 2) naming the file and the
limit, reached in bounded time (config/limits.py)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import RunCli
from fakes.gitrepo import GitRepo
from tokyo_cli.config.limits import MAX_AGENTS, MAX_CONFIG_BYTES, MAX_STEPS, load_toml_text
from tokyo_cli.config.repository import _tool_tokyo
from tokyo_cli.config.yamlload import load_yaml, load_yaml_text
from tokyo_cli.errors import ConfigError


def alias_bomb(levels: int = 30, key: str = "agents") -> str:
    """2**levels values in a few hundred bytes: each anchor lists the previous one twice."""
    lines = ['a0: &a0 ["x", "x"]']
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}]" for i in range(1, levels)]
    return "\n".join(lines) + f"\n{key}: []\n"


def merge_bomb(levels: int = 40) -> str:
    """Merge keys (``<<``) doubling a mapping's pairs per level."""
    lines = ["m0: &m0 {a: 1}"]
    lines += [f"m{i}: &m{i} {{<<: [*m{i - 1}, *m{i - 1}], k{i}: 1}}" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def config_error(text: str, name: str = "agents.yaml") -> str:
    with pytest.raises(ConfigError) as info:
        load_yaml_text(text, name)
    return str(info.value)


def test_alias_bomb_is_refused_at_once() -> None:
    start = time.monotonic()
    message = config_error(alias_bomb())
    assert time.monotonic() - start < 2
    assert message.startswith("agents.yaml:")
    assert "aliases expand to more than 100000 values (the limit per file)" in message


def test_merge_key_bomb_is_refused() -> None:
    message = config_error(merge_bomb())
    assert "aliases expand to more than 100000 values" in message


def test_too_many_aliases() -> None:
    text = "a: &a 1\nb: [" + ", ".join(["*a"] * 101) + "]\n"
    assert "more than 100 aliases (the limit per file)" in config_error(text)


def test_recursive_alias_is_refused() -> None:
    assert (
        config_error("a: &a [1, *a]\n")
        == "agents.yaml:1: invalid YAML: an alias refers to its own anchor (endless data)"
    )


def test_deep_nesting_is_refused_not_a_recursion_error() -> None:
    text = "a: " + "[" * 5000 + "]" * 5000 + "\n"
    assert config_error(text) == "agents.yaml:1: invalid YAML: nested deeper than 32 levels (the limit)"


def test_aliases_that_nest_deeper_than_the_limit() -> None:
    # 20 levels under an anchor, used 20 levels down: 40 deep once expanded.
    text = "a: &a " + "[" * 20 + "]" * 20 + "\nb: " + "[" * 20 + "*a" + "]" * 20 + "\n"
    assert "aliases nest deeper than 32 levels (the limit)" in config_error(text)


def test_a_few_aliases_still_work_and_keep_their_lines() -> None:
    doc = load_yaml_text("base: &p [src/**]\nagents:\n  - id: x\n    paths: *p\n", "agents.yaml")
    assert doc.data["agents"][0]["paths"] == ["src/**"]
    assert doc.line(("agents", 0, "paths", 0)) == 4  # the alias's line, not the anchor's


@pytest.mark.parametrize(("char", "code"), [("\x07", "0007"), ("\x00", "0000"), ("\x1b", "001B")])
def test_control_character_names_file_and_line(char: str, code: str) -> None:
    message = config_error(f"agents:\n  - id: akira\n    name: A{char}\n")
    assert message.startswith(f"agents.yaml:3: invalid YAML: control character U+{code} is not allowed")


def test_a_value_pyyaml_cannot_build_is_a_config_error() -> None:
    message = config_error("agents:\n  - id: akira\n    name: " + "1" * 5000 + "\n")
    assert message.startswith("agents.yaml:3: invalid YAML: cannot read this value: Exceeds the limit (4300 digits)")


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("!!timestamp x", "not a valid timestamp"),  # PyYAML raised AttributeError
        ("!!int x", "cannot read this value: invalid literal for int()"),
    ],
)
def test_explicit_tags_that_do_not_fit_are_config_errors(value: str, problem: str) -> None:
    assert config_error(f"agents:\n  - id: akira\n    name: {value}\n").startswith(
        f"agents.yaml:3: invalid YAML: {problem}"
    )


def test_dates_stay_strings() -> None:
    assert load_yaml_text("name: 2024-13-45\nother: 2024-01-02\n", "w.yaml").data == {
        "name": "2024-13-45",
        "other": "2024-01-02",
    }


def test_oversized_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"# " + b"x" * MAX_CONFIG_BYTES + b"\n")
    with pytest.raises(ConfigError) as info:
        load_yaml(path)
    assert "larger than the 1 MB limit for a configuration file (1000000 bytes)" in str(info.value)


def test_oversized_text_is_refused() -> None:
    assert "larger than the 1 MB limit" in config_error("a: '" + "é" * (MAX_CONFIG_BYTES // 2) + "'\n")


def _agents(count: int) -> str:
    entry = (
        "  - id: extra{i}\n    name: E\n    specialty: s\n    model: o3\n    context_window: 1000\n"
        "    max_output_tokens: 10\n    instructions: look\n"
    )
    return "agents:\n" + "".join(entry.format(i=i) for i in range(count))


def _workflow(steps: int) -> str:
    return "name: many\nsteps:\n" + "".join(f"  - id: s{i}\n    agent: akira\n" for i in range(steps))


def test_too_many_agents_is_exit_2(git_repo: GitRepo, cli: RunCli) -> None:
    git_repo.write("agents.yaml", _agents(MAX_AGENTS + 1))
    code, _, err = cli("agents", "list", "--repo", str(git_repo.root))
    assert code == 2
    assert f"agents.yaml:1: agents: {MAX_AGENTS + 1} agents, over the limit of {MAX_AGENTS} per file" in err


def test_too_many_steps_is_exit_2(git_repo: GitRepo, cli: RunCli, tmp_path: Path) -> None:
    wf = tmp_path / "many.yaml"
    wf.write_text(_workflow(MAX_STEPS + 1), encoding="utf-8")
    code, _, err = cli("workflows", "validate", str(wf), "--repo", str(git_repo.root))
    assert code == 2
    assert f"many.yaml:2: steps: {MAX_STEPS + 1} steps, over the limit of {MAX_STEPS} per file" in err


def _tokyo(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real entry point in its own process: a hang fails the test instead of stalling it."""
    return subprocess.run(
        [sys.executable, "-m", "tokyo_cli", *args, "--repo", str(root)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_alias_bomb_in_agents_yaml_exits_2_naming_file_and_limit(git_repo: GitRepo) -> None:
    git_repo.write("agents.yaml", alias_bomb())
    proc = _tokyo(git_repo.root, "agents", "list")
    assert proc.returncode == 2, proc.stderr
    assert "agents.yaml:" in proc.stderr and "(the limit per file)" in proc.stderr


def test_alias_bomb_in_a_workflow_is_listed_and_fails_validation(git_repo: GitRepo) -> None:
    git_repo.write("workflows/bomb.yaml", alias_bomb(key="steps"))
    listed = _tokyo(git_repo.root, "workflows", "list")
    assert listed.returncode == 0, listed.stderr
    assert "bomb" in listed.stdout
    checked = _tokyo(git_repo.root, "workflows", "validate")
    assert checked.returncode == 2
    assert "workflows/bomb.yaml:16: invalid YAML: aliases expand to more than 100000 values" in checked.stderr


def test_control_character_in_agents_yaml_is_exit_2_not_3(git_repo: GitRepo, cli: RunCli) -> None:
    git_repo.write("agents.yaml", "agents:\n  - id: akira\n    name: \x07\n")
    code, _, err = cli("agents", "list", "--repo", str(git_repo.root))
    assert code == 2
    assert "agents.yaml:3: invalid YAML: control character U+0007" in err


@pytest.mark.parametrize(
    "text",
    [
        "a = " + "[" * 5000 + "]" * 5000,
        "a = " + "{b=" * 3000 + "1" + "}" * 3000,
        "a" + ".a" * 100_000 + " = 1",  # tomllib holds every prefix: tens of GB
        'a = ["""x"""", ' + "[" * 3000 + "]" * 3000 + "]",  # a closing quote tomllib allows
    ],
    ids=["arrays", "inline-tables", "dotted-key", "after-a-string"],
)
def test_toml_nesting_is_refused_before_tomllib(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_toml_text(text, "pyproject.toml")
    assert str(info.value) == "pyproject.toml:1: invalid TOML: nested deeper than 32 levels (the limit)"
    assert _tool_tokyo(text.encode()) == "unreadable"


def test_ordinary_toml_with_dots_in_strings_and_floats_parses() -> None:
    text = (
        '[tool.tokyo]\nfail_on = "high"\nurl = "'
        + "a." * 100
        + '"\nx = [1.5, 2.5]  # '
        + "[" * 50
        + "\nm = '''\n"
        + "[" * 50
        + "\n'''\n"
    )
    assert load_toml_text(text, "pyproject.toml")["tool"]["tokyo"]["fail_on"] == "high"


@pytest.mark.parametrize(
    "text", ["a" + ".a" * 100_000 + " = 1\n", "a = " + "[" * 5000 + "]" * 5000 + "\n"], ids=["dotted-key", "arrays"]
)
def test_config_syntax_analyzer_does_not_parse_a_toml_bomb(text: str) -> None:
    from tokyo_cli.analyzers.yamlcheck import toml_error

    start = time.monotonic()
    assert toml_error(text) is None  # too deep to check: neither "invalid" nor gigabytes of memory
    assert time.monotonic() - start < 2


def test_config_syntax_analyzer_survives_deep_yaml() -> None:
    from tokyo_cli.analyzers.yamlcheck import yaml_error

    assert yaml_error("a: " + "[" * 5000 + "]" * 5000 + "\n") is None  # was RecursionError
    assert yaml_error("a: [\n") is not None


def test_oversized_repository_config_is_exit_2_and_never_read(git_repo: GitRepo, cli: RunCli) -> None:
    git_repo.write("agents.yaml", "agents: []\n" + "#" * MAX_CONFIG_BYTES)
    start = time.monotonic()
    code, _, err = cli("agents", "list", "--repo", str(git_repo.root))
    assert code == 2 and time.monotonic() - start < 5
    assert "agents.yaml: larger than the 1 MB limit for a configuration file (1000000 bytes)" in err


def test_oversized_config_in_the_base_commit_is_exit_2(git_repo: GitRepo, cli: RunCli) -> None:
    git_repo.write("a.py", "x = 1\n")
    git_repo.write("workflows/big.yaml", "name: big\n" + "#" * MAX_CONFIG_BYTES)
    base = git_repo.commit("base")
    git_repo.checkout_branch("feature")
    git_repo.write("a.py", "x = 2\n")
    git_repo.commit("change")
    code, _, err = cli("review", str(git_repo.root), "--offline", "--base", "main")
    assert code == 2
    assert f"{base[:7]}:workflows/big.yaml: larger than the 1 MB limit" in err
