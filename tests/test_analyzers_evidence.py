"""Analyzer findings as evidence for the models: ids in the prompt, verdicts applied back,
dismissed findings kept in history with the reason and left out of the run's findings."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from fakes.gitrepo import GitRepo
from fakes.provider import FakeProvider, message_text
from tokyo_cli.analyzers.evidence import active, evidence_ids, reconcile
from tokyo_cli.cli.app import main
from tokyo_cli.findings import AgentOutput, Finding, Severity
from tokyo_cli.store.db import open_db
from tokyo_cli.store.history import list_runs, load_run


def analyzer_finding(
    path: str, line: int, rule: str, severity: Severity = Severity.HIGH, category: str = "security"
) -> Finding:
    return Finding(
        path=path,
        line=line,
        severity=severity,
        category=category,
        title=f"{rule} issue",
        body="Analyzer text.",
        agent="akira",
        source="analyzer",
        rule=rule,
        anchor_text=f"line {line}",
    )


def reply(*verdicts: dict[str, object]) -> AgentOutput:
    return AgentOutput.model_validate({"findings": [], "summary": "", "evidence": list(verdicts)})


A = analyzer_finding("app.py", 3, "bandit:B602")
B = analyzer_finding("app.py", 9, "bandit:B105", Severity.LOW)
C = analyzer_finding("conf.py", 2, "detect-secrets:AWSKeyDetector", Severity.CRITICAL)
D = analyzer_finding("other.py", 5, "bandit:B301")


def test_verdicts_confirm_refine_and_dismiss() -> None:
    out = reply(
        {"id": "A1", "verdict": "confirm", "reason": "user input reaches the shell"},
        {
            "id": "a2",
            "verdict": "refine",
            "severity": "medium",
            "title": "Hard-coded test password",
            "reason": "test only",
        },
        {"id": "A3", "verdict": "dismiss", "reason": "documented example key"},
        {"id": "A4", "verdict": "dismiss", "reason": "pickle of our own cache file"},
    )
    kept, dismissed = reconcile([A, B, C, D], [(["app.py", "conf.py", "other.py"], out)])
    by_rule = {f.rule: f for f in kept}
    assert by_rule["bandit:B602"].corroborated and "user input reaches the shell" in by_rule["bandit:B602"].body
    refined = by_rule["bandit:B105"]
    assert (refined.corroborated, refined.severity, refined.title) == (
        True,
        Severity.MEDIUM,
        "Hard-coded test password",
    )
    assert refined.fingerprint == B.fingerprint  # history keeps tracking the analyzer's finding
    # A secrets finding cannot be dismissed by a model that only saw the value masked.
    secret = by_rule["detect-secrets:AWSKeyDetector"]
    assert not secret.corroborated and "documented example key" in secret.body and secret.status == "open"
    [gone] = dismissed
    assert (gone.rule, gone.status, gone.dismissed_reason) == (
        "bandit:B301",
        "dismissed",
        "pickle of our own cache file",
    )
    assert active(kept + dismissed) == kept


def test_unusable_verdicts_change_nothing() -> None:
    out = reply(
        {"id": "A1", "verdict": "dismiss", "reason": "  "},  # a dismissal needs a reason
        {"id": "A2", "verdict": "dismiss", "reason": "not shown this file"},  # other.py not in this call
        {"id": "A9", "verdict": "confirm"},  # no such id
        {"id": "A1", "verdict": "maybe"},  # dropped when parsed
    )
    kept, dismissed = reconcile([A, D], [(["app.py"], out)])
    assert (kept, dismissed) == ([A, D], [])


def test_confirm_beats_dismiss_across_chunks_and_model_findings_corroborate() -> None:
    first = reply({"id": "A1", "verdict": "dismiss", "reason": "constant input"})
    second = reply({"id": "A1", "verdict": "confirm"})
    same_place = Finding(
        path="app.py", line=9, severity=Severity.HIGH, category="security", title="Password in source", agent="akira"
    )
    kept, dismissed = reconcile([A, B], [(["app.py"], first), (["app.py"], second)], [same_place])
    assert dismissed == [] and [f.corroborated for f in kept] == [True, True]


def test_prompt_numbers_evidence_across_the_step() -> None:
    from tokyo_cli.config.team import load_team
    from tokyo_cli.engine.packing import Chunk
    from tokyo_cli.engine.prompts import review_messages
    from tokyo_cli.git.repo import FileChange, Hunk

    agent = load_team(None).get("akira")
    change = FileChange(path="other.py", status="modified", hunks=[Hunk(1, 1, 1, 1)])
    chunk = Chunk(parts=[(change, change.hunks)])
    messages, _ = review_messages(agent, chunk, target_description="t", evidence=[A, B, D])
    text = messages[-1]["content"]
    assert "- A3 other.py:5 [bandit:B301] high: bandit:B301 issue" in text
    assert "A1 " not in text and '"evidence"' in text and "dismiss" in text
    assert evidence_ids([A, B]) == {"A1": A, "A2": B}


SERVER = "import pickle\nimport subprocess\n\n\ndef ping(host):\n    return host\n"
SERVER_NEW = (
    SERVER + "\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
    "\n\ndef load(blob):\n    return pickle.loads(blob)\n"
)
SHELL, PICKLE = 10, 14


def test_review_with_a_model_keeps_the_dismissed_finding_in_history_only(
    git_repo: GitRepo, fake_provider: FakeProvider, capsys: pytest.CaptureFixture[str]
) -> None:
    git_repo.write("src/app/server.py", SERVER)
    git_repo.commit("base")
    git_repo.write("src/app/server.py", SERVER_NEW)
    fake_provider.script(
        "You are Akira",
        {
            "findings": [],
            "summary": "ok",
            "evidence": [
                {"id": "A1", "verdict": "confirm", "reason": "cmd comes from the request"},
                {"id": "A2", "verdict": "dismiss", "reason": "blob is our own signed cache entry"},
            ],
        },
    )
    with pytest.raises(SystemExit):
        main(["review", str(git_repo.root), "-w", "security", "--api-base", fake_provider.url, "-f", "json", "-q"])
    report = json.loads(capsys.readouterr().out)
    prompt = message_text(fake_provider.requests[0][0])
    assert f"A1 src/app/server.py:{SHELL} [bandit:B602]" in prompt
    assert f"A2 src/app/server.py:{PICKLE} [bandit:B301]" in prompt
    assert [(f["line"], f["rule"]) for f in report["findings"]] == [(SHELL, "bandit:B602")]

    db = open_db(Path(os.environ["TOKYO_HOME"]) / "history.db")
    run = load_run(db, list_runs(db)[0].id)
    [shell] = run.findings
    assert shell.corroborated and shell.status == "open"
    [step] = run.steps
    dismissed = [f for f in step.findings if f.status == "dismissed"]
    assert [(f.line, f.rule, f.dismissed_reason) for f in dismissed] == [
        (PICKLE, "bandit:B301", "blob is our own signed cache entry")
    ]


def test_without_a_model_analyzer_findings_are_the_agents_findings(
    git_repo: GitRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    git_repo.write("src/app/server.py", SERVER)
    git_repo.commit("base")
    git_repo.write("src/app/server.py", SERVER_NEW)
    with pytest.raises(SystemExit):
        main(["review", str(git_repo.root), "-w", "security", "-f", "json", "-q"])
    report = json.loads(capsys.readouterr().out)
    assert sorted((f["line"], f["rule"], f["source"]) for f in report["findings"]) == [
        (SHELL, "bandit:B602", "analyzer"),
        (PICKLE, "bandit:B301", "analyzer"),
    ]
