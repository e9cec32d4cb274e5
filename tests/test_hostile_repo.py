"""The reviewed repository is hostile (docs/ARCHITECTURE.md, "Trust boundaries"; issue 12 parts 1, 2 and
the symlink half of 6): it never runs code inside tokyo, never injects environment, and is
never read through a symlink.

Every planted file writes a marker (an absolute path under tmp_path, with the names of the
environment variables it could see) if anything ever executes it. Every test also checks that
the analyzer the attack aims at really ran and reported what it should, so a test cannot pass
because the analyzer silently stopped running. Reviews are real (`tokyo review`, `tokyo hook`,
`tokyo review --github`) on real git repositories; provider calls go to fake servers on
127.0.0.1 only.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fakes.github import TOKEN, FakeGitHub
from fakes.gitrepo import GitRepo
from fakes.provider import FakeProvider

RunCli = Callable[..., tuple[int, str, str]]  # the `cli` fixture (conftest.py)

SHELL_PY = '''import subprocess


def run(cmd):
    """Run cmd through the shell."""
    return subprocess.call(cmd, shell=True)
'''
SHELL_LINE = 6
SAFE_PY = '''import subprocess


def run(cmd):
    """Run cmd without a shell."""
    return subprocess.call([cmd])
'''
PROVIDER_KEY = "sk-canary-provider-key-0123456789abcdef"
GITHUB_KEY = "ghp_canaryGitHubToken0123456789abcdefABCD"


def planted(marker: Path) -> str:
    """Python that, if it ever runs, writes ``marker`` with the environment names it saw."""
    return f"import os as _o, pathlib as _p\n_p.Path({str(marker)!r}).write_text(' '.join(sorted(_o.environ)))\n"


def review_json(cli: RunCli, *args: str) -> tuple[int, dict[str, Any], str]:
    code, out, err = cli("review", *args, "--format", "json", "--quiet")
    assert out.strip(), err
    return code, json.loads(out), err


def analyzer(report: dict[str, Any], name: str) -> dict[str, Any]:
    """The one run of analyzer ``name`` in the report's steps."""
    runs = [a for step in report["steps"] for a in step["analyzers"] if a["name"] == name]
    assert len(runs) == 1, (name, [a["name"] for s in report["steps"] for a in s["analyzers"]])
    return runs[0]


def rules(report: dict[str, Any]) -> set[tuple[str, int | None, str]]:
    return {(f["path"], f["line"], f["rule"]) for f in report["findings"]}


def reasons(report: dict[str, Any]) -> dict[str, str | None]:
    return {f["path"]: f["reason"] for f in report["files"]}


@pytest.fixture
def base_repo(git_repo: GitRepo) -> GitRepo:
    """``main``: a small package with no finding; then on branch ``feature`` (not committed)."""
    git_repo.write("app/__init__.py", "")
    git_repo.write("app/core.py", SAFE_PY)
    git_repo.write(".gitignore", ".venv/\n")
    git_repo.commit("base")
    git_repo.checkout_branch("feature")
    return git_repo


# --- 1. bandit never imports the change ---------------------------------------------------

# Files bandit's process would import if the copied tree were its working directory or on its
# sys.path: stdlib modules bandit imports (logging, json), bandit itself, its plugin loader,
# Python's start-up hooks, a .pth file and pytest's conftest.
BANDIT_PLANTS = [
    "logging.py",
    "bandit.py",
    "json/__init__.py",
    "stevedore/__init__.py",
    "site.py",
    "sitecustomize.py",
    "usercustomize.py",
    "conftest.py",
    "app/logging.py",
    "evil.pth",
]


@pytest.mark.parametrize("plant", BANDIT_PLANTS)
def test_a_range_review_never_runs_a_file_of_the_change(
    plant: str, base_repo: GitRepo, cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", PROVIDER_KEY)
    marker = tmp_path / "marker"
    code = planted(marker)
    base_repo.write(plant, code.replace("\n", "; ").rstrip("; ") + "\n" if plant.endswith(".pth") else code)
    base_repo.write("app/core.py", SHELL_PY)
    base_repo.commit("feature")

    code_, report, err = review_json(cli, str(base_repo.root), "--base", "main", "--offline")

    assert not marker.exists(), f"{plant} ran inside tokyo; it saw: {marker.read_text()}"
    assert analyzer(report, "bandit")["error"] is None, err
    assert ("app/core.py", SHELL_LINE, "bandit:B602") in rules(report)
    assert code_ == 1


def test_the_pre_commit_hook_never_runs_a_staged_file(base_repo: GitRepo, cli: RunCli, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    base_repo.write("logging.py", planted(marker))
    base_repo.write("json/__init__.py", planted(marker))
    base_repo.write("app/core.py", SHELL_PY)
    base_repo.stage()

    code, out, _ = cli("hook", str(base_repo.root))

    assert not marker.exists(), marker.read_text()
    assert code == 1
    assert out.splitlines()[0].split()[:3] == ["HIGH", f"app/core.py:{SHELL_LINE}", "akira"]


def test_a_pull_request_review_in_ci_never_runs_a_file_of_the_change(
    base_repo: GitRepo,
    cli: RunCli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_github: FakeGitHub,
) -> None:
    marker = tmp_path / "marker"
    base = base_repo.rev("main")
    base_repo.write("logging.py", planted(marker))
    base_repo.write("lib/json/__init__.py", planted(marker))
    base_repo.write("lib/json/codec.py", "import json\n")
    base_repo.write("app/core.py", SHELL_PY)
    head = base_repo.commit("feature")
    event = tmp_path / "event.json"
    event.write_text(
        json.dumps(
            {
                "action": "opened",
                "number": 7,
                "pull_request": {
                    "number": 7,
                    "draft": False,
                    "title": "t",
                    "state": "open",
                    "base": {"sha": base, "ref": "main", "repo": {"full_name": "acme/widgets"}},
                    "head": {"sha": head, "ref": "feature", "repo": {"full_name": "mallory/widgets"}},
                },
                "repository": {"full_name": "acme/widgets"},
            }
        ),
        encoding="utf-8",
    )
    for name, value in {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_API_URL": fake_github.url,
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_REPOSITORY": "acme/widgets",
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_OUTPUT": str(tmp_path / "output.txt"),
        "OPENAI_API_KEY": PROVIDER_KEY,
    }.items():
        monkeypatch.setenv(name, value)

    out = tmp_path / "report.json"
    code, _, err = cli("review", str(base_repo.root), "--github", "--offline", "-f", "json", "-o", str(out), "-q")

    assert not marker.exists(), marker.read_text()
    report = json.loads(out.read_text(encoding="utf-8"))
    assert analyzer(report, "bandit")["error"] is None, err
    assert analyzer(report, "import-cycles")["error"] is None, err
    assert ("app/core.py", SHELL_LINE, "bandit:B602") in rules(report)
    assert code == 1


# --- 2. the import-graph helper never imports the change ----------------------------------

CYCLE_A_OLD = '"""A."""\n\n\ndef f():\n    """F."""\n    return 1\n'
CYCLE_A_NEW = '"""A."""\nfrom app import b\n\n\ndef f():\n    """F."""\n    return b.g()\n'
CYCLE_B = '"""B."""\nfrom app import a\n\n\ndef g():\n    """G."""\n    return a.f\n'


@pytest.mark.parametrize("package", ["json", "grimp", "sitecustomize", "encodings", "importlib"])
def test_the_import_graph_helper_never_imports_a_package_of_the_change(
    package: str, git_repo: GitRepo, cli: RunCli, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    git_repo.write("app/__init__.py", "")
    git_repo.write("app/a.py", CYCLE_A_OLD)
    git_repo.write("app/b.py", CYCLE_B)
    git_repo.commit("base")
    git_repo.checkout_branch("feature")
    git_repo.write("app/a.py", CYCLE_A_NEW)  # closes app.a -> app.b -> app.a
    # A package of the change named like a module the helper (or Python) imports.
    git_repo.write(f"lib/{package}/__init__.py", planted(marker))
    git_repo.write(f"lib/{package}/util.py", planted(marker) + f"from {package} import x\n")
    git_repo.write(f"lib/{package}/x.py", "from . import util\n")
    git_repo.commit("feature")

    _, report, err = review_json(cli, str(git_repo.root), "--base", "main", "--offline")

    assert not marker.exists(), f"lib/{package} ran inside tokyo; it saw: {marker.read_text()}"
    assert analyzer(report, "import-cycles")["error"] is None, err
    assert ("app/a.py", 2, "grimp:import-cycle") in rules(report)


# --- 1. tools' own configuration in the change cannot silence them ----------------------

WORKFLOW = """name: ci
on:
  push:
    branches: [main]
permissions:
  contents: read
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@b4ffde65f46336ab88eb53be808477a3936bae11 # v4.1.1
        with:
          persist-credentials: false
      - run: echo "${{ github.event.head_commit.message }}"
"""
INJECTION_LINE = 14
SILENCERS = {
    ".bandit": "[bandit]\nskips: B602\nexclude: app\n",
    "app/.bandit": "[bandit]\nskips: B602\n",
    "pyproject.toml": '[tool.bandit]\nskips = ["B602"]\nexclude_dirs = ["app"]\n',
    ".github/zizmor.yml": "rules:\n  template-injection:\n    disable: true\n",
    "zizmor.yml": "rules:\n  template-injection:\n    ignore:\n      - ci.yml\n",
    ".hadolint.yaml": "ignored:\n  - DL3007\n",
}


def test_the_change_cannot_silence_bandit_zizmor_or_hadolint_with_their_config_files(
    base_repo: GitRepo, cli: RunCli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Configuration in the environment does not reach the tools either.
    (tmp_path / "zizmor-off.yml").write_text(SILENCERS[".github/zizmor.yml"], encoding="utf-8")
    monkeypatch.setenv("ZIZMOR_CONFIG", str(tmp_path / "zizmor-off.yml"))
    monkeypatch.setenv("HADOLINT_IGNORE", "DL3007")
    for path, text in SILENCERS.items():
        base_repo.write(path, text)
    base_repo.write("app/core.py", SHELL_PY)
    base_repo.write(".github/workflows/ci.yml", WORKFLOW)
    base_repo.write("Dockerfile", "FROM python:latest\nUSER 1000\n")
    base_repo.commit("feature with silencing config")

    _, report, err = review_json(cli, str(base_repo.root), "--base", "main", "--offline")

    for name in ("bandit", "zizmor", "hadolint"):
        assert analyzer(report, name)["error"] is None, err
    found = rules(report)
    assert ("app/core.py", SHELL_LINE, "bandit:B602") in found
    assert (".github/workflows/ci.yml", INJECTION_LINE, "zizmor:template-injection") in found
    assert ("Dockerfile", 1, "hadolint:DL3007") in found


def test_a_file_name_cannot_hide_from_bandit(base_repo: GitRepo, cli: RunCli) -> None:
    # Bandit's default exclusions match substrings of the whole path (".git", "CVS", ".tox").
    for path in ("app/CVS_tools.py", "app/x.egg/run.py", "app/.tox_helpers.py"):
        base_repo.write(path, SHELL_PY)
    base_repo.commit("feature")

    _, report, err = review_json(cli, str(base_repo.root), "--base", "main", "--offline")

    assert analyzer(report, "bandit")["error"] is None, err
    for path in ("app/CVS_tools.py", "app/x.egg/run.py", "app/.tox_helpers.py"):
        assert (path, SHELL_LINE, "bandit:B602") in rules(report)


# --- 1. analyzer processes never see keys, tokens or the tree --------------------------------


def test_tool_env_is_an_allow_list(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from tokyo_cli.safety.isolation import git_env, tool_env

    environ = {
        "PATH": "/usr/bin",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TZ": "UTC",
        "TMPDIR": "/tmp",
        "HOME": "/home/me",
        "XDG_CONFIG_HOME": "/home/me/.config",
        "OPENAI_API_KEY": PROVIDER_KEY,
        "ANTHROPIC_API_KEY": "x",
        "GITHUB_TOKEN": GITHUB_KEY,
        "GH_TOKEN": "y",
        "AWS_SECRET_ACCESS_KEY": "z",
        "TOKYO_API_BASE": "http://x",
        "PYTHONPATH": "/repo",
        "PYTHONSTARTUP": "/repo/x.py",
        "PYTHONHOME": "/repo",
        "ZIZMOR_CONFIG": "/repo/z.yml",
        "HADOLINT_IGNORE": "DL3007",
        "LD_PRELOAD": "/repo/x.so",
        "GIT_INDEX_FILE": "/repo/.git/index.lock",
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    env = tool_env(tmp_path, environ=environ, extra={"X_EXTRA": "1"})
    assert env == {
        "PATH": "/usr/bin",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TZ": "UTC",
        "TMPDIR": "/tmp",
        "HOME": str(tmp_path),
        "X_EXTRA": "1",
    }
    genv = git_env(environ=environ)
    assert genv == {
        "PATH": "/usr/bin",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TZ": "UTC",
        "TMPDIR": "/tmp",
        "HOME": "/home/me",
        "XDG_CONFIG_HOME": "/home/me/.config",
        "GIT_INDEX_FILE": "/repo/.git/index.lock",
        "GIT_CONFIG_NOSYSTEM": "1",
    }


def test_a_tool_process_sees_no_key_no_home_and_an_empty_working_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tokyo_cli.safety.isolation import python_command, run_isolated

    assert python_command("bandit") == [sys.executable, "-I", "-m", "bandit"]

    monkeypatch.setenv("OPENAI_API_KEY", PROVIDER_KEY)
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB_KEY)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    (tmp_path / "json.py").write_text(planted(tmp_path / "marker"), encoding="utf-8")
    probe = (
        "import json, os, sys; print(json.dumps({'env': dict(os.environ), 'cwd': os.getcwd(), "
        "'listing': os.listdir('.'), 'home': os.listdir(os.environ['HOME']), 'path': sys.path, "
        "'isolated': sys.flags.isolated}))"
    )
    proc = run_isolated([sys.executable, "-I", "-c", probe], timeout_s=30)
    seen = json.loads(proc.stdout)
    assert not (tmp_path / "marker").exists()
    assert PROVIDER_KEY not in proc.stdout.decode() and GITHUB_KEY not in proc.stdout.decode()
    assert not {"OPENAI_API_KEY", "GITHUB_TOKEN", "PYTHONPATH"} & set(seen["env"])
    assert seen["listing"] == [] and seen["home"] == []
    assert seen["env"]["HOME"] != os.environ["HOME"]
    assert seen["isolated"] == 1 and str(tmp_path) not in seen["path"] and "" not in seen["path"]


def test_every_process_of_a_review_runs_without_keys_and_outside_the_tree(
    base_repo: GitRepo,
    cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    base_repo.write("app/core.py", SHELL_PY)
    base_repo.write("app/a.py", CYCLE_A_NEW)
    base_repo.write("app/b.py", CYCLE_B)
    base_repo.write(".github/workflows/ci.yml", WORKFLOW)
    base_repo.write("Dockerfile", "FROM python:latest\nUSER 1000\n")
    base_repo.commit("feature")
    for name, value in {
        "OPENAI_API_KEY": PROVIDER_KEY,
        "ANTHROPIC_API_KEY": PROVIDER_KEY,
        "GITHUB_TOKEN": GITHUB_KEY,
        "PYTHONPATH": str(base_repo.root),
        "PYTHONSTARTUP": str(base_repo.root / "app" / "core.py"),
    }.items():
        monkeypatch.setenv(name, value)
    calls: list[dict[str, Any]] = []
    real = subprocess.run

    def run(cmd: Any, *args: Any, **kwargs: Any) -> Any:
        cwd = kwargs.get("cwd")
        calls.append(
            {
                "cmd": [str(c) for c in cmd],
                "cwd": cwd,
                "env": kwargs.get("env"),
                "cwd_empty": cwd is not None and not any(Path(cwd).iterdir()),
            }
        )
        return real(cmd, *args, **kwargs)

    monkeypatch.setattr(subprocess, "run", run)

    _, report, err = review_json(cli, str(base_repo.root), "--base", "main", "--offline")

    monkeypatch.setattr(subprocess, "run", real)
    found = rules(report)
    assert {
        ("app/core.py", SHELL_LINE, "bandit:B602"),
        ("app/a.py", 2, "grimp:import-cycle"),
        (".github/workflows/ci.yml", INJECTION_LINE, "zizmor:template-injection"),
        ("Dockerfile", 1, "hadolint:DL3007"),
    } <= found, err
    tools = {"bandit": False, "grimp": False, "zizmor": False, "hadolint": False, "git": False}
    for call in calls:
        text = " ".join(call["cmd"])
        assert call["env"] is not None, text
        assert not {"OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GITHUB_TOKEN", "PYTHONPATH", "PYTHONSTARTUP"} & set(
            call["env"]
        ), text
        assert PROVIDER_KEY not in text and GITHUB_KEY not in text
        if Path(call["cmd"][0]).name.startswith("git"):
            tools["git"] = True
            assert Path(call["cwd"]).resolve() == base_repo.root.resolve()
            continue
        assert call["cwd_empty"], text  # a fresh empty directory, never the copied tree
        assert call["env"]["HOME"] != os.environ["HOME"]
        if call["cmd"][0] == sys.executable:
            assert call["cmd"][1] == "-I", text
        for tool in tools:
            if tool in text:
                tools[tool] = True
    assert all(tools.values()), tools


# --- 3. no environment from the repository ---------------------------------------------------

RUNNER = """
import json, os, sys
sys.path.insert(0, {sp!r})
from tokyo_cli.cli.app import main
try:
    main(sys.argv[1:])
finally:
    mod = sys.modules.get("litellm")
    with open({dump!r}, "w") as fh:
        json.dump({{"env": sorted(os.environ), "litellm": getattr(mod, "__file__", None)}}, fh)
"""


@pytest.mark.slow
@pytest.mark.parametrize("how", ["venv-in-repo", "started-in-repo"])
def test_a_committed_dotenv_never_redirects_the_provider(
    how: str, git_repo: GitRepo, tmp_path: Path, fake_provider: FakeProvider
) -> None:
    """The README's setup puts the virtualenv inside the repository: litellm's import-time
    ``load_dotenv()`` searches upward from its install folder (or, from ``python -c``, from the
    current directory) and would find the repository's ``.env``."""
    with FakeProvider.start() as attacker:
        git_repo.write("app.py", SAFE_PY)
        git_repo.write(".gitignore", ".venv/\n")
        git_repo.write(".env", f"OPENAI_BASE_URL={attacker.url}\nDOTENV_CANARY=planted\n")
        git_repo.commit("base")
        git_repo.write("app.py", SHELL_PY)
        # repo/.venv/sp/litellm -> the installed litellm (dotenv walks up the path as imported).
        spec = importlib.util.find_spec("litellm")
        assert spec is not None and spec.submodule_search_locations
        sp = git_repo.root / ".venv" / "sp"
        sp.mkdir(parents=True)
        (sp / "litellm").symlink_to(Path(list(spec.submodule_search_locations)[0]), target_is_directory=True)
        dump = tmp_path / "dump.json"
        runner = RUNNER.format(sp=str(sp), dump=str(dump))
        args = [
            "review",
            str(git_repo.root),
            "--working",
            "-w",
            "security",
            "-m",
            "gpt-4o-mini",
            "--db",
            str(tmp_path / "h.db"),
            "-f",
            "json",
            "-q",
        ]
        env = {**os.environ, "OPENAI_API_KEY": PROVIDER_KEY, "OPENAI_API_BASE": fake_provider.url}
        if how == "venv-in-repo":
            script = tmp_path / "run_tokyo.py"
            script.write_text(runner, encoding="utf-8")
            cmd, cwd = [sys.executable, str(script), *args], tmp_path
        else:
            cmd, cwd = [sys.executable, "-c", runner, *args], git_repo.root

        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, timeout=120, check=False)

        seen = json.loads(dump.read_text(encoding="utf-8"))
        assert seen["litellm"].startswith(str(sp)), seen  # the attack's setup really happened
        assert attacker.requests == [], "the repository's .env redirected the provider"
        assert "DOTENV_CANARY" not in seen["env"] and "OPENAI_BASE_URL" not in seen["env"]
        assert fake_provider.requests, proc.stderr.decode(errors="replace")[-2000:]
        report = json.loads(proc.stdout)
        assert report["steps"][0]["status"] == "ok"


# --- 6. symlinks are listed, never followed ------------------------------------------------

CANARY = "CANARY-OUTSIDE-9c1e77"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """Files outside the repository that a symlink could point at, each carrying CANARY."""
    root = tmp_path / "outside"
    (root / "dir").mkdir(parents=True)
    (root / "outside-secret.txt").write_text(f"password = {CANARY}\n", encoding="utf-8")
    (root / "dir" / "mod.py").write_text(
        f'import subprocess\nsubprocess.call("echo {CANARY}", shell=True)\n', encoding="utf-8"
    )
    (root / "README.md").write_text(f"# Outside\n\nSet `CANARY_SETTING` ({CANARY}).\n", encoding="utf-8")
    return root


def _everything(cli: RunCli, fp: FakeProvider, root: Path, *target: str) -> tuple[dict[str, Any], str]:
    """Review ``root`` in every report format (online, against ``fp``); the JSON report and
    every output, history byte and provider request as one text."""
    texts = []
    report: dict[str, Any] = {}
    for fmt in ("json", "markdown", "sarif", "terminal"):
        code, out, err = cli("review", str(root), *target, "--api-base", fp.url, "-f", fmt, "-q")
        assert code in (0, 1), err
        texts += [out, err]
        if fmt == "json":
            report = json.loads(out)
    home = Path(os.environ["TOKYO_HOME"])
    texts += [p.read_bytes().decode("utf-8", errors="replace") for p in home.glob("history.db*")]
    texts += [json.dumps(body) for body, _ in fp.requests]
    return report, "\n".join(texts)


def test_committed_symlinks_out_of_the_repository_are_listed_not_followed(
    git_repo: GitRepo,
    outside: Path,
    cli: RunCli,
    fake_provider: FakeProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", PROVIDER_KEY)
    git_repo.write("app.py", SHELL_PY)
    (git_repo.root / "notes.txt").symlink_to(outside / "outside-secret.txt")
    (git_repo.root / "rel.txt").symlink_to(os.path.relpath(outside / "outside-secret.txt", git_repo.root))
    (git_repo.root / "linked").symlink_to(outside / "dir", target_is_directory=True)
    git_repo.commit("base")

    report, everything = _everything(cli, fake_provider, git_repo.root, "--all")

    assert CANARY not in everything
    assert reasons(report) == {"app.py": None, "notes.txt": "symlink", "rel.txt": "symlink", "linked": "symlink"}
    assert ("app.py", SHELL_LINE, "bandit:B602") in rules(report)
    assert fake_provider.requests


@pytest.mark.parametrize("target", ["--working", "--staged"])
def test_new_symlinks_in_a_working_or_staged_review_are_listed_not_followed(
    target: str,
    git_repo: GitRepo,
    outside: Path,
    cli: RunCli,
    fake_provider: FakeProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", PROVIDER_KEY)
    git_repo.write("app.py", SAFE_PY)
    git_repo.commit("base")
    git_repo.write("app.py", SHELL_PY)
    (git_repo.root / "notes.txt").symlink_to(outside / "outside-secret.txt")
    (git_repo.root / "linked").symlink_to(outside / "dir", target_is_directory=True)
    git_repo.stage()

    report, everything = _everything(cli, fake_provider, git_repo.root, target)

    assert CANARY not in everything
    assert reasons(report) == {"app.py": None, "notes.txt": "symlink", "linked": "symlink"}
    assert ("app.py", SHELL_LINE, "bandit:B602") in rules(report)


def test_a_tracked_file_below_a_symlinked_directory_is_never_read(
    git_repo: GitRepo,
    outside: Path,
    cli: RunCli,
    fake_provider: FakeProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The index still lists ``pkg/mod.py`` while the working tree's ``pkg`` became a symlink
    to a directory outside: a whole-tree audit reads the working tree and must not go
    through it."""
    monkeypatch.setenv("OPENAI_API_KEY", PROVIDER_KEY)
    git_repo.write("app.py", SHELL_PY)
    git_repo.write("pkg/mod.py", "VALUE = 1\n")
    git_repo.commit("base")
    (git_repo.root / "pkg" / "mod.py").unlink()
    (git_repo.root / "pkg").rmdir()
    (git_repo.root / "pkg").symlink_to(outside / "dir", target_is_directory=True)

    report, everything = _everything(cli, fake_provider, git_repo.root, "--all")

    assert CANARY not in everything
    assert reasons(report) == {"app.py": None, "pkg/mod.py": "symlink"}
    assert ("app.py", SHELL_LINE, "bandit:B602") in rules(report)


def test_analyzers_never_read_an_unchanged_symlink_of_the_tree(
    git_repo: GitRepo,
    outside: Path,
    cli: RunCli,
) -> None:
    """A working-tree review reads unchanged files of the tree too (the README for
    readme-mentions, packages for the import graph): a symlinked README or module is never
    read, so what lies outside cannot change (or leak through) a finding."""
    (git_repo.root / "README.md").symlink_to(outside / "README.md")
    git_repo.write("app/__init__.py", "")
    git_repo.write("app/a.py", CYCLE_A_OLD)
    (git_repo.root / "app" / "b.py").symlink_to(outside / "b.py")
    (outside / "b.py").write_text(CYCLE_B, encoding="utf-8")
    git_repo.write("app/settings.py", '"""Settings."""\nimport os\n\nHOME = os.environ.get("APP_HOME")\n')
    git_repo.commit("base")
    git_repo.write("app/a.py", CYCLE_A_NEW)  # would close a cycle through the outside b.py
    git_repo.write(
        "app/settings.py",
        '"""Settings."""\nimport os\n\nHOME = os.environ.get("APP_HOME")\nMODE = os.environ.get("CANARY_SETTING")\n',
    )

    _, report, err = review_json(cli, str(git_repo.root), "--working", "--offline")

    assert analyzer(report, "readme-mentions")["error"] is None, err
    assert analyzer(report, "import-cycles")["error"] is None, err
    found = rules(report)
    # The outside README mentions CANARY_SETTING: had it been read, this finding would vanish.
    assert ("app/settings.py", 5, "readme-mentions:env") in found
    assert not any(rule == "grimp:import-cycle" for _, _, rule in found)
    assert CANARY not in json.dumps(report)


def test_tools_are_never_looked_up_in_a_relative_path_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tokyo_cli.analyzers.common import find_tool

    tool = tmp_path / "tokyo-test-tool"
    tool.write_text("#!/bin/sh\necho planted\n", encoding="utf-8")
    tool.chmod(0o755)
    monkeypatch.chdir(tmp_path)  # tokyo started inside the reviewed repository
    monkeypatch.setenv("PATH", os.pathsep.join([".", "", os.environ.get("PATH", "")]))
    assert find_tool("tokyo-test-tool") is None
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_tool("tokyo-test-tool") == str(tool)


@pytest.mark.parametrize("by_helper", [False, True], ids=["in-process", "helper-process"])
def test_the_copy_for_analyzer_tools_never_writes_outside_its_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, by_helper: bool
) -> None:
    """Both ways of writing the copy (here, or by one helper process for many files) write the
    same files and nothing outside it."""
    from types import SimpleNamespace

    from tokyo_cli.analyzers import common
    from tokyo_cli.analyzers.common import inside, write_files

    helper_runs: list[int] = []
    real_helper = common._write_by_helper

    def helper(jobs: list[tuple[str, str, bytes]]) -> bool:
        helper_runs.append(len(jobs))
        return real_helper(jobs)

    monkeypatch.setattr(common, "_write_by_helper", helper)
    monkeypatch.setattr(common, "WRITER_MIN_FILES", 1 if by_helper else 10_000)

    base = str(tmp_path / "copy")
    for escaping in ("../x.py", "a/../../x.py", "/etc/x.py", "..", ".", "a/.."):
        assert inside(base, escaping) is None, escaping
    assert inside(base, "a/./b.py") == os.path.join(base, "a", "b.py")
    content = {
        "../outside.py": b"x = 1\n",
        "a/../../outside2.py": b"x = 2\n",
        "pkg/ok.py": b"x = 3\n",
        "pkg/sub/ok2.py": b"x = 4\n",
    }
    changeset = SimpleNamespace(new_bytes=content.get)
    (tmp_path / "copy").mkdir()
    assert write_files(tmp_path / "copy", changeset, list(content)) == ["pkg/ok.py", "pkg/sub/ok2.py"]  # type: ignore[arg-type]
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.py")) == [
        "copy/pkg/ok.py",
        "copy/pkg/sub/ok2.py",
    ]
    assert (tmp_path / "copy/pkg/sub/ok2.py").read_bytes() == b"x = 4\n"
    assert helper_runs == ([2] if by_helper else [])
