"""How analyzers run: concurrently, within a time limit, never crashing the review, never
leaking a secret; tools that are missing are reported; the new tree for each target."""

from __future__ import annotations

import json
import threading

import pytest

from fakes.gitrepo import GitRepo
from tokyo_cli.analyzers import AnalyzerRun, base, run_analyzers
from tokyo_cli.analyzers import dockerfile as dockerfile_mod
from tokyo_cli.analyzers.actions import ZizmorAnalyzer
from tokyo_cli.analyzers.common import old_lines
from tokyo_cli.analyzers.dockerfile import HadolintAnalyzer
from tokyo_cli.analyzers.tree import NewTree, new_tree
from tokyo_cli.cli.app import main
from tokyo_cli.git.repo import Changeset, FileChange, load_changeset, resolve_target

AWS_KEY = "AKIAQYLPMN5HHHFPZAM2"
PASSWORD = "Tr0ub4dor&3-horse"


def changeset(repo: GitRepo, **target: bool) -> Changeset:
    return load_changeset(repo.root, resolve_target(repo.root, **(target or {"working": True})))


# --- concurrency and time limit ---------------------------------------------------------------

_barrier = threading.Barrier(2, timeout=10)
_release = threading.Event()


class MeetAnalyzer:
    """Finishes only when a second analyzer reaches the barrier at the same time."""

    name = "meet"

    def run(self, changeset: Changeset, files: list[FileChange], *, agent: str, timeout_s: float) -> AnalyzerRun:
        _barrier.wait()
        return AnalyzerRun(name=self.name)


class StuckAnalyzer:
    """Blocks until the test releases it."""

    name = "stuck"

    def run(self, changeset: Changeset, files: list[FileChange], *, agent: str, timeout_s: float) -> AnalyzerRun:
        _release.wait(30)
        return AnalyzerRun(name=self.name)


@pytest.fixture
def fake_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(base._REGISTRY, "meet", f"{__name__}:MeetAnalyzer")
    monkeypatch.setitem(base._REGISTRY, "stuck", f"{__name__}:StuckAnalyzer")
    monkeypatch.setattr(base, "TIMEOUT_GRACE_S", 0.0)


def test_one_agents_analyzers_run_at_the_same_time(git_repo: GitRepo, fake_registry: None) -> None:
    git_repo.write("a.py", "x = 1\n")
    cs = changeset(git_repo)
    # Run one after the other, the first would wait at the barrier for a partner that never comes.
    runs = run_analyzers(["meet", "meet"], cs, cs.reviewable(), agent="a", timeout_s=20)
    assert [(r.name, r.error) for r in runs] == [("meet", None), ("meet", None)]


def test_an_analyzer_past_its_time_limit_is_reported_and_abandoned(git_repo: GitRepo, fake_registry: None) -> None:
    git_repo.write("a.py", "x = 1\n")
    cs = changeset(git_repo)
    try:
        runs = run_analyzers(["stuck", "module-size"], cs, cs.reviewable(), agent="a", timeout_s=0.2)
    finally:
        _release.set()
    assert [(r.name, r.error) for r in runs] == [
        ("stuck", "stuck unavailable: timed out after 0.2 s"),
        ("module-size", None),
    ]


# --- missing or failing tools --------------------------------------------------------------------


def test_missing_tools_are_reported_by_name(git_repo: GitRepo) -> None:
    git_repo.write("Dockerfile", "FROM python:3.12\n")
    git_repo.write(".github/workflows/ci.yml", "on: push\njobs: {}\n")
    cs = changeset(git_repo)
    z = ZizmorAnalyzer(["/nonexistent/zizmor"]).run(cs, cs.reviewable(), agent="hiro")
    h = HadolintAnalyzer(["/nonexistent/hadolint"]).run(cs, cs.reviewable(), agent="hiro")
    assert z.error is not None and z.error.startswith("zizmor unavailable: ") and "/nonexistent/zizmor" in z.error
    assert h.error is not None and h.error.startswith("hadolint unavailable: ")
    failing = ZizmorAnalyzer(["sh", "-c", "echo broken >&2; exit 2"]).run(cs, cs.reviewable(), agent="hiro")
    assert failing.error == "zizmor unavailable: broken (exit code 2)"


def test_without_hadolint_the_own_rules_cover_its_security_checks(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dockerfile_mod, "find_tool", lambda name: None)
    git_repo.write("Dockerfile", "FROM python:3.12-slim\nUSER app\n")
    git_repo.commit("base")
    git_repo.write("Dockerfile", f"FROM python\nENV DB_PASSWORD={PASSWORD}\nUSER root\n")
    cs = changeset(git_repo)
    hadolint, own = run_analyzers(["hadolint", "dockerfile"], cs, cs.reviewable(), agent="hiro")
    assert hadolint.error is not None and "hadolint unavailable" in hadolint.error
    assert sorted((f.line, f.rule) for f in own.findings) == [
        (1, "dockerfile:untagged-base"),
        (2, "dockerfile:secret-in-env"),
        (3, "dockerfile:user-root"),
    ]
    assert all(PASSWORD not in f.model_dump_json() for f in own.findings)


def test_an_offline_review_shows_and_stores_an_unavailable_analyzer(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tokyo_cli.analyzers import actions

    monkeypatch.setattr(actions, "find_tool", lambda name: None)
    workflow = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo\n"
    git_repo.write(".github/workflows/ci.yml", workflow)
    git_repo.commit("base")
    git_repo.write(".github/workflows/ci.yml", workflow.replace("echo", "make"))
    with pytest.raises(SystemExit):
        main(["review", str(git_repo.root), "-f", "json", "-q"])
    report = json.loads(capsys.readouterr().out)
    ops = next(s for s in report["steps"] if s["agent"] == "hiro")
    zizmor = next(a for a in ops["analyzers"] if a["name"] == "zizmor")
    assert zizmor["error"].startswith("zizmor unavailable: the zizmor executable is not installed")
    from tokyo_cli.config.settings import Settings
    from tokyo_cli.store.db import open_db
    from tokyo_cli.store.history import list_runs, load_run

    db = open_db(Settings().db_path())
    [summary] = list_runs(db)
    stored = load_run(db, summary.id)
    notes = [a for s in stored.steps for a in s.analyzers if a.name == "zizmor"]
    assert notes and notes[0].error == zizmor["error"]


# --- secrets never leave in a finding -------------------------------------------------------------


def test_secrets_are_masked_everywhere_in_findings(git_repo: GitRepo) -> None:
    git_repo.write("app/settings.py", "DEBUG = False\n")
    git_repo.commit("base")
    git_repo.write("app/settings.py", f'DEBUG = False\nAWS_KEY = "{AWS_KEY}"\npassword = "{PASSWORD}"\n')
    git_repo.write("docs/setup.md", f"Use the key `{AWS_KEY}` to log in.\n")
    cs = changeset(git_repo)
    code_only = [f for f in cs.reviewable() if f.path.endswith(".py")]  # e.g. an agent that excludes docs
    secrets, bandit = run_analyzers(["detect-secrets", "bandit"], cs, code_only, agent="akira")
    assert sorted((f.path, f.line, f.rule) for f in secrets.findings) == [
        ("app/settings.py", 2, "detect-secrets:AWSKeyDetector"),
        ("app/settings.py", 3, "detect-secrets:KeywordDetector"),
        ("docs/setup.md", 1, "detect-secrets:AWSKeyDetector"),  # every changed file is scanned
    ]
    assert [f.rule for f in bandit.findings] == ["bandit:B105"]
    for f in secrets.findings + bandit.findings:
        dumped = f.model_dump_json()
        assert AWS_KEY not in dumped and PASSWORD not in dumped
        assert "[MASKED:" in f.anchor_text
    assert secrets.findings[0].severity.value == "critical"


def test_allowlisted_and_templated_values_are_not_secrets(git_repo: GitRepo) -> None:
    git_repo.write("app/settings.py", "DEBUG = False\n")
    git_repo.commit("base")
    git_repo.write(
        "app/settings.py",
        (
            f'EXAMPLE_KEY = "{AWS_KEY}"  # pragma: allowlist secret\n'
            'password = os.environ["DB_PASSWORD"]\n'
            'token = "${API_TOKEN}"\n'
            'commit = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"\n'
        ),
    )
    cs = changeset(git_repo)
    [run] = run_analyzers(["detect-secrets"], cs, cs.reviewable(), agent="akira")
    assert (run.error, run.findings) == (None, [])


# --- the old side and the new tree ----------------------------------------------------------------


def test_old_lines_are_rebuilt_from_hunks(git_repo: GitRepo) -> None:
    old = "".join(f"line {i}\n" for i in range(1, 31))
    git_repo.write("f.txt", old)
    git_repo.commit("base")
    new = old.replace("line 2\n", "").replace("line 15\n", "line fifteen\nextra\n") + "tail\n"
    git_repo.write("f.txt", "head\n" + new)
    cs = changeset(git_repo)
    [change] = cs.reviewable()
    assert old_lines(cs, change) == old.splitlines()


@pytest.mark.parametrize("target", ["working", "staged", "range"])
def test_new_tree_follows_the_review_target(git_repo: GitRepo, target: str) -> None:
    git_repo.write("docs/a.md", "# A\n")
    git_repo.write("keep.txt", "kept\n")
    git_repo.commit("base")
    git_repo.checkout_branch("feature")
    git_repo.write("docs/b.md", "# B\n")
    git_repo.delete("keep.txt")
    if target != "working":
        git_repo.stage()
    if target == "range":
        git_repo.commit("feature")
    flags: dict[str, object] = (
        {"working": True} if target == "working" else {"staged": True} if target == "staged" else {"base": "main"}
    )
    cs = load_changeset(git_repo.root, resolve_target(git_repo.root, **flags))  # type: ignore[arg-type]
    tree = NewTree(cs)
    assert new_tree(cs) is new_tree(cs) and new_tree(load_changeset(git_repo.root, cs.target)) is not new_tree(cs)
    assert tree.paths() == {"docs/a.md", "docs/b.md"}
    assert tree.exists("docs") and not tree.exists("keep.txt")
    assert tree.read_many(["docs/a.md", "docs/b.md", "keep.txt"]) == {"docs/a.md": b"# A\n", "docs/b.md": b"# B\n"}


def test_new_tree_keeps_a_file_that_became_a_symlink(git_repo: GitRepo) -> None:
    git_repo.write("target.md", "# T\n")
    git_repo.write("other.md", "# O\n")
    git_repo.commit("base")
    git_repo.delete("target.md")
    git_repo.path("target.md").symlink_to("other.md")  # a type change: deleted + added in the diff
    git_repo.stage()
    cs = load_changeset(git_repo.root, resolve_target(git_repo.root, staged=True))
    assert NewTree(cs).exists("target.md")


def test_a_crashing_analyzer_costs_only_itself(git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    from tokyo_cli.analyzers.size import ModuleSizeAnalyzer

    def boom(self: object, *args: object, **kwargs: object) -> AnalyzerRun:
        raise ValueError("bad input")

    monkeypatch.setattr(ModuleSizeAnalyzer, "run", boom)
    git_repo.write("a.py", "x = 1\n")
    cs = changeset(git_repo)
    runs = run_analyzers(["module-size", "complexity"], cs, cs.reviewable(), agent="kenji")
    assert [(r.name, r.error) for r in runs] == [
        ("module-size", "module-size failed: ValueError: bad input"),
        ("complexity", None),
    ]


def test_analyzer_parses_are_serialised_by_one_lock() -> None:
    """CPython 3.11's AST constructor state is shared between threads (python/cpython#106905:
    "SystemError: AST constructor recursion depth mismatch" on a real release of attrs):
    every in-process parse waits for common.AST_LOCK."""
    import threading

    from tokyo_cli.analyzers.common import AST_LOCK, parse_python
    from tokyo_cli.analyzers.complexity import complexities

    done: list[str] = []
    with AST_LOCK:
        workers = [
            threading.Thread(target=lambda: done.append(type(parse_python("x = 1\n")).__name__)),
            threading.Thread(target=lambda: done.append(str(len(complexities("def f():\n    pass\n"))))),
        ]
        for w in workers:
            w.start()
        for w in workers:
            w.join(0.3)
        assert done == [] and all(w.is_alive() for w in workers)  # both wait for the lock
    for w in workers:
        w.join(10)
    assert sorted(done) == ["1", "Module"]


def test_a_tree_is_kept_for_the_registered_consumers_and_dropped_when_each_took_it() -> None:
    from tokyo_cli.analyzers import common

    src = "def f(x):\n    return x\n"
    assert common.parse_ast(src) is not common.parse_ast(src)  # outside a run: nothing kept
    a, b, c = (common.TreeConsumer(n, lambda p: p == "m.py") for n in "abc")
    never = common.TreeConsumer("tests-only", lambda p: False)  # does not parse m.py
    before = dict(common.tree_stats)
    common.register_tree_consumers([a, b, c, never])
    try:
        with common.consuming_trees(a):
            first = common.parse_ast(src, path="m.py")
        assert common._pinned[src].waiting == {b, c}  # not a (it parsed it), not ``never``
        with common.consuming_trees(b):
            assert common.parse_ast(src, path="m.py") is first
        assert src in common._pinned  # c has not taken it yet
        with common.consuming_trees(c):
            assert common.parse_ast(src, path="m.py") is first
        assert src not in common._pinned  # each took it: no longer held for anyone
        assert common.tree_stats["parsed"] - before["parsed"] == 1
        assert common.tree_stats["shared"] - before["shared"] == 2
    finally:
        common.unregister_tree_consumer(never)
    assert common._pinned == {} and common._recent == {}  # the last consumer left: all dropped
    assert common._pinned_bytes == 0 and common._recent_bytes == 0


def test_kept_trees_are_bounded_when_a_consumer_lags(monkeypatch: pytest.MonkeyPatch) -> None:
    """A consumer that does not catch up costs a parse of the dropped trees, never more memory
    than SHARED_SOURCE_BYTES of source; the thread ahead waited (SHARED_WAIT_S) first."""
    from tokyo_cli.analyzers import common

    sources = [f"v{i} = {i}\n" for i in range(20)]
    monkeypatch.setattr(common, "SHARED_SOURCE_BYTES", 5 * len(sources[0]))
    monkeypatch.setattr(common, "SHARED_WAIT_S", 0.01)
    ahead, lagging = common.TreeConsumer("ahead", lambda p: True), common.TreeConsumer("lagging", lambda p: True)
    common.register_tree_consumers([ahead, lagging])
    before = dict(common.tree_stats)
    try:
        with common.consuming_trees(ahead):
            trees = [common.parse_ast(s, path=f"m{i}.py") for i, s in enumerate(sources)]
            assert common._pinned_bytes <= common.SHARED_SOURCE_BYTES
        dropped = common.tree_stats["dropped"] - before["dropped"]
        assert dropped >= len(sources) - 5
        with common.consuming_trees(lagging):
            again = [common.parse_ast(s, path=f"m{i}.py") for i, s in enumerate(sources)]
        assert sum(t is u for t, u in zip(trees, again)) == len(sources) - dropped
        assert common.tree_stats["parsed"] - before["parsed"] == len(sources) + dropped
    finally:
        common.unregister_tree_consumer(lagging)
    assert common._pinned == {}


def test_a_consumer_ahead_waits_for_the_others_instead_of_dropping(monkeypatch: pytest.MonkeyPatch) -> None:
    """With room for 2 trees, the thread ahead waits while the other takes them: every file
    is parsed once and nothing is dropped."""
    from tokyo_cli.analyzers import common

    sources = [f"w{i} = {i}\n" for i in range(30)]
    monkeypatch.setattr(common, "SHARED_SOURCE_BYTES", 2 * len(sources[0]))
    monkeypatch.setattr(common, "SHARED_WAIT_S", 30.0)
    ahead, behind = common.TreeConsumer("ahead", lambda p: True), common.TreeConsumer("behind", lambda p: True)
    common.register_tree_consumers([ahead, behind])
    before = dict(common.tree_stats)
    got: dict[str, list[object]] = {}

    def consume(consumer: common.TreeConsumer) -> None:
        with common.consuming_trees(consumer):
            got[consumer.name] = [common.parse_ast(s, path=f"m{i}.py") for i, s in enumerate(sources)]

    first = threading.Thread(target=consume, args=(ahead,))
    try:
        first.start()
        first.join(0.5)
        assert first.is_alive()  # waiting for room: the other has not taken anything yet
        second = threading.Thread(target=consume, args=(behind,))
        second.start()
        for t in (first, second):
            t.join(30)
    finally:
        common.unregister_tree_consumer(ahead)
        common.unregister_tree_consumer(behind)
    assert len(got["ahead"]) == len(got["behind"]) == len(sources)
    assert all(x is y for x, y in zip(got["ahead"], got["behind"]))
    assert common.tree_stats["parsed"] - before["parsed"] == len(sources)
    assert common.tree_stats["dropped"] == before["dropped"]


TREE_MODULES = {
    "pkg/__init__.py": '"""A package."""\n\n__all__ = ["api", "Thing"]\nfrom pkg.core import Thing, api\n',
    "pkg/core.py": (
        "import os\n\n\ndef api(x):\n    return os.environ.get('PKG_TIMEOUT', x)\n\n\n"
        "class Thing:\n    def run(self, a, b, c):\n"
        + "".join(f"        if a == {i} and b or c:\n            a += {i}\n" for i in range(12))
        + "        return a\n"
    ),
    "pkg/util.py": 'def helper(v):\n    """Help."""\n    return v\n',
    "pkg/broken.py": "def broken(:\n    pass\n",
    "tests/test_core.py": "from pkg.core import api\n\n\ndef test_api():\n    api(1)\n",
    "README.md": "# pkg\n",
}
TREE_ANALYZERS = ["docstrings", "readme-mentions", "test-gaps", "complexity"]


def test_tree_analyzers_parse_each_file_once_with_the_results_of_separate_runs(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docstrings, readme-mentions, test-gaps and complexity run together parse each new file
    once between them (common.TreeConsumer), and find what each finds run alone."""
    import ast

    git_repo.write("pkg/old.py", "X = 1\n")
    git_repo.commit("base")
    for rel, text in TREE_MODULES.items():
        git_repo.write(rel, text)
    cs = changeset(git_repo)
    alone = [run_analyzers([name], cs, cs.reviewable(), agent="a")[0] for name in TREE_ANALYZERS]

    parsed: list[object] = []
    real_parse = ast.parse

    def counting(source: object, *args: object, **kwargs: object) -> object:
        parsed.append(source)
        return real_parse(source, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(ast, "parse", counting)
    together = run_analyzers(TREE_ANALYZERS, cs, cs.reviewable(), agent="a")

    def outcome(r: AnalyzerRun) -> tuple[object, ...]:
        return (r.name, r.error, r.not_analyzed, r.notes, [f.model_dump() for f in r.findings])

    assert [outcome(r) for r in together] == [outcome(r) for r in alone]
    assert sum(len(r.findings) for r in together) >= 3  # the comparison compares something
    assert "pkg/broken.py" in together[0].not_analyzed
    for rel, text in TREE_MODULES.items():
        if rel.endswith(".py") and rel != "pkg/broken.py":
            assert parsed.count(text) == 1, rel  # each of the four reads it: one parse
