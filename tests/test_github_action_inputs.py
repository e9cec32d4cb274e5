"""The action's filter inputs, fork annotations and the empty SARIF of a skipped run.

Inputs reach tokyo as action.yml passes them (``TOKYO_SKIP_DRAFTS``, ``TOKYO_SKIP_LABEL``,
``TOKYO_RUN_LABEL``, ``TOKYO_IGNORE_AUTHORS``; ``paths`` as ``--path`` globs). A skipped run
makes no request to GitHub, exits 0, says why, and writes a SARIF file that validates
against the SARIF 2.1.0 schema with no results. A fork's run posts nothing and prints at most
10 ``::error`` and 10 ``::warning`` annotations (GitHub's per-step limit) and a notice for
the rest.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from fakes.github import FakeGitHub
from fakes.gitrepo import GitRepo
from fakes.provider import FakeProvider
from test_github_e2e import (  # noqa: F401 - action_env is a fixture
    BASE_SERVER,
    HEAD1_SERVER,
    SCHEMA,
    action_env,
    event,
    finding,
    outputs,
)

RunCli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def change(git_repo: GitRepo) -> tuple[str, str]:
    git_repo.write("src/app/server.py", BASE_SERVER)
    git_repo.write("docs/guide.md", "# Guide\n")
    base = git_repo.commit("base")
    git_repo.checkout_branch("feature")
    git_repo.write("src/app/server.py", HEAD1_SERVER)
    git_repo.write("docs/guide.md", "# Guide\n\nRun `run()`.\n")
    return base, git_repo.commit("feature")


def write_event(
    action_env: dict[str, Path],
    base: str,
    head: str,
    *,
    action: str = "opened",
    draft: bool = False,
    labels: tuple[str, ...] = (),
    author: str = "octocat",
    label: str | None = None,
) -> None:
    # A fork's event: a run that is not skipped posts nothing, so the fake GitHub sees no request.
    event(action_env["event"], action=action, base=base, head=head, fork=True)
    data = json.loads(action_env["event"].read_text())
    data["pull_request"].update(draft=draft, labels=[{"name": x} for x in labels], user={"login": author})
    if label is not None:
        data["label"] = {"name": label}
    action_env["event"].write_text(json.dumps(data))


def sarif_is_valid(path: Path) -> dict[str, Any]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    errors = list(jsonschema.Draft4Validator(schema).iter_errors(doc))
    assert not errors, errors[0].message
    return doc


@pytest.mark.parametrize(
    ("env", "kwargs", "reason"),
    [
        ({}, {"draft": True}, "the pull request is a draft"),
        ({"TOKYO_SKIP_DRAFTS": "true"}, {"draft": True}, "the pull request is a draft"),
        ({}, {"labels": ("tokyo:skip",)}, "the pull request has the label 'tokyo:skip' (skip-label)"),
        (
            {"TOKYO_SKIP_LABEL": "no-bots"},
            {"labels": ("No-Bots",)},
            "the pull request has the label 'no-bots' (skip-label)",
        ),
        ({"TOKYO_RUN_LABEL": "review-me"}, {}, "the pull request does not have the label 'review-me' (run-label)"),
        (
            {"TOKYO_RUN_LABEL": "review-me"},
            {"action": "labeled", "labels": ("bug",), "label": "bug"},
            "a label was added that is not the run label",
        ),
        (
            {"TOKYO_IGNORE_AUTHORS": "renovate[bot], dependabot[bot]"},
            {"author": "Dependabot[bot]"},
            "pull requests by Dependabot[bot] are not reviewed (ignore-authors)",
        ),
        ({}, {"action": "closed"}, "pull_request action 'closed' is not reviewed"),
    ],
)
def test_filtered_pull_requests_are_skipped_with_an_empty_valid_sarif(
    change: tuple[str, str],
    git_repo: GitRepo,
    fake_github: FakeGitHub,
    action_env: dict[str, Path],
    cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    env: dict[str, str],
    kwargs: dict[str, Any],
    reason: str,
) -> None:
    monkeypatch.setenv("TOKYO_SKIP_LABEL", "tokyo:skip")  # action.yml's defaults
    monkeypatch.setenv("TOKYO_IGNORE_AUTHORS", "dependabot[bot]")
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    write_event(action_env, *change, **kwargs)
    sarif = tmp_path / "out" / "tokyo.sarif"
    code, out, err = cli("review", str(git_repo.root), "--github", "--offline", "-f", "sarif", "-o", str(sarif), "-q")
    assert code == 0, err
    assert f"::notice title=tokyo::Nothing to review: {reason}" in out
    assert fake_github.requests == []
    doc = sarif_is_valid(sarif)
    (run,) = doc["runs"]
    assert run["results"] == [] and reason in run["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"]
    outs = outputs(action_env["output"])
    assert outs["status"] == "skipped" and outs["sarif-written"] == "true" and outs["posted"] == "false"
    assert outs["head-sha"] == change[1] and outs["ref"] == "refs/pull/7/head"


@pytest.mark.parametrize(
    ("env", "kwargs"),
    [
        ({"TOKYO_SKIP_DRAFTS": "false"}, {"draft": True}),
        ({"TOKYO_SKIP_LABEL": ""}, {"labels": ("tokyo:skip",)}),
        ({"TOKYO_RUN_LABEL": "review-me"}, {"labels": ("review-me",)}),
        ({"TOKYO_RUN_LABEL": "Review-Me"}, {"action": "labeled", "labels": ("review-me",), "label": "review-me"}),
        ({"TOKYO_IGNORE_AUTHORS": "dependabot[bot]"}, {"author": "octocat"}),
    ],
)
def test_the_same_pull_requests_are_reviewed_when_the_filter_allows(
    change: tuple[str, str],
    git_repo: GitRepo,
    action_env: dict[str, Path],
    cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    env: dict[str, str],
    kwargs: dict[str, Any],
) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    write_event(action_env, *change, **kwargs)
    sarif = tmp_path / "tokyo.sarif"
    code, out, err = cli("review", str(git_repo.root), "--github", "--offline", "-f", "sarif", "-o", str(sarif), "-q")
    assert code == 1, err  # bandit's shell=True: reviewed
    assert "Nothing to review" not in out and "No review posted: this pull request comes from a fork" in out
    assert sarif_is_valid(sarif)["runs"][0]["results"]
    assert outputs(action_env["output"])["status"] == "completed"


@pytest.mark.parametrize("value", ["maybe", "2"])
def test_a_bad_skip_drafts_value_is_a_one_line_error(
    change: tuple[str, str],
    git_repo: GitRepo,
    action_env: dict[str, Path],
    cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
    value: str,
) -> None:
    monkeypatch.setenv("TOKYO_SKIP_DRAFTS", value)
    write_event(action_env, *change)
    code, _, err = cli("review", str(git_repo.root), "--github", "--offline", "-q")
    assert code == 2 and "skip-drafts input) must be true or false" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_paths_globs_limit_the_review(
    change: tuple[str, str],
    git_repo: GitRepo,
    action_env: dict[str, Path],
    cli: RunCli,
) -> None:
    write_event(action_env, *change)
    code, out, err = cli("review", str(git_repo.root), "--github", "--offline", "-f", "json", "--path", "docs/**", "-q")
    report = json.loads(out[out.index("{") : out.rindex("}") + 1])
    assert [f["path"] for f in report["files"]] == ["docs/guide.md"]
    assert not [f for f in report["findings"] if f["path"].startswith("src/")]
    assert code == 0, err  # shell=True in src/ was not reviewed
    code, out, _ = cli(
        "review",
        str(git_repo.root),
        "--github",
        "--offline",
        "-f",
        "json",
        "--path",
        "src/**",
        "--path",
        "docs/**",
        "-q",
    )
    report = json.loads(out[out.index("{") : out.rindex("}") + 1])
    assert sorted(f["path"] for f in report["files"]) == ["docs/guide.md", "src/app/server.py"] and code == 1


def test_fork_annotations_stop_at_ten_of_each_kind_with_a_notice_for_the_rest(
    change: tuple[str, str],
    git_repo: GitRepo,
    fake_provider: FakeProvider,
    fake_github: FakeGitHub,
    action_env: dict[str, Path],
    cli: RunCli,
    tmp_path: Path,
) -> None:
    base, _ = change
    body = "".join(f"def f{i}(x):\n    return x + {i}\n\n\n" for i in range(30))
    git_repo.write("src/app/many.py", body)
    head = git_repo.commit("many functions")
    write_event(action_env, base, head)
    fake_provider.script("Other agents reviewed the change", {"summary": "Many.", "findings": []})
    hostile = "Title\n::error file=evil.py::injected"
    findings = [finding("src/app/many.py", 2 + 4 * i, "high", f"High problem number {i} in f{i}") for i in range(13)]
    findings += [
        finding("src/app/many.py", 1 + 4 * i, "medium", f"Medium problem number {i} in f{i}", category="correctness")
        for i in range(13, 27)
    ]
    findings.append(finding("src/app/many.py", 120, "critical", hostile))
    fake_provider.script("You are Akira", {"findings": findings, "summary": "Akira."})

    code, out, err = cli(
        "review",
        str(git_repo.root),
        "--github",
        "--api-base",
        fake_provider.url,
        "-w",
        "security",
        "-f",
        "sarif",
        "-o",
        str(tmp_path / "fork.sarif"),
        "-q",
    )

    assert code == 1, err
    assert fake_github.requests == []  # a fork: nothing posted, nothing read
    errors = [x for x in out.splitlines() if x.startswith("::error ")]
    warnings = [x for x in out.splitlines() if x.startswith("::warning ")]
    assert len(errors) == 10 and len(warnings) == 10
    assert all(
        re.match(r"::(error|warning) file=src/app/(many|server)\.py,line=\d+,title=tokyo ", x)
        for x in errors + warnings
    ), errors + warnings
    assert "tokyo critical" in errors[0]  # most severe first
    # The hostile title stays inside one annotation: no line of the log starts a command of its own.
    assert not [x for x in out.splitlines() if x.startswith("::error file=evil.py")]
    assert "title=tokyo critical%3A Title %3A%3Aerror file=evil.py%3A%3Ainjected::" in errors[0]
    (rest,) = [x for x in out.splitlines() if "more finding(s) are not annotated" in x]
    left = int(re.search(r"::(\d+) more finding", rest).group(1))  # type: ignore[union-attr]
    shown = sum(
        1
        for r in json.loads((tmp_path / "fork.sarif").read_text())["runs"][0]["results"]
        if r["properties"]["severity"] in ("critical", "high", "medium")
    )
    assert left == shown - 20 and left >= 8
    assert rest.startswith("::notice title=tokyo::")


def test_a_file_level_finding_with_an_end_line_is_annotated_at_its_file_line_without_a_range() -> None:
    """A finding off the diff keeps ``file_line`` with ``line`` None; an ``end_line`` it still
    carries (a stored or hand-made finding) names no range: comparing it with ``line`` raised
    TypeError before."""
    import io

    from test_store import make_run
    from tokyo_cli.findings import Finding, Severity
    from tokyo_cli.github.action import annotate_findings

    result = make_run()
    result.findings = [
        Finding(
            path="app/db.py",
            line=None,
            file_line=40,
            end_line=44,
            severity=Severity.HIGH,
            category="security",
            title="Off the diff",
            body="b",
            agent="akira",
            step="security",
        )
    ]
    out = io.StringIO()
    assert annotate_findings(result, stream=out) == 1
    (line,) = out.getvalue().splitlines()
    assert line.startswith("::error file=app/db.py,line=40,title=tokyo high%3A Off the diff::"), line
