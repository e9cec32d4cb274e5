"""Findings off the diff, end to end with the fake provider and the fake GitHub.

* a finding on an unchanged line of a changed file keeps its real line in SARIF and is listed
  in the review body as ``path:line`` ("Not on a changed line"), never as an inline comment;
* a finding on a file the pull request does not change is listed in the review body ("In a
  file this pull request does not change") and the job summary, and keeps its line in SARIF;
* a finding on a path that is no file of the repository is dropped.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import jsonschema

from fakes.github import FakeGitHub, files_from_git
from fakes.gitrepo import GitRepo
from fakes.provider import FakeProvider
from test_github_e2e import (  # noqa: F401 - action_env is a fixture
    BASE_SERVER,
    HEAD1_SERVER,
    NUMBER,
    SCHEMA,
    action_env,
    event,
    finding,
    line_of,
)

RunCli = Callable[..., tuple[int, str, str]]
CONFIG = "DEBUG = False\nTIMEOUT = 3600\nNAME = 'widgets'\n"


def test_findings_off_the_diff_keep_their_line_and_files_outside_it_reach_the_body(
    git_repo: GitRepo,
    fake_provider: FakeProvider,
    fake_github: FakeGitHub,
    action_env: dict[str, Path],
    cli: RunCli,
    tmp_path: Path,
) -> None:
    git_repo.write("src/app/server.py", BASE_SERVER)
    git_repo.write("src/app/config.py", CONFIG)
    base = git_repo.commit("base")
    git_repo.checkout_branch("feature")
    git_repo.write("src/app/server.py", HEAD1_SERVER)
    head = git_repo.commit("add run()")
    fake_github.set_pull(NUMBER, head, files_from_git(git_repo.root, base, head))
    event(action_env["event"], action="opened", base=base, head=head)
    retries = line_of(HEAD1_SERVER, "RETRIES = 3")
    fake_provider.script("Other agents reviewed the change", {"summary": "S.", "findings": []})
    fake_provider.script(
        "You are Akira",
        {
            "summary": "A.",
            "findings": [
                finding("src/app/server.py", line_of(HEAD1_SERVER, "shell=True"), "critical", "Shell injection"),
                finding("src/app/server.py", retries, "medium", "RETRIES is never used by run()"),
                finding("src/app/config.py", 2, "medium", "An hour-long TIMEOUT makes run() hang"),
                finding("src/app/ghost.py", 1, "high", "A file that does not exist"),
            ],
        },
    )
    sarif = tmp_path / "tokyo.sarif"

    code, out, err = cli(
        "review",
        str(git_repo.root),
        "--github",
        "--api-base",
        fake_provider.url,
        "-w",
        "security",
        "-f",
        "sarif",
        "-o",
        str(sarif),
        "-q",
    )

    assert code == 1, err
    review = next(r.body for r in fake_github.requests if r.method == "POST" and r.path.endswith("/reviews"))
    inline = [(c["path"], c["line"]) for c in review["comments"]]
    assert ("src/app/server.py", line_of(HEAD1_SERVER, "shell=True")) in inline
    assert all(path == "src/app/server.py" and line != retries for path, line in inline)
    body = review["body"]
    assert f"`src/app/server.py:{retries}`" in body and "RETRIES is never used" in body
    assert "Not on a changed line" in body
    assert "`src/app/config.py:2`" in body and "An hour-long TIMEOUT" in body
    assert "In a file this pull request does not change" in body
    assert "ghost.py" not in body and "ghost.py" not in out

    doc = json.loads(sarif.read_text(encoding="utf-8"))
    assert not list(jsonschema.Draft4Validator(json.loads(SCHEMA.read_text())).iter_errors(doc))
    by_title = {r["message"]["text"].split("\n")[0]: r for r in doc["runs"][0]["results"]}
    for title, path, line in (
        ("RETRIES is never used by run()", "src/app/server.py", retries),
        ("An hour-long TIMEOUT makes run() hang", "src/app/config.py", 2),
    ):
        result = by_title[title]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == path
        assert location["region"] == {"startLine": line}
        assert result["properties"]["fileLevel"] is False and result["properties"]["onChangedLine"] is False
    assert by_title["Shell injection"]["properties"]["onChangedLine"] is True
    assert not [t for t in by_title if "does not exist" in t]

    job_summary = action_env["summary"].read_text(encoding="utf-8")
    assert "src/app/config.py" in job_summary and "An hour-long TIMEOUT" in job_summary
