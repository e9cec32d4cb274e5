"""Property-based fuzzing (hypothesis) of everything tokyo parses from untrusted input.

Targets: agents.yaml, workflow files, ``[tool.tokyo]`` in pyproject.toml, model replies
(``engine.prompts.parse_output``) and unified diffs (``git.diff.parse_git_diff``). Each property:
the only exception is the documented one (ConfigError, InvalidOutput, RepoError), no example
runs past a hard time limit (a SIGALRM timer, so a hang fails instead of stalling the suite),
and the CLI's exit code is one the README documents (0 or 2 for configuration commands).

Examples per target: ``FUZZ_EXAMPLES`` below in the default suite (derandomized: CI sees the
same inputs every run); ``TOKYO_FUZZ_EXAMPLES=10000`` for a long, random run, e.g.::

    TOKYO_FUZZ_EXAMPLES=10000 .venv/bin/pytest -q tests/test_fuzz.py -p no:cacheprovider \\
        --hypothesis-show-statistics
"""

from __future__ import annotations

import json
import os
import signal
import string
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import RunCli
from tokyo_cli.config.limits import load_toml_text
from tokyo_cli.config.repository import REPO_SETTINGS, RepoConfig, _read_settings
from tokyo_cli.config.team import Team, load_team
from tokyo_cli.config.workflow import WorkflowSpec, load_workflow
from tokyo_cli.engine.prompts import InvalidOutput, parse_output
from tokyo_cli.errors import ConfigError, RepoError
from tokyo_cli.findings import AgentOutput
from tokyo_cli.git.diff import parse_git_diff

FUZZ_EXAMPLES = 100
LONG_RUN = os.environ.get("TOKYO_FUZZ_EXAMPLES", "").isdigit()
EXAMPLES = int(os.environ["TOKYO_FUZZ_EXAMPLES"]) if LONG_RUN else FUZZ_EXAMPLES
HARD_LIMIT_S = 10.0  # a hang, not a slow example: hypothesis' deadline reports slow ones
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None if LONG_RUN else 2000,  # ms; a loaded CI box must not turn slow into red
    derandomize=not LONG_RUN,
    database=None,  # nothing written into the checkout
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)


class Hang(Exception):
    """An example ran past HARD_LIMIT_S: the property fails with this instead of stalling."""


@contextmanager
def hard_limit(seconds: float = HARD_LIMIT_S) -> Iterator[None]:
    def expire(signum: int, frame: Any) -> None:
        raise Hang(f"example still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --- shared strategies ------------------------------------------------------------------------

ODD_CHARS = st.sampled_from(
    [
        "\x00",
        "\x07",
        "\x1b",
        "\t",
        "\r",
        "\n",
        "\ufeff",
        "\u202e",
        "\u2028",
        "\x85",
        "\ud800",
        "é",
        "漢",
        "🙂",
        '"',
        "'",
        "\\",
        "#",
        ":",
        "-",
        "&",
        "*",
        "!",
        "|",
        ">",
        "{",
        "}",
        "[",
        "]",
        ",",
        "%",
        "@",
        "`",
    ]
)
TEXT = st.text(st.one_of(st.characters(), ODD_CHARS), max_size=40)
HUGE_INTS = st.sampled_from([2**63, -(2**63) - 1, 10**400, int("9" * 40)])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    HUGE_INTS,
    st.floats(allow_nan=True),
    TEXT,
    st.sampled_from(
        [
            "high",
            "LOW",
            "warning",
            "nit",
            "akira",
            "review",
            "synthesize",
            "**",
            "src/**",
            "o3",
            "",
            " ",
            "null",
            "~",
            "yes",
            "2024-13-45",
        ]
    ),
)
JSONISH = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=12,
)


def yaml_dump(data: Any) -> str:
    """``data`` as YAML when PyYAML can write it (some unicode cannot be), else its JSON."""
    try:
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    except (yaml.YAMLError, UnicodeEncodeError):
        return json.dumps(data, default=str)


# YAML syntax the parser and the limits must survive: anchors, aliases (also recursive and
# undefined), merge keys, tags safe and unsafe, documents, flow collections, block scalars.
YAML_TOKENS = st.sampled_from(
    [
        "agents:",
        "steps:",
        "name:",
        "- ",
        "  ",
        "    ",
        "\n",
        "id: akira",
        "agent: akira",
        "id: x",
        "&a ",
        "*a",
        "&b [*a, *a]",
        "*b",
        "<<: *a",
        "<<: [*a, *b]",
        "!!binary ",
        "!!timestamp ",
        "!!python/object:os.system ",
        "!!set ",
        "!!omap ",
        "!Ref ",
        "---",
        "...",
        "{",
        "}",
        "[",
        "]",
        ", ",
        ": ",
        "? ",
        "|",
        ">-",
        "'x'",
        '"\\x1b"',
        "1e999",
        "0x1F",
        "0o17",
        "2024-13-45",
        "1" * 60,
        "~",
        "null",
        "yes",
        "on",
        "\x07",
        "\t",
        "# c",
        "%YAML 1.1",
    ]
)
YAML_SOUP = st.lists(st.one_of(YAML_TOKENS, TEXT), max_size=40).map("".join)


def agents_data() -> st.SearchStrategy[Any]:
    keys = st.sampled_from(
        [
            "id",
            "name",
            "specialty",
            "model",
            "fallbacks",
            "context_window",
            "max_output_tokens",
            "temperature",
            "paths",
            "exclude",
            "analyzers",
            "instructions",
            "origin",
            "repo_instructions",
            "bogus",
        ]
    )
    agent = st.dictionaries(keys, JSONISH, max_size=8)
    return st.one_of(st.fixed_dictionaries({"agents": st.lists(agent, max_size=4)}), JSONISH)


def workflow_data() -> st.SearchStrategy[Any]:
    step_keys = st.sampled_from(["id", "agent", "task", "depends_on", "when", "paths", "instructions", "bogus"])
    step = st.dictionaries(
        step_keys,
        st.one_of(
            JSONISH,
            st.sampled_from(["akira", "kenji", "a", "b"]),
            st.lists(st.sampled_from(["a", "b", "c"]), max_size=3),
        ),
        max_size=6,
    )
    top = st.fixed_dictionaries(
        {"name": SCALARS, "steps": st.lists(step, max_size=5)},
        optional={"target": SCALARS, "fail_on": SCALARS, "budget": JSONISH, "description": SCALARS},
    )
    return st.one_of(top, JSONISH)


def yaml_texts(data: st.SearchStrategy[Any]) -> st.SearchStrategy[str]:
    return st.one_of(data.map(yaml_dump), YAML_SOUP, TEXT)


@pytest.fixture(scope="module")
def config_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="tokyo-fuzz-") as tmp:
        yield Path(tmp)


def repo_config(config_dir: Path, files: dict[str, str]) -> RepoConfig:
    """A RepoConfig over ``files`` (relative path -> text), as repoconfig would have copied them."""
    for old in [*config_dir.rglob("*.y*ml"), *config_dir.rglob("*.toml")]:
        old.unlink()
    for rel, text in files.items():
        (config_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        (config_dir / rel).write_bytes(text.encode("utf-8", "surrogatepass"))
    return RepoConfig(root=config_dir, dir=config_dir)


# --- agents.yaml ------------------------------------------------------------------------------


@FUZZ
@given(text=yaml_texts(agents_data()))
def test_fuzz_agents_yaml(config_dir: Path, text: str) -> None:
    cfg = repo_config(config_dir, {"agents.yaml": text})
    with hard_limit():
        try:
            team = load_team(cfg)
        except ConfigError as exc:
            assert str(exc).strip()
            return
    assert isinstance(team, Team) and team.agents


# --- workflows --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def team() -> Team:
    return load_team()


@FUZZ
@given(text=yaml_texts(workflow_data()))
def test_fuzz_workflow(config_dir: Path, team: Team, text: str) -> None:
    repo_config(config_dir, {"workflows/w.yaml": text})
    with hard_limit():
        try:
            spec = load_workflow(config_dir / "workflows" / "w.yaml", team)
        except ConfigError as exc:
            assert str(exc).strip()
            return
        layers = spec.layers()
    assert isinstance(spec, WorkflowSpec)
    assert sorted(s.id for layer in layers for s in layer) == sorted(s.id for s in spec.steps)


# --- [tool.tokyo] -----------------------------------------------------------------------------

TOML_KEYS = st.sampled_from(["workflow", "fail_on", "fail-on", "api_base", "model", "timeout", "db", "x.y", '"q"'])
TOML_VALUES = st.one_of(
    st.sampled_from(
        [
            '"high"',
            '"critical"',
            '"LOW"',
            '"../evil.yaml"',
            '"review"',
            "1",
            "1e999",
            "inf",
            "nan",
            "true",
            "1979-05-27T07:32:00Z",
            "[1, [2, [3]]]",
            "{a = 1}",
            '"""\nx"""',
            "'''x'''",
            "0x1F",
            "9" * 30,
            '"\\u0000"',
            '"\\x1b"',
            "[",
            "{",
            '"',
        ]
    ),
    TEXT.map(json.dumps),
)
TOML_LINES = st.one_of(
    st.tuples(TOML_KEYS, TOML_VALUES).map(lambda kv: f"{kv[0]} = {kv[1]}"),
    st.sampled_from(
        [
            "[tool.tokyo]",
            "[tool]",
            "tokyo = 1",
            "[[tool.tokyo]]",
            "[tool.tokyo.x]",
            "# c",
            "",
            "a" + ".a" * 40 + " = 1",
            "x = " + "[" * 40 + "]" * 40,
        ]
    ),
    TEXT,
)
TOML_TEXTS = st.lists(TOML_LINES, max_size=12).map(lambda lines: "\n".join(["[tool.tokyo]", *lines]) + "\n")
# Quotes, escapes and brackets shuffled, repeated past the nesting limit: the nesting scan
# (configlimits.toml_too_deep) must never think it is inside a string where tomllib is not.
TOML_SOUP = st.lists(
    st.one_of(
        st.sampled_from(
            [
                '"',
                "'",
                '"""',
                "'''",
                '""""',
                "'''''",
                "\\",
                '\\"',
                "[",
                "]",
                "{",
                "}",
                "\n",
                "#",
                ".",
                "a",
                "=",
                ",",
                " ",
                "x = ",
                "a.b",
                "1.5",
            ]
        ),
        st.tuples(st.sampled_from(["[", "{a=", "a."]), st.integers(30, 3000)).map(lambda t: t[0] * t[1]),
    ),
    max_size=30,
).map("".join)


@FUZZ
@given(text=st.one_of(TOML_TEXTS, TEXT))
def test_fuzz_tool_tokyo(config_dir: Path, text: str) -> None:
    cfg = repo_config(config_dir, {"pyproject.toml": text})
    with hard_limit():
        try:
            _read_settings(cfg)
        except ConfigError as exc:
            assert "pyproject.toml" in str(exc)
            return
    assert set(cfg.settings) <= REPO_SETTINGS
    assert all(isinstance(n, str) and "\n" not in n for n in cfg.notices) or cfg.notices == []


@FUZZ
@given(text=st.one_of(TOML_TEXTS, TOML_SOUP, TEXT))
def test_fuzz_toml_limits(text: str) -> None:
    with hard_limit():
        try:
            load_toml_text(text, "pyproject.toml")
        except ConfigError:
            pass


# --- model replies ----------------------------------------------------------------------------

FINDING_KEYS = st.sampled_from(
    ["path", "line", "end_line", "severity", "category", "title", "body", "suggestion", "confidence", "extra"]
)
FINDING = st.one_of(
    st.fixed_dictionaries(
        {
            "path": st.one_of(TEXT, st.just("src/app.py")),
            "severity": st.one_of(SCALARS, st.sampled_from(["high", "critical", "warning"])),
            "title": st.one_of(TEXT, st.text(min_size=290, max_size=400)),
        },
        optional={
            "line": st.one_of(st.integers(), HUGE_INTS, st.floats(), TEXT),
            "end_line": st.one_of(st.integers(), HUGE_INTS),
            "body": st.one_of(TEXT, st.integers(20_001, 25_000).map(lambda n: "x" * n)),
            "suggestion": SCALARS,
            "confidence": SCALARS,
            "category": SCALARS,
        },
    ),
    st.dictionaries(FINDING_KEYS, JSONISH, max_size=6),
)
REPLY_DATA = st.one_of(
    st.fixed_dictionaries(
        {"findings": st.lists(FINDING, max_size=5)}, optional={"summary": SCALARS, "evidence": JSONISH}
    ),
    JSONISH,
)


def dump_json(data: Any) -> str:
    return json.dumps(data, allow_nan=True, default=str, ensure_ascii=False)


REPLIES = st.one_of(
    REPLY_DATA.map(dump_json),
    REPLY_DATA.map(lambda d: "```json\n" + dump_json(d) + "\n```"),
    st.tuples(TEXT, REPLY_DATA.map(dump_json), TEXT).map("\n".join),
    # Nesting past the json module's recursion limit; integers past int()'s 4300 digits.
    st.one_of(st.sampled_from([10, 999, 5000, 50_000]), st.integers(1, 50_000)).map(
        lambda n: '{"findings": ' + "[" * n + "]" * n + "}"
    ),
    st.one_of(st.sampled_from([4300, 4301, 9000]), st.integers(1, 9000)).map(
        lambda n: '{"findings": [{"path": "a", "severity": "high", "title": "t", "line": ' + "7" * n + "}]}"
    ),
    st.lists(
        st.sampled_from(
            ["{", "}", "[", "]", '"', ":", ",", "1", "e9", "null", '"findings"', "\\u0000", "\\ud800", "```", "\n"]
        ),
        max_size=60,
    ).map("".join),
    TEXT,
)


@FUZZ
@given(text=REPLIES)
def test_fuzz_model_reply(text: str) -> None:
    with hard_limit():
        try:
            out = parse_output(text)
        except InvalidOutput as exc:
            assert str(exc).strip()
            return
    assert isinstance(out, AgentOutput)
    for f in out.findings:
        assert f.path and len(f.title) <= 300 and len(f.body) <= 20_000


# --- unified diffs ----------------------------------------------------------------------------

# Diff text is git's output decoded as UTF-8 with replacement (gitcmd.run_git): never a lone
# surrogate, whatever the bytes were.
DIFF_ODD = ODD_CHARS.filter(lambda c: not "\ud800" <= c <= "\udfff")
DIFF_TEXT = st.text(st.one_of(st.characters(exclude_categories=["Cs"]), DIFF_ODD), max_size=40)
PATH_CHARS = st.one_of(st.sampled_from(list(string.ascii_letters + string.digits + "._-/ ")), DIFF_ODD)
PATHS = st.one_of(
    st.sampled_from(["a.py", "src/x.py", "dir with space/f.md", "b/a b/c.py", "é.txt"]),
    st.text(PATH_CHARS, min_size=1, max_size=20),
)


def git_quote(path: str) -> str:
    """A path as git writes it in a diff header (quoted when it needs to be)."""
    if not any(c in path for c in '"\\\t\n\x00\x07\x1b\r') and not path.startswith(" "):
        return path
    body = "".join(
        {"\n": "\\n", "\t": "\\t", '"': '\\"', "\\": "\\\\", "\r": "\\r"}.get(c, c)
        if ord(c) >= 32 or c in "\n\t\r"
        else f"\\{ord(c):03o}"
        for c in path
    )
    return f'"{body}"'


HUNK_LINE = st.tuples(
    st.sampled_from(["+", "-", " ", "\\ No newline at end of file", "", "@", "x"]),
    DIFF_TEXT,
    st.sampled_from(["\n", "\r\n", ""]),
)


@st.composite
def diff_chunks(draw: st.DrawFn) -> str:
    path = draw(PATHS)
    a, b = git_quote("a/" + path), git_quote("b/" + draw(st.one_of(st.just(path), PATHS)))
    out = [f"diff --git {a} {b}\n"]
    out += draw(
        st.lists(
            st.sampled_from(
                [
                    "new file mode 100644\n",
                    "deleted file mode 100644\n",
                    "index 83db48f..bf269f4 100644\n",
                    "index 0000000..1111111 160000\n",
                    "old mode 100644\n",
                    "new mode 100755\n",
                    "similarity index 90%\n",
                    f"rename from {git_quote(path)}\n",
                    f"rename to {git_quote(path + '2')}\n",
                    "Binary files a/x and b/x differ\n",
                    "GIT binary patch\n",
                    "literal 0\n",
                    f"--- {a}\n",
                    f"+++ {b}\n",
                    "--- /dev/null\n",
                    "+++ /dev/null\n",
                ]
            ),
            max_size=5,
        )
    )
    for _ in range(draw(st.integers(0, 3))):
        old_start, old_len, new_start, new_len = (draw(st.integers(0, 5)) for _ in range(4))
        header = draw(
            st.sampled_from(
                [
                    f"@@ -{old_start},{old_len} +{new_start},{new_len} @@",
                    f"@@ -{old_start} +{new_start} @@ def f():",
                    "@@ -x +y @@",
                    "@@ @@",
                    f"@@ -{old_start},{old_len} +{new_start},{new_len}",
                ]
            )
        )
        out.append(header + draw(st.sampled_from(["\n", "\r\n"])))
        out += ["".join(parts) for parts in draw(st.lists(HUNK_LINE, max_size=8))]
    return "".join(out)


@st.composite
def consistent_diffs(draw: st.DrawFn) -> tuple[str, int, int]:
    """A well-formed one-file diff: (text, added lines, removed lines)."""
    path = draw(PATHS)
    lines = draw(
        st.lists(
            st.tuples(
                st.sampled_from("+- "),
                st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\n"), max_size=10),
            ),
            min_size=1,
            max_size=12,
        )
    )
    old_len = sum(1 for k, _ in lines if k in "- ")
    new_len = sum(1 for k, _ in lines if k in "+ ")
    body = "".join(f"{k}{t}\n" for k, t in lines)
    head = f"diff --git {git_quote('a/' + path)} {git_quote('b/' + path)}\nindex 1..2 100644\n"
    head += f"--- {git_quote('a/' + path)}\n+++ {git_quote('b/' + path)}\n"
    text = head + f"@@ -1,{old_len} +1,{new_len} @@\n" + body
    return text, new_len - sum(1 for k, _ in lines if k == " "), old_len - sum(1 for k, _ in lines if k == " ")


@FUZZ
@given(
    text=st.one_of(
        st.lists(diff_chunks(), max_size=3).map("".join),
        st.tuples(st.just("diff --git "), DIFF_TEXT).map("".join),
        DIFF_TEXT,
    )
)
def test_fuzz_diff_never_raises_anything_but_repo_error(text: str) -> None:
    with hard_limit():
        try:
            files = parse_git_diff(text)
        except RepoError as exc:
            assert str(exc).startswith("cannot parse git diff")
            return
    for change in files:
        assert change.path is not None
        assert change.added_lines <= change.anchors() or change.binary
        for hunk in change.hunks:
            assert all("\n" not in dl.text for dl in hunk.lines)


@FUZZ
@given(case=consistent_diffs())
def test_fuzz_well_formed_diffs_parse_exactly(case: tuple[str, int, int]) -> None:
    text, added, removed = case
    with hard_limit():
        (change,) = parse_git_diff(text)
    assert (change.additions, change.deletions) == (added, removed)
    assert len(change.added_lines) == added and change.anchors() >= change.added_lines


# --- the CLI: exit codes from the README table ------------------------------------------------


@settings(FUZZ, max_examples=max(5, EXAMPLES // 8))
@given(agents=yaml_texts(agents_data()), workflow=yaml_texts(workflow_data()))
def test_fuzz_cli_config_commands_exit_0_or_2(
    tmp_path_factory: pytest.TempPathFactory, cli: RunCli, agents: str, workflow: str
) -> None:
    import subprocess

    root = tmp_path_factory.mktemp("repo")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "agents.yaml").write_bytes(agents.encode("utf-8", "surrogatepass"))
    (root / "workflows").mkdir()
    (root / "workflows" / "fuzz.yaml").write_bytes(workflow.encode("utf-8", "surrogatepass"))
    for args in (["agents", "list"], ["workflows", "list"], ["workflows", "validate"]):
        with hard_limit():
            code, _, err = cli(*args, "--repo", str(root))
        assert code in (0, 2), (args, err)
        assert "unexpected error" not in err and "\x1b" not in err


# --- what the fuzzers found, pinned -----------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        ('{"findings": ' + "[" * 5000 + "]" * 5000 + "}", "invalid JSON: nested too deeply"),  # was RecursionError
        ('{"findings": [{"line": ' + "7" * 4301 + "}]}", "invalid JSON: a number too long to read"),  # was ValueError
    ],
)
def test_model_replies_the_json_module_cannot_read_are_invalid_output(reply: str, problem: str) -> None:
    with pytest.raises(InvalidOutput, match=problem):
        parse_output(reply)


@pytest.mark.parametrize("model", ["[]", "{a: 1}", "[o3]"])
def test_repository_agent_with_a_non_string_model_gets_the_leads(config_dir: Path, model: str) -> None:
    # was TypeError: unhashable type: 'list' (team._held_to_rules tested membership in a set)
    cfg = repo_config(
        config_dir,
        {
            "agents.yaml": (
                f"agents:\n  - id: newbie\n    name: N\n    specialty: s\n    context_window: 1000\n"
                f"    max_output_tokens: 10\n    model: {model}\n    fallbacks: [[x], o3]\n"
            )
        },
    )
    team = load_team(cfg)  # refused and replaced by the lead's model, as any untrusted model
    assert team.agents["newbie"].model == team.agents["kenji"].model
    assert any("model" in n for n in team.notices)
