""".github/workflows/tokyo-audit.yml run locally: three matrix jobs run action.yml in audit mode
(one shard each, on separate runner temp directories, as separate runners), the merge job runs
it in merge mode over their JSON outputs, and the merged findings equal an unsharded audit of
the same tree: identical fingerprints and totals. The composite steps run as the Actions runner
runs them (tests/fakes/runner.py); ``uses:`` steps (setup-python, cache, upload-artifact) are
skipped and listed, the artifact hand-over is a copy."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import jsonschema

from fakes.gitrepo import GitRepo
from fakes.runner import ActionRun, CompositeRunner, runner_env
from test_action_composite import ROOT, install_shims
from test_merge import undocumented

SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"


def job(repo: GitRepo, tmp: Path, name: str, with_: dict[str, str]) -> tuple[ActionRun, Path]:
    """One job on its own runner: its own RUNNER_TEMP (so its own history database)."""
    temp, work = tmp / name / "temp", tmp / name / "work"
    temp.mkdir(parents=True)
    work.mkdir()
    install_shims(tmp / name / "shims", tmp / name / "install.log")
    env = runner_env()
    env.update(
        PATH=f"{tmp / name / 'shims'}{os.pathsep}{env.get('PATH', '')}",
        GITHUB_ACTIONS="true",
        GITHUB_EVENT_NAME="schedule",
        GITHUB_WORKSPACE=str(repo.root),
        RUNNER_TEMP=str(temp),
        GITHUB_REPOSITORY="acme/widgets",
        GITHUB_RUN_ID="91",
    )
    for key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GROQ_API_KEY", "GEMINI_API_KEY", "GITHUB_EVENT_PATH"):
        env.pop(key, None)
    runner = CompositeRunner(
        ROOT,
        work,
        env=env,
        github={
            "token": "",
            "action_path": str(ROOT),
            "workspace": str(repo.root),
            "repository": "acme/widgets",
            "run_id": "91",
            "run_attempt": "1",
        },
        runner={"temp": str(temp), "os": "Linux", "arch": "X64"},
    )
    return runner.run(with_), temp


def test_a_three_shard_matrix_merges_to_the_unsharded_audit(git_repo: GitRepo, tmp_path: Path) -> None:
    git_repo.write("lib/__init__.py", "")
    for i in range(14):  # docstrings:missing in 14 files: one group for the change, across shards
        git_repo.write(f"lib/mod{i}.py", undocumented(i))
    git_repo.write("lib/run.py", "import subprocess\n\n\ndef go(cmd):\n    return subprocess.call(cmd, shell=True)\n")
    git_repo.write("docs/guide.md", "# Guide\n\nSee [the missing page](missing.md).\n")
    git_repo.commit("tree")
    out = tmp_path / "artifacts"

    whole, _ = job(
        git_repo,
        tmp_path,
        "whole",
        {"mode": "audit", "json": str(out / "whole.json"), "sarif": str(out / "whole.sarif"), "fail-on": "critical"},
    )
    assert whole.ok, [(s.name, s.exit_code, s.stderr[-1500:]) for s in whole.steps]

    for i in (1, 2, 3):
        run, temp = job(
            git_repo,
            tmp_path,
            f"shard-{i}",
            {
                "mode": "audit",
                "shard": f"{i}/3",
                "json": str(out / f"tokyo-shard-{i}" / "tokyo-shard.json"),
                "sarif": str(out / f"tokyo-shard-{i}" / "tokyo-shard.sarif"),
                "history-cache": "false",
                "history-artifact": f"tokyo-history-audit-shard-{i}",
            },
        )
        assert run.ok, [(s.name, s.exit_code, s.stderr[-1500:]) for s in run.steps]
        assert [s.name for s in run.steps][-2:] == ["Review the pull request", "Export this run's history"]
        assert run.skipped[-1].startswith("Upload this run's history export (actions/upload-artifact@")
        assert run.outputs["status"] == "completed" and run.outputs["sarif-written"] == "true"
        assert run.outputs["json"].endswith("tokyo-shard.json") and run.outputs["run-id"] == "1"
        export = (temp / "tokyo-history-export" / "tokyo-history.jsonl").read_text().splitlines()
        assert json.loads(export[1])["run"]["shard"]["index"] == i  # the artifact a collector imports
        assert f"shard {i}/3 of change" in run.summary  # the job summary
    # the merge job: download-artifact puts each artifact in its own directory
    workspace_shards = git_repo.root / "shards"
    shutil.copytree(out, workspace_shards, ignore=shutil.ignore_patterns("whole.*"))
    merged_run, _ = job(
        git_repo,
        tmp_path,
        "merge",
        {
            "mode": "merge",
            "merge-inputs": "shards/*/tokyo-shard.json",
            "sarif": str(out / "tokyo.sarif"),
            "json": str(out / "tokyo.json"),
            "fail-on": "critical",
            "history-cache": "false",
        },
    )
    assert merged_run.ok, [(s.name, s.exit_code, s.stderr[-1500:]) for s in merged_run.steps]

    whole_doc, merged = json.loads((out / "whole.json").read_text()), json.loads((out / "tokyo.json").read_text())
    assert sorted(f["fingerprint"] for f in merged["findings"]) == sorted(
        f["fingerprint"] for f in whole_doc["findings"]
    )
    assert merged["totals"] == whole_doc["totals"] and merged["totals"]["findings"] >= 3
    assert any(f["rule"] == "docstrings:missing" and len(f["members"]) == 42 for f in merged["findings"])
    assert merged["run"]["merged"]["present"] == [1, 2, 3] and merged["run"]["status"] == "completed"
    sarif = json.loads((out / "tokyo.sarif").read_text())
    assert not list(jsonschema.Draft4Validator(json.loads(SCHEMA.read_text())).iter_errors(sarif))
    assert merged_run.outputs["findings"] == str(merged["totals"]["findings"])
    assert merged_run.outputs["sarif-written"] == "true"
    assert "merged 3 of 3 shards of change" in merged_run.summary  # the merge job's summary


def test_the_merge_job_with_a_shard_missing_is_partial_and_names_it(git_repo: GitRepo, tmp_path: Path) -> None:
    for i in range(4):
        git_repo.write(f"app/m{i}.py", f"X = {i}\n")
    git_repo.commit("tree")
    out = git_repo.root / "shards"
    for i in (1, 3):  # shard 2's job failed before it uploaded anything
        run, _ = job(
            git_repo,
            tmp_path,
            f"shard-{i}",
            {
                "mode": "audit",
                "shard": f"{i}/3",
                "json": f"shards/s{i}/tokyo-shard.json",
                "sarif": f"shards/s{i}/tokyo-shard.sarif",
            },
        )
        assert run.ok
    merged_run, _ = job(
        git_repo,
        tmp_path,
        "merge",
        {"mode": "merge", "merge-inputs": "shards/*/tokyo-shard.json", "sarif": "merged.sarif"},
    )
    assert merged_run.ok and merged_run.outputs["status"] == "partial"
    assert "shard 2/3 is missing" in merged_run.summary
    assert (out / "s1" / "tokyo-shard.json").exists() and (git_repo.root / "merged.sarif").exists()


def test_a_merge_job_without_inputs_fails_in_one_line(git_repo: GitRepo, tmp_path: Path) -> None:
    git_repo.write("a.py", "X = 1\n")
    git_repo.commit("a")
    run, _ = job(git_repo, tmp_path, "merge", {"mode": "merge", "merge-inputs": "nothing/*.json"})
    assert not run.ok and run.steps[-1].exit_code == 2
    assert "::error title=tokyo::mode merge: the merge-inputs input matched no file" in run.commands
    run, _ = job(git_repo, tmp_path, "other", {"mode": "deploy"})
    assert not run.ok and "::error title=tokyo::the mode input must be review, audit or merge" in run.commands
