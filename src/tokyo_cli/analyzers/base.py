"""The offline analyzer contract and registry.

An analyzer is deterministic, needs no credentials, and turns part of a
:class:`~tokyo_cli.repo.Changeset` into :class:`~tokyo_cli.findings.Finding` objects on lines
the change touched. Analyzers are plain synchronous callables: the engine runs them with
``asyncio.to_thread``.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, Field

from tokyo_cli.errors import ConfigError
from tokyo_cli.findings import Finding
from tokyo_cli.repo import Changeset, FileChange

# name -> "module:class"; imported on first use so a broken tool never breaks startup.
_REGISTRY: dict[str, str] = {
    "bandit": "tokyo_cli.analyzers.bandit:BanditAnalyzer",
}


class AnalyzerRun(BaseModel):
    """What one analyzer produced: findings, or ``error`` ("bandit unavailable: ...") when
    the tool could not run. ``seconds`` is wall time."""

    name: str
    findings: list[Finding] = Field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0


@runtime_checkable
class Analyzer(Protocol):
    """An offline analyzer. ``run`` must not raise for tool failures: it reports them in
    ``AnalyzerRun.error`` (``run_analyzers`` still guards against bugs)."""

    name: str

    def run(self, changeset: Changeset, files: list[FileChange], *, agent: str,
            timeout_s: float) -> AnalyzerRun:
        """Analyze ``files`` (a subset of ``changeset.files``) within ``timeout_s`` seconds;
        findings are attributed to ``agent``."""
        ...


def available_analyzers() -> list[str]:
    """Names :func:`get_analyzer` accepts, sorted (for validation messages)."""
    return sorted(_REGISTRY)


def get_analyzer(name: str) -> Analyzer:
    """A fresh analyzer instance by registry name.

    Raises:
        ConfigError: "unknown analyzer 'x' (known: bandit)".
    """
    spec = _REGISTRY.get(name)
    if spec is None:
        raise ConfigError(f"unknown analyzer '{name}' (known: {', '.join(available_analyzers())})")
    module_name, _, attr = spec.partition(":")
    factory = getattr(importlib.import_module(module_name), attr)
    analyzer: Analyzer = factory()
    return analyzer


def run_analyzers(names: Iterable[str], changeset: Changeset, files: list[FileChange], *,
                  agent: str, timeout_s: float = 60) -> list[AnalyzerRun]:
    """Run each named analyzer in turn over ``files``; one AnalyzerRun per name, in order.

    Never raises: an unknown name, a missing tool or a crashing analyzer becomes an
    AnalyzerRun with ``error`` set and no findings.
    """
    runs: list[AnalyzerRun] = []
    for name in names:
        start = time.monotonic()
        try:
            run = get_analyzer(name).run(changeset, files, agent=agent, timeout_s=timeout_s)
        except ConfigError as exc:
            run = AnalyzerRun(name=name, error=str(exc))
        except Exception as exc:  # a bug in one analyzer must not cost the review
            run = AnalyzerRun(name=name, error=f"{name} failed: {type(exc).__name__}: {exc}")
        if not run.seconds:
            run.seconds = time.monotonic() - start
        runs.append(run)
    return runs
