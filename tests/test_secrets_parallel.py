"""detect-secrets over many files in worker processes, time limits that grow with the
change, and a security analyzer that did not finish making the run partial (issue 17, item 4)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from fakes.gitrepo import GitRepo
from tokyo_cli.analyzers import secrets as secrets_mod
from tokyo_cli.analyzers.base import analyzer_time_limit, unfinished
from tokyo_cli.analyzers.secrets_pool import scan_files
from tokyo_cli.git.repo import Changeset, load_changeset, resolve_target

AWS = "AKIAIOSFODNN7EXAMPLE"  # AWS's documented example key  # pragma: allowlist secret


def big_change(repo: GitRepo, files: int = 240) -> Changeset:
    repo.write("README.md", "base\n")
    repo.commit("base")
    for i in range(files):
        # A keyword without a quoted value: detect-secrets scans the file (the prefilter of
        # analyzers/secrets_prefilter.py lets it through) and reports nothing on this line.
        body = f"VALUE_{i} = {i}\npassword_field = form.field_{i}\n"
        if i % 40 == 7:
            body += f'aws_key = "{AWS}"\n'
        if i % 60 == 11:
            body += 'password = "hunter2-is-not-a-good-one"\n'
        if i == 13:
            body += f'example = "{AWS}"  # pragma: allowlist secret\n'
        repo.write(f"pkg/m{i:03}.py", body)
    return load_changeset(repo.root, resolve_target(repo.root, working=True))


def keys(run: secrets_mod.AnalyzerRun) -> list[tuple[str, int, str, str]]:
    return sorted((f.path, f.line or 0, f.rule or "", f.severity.value) for f in run.findings)


def test_many_files_are_scanned_by_worker_processes_with_the_same_findings(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    cs = big_change(git_repo)
    scanned: list[int] = []
    real = secrets_mod.scan_files

    def spy(base: Path, rels: list[str], plugins: list[str], **kw: float) -> object:
        scanned.append(len(rels))
        return real(base, rels, plugins, **kw)

    monkeypatch.setattr(secrets_mod, "scan_files", spy)
    parallel = secrets_mod.SecretsAnalyzer().run(cs, cs.reviewable(), agent="akira", timeout_s=300)
    assert scanned == [240], "the pool scanned every file"
    monkeypatch.setattr(secrets_mod, "PARALLEL_MIN_FILES", 10_000)
    serial = secrets_mod.SecretsAnalyzer().run(cs, cs.reviewable(), agent="akira", timeout_s=300)
    assert parallel.error is None and parallel.not_analyzed == {}
    assert keys(parallel) == keys(serial)
    assert {r for _, _, r, _ in keys(parallel)} >= {"detect-secrets:AWSKeyDetector", "detect-secrets:KeywordDetector"}
    assert not any(p == "pkg/m013.py" and "AWS" in r for p, _, r, _ in keys(parallel))  # the pragma holds
    assert all(AWS not in f.body and AWS not in (f.anchor_text or "") for f in parallel.findings)


def test_a_deadline_that_has_passed_lists_every_file_as_not_analyzed(git_repo: GitRepo) -> None:
    cs = big_change(git_repo, files=210)
    run = secrets_mod.SecretsAnalyzer().run(cs, cs.reviewable(), agent="akira", timeout_s=0)
    assert run.error == "detect-secrets unavailable: timed out after 0 s"
    assert len(run.not_analyzed) == 210 and set(run.not_analyzed.values()) == {"timed out (after 0 s)"}
    assert unfinished(run.error)


def test_the_pool_keeps_what_a_batch_scanned_before_it_was_stopped(tmp_path: Path) -> None:
    for i in range(3):
        (tmp_path / f"f{i}.txt").write_text(f'aws = "{AWS}"\n' if i == 1 else "nothing\n")
    done = scan_files(
        tmp_path, ["f0.txt", "f1.txt", "f2.txt"], ["AWSKeyDetector"], deadline=time.monotonic() + 300, workers=2
    )
    assert done.missed == {} and not done.timed_out
    assert done.found["f0.txt"] == [] and [(n, t) for n, t, _ in done.found["f1.txt"]] == [(1, "AWS Access Key")]
    late = scan_files(tmp_path, ["f0.txt"], ["AWSKeyDetector"], deadline=time.monotonic() - 1)
    assert late.timed_out and late.missed == {"f0.txt": "timed out"} and late.found == {}


def test_the_time_limit_grows_with_the_files() -> None:
    assert analyzer_time_limit(60, 1) == 60 and analyzer_time_limit(60, 1_000) == 60
    assert analyzer_time_limit(60, 10_000) == 600
    assert analyzer_time_limit(2, 4_000) == 8


def test_a_security_analyzer_that_did_not_finish_makes_the_run_partial(git_repo: GitRepo) -> None:
    from tokyo_cli.config.settings import load_settings
    from tokyo_cli.engine.review import ReviewRequest, prepare_review, run_review_blocking

    git_repo.write("README.md", "base\n")
    git_repo.commit("base")
    git_repo.write("app.py", 'password = "hunter2-is-not-a-good-one"\n')
    settings = load_settings(offline=True, analyzer_timeout=0.000001, workflow="security")
    prepared = prepare_review(ReviewRequest(repo=git_repo.root, working=True), settings)
    result = run_review_blocking(prepared, settings, store=False).result
    assert result.status == "partial"
    notes = [n for n in result.notices if "did not finish" in n]
    assert any(n.startswith("detect-secrets (Akira, ") and "run is partial" in n for n in notes), result.notices
    (step,) = [s for s in result.steps if s.agent == "akira"]
    secrets_note = next(a for a in step.analyzers if a.name == "detect-secrets")
    assert secrets_note.not_analyzed == {"app.py": "timed out (after 1e-06 s)"}
