"""Every offline analyzer on small real repositories, three ways each:

1. a change that introduces the problem is flagged on the right line with the right rule;
2. the same code already committed before the change is not flagged by a change review (an
   unrelated edit to the same file leaves it alone) — but a whole-tree audit does flag it;
3. a clean change of the same kind gives no finding at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from fakes.gitrepo import GitRepo
from tokyo_cli.analyzers import AnalyzerRun, run_analyzers
from tokyo_cli.git.repo import load_changeset, resolve_target


@dataclass
class Case:
    analyzer: str
    path: str
    bad: str  # new content of ``path`` that introduces the problem
    line: int | None  # where the finding must sit (None: file-level)
    rule: str
    clean: str  # new content of ``path`` that changes it cleanly
    before: dict[str, str] = field(default_factory=dict)  # committed first (may include ``path``)
    also: dict[str, str] = field(default_factory=dict)  # other files changed with ``bad``/``clean``


def _tail(path: str) -> str:
    """An unrelated edit for ``path``'s kind of file."""
    if path.endswith(".md"):
        return "\nOne more unrelated paragraph.\n"
    if path.endswith(".toml"):
        return "\n# unrelated comment\n"
    return "\n# unrelated comment\n"


BRANCHY = (
    "def route(kind, x):\n"
    + "".join(f"    if kind == {i}:\n        return x + {i}\n" for i in range(11))
    + "    return x\n"
)
LONG = "".join(f"VALUE_{i} = {i}\n" for i in range(399))
SETTINGS_BASE = (
    'import os\n\n\ndef home():\n    """Where data lives."""\n    return os.environ.get(\'APP_HOME\', \'/tmp\')\n'
)
README = "# app\n\n## Usage\n\nSet `APP_HOME` to choose the data directory.\n\n## Install\n\npip install app\n"
WORKFLOW_OK = """name: ci
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
      - run: make test
"""
DOCKER_OK = 'FROM python:3.12-slim\nRUN pip install --no-cache-dir flask==3.0.0\nUSER 1000\nCMD ["flask", "run"]\n'
CALC = 'def add(a, b):\n    """Sum."""\n    return a + b\n'
TEXT = (
    'def shout(s):\n    """Upper case."""\n    return s.upper()\n\n\n'
    'def whisper(s):\n    """Lower case."""\n    return s.lower()\n'
)
TEST_CALC = (
    "from app.calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n\n\n"
    "def test_add_negative():\n    assert add(-1, 1) == 0\n"
)

CASES = {
    "bandit": Case(
        "bandit",
        "app/run.py",
        "import subprocess\n\n\ndef go(cmd):\n    return subprocess.call(cmd, shell=True)\n",
        5,
        "bandit:B602",
        "import subprocess\n\n\ndef go(cmd):\n    return subprocess.call(['/bin/ls', '-l'])\n",
    ),
    "detect-secrets": Case(
        "detect-secrets",
        "app/settings.py",
        'DEBUG = False\nAWS_ACCESS_KEY_ID = "AKIAQYLPMN5HHHFPZAM2"\n',
        2,
        "detect-secrets:AWSKeyDetector",
        'DEBUG = False\nAWS_ACCESS_KEY_ID = os.environ["AWS_ACCESS_KEY_ID"]\n',
        before={"app/settings.py": "DEBUG = False\n"},
    ),
    "test-gaps:untested": Case(
        "test-gaps",
        "app/calc.py",
        CALC + '\n\ndef divide(a, b):\n    """Quotient."""\n    return a / b\n',
        6,
        "test-gaps:untested",
        CALC + '\n\ndef divide(a, b):\n    """Quotient."""\n    return a / b\n',
        before={"app/__init__.py": "", "app/calc.py": CALC, "tests/test_calc.py": TEST_CALC},
    ),
    "test-gaps:skipped": Case(
        "test-gaps",
        "tests/test_calc.py",
        TEST_CALC.replace("\n\ndef test_add_negative", "\n\n@pytest.mark.skip\ndef test_add_negative"),
        8,
        "test-gaps:skipped",
        TEST_CALC + "\n\ndef test_add_zero():\n    assert add(0, 0) == 0\n",
        before={"app/calc.py": CALC, "tests/test_calc.py": TEST_CALC},
    ),
    "test-gaps:assertions": Case(
        "test-gaps",
        "tests/test_calc.py",
        TEST_CALC.replace("    assert add(-1, 1) == 0\n", "    add(-1, 1)\n"),
        9,
        "test-gaps:assertions-removed",
        TEST_CALC.replace("assert add(-1, 1) == 0", "assert add(-1, 1) == 0, 'inverse'"),
        before={"app/calc.py": CALC, "tests/test_calc.py": TEST_CALC},
    ),
    "zizmor": Case(
        "zizmor",
        ".github/workflows/ci.yml",
        WORKFLOW_OK.replace(
            "      - run: make test\n", '      - run: echo "${{ github.event.head_commit.message }}"\n'
        ),
        14,
        "zizmor:template-injection",
        WORKFLOW_OK.replace("make test", "make test lint"),
        before={".github/workflows/ci.yml": WORKFLOW_OK},
    ),
    "hadolint": Case(
        "hadolint",
        "Dockerfile",
        DOCKER_OK.replace("python:3.12-slim", "python:latest"),
        1,
        "hadolint:DL3007",
        DOCKER_OK.replace("3.12-slim", "3.13-slim"),
        before={"Dockerfile": DOCKER_OK},
    ),
    "dockerfile:curl": Case(
        "dockerfile",
        "Dockerfile",
        DOCKER_OK.replace("USER 1000\n", "RUN curl -fsSL https://get.example.com/install.sh \\\n    | sh\nUSER 1000\n"),
        4,
        "dockerfile:curl-pipe-shell",
        DOCKER_OK.replace("USER 1000\n", "RUN curl -fsSLo /tmp/x.tgz https://example.com/x.tgz\nUSER 1000\n"),
        before={"Dockerfile": DOCKER_OK},
    ),
    "dockerfile:root": Case(
        "dockerfile",
        "Dockerfile",
        DOCKER_OK.replace("USER 1000\n", ""),
        3,
        "dockerfile:root-user",
        DOCKER_OK.replace("USER 1000", "USER 1001"),
        before={"Dockerfile": DOCKER_OK},
    ),
    "config-syntax:yaml": Case(
        "config-syntax",
        "deploy/values.yaml",
        'replicas: 2\nimage:\n  tag: "1.2\nport: 80\n',
        3,
        "config-syntax:yaml",
        'replicas: 3\nimage:\n  tag: "1.2"\nport: 80\n',
        before={"deploy/values.yaml": 'replicas: 2\nimage:\n  tag: "1.2"\nport: 80\n'},
    ),
    "config-syntax:toml": Case(
        "config-syntax",
        "pyproject.toml",
        '[project]\nname = "app\nversion = "1.0"\n',
        2,
        "config-syntax:toml",
        '[project]\nname = "app"\nversion = "1.1"\n',
        before={"pyproject.toml": '[project]\nname = "app"\nversion = "1.0"\n'},
    ),
    "docstrings": Case(
        "docstrings",
        "app/calc.py",
        CALC + "\n\ndef mul(a, b):\n    return a * b\n",
        6,
        "docstrings:missing",
        CALC + '\n\ndef mul(a, b):\n    """Product."""\n    return a * b\n',
        # a package that documents most of its API (3 of 4 with mul): mul breaks the habit
        before={"app/calc.py": CALC, "app/text.py": TEXT},
    ),
    "readme-mentions": Case(
        "readme-mentions",
        "app/settings.py",
        SETTINGS_BASE + '\n\ndef token():\n    """API token."""\n    return os.getenv(\'APP_TOKEN\')\n',
        11,
        "readme-mentions:env",
        SETTINGS_BASE.replace("'/tmp'", "'/var/tmp'"),
        before={"README.md": README, "app/settings.py": SETTINGS_BASE},
    ),
    "doc-links": Case(
        "doc-links",
        "docs/guide.md",
        "# Guide\n\nRead [usage](../README.md#usage).\nSee [setup](setup.md).\n",
        4,
        "doc-links:missing-file",
        "# Guide\n\nRead [usage](../README.md#usage).\nSee [install](../README.md#install).\n",
        before={"README.md": README, "docs/guide.md": "# Guide\n\nRead [usage](../README.md#usage).\n"},
    ),
    "doc-links:anchor": Case(
        "doc-links",
        "docs/guide.md",
        "# Guide\n\nRead [usage](../README.md#usage).\nSee [cfg](../README.md#configuration).\n",
        4,
        "doc-links:missing-anchor",
        "# Guide\n\nRead [usage](../README.md#usage).\nOr [top](#guide).\n",
        before={"README.md": README, "docs/guide.md": "# Guide\n\nRead [usage](../README.md#usage).\n"},
    ),
    "import-cycles": Case(
        "import-cycles",
        "app/models.py",
        'from app import services\n\n\nclass User:\n    """A user."""\n',
        1,
        "grimp:import-cycle",
        'import dataclasses\n\n\nclass User:\n    """A user."""\n',
        before={
            "app/__init__.py": "",
            "app/models.py": 'class User:\n    """A user."""\n',
            "app/services.py": "from app.models import User\n\n\ndef make():\n    return User()\n",
        },
    ),
    "complexity": Case(
        "complexity",
        "app/route.py",
        BRANCHY,
        1,
        "radon:CC",
        "def route(kind, x):\n    if kind == 1:\n        return x + 1\n    return x\n",
        before={"app/route.py": "def route(kind, x):\n    return x\n"},
    ),
    "module-size": Case(
        "module-size",
        "app/consts.py",
        LONG + "EXTRA_A = 1\nEXTRA_B = 2\n",
        401,
        "module-size:lines",
        LONG[:-12] + "VALUE_398 = 3980\n",
        before={"app/consts.py": LONG},
    ),
}

Run = Callable[..., AnalyzerRun]


def _setup(make_git_repo: Callable[..., GitRepo], name: str, files: dict[str, str]) -> GitRepo:
    repo = make_git_repo(name)
    repo.write("README.md", README)
    for path, text in files.items():
        repo.write(path, text)
    repo.commit("base")
    return repo


def _run(repo: GitRepo, analyzer: str, **target: bool) -> AnalyzerRun:
    cs = load_changeset(repo.root, resolve_target(repo.root, **(target or {"working": True})))
    [run] = run_analyzers([analyzer], cs, cs.reviewable(), agent="tester")
    assert run.error is None, run.error
    for f in run.findings:
        assert f.source == "analyzer" and f.agent == "tester" and f.rule and f.rule.split(":")[0]
        assert f.line is None or cs.is_anchor(f.path, f.line), f"{f.location} is not an anchor"
    return run


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_introduced_problem_is_flagged_on_its_line(case_id: str, make_git_repo: Callable[..., GitRepo]) -> None:
    case = CASES[case_id]
    repo = _setup(make_git_repo, "intro", case.before)
    repo.write(case.path, case.bad)
    for path, text in case.also.items():
        repo.write(path, text)
    run = _run(repo, case.analyzer)
    found = [(f.path, f.line, f.rule) for f in run.findings]
    assert (case.path, case.line, case.rule) in found, found


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_old_debt_is_not_flagged_by_a_change_review(case_id: str, make_git_repo: Callable[..., GitRepo]) -> None:
    case = CASES[case_id]
    repo = _setup(make_git_repo, "debt", {**case.before, case.path: case.bad})
    repo.write(case.path, case.bad + _tail(case.path))
    run = _run(repo, case.analyzer)
    assert [f for f in run.findings if f.rule == case.rule] == []
    if case.rule.startswith(("test-gaps:skipped", "test-gaps:assertions", "dockerfile:root")):
        return  # "newly skipped", "removed", "removed USER" only exist relative to a change
    audit = _run(repo, case.analyzer, all_files=True)
    assert case.rule in {f.rule for f in audit.findings}, "a whole-tree audit reports the old problem"


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_clean_change_gives_nothing(case_id: str, make_git_repo: Callable[..., GitRepo]) -> None:
    case = CASES[case_id]
    repo = _setup(make_git_repo, "clean", case.before)
    repo.write(case.path, case.clean)
    run = _run(repo, case.analyzer)
    if case_id == "test-gaps:untested":  # the clean version of a new function comes with its test
        repo.write(
            "tests/test_calc.py",
            TEST_CALC + "\n\ndef test_divide():\n    from app.calc import divide\n    assert divide(6, 3) == 2\n",
        )
        run = _run(repo, case.analyzer)
    assert [(f.location, f.rule, f.title) for f in run.findings] == []


def test_detect_secrets_findings_are_cwe_798(make_git_repo: Callable[..., GitRepo]) -> None:
    case = CASES["detect-secrets"]
    repo = _setup(make_git_repo, "cwe", case.before)
    repo.write(case.path, case.bad)
    run = _run(repo, case.analyzer)
    assert [(f.rule, f.cwe) for f in run.findings] == [("detect-secrets:AWSKeyDetector", [798])]
