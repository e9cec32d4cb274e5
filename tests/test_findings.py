"""findings: severity spellings, validation limits, pinned fingerprints, merging and ordering.

Written against mutation-testing survivors (issue 13, benchmarks/mutation.py). The pinned
fingerprints are load-bearing: the ledger dismisses findings by fingerprint, so a change to
the hash or to the text normalisation silently reopens every dismissed finding.
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tokyo_cli.findings import (
    MAX_FINDINGS_PER_REPLY,
    AgentOutput,
    EvidenceVerdict,
    Finding,
    ModelFinding,
    Severity,
    anchor_finding,
    count_by_severity,
    fingerprint,
    merge_duplicates,
    merge_group,
    normalize_text,
    redact,
    redact_all,
    sort_key,
)


def make(
    path: str = "src/app.py",
    line: int | None = 10,
    *,
    title: str = "SQL injection in query",
    agent: str = "akira",
    severity: str = "high",
    **kw: object,
) -> Finding:
    return Finding(path=path, line=line, severity=severity, title=title, agent=agent, **kw)  # type: ignore[arg-type]


# --- severity ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spelling", "severity"),
    [
        ("critical", "critical"),
        ("blocker", "critical"),
        ("high", "high"),
        ("error", "high"),
        ("major", "high"),
        ("medium", "medium"),
        ("warning", "medium"),
        ("warn", "medium"),
        ("moderate", "medium"),
        ("low", "low"),
        ("minor", "low"),
        ("info", "info"),
        ("note", "info"),
        ("nit", "info"),
        ("informational", "info"),
        ("  WARNING \n", "medium"),
        ("Nit", "info"),
        ("HIGH", "high"),
    ],
)
def test_severity_spellings(spelling: str, severity: str) -> None:
    assert Severity.parse(spelling) is Severity(severity)
    assert ModelFinding(path="a.py", severity=spelling, title="t").severity is Severity(severity)


def test_unknown_severity_is_an_error() -> None:
    with pytest.raises(ValueError):
        Severity.parse("bogus")
    with pytest.raises(ValidationError):
        ModelFinding(path="a.py", severity="bogus", title="t")


def test_severity_rank_and_at_least() -> None:
    assert [s.rank for s in Severity] == [4, 3, 2, 1, 0]
    assert Severity.HIGH.at_least(Severity.HIGH) and Severity.HIGH.at_least(Severity.MEDIUM)
    assert not Severity.MEDIUM.at_least(Severity.HIGH)
    assert Severity.INFO.at_least(Severity.INFO) and Severity.CRITICAL.at_least(Severity.INFO)


# --- model replies -------------------------------------------------------------------------


def test_over_long_texts_are_truncated_to_their_limit_with_an_ellipsis() -> None:
    f = ModelFinding(
        path="a.py", severity="low", title="t" * 301, category="c" * 101, body="b" * 20_001, suggestion="s" * 20_001
    )
    assert f.title == "t" * 299 + "…" and len(f.title) == 300
    assert f.category == "c" * 99 + "…"
    assert f.body == "b" * 19_999 + "…" and f.suggestion == "s" * 19_999 + "…"
    exact = ModelFinding(path="a.py", severity="low", title="t" * 300, category="c" * 100, body="b" * 20_000)
    assert (exact.title, exact.category, exact.body) == ("t" * 300, "c" * 100, "b" * 20_000)


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        (" src/x.py ", "src/x.py"),
        ("./src/x.py", "src/x.py"),
        ("././src/x.py", "src/x.py"),
        ("b/src/x.py", "src/x.py"),
        ("a/src/x.py", "src/x.py"),
        ("a/b/x.py", "b/x.py"),  # one diff prefix only
        ("./b/x.py", "x.py"),
        ("src\\x.py", "src/x.py"),
        ("a/", "a/"),
        ("ab/x.py", "ab/x.py"),
    ],
)
def test_model_paths_are_normalised(raw: str, path: str) -> None:
    assert ModelFinding(path=raw, severity="low", title="t").path == path


def test_agent_output_caps_findings_and_summary() -> None:
    finding = {"path": "a.py", "severity": "low", "title": "t"}
    out = AgentOutput.model_validate({"findings": [finding] * (MAX_FINDINGS_PER_REPLY + 3), "summary": "s" * 20_001})
    assert len(out.findings) == MAX_FINDINGS_PER_REPLY and out.truncated == 3
    assert out.summary == "s" * 19_999 + "…"
    exact = AgentOutput.model_validate({"findings": [finding] * MAX_FINDINGS_PER_REPLY, "summary": "s" * 20_000})
    assert (len(exact.findings), exact.truncated, exact.summary) == (MAX_FINDINGS_PER_REPLY, 0, "s" * 20_000)


def test_a_malformed_verdict_costs_only_itself() -> None:
    out = AgentOutput.model_validate(
        {
            "evidence": [
                {"id": "A1", "verdict": "Confirmed"},
                {"id": "A2", "verdict": "maybe"},
                {"id": "A3", "verdict": "false positive", "reason": "test code", "severity": ""},
                {"id": "A4", "verdict": "refined", "severity": "warning"},
            ]
        }
    )
    assert [(v.id, v.verdict, v.severity) for v in out.evidence] == [
        ("A1", "confirm", None),
        ("A3", "dismiss", None),
        ("A4", "refine", Severity.MEDIUM),
    ]
    assert AgentOutput.model_validate({"evidence": "A1"}).evidence == []
    assert EvidenceVerdict(id="A1", verdict=" REJECT ").verdict == "dismiss"


# --- findings, fingerprints ----------------------------------------------------------------


def test_location() -> None:
    assert make(line=None).location == "src/app.py"
    assert make(line=3).location == "src/app.py:3"
    assert make(line=3, end_line=3).location == "src/app.py:3"
    assert make(line=3, end_line=5).location == "src/app.py:3-5"
    assert make(line=3).agents == ["akira"]
    assert make(line=3, agents=["yuki", "akira"]).agents == ["yuki", "akira"]


def test_normalize_text() -> None:
    assert normalize_text("Foo(x) ;") == "foo x"
    assert normalize_text("  Use-after-free: Foo(x) ;\t\nBAR_baz  é ") == "use after free foo x bar baz"
    assert normalize_text("a1  B2") == "a1 b2"


def test_fingerprints_are_pinned() -> None:
    # Changing any of these breaks every dismissal recorded in users' ledgers.
    sql = make(
        line=12, title="SQL injection in query()", anchor_text='    cur.execute("SELECT * FROM t WHERE id=" + uid)'
    )
    assert sql.fingerprint == "0d7d49f8e2c26f90"
    assert make(line=None, severity="low", title="Missing tests", agent="yuki").fingerprint == "eaa68f1d9dc9459e"
    docker = make(
        "Dockerfile",
        3,
        severity="medium",
        title="Pin the base image",
        agent="hiro",
        rule="DL3006",
        anchor_text="FROM python",
    )
    assert docker.fingerprint == "f042aa37c990b870"


def test_fingerprint_ignores_line_case_punctuation_and_spacing_but_not_identity() -> None:
    base = make(line=12, title="SQL injection in query()", anchor_text="cur.execute(q)")
    same = [
        make(line=40, title="SQL injection in query()", anchor_text="cur.execute(q)"),
        make(line=12, title="  sql INJECTION in query ", anchor_text="  cur . execute ( q )"),
        make(line=12, title="SQL injection in query()", anchor_text="cur.execute(q)", severity="low", body="x"),
    ]
    assert all(f.fingerprint == base.fingerprint for f in same)
    different = [
        make("src/other.py", line=12, title="SQL injection in query()", anchor_text="cur.execute(q)"),
        make(line=12, title="SQL injection in query()", anchor_text="cur.execute(q)", agent="yuki"),
        make(line=12, title="SQL injection in query()", anchor_text="cur.run(q)"),
        make(line=12, title="SQL injection in update()", anchor_text="cur.execute(q)"),
    ]
    assert len({base.fingerprint, *(f.fingerprint for f in different)}) == 5
    # A rule, when set, stands in for the agent: two agents running one analyzer rule agree.
    assert make(rule="B608", agent="a").fingerprint == make(rule="B608", agent="b").fingerprint
    assert fingerprint(base) == base.fingerprint and len(base.fingerprint) == 16


# --- ordering and merging ------------------------------------------------------------------


def test_sort_key_orders_by_severity_then_path_then_line_then_title() -> None:
    fs = [
        make("b.py", 5, title="x", severity="low"),
        make("b.py", 2, title="y", severity="low"),
        make("b.py", None, title="z", severity="low"),
        make("a.py", 9, title="w", severity="low"),
        make("b.py", 2, title="a", severity="low"),
        make("z.py", 1, title="c", severity="critical"),
    ]
    assert [(f.path, f.line, f.title) for f in sorted(fs, key=sort_key)] == [
        ("z.py", 1, "c"),
        ("a.py", 9, "w"),
        ("b.py", None, "z"),
        ("b.py", 2, "a"),
        ("b.py", 2, "y"),
        ("b.py", 5, "x"),
    ]


def test_a_file_level_finding_sorts_before_line_one() -> None:
    fs = [make("a.py", 1, title="a", severity="low"), make("a.py", None, title="z", severity="low")]
    assert [f.line for f in sorted(fs, key=sort_key)] == [None, 1]


def test_merged_findings_in_a_file_are_ordered_by_line() -> None:
    fs = [make(line=n, title=f"problem {n}", category="general") for n in (30, 4, 17, 120, 9)]
    assert [f.line for f in merge_duplicates(fs)] == [4, 9, 17, 30, 120]


def test_duplicates_merge_into_the_most_severe_copy_with_all_agents() -> None:
    low = make(line=10, title="SQL injection in query", agent="yuki", severity="low", body="low body")
    high = make(line=10, title="Possible SQL injection in query", agent="akira", severity="high", body="high body")
    third = make(line=9, end_line=12, title="sql injection query", agent="kenji", severity="medium")
    (merged,) = merge_duplicates([low, third, high])
    assert (merged.severity, merged.body, merged.agent) == (Severity.HIGH, "high body", "akira")
    assert merged.agents == ["akira", "kenji", "yuki"]
    assert low.agents == ["yuki"] and high.agents == ["akira"]  # inputs untouched


def test_a_duplicates_suggestion_is_kept_when_the_keeper_has_none() -> None:
    keeper = make(agent="akira", severity="high")
    dup = make(agent="yuki", severity="low", suggestion="use parameters")
    (merged,) = merge_duplicates([dup, keeper])
    assert merged.suggestion == "use parameters" and merged.agents == ["akira", "yuki"]
    own = make(agent="akira", severity="high", suggestion="mine")
    (merged,) = merge_duplicates([dup, own])
    assert merged.suggestion == "mine"
    empty = make(agent="akira", severity="high")
    (merged,) = merge_duplicates([empty, make(agent="yuki", severity="low", suggestion="")])
    assert merged.suggestion is None


def test_file_level_duplicates_from_two_agents_merge() -> None:
    a = make(line=None, title="Missing tests for the parser", agent="yuki")
    b = make(line=None, title="missing tests for the parser!", agent="kenji")
    (merged,) = merge_duplicates([a, b])
    assert sorted(merged.agents) == ["kenji", "yuki"]
    # ... but not with a different title, nor with a line-level finding.
    assert len(merge_duplicates([a, make(line=None, title="Missing docs", agent="kenji")])) == 2
    assert len(merge_duplicates([a, make(line=3, title="Missing tests for the parser", agent="kenji")])) == 2


@pytest.mark.parametrize(
    ("a", "b", "merges"),
    [
        # overlapping ranges, inclusive at the ends
        (dict(line=1, end_line=3), dict(line=3, end_line=5), True),
        (dict(line=3, end_line=5), dict(line=1, end_line=3), True),
        (dict(line=1, end_line=2), dict(line=3), False),
        (dict(line=4), dict(line=1, end_line=3), False),
        (dict(line=5), dict(line=6), False),
        # other path
        (dict(line=5), dict(path="src/other.py", line=5), False),
        # a shared analyzer rule, whatever the titles
        (dict(rule="B608", title="alpha"), dict(rule="B608", title="beta"), True),
        (dict(rule="B608", title="alpha"), dict(rule="B609", title="beta"), False),
        # half the title words (Jaccard 2/4) merges, a third does not
        (dict(title="sql injection here"), dict(title="sql injection there"), True),
        (dict(title="sql here"), dict(title="sql there"), False),
        # a specific shared category merges disjoint titles; "general" does not
        (dict(title="alpha", category="security"), dict(title="beta", category="security"), True),
        (dict(title="alpha", category="general"), dict(title="beta", category="general"), False),
        (dict(title="alpha", category="security"), dict(title="beta", category="style"), False),
        # titles without words only merge on a rule
        (dict(title="!!!", category="security"), dict(title="???", category="security"), False),
        (dict(title="!!!", category="security"), dict(title="alpha", category="security"), False),
        (dict(title="alpha", category="security"), dict(title="!!!", category="security"), False),
    ],
)
def test_when_two_findings_are_the_same_issue(a: dict, b: dict, merges: bool) -> None:
    fa = make(**{"agent": "akira", **a})
    fb = make(**{"agent": "yuki", **b})  # another agent: a different fingerprint
    assert len(merge_duplicates([fa, fb])) == (1 if merges else 2)


def test_merged_analyzer_findings_keep_both_rules_and_cwes() -> None:
    bandit = make(
        title="Possible SQL injection vector through string-based query construction.",
        category="security",
        source="analyzer",
        rule="bandit:B608",
        body="Bandit B608.",
        severity="medium",
    )
    semgrep = make(
        title="SQL injection: untrusted input is built into the text of an SQL query.",
        category="security",
        source="analyzer",
        rule="semgrep:sql-injection",
        body="Semgrep rule.",
        cwe=[89],
    )
    model = make(title="Query built from user input", category="security", body="Use parameters.", severity="low")
    [merged] = merge_duplicates([bandit, semgrep, model])
    assert merged.rule == "semgrep:sql-injection" and merged.cwe == [89]
    assert merged.body == "Semgrep rule.\nAlso reported by `bandit:B608`."  # a model finding adds nothing
    assert bandit.body == "Bandit B608." and semgrep.body == "Semgrep rule."  # inputs untouched
    [again] = merge_duplicates([merged, bandit])
    assert again.body.count("bandit:B608") == 1
    [other_way] = merge_duplicates([bandit.model_copy(update={"severity": Severity.HIGH, "fingerprint": ""}), semgrep])
    assert "Also reported by `semgrep:sql-injection`." in other_way.body and other_way.cwe == [89]


def test_the_same_fingerprint_merges_even_when_the_lines_moved_apart() -> None:
    a = make(line=5, anchor_text="x = 1")
    b = make(line=500, anchor_text="x = 1")
    (merged,) = merge_duplicates([b, a])
    assert merged.line == 5 and merged.agents == ["akira"]


def test_merge_group_folds_members_into_the_most_severe() -> None:
    a = make(line=1, title="one", agent="akira", severity="low")
    b = make(line=2, title="two", agent="yuki", severity="critical")
    c = make(line=3, title="three", agent="kenji", severity="medium")
    d = make(line=4, title="four", agent="hiro", severity="low")
    out = merge_group([a, b, c, d], [a.fingerprint, b.fingerprint, c.fingerprint])
    assert out == [b, d] and b.agents == ["yuki", "akira", "kenji"]
    assert merge_group([a, d], [a.fingerprint]) == [a, d] and a.agents == ["akira"]


def test_count_by_severity_has_every_key() -> None:
    fs = [make(severity="high"), make(severity="high"), make(severity="info")]
    assert count_by_severity(fs) == {"critical": 0, "high": 2, "medium": 0, "low": 0, "info": 1}
    assert count_by_severity([]) == {"critical": 0, "high": 0, "medium": 0, "low": 0, "info": 0}


# --- anchoring -----------------------------------------------------------------------------


class Anchors:
    def __init__(self, lines: dict[int, str]) -> None:
        self.lines = lines

    def is_anchor(self, path: str, line: int) -> bool:
        return path == "src/app.py" and line in self.lines

    def line_text(self, path: str, line: int) -> str:  # as Changeset.line_text: "" when unknown
        return self.lines.get(line, "") if path == "src/app.py" else ""

    def line_count(self, path: str) -> int | None:
        return 20 if path == "src/app.py" else None

    def in_head(self, path: str) -> bool:
        return path in ("src/app.py", "src/untouched.py")


def raw(**kw: object) -> ModelFinding:
    return ModelFinding.model_validate(
        {"path": "src/app.py", "severity": "high", "title": " T ", "body": " B ", "suggestion": "fix", **kw}
    )


def test_anchor_finding_keeps_anchored_lines_and_demotes_the_rest() -> None:
    changes = Anchors({3: "x = 1", 4: "y = 2", 6: "z = 3"})
    kept = anchor_finding(raw(line=3, end_line=6), changes, paths={"src/app.py"}, agent="akira", step="review")
    assert kept is not None
    assert (kept.line, kept.end_line, kept.anchor_text, kept.title, kept.body, kept.suggestion) == (
        3,
        6,
        "x = 1",
        "T",
        "B",
        "fix",
    )
    assert (kept.agent, kept.step, kept.source) == ("akira", "review", "model")
    assert anchor_finding(raw(line=3, end_line=5), changes, paths={"src/app.py"}, agent="a", step="s").end_line is None
    assert anchor_finding(raw(line=4, end_line=3), changes, paths={"src/app.py"}, agent="a", step="s").end_line is None
    assert anchor_finding(raw(line=4, end_line=4), changes, paths={"src/app.py"}, agent="a", step="s").end_line is None
    demoted = anchor_finding(raw(line=5), changes, paths={"src/app.py"}, agent="a", step="s", source="analyzer")
    assert demoted is not None
    assert (demoted.line, demoted.anchor_text, demoted.suggestion, demoted.source) == (None, "", None, "analyzer")
    assert anchor_finding(raw(line=0), changes, paths={"src/app.py"}, agent="a", step="s").line is None
    assert anchor_finding(raw(line=3, path="src/other.py"), changes, paths={"src/app.py"}, agent="a", step="s") is None


def test_a_line_off_the_diff_and_a_file_outside_it_keep_the_line_they_name() -> None:
    changes = Anchors({3: "x = 1"})
    off = anchor_finding(raw(line=12), changes, paths={"src/app.py"}, agent="a", step="s")
    assert off is not None and (off.line, off.file_line, off.suggestion) == (None, 12, None)
    past_the_end = anchor_finding(raw(line=21), changes, paths={"src/app.py"}, agent="a", step="s")
    assert past_the_end is not None and (past_the_end.line, past_the_end.file_line) == (None, None)
    on = anchor_finding(raw(line=3), changes, paths={"src/app.py"}, agent="a", step="s")
    assert on is not None and (on.line, on.file_line) == (3, None)
    # A file of the reviewed tree this call was not shown: listed at file level, line kept.
    other = anchor_finding(raw(line=3, path="src/untouched.py"), changes, paths={"src/app.py"}, agent="a", step="s")
    assert other is not None and (other.path, other.line, other.file_line, other.suggestion) == (
        "src/untouched.py",
        None,
        3,
        None,
    )
    # A path that is no file of the tree (invented, or escaping it) is dropped.
    for path in ("src/invented.py", "../etc/passwd", "/etc/passwd"):
        assert anchor_finding(raw(line=3, path=path), changes, paths={"src/app.py"}, agent="a", step="s") is None


def test_a_finding_off_the_changed_lines_keeps_its_fingerprint_across_reviews() -> None:
    """A full review anchors the finding on its changed line; a later incremental review, in
    which that line is unchanged, demotes it. Same line text, same fingerprint, so a
    dismissal or a posted comment still matches it."""
    full = anchor_finding(raw(line=4), Anchors({4: "y = 2"}), paths={"src/app.py"}, agent="a", step="s")

    class Incremental(Anchors):
        def is_anchor(self, path: str, line: int) -> bool:
            return line == 9  # only another line changed this time

    later = anchor_finding(
        raw(line=4), Incremental({4: "y = 2", 9: "w = 0"}), paths={"src/app.py"}, agent="a", step="s"
    )
    assert full is not None and later is not None
    assert (full.line, later.line, later.file_line, later.anchor_text) == (4, None, 4, "y = 2")
    assert later.fingerprint == full.fingerprint


def test_anchor_finding_carries_the_models_path_severity_category_and_confidence() -> None:
    changes = Anchors({3: "x = 1"})
    for line in (3, 5):  # anchored and demoted alike
        got = anchor_finding(
            raw(line=line, severity="low", category="security", confidence=0.7),
            changes,
            paths={"src/app.py"},
            agent="a",
            step="s",
        )
        assert got is not None
        assert (got.path, got.severity, got.category, got.confidence) == ("src/app.py", Severity.LOW, "security", 0.7)
    unsure = anchor_finding(raw(line=3), changes, paths={"src/app.py"}, agent="a", step="s")
    assert unsure is not None and (unsure.category, unsure.confidence) == ("general", None)


# --- redaction -----------------------------------------------------------------------------

AWS_KEY = "AKIAQYLPMN5HHHFPZAM2"


def test_redact_masks_every_text_and_recomputes_the_fingerprint() -> None:
    secret = make(
        title=f"Key {AWS_KEY} committed",
        body=f"body {AWS_KEY}",
        suggestion=f"KEY = '{AWS_KEY}'",
        anchor_text=f"KEY = '{AWS_KEY}'",
        dismissed_reason=f"ok {AWS_KEY}",
        agents=["akira", "yuki"],
    )
    masked = redact(secret)
    assert masked is not secret and AWS_KEY not in masked.model_dump_json()
    assert masked.title == "Key [MASKED:aws-access-key] committed"
    assert masked.body == "body [MASKED:aws-access-key]"
    assert masked.suggestion == masked.anchor_text == "KEY = '[MASKED:aws-access-key]'"
    assert masked.dismissed_reason == "ok [MASKED:aws-access-key]"
    assert (masked.path, masked.line, masked.agents) == (secret.path, secret.line, ["akira", "yuki"])
    rebuilt = make(title=masked.title, anchor_text=masked.anchor_text)
    assert masked.fingerprint == rebuilt.fingerprint != secret.fingerprint


def test_redact_all_replaces_only_the_findings_that_held_a_secret() -> None:
    clean1, clean2 = make(line=1, title="clean one"), make(line=3, title="clean two")
    dirty = make(line=2, body=f"key {AWS_KEY}")
    out = redact_all([clean1, dirty, clean2])
    assert out[0] is clean1 and out[2] is clean2
    assert out[1] is not dirty and out[1].body == "key [MASKED:aws-access-key]" and out[1].line == 2
    nothing = [clean1, clean2]
    again = redact_all(nothing)
    assert again == nothing and again is not nothing and redact(clean1) is clean1


def test_merge_group_of_two() -> None:
    a = make(line=1, title="one", agent="akira", severity="low")
    b = make(line=2, title="two", agent="yuki", severity="high")
    assert merge_group([a, b], [a.fingerprint, b.fingerprint]) == [b] and b.agents == ["yuki", "akira"]


# --- CWE ids ---------------------------------------------------------------------------------


def test_model_cwe_is_validated_leniently() -> None:
    reply = AgentOutput.model_validate(
        {
            "findings": [
                {
                    "path": "a.py",
                    "line": 1,
                    "severity": "high",
                    "title": "SQL injection",
                    "cwe": ["CWE-89", 79, "junk"],
                },
                {"path": "a.py", "severity": "high", "title": "one id", "cwe": 22},
                {"path": "a.py", "severity": "high", "title": "spellings", "cwe": ["cwe 78", "611", " CWE_94 "]},
                {"path": "a.py", "severity": "high", "title": "garbage", "cwe": {"id": 89}},
                {
                    "path": "a.py",
                    "severity": "high",
                    "title": "out of range",
                    "cwe": [0, -1, 100_001, True, 3.5, None, [89]],
                },
                {"path": "a.py", "severity": "high", "title": "repeats", "cwe": [89, "CWE-89", 89]},
                {"path": "a.py", "severity": "high", "title": "none"},
            ]
        }
    )
    assert [f.cwe for f in reply.findings] == [[89, 79], [22], [78, 611, 94], [], [], [89], []]
    assert ModelFinding(path="a.py", severity="high", title="t", cwe=list(range(1, 50))).cwe == list(range(1, 11))


class _Anchors:
    def is_anchor(self, path: str, line: int) -> bool:
        return True

    def line_text(self, path: str, line: int) -> str:
        return "q = 'SELECT ' + name"


def test_anchor_finding_carries_cwe_and_the_fingerprint_ignores_it() -> None:
    raw = ModelFinding(path="a.py", line=3, severity="high", title="SQL injection", cwe=["CWE-89"])
    f = anchor_finding(raw, _Anchors(), paths={"a.py"}, agent="akira", step="s")
    assert f is not None and f.cwe == [89]
    plain = anchor_finding(raw.model_copy(update={"cwe": []}), _Anchors(), paths={"a.py"}, agent="akira", step="s")
    assert plain is not None and plain.cwe == [] and plain.fingerprint == f.fingerprint
    assert make(cwe=[89, 79]).fingerprint == make().fingerprint


def test_merging_unions_cwe_lists() -> None:
    a = make(cwe=[89], agent="akira")
    b = make(cwe=[79, 89], agent="kenji", severity="medium")
    c = make(agent="hiro", severity="low")
    (merged,) = merge_duplicates([a, b, c])
    assert merged.cwe == [89, 79] and merged.agents == ["akira", "kenji", "hiro"]
    assert a.cwe == [89]  # the input is not mutated
    x = make(cwe=[22], title="path traversal one")
    y = make(line=40, cwe=[23, 22], title="another", severity="low")
    kept = merge_group([x, y], [x.fingerprint, y.fingerprint])
    assert kept == [x] and x.cwe == [22, 23]
