"""detect-secrets in worker processes (one per CPU for many files, one for a few, never in
tokyo's own process), time limits that grow with the change, and a security analyzer that
did not finish making the run partial (issue 17, item 4)."""

from __future__ import annotations

import time
from typing import Any

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
    scanned: list[tuple[int, int | None]] = []
    real = secrets_mod.scan_files

    def spy(files: dict[str, bytes], plugins: list[str], **kw: Any) -> object:
        scanned.append((len(files), kw.get("workers")))
        return real(files, plugins, **kw)

    monkeypatch.setattr(secrets_mod, "scan_files", spy)
    parallel = secrets_mod.SecretsAnalyzer().run(cs, cs.reviewable(), agent="akira", timeout_s=300)
    assert scanned == [(240, None)], "one worker per CPU scanned every file"
    monkeypatch.setattr(secrets_mod, "PARALLEL_MIN_FILES", 10_000)
    serial = secrets_mod.SecretsAnalyzer().run(cs, cs.reviewable(), agent="akira", timeout_s=300)
    assert scanned[1:] == [(240, 1)], "below PARALLEL_MIN_FILES, one worker process scanned them"
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


def alias_bomb(depth: int) -> str:
    """YAML whose aliases nest ``depth`` levels, 9 wide: detect-secrets' YAML transformer
    walks every alias (9 ** depth leaves: 0.75 s at depth 5, 3.9 s at 6, 35 s at 7 on this
    machine class under load), in a few hundred bytes."""
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, depth + 1)]
    return "\n".join(lines) + "\n"


def test_a_file_that_hangs_detect_secrets_is_stopped_at_the_time_limit(git_repo: GitRepo) -> None:
    # Hostile input: a few files, so the scan used to run in tokyo's own process with no way
    # to stop it; it now runs in a worker process that is killed at the deadline, and the
    # file is listed as not analyzed (not silently dropped, not waited for by the hour).
    git_repo.write("README.md", "base\n")
    git_repo.commit("base")
    git_repo.write("deploy/bomb.yaml", alias_bomb(9))  # hours of work for detect-secrets
    cs = load_changeset(git_repo.root, resolve_target(git_repo.root, working=True))
    run = secrets_mod.SecretsAnalyzer().run(cs, cs.reviewable(), agent="akira", timeout_s=2)
    assert run.error == "detect-secrets unavailable: timed out after 2 s"
    assert run.not_analyzed == {"deploy/bomb.yaml": "timed out (after 2 s)"}
    assert unfinished(run.error)


def test_the_pool_keeps_what_a_batch_scanned_before_it_was_stopped() -> None:
    files = {f"f{i}.txt": (f'aws = "{AWS}"\n' if i == 1 else "nothing\n").encode() for i in range(3)}
    done = scan_files(files, ["AWSKeyDetector"], deadline=time.monotonic() + 300, workers=2)
    assert done.missed == {} and not done.timed_out
    assert done.found["f0.txt"] == [] and [(n, t) for n, t, _ in done.found["f1.txt"]] == [(1, "AWS Access Key")]
    late = scan_files({"f0.txt": b"nothing\n"}, ["AWSKeyDetector"], deadline=time.monotonic() - 1)
    assert late.timed_out and late.missed == {"f0.txt": "timed out"} and late.found == {}


def test_workers_prefilter_their_share_and_keep_any_bytes() -> None:
    # Any bytes travel to the worker: non-ASCII UTF-8 is scanned as written, and a file that
    # is not UTF-8 reaches detect-secrets too (which skips what it cannot decode, as it would
    # on the original). A file no plugin can match counts as scanned with nothing found; a
    # path leaving the scratch directory is never written.
    key = f'aws = "{AWS}"\n'
    files = {
        "clé.txt": f"# clé\n{key}".encode(),
        "bin.txt": b"\xff\xfe" + key.encode(),
        "clean.py": b"x = 1\n",
        "key.py": key.encode(),
        "../escape.txt": key.encode(),
    }
    done = scan_files(files, ["AWSKeyDetector"], deadline=time.monotonic() + 300, workers=2, prefilter=True)
    assert done.missed == {}
    assert {rel: [(n, t) for n, t, _ in found] for rel, found in done.found.items()} == {
        "clé.txt": [(2, "AWS Access Key")],
        "bin.txt": [],
        "clean.py": [],
        "key.py": [(1, "AWS Access Key")],
    }


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
