"""The real pre-commit framework runs this repository's hooks (.pre-commit-hooks.yaml) in
throwaway git repositories: `pre-commit try-repo`, and hooks installed with
`pre-commit install` that a real `git commit` / `git push` triggers.

Cost, and how it is kept to a minimum:

* pre-commit builds a hook's environment with ``pip install .`` of this package and every
  dependency (litellm, analyzers ...). Their wheels are packed from the distributions already
  installed in this environment (:mod:`fakes.wheelhouse`, the session's ``wheelhouse``
  fixture), never downloaded, and pre-commit installs with ``PIP_NO_INDEX=1``: no network
  at all;
* ``PIP_COMPILE=0`` (pip's ``--no-compile``): byte-compiling every installed module took
  more than half of each install (a fresh venv from the wheelhouse: 67.9 s with, 29.8 s
  without, on 2 loaded cores); a hook run compiles what it imports;
* every test shares one ``PRE_COMMIT_HOME`` (module scope): the environment is installed
  once, by the module fixture, and reused by every `git commit`/`pre-commit run` below;
* `pre-commit try-repo` always installs into a store of its own (pre-commit 4.x
  ``try_repo.py``: ``Store(tempdir)``, whatever PRE_COMMIT_HOME says), so it is used once;
* under pytest-xdist whole files go to a worker (``--dist loadfile`` in pyproject's addopts):
  this module's tests run in one worker, which installs the shared environment once, and
  start first (conftest.py puts files with a slow test first).

The hook repository is a snapshot of this checkout's working tree (tracked and untracked,
not ignored files) committed in a tmp dir: uncommitted work in this checkout is tested as
the rest of the suite tests it, and cannot break try-repo's own "shadow repo" copy (which
takes modified tracked files but not untracked ones).

Every hook run is offline: provider keys removed or blank, proxies and TOKYO_API_BASE at a
closed 127.0.0.1 port. The module prints the install time and the hook's wall times.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from fakes.gitrepo import GitRepo
from fakes.offline import closed_port, offline_env
from fakes.offline import say as print_line
from fakes.provider import FakeProvider

pytestmark = pytest.mark.slow

CHECKOUT = Path(__file__).resolve().parents[1]
PRE_COMMIT = [sys.executable, "-m", "pre_commit"]
TIME_LIMIT_S = 60.0  # the hook's default

AWS_INI = (
    "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
    "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
)
SHELL_PY = '''import subprocess
import sys


def run(name):
    """Greet NAME through the shell."""
    return subprocess.call("echo hello " + name, shell=True)


if __name__ == "__main__":
    run(sys.argv[1])
'''
CLEAN_PY = 'def add(a, b):\n    """Return the sum of a and b."""\n    return a + b\n'
CLEAN_TEST = "from calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n"


def run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def say(request: pytest.FixtureRequest, line: str) -> None:
    print_line(request, line, prefix="tokyo hook")


def snapshot_checkout(dest: Path) -> str:
    """Commit this checkout's working tree (tracked + untracked, not ignored) into a new
    repository at ``dest``; returns the commit sha."""
    listed = (
        subprocess.run(
            ["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=CHECKOUT, capture_output=True, check=True
        )
        .stdout.decode()
        .split("\0")
    )
    for rel in filter(None, listed):
        src = CHECKOUT / rel
        if src.is_file():  # tracked files deleted in the working tree are listed too
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    repo = GitRepo(dest).init()
    return repo.commit("snapshot of the working tree")


@dataclass
class Hooks:
    """The hook repository and the environment every pre-commit run uses."""

    repo: Path
    rev: str
    env: dict[str, str]
    install_s: float
    walls: dict[str, float] = field(default_factory=dict)

    def config(self, *hook_ids: str) -> str:
        hooks = "".join(f"      - id: {h}\n        verbose: true\n" for h in hook_ids or ("tokyo-review",))
        return f"repos:\n  - repo: {self.repo}\n    rev: {self.rev}\n    hooks:\n{hooks}"

    def environ(self, tmp: Path, **extra: str) -> dict[str, str]:
        env = dict(self.env, TOKYO_HOME=str(tmp / "tokyo-home"), HOME=str(tmp / "home"))
        env.update(extra)
        return env


@pytest.fixture(scope="module")
def hooks(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path
) -> Iterator[Hooks]:
    """The hook repository, a shared PRE_COMMIT_HOME and the hook environment, installed once."""
    scratch = tmp_path_factory.mktemp("pre-commit")
    repo, home = scratch / "tokyo-cli", scratch / "home"
    home.mkdir()
    base_env = offline_env(dict(os.environ, HOME=str(home)), closed_port())
    rev = snapshot_checkout(repo)
    env = dict(
        base_env,
        PRE_COMMIT_HOME=str(scratch / "pre-commit-home"),
        PIP_NO_INDEX="1",
        PIP_FIND_LINKS=str(wheelhouse),
        PIP_CONFIG_FILE=os.devnull,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_COMPILE="0",
    )
    warmup = GitRepo(scratch / "warmup").init()
    result = Hooks(repo=repo, rev=rev, env=env, install_s=0.0)
    warmup.write(".pre-commit-config.yaml", result.config())
    warmup.commit("config")
    started = time.monotonic()
    proc = run([*PRE_COMMIT, "install-hooks"], warmup.root, env)
    result.install_s = time.monotonic() - started
    assert proc.returncode == 0, proc.stdout + proc.stderr
    say(request, f"hook environment installed once in {result.install_s:.1f} s (pip install . from the wheelhouse)")
    yield result
    if result.walls:
        say(
            request,
            "hook wall time (pre-commit's duration): " + ", ".join(f"{k} {v:.2f} s" for k, v in result.walls.items()),
        )


@dataclass
class Project:
    repo: GitRepo
    env: dict[str, str]

    def git(self, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return run(["git", *args], self.repo.root, dict(self.env, **extra))

    def pre_commit(self, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return run([*PRE_COMMIT, *args], self.repo.root, dict(self.env, **extra))

    def commit(self, files: dict[str, str], **extra: str) -> tuple[bool, str]:
        """Write and stage ``files``, then a real `git commit` (hooks and all) with ``extra``
        environment; returns (whether the commit was made, everything printed)."""
        before = self.repo.head()
        for rel, text in files.items():
            self.repo.write(rel, text)
        self.repo.stage()
        proc = self.git("commit", "-m", f"change {', '.join(files)}", **extra)
        made = self.repo.head() != before
        assert made == (proc.returncode == 0), output(proc)
        return made, output(proc)


@pytest.fixture
def project(hooks: Hooks, git_repo: GitRepo, tmp_path: Path) -> Project:
    """A repository using tokyo-review, with pre-commit and pre-push hooks installed."""
    git_repo.write(".pre-commit-config.yaml", hooks.config())
    git_repo.write("calc.py", CLEAN_PY)
    git_repo.write("tests/test_calc.py", CLEAN_TEST)
    git_repo.commit("base")
    proj = Project(git_repo, hooks.environ(tmp_path))
    installed = proj.pre_commit("install", "--hook-type", "pre-commit", "--hook-type", "pre-push")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return proj


def output(proc: subprocess.CompletedProcess[str]) -> str:
    return proc.stdout + proc.stderr


def duration(text: str) -> float:
    """pre-commit's ``- duration: 0.83s`` line for the (single) hook that ran."""
    found = re.findall(r"- duration: ([0-9.]+)s", text)
    assert len(found) == 1, text
    return float(found[0])


def stored(env: dict[str, str], sql: str) -> list[Any]:
    """The rows ``sql`` selects from the hook's history database."""
    import sqlite3

    con = sqlite3.connect(Path(env["TOKYO_HOME"]) / "history.db")
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def stored_runs(env: dict[str, str]) -> list[tuple[str, str, int]]:
    """(target, status, findings) of every run in the hook's history database, oldest first."""
    return stored(
        env,
        "select target, status, (select count(*) from findings f where f.run_id = runs.id and f.scope = 'run') "
        "from runs order by id",
    )


# --- try-repo ------------------------------------------------------------------------------------


def test_try_repo_blocks_a_commit_that_adds_a_cloud_key(
    hooks: Hooks, project: Project, request: pytest.FixtureRequest
) -> None:
    project.repo.write("config/aws.ini", AWS_INI)
    project.repo.stage("config/aws.ini")
    started = time.monotonic()
    proc = project.pre_commit("try-repo", str(hooks.repo), "tokyo-review", "--verbose")
    say(request, f"pre-commit try-repo (its own fresh install included): {time.monotonic() - started:.1f} s")
    text = output(proc)
    assert proc.returncode == 1, text
    assert "tokyo review (agent team)" in text and "Failed" in text
    assert re.search(
        r"^CRITICAL +config/aws\.ini:2 +akira +Hard-coded secret: AWS Access Key +\[[0-9a-f]{8}\]$", text, re.M
    ), text
    assert "tokyo: commit blocked by 2 findings at/above high" in text
    assert "SKIP=tokyo-review git commit" in text
    assert "AKIAIOSFODNN7EXAMPLE" not in text and "wJalrXUtnFEMI" not in text


# --- installed hooks, real git commands ----------------------------------------------------------


def test_a_commit_with_a_cloud_key_is_blocked(hooks: Hooks, project: Project) -> None:
    made, text = project.commit({"config/aws.ini": AWS_INI})
    assert not made, text
    assert re.search(r"^CRITICAL +config/aws\.ini:3 +akira +Hard-coded secret: AWS Access Key", text, re.M), text
    hooks.walls["blocked commit"] = duration(text)
    assert stored_runs(project.env) == [("staged", "completed", 2)]


def test_a_commit_with_a_shell_injection_is_blocked(project: Project) -> None:
    made, text = project.commit({"tool.py": SHELL_PY})
    assert not made, text
    # taint analysis: sys.argv reaches the shell through run()
    assert re.search(r"^HIGH +tool\.py:7 +akira +OS command injection", text, re.M), text
    assert "tokyo: commit blocked by 1 finding at/above high (also 1 low)" in text


def test_a_clean_commit_goes_through_and_is_recorded(hooks: Hooks, project: Project) -> None:
    made, text = project.commit(
        {
            "calc.py": CLEAN_PY + '\n\ndef neg(a):\n    """Return -a."""\n    return -a\n',
            "tests/test_calc.py": CLEAN_TEST
            + "\n\ndef test_neg():\n    from calc import neg\n\n    assert neg(2) == -2\n",
        }
    )
    assert made, text
    assert "tokyo review (agent team)" in text and "Passed" in text
    assert "tokyo: no findings at/above high · staged changes, 2 files · offline analyzers only" in text
    hooks.walls["clean commit"] = duration(text)
    assert stored_runs(project.env) == [("staged", "completed", 0)]


def test_no_key_and_no_network_finishes_well_within_the_time_limit(hooks: Hooks, project: Project) -> None:
    blank = {
        name: "" for name in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GROQ_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY")
    }
    project.repo.write("tool.py", SHELL_PY)
    project.repo.write("config/aws.ini", AWS_INI)
    project.repo.stage()
    proc = project.pre_commit("run", "tokyo-review", **blank)
    text = output(proc)
    assert proc.returncode == 1, text
    assert "offline analyzers only (no provider key)" in text and "time limit" not in text
    # Finished on its own ("time limit" is not in the output): how fast is for benchmarks.


def test_an_unreachable_provider_blocks_a_commit_only_when_nothing_usable_came_back(
    hooks: Hooks, project: Project
) -> None:
    dead = {"TOKYO_API_BASE": f"http://127.0.0.1:{closed_port()}/v1", "TOKYO_RETRIES": "0"}
    # No model answers, the analyzers still report (half() has no docstring, no test): below
    # fail-on, so the commit goes through; the run is partial.
    made, text = project.commit({"calc.py": CLEAN_PY + "\n\ndef half(a):\n    return a / 2\n"}, **dead)
    assert made, text
    assert "models unreachable: offline analyzers only" in text and "not blocking" in text
    assert "time limit" not in text  # the dead provider was given up on, not waited out
    # Why it was not waited out: each call was refused at once, on its one attempt (no retry),
    # or skipped by the circuit breaker. A call that waited (a timeout) or retried fails here.
    calls = stored(project.env, "select attempts, error from llm_calls")
    assert calls and all(attempts == 1 for attempts, _ in calls), calls
    reasons = [part.split(": ", 1)[1] for _, error in calls for part in error.split("; ")]
    at_once = ("connection refused at http://127.0.0.1:", "skipped, circuit open")
    assert all(r.startswith(at_once) for r in reasons), calls
    hooks.walls["unreachable provider"] = duration(text)  # printed, not asserted
    # No model answers and no analyzer finds anything: nothing was reviewed (exit code 3).
    made, text = project.commit({"tests/test_calc.py": CLEAN_TEST.replace("== 3", "== 3.0")}, **dead)
    assert not made and "- exit code: 3" in text, text
    assert "tokyo: commit blocked: nothing usable came back (every step failed, no analyzer finding)" in text
    assert "SKIP=tokyo-review git commit" in text
    assert [(target, status) for target, status, _ in stored_runs(project.env)] == [
        ("staged", "partial"),
        ("staged", "failed"),
    ]  # recorded all the same


def test_skip_once_and_the_offline_hook_id(hooks: Hooks, project: Project, fake_provider: FakeProvider) -> None:
    made, text = project.commit({"tool.py": SHELL_PY}, SKIP="tokyo-review")
    assert made and re.search(r"tokyo review \(agent team\)\.+\(?[a-z ]*\)?Skipped", text), text
    # The offline-only id never calls a provider, even with one configured.
    made, text = project.commit(
        {".pre-commit-config.yaml": hooks.config("tokyo-review-offline"), "tool2.py": SHELL_PY},
        TOKYO_API_BASE=fake_provider.url,
    )
    assert not made and "tokyo review (offline analyzers)" in text, text
    assert "offline analyzers only ·" in text and "SKIP=tokyo-review-offline git commit" in text
    assert fake_provider.requests == []


def test_pre_push_blocks_the_pushed_commits_and_skip_lets_them_through(hooks: Hooks, project: Project) -> None:
    remote = project.repo.root.parent / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True, env=project.env)
    assert project.git("remote", "add", "origin", str(remote)).returncode == 0
    assert project.git("push", "-q", "--no-verify", "origin", "main").returncode == 0
    project.repo.write("tool.py", SHELL_PY)
    project.repo.commit("add tool")  # --no-verify: the commit hook is not under test here
    proc = project.git("push", "origin", "main")
    text = output(proc)
    assert proc.returncode != 0, text
    assert "tokyo: push blocked by 1 finding at/above high" in text and "pushed commits" in text
    assert "SKIP=tokyo-review git push" in text
    proc = project.git("push", "origin", "main", SKIP="tokyo-review")
    assert proc.returncode == 0, output(proc)
