"""``docstrings:missing`` reports public *API* only (issue 14): exported names always, other
public names only in a package that already documents most of its public definitions.
Small real git repositories; a change review of the working tree unless said otherwise."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from fakes.gitrepo import GitRepo
from tokyo_cli.analyzers import AnalyzerRun, run_analyzers
from tokyo_cli.analyzers import docs as docs_mod
from tokyo_cli.analyzers.docs import DOCUMENTED_SHARE, count_documented
from tokyo_cli.findings import Severity
from tokyo_cli.git.repo import load_changeset, resolve_target

MakeRepo = Callable[..., GitRepo]


def _undocumented(names: list[str]) -> str:
    return "".join(f"def {n}(x):\n    return x + 1\n\n\n" for n in names)


def _documented(names: list[str]) -> str:
    return "".join(f'def {n}(x):\n    """{n.title()} x."""\n    return x + 1\n\n\n' for n in names)


def _repo(make_git_repo: MakeRepo, files: dict[str, str]) -> GitRepo:
    repo = make_git_repo("sakura")
    for path, text in files.items():
        repo.write(path, text)
    repo.commit("base")
    return repo


def _run(repo: GitRepo, **target: bool) -> AnalyzerRun:
    cs = load_changeset(repo.root, resolve_target(repo.root, **(target or {"working": True})))
    [run] = run_analyzers(["docstrings"], cs, cs.reviewable(), agent="sakura")
    assert run.error is None, run.error
    for f in run.findings:
        assert f.rule == "docstrings:missing" and f.severity is Severity.LOW
        assert cs.is_anchor(f.path, f.line)
    return run


def _where(run: AnalyzerRun) -> list[tuple[str, int | None]]:
    return sorted((f.path, f.line) for f in run.findings)


def test_a_repository_without_docstrings_gets_no_per_function_findings(make_git_repo: MakeRepo) -> None:
    repo = _repo(make_git_repo, {"app/__init__.py": "", "app/core.py": _undocumented(["load", "save", "run"])})
    twelve = [f"step_{i}" for i in range(12)]
    repo.write("app/steps.py", _undocumented(twelve))
    assert _run(repo).findings == []
    repo.commit("twelve steps")
    assert _run(repo, all_files=True).findings == [], "a whole-tree audit is silent too"


def test_a_new_module_in_an_undocumented_repository_is_silent_even_alone(make_git_repo: MakeRepo) -> None:
    repo = _repo(make_git_repo, {"README.md": "# x\n"})
    repo.write("tool.py", _undocumented([f"f{i}" for i in range(12)]))
    assert _run(repo).findings == []


def test_a_new_undocumented_exported_function_of_a_documented_package(make_git_repo: MakeRepo) -> None:
    api = _documented(["fetch", "store", "query"])
    repo = _repo(make_git_repo, {"shop/__init__.py": "from .api import fetch, query, store\n", "shop/api.py": api})
    repo.write("shop/__init__.py", "from .api import fetch, purge, query, store\n")
    # purge is exported; helper is public-looking but the package names its API without it
    repo.write("shop/api.py", api + "def purge(x):\n    return x\n\n\ndef helper(x):\n    return x\n")
    run = _run(repo)
    assert _where(run) == [("shop/api.py", 16)]
    [f] = run.findings
    assert f.title == "Public function `purge` has no docstring"
    assert "re-exported by `shop/__init__.py`" in f.body and f.severity is Severity.LOW


def test_a_documented_package_without_exports_gates_on_its_documented_share(make_git_repo: MakeRepo) -> None:
    repo = _repo(
        make_git_repo,
        {
            "shop/__init__.py": '"""Shop."""\n',
            "shop/cart.py": _documented(["add", "remove", "total"]),
            "shop/_impl.py": _documented(["pack"]),
        },
    )
    repo.write(
        "shop/cart.py",
        _documented(["add", "remove", "total"]) + "class Basket:\n    def fill(self):\n        return 1\n",
    )
    repo.write("shop/_impl.py", _documented(["pack"]) + _undocumented(["unpack"]))  # private module
    repo.write("tests/test_cart.py", _undocumented(["test_add"]))  # tests are not API
    run = _run(repo)
    assert _where(run) == [("shop/cart.py", 16), ("shop/cart.py", 17)]  # Basket and Basket.fill
    assert "documents 57% of its public definitions, 4 of 7" in run.findings[0].body


def test_a_name_in_dunder_all_is_public_in_a_poorly_documented_package(make_git_repo: MakeRepo) -> None:
    repo = _repo(make_git_repo, {"app/__init__.py": "", "app/core.py": _undocumented(["load", "save"])})
    repo.write("app/cli.py", '__all__ = ["main"]\n\n\n' + _undocumented(["main", "parse"]))
    run = _run(repo)
    assert _where(run) == [("app/cli.py", 4)]
    assert "listed in the module's `__all__`" in run.findings[0].body


def test_re_exports_through_an_inner_package_and_an_init_dunder_all(make_git_repo: MakeRepo) -> None:
    repo = _repo(
        make_git_repo,
        {
            "src/pkg/__init__.py": "from pkg.sub import build\n",
            "src/pkg/sub/__init__.py": "from .impl import build, tune as knob\n",
            "src/pkg/sub/impl.py": "X = 1\n",
        },
    )
    repo.write("src/pkg/sub/impl.py", "X = 1\n\n\n" + _undocumented(["build", "tune", "other"]))
    # build reaches the top package; tune is re-exported by sub as ``knob``; other is not exported
    assert _where(_run(repo)) == [("src/pkg/sub/impl.py", 4), ("src/pkg/sub/impl.py", 8)]
    repo.write("src/pkg/sub/__init__.py", 'from .impl import build, tune\n\n__all__ = ["build"]\n')
    assert _where(_run(repo)) == [("src/pkg/sub/impl.py", 4)], "__all__ in __init__ limits the exports"


def test_star_re_export_and_old_undocumented_code_left_alone(make_git_repo: MakeRepo) -> None:
    repo = _repo(make_git_repo, {"lib/__init__.py": "from .ops import *\n", "lib/ops.py": _undocumented(["old"])})
    repo.write("lib/ops.py", _undocumented(["old", "new", "_hidden"]) + "# tail\n")
    assert _where(_run(repo)) == [("lib/ops.py", 5)], "only the new exported function"


def test_measure_is_bounded(make_git_repo: MakeRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only ``MAX_PACKAGE_FILES`` modules are read, the changed module's directory first."""
    files = {"big/__init__.py": "", "big/a/__init__.py": ""}
    files |= {f"big/z{i:02}.py": _undocumented(["f"]) for i in range(30)}  # an undocumented majority
    files |= {f"big/a/m{i}.py": _documented(["g"]) for i in range(3)}
    repo = _repo(make_git_repo, files)
    repo.write("big/a/new.py", _undocumented(["h"]))
    assert _run(repo).findings == [], "31 of 34 undocumented"
    monkeypatch.setattr(docs_mod, "MAX_PACKAGE_FILES", 5)  # big/a/* (4) and one more
    assert _where(_run(repo)) == [("big/a/new.py", 1)]


def test_count_documented_and_threshold() -> None:
    src = (
        'class A:\n    """A."""\n    def m(self):\n        pass\n    @property\n    def p(self):\n        return 1\n'
        "    def _private(self):\n        pass\n\n\ndef f():\n    '''F.'''\n"
    )
    assert count_documented([src, "def broken(:\n"]) == (2, 3)
    assert 0.5 <= DOCUMENTED_SHARE < 0.6
