"""Workflows: strict loading with file:line errors, DAG checks, layers, lookup and overlay."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from fakes.files import write
from tokyo_cli.config.team import Team, defaults_dir, load_team
from tokyo_cli.config.workflow import (
    StepSpec,
    WorkflowSpec,
    find_workflow,
    list_workflows,
    load_workflow,
    validate_workflow_file,
    workflow_dirs,
)
from tokyo_cli.errors import ConfigError
from tokyo_cli.findings import Severity

KNOWN = "(known: akira, hiro, kenji, sakura, yuki)"


@pytest.fixture(scope="module")
def team() -> Team:
    return load_team()


pytestmark = pytest.mark.usefixtures("neutral_cwd")


def errors_of(path: Path, team: Team) -> list[str]:
    errors = validate_workflow_file(path, team)
    with pytest.raises(ConfigError) as info:
        load_workflow(path, team)
    assert str(info.value).splitlines() == errors  # load_workflow raises with the same list
    return errors


# --- the packaged workflows -----------------------------------------------------------------


def test_packaged_review_runs_five_specialists_then_kenji_synthesizes(team: Team) -> None:
    spec = load_workflow(find_workflow("review", None), team)
    assert spec.name == "review" and spec.fail_on is Severity.HIGH
    first, second = spec.layers()
    assert [s.agent for s in first] == ["akira", "yuki", "hiro", "sakura", "kenji"]
    assert all(s.task == "review" and not s.depends_on for s in first)
    (summary,) = second
    assert (summary.id, summary.agent, summary.task) == ("summary", "kenji", "synthesize")
    assert summary.depends_on == [s.id for s in first]


def test_packaged_security_is_akira_alone(team: Team) -> None:
    spec = load_workflow(find_workflow("security", None), team)
    assert [[(s.id, s.agent, s.task) for s in layer] for layer in spec.layers()] == [[("security", "akira", "review")]]


# --- a valid file ---------------------------------------------------------------------------


def test_every_key_loads(tmp_path: Path, team: Team) -> None:
    path = write(
        tmp_path / "pr-review.yaml",
        """
        name: pr-review
        description: Full team review of a change
        target: range
        steps:
          - id: security
            agent: akira
          - id: ops
            agent: hiro
            when: {paths: [".github/**", "Dockerfile*"]}
            paths: ["**"]
            instructions: Focus on the deploy pipeline.
          - id: summary
            agent: kenji
            task: synthesize
            depends_on: [security, ops]
        fail_on: medium
        budget: {max_cost_usd: 1}
        """,
    )
    spec = load_workflow(path, team)
    assert spec.target == "range" and spec.fail_on is Severity.MEDIUM
    assert spec.budget.max_cost_usd == 1.0
    ops = spec.step("ops")
    assert ops.when is not None and ops.when.paths == [".github/**", "Dockerfile*"]
    assert ops.paths == ["**"] and ops.instructions == "Focus on the deploy pipeline."
    assert spec.source == path
    assert spec.hash == hashlib.sha256(path.read_bytes()).hexdigest()
    dumped = spec.model_dump()
    assert "source" not in dumped and dumped["hash"] == spec.hash
    assert validate_workflow_file(path, team) == []


def test_hash_changes_with_the_file(tmp_path: Path, team: Team) -> None:
    path = write(tmp_path / "w.yaml", "name: w\nsteps: [{id: a, agent: akira}]\n")
    before = load_workflow(path, team).hash
    path.write_text(path.read_text() + "# tweak\n")
    assert load_workflow(path, team).hash != before


def test_layers_order_diamond_and_independent_steps(tmp_path: Path, team: Team) -> None:
    path = write(
        tmp_path / "w.yaml",
        """
        name: w
        steps:
          - {id: d, agent: kenji, task: synthesize, depends_on: [b, c]}
          - {id: b, agent: yuki, depends_on: [a]}
          - {id: a, agent: akira}
          - {id: c, agent: hiro, depends_on: [a]}
          - {id: e, agent: sakura}
        """,
    )
    layers = load_workflow(path, team).layers()
    assert [[s.id for s in layer] for layer in layers] == [["a", "e"], ["b", "c"], ["d"]]


def test_layers_refuses_a_hand_built_cycle() -> None:
    spec = WorkflowSpec(
        name="loop",
        steps=[StepSpec(id="a", agent="akira", depends_on=["b"]), StepSpec(id="b", agent="yuki", depends_on=["a"])],
        source=Path("loop.yaml"),
        hash="0",
    )
    with pytest.raises(ConfigError, match="steps a, b have cyclic or unknown depends_on"):
        spec.layers()


# --- each class of error, with file and line ------------------------------------------------


def test_unknown_agent_message_matches_the_documented_form(
    tmp_path: Path, team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        tmp_path / "workflows" / "x.yaml",
        """
        name: x
        description: a workflow with a typo
        steps:
          - id: security
            agent: akira
          - id: helper
            agent: bob
        """,
    )
    monkeypatch.chdir(tmp_path)  # messages show paths relative to the working directory
    assert errors_of(Path("workflows/x.yaml"), team) == [
        f"workflows/x.yaml:7: steps[1].agent: unknown agent 'bob' {KNOWN}"
    ]
    assert errors_of(tmp_path / "workflows" / "x.yaml", team) == [
        f"workflows/x.yaml:7: steps[1].agent: unknown agent 'bob' {KNOWN}"
    ]


def test_unknown_key(tmp_path: Path, team: Team) -> None:
    path = write(
        tmp_path / "w.yaml",
        """
        name: w
        steps:
          - id: a
            agent: akira
            depend_on: [b]
        failon: high
        """,
    )
    assert errors_of(path, team) == [
        f"{path}:5: steps[0].depend_on: unknown key (did you mean 'depends_on'? "
        "allowed: agent, depends_on, id, instructions, min_severity, paths, task, when)",
        f"{path}:6: failon: unknown key (did you mean 'fail_on'? "
        "allowed: block_on, budget, description, fail_on, group_files, group_repeats, min_severity, name, "
        "path_instructions, steps, target)",
    ]


def test_source_and_hash_are_not_keys_of_the_file(tmp_path: Path, team: Team) -> None:
    path = write(tmp_path / "w.yaml", "name: w\nsource: /etc\nhash: x\nsteps: [{id: a, agent: akira}]\n")
    errors = errors_of(path, team)
    assert [e.split(": ")[1] for e in errors] == ["source", "hash"]


def test_wrong_types(tmp_path: Path, team: Team) -> None:
    path = write(
        tmp_path / "w.yaml",
        """
        name: w
        target: everything
        steps:
          - id: a
            agent: akira
            task: summarize
          - id: 7
            agent: yuki
            depends_on: a
        fail_on: severe
        budget: {max_cost_usd: lots}
        """,
    )
    assert errors_of(path, team) == [
        f"{path}:2: target: input should be 'staged', 'working', 'range' or 'all' (got a string: 'everything')",
        f"{path}:6: steps[0].task: input should be 'review', 'synthesize', 'verify', 'describe' or 'fix' "
        "(got a string: 'summarize')",
        f"{path}:7: steps[1].id: input should be a valid string (got an integer: 7)",
        f"{path}:9: steps[1].depends_on: input should be a valid list (got a string: 'a')",
        f"{path}:10: fail_on: input should be 'critical', 'high', 'medium', 'low' or 'info' (got a string: 'severe')",
        f"{path}:11: budget.max_cost_usd: input should be a valid number (got a string: 'lots')",
    ]


def test_missing_keys_point_at_the_enclosing_item(tmp_path: Path, team: Team) -> None:
    path = write(tmp_path / "w.yaml", "name: w\nsteps:\n  - id: a\n  - agent: akira\n")
    assert errors_of(path, team) == [
        f"{path}:3: steps[0].agent: missing required key",
        f"{path}:4: steps[1].id: missing required key",
    ]


def test_cycle_is_named(tmp_path: Path, team: Team) -> None:
    path = write(
        tmp_path / "w.yaml",
        """
        name: w
        steps:
          - id: a
            agent: akira
            depends_on: [c]
          - id: b
            agent: yuki
            depends_on: [a]
          - id: c
            agent: hiro
            depends_on: [b]
        """,
    )
    assert errors_of(path, team) == [f"{path}:5: steps[0].depends_on: cycle: a -> c -> b -> a"]


def test_self_dependency(tmp_path: Path, team: Team) -> None:
    path = write(tmp_path / "w.yaml", "name: w\nsteps:\n  - {id: a, agent: akira, depends_on: [a]}\n")
    assert errors_of(path, team) == [f"{path}:3: steps[0].depends_on[0]: step 'a' depends on itself"]


def test_dangling_depends_on(tmp_path: Path, team: Team) -> None:
    path = write(
        tmp_path / "w.yaml",
        """
        name: w
        steps:
          - id: security
            agent: akira
          - id: summary
            agent: kenji
            task: synthesize
            depends_on:
              - security
              - tests
        """,
    )
    assert errors_of(path, team) == [
        f"{path}:10: steps[1].depends_on[1]: unknown step 'tests' (steps: security, summary)"
    ]


def test_duplicate_step_id(tmp_path: Path, team: Team) -> None:
    path = write(
        tmp_path / "w.yaml",
        """
        name: w
        steps:
          - id: review
            agent: akira
          - id: review
            agent: yuki
        """,
    )
    assert errors_of(path, team) == [f"{path}:5: steps[1].id: duplicate step id 'review' (first at line 3)"]


def test_synthesize_needs_depends_on(tmp_path: Path, team: Team) -> None:
    path = write(
        tmp_path / "w.yaml",
        """
        name: w
        steps:
          - id: security
            agent: akira
          - id: summary
            agent: kenji
            task: synthesize
        """,
    )
    (error,) = errors_of(path, team)
    assert error.startswith(f"{path}:5: steps[1].depends_on: a synthesize step needs depends_on")


def test_malformed_yaml(tmp_path: Path, team: Team) -> None:
    path = write(tmp_path / "w.yaml", "name: w\nsteps:\n  - id: a\n    agent: [akira\n")
    (error,) = errors_of(path, team)
    assert error.startswith(f"{path}:4: invalid YAML: ")
    bad_indent = write(tmp_path / "v.yaml", "name: v\nsteps:\n  - id: a\n   agent: akira\n")
    (error,) = errors_of(bad_indent, team)
    assert error.startswith(f"{bad_indent}:4: invalid YAML: expected <block end>")


def test_empty_file(tmp_path: Path, team: Team) -> None:
    path = write(tmp_path / "w.yaml", "# to do\n")
    assert errors_of(path, team) == [f"{path}:1: empty file (expected a mapping with at least 'name' and 'steps')"]
    zero = tmp_path / "zero.yaml"
    zero.write_bytes(b"")
    assert errors_of(zero, team) == [f"{zero}:1: empty file (expected a mapping with at least 'name' and 'steps')"]


def test_top_level_must_be_a_mapping_and_steps_non_empty(tmp_path: Path, team: Team) -> None:
    listed = write(tmp_path / "l.yaml", "- id: a\n  agent: akira\n")
    assert errors_of(listed, team) == [f"{listed}:1: expected a mapping at the top level, got a list"]
    no_steps = write(tmp_path / "n.yaml", "name: n\nsteps: []\n")
    assert errors_of(no_steps, team) == [f"{no_steps}:2: steps: must not be empty"]
    no_name = write(tmp_path / "e.yaml", "name: ''\nsteps: [{id: a, agent: akira, when: {paths: []}}]\n")
    assert errors_of(no_name, team) == [
        f"{no_name}:1: name: must not be empty",
        f"{no_name}:2: steps[0].when.paths: must not be empty",
    ]


def test_duplicate_yaml_key(tmp_path: Path, team: Team) -> None:
    path = write(tmp_path / "w.yaml", "name: w\nsteps:\n  - id: a\n    agent: akira\n    agent: yuki\n")
    assert errors_of(path, team) == [f"{path}:5: steps[0].agent: duplicate key (first at line 4)"]


def test_all_errors_are_reported_in_line_order(tmp_path: Path, team: Team) -> None:
    path = write(
        tmp_path / "w.yaml",
        """
        name: w
        steps:
          - id: a
            agent: bob
            depends_on: [zz]
          - id: a
            agent: akira
            colour: red
        """,
    )
    errors = errors_of(path, team)
    assert [e.split(": ")[0] for e in errors] == [f"{path}:4", f"{path}:5", f"{path}:6", f"{path}:8"]
    assert [e.split(": ")[1] for e in errors] == [
        "steps[0].agent",
        "steps[0].depends_on[0]",
        "steps[1].id",
        "steps[1].colour",
    ]


def test_workflow_may_use_an_agent_from_the_repository_overlay(tmp_path: Path) -> None:
    write(
        tmp_path / "agents.yaml",
        """
        agents:
          - id: rin
            name: Rin
            specialty: accessibility
            model: gpt-4o-mini
            context_window: 128000
            max_output_tokens: 4096
            instructions: Review UI changes for accessibility problems.
        """,
    )
    path = write(tmp_path / "workflows" / "a11y.yaml", "name: a11y\nsteps: [{id: ui, agent: rin}]\n")
    assert load_workflow(path, load_team(tmp_path)).steps[0].agent == "rin"
    (error,) = errors_of(path, load_team())
    assert "unknown agent 'rin'" in error


# --- lookup and overlay ---------------------------------------------------------------------


def test_workflow_dirs(tmp_path: Path) -> None:
    assert workflow_dirs(None) == [defaults_dir() / "workflows"]
    packaged, repository = workflow_dirs(tmp_path)  # the repository's: tokyo's private copy
    assert packaged == defaults_dir() / "workflows" and repository.name == "workflows"
    assert not repository.is_relative_to(tmp_path)
    # tokyo reviewing its own checkout: one directory, not the same one twice
    assert workflow_dirs(defaults_dir()) == [defaults_dir() / "workflows"]


def test_list_packaged_workflows(tmp_path: Path) -> None:
    listed = list_workflows(tmp_path)
    assert [(w.name, w.origin, w.error) for w in listed] == [
        ("describe", "packaged", None),
        ("review", "packaged", None),
        ("review-verified", "packaged", None),
        ("security", "packaged", None),
    ]
    assert listed[1].path == defaults_dir() / "workflows" / "review.yaml"
    assert listed[1].description


def test_repository_workflow_overrides_by_name_and_adds(tmp_path: Path, team: Team) -> None:
    mine = write(tmp_path / "workflows" / "review.yaml", "name: review\nsteps: [{id: only, agent: akira}]\n")
    extra = write(
        tmp_path / "workflows" / "nightly.yml", "name: nightly\ndescription: audit\nsteps: [{id: a, agent: hiro}]\n"
    )
    listed = {w.name: w for w in list_workflows(tmp_path)}
    assert sorted(listed) == ["describe", "nightly", "review", "review-verified", "security"]
    assert (listed["review"].shown, listed["review"].origin) == (str(mine), "repository")
    assert listed["review"].path.read_bytes() == mine.read_bytes()  # a copy, read without following links
    assert (listed["nightly"].description, listed["security"].origin) == ("audit", "packaged")
    assert find_workflow("review", tmp_path).read_bytes() == mine.read_bytes()
    assert find_workflow("nightly", tmp_path).read_bytes() == extra.read_bytes()
    assert find_workflow("review", None) == defaults_dir() / "workflows" / "review.yaml"
    assert [s.id for s in load_workflow(find_workflow("review", tmp_path), team).steps] == ["only"]


def test_name_comes_from_the_file_not_its_stem(tmp_path: Path) -> None:
    path = write(tmp_path / "workflows" / "pr.yaml", "name: pr-review\nsteps: [{id: a, agent: akira}]\n")
    assert find_workflow("pr-review", tmp_path).name == path.name
    with pytest.raises(
        ConfigError,
        match=r"unknown workflow 'pr' \(available: describe, pr-review, review, review-verified, security\)",
    ):
        find_workflow("pr", tmp_path)


def test_unknown_workflow_lists_the_available_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        find_workflow("nope", tmp_path)
    assert str(info.value) == "unknown workflow 'nope' (available: describe, review, review-verified, security)"


def test_find_by_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "ci" / "custom.yaml", "name: custom\nsteps: [{id: a, agent: akira}]\n")
    assert find_workflow(str(path), None) == path
    assert find_workflow("ci/custom.yaml", tmp_path) == tmp_path / "ci" / "custom.yaml"  # relative to the repo
    monkeypatch.chdir(tmp_path / "ci")
    assert find_workflow("custom.yaml", None) == Path("custom.yaml")  # relative to the working dir
    with pytest.raises(ConfigError, match=r"^workflow file not found: missing\.yaml$"):
        find_workflow("missing.yaml", tmp_path)


def test_a_broken_repository_workflow_is_listed_with_its_error(tmp_path: Path) -> None:
    write(tmp_path / "workflows" / "broken.yaml", "name: [\n")
    (broken,) = [w for w in list_workflows(tmp_path) if w.origin == "repository"]
    assert broken.name == "broken" and broken.error is not None and "invalid YAML" in broken.error


def test_two_files_with_one_name_in_a_directory(tmp_path: Path) -> None:
    write(tmp_path / "workflows" / "a.yaml", "name: same\nsteps: [{id: a, agent: akira}]\n")
    write(tmp_path / "workflows" / "b.yaml", "name: same\nsteps: [{id: a, agent: akira}]\n")
    with pytest.raises(ConfigError, match="workflow name 'same' is also used by"):
        find_workflow("same", tmp_path)
