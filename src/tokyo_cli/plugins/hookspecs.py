"""The hooks a tokyo plugin may implement (pluggy, project name ``tokyo``).

A plugin is a module named by an entry point in the ``tokyo`` group of its distribution::

    # pyproject.toml of the plugin
    [project.entry-points.tokyo]
    myplugin = "tokyo_myplugin"

    # tokyo_myplugin.py
    from tokyo_cli.plugins import hookimpl

    @hookimpl
    def register_analyzers(register):
        register("todo-markers", TodoAnalyzer)          # a class or factory -> Analyzer

    @hookimpl
    def register_report_formats(register):
        register("csv", render_csv, suffix=".csv")       # render(RunResult) -> str

    @hookimpl
    def register_agents(register):
        register(Path(__file__).parent / "agents.yaml")  # an overlay, trusted like the packaged team

    @hookimpl
    def register_workflows(register):
        register(Path(__file__).parent / "workflows")    # a directory of *.yaml, or one file

A plugin is code the user installed, so what it registers is trusted (unlike a reviewed
repository's configuration). Analyzers, formats and workflows are added, never replaced: a
name already built in is refused. An agents overlay may change packaged agents (list its
analyzer for one), with the packaged file's merge rules. The shapes are simonw/llm's
(``register_models(register)``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("tokyo")
hookimpl = pluggy.HookimplMarker("tokyo")


@hookspec
def register_analyzers(register: Callable[..., None]) -> None:
    """Register offline analyzers: ``register(name, factory)``.

    ``name`` is what an agent lists under ``analyzers`` in agents.yaml; ``factory()`` returns
    an object with ``name`` and ``run(changeset, files, *, agent, timeout_s) -> AnalyzerRun``
    (the :class:`tokyo_cli.analyzers.base.Analyzer` protocol). It runs in tokyo's own process,
    in a thread, within the time limit, like a built-in analyzer.
    """


@hookspec
def register_report_formats(register: Callable[..., None]) -> None:
    """Register report formats: ``register(name, render, suffix=None)``.

    ``render(result: RunResult) -> str`` gives the whole report; ``tokyo review --format NAME``
    prints it (or writes it with ``--output``), and ``--output FILE`` with ``suffix``
    (``".csv"``) picks it. ``result`` is the masked run, as every built-in format gets it.
    """


@hookspec
def register_agents(register: Callable[..., None]) -> None:
    """Register agents.yaml overlays: ``register(path)``. Each is merged after the packaged
    team and before the repository's own, with the packaged team's trust (same id overrides
    fields, a new id adds an agent)."""


@hookspec
def register_workflows(register: Callable[..., None]) -> None:
    """Register workflows: ``register(path)``, a workflow YAML file or a directory of them.
    They are listed after the packaged workflows and before the repository's (which may
    replace one by name, under the repository rules); a packaged workflow's name is refused."""


SPECS: tuple[Any, ...] = (register_analyzers, register_report_formats, register_agents, register_workflows)
