"""Plugins: analyzers, report formats, agents and workflows from installed distributions.

A plugin is a module named by an entry point in the ``tokyo`` group (hooks:
:mod:`tokyo_cli.plugins.hookspecs`). They are loaded once per process, on first need (a
review, ``tokyo agents``, ``tokyo plugins list``), never for ``tokyo --help``.
``TOKYO_PLUGINS`` loads only the plugins it names (comma-separated entry point or
distribution names; set but empty: none), as ``LLM_LOAD_PLUGINS`` does for simonw/llm.

A plugin that cannot be imported, fails pluggy's validation, raises in a hook or registers
a name that is taken is reported — in :attr:`Registry.plugins` (``tokyo plugins list``) and
as one warning line (:func:`warning_line`) — and everything it registered is dropped; it is
never fatal. A plugin is code the user installed: what it registers is trusted, like the
packaged team (a reviewed repository can name a plugin's analyzer, never install one).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from tokyo_cli.plugins.hookspecs import hookimpl

if TYPE_CHECKING:
    from tokyo_cli.results import RunResult

__all__ = [
    "ENTRY_POINT_GROUP",
    "PLUGINS_ENV",
    "PluginInfo",
    "Registry",
    "ReportFormatPlugin",
    "hookimpl",
    "registry",
    "reset",
    "warning_line",
]

ENTRY_POINT_GROUP = "tokyo"
PLUGINS_ENV = "TOKYO_PLUGINS"


class PluginInfo(BaseModel):
    """One plugin as ``tokyo plugins list`` shows it: its entry point ``name``, the
    distribution and version that ship it, its module, the hooks it implements, what it
    registered (names, or paths for agents and workflows), and ``error`` when it failed
    (then nothing of it is used)."""

    name: str
    distribution: str | None = None
    version: str | None = None
    module: str = ""
    hooks: list[str] = Field(default_factory=list)
    analyzers: list[str] = Field(default_factory=list)
    report_formats: list[str] = Field(default_factory=list)
    agents: list[str] = Field(default_factory=list)
    workflows: list[str] = Field(default_factory=list)
    error: str | None = None


@dataclass(frozen=True)
class ReportFormatPlugin:
    """A report format a plugin registered: ``render(result) -> str``, and the ``suffix``
    (``".csv"``) that picks it for ``--output FILE`` (``None``: only ``--format NAME``)."""

    name: str
    render: Callable[[RunResult], str]
    suffix: str | None
    plugin: str


@dataclass
class Registry:
    """What the loaded plugins registered: analyzer factories and report formats by name,
    agents.yaml overlays and workflow files (in plugin order), and every plugin's
    :class:`PluginInfo`."""

    analyzers: dict[str, Callable[[], Any]] = field(default_factory=dict)
    report_formats: dict[str, ReportFormatPlugin] = field(default_factory=dict)
    agents_files: list[Path] = field(default_factory=list)
    workflow_files: list[tuple[str, Path]] = field(default_factory=list)  # (plugin, file)
    plugins: list[PluginInfo] = field(default_factory=list)

    def failed(self) -> list[PluginInfo]:
        """The plugins that could not be used."""
        return [p for p in self.plugins if p.error]

    def refuse(self, plugin: str, error: str) -> None:
        """Record a problem found after loading (a workflow name already packaged)."""
        for info in self.plugins:
            if info.name == plugin and not info.error:
                info.error = error


_lock = threading.RLock()  # a plugin that asks for the registry while loading gets no deadlock
_registry: Registry | None = None


def registry() -> Registry:
    """The plugins of this process, loaded on first call (thread-safe; analyzers ask from
    their threads). Never raises for a plugin's failure (see the module docstring)."""
    global _registry
    with _lock:
        if _registry is None:
            _registry = _load()
        return _registry


def reset() -> None:
    """Forget the loaded plugins, so the next :func:`registry` loads them again (tests)."""
    global _registry
    with _lock:
        _registry = None


def warning_line() -> str | None:
    """One line naming every plugin that failed, or ``None``: ``"warning: plugin 'x' failed
    to load (ImportError: ...); tokyo plugins list shows why"``."""
    failed = registry().failed()
    if not failed:
        return None
    what = "; ".join(f"'{p.name}' ({p.error})" for p in failed)
    noun = "plugin" if len(failed) == 1 else f"{len(failed)} plugins"
    return f"warning: {noun} {what} not used; `tokyo plugins list` shows them"


def _wanted() -> set[str] | None:
    """The names TOKYO_PLUGINS lets load, ``None`` for all (unset)."""
    raw = os.environ.get(PLUGINS_ENV)
    if raw is None:
        return None
    return {n.strip() for n in raw.split(",") if n.strip()}


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__


def _load() -> Registry:
    """Import every wanted entry point of the ``tokyo`` group and collect its registrations."""
    from importlib.metadata import entry_points

    import pluggy

    from tokyo_cli.plugins import hookspecs

    manager = pluggy.PluginManager(ENTRY_POINT_GROUP)
    manager.add_hookspecs(hookspecs)
    reg = Registry()
    wanted = _wanted()
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        dist = getattr(ep, "dist", None)
        dist_name = dist.metadata["Name"] if dist is not None else None
        if wanted is not None and ep.name not in wanted and dist_name not in wanted:
            continue
        info = PluginInfo(
            name=ep.name, distribution=dist_name, version=dist.version if dist is not None else None, module=ep.value
        )
        reg.plugins.append(info)
        if any(p.name == ep.name for p in reg.plugins[:-1]):
            info.error = f"another plugin is already called {ep.name!r}"
            continue
        try:
            module = ep.load()
            manager.register(module, name=ep.name)
        except Exception as exc:  # a broken plugin is reported, never fatal
            info.error = f"cannot load: {_one_line(exc)}"
            continue
        info.hooks = sorted(h.name for h in manager.get_hookcallers(module) or [])
        staged = Registry()
        try:
            _collect(manager, module, ep.name, staged, reg)
        except Exception as exc:
            info.error = str(exc) if isinstance(exc, _Refused) else f"a hook failed: {_one_line(exc)}"
            manager.unregister(module)
            continue
        reg.analyzers.update(staged.analyzers)
        reg.report_formats.update(staged.report_formats)
        reg.agents_files += staged.agents_files
        reg.workflow_files += staged.workflow_files
        info.analyzers = sorted(staged.analyzers)
        info.report_formats = sorted(staged.report_formats)
        info.agents = [str(p) for p in staged.agents_files]
        info.workflows = [str(p) for _, p in staged.workflow_files]
    return reg


class _Refused(Exception):
    """A registration the rules refuse (a name taken, a path that is no file)."""


def _collect(manager: Any, module: Any, plugin: str, staged: Registry, loaded: Registry) -> None:
    """Call ``module``'s hooks, registering into ``staged``; raises :class:`_Refused` or the
    hook's own exception."""
    from tokyo_cli.plugins.builtins import ANALYZERS, FORMATS

    def analyzer(name: str, factory: Callable[[], Any]) -> None:
        if name in ANALYZERS or name in loaded.analyzers or name in staged.analyzers:
            raise _Refused(f"analyzer {name!r} is already registered (built in or by another plugin)")
        if not callable(factory):
            raise _Refused(f"analyzer {name!r}: the factory is not callable")
        staged.analyzers[name] = factory

    def report_format(name: str, render: Callable[[RunResult], str], suffix: str | None = None) -> None:
        if name in FORMATS or name in loaded.report_formats or name in staged.report_formats:
            raise _Refused(f"report format {name!r} is already registered (built in or by another plugin)")
        staged.report_formats[name] = ReportFormatPlugin(name, render, suffix.lower() if suffix else None, plugin)

    def agents(path: str | Path) -> None:
        if not Path(path).is_file():
            raise _Refused(f"agents file {path} does not exist")
        staged.agents_files.append(Path(path))

    def workflows(path: str | Path) -> None:
        path = Path(path)
        files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml")) if path.is_dir() else [path]
        if not all(p.is_file() for p in files):
            raise _Refused(f"workflow path {path} does not exist")
        staged.workflow_files += [(plugin, p) for p in files]

    registers = {
        "register_analyzers": analyzer,
        "register_report_formats": report_format,
        "register_agents": agents,
        "register_workflows": workflows,
    }
    for hook_name, register in registers.items():
        for impl in getattr(manager.hook, hook_name).get_hookimpls():
            if impl.plugin is module:
                impl.function(register=register)
