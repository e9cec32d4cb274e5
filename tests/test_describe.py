"""``task: describe`` and ``tokyo describe``: the walkthrough offline (from the change alone,
checked against ``git diff --numstat``) and with the fake provider scripted for the describe
call; every format, history, ``tokyo review --describe`` and the fake GitHub's summary comment."""

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
DESCRIBE_MATCH = "You write the walkthrough of a change"


@pytest.fixture
def change(git_repo: GitRepo) -> GitRepo:
    """main: five files; feature: one added, one modified, one deleted, one renamed (moved),
    a binary changed, a test added."""
    git_repo.write("src/app.py", "def f():\n    return 1\n")
    git_repo.write("src/old_name.py", "".join(f"line_{i} = {i}\n" for i in range(40)))
    git_repo.write("README.md", "# App\n")
    git_repo.write("gone.txt", "bye\nbye\n")
    git_repo.write("logo.png", b"\x89PNG\r\n\x1a\n\x00\x00one")
    git_repo.commit("base")
    git_repo.checkout_branch("feature")
    git_repo.write("src/app.py", "def f():\n    return 2\n\n\ndef g():\n    return 3\n")
    git_repo.move("src/old_name.py", "lib/new_name.py")
    git_repo.write("lib/new_name.py", git_repo.read("lib/new_name.py") + "extra = 1\n")
    git_repo.delete("gone.txt")
    git_repo.write("logo.png", b"\x89PNG\r\n\x1a\n\x00\x00two")
    git_repo.write("tests/test_app.py", "from src.app import g\n\n\ndef test_g():\n    assert g() == 3\n")
    git_repo.write(".github/workflows/ci.yml", "on: push\n")
    git_repo.commit("feature")
    return git_repo


def numstat(repo: GitRepo) -> dict[str, tuple[int, int]]:
    """``git diff --numstat -M main...HEAD``: path -> (added, removed), binary as (0, 0)."""
    out: dict[str, tuple[int, int]] = {}
    text = repo.git("diff", "--numstat", "-M", "main...HEAD")
    for line in text.splitlines():
        added, removed, path = line.split("\t", 2)
        if " => " in path:  # a rename: "{src => lib}/..." or "old => new"
            path = _renamed(path)
        out[path] = (int(added) if added != "-" else 0, int(removed) if removed != "-" else 0)
    return out


def _renamed(text: str) -> str:
    if "{" in text:
        head, rest = text.split("{", 1)
        inner, tail = rest.split("}", 1)
        return (head + inner.split(" => ")[1] + tail).replace("//", "/")
    return text.split(" => ")[1]


def test_offline_describe_gives_the_change_file_table_in_every_format(change: GitRepo, cli: RunCli) -> None:
    code, out, err = cli("describe", str(change.root), "--base", "main", "--offline", "-f", "json", "-q")
    assert code == 0, err
    doc = json.loads(out)
    table = {f["path"]: f for f in doc["files"]}
    assert {p: (f["added"], f["removed"]) for p, f in table.items()} == numstat(change)
    assert table["lib/new_name.py"]["status"] == "renamed"
    assert table["lib/new_name.py"]["old_path"] == "src/old_name.py"
    assert (table["gone.txt"]["status"], table["tests/test_app.py"]["status"]) == ("deleted", "added")
    assert table["src/app.py"]["status"] == "modified" and table["src/app.py"]["language"] == "python"
    assert table["logo.png"]["skipped"] == "binary"
    assert doc["tests_touched"] == ["tests/test_app.py"] and table["tests/test_app.py"]["test"] is True
    assert doc["source"] == "offline"
    assert "1 renamed" in doc["overview"] and "src/old_name.py -> lib/new_name.py" in doc["overview"]
    assert any(r.startswith("CI and release automation: .github/workflows/ci.yml") for r in doc["risk_areas"])
    assert (doc["added"], doc["removed"]) == (
        sum(a for a, _ in numstat(change).values()),
        sum(r for _, r in numstat(change).values()),
    )

    code, md, _ = cli("describe", str(change.root), "--base", "main", "--offline", "-f", "markdown", "-q")
    assert code == 0 and md.startswith("## Walkthrough: ")
    assert "| `lib/new_name.py` | renamed from src/old_name.py | 1 | 0 | python |" in md
    code, text, _ = cli("describe", str(change.root), "--base", "main", "--offline", "-q")
    assert code == 0 and "Walkthrough:" in text and "lib/new_name.py" in text and "renamed from" in text


def test_describe_with_a_model_and_history(change: GitRepo, cli: RunCli, fake_provider: FakeProvider) -> None:
    fake_provider.script(DESCRIBE_MATCH, "Here is my walkthrough!", times=1)  # repaired once
    fake_provider.script(
        DESCRIBE_MATCH,
        {
            "title": "Add g() and move the constants to lib/",
            "description": "Adds `g()` with a test.\n\nMoves the constants module.",
            "overview": "Adds g(), moves a module, drops gone.txt.",
            "files": [
                {"path": "src/app.py", "summary": "f returns 2; new g()"},
                {"path": "invented.py", "summary": "a file the model made up"},
            ],
            "risk_areas": ["f() now returns 2: callers may rely on 1"],
        },
    )
    code, out, err = cli(
        "describe", str(change.root), "--base", "main", "--api-base", fake_provider.url, "-f", "json", "-q"
    )
    assert code == 0, err
    doc = json.loads(out)
    assert (doc["source"], doc["agent"], doc["title"]) == ("model", "kenji", "Add g() and move the constants to lib/")
    table = {f["path"]: f for f in doc["files"]}
    assert table["src/app.py"]["summary"] == "f returns 2; new g()"
    assert "invented.py" not in table  # the file table is the change's own
    assert {p: (f["added"], f["removed"]) for p, f in table.items()} == numstat(change)
    assert doc["risk_areas"] == ["f() now returns 2: callers may rely on 1"]
    sent = message_text(fake_provider.requests[0][0])
    assert '"path": "lib/new_name.py"' in sent and "return 2" in sent  # the table and the diff
    assert len(fake_provider.requests) == 2  # one describe call and its repair

    code, out, _ = cli("history", "--json")
    run_id = json.loads(out)[0]["id"]
    code, md, _ = cli("show", str(run_id), "-f", "markdown")
    assert "### Walkthrough: Add g() and move the constants to lib/" in md
    assert "**Suggested description:**" in md and "f returns 2; new g()" in md


def test_review_with_describe_adds_the_walkthrough_alongside(
    change: GitRepo, cli: RunCli, fake_provider: FakeProvider
) -> None:
    fake_provider.script(DESCRIBE_MATCH, {"title": "T", "overview": "O", "files": [], "risk_areas": []})
    code, out, _ = cli(
        "review",
        str(change.root),
        "--base",
        "main",
        "-w",
        "security",
        "--describe",
        "--api-base",
        fake_provider.url,
        "-f",
        "json",
        "-q",
    )
    doc = json.loads(out)
    assert [(s["id"], s["task"]) for s in doc["steps"]] == [("security", "review"), ("describe", "describe")]
    assert doc["walkthrough"]["title"] == "T" and len(doc["walkthrough"]["files"]) == 6
    code, out, _ = cli(
        "review",
        str(change.root),
        "--base",
        "main",
        "-w",
        "security",
        "--describe",
        "--offline",
        "-f",
        "markdown",
        "-q",
    )
    assert "### Walkthrough: " in out and "written offline" in out


def test_describe_in_the_github_summary_comment(
    change: GitRepo,
    cli: RunCli,
    fake_provider: FakeProvider,
    fake_github: FakeGitHub,
    action_env: dict[str, Path],  # noqa: F811
) -> None:
    base, head = change.git("rev-parse", "main").strip(), change.head()
    fake_github.set_pull(NUMBER, head, files_from_git(change.root, base, head))
    event(action_env["event"], action="opened", base=base, head=head)
    fake_provider.script(
        DESCRIBE_MATCH,
        {
            "title": "Add g() <img src=x onerror=alert(1)>",
            "overview": "Ping @octocat and see [x](javascript:alert(1)).",
            "files": [{"path": "src/app.py", "summary": "<!-- tokyo:summary --> new g()"}],
            "risk_areas": ["none"],
        },
    )
    code, _, err = cli(
        "review", str(change.root), "--github", "--describe", "-w", "security", "--api-base", fake_provider.url, "-q"
    )
    assert fake_github.violations == [], fake_github.violations
    (summary,) = fake_github.pull(NUMBER).issue_comments
    body = summary["body"]
    assert "### Walkthrough: Add g()" in body and "| `lib/new_name.py` | renamed from src/old_name.py |" in body
    # Model text is escaped: no HTML, no mention, no link, no second summary marker.
    assert "<img" not in body and "@octocat" not in body
    assert "\\[x](javascript:" in body and " [x](javascript:" not in body  # "[" escaped: no link
    assert body.count("<!-- tokyo:summary -->") == 1


def test_hostile_file_names_and_a_describe_reply_cannot_break_out(git_repo: GitRepo, cli: RunCli) -> None:
    git_repo.write("a.txt", "x\n")
    git_repo.commit("base")
    git_repo.write("evil|<b>x</b>`.py", "print(1)\n")
    code, md, _ = cli("describe", str(git_repo.root), "--working", "--offline", "-f", "markdown", "-q")
    row = next(line for line in md.splitlines() if line.startswith("| ``evil"))
    # The name is one code span (inert: "<b>" is shown, not rendered); its "|" adds no column.
    assert code == 0 and row.startswith("| ``evil\\|<b>x</b>`.py`` | added |")
    assert row.replace("\\|", "").count("|") == 8


def test_describe_reply_model_validates(tmp_path: Path) -> None:
    from tokyo_cli.engine.prompts import InvalidOutput, parse_output
    from tokyo_cli.engine.tasks.describe import DescribeOutput

    with pytest.raises(InvalidOutput, match="title"):
        parse_output('{"overview": "x"}', DescribeOutput)
    out = parse_output(
        '{"title": "t", "overview": "o", "files": [{"path": 3}, {"path": "a.py"}], "risk_areas": ["r", 4]}',
        DescribeOutput,
    )
    assert [f.path for f in out.files] == ["a.py"] and out.risk_areas == ["r"]
