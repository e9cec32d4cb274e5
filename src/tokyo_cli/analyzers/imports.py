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
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import tempfile
import time
from pathlib import Path, PurePosixPath
from typing import Any

from tokyo_cli.analyzers.base import AnalyzerRun
from tokyo_cli.analyzers.common import ToolUnavailable, is_python, is_test_path, make_finding, run_tool, whole_tree
from tokyo_cli.analyzers.tree import NewTree, TreeUnavailable, new_tree
from tokyo_cli.findings import Finding, Severity
from tokyo_cli.repo import Changeset, FileChange

# Runs in a child Python with the copied packages on sys.path. stdin: {"packages": [...],
# "modules": {module: [added lines] | null (every line)}}; stdout: JSON list of new edges
# that close a cycle.
_SCRIPT = r"""
import json, sys
import grimp
req = json.load(sys.stdin)
graph = grimp.build_graph(*req["packages"], exclude_type_checking_imports=True, cache_dir=None)
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

    def run(self, changeset: Changeset, files: list[FileChange], *, agent: str,
            timeout_s: float = 60) -> AnalyzerRun:
        """Analyze the Python modules among ``files``; tool problems go to ``error``."""
        start = time.monotonic()
        changed = [f for f in files if f.skipped is None and is_python(f.path) and not is_test_path(f.path)]
        if not changed:
            return AnalyzerRun(name=self.name)
        if importlib.util.find_spec("grimp") is None:
            return AnalyzerRun(name=self.name, error="import-cycles unavailable: grimp is not installed "
                               "(pip install grimp)")
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
                request = {"packages": sorted({PurePosixPath(d).name for d in packages}),
                           "modules": {m: None if whole else sorted(c.added_lines) for m, c in modules.items()}}
                env_path = os.pathsep.join(str(r) for r in roots)
                out = run_tool([sys.executable, "-c", _SCRIPT], cwd=Path(tmp), timeout_s=timeout_s,
                               stdin=json.dumps(request).encode(),
                               env={**os.environ, "PYTHONPATH": env_path, "PYTHONDONTWRITEBYTECODE": "1"})
        except (ToolUnavailable, TreeUnavailable) as exc:
            return AnalyzerRun(name=self.name, error=f"import-cycles unavailable: {exc}",
                               seconds=time.monotonic() - start)
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
    parts = list(p.relative_to(top.parent).with_suffix("").parts) if str(top.parent) != "." else list(p.with_suffix("").parts)
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


def _findings(edges: list[dict[str, Any]], modules: dict[str, FileChange], changeset: Changeset,
              agent: str) -> list[Finding]:
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
        out.append(make_finding(
            changeset, path=change.path, line=line,
            severity=Severity.LOW if nested else Severity.MEDIUM,
            title=f"Import cycle: {shown}",
            body=f"This import of `{edge['imported']}` closes a cycle: {shown}. Modules in a "
                 "cycle cannot be understood, tested or reused apart"
                 + (", and the import inside a function only hides it at start-up. "
                    if nested else ", and import order now decides whether start-up fails. ")
                 + "Move the shared code into a module both can import, or invert the dependency.",
            agent=agent, rule="grimp:import-cycle", category="architecture", confidence=0.9))
    return out
