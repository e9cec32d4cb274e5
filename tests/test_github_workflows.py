"""The composite action and the workflows: zizmor (offline) finds nothing, every third-party
action is pinned by commit SHA, no expression is expanded inside a shell script, permissions
are minimal, CI runs the README's test command, and the action's lock file pins everything
pyproject.toml depends on, by hash.

zizmor comes with the test extra (``pip install -e '.[test]'``), so this runs in CI.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
ACTION = ROOT / "action.yml"
REVIEW = ROOT / ".github" / "workflows" / "tokyo-review.yml"
CI = ROOT / ".github" / "workflows" / "ci.yml"
LOCK = ROOT / "requirements" / "action.txt"
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def load(path: Path) -> dict[Any, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def steps(doc: dict[Any, Any]) -> list[dict[str, Any]]:
    if "runs" in doc:
        return list(doc["runs"]["steps"])
    return [s for job in doc["jobs"].values() for s in job.get("steps", [])]


def zizmor() -> str:
    found = shutil.which("zizmor") or shutil.which("zizmor", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail("zizmor is missing: it is part of the test extra (pip install -e '.[test]')")
    return found


def test_zizmor_offline_finds_nothing() -> None:
    proc = subprocess.run(
        [zizmor(), "--offline", "--persona", "pedantic", "--format", "json", "--no-progress",
         str(ACTION), str(REVIEW), str(CI)],
        capture_output=True, text=True, check=False, cwd=ROOT, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout) == []


@pytest.mark.parametrize("path", [ACTION, REVIEW, CI], ids=lambda p: p.name)
def test_pinned_actions_and_no_expressions_in_scripts(path: Path) -> None:
    doc = load(path)
    text = path.read_text(encoding="utf-8")
    for step in steps(doc):
        uses = step.get("uses")
        if uses and not uses.startswith("$/"):
            assert PINNED.match(uses), f"{path.name}: {uses} is not pinned to a full commit SHA"
            assert re.search(re.escape(uses) + r" # v\d", text), f"{uses} needs a '# vX.Y.Z' comment"
        if "run" in step:
            assert "${{" not in step["run"], f"{path.name}: an expression inside run: {step['run'][:60]}"
        if uses and uses.startswith("actions/checkout@"):
            assert step.get("with", {}).get("persist-credentials") is False


def test_action_interface_and_install() -> None:
    doc = load(ACTION)
    assert doc["runs"]["using"] == "composite"
    assert {"workflow", "fail-on", "model", "max-cost", "max-comments", "github-token", "sarif",
            "python-version"} <= set(doc["inputs"])
    assert {"run-id", "findings", "critical", "high", "medium", "low", "info", "sarif"} <= set(doc["outputs"])
    install, review = [s for s in doc["runs"]["steps"] if "run" in s]
    assert install["env"]["ACTION_PATH"] == "${{ github.action_path }}"
    assert '--require-hashes --no-deps -r "$ACTION_PATH/requirements/action.txt"' in install["run"]
    assert '--no-deps --no-build-isolation "$ACTION_PATH"' in install["run"]
    assert "--github" in review["run"] and "--format sarif" in review["run"]
    assert review["env"]["GITHUB_TOKEN"] == "${{ inputs.github-token }}"


def test_review_workflow_permissions_and_checkout() -> None:
    doc = load(REVIEW)
    assert doc["permissions"] == {}
    assert list(doc[True]) == ["pull_request"]  # PyYAML reads the key `on` as True
    review, upload = doc["jobs"]["review"], doc["jobs"]["upload-sarif"]
    assert review["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert upload["permissions"] == {"contents": "read", "security-events": "write"}
    checkout = review["steps"][0]
    assert checkout["with"] == {"fetch-depth": 0, "persist-credentials": False}
    assert any(s.get("uses", "").startswith("github/codeql-action/upload-sarif@") for s in upload["steps"])
    assert "${{ github.event." not in "".join(s.get("run", "") for s in steps(doc))


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("**Install and run the tests:**", 1)[1]
    command = block.split("```sh\n", 1)[1].split("\n```", 1)[0].strip()
    runs = [s["run"].strip() for s in steps(load(CI)) if "run" in s]
    assert runs == [command]


def test_action_lock_pins_every_dependency_by_hash() -> None:
    lock = LOCK.read_text(encoding="utf-8")
    pins: dict[str, str] = {}
    for entry in re.split(r"\n(?=[A-Za-z0-9])", lock):
        head = entry.split(" ", 1)[0].split(";", 1)[0]
        if "==" not in head:
            continue
        name, version = head.split("==")
        assert "--hash=sha256:" in entry, f"{name} has no hash"
        pins[name.lower().replace("_", "-")] = version
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    needed = [Requirement(r) for r in project["project"]["dependencies"]]
    needed += [Requirement(r) for r in project["build-system"]["requires"]]
    for req in needed:
        name = req.name.lower().replace("_", "-")
        assert name in pins, f"{req.name} is not in {LOCK.name}: regenerate it (see requirements/action.in)"
        assert req.specifier.contains(pins[name], prereleases=True), f"{name}=={pins[name]} breaks {req}"


def test_readme_workflow_is_valid_and_clean(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## GitHub Actions", 1)[1]
    snippet = section.split("```yaml\n", 1)[1].split("\n```", 1)[0]
    assert "OWNER/tokyo-cli@COMMIT_SHA" in snippet
    workflow = tmp_path / "tokyo-review.yml"
    # As a user would paste it, with the action pinned to a (made-up) full commit SHA.
    workflow.write_text(snippet.replace("OWNER/tokyo-cli@COMMIT_SHA # pin this action to a full commit SHA",
                                        "acme/tokyo-cli@" + "0" * 40 + " # v0.1.0"), encoding="utf-8")
    doc = load(workflow)
    assert doc["jobs"]["review"]["permissions"] == load(REVIEW)["jobs"]["review"]["permissions"]
    proc = subprocess.run([zizmor(), "--offline", "--persona", "pedantic", "--format", "json", "--no-progress",
                           str(workflow)], capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout) == []
