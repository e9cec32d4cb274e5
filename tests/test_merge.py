"""``tokyo merge``: N shard outputs (JSON or SARIF) equal the unsharded run; a missing or
failed shard is named and makes the run partial; bad input is one line, exit 2; the merged
run is stored; ``--synthesize`` runs the lead's synthesis through the fake provider."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from fakes.gitrepo import GitRepo
from fakes.provider import FakeProvider
from tokyo_cli.engine.merging import merge_runs
from tokyo_cli.report.reading import read_report

SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"


def undocumented(i: int) -> str:
    """A module exporting three functions without docstrings (Sakura's docstrings:missing)."""
    names = [f"f{i}_{n}" for n in range(3)]
    return f"__all__ = {names!r}\n\n\n" + "".join(f"def {name}(x):\n    return x + 1\n\n\n" for name in names)


@pytest.fixture
def audit(git_repo: GitRepo) -> GitRepo:
    """14 undocumented modules: docstrings:missing fires in more than 10 files, so an
    unsharded run groups it once for the change (the group's members come from every shard);
    a shell=True (bandit, high) on top."""
    git_repo.write("lib/__init__.py", "")
    for i in range(14):
        git_repo.write(f"lib/mod{i}.py", undocumented(i))
    git_repo.write("lib/run.py", "import subprocess\n\n\ndef go(cmd):\n    return subprocess.call(cmd, shell=True)\n")
    git_repo.write("README.md", "# lib\n")
    git_repo.commit("tree")
    return git_repo


def review(cli: Any, repo: GitRepo, out: Path, *extra: str) -> dict[str, Any]:
    code, _, err = cli(
        "review",
        str(repo.root),
        "--all",
        "--offline",
        "-q",
        "--no-cache",
        "--fail-on",
        "critical",
        "-o",
        str(out),
        *extra,
    )
    assert code == 0, err
    return json.loads(out.read_text()) if out.suffix == ".json" else {}


def shards(cli: Any, repo: GitRepo, tmp: Path, n: int, suffix: str = ".json") -> list[Path]:
    paths = []
    for i in range(1, n + 1):
        path = tmp / f"shard-{i}{suffix}"
        review(cli, repo, path, "--shard", f"{i}/{n}")
        paths.append(path)
    return paths


def fingerprints(report: dict[str, Any]) -> list[str]:
    return sorted(f["fingerprint"] for f in report["findings"])


def test_merged_shards_equal_the_unsharded_run_fingerprints_and_totals(audit: GitRepo, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    whole = review(cli, audit, tmp_path / "whole.json")
    group = [f for f in whole["findings"] if f["rule"] == "docstrings:missing"]
    assert len(group) == 1 and len({m["path"] for m in group[0]["members"]}) == 14  # one group for the change
    for n in (2, 3):
        paths = shards(cli, audit, tmp_path / f"n{n}", n) if (tmp_path / f"n{n}").mkdir() is None else []
        code, out, err = cli("merge", *map(str, paths), "-f", "json", "--fail-on", "critical")
        assert code == 0, err
        merged = json.loads(out)
        assert fingerprints(merged) == fingerprints(whole)
        assert merged["totals"] == whole["totals"]
        members = next(f for f in merged["findings"] if f["rule"] == "docstrings:missing")["members"]
        assert members == group[0]["members"]
        assert merged["run"]["status"] == "completed" and merged["run"]["merged"]["present"] == list(range(1, n + 1))
        assert sorted(f["path"] for f in merged["files"]) == sorted(f["path"] for f in whole["files"])
        assert [s["id"] for s in merged["steps"]] == [s["id"] for s in whole["steps"]]

        def review_files(report: dict[str, Any]) -> dict[str, list[str]]:  # synthesis waits for tokyo merge
            return {s["id"]: sorted(s["files"]) for s in report["steps"] if s["task"] == "review"}

        assert review_files(merged) == review_files(whole)


def test_sarif_shards_merge_to_the_same_findings_and_valid_sarif(audit: GitRepo, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    whole = review(cli, audit, tmp_path / "whole.json")
    paths = shards(cli, audit, tmp_path, 3, ".sarif")
    code, out, err = cli("merge", *map(str, paths), "-f", "sarif", "--fail-on", "critical")
    assert code == 0, err
    doc = json.loads(out)
    errors = list(jsonschema.Draft4Validator(json.loads(SCHEMA.read_text())).iter_errors(doc))
    assert not errors, errors[0].message
    results = doc["runs"][0]["results"]
    assert sorted(r["partialFingerprints"]["tokyoFingerprint/v1"] for r in results) == fingerprints(whole)
    assert doc["runs"][0]["properties"]["tokyo"]["merged"]["present"] == [1, 2, 3]
    grouped = next(r for r in results if r["ruleId"] == "docstrings:missing")
    assert len(grouped["relatedLocations"]) == 14 * 3


def test_a_missing_shard_makes_the_merged_run_partial_and_names_it(audit: GitRepo, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    paths = shards(cli, audit, tmp_path, 3)
    code, out, err = cli("merge", str(paths[0]), str(paths[2]), "-f", "json", "--fail-on", "critical")
    merged = json.loads(out)
    assert merged["run"]["status"] == "partial" and merged["run"]["merged"]["missing"] == [2]
    assert "shard 2/3 is missing: its files are not in this run, which is partial" in merged["run"]["notices"]
    assert code == 0  # --fail-on critical: nothing blocks; a partial run still reports
    code, out, _ = cli("merge", str(paths[0]), str(paths[2]), "--fail-on", "critical")
    assert "shard 2/3 is missing" in out  # the terminal report names it too


def test_a_failed_shard_makes_the_merged_run_partial_and_names_it(audit: GitRepo, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    paths = shards(cli, audit, tmp_path, 2)
    doc = json.loads(paths[1].read_text())
    doc["run"].update(status="failed", error="every step failed: provider down")
    paths[1].write_text(json.dumps(doc))
    code, out, _ = cli("merge", *map(str, paths), "-f", "json", "--fail-on", "high")
    merged = json.loads(out)
    assert merged["run"]["status"] == "partial" and merged["run"]["merged"]["failed"] == [2]
    assert "shard 2/2 failed: every step failed: provider down; the run is partial" in merged["run"]["notices"]
    assert code == 1  # bandit's shell=True is high: at --fail-on high


def test_the_same_shard_twice_counts_once(audit: GitRepo, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    paths = shards(cli, audit, tmp_path, 2)
    rerun = tmp_path / "rerun-1.json"
    review(cli, audit, rerun, "--shard", "1/2")
    code, out, _ = cli(
        "merge", str(paths[0]), str(paths[0]), str(rerun), str(paths[1]), "-f", "json", "--fail-on", "critical"
    )
    merged = json.loads(out)
    assert code == 0 and merged["run"]["merged"]["present"] == [1, 2]
    assert sum("was given twice" in n for n in merged["run"]["notices"]) == 1  # the copy is silent, the re-run named


def test_merged_run_is_stored_and_fail_on_sets_the_exit_code(audit: GitRepo, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    paths = shards(cli, audit, tmp_path, 2)
    code, out, err = cli("merge", *map(str, paths), "-f", "markdown", "-o", str(tmp_path / "merged.md"))
    assert code == 0 and "Merged run" in err  # the shards' fail-on: critical
    code, out, err = cli(
        "merge", *map(str, paths), "-f", "markdown", "-o", str(tmp_path / "merged.md"), "--fail-on", "high"
    )
    assert code == 1  # bandit's shell=True is high
    code, out, _ = cli("history", "--json")
    runs = json.loads(out)
    assert len(runs) == 2 + 2 and runs[0]["status"] == "completed" and sum(runs[0]["findings"].values()) > 0
    assert "shard" in (tmp_path / "merged.md").read_text()


def test_inputs_of_different_changes_are_refused(audit: GitRepo, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    first = tmp_path / "a.json"
    review(cli, audit, first, "--shard", "1/2")
    audit.write("lib/new.py", "X = 1\n")
    audit.commit("more")
    second = tmp_path / "b.json"
    review(cli, audit, second, "--shard", "2/2")
    code, out, err = cli("merge", str(first), str(second))
    assert code == 2 and out == "" and err.count("\n") == 1 and "only the shards of one change can be merged" in err


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"version": 1, "run": {"repo": "/r", "target": "all"', "malformed JSON (truncated?)"),
        ("[1, 2, 3]", "neither a tokyo JSON report"),
        (
            '{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "semgrep"}}, "results": []}]}',
            "SARIF from another tool",
        ),
        ('{"version": 1, "run": {"repo": "/r"}, "findings": []}', "not a valid tokyo JSON report: run.target"),
        (b"\xff\xfe\x00garbage", "not UTF-8 text"),
    ],
)
def test_a_bad_input_file_is_one_line_and_exit_2(content: str | bytes, message: str, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.json"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    code, out, err = cli("merge", str(path))
    assert code == 2 and out == "" and err.count("\n") == 1 and message in err and "Traceback" not in err


def test_a_hostile_report_is_data_only(audit: GitRepo, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """A shard artifact is untrusted: a finding's path outside the tree is only text, a secret
    in it is masked before anything is shown or stored, terminal escapes are cleaned."""
    paths = shards(cli, audit, tmp_path, 1)
    doc = json.loads(paths[0].read_text())
    evil = dict(
        doc["findings"][0],
        path="../../../etc/passwd",
        fingerprint="0123456789abcdef",
        title="\x1b]0;owned\x07 ghp_" + "a" * 36,
        rule=None,
        members=[],
    )
    doc["findings"].append(evil)
    paths[0].write_text(json.dumps(doc))
    code, out, _ = cli("merge", str(paths[0]), "-f", "json", "--fail-on", "critical")
    assert "ghp_" + "a" * 36 not in out and "[MASKED:" in out
    code, out, _ = cli("merge", str(paths[0]), "--fail-on", "critical")
    assert "\x1b]0;owned" not in out


def test_synthesize_runs_the_lead_over_the_merged_findings(
    audit: GitRepo,
    tmp_path: Path,
    cli,  # type: ignore[no-untyped-def]
    fake_provider: FakeProvider,
) -> None:
    paths = shards(cli, audit, tmp_path, 2)
    fake_provider.script(
        "agent_summaries",
        {
            "summary": "Across both shards: one shell injection, and undocumented modules everywhere.",
            "findings": [
                {
                    "path": "lib/mod3.py",
                    "line": 1,
                    "severity": "medium",
                    "category": "architecture",
                    "title": "Every module repeats the same helper",
                    "body": "Seen across both shards.",
                }
            ],
            "duplicates": [],
        },
    )
    code, out, err = cli(
        "merge",
        *map(str, paths),
        "-f",
        "json",
        "--synthesize",
        "--api-base",
        fake_provider.url,
        "--model",
        "openai/gpt-4o-mini",
        "--fail-on",
        "critical",
    )
    assert code == 0, err
    merged = json.loads(out)
    assert merged["summary"] == "Across both shards: one shell injection, and undocumented modules everywhere."
    synth = [f for f in merged["findings"] if f["source"] == "synthesis"]
    assert [(f["path"], f["line"], f["agent"]) for f in synth] == [("lib/mod3.py", None, "kenji")]
    step = merged["steps"][-1]
    assert step["task"] == "synthesize" and step["status"] == "ok" and len(step["calls"]) == 1
    assert merged["totals"]["calls"] == 1 and merged["totals"]["tokens_in"] > 0
    prompt = fake_provider.requests[-1]
    assert "shell=True" in json.dumps(prompt) or "subprocess" in json.dumps(prompt)


def test_synthesize_offline_says_why_and_keeps_the_merged_findings(audit: GitRepo, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    paths = shards(cli, audit, tmp_path, 2)
    code, out, _ = cli("merge", *map(str, paths), "-f", "json", "--synthesize", "--fail-on", "critical")
    merged = json.loads(out)
    assert any(n.startswith("--synthesize: the lead's synthesis did not run") for n in merged["run"]["notices"])
    assert merged["totals"]["findings"] > 0 and merged["totals"]["calls"] == 0


def test_merge_runs_refuses_nothing_and_mixing_whole_runs_with_shards(audit: GitRepo, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    from tokyo_cli.errors import ConfigError

    with pytest.raises(ConfigError, match="at least one report"):
        merge_runs([])
    whole, part = tmp_path / "whole.json", tmp_path / "part.json"
    review(cli, audit, whole)
    review(cli, audit, part, "--shard", "1/2")
    with pytest.raises(ConfigError, match="is a whole run"):
        merge_runs([(str(whole), read_report(whole)), (str(part), read_report(part))])


def test_rejected_findings_walkthrough_and_block_on_survive_the_merge() -> None:
    """A verify step's rejections stay apart (joined, de-duplicated), a walkthrough and the
    workflow's block_on carry over: a merged run keeps what its shards' runs had."""
    from datetime import UTC, datetime

    from tokyo_cli.findings import Finding, Severity
    from tokyo_cli.results import RunResult, ShardInfo, Walkthrough

    def shard(i: int, rejected: list[Finding], walkthrough: Walkthrough | None) -> RunResult:
        return RunResult(
            repo="/r",
            target="all",
            target_description="audit",
            workflow="review-verified",
            started_at=datetime(2026, 5, 1, tzinfo=UTC),
            status="completed",
            uid=f"u{i}",
            block_on="verified",
            rejected=rejected,
            walkthrough=walkthrough,
            shard=ShardInfo(index=i, count=2, change="c0ffee", files=1, total_files=2),
        )

    gone = Finding(
        path="a.py", line=3, severity=Severity.HIGH, title="not a bug after all", agent="akira", verification="rejected"
    )
    walk = Walkthrough(title="t", description="d", overview="o")
    merged = merge_runs([("1.json", shard(1, [gone], None)), ("2.json", shard(2, [gone], walk))])
    assert [f.title for f in merged.rejected] == ["not a bug after all"] and merged.findings == []
    assert merged.walkthrough == walk and merged.block_on == "verified" and merged.status == "completed"
