"""Mutation testing of one module with mutmut 3 (issue 13, "tests that notice"). Not part of the suite.

    .venv/bin/pip install -e '.[test,mutation]'          # mutmut 3.x, only for this script
    .venv/bin/python benchmarks/mutation.py src/tokyo_cli/git/pathrules.py
    .venv/bin/python benchmarks/mutation.py src/tokyo_cli/engine/cache.py --tests tests/test_cache.py
    .venv/bin/python benchmarks/mutation.py src/tokyo_cli/llm/budget.py --show   # diffs of survivors

The working tree (tracked and untracked, not ignored files) is copied to a temporary directory
and mutmut runs there, so the checkout never gets a `mutants/` directory and a concurrent test
run is not disturbed. mutmut runs in `forkserver` mode: the default `fork` mode forks each
mutant from a process that already ran the tests, so `functools.lru_cache` contents computed
by the unmutated code leak into the mutant and it is reported as a (false) survivor. Each
mutant runs only the tests that reached its function in mutmut's first, instrumented run.

Two ways a mutant is reported as a survivor although a test would catch it:

- a test reaches the mutated function only through a cache (``lru_cache``) that an earlier
  test filled: mutmut's first run records that test as not reaching the function, so the
  mutant never runs it. Clear such caches in an autouse fixture (tests/test_pathrules.py).
- test-module code that runs at import (``X = parse(...)`` at top level) runs once in the
  fork server, unmutated, when it pre-collects the tests. ``--warmup none`` collects in each
  mutant's process instead (slower).

Which tests: by default the test files that import the module (`tokyo_cli.git.pathrules`,
`from tokyo_cli.git import pathrules`, ...); `--tests` replaces that list. The score printed is
killed (including timeouts) / all mutants that ran; "no tests" mutants are listed separately.
The process runs at `nice 19`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


def _module_name(module: str) -> str:
    rel = Path(module).with_suffix("")
    parts = rel.parts[1:] if rel.parts[0] == "src" else rel.parts
    return ".".join(parts)


def tests_importing(module: str) -> list[str]:
    """The test files that import `module` (a path such as src/tokyo_cli/report/sarif.py)."""
    dotted = _module_name(module)
    package, _, leaf = dotted.rpartition(".")
    patterns = [
        re.compile(rf"^\s*(from|import)\s+{re.escape(dotted)}\b", re.M),
        re.compile(rf"^\s*from\s+{re.escape(package)}\s+import\s+[^\n]*\b{re.escape(leaf)}\b", re.M),
    ]
    found = []
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        text = path.read_text(encoding="utf-8")
        if any(p.search(text) for p in patterns):
            found.append(str(path.relative_to(ROOT)))
    return found


def _copy_tree(dest: Path) -> None:
    listed = (
        subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard", "-z"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for rel in filter(None, listed):
        src = ROOT / rel
        if not src.is_file():  # deleted in the working tree
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)


def _toml_list(items: list[str]) -> str:
    return "[" + ", ".join(json.dumps(i) for i in items) + "]"


def _write_config(work: Path, module: str, tests: list[str], warmup: str) -> None:
    # mutmut copies only tests/ and pyproject.toml into mutants/ by default; the tests also read
    # agents.yaml, workflows/, action.yml, ... relative to the repository root.
    also_copy = sorted(p.name for p in work.iterdir() if p.name not in {"src", "mutants"})
    section = f"""

[tool.mutmut]
source_paths = ["src"]
only_mutate = {_toml_list([module])}
also_copy = {_toml_list(also_copy)}
pytest_add_cli_args_test_selection = {_toml_list(tests)}
pytest_add_cli_args = ["-p", "no:cacheprovider", "-p", "no:randomly"]
process_isolation = "forkserver"
forkserver_warmup = "{warmup}"
use_git_change_detection = false
"""
    pyproject = work / "pyproject.toml"
    pyproject.write_text(pyproject.read_text(encoding="utf-8") + section, encoding="utf-8")


def _results(work: Path) -> dict[str, str]:
    out = subprocess.run(
        [str(VENV_BIN / "mutmut"), "results", "--all", "true"],
        cwd=work,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    statuses = {}
    for line in out.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep:
            statuses[name] = status
    return statuses


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("module", help="e.g. src/tokyo_cli/git/pathrules.py")
    parser.add_argument("--tests", nargs="+", help="test files to run (default: those importing it)")
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--show", action="store_true", help="print the diff of every survivor")
    parser.add_argument(
        "--warmup",
        choices=["collect", "import", "none"],
        default="collect",
        help="what the fork server loads before forking mutants (mutmut's forkserver_warmup)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy")
    args = parser.parse_args()

    if shutil.which("mutmut", path=str(VENV_BIN)) is None:
        print("mutmut is not installed: .venv/bin/pip install -e '.[mutation]'", file=sys.stderr)
        return 2
    module = str(Path(args.module))
    if not (ROOT / module).is_file():
        print(f"no such module: {module}", file=sys.stderr)
        return 2
    tests = args.tests or tests_importing(module)
    if not tests:
        print(f"no test file imports {_module_name(module)}; pass --tests", file=sys.stderr)
        return 2
    try:
        os.nice(19)
    except OSError:
        pass

    work = Path(tempfile.mkdtemp(prefix="tokyo-mutation-"))
    try:
        _copy_tree(work)
        _write_config(work, module, tests, args.warmup)
        print(f"{module}: tests {' '.join(tests)}", flush=True)
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        run = subprocess.run(
            [str(VENV_BIN / "mutmut"), "run", "--max-children", str(args.max_children)],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
        )
        if run.returncode != 0:
            sys.stderr.write(run.stdout[-4000:] + run.stderr[-4000:])
            print(f"mutmut run failed ({run.returncode}); copy kept in {work}", file=sys.stderr)
            args.keep = True
            return 1
        statuses = _results(work)
        counts = Counter(statuses.values())
        ran = {k: v for k, v in statuses.items() if v not in {"no tests", "skipped", "not checked"}}
        killed = sum(1 for v in ran.values() if v in {"killed", "timeout", "caught by type check"})
        survivors = sorted(k for k, v in ran.items() if v not in {"killed", "timeout", "caught by type check"})
        for name in survivors:
            print(f"  {ran[name]}: {name}")
            if args.show:
                shown = subprocess.run(
                    [str(VENV_BIN / "mutmut"), "show", name], cwd=work, capture_output=True, text=True
                ).stdout
                print("    " + shown.replace("\n", "\n    "))
        no_tests = sorted(k for k, v in statuses.items() if v == "no tests")
        if no_tests:
            print(f"  no tests reach: {', '.join(no_tests)}")
        pct = 100 * killed / len(ran) if ran else 0.0
        print(f"{module}: killed {killed}/{len(ran)} ({pct:.0f}%) of mutants that ran; statuses {dict(counts)}")
        return 0
    finally:
        if args.keep:
            print(f"kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
