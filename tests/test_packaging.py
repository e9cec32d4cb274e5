"""The package as users get it: the version in one place, the wheel's contents and metadata,
and the built wheel installed into an empty virtual environment without the network, then
run there as a new user would (``tokyo --version``, ``tokyo doctor --json``, ``tokyo init``
in a new repository, ``tokyo review --offline``).

The wheel is built from this checkout with hatchling (the build backend, in the test extra);
its dependencies come from the distributions installed in this environment, packed back into
wheels (:mod:`fakes.wheelhouse`), and pip runs with ``--no-index`` and no configuration file.
Where ``unshare -rn`` works (Linux, user namespaces allowed) every command of the fresh
environment runs in a network namespace with no interface up: nothing could be downloaded.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
import zipfile
from pathlib import Path

import pytest

from fakes.gitrepo import GitRepo
from fakes.offline import closed_port, offline_env, say
from tokyo_cli import __version__

ROOT = Path(__file__).resolve().parent.parent
SHA = "89abcdef0123456789abcdef0123456789abcdef"


def test_the_version_has_one_source() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"] and project["project"]["dynamic"] == ["version"]
    assert project["tool"]["hatch"]["version"]["path"] == "src/tokyo_cli/__init__.py"
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [Unreleased]" in changelog and f"## [{__version__}] - " in changelog
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel hatchling builds from this checkout (what `pip wheel .` or `python -m
    build` would make, without an isolated build environment to download)."""
    dist = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(dist)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (built,) = dist.glob("tokyo_cli-*.whl")
    return built


def test_the_wheel_has_types_templates_defaults_license_and_metadata(wheel: Path) -> None:
    assert wheel.name == f"tokyo_cli-{__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        meta = zf.read(f"tokyo_cli-{__version__}.dist-info/METADATA").decode()
    for name in (
        "tokyo_cli/py.typed",
        "tokyo_cli/config/templates/tokyo-review.yml",
        "tokyo_cli/config/templates/agents.yaml",
        "tokyo_cli/defaults/agents.yaml",
        "tokyo_cli/defaults/workflows/review.yaml",
        f"tokyo_cli-{__version__}.dist-info/licenses/LICENSE",
    ):
        assert name in names, name
    for line in (
        f"Version: {__version__}",
        "License-Expression: MIT",
        "Requires-Python: >=3.11",
        "Classifier: Typing :: Typed",
        "Project-URL: Changelog, ",
    ):
        assert line in meta, line


def _no_network_prefix() -> list[str]:
    """``["unshare", "-rn"]`` where a network namespace can be made here, else ``[]``."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-rn", "true"], capture_output=True, check=False).returncode == 0:
        return [unshare, "-rn"]
    return []


@pytest.mark.slow
def test_the_wheel_installs_offline_into_an_empty_venv_and_works(
    wheel: Path, wheelhouse: Path, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    venv_bin = tmp_path / "venv" / "bin"
    here = str(Path(sys.executable).parent)  # this test environment's tools must not be found
    path = os.pathsep.join([str(venv_bin), *(p for p in os.environ.get("PATH", "").split(os.pathsep) if p != here)])
    env = offline_env(dict(os.environ, HOME=str(home), PATH=path), closed_port())
    env.update(
        TOKYO_HOME=str(tmp_path / "tokyo-home"),
        PIP_CONFIG_FILE=os.devnull,
        PIP_NO_INDEX="1",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    for name in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"):
        env.pop(name, None)
    jail = _no_network_prefix()
    say(
        request,
        "commands run "
        + (
            "under unshare -rn (no network)"
            if jail
            else "without a network namespace (unshare -rn is not permitted here); pip still has --no-index"
        ),
        prefix="fresh venv",
    )

    def run(*cmd: str | Path, cwd: Path = tmp_path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*jail, *map(str, cmd)], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )

    started = time.monotonic()
    proc = run(sys.executable, "-m", "venv", tmp_path / "venv")
    assert proc.returncode == 0, proc.stderr
    # --no-compile: byte-compiling litellm and semgrep doubles the install time; the first run compiles what it imports.
    proc = run(
        venv_bin / "python", "-m", "pip", "install", "--no-index", "--no-compile", "--find-links", wheelhouse, wheel
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    say(request, f"venv + pip install of the wheel: {time.monotonic() - started:.1f} s", prefix="fresh venv")

    proc = run(venv_bin / "tokyo", "--version")
    assert (proc.returncode, proc.stdout.strip()) == (0, f"tokyo {__version__}"), proc.stderr

    project = GitRepo(tmp_path / "project").init()
    project.write("app.py", 'def greet(name):\n    """Greet NAME."""\n    return "hello " + name\n')
    project.commit("first")

    proc = run(venv_bin / "tokyo", "doctor", "--json", cwd=project.root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doctor = json.loads(proc.stdout)
    assert doctor["tokyo_version"] == __version__ and doctor["repository"]["head"] == project.head()
    assert all(a["available"] for a in doctor["analyzers"]), doctor["analyzers"]
    # The analyzers are the fresh environment's own, not this test environment's.
    assert not any(here in json.dumps(a) for a in doctor["analyzers"])
    assert {a["mode"] for a in doctor["agents"]} == {"offline"}

    proc = run(venv_bin / "tokyo", "init", "--action", f"acme/tokyo-cli@{SHA}", cwd=project.root)
    assert proc.returncode == 0 and "wrote 4 of 4 files" in proc.stdout, proc.stdout + proc.stderr
    project.commit("tokyo init")

    project.write(
        "app.py",
        'import subprocess\n\n\ndef greet(name):\n    """Greet NAME."""\n'
        '    return subprocess.call("echo hello " + name, shell=True)\n',
    )
    proc = run(venv_bin / "tokyo", "review", "--offline", "--format", "json", cwd=project.root)
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]  # a finding at or above high
    report = json.loads(proc.stdout)
    assert report["run"]["status"] == "completed" and report["run"]["exit_code"] == 1
    assert {s["status"] for s in report["steps"]} == {"offline"}
    assert any(
        f["severity"] == "high" and f["path"] == "app.py" and "78" in json.dumps(f.get("cwe"))
        for f in report["findings"]
    ), report["findings"]
    say(request, f"fresh venv test: {time.monotonic() - started:.1f} s in all", prefix="fresh venv")
