"""Offline analyzers: deterministic tools that turn a changeset into findings without a model.

See :mod:`tokyo_cli.analyzers.base` for the contract; one module per analyzer.
"""

from tokyo_cli.analyzers.base import (
    Analyzer,
    AnalyzerRun,
    available_analyzers,
    get_analyzer,
    run_analyzers,
)

__all__ = ["Analyzer", "AnalyzerRun", "available_analyzers", "get_analyzer", "run_analyzers"]
