"""The offline analyzer contract and registry.

An analyzer is deterministic, needs no credentials, and turns part of a
:class:`~tokyo_cli.git.repo.Changeset` into :class:`~tokyo_cli.findings.Finding` objects on lines
the change touched. Analyzers are plain synchronous callables: the engine runs
:func:`run_analyzers` with ``asyncio.to_thread``, and it runs one agent's analyzers at the
same time, each in its own thread, each within the time limit.

Every finding leaves here with secrets masked in its title, body, suggestion and anchored
line text (:func:`~tokyo_cli.findings.redact`: the one detector, :mod:`tokyo_cli.safety.masking`),
so no detected secret reaches a report, the history database or a provider.
"""

from __future__ import annotations

import importlib
import re
import threading
import time
from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, Field

from tokyo_cli.analyzers.common import (
    NotAnalyzedLog,
    TreeConsumer,
    collect_not_analyzed,
    consuming_trees,
    register_tree_consumers,
    unregister_tree_consumer,
)
from tokyo_cli.errors import ConfigError
from tokyo_cli.findings import Finding, redact_all
from tokyo_cli.findings import redact as redact  # re-exported: the mask every analyzer finding gets
from tokyo_cli.git.repo import Changeset, FileChange
from tokyo_cli.plugins.builtins import ANALYZERS as BUILTIN_ANALYZERS
from tokyo_cli.safety.masking import mask_secrets

# name -> "module:class" (tokyo_cli.plugins.builtins, where plugins see the names they may not
# take); imported on first use so a broken tool never breaks startup.
_REGISTRY: dict[str, str] = BUILTIN_ANALYZERS
# Subprocess-based analyzers stop themselves at the limit and say so; this is how much
# longer run_analyzers waits for that before it gives up on a thread.
TIMEOUT_GRACE_S = 2.0
_TIMED_OUT = re.compile(r"timed out after (\S+ s)")


class AnalyzerRun(BaseModel):
    """What one analyzer produced: findings, or ``error`` ("bandit unavailable: ...") when
    the tool could not run. ``seconds`` is wall time.

    ``not_analyzed``: path -> reason for each given file the analyzer could not analyze, so
    the report never claims coverage it does not have. A reason is a short kind, optionally
    followed by `` (detail)``; reports group files by the kind:
    ``"syntax not supported by Python 3.11 (line 2: ...)"``, ``"timed out (after 60 s)"``,
    ``"tool unavailable (bandit unavailable: ...)"``.
    """

    name: str
    findings: list[Finding] = Field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0
    not_analyzed: dict[str, str] = Field(default_factory=dict)
    # One-line facts for the report (the run's notices), e.g. test-gaps' "coverage data
    # (coverage.xml): 41 of 50 changed executable lines covered (82%)".
    notes: list[str] = Field(default_factory=list)


@runtime_checkable
class Analyzer(Protocol):
    """An offline analyzer. ``run`` must not raise for tool failures: it reports them in
    ``AnalyzerRun.error`` (``run_analyzers`` still guards against bugs).

    Files it cannot analyze go to ``AnalyzerRun.not_analyzed``; a Python file that
    :func:`~tokyo_cli.analyzers.common.parse_python` cannot parse is recorded there without
    the analyzer's help. An analyzer may define ``accepts(path) -> bool`` (the files it
    looks at): on a timeout or an error, ``run_analyzers`` then lists only those as not
    analyzed, else every file it was given. An analyzer that reads Python trees with
    :func:`~tokyo_cli.analyzers.common.parse_ast` (passing ``path``) may define
    ``parses(path) -> bool`` (the files whose new version it parses): analyzers running at
    the same time then share one parse of each file (``common.TreeConsumer``).
    """

    name: str

    def run(self, changeset: Changeset, files: list[FileChange], *, agent: str, timeout_s: float) -> AnalyzerRun:
        """Analyze ``files`` (a subset of ``changeset.files``) within ``timeout_s`` seconds;
        findings are attributed to ``agent``."""
        ...


def available_analyzers() -> list[str]:
    """Names :func:`get_analyzer` accepts, sorted (for validation messages): the built-in
    ones and those plugins register (:mod:`tokyo_cli.plugins`, loaded here on first need)."""
    from tokyo_cli.plugins import registry

    return sorted({*_REGISTRY, *registry().analyzers})


def get_analyzer(name: str) -> Analyzer:
    """A fresh analyzer instance by name: a built-in one, else one a plugin registered (the
    plugins load only when a name is not built in).

    Raises:
        ConfigError: "unknown analyzer 'x' (known: bandit, ...)".
    """
    spec = _REGISTRY.get(name)
    if spec is None:
        from tokyo_cli.plugins import registry

        plugin_factory = registry().analyzers.get(name)
        if plugin_factory is None:
            raise ConfigError(f"unknown analyzer '{name}' (known: {', '.join(available_analyzers())})")
        plugged: Analyzer = plugin_factory()
        return plugged
    module_name, _, attr = spec.partition(":")
    factory = getattr(importlib.import_module(module_name), attr)
    analyzer: Analyzer = factory()
    return analyzer


def run_analyzers(
    names: Iterable[str], changeset: Changeset, files: list[FileChange], *, agent: str, timeout_s: float = 60
) -> list[AnalyzerRun]:
    """Run the named analyzers over ``files`` at the same time; one AnalyzerRun per name, in
    the order given.

    Each analyzer runs in its own daemon thread and gets ``timeout_s`` seconds; one still
    running ``TIMEOUT_GRACE_S`` later is reported as "NAME unavailable: timed out after N s"
    and abandoned (a thread cannot be killed; its late result is ignored).

    Never raises: an unknown name, a missing tool or a crashing analyzer becomes an
    AnalyzerRun with ``error`` set and no findings. Each run's ``not_analyzed`` holds what
    the analyzer (or :func:`~tokyo_cli.analyzers.common.parse_python` on its behalf)
    recorded; after a timeout or an error with nothing recorded, every file it would have
    looked at.
    """
    names = list(names)
    slots: list[AnalyzerRun | None] = [None] * len(names)
    logs = [NotAnalyzedLog(changeset, files) for _ in names]
    started = time.monotonic()

    made = [_make(name) for name in names]
    # The analyzers that read Python trees share one parse of each file (common.parse_ast),
    # with those of the other steps running at the same time: registered before any starts.
    consumers = [_tree_consumer(name, analyzer, files) for name, analyzer in zip(names, made)]
    register_tree_consumers(c for c in consumers if c is not None)

    def work(i: int, name: str) -> None:
        with consuming_trees(consumers[i]):
            slots[i] = _run_one(name, changeset, files, agent=agent, timeout_s=timeout_s, log=logs[i], analyzer=made[i])

    threads = [
        threading.Thread(target=work, args=(i, n), name=f"tokyo-analyzer-{n}", daemon=True) for i, n in enumerate(names)
    ]
    try:
        for t in threads:
            t.start()
        deadline = started + timeout_s + TIMEOUT_GRACE_S
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
    finally:  # an abandoned analyzer must not keep trees for itself
        for consumer in consumers:
            if consumer is not None:
                unregister_tree_consumer(consumer)
    runs: list[AnalyzerRun] = []
    for name, run, log in zip(names, slots, logs):
        if run is None:
            reason = f"timed out (after {timeout_s:g} s)"
            run = AnalyzerRun(
                name=name,
                error=f"{name} unavailable: timed out after {timeout_s:g} s",
                seconds=time.monotonic() - started,
                not_analyzed=dict.fromkeys(log.targets(), reason),
            )
        runs.append(run)
    return _taint_supersedes_patterns(runs, changeset, files)


def _taint_supersedes_patterns(
    runs: list[AnalyzerRun], changeset: Changeset, files: list[FileChange]
) -> list[AnalyzerRun]:
    """Where semgrep ran without error beside bandit, drop bandit's sink-pattern findings on
    the files semgrep's taint rules analyzed (see :mod:`tokyo_cli.analyzers.bandit`)."""
    by_name = {r.name: r for r in runs}
    semgrep, bandit = by_name.get("semgrep"), by_name.get("bandit")
    if semgrep is None or bandit is None or semgrep.error is not None or not bandit.findings:
        return runs
    from tokyo_cli.analyzers.bandit import drop_superseded
    from tokyo_cli.analyzers.semgrep import scan_targets

    scanned = set(scan_targets(changeset, files)) - set(semgrep.not_analyzed)
    return [drop_superseded(r, scanned) if r is bandit else r for r in runs]


def _make(name: str) -> Analyzer | BaseException:
    """:func:`get_analyzer`, or what it raised (for :func:`_run_one` to report)."""
    try:
        return get_analyzer(name)
    except Exception as exc:  # reported by _run_one, like an error of its own
        return exc


def _tree_consumer(name: str, analyzer: Analyzer | BaseException, files: list[FileChange]) -> TreeConsumer | None:
    """The :class:`~tokyo_cli.analyzers.common.TreeConsumer` of an analyzer that says which
    files' trees it reads (``parses(path) -> bool``): those of ``files`` it parses."""
    parses = getattr(analyzer, "parses", None)
    if isinstance(analyzer, BaseException) or not callable(parses):
        return None
    given = frozenset(f.path for f in files if f.skipped is None)
    return TreeConsumer(name, lambda path: path in given and bool(parses(path)))


def _run_one(
    name: str,
    changeset: Changeset,
    files: list[FileChange],
    *,
    agent: str,
    timeout_s: float,
    log: NotAnalyzedLog | None = None,
    analyzer: Analyzer | BaseException | None = None,
) -> AnalyzerRun:
    start = time.monotonic()
    log = log if log is not None else NotAnalyzedLog(changeset, files)
    raised = True  # an exception loses everything the analyzer found so far
    with collect_not_analyzed(log):
        try:
            if isinstance(analyzer, BaseException):
                raise analyzer
            analyzer = analyzer if analyzer is not None else get_analyzer(name)
            accepts = getattr(analyzer, "accepts", None)
            log.accepts = accepts if callable(accepts) else None
            run = analyzer.run(changeset, files, agent=agent, timeout_s=timeout_s)
            raised = False
        except ConfigError as exc:
            run = AnalyzerRun(name=name, error=str(exc))
        except ImportError as exc:  # the tool's package is not installed
            run = AnalyzerRun(name=name, error=f"{name} unavailable: {exc}")
        except Exception as exc:  # a bug in one analyzer must not cost the review
            run = AnalyzerRun(name=name, error=f"{name} failed: {type(exc).__name__}: {exc}")
    if not run.seconds:
        run.seconds = time.monotonic() - start
    run.findings = redact_all(run.findings)
    if run.error:
        run.error = mask_secrets(run.error)[0]
    # What the analyzer said itself wins over what parse_python recorded for it. An error
    # with nothing recorded (or an exception) leaves every file it would have looked at.
    not_analyzed = {**log.entries, **run.not_analyzed}
    if run.error and (raised or not not_analyzed):
        not_analyzed = {**dict.fromkeys(log.targets(), error_reason(run.error)), **not_analyzed}
    run.not_analyzed = {path: mask_secrets(reason)[0] for path, reason in not_analyzed.items()}
    return run


SECURITY_ANALYZERS = frozenset({"bandit", "semgrep", "detect-secrets"})
"""Analyzers whose unfinished run makes the whole run ``partial`` (see the engine)."""
FILES_PER_BASE_LIMIT = 1_000
"""How many files one analyzer time limit (``analyzer_timeout``, 60 s by default) is for."""


def analyzer_time_limit(base_s: float, files: int) -> float:
    """Seconds an analyzer may take over ``files`` files: ``base_s`` for up to
    :data:`FILES_PER_BASE_LIMIT` files, then the same rate per file (60 s base: 600 s for
    10,000 files). A fixed limit gives up on whole-tree audits exactly where the security
    analyzers matter; a limit per file keeps a runaway tool bounded."""
    return base_s * max(1.0, files / FILES_PER_BASE_LIMIT)


def unfinished(error: str | None) -> bool:
    """True for an analyzer error meaning it did not finish (timed out, or crashed), as
    opposed to a tool that is not installed."""
    reason = error_reason(error) if error else ""
    return reason.startswith(("timed out", "analyzer failed"))


def error_reason(error: str) -> str:
    """The not-analyzed reason for files an analyzer skipped because of ``error``:
    ``"timed out (after 60 s)"``, ``"analyzer failed (...)"`` (a bug) or
    ``"tool unavailable (bandit unavailable: No module named 'bandit')"``."""
    detail = " ".join(error.split())
    timed_out = _TIMED_OUT.search(detail)
    if timed_out:
        return f"timed out (after {timed_out.group(1)})"
    if "timed out" in detail:
        return "timed out"
    return f"{'analyzer failed' if ' failed: ' in detail else 'tool unavailable'} ({detail})"
