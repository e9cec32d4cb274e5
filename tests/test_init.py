"""``tokyo init``: what it writes is valid for tokyo, pre-commit and GitHub (actionlint,
zizmor), it never overwrites without --force, it adds to an existing pre-commit config
without breaking it, and it never writes through a symlink."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from conftest import RunCli
from fakes.gitrepo import GitRepo
from test_github_workflows import PINNED, actionlint, zizmor
from tokyo_cli import __version__
from tokyo_cli.config.repository import REPO_SETTINGS, load_repo_config
from tokyo_cli.config.scaffold import TEMPLATES

ROOT = Path(__file__).resolve().parent.parent
SHA = "89abcdef0123456789abcdef0123456789abcdef"
ACTION = f"acme/tokyo-cli@{SHA}"
FILES = [".tokyo.toml", "agents.yaml", ".github/workflows/tokyo-review.yml", ".pre-commit-config.yaml"]


@pytest.fixture
def repo(committed_repo: GitRepo) -> GitRepo:
    return committed_repo


def init(cli: RunCli, repo: GitRepo, *args: str) -> tuple[int, str, str]:
    code, out, err = cli("init", str(repo.root), *args)
    assert "Traceback" not in err
    return code, out, err


def test_init_writes_four_files_each_valid_where_it_is_read(cli: RunCli, repo: GitRepo, tmp_path: Path) -> None:
    code, out, err = init(cli, repo, "--action", ACTION)
    assert code == 0, err
    assert [ln.split()[:2] for ln in out.splitlines()[:4]] == [["create", f] for f in FILES]
    assert f"wrote 4 of 4 files in {repo.root.resolve()}" in out
    assert "placeholder" not in out

    settings = tomllib.loads(repo.read(".tokyo.toml"))
    assert settings == {"workflow": "review", "fail_on": "high"} and set(settings) <= REPO_SETTINGS
    # The same table as [tool.tokyo]: every key accepted under the repository rules.
    other = tmp_path / "other"
    other.mkdir()
    (other / "pyproject.toml").write_text("[tool.tokyo]\n" + repo.read(".tokyo.toml"), encoding="utf-8")
    cfg = load_repo_config(other)
    assert (cfg.settings["workflow"], cfg.settings["fail_on"].value, cfg.notices) == ("review", "high", [])

    from tokyo_cli.config.team import load_team

    team = load_team(repo.root)  # the overlay: valid, and it changes nothing
    assert team.notices == [] and list(team.agents) == list(load_team(None).agents)

    workflow = repo.read(".github/workflows/tokyo-review.yml")
    uses = [ln.split("uses: ", 1)[1] for ln in workflow.splitlines() if "uses: acme/" in ln]
    assert uses == [f"{ACTION} # v{__version__}"] * 2 and all(PINNED.match(u.split(" ")[0]) for u in uses)
    assert actionlint(workflow, "tokyo-review.yml") == []
    proc = subprocess.run(
        [
            zizmor(),
            "--offline",
            "--persona",
            "pedantic",
            "--format",
            "json",
            "--no-progress",
            str(repo.path(".github/workflows/tokyo-review.yml")),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0 and json.loads(proc.stdout) == [], proc.stdout + proc.stderr

    pre_commit = yaml.safe_load(repo.read(".pre-commit-config.yaml"))
    (entry,) = pre_commit["repos"]
    assert (entry["repo"], entry["rev"]) == ("https://github.com/acme/tokyo-cli", SHA)
    hook_ids = {h["id"] for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}
    assert [h["id"] for h in entry["hooks"]] == ["tokyo-review"] and "tokyo-review" in hook_ids
    proc = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-config", ".pre-commit-config.yaml"],
        cwd=repo.root,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_without_action_the_readme_placeholder_is_written_and_said(cli: RunCli, repo: GitRepo) -> None:
    code, out, _ = init(cli, repo)
    assert code == 0 and "OWNER/tokyo-cli@0123456789abcdef0123456789abcdef01234567 is a placeholder" in out
    assert f"OWNER/tokyo-cli@0123456789abcdef0123456789abcdef01234567 # v{__version__}" in repo.read(
        ".github/workflows/tokyo-review.yml"
    )


def test_the_workflow_template_is_the_readme_snippet() -> None:
    """One text: what the README tells users to copy is what tokyo init writes (and the README
    test lints it with actionlint and zizmor)."""
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("## GitHub Actions", 1)[1]
    snippet = section.split("```yaml\n", 1)[1].split("\n```", 1)[0]
    assert (TEMPLATES / "tokyo-review.yml").read_text(encoding="utf-8") == snippet + "\n"


def test_dry_run_prints_and_writes_nothing(cli: RunCli, repo: GitRepo) -> None:
    code, out, _ = init(cli, repo, "--dry-run", "--action", ACTION)
    assert code == 0 and "--dry-run: nothing written" in out
    assert "── .tokyo.toml (create) ──" in out and 'fail_on = "high"' in out
    assert repo.git("status", "--porcelain") == ""


def test_nothing_is_overwritten_without_force(cli: RunCli, repo: GitRepo) -> None:
    init(cli, repo, "--action", ACTION)
    repo.write(".tokyo.toml", 'fail_on = "critical"\n')
    before = {f: repo.read(f) for f in FILES}
    code, out, _ = init(cli, repo, "--action", ACTION)
    assert code == 0 and "wrote 0 of 4 files" in out
    assert "skip      .tokyo.toml" in out and "exists (--force overwrites it)" in out
    assert "already has a tokyo hook" in out
    assert {f: repo.read(f) for f in FILES} == before
    code, out, _ = init(cli, repo, "--action", ACTION, "--force")
    assert code == 0 and "wrote 3 of 4 files" in out
    assert 'fail_on = "high"' in repo.read(".tokyo.toml")
    assert repo.read(".pre-commit-config.yaml") == before[".pre-commit-config.yaml"]  # never a second hook


# -- [tool.tokyo] ---------------------------------------------------------------------------


def test_pyproject_gets_a_tool_tokyo_table_and_keeps_the_rest(cli: RunCli, repo: GitRepo) -> None:
    repo.write("pyproject.toml", '[project]\nname = "demo"\n\n[tool.ruff]\nline-length = 100\n')
    code, out, _ = init(cli, repo, "--pyproject", "--action", ACTION)
    assert code == 0 and "update    pyproject.toml" in out and not repo.path(".tokyo.toml").exists()
    doc = tomllib.loads(repo.read("pyproject.toml"))
    assert doc["project"] == {"name": "demo"} and doc["tool"]["ruff"] == {"line-length": 100}
    cfg = load_repo_config(repo.root)
    assert (cfg.settings["workflow"], cfg.settings["fail_on"].value, cfg.notices) == ("review", "high", [])


def test_force_replaces_only_the_tool_tokyo_table(cli: RunCli, repo: GitRepo) -> None:
    repo.write(
        "pyproject.toml",
        '[tool.tokyo]\nworkflow = "security"\n\n[tool.tokyo.extra]\nx = 1\n\n[tool.black]\nline-length = 88\n',
    )
    code, out, _ = init(cli, repo, "--pyproject")
    assert "already has [tool.tokyo] (--force replaces it)" in out
    code, out, _ = init(cli, repo, "--pyproject", "--force")
    doc = tomllib.loads(repo.read("pyproject.toml"))
    assert doc["tool"] == {"black": {"line-length": 88}, "tokyo": {"workflow": "review", "fail_on": "high"}}


def test_a_tool_tokyo_tokyo_cannot_replace_safely_is_left_alone(cli: RunCli, repo: GitRepo) -> None:
    text = 'tool.tokyo.workflow = "security"\n[project]\nname = "demo"\n'
    repo.write("pyproject.toml", text)
    code, out, _ = init(cli, repo, "--pyproject", "--force")
    assert code == 0 and "is not one plain table" in out
    assert repo.read("pyproject.toml") == text


# -- .pre-commit-config.yaml -------------------------------------------------------------------


@pytest.mark.parametrize(
    "existing",
    [
        "default_stages: [pre-commit]\nrepos:\n  - repo: local\n    hooks:\n      - id: lint\n        name: lint\n"
        "        entry: make lint\n        language: system\n\n# trailing comment\nci:\n  autofix_prs: false\n",
        "repos:\n- repo: https://github.com/psf/black\n  rev: 24.1.0\n  hooks:\n  - id: black\n",
        "repos:\n  - repo: meta\n    hooks:\n      - id: check-useless-excludes",  # no newline at the end
    ],
    ids=["indented-then-key", "unindented", "no-final-newline"],
)
def test_the_hook_is_added_to_an_existing_config(cli: RunCli, repo: GitRepo, existing: str) -> None:
    repo.write(".pre-commit-config.yaml", existing)
    old = yaml.safe_load(existing)
    code, out, _ = init(cli, repo, "--action", ACTION)
    assert code == 0 and "update    .pre-commit-config.yaml" in out
    new = yaml.safe_load(repo.read(".pre-commit-config.yaml"))
    assert new["repos"][:-1] == old["repos"]
    assert new["repos"][-1]["repo"] == "https://github.com/acme/tokyo-cli"
    assert {k: v for k, v in new.items() if k != "repos"} == {k: v for k, v in old.items() if k != "repos"}
    text = repo.read(".pre-commit-config.yaml")  # the entry inserted whole, nothing else rewritten
    first = text.rindex("\n", 0, text.index("# tokyo reviews what is committed")) + 1
    last = text.index("\n", text.index("# args: [--time-limit=30")) + 1
    assert text[:first] + text[last:] == existing + ("\n" if not existing.endswith("\n") else "")
    if "ci:" in existing:  # the comment before the next key stays with it
        assert text[last:] == "\n# trailing comment\nci:\n  autofix_prs: false\n"


@pytest.mark.parametrize(
    ("existing", "why"),
    [
        ("repos: [{repo: local, hooks: [{id: x, name: x, entry: x, language: system}]}]\n", "add the entry by hand"),
        ("repos:\n  - repo: local\n    hooks:\n  - : [\n", "invalid YAML"),
        ("ci: {}\n", "has no `repos:` list"),
        (
            "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
            + "".join(
                f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n" for p, c in zip("abcdefgh", "bcdefghi")
            )
            + "repos: []\n",
            "limit",
        ),
    ],
    ids=["flow-style", "invalid", "no-repos", "alias-bomb"],
)
def test_a_config_it_cannot_add_to_is_left_alone_with_the_reason(
    cli: RunCli, repo: GitRepo, existing: str, why: str
) -> None:
    repo.write(".pre-commit-config.yaml", existing)
    code, out, _ = init(cli, repo, "--action", ACTION)
    line = next(ln for ln in out.splitlines() if ".pre-commit-config.yaml" in ln)
    assert code == 0 and line.startswith("skip") and why in line, line
    assert repo.read(".pre-commit-config.yaml") == existing


# -- hostile and bad input ---------------------------------------------------------------------


def test_symlinks_are_never_written_through(cli: RunCli, repo: GitRepo, tmp_path: Path) -> None:
    outside_dir = tmp_path / "outside"
    outside_dir.mkdir()
    outside_file = tmp_path / "outside.yaml"
    outside_file.write_text("repos: []\n", encoding="utf-8")
    (repo.root / ".github").symlink_to(outside_dir, target_is_directory=True)
    (repo.root / ".pre-commit-config.yaml").symlink_to(outside_file)
    (repo.root / ".tokyo.toml").symlink_to(tmp_path / "missing.toml")  # a dangling link too
    code, out, _ = init(cli, repo, "--action", ACTION, "--force")
    assert code == 0 and "wrote 1 of 4 files" in out  # agents.yaml only
    for name in (".tokyo.toml", ".github/workflows/tokyo-review.yml", ".pre-commit-config.yaml"):
        assert any(
            ln.startswith("skip") and name in ln and "a symlink is never followed" in ln for ln in out.splitlines()
        ), name
    assert list(outside_dir.iterdir()) == [] and outside_file.read_text(encoding="utf-8") == "repos: []\n"
    assert not (tmp_path / "missing.toml").exists()


def test_bad_input_is_one_line_and_exit_2(cli: RunCli, repo: GitRepo, tmp_path: Path) -> None:
    code, out, err = init(cli, repo, "--action", "acme/tokyo-cli@v1.0")
    assert code == 2 and "expected OWNER/REPO@SHA with a full 40-character commit SHA" in err
    code, _, err = cli("init", str(tmp_path))
    assert code == 2 and "not a git repository" in err and "Traceback" not in err
