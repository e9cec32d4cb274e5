"""action.yml run the way the Actions runner runs a composite action (tests/fakes/runner.py):
a draft pull request, a fork's pull request and a same-repository pull request, each finishing
green, against the fake GitHub on 127.0.0.1.

Skipped by design: the ``uses:`` steps (actions/setup-python, actions/cache: other
repositories' code, and they need the network). The install step runs as written, but with
``python`` on PATH a shim: ``python -m venv DIR`` makes a DIR whose ``bin/python -m pip
install`` only records its arguments and whose ``bin/tokyo`` runs this checkout's tokyo, so
nothing is downloaded at test time (the real install is timed by hand; see the README).
No provider key is set, so the agents run their offline analyzers, as in a fork.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from fakes.github import TOKEN, FakeGitHub, files_from_git
from fakes.gitrepo import GitRepo
from fakes.runner import ActionRun, CompositeRunner, runner_env
from test_github_e2e import BASE_SERVER, HEAD1_SERVER, NUMBER, OWNER, REPO, SCHEMA

ROOT = Path(__file__).resolve().parents[1]
REAL = shlex.quote(sys.executable)


def install_shims(bin_dir: Path, log: Path) -> None:
    """``python`` for the install step (see the module docstring)."""
    bin_dir.mkdir(parents=True)
    venv_python = f"""#!/bin/bash
if [ "$1" = -m ] && [ "$2" = pip ] && printf '%s\\n' "$@" | grep -qxE 'install|download'; then
  echo "pip $*" >> {shlex.quote(str(log))}
  exit 0
fi
exec {REAL} "$@"
"""
    tokyo = f"""#!/bin/bash
exec {REAL} -c 'import sys; from tokyo_cli.cli.app import main; sys.argv[0] = "tokyo"; main()' "$@"
"""
    shim = f"""#!/bin/bash
if [ "$1" = -m ] && [ "$2" = venv ]; then
  mkdir -p "$3/bin"
  cat > "$3/bin/python" <<'EOF_PY'
{venv_python}EOF_PY
  cat > "$3/bin/tokyo" <<'EOF_TOKYO'
{tokyo}EOF_TOKYO
  chmod +x "$3/bin/python" "$3/bin/tokyo"
  echo "venv $3" >> {shlex.quote(str(log))}
  exit 0
fi
exec {REAL} "$@"
"""
    (bin_dir / "python").write_text(shim)
    (bin_dir / "python").chmod(0o755)


def run_action(
    git_repo: GitRepo, fake: FakeGitHub, tmp_path: Path, event: dict[str, Any], with_: dict[str, str]
) -> tuple[ActionRun, Path]:
    temp, work = tmp_path / "runner-temp", tmp_path / "runner-work"
    temp.mkdir()
    work.mkdir()
    log = tmp_path / "install.log"
    install_shims(tmp_path / "shims", log)
    event_path = tmp_path / "event.json"
    event_path.write_text(json.dumps(event), encoding="utf-8")
    env = runner_env()
    env.update(
        PATH=f"{tmp_path / 'shims'}{os.pathsep}{env.get('PATH', '')}",
        GITHUB_ACTIONS="true",
        GITHUB_EVENT_NAME="pull_request",
        GITHUB_EVENT_PATH=str(event_path),
        GITHUB_API_URL=fake.url,
        GITHUB_SERVER_URL="https://github.com",
        GITHUB_REPOSITORY=f"{OWNER}/{REPO}",
        GITHUB_RUN_ID="77",
        GITHUB_WORKSPACE=str(git_repo.root),
        RUNNER_TEMP=str(temp),
        RUNNER_OS="Linux",
    )
    for key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GROQ_API_KEY", "GEMINI_API_KEY", "GH_TOKEN"):
        env.pop(key, None)
    runner = CompositeRunner(
        ROOT,
        work,
        env=env,
        github={
            "token": TOKEN,
            "action_path": str(ROOT),
            "workspace": str(git_repo.root),
            "repository": f"{OWNER}/{REPO}",
            "run_id": "77",
            "run_attempt": "1",
        },
        runner={"temp": str(temp), "os": "Linux", "arch": "X64"},
    )
    return runner.run(with_), log


def pr_event(base: str, head: str, *, draft: bool = False, fork: bool = False) -> dict[str, Any]:
    head_repo = "mallory/widgets" if fork else f"{OWNER}/{REPO}"
    return {
        "action": "opened",
        "number": NUMBER,
        "repository": {"full_name": f"{OWNER}/{REPO}"},
        "pull_request": {
            "number": NUMBER,
            "draft": draft,
            "user": {"login": "octocat"},
            "labels": [],
            "base": {"sha": base, "ref": "main", "repo": {"full_name": f"{OWNER}/{REPO}"}},
            "head": {"sha": head, "ref": "feature", "repo": {"full_name": head_repo}},
        },
    }


@pytest.fixture
def change(git_repo: GitRepo) -> tuple[str, str]:
    git_repo.write("src/app/server.py", BASE_SERVER)
    git_repo.write("docs/guide.md", "# Guide\n")
    base = git_repo.commit("base")
    git_repo.checkout_branch("feature")
    git_repo.write("src/app/server.py", HEAD1_SERVER)
    # Outside the fork test's paths input: its shell=True must not be reviewed there.
    git_repo.write(
        "scripts/run.py", "import subprocess\n\n\ndef go(cmd):\n    return subprocess.call(cmd, shell=True)\n"
    )
    return base, git_repo.commit("feature")


def sarif(path: Path) -> dict[str, Any]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    errors = list(jsonschema.Draft4Validator(json.loads(SCHEMA.read_text())).iter_errors(doc))
    assert not errors, errors[0].message
    return doc


def check_common(run: ActionRun, log: Path) -> None:
    assert run.ok, [(s.name, s.exit_code, s.stderr[-2000:]) for s in run.steps]
    assert [s.name for s in run.steps] == [
        "Key the wheel cache on the lock file",
        "Install tokyo with pinned dependencies",
        "Review the pull request",
    ]
    assert run.skipped == [
        "Set up Python (actions/setup-python@a26af69be951a213d495a4c3e4e4022e16d87065)",
        "Restore the wheel cache (actions/cache@5a3ec84eff668545956fd18022155c47e93e2684)",
        "Restore tokyo's history database (actions/cache@5a3ec84eff668545956fd18022155c47e93e2684)",
    ]
    lock = run.steps[0].outputs
    assert len(lock["hash"]) == 64 and lock["wheelhouse"].endswith("/tokyo-wheelhouse")
    installs = log.read_text().splitlines()
    assert installs[0].startswith("venv ") and installs[0].endswith("/tokyo-venv")
    # No cache hit (actions/cache is not run here): download into the wheelhouse, then install
    # from it with no index, every file checked against the lock's hashes.
    assert f"download --require-hashes --no-deps --dest {lock['wheelhouse']} -r" in installs[1]
    assert (
        f"install --no-compile --no-index --find-links {lock['wheelhouse']} --require-hashes --no-deps -r"
        in installs[2]
    ) and installs[2].endswith("requirements/action.txt")
    assert installs[3].endswith(f"install --no-compile --no-index --no-deps --no-build-isolation {ROOT}")
    assert any(c.startswith("::notice title=tokyo::installed in ") for c in run.commands)


def test_a_draft_pull_request_finishes_green_with_an_empty_sarif(
    git_repo: GitRepo,
    fake_github: FakeGitHub,
    tmp_path: Path,
    change: tuple[str, str],
) -> None:
    base, head = change
    run, log = run_action(git_repo, fake_github, tmp_path, pr_event(base, head, draft=True), {})
    check_common(run, log)
    assert (
        "::notice title=tokyo::Nothing to review: the pull request is a draft; tokyo reviews it when it is "
        "marked ready for review." in run.commands
    )
    assert fake_github.requests == []
    out = run.outputs
    assert out["status"] == "skipped" and out["sarif-written"] == "true" and out["posted"] == "false"
    assert out["head-sha"] == head and out["ref"] == f"refs/pull/{NUMBER}/head" and out["sarif"] == "tokyo.sarif"
    assert sarif(git_repo.root / out["sarif"])["runs"][0]["results"] == []


def test_a_fork_pull_request_finishes_green_with_annotations_summary_and_sarif(
    git_repo: GitRepo,
    fake_github: FakeGitHub,
    tmp_path: Path,
    change: tuple[str, str],
) -> None:
    base, head = change
    run, log = run_action(
        git_repo,
        fake_github,
        tmp_path,
        pr_event(base, head, fork=True),
        {"fail-on": "critical", "paths": " src/** , docs/** ,", "sarif": "out/fork.sarif"},
    )
    check_common(run, log)
    assert fake_github.requests == []  # a fork's token is read-only: nothing is posted or read
    assert any(
        c.startswith("::notice title=tokyo::No review posted: this pull request comes from a fork")
        for c in run.commands
    )
    errors = [c for c in run.commands if c.startswith("::error file=src/app/server.py,line=")]
    assert errors and all("title=tokyo " in c for c in errors)  # bandit's shell=True (high), annotated
    out = run.outputs
    assert out["posted"] == "false" and out["sarif-written"] == "true" and out["status"] == "completed"
    assert int(out["findings"]) >= 1 and int(out["high"]) >= 1 and out["blocking"] == "0"
    assert out["head-sha"] == head
    results = sarif(git_repo.root / "out" / "fork.sarif")["runs"][0]["results"]
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert "src/app/server.py" in uris and "scripts/run.py" not in uris  # the paths input
    assert "## tokyo review" in run.summary


def test_a_same_repository_pull_request_posts_through_the_inputs_token(
    git_repo: GitRepo,
    fake_github: FakeGitHub,
    tmp_path: Path,
    change: tuple[str, str],
) -> None:
    base, head = change
    fake_github.set_pull(NUMBER, head, files_from_git(git_repo.root, base, head))
    run, log = run_action(git_repo, fake_github, tmp_path, pr_event(base, head), {"fail-on": "critical"})
    check_common(run, log)
    assert fake_github.log()[-2:] == [
        f"POST /repos/{OWNER}/{REPO}/pulls/{NUMBER}/reviews",
        f"POST /repos/{OWNER}/{REPO}/issues/{NUMBER}/comments",
    ]
    assert fake_github.violations == []
    out = run.outputs
    assert out["posted"] == "true" and out["review-url"].startswith("https://github.com/acme/widgets/pull/7")
    assert out["summary-url"] and out["run-id"] == "1"


def test_a_failing_review_fails_the_action(
    git_repo: GitRepo,
    fake_github: FakeGitHub,
    tmp_path: Path,
    change: tuple[str, str],
) -> None:
    base, head = change  # the default fail-on (the workflow's: high) and bandit's high finding
    run, _ = run_action(git_repo, fake_github, tmp_path, pr_event(base, head, fork=True), {})
    assert not run.ok and run.steps[-1].exit_code == 1 and run.outputs == {}
    results = sarif(git_repo.root / "tokyo.sarif")["runs"][0]["results"]
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert {"src/app/server.py", "scripts/run.py"} <= uris  # no paths input: every file


def test_the_container_entrypoint_maps_inputs_like_the_composite_action(tmp_path: Path) -> None:
    """docker/entrypoint.sh (the Dockerfile's entry point), with ``tokyo`` a stub that prints
    its arguments: container actions get inputs as INPUT_<NAME> with the hyphens kept."""
    stub = tmp_path / "bin" / "tokyo"
    stub.parent.mkdir()
    stub.write_text(
        '#!/bin/bash\nprintf "%s\\n" "$@"\nprintf "env %s\\n" "$TOKYO_SKIP_DRAFTS" "$TOKYO_RUN_LABEL" '
        '"$GITHUB_TOKEN" "$GIT_CONFIG_VALUE_0" "$TOKYO_CHECK_RUN"\n'
    )
    stub.chmod(0o755)
    env = {
        "PATH": f"{stub.parent}{os.pathsep}/usr/bin:/bin",
        "GITHUB_WORKSPACE": "/github/workspace",
        "INPUT_FAIL-ON": "critical",
        "INPUT_PATHS": " src/** , docs/** ,",
        "INPUT_SKIP-DRAFTS": "false",
        "INPUT_GITHUB-TOKEN": "t0k",
        "INPUT_MODEL": "",
        "INPUT_SARIF": "out/x.sarif",
        "INPUT_CHECK-RUN": "true",
    }
    import subprocess

    proc = subprocess.run(
        ["bash", str(ROOT / "docker" / "entrypoint.sh")], env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "review",
        ".",
        "--github",
        "--format",
        "sarif",
        "--output",
        "out/x.sarif",
        "--workflow",
        "review",
        "--max-comments",
        "25",
        "--fail-on",
        "critical",
        "--path",
        "src/**",
        "--path",
        "docs/**",
        "env false",
        "env ",
        "env t0k",
        "env /github/workspace",
        "env true",
    ]


def test_the_dockerfile_lints_clean() -> None:
    """The container action's Dockerfile, linted by hadolint (the binary tokyo's own Dockerfile
    analyzer runs; no image is built here: no docker daemon or registry in CI)."""
    import shutil
    import subprocess

    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    proc = subprocess.run(
        [hadolint, "--no-color", "--format", "tty", str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
