"""``tokyo fix`` and ``task: fix``: patches for findings, checked with ``git apply --check``,
applied unstaged or refused with the tree untouched; analyzer rewrites offline; a fix step's
patch as a GitHub suggestion; hostile patches refused."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from fakes.github import FakeGitHub, files_from_git
from fakes.gitrepo import GitRepo
from fakes.provider import FakeProvider, message_text
from test_github_e2e import NUMBER, action_env, event  # noqa: F401 - action_env is a fixture

RunCli = Callable[..., tuple[int, str, str]]
FIX_MATCH = "You fix one finding"

LOADER_OLD = "import yaml\n\n\ndef load(path):\n    return {}\n"
LOADER_NEW = "import yaml\n\n\ndef load(path):\n    with open(path) as f:\n        return yaml.load(f)\n"
APP_OLD = "def ratio(total, count):\n    return 0\n"
APP_NEW = "def ratio(total, count):\n    return total / count\n"
GOOD_PATCH = (
    "--- a/app.py\n+++ b/app.py\n@@ -1,2 +1,2 @@\n def ratio(total, count):\n"
    "-    return total / count\n+    return total / count if count else 0\n"
)
BAD_PATCH = (
    "--- a/app.py\n+++ b/app.py\n@@ -1,2 +1,2 @@\n def ratio(total, count):\n"
    "-    return total // count\n+    return 0\n"
)


def state(repo: GitRepo) -> tuple[str, str, str]:
    """What must not change when a patch is refused: the file, the index, the status."""
    return repo.read("app.py"), repo.git("diff", "--cached"), repo.git("status", "--porcelain")


@pytest.fixture
def reviewed(git_repo: GitRepo, cli: RunCli, fake_provider: FakeProvider) -> GitRepo:
    """A reviewed working change with one model finding (division by zero) in history."""
    git_repo.write("app.py", APP_OLD)
    git_repo.commit("base")
    git_repo.write("app.py", APP_NEW)
    fake_provider.script(
        "You are Akira",
        {
            "findings": [
                {
                    "path": "app.py",
                    "line": 2,
                    "severity": "high",
                    "category": "correctness",
                    "title": "Division by zero when count is 0",
                    "body": "count may be 0.",
                }
            ],
            "summary": "",
        },
    )
    code, out, err = cli(
        "review", str(git_repo.root), "-w", "security", "--api-base", fake_provider.url, "-q", "-f", "json"
    )
    assert code == 1, err
    fake_provider.reset()
    return git_repo


def test_offline_rewrite_yaml_load_to_safe_load(git_repo: GitRepo, cli: RunCli) -> None:
    git_repo.write("loader.py", LOADER_OLD)
    git_repo.commit("base")
    git_repo.write("loader.py", LOADER_NEW)
    code, out, _ = cli("review", str(git_repo.root), "-w", "security", "--offline", "-q", "-f", "json")
    (b506,) = [f for f in json.loads(out)["findings"] if f["rule"] == "bandit:B506"]

    code, patch, err = cli("fix", str(git_repo.root), "--fingerprint", b506["fingerprint"][:8], "--offline")
    assert code == 0, err
    assert "-        return yaml.load(f)\n+        return yaml.safe_load(f)\n" in patch
    assert "the analyzer's safe rewrite" in err
    assert git_repo.read("loader.py") == LOADER_NEW  # a dry run changes nothing

    code, _, err = cli("fix", str(git_repo.root), "--severity", "medium", "--agent", "akira", "--offline", "--apply")
    assert code == 0, err
    assert git_repo.read("loader.py") == LOADER_NEW.replace("yaml.load(f)", "yaml.safe_load(f)")
    assert git_repo.git("diff", "--cached") == ""  # unstaged


def test_a_patch_that_applies_is_applied_unstaged(reviewed: GitRepo, cli: RunCli, fake_provider: FakeProvider) -> None:
    fake_provider.script(FIX_MATCH, {"patch": GOOD_PATCH, "explanation": "guard count"})
    code, _, err = cli("fix", str(reviewed.root), "--apply", "--api-base", fake_provider.url)
    assert code == 0, err
    assert reviewed.read("app.py") == "def ratio(total, count):\n    return total / count if count else 0\n"
    assert reviewed.git("diff", "--cached") == "" and "applied 1 patch(es)" in err
    sent = message_text(fake_provider.requests[0][0])
    assert "Division by zero when count is 0" in sent and "2 |     return total / count" in sent


def test_a_patch_that_does_not_apply_is_refused_and_the_tree_is_untouched(
    reviewed: GitRepo, cli: RunCli, fake_provider: FakeProvider
) -> None:
    fake_provider.script(FIX_MATCH, {"patch": BAD_PATCH, "explanation": "wrong context"})
    before = state(reviewed)
    code, out, err = cli("fix", str(reviewed.root), "--apply", "--api-base", fake_provider.url)
    assert code == 3 and out == ""
    assert "the patch does not apply: error: app.py: patch does not apply" in err
    assert err.strip().splitlines()[-1] == "tokyo: error: no patch could be made for the chosen findings"
    assert state(reviewed) == before
    # One repair call, told why git refused the first patch.
    assert len(fake_provider.requests) == 2
    assert "the patch does not apply: error: app.py: patch does not apply" in message_text(fake_provider.requests[1][0])


def test_one_repair_call_fixes_a_patch_that_did_not_apply(
    reviewed: GitRepo, cli: RunCli, fake_provider: FakeProvider
) -> None:
    fake_provider.script(FIX_MATCH, {"patch": BAD_PATCH}, times=1)
    fake_provider.script(FIX_MATCH, {"patch": GOOD_PATCH})
    code, patch, err = cli("fix", str(reviewed.root), "--dry-run", "--api-base", fake_provider.url)
    assert (code, patch) == (0, GOOD_PATCH), err
    assert reviewed.read("app.py") == APP_NEW


@pytest.mark.parametrize(
    "patch, why",
    [
        ("--- a/../outside.py\n+++ b/../outside.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n", "outside the repository"),
        ("--- a/.git/config\n+++ b/.git/config\n@@ -1 +1 @@\n-[core]\n+[core] x\n", "git's own files"),
        ("--- a/link.py\n+++ b/link.py\n@@ -1 +1 @@\n-SECRET = 1\n+SECRET = 2\n", "a symlink"),
        ("diff --git a/app.py b/app.py\nold mode 100644\nnew mode 120000\n", "more than edit existing files"),
        ("--- /dev/null\n+++ b/.github/workflows/evil.yml\n@@ -0,0 +1 @@\n+on: push\n", "creates or deletes a file"),
    ],
)
def test_hostile_patches_are_refused(
    reviewed: GitRepo, cli: RunCli, fake_provider: FakeProvider, tmp_path: Path, patch: str, why: str
) -> None:
    outside = tmp_path / "outside.py"
    outside.write_text("SECRET = 1\n")
    (reviewed.root / "link.py").symlink_to(outside)
    fake_provider.script(FIX_MATCH, {"patch": patch})
    before = state(reviewed)
    code, out, err = cli("fix", str(reviewed.root), "--apply", "--api-base", fake_provider.url)
    assert code == 3 and why in err, err
    assert state(reviewed) == before and outside.read_text() == "SECRET = 1\n"  # ../outside.py is this file


def test_selection_errors_are_one_line(reviewed: GitRepo, cli: RunCli, git_repo: GitRepo) -> None:
    code, _, err = cli("fix", str(reviewed.root), "--severity", "critical")
    assert code == 2 and err.startswith("tokyo: error: no finding of run ") and len(err.splitlines()) == 1
    code, _, err = cli("fix", str(reviewed.root), "--severity", "severe")
    assert code == 2 and "not a severity" in err
    code, _, err = cli("fix", str(reviewed.root), "--apply", "--dry-run")
    assert code == 2 and "choose one" in err


def test_a_fix_step_stores_patches_and_github_gets_a_suggestion(
    git_repo: GitRepo,
    cli: RunCli,
    fake_provider: FakeProvider,
    fake_github: FakeGitHub,
    action_env: dict[str, Path],
    tmp_path: Path,  # noqa: F811
) -> None:
    git_repo.write("app.py", APP_OLD)
    base = git_repo.commit("base")
    git_repo.checkout_branch("feature")
    git_repo.write("app.py", APP_NEW)
    head = git_repo.commit("change")
    git_repo.write("app.py", "# the working tree differs: the step checks the commit\n" + APP_NEW)
    wf = tmp_path / "fixing.yaml"
    wf.write_text(
        "name: fixing\nsteps:\n  - {id: security, agent: akira}\n"
        "  - {id: fix, agent: akira, task: fix, depends_on: [security], min_severity: high}\n"
    )
    fake_github.set_pull(NUMBER, head, files_from_git(git_repo.root, base, head))
    event(action_env["event"], action="opened", base=base, head=head)
    fake_provider.script(FIX_MATCH, {"patch": GOOD_PATCH, "explanation": "guard"})
    fake_provider.script(
        "You are Akira",
        {
            "findings": [
                {
                    "path": "app.py",
                    "line": 2,
                    "severity": "high",
                    "category": "correctness",
                    "title": "Division by zero when count is 0",
                    "body": "count may be 0.",
                }
            ],
            "summary": "",
        },
    )
    code, _, err = cli("review", str(git_repo.root), "--github", "-w", str(wf), "--api-base", fake_provider.url, "-q")
    assert fake_github.violations == []
    (review,) = [r.body for r in fake_github.requests if r.method == "POST" and r.path.endswith("/reviews")]
    (comment,) = review["comments"]
    assert comment["line"] == 2 and "```suggestion\n    return total / count if count else 0\n```" in comment["body"]

    code, out, _ = cli("history", "--json")
    code, out, _ = cli("show", str(json.loads(out)[0]["id"]), "-f", "json")
    (stored,) = json.loads(out)["findings"]
    assert stored["patch"] == GOOD_PATCH
    step = next(s for s in json.loads(out)["steps"] if s["id"] == "fix")
    assert step["status"] == "ok" and step["summary"] == "Patches for 1 of 1 finding(s)."


def test_suggestion_of_a_patch() -> None:
    from tokyo_cli.engine.tasks.patches import suggestion

    assert suggestion(GOOD_PATCH) == ("app.py", 2, 2, "    return total / count if count else 0")
    insert = "--- a/a.py\n+++ b/a.py\n@@ -1,2 +1,3 @@\n x = 1\n+y = 2\n z = 3\n"
    assert suggestion(insert) == ("a.py", 1, 1, "x = 1\ny = 2")
    two = GOOD_PATCH + "@@ -10,1 +10,1 @@\n-a\n+b\n"
    assert suggestion(two) is None
