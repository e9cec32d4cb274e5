"""The rule prefilter of analyzers/taint.py: a packaged rule runs only when a name its sinks
need occurs in a scanned file (``taint.required_words`` / ``taint.applicable``), so a scan
never loses a finding to it, and a change without any sink never starts semgrep."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from fakes.gitrepo import GitRepo
from tokyo_cli.analyzers import run_analyzers, taint
from tokyo_cli.analyzers import semgrep as semgrep_mod
from tokyo_cli.engine.evaluation import load_corpus
from tokyo_cli.git.repo import load_changeset, resolve_target


def test_every_packaged_rule_has_a_prefilter() -> None:
    _shared, rules = taint.load_pack()
    for rule in rules:
        words = taint.required_words(rule)
        assert words, f"{rule['id']}: no name derived from its sinks"


def test_required_names_come_from_the_patterns() -> None:
    assert taint.required_words({"mode": "taint", "pattern-sinks": [{"pattern": "flask.redirect($URL, ...)"}]}) == {
        "redirect"
    }
    # A string literal is not a name; one pattern without any name disables the prefilter.
    assert (
        taint.required_words(
            {"mode": "taint", "pattern-sinks": [{"pattern": 'os.system("$X")'}, {"pattern": "$F($X)"}]}
        )
        is None
    )
    # A conjunction: one operand's names are enough; a ^(a|b)$ metavariable-regex gives names.
    assert taint.required_words(
        {
            "mode": "taint",
            "pattern-sinks": [
                {
                    "patterns": [
                        {"pattern": "$P.$OP(...)"},
                        {"metavariable-regex": {"metavariable": "$OP", "regex": "^(read_text|unlink)$"}},
                    ]
                }
            ],
        }
    ) == {"read_text", "unlink"}
    # A typed metavariable's type is not in the file's text: only the call's name counts.
    assert taint.required_words(
        {"mode": "taint", "pattern-sinks": [{"pattern": "(sqlalchemy.engine.Connection $C).execute(...)"}]}
    ) == {"execute"}
    # A search rule: its own patterns.
    assert taint.required_words({"patterns": [{"pattern": "$R.set_cookie(...)"}]}) == {"set_cookie"}


def test_applicable_matches_whole_words_only() -> None:
    _shared, rules = taint.load_pack()
    sql = [r for r in rules if r["id"] == "sql-injection"]
    assert taint.applicable(sql, [b"cur.execute(q)\n"]) == sql
    assert taint.applicable(sql, [b"def executed_by(x):\n    return x\n"]) == []
    assert taint.applicable(sql, [b"x = 1\n", b"# cur.executemany later\n"]) == sql


def test_no_vulnerable_corpus_case_loses_its_rule() -> None:
    """Every vulnerable case of the packaged security corpus keeps a rule of its CWE (the
    corpus's equivalences included) after the prefilter, given only the case's files."""
    corpus = load_corpus("security")
    _shared, rules = taint.load_pack()
    checked = 0
    for case in corpus.cases:
        if not case.labels:
            continue
        assert case.head is not None, case.name
        texts = [p.read_bytes() for p in case.head.rglob("*.py")]
        kept = {
            corpus.canon(c)
            for r in taint.applicable(rules, texts)
            for c in semgrep_mod.cwe_numbers((r.get("metadata") or {}).get("cwe"))
        }
        for label in case.labels:
            assert label.cwe is not None and corpus.canon(label.cwe) in kept, (
                f"{case.name}: no CWE-{label.cwe} rule left"
            )
            checked += 1
    assert checked >= 75


def test_a_change_without_any_sink_never_starts_semgrep(tmp_path: Path) -> None:
    """A view reading the request but calling no sink: no rule applies, so semgrep (here a
    missing executable, which would make the run "unavailable") is never started."""
    repo = GitRepo(tmp_path / "repo").init()
    repo.write(
        "app/views.py",
        "from flask import request, jsonify\n\n\ndef show():\n    return jsonify(q=request.args.get('q'))\n",
    )
    repo.commit("x")
    cs = load_changeset(repo.root, resolve_target(repo.root, all_files=True))
    missing = str(tmp_path / "no-such-semgrep")
    run = semgrep_mod.SemgrepAnalyzer(command=[missing]).run(cs, cs.reviewable(), agent="akira", timeout_s=30)
    assert run.error is None and run.findings == []
    # With a sink in the change, the same missing executable is reported.
    repo.write(
        "app/views.py", "import os\nfrom flask import request\n\n\ndef run():\n    os.system(request.args['cmd'])\n"
    )
    repo.commit("y")
    cs = load_changeset(repo.root, resolve_target(repo.root, all_files=True))
    run = semgrep_mod.SemgrepAnalyzer(command=[missing]).run(cs, cs.reviewable(), agent="akira", timeout_s=30)
    assert run.error is not None and run.error.startswith("semgrep unavailable")


def test_summary_scan_names_the_helper_files_of_the_copied_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The summary rules run over the helper files named one by one inside the one copied
    tree (no second copy), and only the applicable rules are built: the flow into the
    helper's SQL sink is found, and no rule without a sink in the tree is sent."""
    repo = GitRepo(tmp_path / "repo").init()
    repo.write("app/__init__.py", "")
    repo.write(
        "app/views.py",
        "from flask import request\n\nfrom app.services import find_users\n\n\n"
        "def view():\n    return str(find_users(request.args['q']))\n",
    )
    repo.write(
        "app/services.py",
        "import sqlite3\n\n\ndef find_users(name):\n"
        "    conn = sqlite3.connect('app.db')\n"
        "    return conn.execute(\"SELECT 1 WHERE n = '%s'\" % name).fetchall()\n",
    )
    repo.write("app/other.py", "from flask import request\n\n\ndef ping():\n    return request.path\n")
    repo.commit("x")
    cs = load_changeset(repo.root, resolve_target(repo.root, all_files=True))
    seen: list[tuple[list[Path], set[str]]] = []
    real = semgrep_mod.SemgrepAnalyzer._invoke

    def recording(self, command, paths, timeout_s, *, config, **kw):  # type: ignore[no-untyped-def]
        rules = yaml.safe_load(config.read_text())["rules"]
        seen.append((list(paths), {r["id"].split("--")[0] for r in rules}))
        return real(self, command, paths, timeout_s, config=config, **kw)

    monkeypatch.setattr(semgrep_mod.SemgrepAnalyzer, "_invoke", recording)
    [run] = run_analyzers(["semgrep"], cs, cs.reviewable(), agent="akira", timeout_s=120)
    assert run.error is None, run.error
    assert [(f.path, f.line, f.rule) for f in run.findings] == [("app/services.py", 6, "semgrep:sql-injection")]
    (main_paths, main_rules), (helper_paths, helper_rules) = seen
    assert main_rules == helper_rules == {"sql-injection"}
    [tree] = main_paths
    assert sorted(p.relative_to(tree).as_posix() for p in helper_paths) == ["app/services.py", "app/views.py"]
