"""``tokyo eval``: corpus format, matching, scores, gates (offline analyzers: bandit)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import RunCli

SHELL = '''\
"""Deploy helper."""
import subprocess


def deploy(host: str) -> int:
    """Copy the build to ``host``."""
    return subprocess.call(f"rsync -a dist/ {host}:/srv", shell=True)
'''
CLEAN = '''\
"""Sums."""


def total(values: list[int]) -> int:
    """The sum of ``values``."""
    return sum(values)
'''
MISS = '''\
"""Redirects."""


def next_url(args: dict[str, str]) -> str:
    """Where to go after login."""
    return args.get("next", "/")
'''


def _case(root: Path, name: str, files: dict[str, str], expected: str, base: dict[str, str] | None = None) -> None:
    d = root / name
    for rel, text in files.items():
        (d / "head" / rel).parent.mkdir(parents=True, exist_ok=True)
        (d / "head" / rel).write_text(text)
    for rel, text in (base or {}).items():
        (d / "base" / rel).parent.mkdir(parents=True, exist_ok=True)
        (d / "base" / rel).write_text(text)
    (d / "expected.yaml").write_text(expected)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    root.mkdir()
    (root / "corpus.yaml").write_text("version: 1\nname: tiny\nequivalences: [[94, 95]]\n")
    _case(root, "shell", {"deploy.py": SHELL}, "expected:\n  - {path: deploy.py, line: 7, cwe: 78}\n")
    _case(root, "clean", {"calc.py": CLEAN}, "cwe: 78\nexpected: []\n")
    _case(root, "miss", {"auth.py": MISS}, "expected:\n  - {path: auth.py, lines: [5, 6], cwe: 601}\n")
    return root


def test_counts_precision_recall_on_a_three_case_corpus(cli: RunCli, corpus: Path) -> None:
    code, out, err = cli("eval", str(corpus), "-w", "security", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    overall = data["tokyo"]["overall"]
    assert (overall["tp"], overall["fp"], overall["fn"]) == (1, 0, 1)
    assert overall["precision"] == 1.0 and overall["recall"] == 0.5
    assert overall["f1"] == pytest.approx(0.6667, abs=1e-4)
    assert data["tokyo"]["by_cwe"]["CWE-78"] == {"tp": 1, "fp": 0, "fn": 0, "precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert data["tokyo"]["by_cwe"]["CWE-601"]["fn"] == 1
    assert data["tokyo"]["by_agent"]["akira"]["tp"] == 1
    # the clean case is a CWE-78 look-alike: not flagged, so FPR 0
    rates = data["tokyo"]["rates_by_category"]["CWE-78"]
    assert (rates["tpr"], rates["fpr"], rates["tpr_minus_fpr"]) == (1.0, 0.0, 1.0)
    assert data["corpus"] == {
        "name": "tiny",
        "path": str(corpus),
        "format": "cases",
        "version": 1,
        "cases": 3,
        "vulnerable_cases": 2,
        "safe_cases": 1,
        "labels": 2,
    }
    assert {c["name"]: (c["tp"], c["fp"], c["fn"]) for c in data["tokyo"]["cases"]} == {
        "clean": (0, 0, 0),
        "miss": (0, 0, 1),
        "shell": (1, 0, 0),
    }
    assert [c["missed"] for c in data["tokyo"]["cases"] if c["name"] == "miss"] == [["auth.py:5-6 (CWE-601)"]]
    assert "[3/3]" in err  # a progress line per case


def test_terminal_tables_and_gates(cli: RunCli, corpus: Path) -> None:
    code, out, err = cli("eval", str(corpus), "-w", "security", "--min-recall", "0.5", "--min-f1", "0.6")
    assert code == 0, err
    assert "per CWE" in out and "CWE-78" in out and "TPR - FPR" in out
    code, _, err = cli("eval", str(corpus), "-w", "security", "--min-recall", "0.9", "-q")
    assert code == 1
    assert "gate failed: recall 0.500 is below --min-recall 0.9" in err
    code, _, err = cli("eval", str(corpus), "-w", "security", "--min-f1", "0.7", "-q")
    assert code == 1 and "F1 0.667" in err


def test_a_wrong_line_is_a_false_positive_and_a_miss(cli: RunCli, corpus: Path) -> None:
    # line 6 is added too, but bandit reports line 7: the label misses and the finding is a FP
    (corpus / "shell" / "expected.yaml").write_text("expected:\n  - {path: deploy.py, line: 6, cwe: 78}\n")
    code, out, _ = cli("eval", str(corpus), "-w", "security", "-f", "json", "--case", "shell")
    o = json.loads(out)["tokyo"]["overall"]
    assert (code, o["tp"], o["fp"], o["fn"]) == (0, 0, 1, 1)


def test_a_label_outside_the_change_exits_2_naming_case_and_label(cli: RunCli, corpus: Path) -> None:
    _case(
        corpus,
        "stale",
        {"calc.py": CLEAN + "\n\nX = 1\n"},
        "expected:\n  - {path: calc.py, line: 3, cwe: 78}\n",
        base={"calc.py": CLEAN},
    )
    code, out, err = cli("eval", str(corpus), "-w", "security")
    assert code == 2
    assert err.strip().splitlines() == [
        "tokyo: error: case stale: label calc.py:3 (CWE-78) is outside the change "
        "(no added line of the head version there)"
    ]
    assert out == ""


def test_file_level_csv_scoring(cli: RunCli, tmp_path: Path) -> None:
    root = tmp_path / "files"
    (root / "tree" / "app").mkdir(parents=True)
    (root / "tree" / "app" / "deploy.py").write_text(SHELL)
    (root / "tree" / "app" / "calc.py").write_text(CLEAN)
    (root / "tree" / "app" / "shell_safe.py").write_text(
        SHELL.replace('f"rsync -a dist/ {host}:/srv", shell=True', '["rsync", "-a", "dist/", host], shell=True')
    )
    (root / "tree" / "app" / "auth.py").write_text(MISS)
    (root / "corpus.yaml").write_text("version: 1\nformat: files\ntree: tree\nlabels: labels.csv\n")
    (root / "labels.csv").write_text(
        "file,category,is_vulnerable,cwe\n"
        "app/deploy.py,cmdi,true,78\napp/calc.py,cmdi,false,78\n"
        "app/shell_safe.py,cmdi,false,78\napp/auth.py,redirect,true,601\n"
    )
    code, out, err = cli("eval", str(root), "-w", "security", "-f", "json")
    assert code == 0, err
    data = json.loads(out)
    rates = data["tokyo"]["rates_by_category"]
    # bandit flags shell=True even with a list: the safe look-alike is a false positive
    assert rates["CWE-78"] == {
        "vulnerable": 1,
        "flagged_vulnerable": 1,
        "safe": 2,
        "flagged_safe": 1,
        "tpr": 1.0,
        "fpr": 0.5,
        "tpr_minus_fpr": 0.5,
    }
    assert rates["CWE-601"]["tpr"] == 0.0 and rates["CWE-601"]["fpr"] is None
    o = data["tokyo"]["overall"]
    assert (o["tp"], o["fn"]) == (1, 1) and o["fp"] >= 1
    assert data["corpus"]["format"] == "files"


def test_bandit_baseline_is_scored_with_the_same_matcher(cli: RunCli, corpus: Path) -> None:
    code, out, err = cli("eval", str(corpus), "-w", "security", "-f", "json", "--baseline", "bandit")
    assert code == 0, err
    data = json.loads(out)
    base = data["baseline"]
    assert base["tool"] == "bandit"
    # plain bandit also reports `import subprocess` (B404, CWE-78) on line 2: a false positive
    assert base["by_cwe"]["CWE-78"]["tp"] == 1 and base["by_cwe"]["CWE-78"]["fp"] == 1
    assert base["overall"]["fn"] == 1


def test_corpus_errors_are_one_line_exit_2(cli: RunCli, tmp_path: Path) -> None:
    code, _, err = cli("eval", str(tmp_path / "nope"))
    assert code == 2 and "no corpus at" in err
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "corpus.yaml").write_text("version: 2\n")
    code, _, err = cli("eval", str(tmp_path / "c"))
    assert code == 2 and "version 2 is not supported" in err


def test_matching_rule_equivalences_and_category() -> None:
    from tokyo_cli.engine.evaluation import Label, matches
    from tokyo_cli.findings import Finding, Severity

    f = Finding(path="a.py", line=4, severity=Severity.HIGH, category="security", title="eval", agent="akira", cwe=[95])
    canon = {95: 94}.get
    assert matches(Label("a.py", 3, 5, cwe=94), f, lambda c: canon(c, c))
    assert not matches(Label("a.py", 3, 5, cwe=94), f, lambda c: c)
    assert matches(Label("a.py", category="security"), f, lambda c: c)  # file level: any line
    assert not matches(Label("a.py", 5, 6, cwe=95), f, lambda c: c)
    assert not matches(Label("b.py", cwe=95), f, lambda c: c)
    assert not matches(Label("a.py", cwe=95, agent="yuki"), f, lambda c: c)
    g = f.model_copy(update={"cwe": [], "body": "Bandit B307 (eval), CWE-78: see docs"})
    assert matches(Label("a.py", 4, 4, cwe=78), g, lambda c: c)  # CWE cited in the body


def test_packaged_corpora_load() -> None:
    from tokyo_cli.engine.evaluation import corpus_stats, load_corpus

    sec = load_corpus("security")
    stats = corpus_stats(sec)
    assert len(sec.cases) >= 150
    assert {f"CWE-{n}" for n in (89, 78, 22, 95, 502, 601, 79, 643, 90, 611, 918, 501, 614)} <= set(stats)
    assert sum(s["vulnerable"] for s in stats.values()) == sum(s["safe"] for s in stats.values())
    seeded = load_corpus("seeded")
    assert len(seeded.cases) >= 30


def test_with_a_model_through_the_normal_machinery_and_its_response_cache(
    cli: RunCli, corpus: Path, fake_provider: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-do-not-store-0123456789abcdef")
    fake_provider.script(
        "auth.py",
        {
            "findings": [  # type: ignore[attr-defined]
                {
                    "path": "auth.py",
                    "line": 6,
                    "severity": "high",
                    "category": "security",
                    "title": "Open redirect",
                    "body": "CWE-601: the next parameter is used unchecked.",
                }
            ],
            "summary": "ok",
        },
    )
    args = (
        "eval",
        str(corpus),
        "-w",
        "security",
        "--model",
        "gpt-4o-mini",
        "--api-base",
        fake_provider.url,
        "-f",
        "json",
        "--min-recall",
        "1",
    )  # type: ignore[attr-defined]
    code, out, err = cli(*args)
    assert code == 0, err
    data = json.loads(out)
    assert data["offline"] is False
    o = data["tokyo"]["overall"]
    assert (o["tp"], o["fp"], o["fn"]) == (2, 0, 0)
    calls = len(fake_provider.requests)  # type: ignore[attr-defined]
    assert calls == 3  # one review call per case
    code, out, err = cli(*args)  # the same corpus again: every answer from the response cache
    assert code == 0, err
    assert len(fake_provider.requests) == calls  # type: ignore[attr-defined]
    assert json.loads(out)["tokyo"]["overall"]["tp"] == 2


def test_max_cost_caps_the_whole_corpus(
    cli: RunCli, corpus: Path, fake_provider: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-do-not-store-0123456789abcdef")
    code, out, err = cli(
        "eval",
        str(corpus),
        "-w",
        "security",
        "--model",
        "gpt-4o-mini",
        "--api-base",
        fake_provider.url,
        "-f",
        "json",
        "--max-cost",
        "0",
        "--no-cache",
    )  # type: ignore[attr-defined]
    assert code == 0, err
    assert fake_provider.requests == []  # type: ignore[attr-defined]
    data = json.loads(out)
    assert any("cost cap $0.00 reached: 3 call(s) not started" in n for n in data["notices"])
    assert data["tokyo"]["overall"]["tp"] == 1  # the analyzers still ran
