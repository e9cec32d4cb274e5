"""Import cycles introduced by the change, found with grimp (rule ``grimp:import-cycle``).

For each changed module inside a regular Python package, every package it belongs to is
copied (its new version: the change's files plus the rest of the reviewed tree) into a
temporary directory and grimp builds the import graph there, in a subprocess
(``exclude_type_checking_imports=True``; a subprocess keeps grimp's import machinery and
``sys.path`` out of this process and can be stopped at the time limit). An import that the
change adds (an added line; any line for ``--all``) from module A to module B is a finding
when B already reaches A: the new edge closes a cycle. Each distinct cycle is reported once,
on the import line that closes it: medium for a module-level import (import order now
matters and can fail at start-up), low for an import inside a function.

Isolation (no file of the reviewed tree ever runs): grimp parses the copied files statically;
the helper process only has to *locate* the packages. It runs as ``python -I -c SCRIPT``
through :mod:`tokyo_cli.safety.isolation` (allow-listed environment, fresh empty working
directory, no ``PYTHONPATH``), gets the copied package roots on stdin, imports everything it
needs first, and only then installs (1) an audit hook that refuses to compile or execute any
code whose file lies under those roots and refuses to start processes, and (2) a finder that
locates the requested top-level packages in the roots and nowhere else (``sys.path`` never
contains the tree, so nothing of it is importable by name). grimp 3.x scans in its Rust
extension, in threads, and starts no worker processes. No configuration is read.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import tempfile
import time
from pathlib import Path, PurePosixPath
from typing import Any

from tokyo_cli.analyzers.base import AnalyzerRun
from tokyo_cli.analyzers.common import ToolUnavailable, is_python, is_test_path, make_finding, run_tool, whole_tree
from tokyo_cli.analyzers.tree import NewTree, TreeUnavailable, new_tree
from tokyo_cli.findings import Finding, Severity
from tokyo_cli.git.repo import Changeset, FileChange

# Runs in an isolated child Python (``-I``, empty cwd, allow-listed env). stdin:
# {"roots": [copied sys.path roots], "packages": [...], "modules": {module: [added lines] |
# null (every line)}}; stdout: JSON list of new edges that close a cycle. Everything the
# script needs is imported before the guard goes up; after it, no code under the roots can be
# compiled or run, no process started, and the packages are found in the roots only.
_SCRIPT = r"""
import importlib.machinery, importlib.util, json, os, sys
import grimp

req = json.load(sys.stdin)
roots = [os.path.realpath(r) for r in req["roots"]]
prefixes = tuple(os.path.join(r, "") for r in roots)
wanted = frozenset(req["packages"])


def _under(filename):
    return isinstance(filename, str) and os.path.realpath(filename).startswith(prefixes)


def _guard(event, args):
    if event == "compile" and len(args) > 1 and _under(args[1]):
        raise RuntimeError("tokyo: refusing to compile reviewed code: %s" % (args[1],))
    if event == "exec" and args and _under(getattr(args[0], "co_filename", None)):
        raise RuntimeError("tokyo: refusing to run reviewed code: %s" % (args[0].co_filename,))
    if event in ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn",
                 "os.fork", "os.forkpty", "os.startfile"):
        raise RuntimeError("tokyo: the import-graph helper starts no process (%s)" % event)


_find_spec = importlib.util.find_spec


def _find_in_roots(name, package=None):
    # grimp locates each top-level package with importlib.util.find_spec: answer for the
    # requested names from the copied roots only (a spec, never a load); sys.path and the
    # import system never see the roots, so nothing under them is importable by name.
    if name in wanted:
        return importlib.machinery.PathFinder.find_spec(name, roots)
    return _find_spec(name, package)


sys.addaudithook(_guard)
importlib.util.find_spec = _find_in_roots
graph = grimp.build_graph(*sorted(wanted), exclude_type_checking_imports=True, cache_dir=None)
out = []
for module, lines in req["modules"].items():
    if module not in graph.modules:
        continue
    added = None if lines is None else set(lines)
    for imported in sorted(graph.find_modules_directly_imported_by(module)):
        details = graph.get_import_details(importer=module, imported=imported)
        new = sorted(d["line_number"] for d in details if added is None or d["line_number"] in added)
        if not new:
            continue
        chain = graph.find_shortest_chain(importer=imported, imported=module)
        if chain:
            out.append({"importer": module, "imported": imported, "line": new[0], "chain": list(chain)})
json.dump(out, sys.stdout)
"""


class ImportCycleAnalyzer:
    """grimp import graph of the changed packages; new edges that close a cycle."""

    name = "import-cycles"

    @staticmethod
    def accepts(path: str) -> bool:
        """The files it reads as modules: Python code outside tests."""
        return is_python(path) and not is_test_path(path)

    def run(self, changeset: Changeset, files: list[FileChange], *, agent: str, timeout_s: float = 60) -> AnalyzerRun:
        """Analyze the Python modules among ``files``; tool problems go to ``error``."""
        start = time.monotonic()
        changed = [f for f in files if f.skipped is None and self.accepts(f.path)]
        if not changed:
            return AnalyzerRun(name=self.name)
        if importlib.util.find_spec("grimp") is None:
            return AnalyzerRun(
                name=self.name, error="import-cycles unavailable: grimp is not installed (pip install grimp)"
            )
        whole = whole_tree(changeset)
        try:
            tree = new_tree(changeset, timeout_s=timeout_s)
            paths = tree.paths()
            modules: dict[str, FileChange] = {}
            packages: dict[str, str] = {}  # package directory -> its sys.path root
            for change in changed:
                found = _module_of(change.path, paths)
                if found is not None:
                    module, pkg_dir, root = found
                    modules[module] = change
                    packages[pkg_dir] = root
            if not modules:
                return AnalyzerRun(name=self.name, seconds=time.monotonic() - start)
            with tempfile.TemporaryDirectory(prefix="tokyo-grimp-") as tmp:
                roots = _materialize(Path(tmp), tree, paths, packages)
                request = {
                    "roots": [str(r) for r in roots],
                    "packages": sorted({PurePosixPath(d).name for d in packages}),
                    "modules": {m: None if whole else sorted(c.added_lines) for m, c in modules.items()},
                }
                out = run_tool(
                    [sys.executable, "-I", "-B", "-c", _SCRIPT], timeout_s=timeout_s, stdin=json.dumps(request).encode()
                )
        except (ToolUnavailable, TreeUnavailable) as exc:
            return AnalyzerRun(
                name=self.name, error=f"import-cycles unavailable: {exc}", seconds=time.monotonic() - start
            )
        edges = json.loads(out or "[]")
        findings = _findings(edges, modules, changeset, agent)
        return AnalyzerRun(name=self.name, findings=findings, seconds=time.monotonic() - start)


def _module_of(path: str, paths: set[str]) -> tuple[str, str, str] | None:
    """``(dotted module, top package dir, sys.path root)`` for a module inside a regular
    package (every directory up to the top has ``__init__.py``), else ``None``."""
    p = PurePosixPath(path)
    parent = p.parent
    if str(parent / "__init__.py") not in paths:
        return None
    top = parent
    while str(top.parent) != "." and str(top.parent / "__init__.py") in paths:
        top = top.parent
    parts = (
        list(p.relative_to(top.parent).with_suffix("").parts)
        if str(top.parent) != "."
        else list(p.with_suffix("").parts)
    )
    if parts[-1] == "__init__":
        parts = parts[:-1]
    if not all(part.isidentifier() for part in parts):
        return None
    root = "" if str(top.parent) == "." else str(top.parent)
    return ".".join(parts), str(top), root


def _materialize(tmp: Path, tree: NewTree, paths: set[str], packages: dict[str, str]) -> list[Path]:
    """Write every .py file of each package under ``tmp/<n>/``; the sys.path roots."""
    roots: dict[str, Path] = {}
    wanted: dict[str, Path] = {}
    for pkg_dir, root in packages.items():
        base = roots.setdefault(root, tmp / str(len(roots)))
        for path in paths:
            if path.endswith(".py") and path.startswith(pkg_dir + "/"):
                rel = PurePosixPath(path).relative_to(root) if root else PurePosixPath(path)
                wanted[path] = base / rel
    for path, data in tree.read_many(sorted(wanted)).items():
        wanted[path].parent.mkdir(parents=True, exist_ok=True)
        wanted[path].write_bytes(data)
    return list(roots.values())


def _findings(
    edges: list[dict[str, Any]], modules: dict[str, FileChange], changeset: Changeset, agent: str
) -> list[Finding]:
    out: list[Finding] = []
    seen: set[frozenset[str]] = set()
    for edge in edges:
        change = modules.get(edge["importer"])
        cycle = [edge["importer"], *edge["chain"]]
        key = frozenset(cycle)
        if change is None or key in seen:
            continue
        seen.add(key)
        line = int(edge["line"])
        nested = changeset.line_text(change.path, line)[:1].isspace()
        shown = " → ".join(cycle)
        out.append(
            make_finding(
                changeset,
                path=change.path,
                line=line,
                severity=Severity.LOW if nested else Severity.MEDIUM,
                title=f"Import cycle: {shown}",
                body=f"This import of `{edge['imported']}` closes a cycle: {shown}. Modules in a "
                "cycle cannot be understood, tested or reused apart"
                + (
                    ", and the import inside a function only hides it at start-up. "
                    if nested
                    else ", and import order now decides whether start-up fails. "
                )
                + "Move the shared code into a module both can import, or invert the dependency.",
                agent=agent,
                rule="grimp:import-cycle",
                category="architecture",
                confidence=0.9,
            )
        )
    return out
