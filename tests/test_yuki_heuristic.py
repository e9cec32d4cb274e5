"""Yuki's name check when the repository has no coverage data: only NEW public code in a
project that has tests (``test-gaps:untested``, low, naming the tests it read); a project
without any tests gets one ``test-gaps:no-tests`` finding for the change."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from fakes.gitrepo import GitRepo
from tokyo_cli.analyzers import AnalyzerRun, run_analyzers
from tokyo_cli.findings import Severity
from tokyo_cli.git.repo import load_changeset, resolve_target

SHOP = '''\
"""Orders."""


def total(prices):
    """Sum of prices."""
    result = 0
    for p in prices:
        result += p
    return result
'''
TEST_SHOP = """\
from shop.orders import total


def test_total():
    assert total([1, 2]) == 3
"""
NEW_FUNCS = '''

def refund(order):
    """Give the money back."""
    amount = total(order)
    return -amount


class Ledger:
    """Entries."""

    def record(self, amount):
        """Store one entry."""
        self.last = amount
        return amount
'''


def review(repo: GitRepo, **target: bool) -> AnalyzerRun:
    cs = load_changeset(repo.root, resolve_target(repo.root, **(target or {"working": True})))
    [run] = run_analyzers(["test-gaps"], cs, cs.reviewable(), agent="yuki")
    assert run.error is None, run.error
    return run


@pytest.fixture
def tested(make_git_repo: Callable[..., GitRepo]) -> GitRepo:
    repo = make_git_repo("tested")
    repo.write("shop/__init__.py", "")
    repo.write("shop/orders.py", SHOP)
    repo.write("tests/test_orders.py", TEST_SHOP)
    repo.write("tests/test_misc.py", "def test_truth():\n    assert 1\n")
    repo.commit("base")
    return repo


def test_changing_an_existing_function_without_tests_gives_nothing(tested: GitRepo) -> None:
    tested.write("shop/orders.py", SHOP.replace("        result += p\n", "        result += round(p, 2)\n"))
    assert review(tested).findings == []


def test_new_public_code_is_flagged_low_and_names_the_tests_looked_at(tested: GitRepo) -> None:
    tested.write("shop/orders.py", SHOP + NEW_FUNCS)
    tested.write("tests/test_misc.py", "def test_truth():\n    assert 1 == 1\n")
    run = review(tested)
    found = [(f.rule, f.line, f.severity, f.title) for f in run.findings]
    assert found == [
        ("test-gaps:untested", 12, Severity.LOW, "No test exercises the new function `refund`"),
        ("test-gaps:untested", 18, Severity.LOW, "No test exercises the new class `Ledger`"),
    ]
    body = run.findings[0].body
    assert "Looked at the 1 test file changed in this change: `tests/test_misc.py`." in body
    assert "No coverage data was found" in body


def test_no_changed_test_is_said_so(tested: GitRepo) -> None:
    tested.write("shop/orders.py", SHOP + NEW_FUNCS.split("\n\nclass")[0] + "\n")
    [f] = review(tested).findings
    assert "No test file is changed in this change." in f.body


def test_a_new_function_a_changed_test_names_is_not_flagged(tested: GitRepo) -> None:
    tested.write("shop/orders.py", SHOP + NEW_FUNCS.split("\n\nclass")[0] + "\n")
    tested.write(
        "tests/test_orders.py",
        TEST_SHOP + "\n\ndef test_refund():\n    from shop.orders import refund\n    assert refund([2]) == -2\n",
    )
    assert review(tested).findings == []


def test_a_repository_without_tests_gets_one_finding(make_git_repo: Callable[..., GitRepo]) -> None:
    repo = make_git_repo("untested")
    repo.write("shop/__init__.py", "")
    repo.write("shop/orders.py", SHOP)
    repo.commit("base")
    repo.write("shop/orders.py", SHOP.replace("        result += p\n", "        result += abs(p)\n") + NEW_FUNCS)
    repo.write(
        "shop/tax.py", '"""Tax."""\n\n\ndef vat(x):\n    """Add VAT."""\n    rate = 0.2\n    return x * (1 + rate)\n'
    )
    run = review(repo)
    assert [(f.rule, f.path, f.line, f.severity) for f in run.findings] == [
        ("test-gaps:no-tests", "shop/orders.py", None, Severity.LOW)
    ]
    [f] = run.findings
    assert "this repository" in f.title and "`shop/orders.py`, `shop/tax.py`" in f.body
    # refund, Ledger, Ledger.record, the changed total, vat: counted in the body, never in the
    # title (the fingerprint would change with every function a later push adds)
    assert "the 5 public functions" in f.body and "5" not in f.title


def test_a_change_to_private_code_in_a_repository_without_tests_is_quiet(make_git_repo: Callable[..., GitRepo]) -> None:
    repo = make_git_repo("quiet")
    repo.write("tool.py", "def _helper(x):\n    return x\n")
    repo.commit("base")
    repo.write("tool.py", "def _helper(x):\n    return x + 1\n")
    assert review(repo).findings == []


def test_projects_are_judged_apart_in_a_monorepo(make_git_repo: Callable[..., GitRepo]) -> None:
    repo = make_git_repo("mono")
    for name in ("alpha", "beta"):
        repo.write(f"{name}/pyproject.toml", f"[project]\nname = '{name}'\n")
        repo.write(f"{name}/{name}/__init__.py", "")
        repo.write(f"{name}/{name}/orders.py", SHOP)
    repo.write("alpha/tests/test_orders.py", TEST_SHOP.replace("shop.", "alpha."))
    repo.commit("base")
    for name in ("alpha", "beta"):
        repo.write(f"{name}/{name}/orders.py", SHOP + NEW_FUNCS.split("\n\nclass")[0] + "\n")
    found = sorted((f.rule, f.path, f.line) for f in review(repo).findings)
    assert found == [
        ("test-gaps:no-tests", "beta/beta/orders.py", None),
        ("test-gaps:untested", "alpha/alpha/orders.py", 12),
    ]
    assert "`beta/`" in [f for f in review(repo).findings if f.rule == "test-gaps:no-tests"][0].title


def test_deleting_the_only_tests_reports_the_deletion(tested: GitRepo) -> None:
    tested.delete("tests/test_orders.py")
    tested.delete("tests/test_misc.py")
    rules = sorted(f.rule for f in review(tested).findings)
    assert rules == ["test-gaps:test-deleted", "test-gaps:test-deleted"]


def test_whole_tree_audit_of_a_repository_without_tests(make_git_repo: Callable[..., GitRepo]) -> None:
    repo = make_git_repo("audit")
    repo.write("shop/orders.py", SHOP + NEW_FUNCS)
    repo.commit("base")
    assert [(f.rule, f.line) for f in review(repo, all_files=True).findings] == [("test-gaps:no-tests", None)]


def test_a_reason_on_a_later_line_of_the_marker_counts(tested: GitRepo) -> None:
    """attrs 24.2.0: ``@pytest.mark.xfail(\\n    PY_3_14_PLUS, reason="..."\\n)`` has a reason."""
    tested.write(
        "tests/test_orders.py",
        "import pytest\n\n"
        + TEST_SHOP.replace(
            "def test_total", '@pytest.mark.xfail(\n    True, reason="broken on 3.14"\n)\ndef test_total'
        )
        + "\n\n@pytest.mark.skip(\n)\ndef test_more():\n    assert total([]) == 0\n",
    )
    run = review(tested)
    skipped = sorted((f.line, f.severity, f.title) for f in run.findings if f.rule == "test-gaps:skipped")
    assert skipped == [
        (6, Severity.LOW, "Test newly marked as expected to fail"),
        (13, Severity.MEDIUM, "Test newly skipped without a reason"),
    ]
