"""The package layout holds (docs/ARCHITECTURE.md, "Package layout").

Built from tokyo's own import graph (grimp, which reads imports statically: module level,
inside functions and under ``TYPE_CHECKING`` alike), so a new import that breaks a rule fails
here with the importing line named:

* no import cycle between the top-level packages and modules of ``tokyo_cli``;
* the layers hold: edges (cli, tui, github, hook) -> engine -> services (analyzers, llm,
  report, store; independent of each other) -> config -> plugins -> git -> basics -> safety,
  never upwards;
* the core (everything but the edges) never imports typer or textual; rich only in the
  terminal reporter (``report.terminal``, loaded lazily by ``report.__getattr__``); litellm
  only in ``llm.gateway``, and there only inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
import pytest

PKG = "tokyo_cli"
SRC = Path(__file__).resolve().parents[1] / "src" / PKG

EDGES = ("cli", "tui", "github", "hook", "__main__")
SERVICES = ("analyzers", "llm", "report", "store")
BASICS = ("summary", "results", "events", "policy", "findings", "errors", "telemetry")
# Highest first. An independent layer's members may not import each other either.
LAYERS = (
    grimp.Layer(*EDGES, independent=False),
    grimp.Layer("engine"),
    grimp.Layer(*SERVICES, independent=True),
    grimp.Layer("config"),
    grimp.Layer("plugins"),  # config reads plugins' agents and workflows; plugins import no tokyo layer above basics
    grimp.Layer("git"),
    grimp.Layer(*BASICS, independent=False),
    grimp.Layer("safety"),
)


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    # cache_dir=None: grimp would otherwise write .grimp_cache/ into the working directory.
    return grimp.build_graph(PKG, include_external_packages=True, cache_dir=None)


def top(module: str) -> str | None:
    """``tokyo_cli.llm.gateway`` -> ``llm``; ``tokyo_cli`` itself -> None."""
    parts = module.split(".")
    return parts[1] if parts[0] == PKG and len(parts) > 1 else None


def package_edges(graph: grimp.ImportGraph) -> dict[tuple[str, str], list[str]]:
    """(importer package, imported package) -> one example ``module:line: text`` per import."""
    edges: dict[tuple[str, str], list[str]] = {}
    for module in graph.modules:
        a = top(module)
        if a is None:
            continue
        for imported in graph.find_modules_directly_imported_by(module):
            b = top(imported)
            if b is None or b == a:
                continue
            for d in graph.get_import_details(importer=module, imported=imported):
                edges.setdefault((a, b), []).append(f"{module}:{d['line_number']}: {d['line_contents']}")
    return edges


def find_cycle(edges: dict[tuple[str, str], list[str]]) -> list[str] | None:
    """One cycle of packages (first == last), or None."""
    succ: dict[str, set[str]] = {}
    for a, b in edges:
        succ.setdefault(a, set()).add(b)
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(succ.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(succ):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_every_top_level_module_has_a_layer(graph: grimp.ImportGraph) -> None:
    placed = {m for layer in LAYERS for m in layer.module_tails}
    children = {top(m) for m in graph.find_children(PKG)}
    assert children - placed == set(), "add the new package or module to a layer (and the docs)"
    assert placed - children == set(), "a layer names a package that no longer exists"


def test_no_package_level_cycle(graph: grimp.ImportGraph) -> None:
    edges = package_edges(graph)
    cycle = find_cycle(edges)
    if cycle:
        lines = [f"{a} -> {b}: {edges[(a, b)][0]}" for a, b in zip(cycle, cycle[1:])]
        pytest.fail("package-level import cycle:\n" + "\n".join(lines))


def test_layers_hold(graph: grimp.ImportGraph) -> None:
    illegal = graph.find_illegal_dependencies_for_layers(layers=LAYERS, containers={PKG})
    problems = []
    for dep in sorted(illegal, key=lambda d: (d.importer, d.imported)):
        for route in dep.routes:
            chain = " -> ".join([*route.heads, *route.middle, *route.tails])
            problems.append(f"{dep.importer} -> {dep.imported}: {chain}")
    assert not problems, "imports from a lower layer to a higher one:\n" + "\n".join(problems)


def importers_of(graph: grimp.ImportGraph, external: str) -> set[str]:
    if external not in graph.modules:
        return set()
    return set(graph.find_modules_that_directly_import(external))


def is_core(module: str) -> bool:
    return top(module) not in EDGES


@pytest.mark.parametrize("external", ["typer", "textual", "click"])
def test_core_never_imports_ui_frameworks(graph: grimp.ImportGraph, external: str) -> None:
    assert sorted(m for m in importers_of(graph, external) if is_core(m)) == []


def test_rich_in_the_core_only_in_the_terminal_reporter(graph: grimp.ImportGraph) -> None:
    assert sorted(m for m in importers_of(graph, "rich") if is_core(m)) == [f"{PKG}.report.terminal"]
    # ...and nothing else in the core pulls the terminal reporter in (report.__getattr__ does).
    importers = graph.find_modules_that_directly_import(f"{PKG}.report.terminal")
    assert sorted(m for m in importers if is_core(m) and m != f"{PKG}.report") == []


def module_level_imports(path: Path) -> set[str]:
    """Top-level names imported by statements that run at import time (not in functions, not
    under ``if TYPE_CHECKING``)."""
    names: set[str] = set()

    def walk(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
            elif isinstance(node, ast.If):
                if "TYPE_CHECKING" not in ast.unparse(node.test):
                    walk(node.body)
                walk(node.orelse)
            elif isinstance(node, (ast.Try, ast.With, ast.ClassDef)):
                walk(node.body)
                for handler in getattr(node, "handlers", []):
                    walk(handler.body)

    walk(ast.parse(path.read_text("utf-8")).body)
    return names


def test_litellm_only_in_the_gateway_and_only_lazily(graph: grimp.ImportGraph) -> None:
    assert importers_of(graph, "litellm") == {f"{PKG}.llm.gateway"}
    assert "litellm" not in module_level_imports(SRC / "llm" / "gateway.py")


def test_module_level_check_sees_an_import() -> None:
    """The helper above is what makes the lazy-litellm assertion able to fail."""
    assert "rich" in module_level_imports(SRC / "report" / "terminal.py")


# Packages whose modules import each other in a circle today (function-level or lazy
# imports): analyzers (base <-> bandit, semgrep), github (action <-> commands), report
# (__init__ <-> its reporters, by design), tui (app <-> screens). Everywhere else none.
MODULE_CYCLES_KNOWN = ("analyzers", "github", "report", "tui")


def test_no_module_cycle_outside_the_known_packages(graph: grimp.ImportGraph) -> None:
    found = []
    for module in sorted(graph.modules):
        if top(module) is None or top(module) in MODULE_CYCLES_KNOWN:
            continue
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if top(imported) and graph.chain_exists(importer=imported, imported=module):
                found.append(f"{module} -> {imported} -> ... -> {module}")
    assert found == []
