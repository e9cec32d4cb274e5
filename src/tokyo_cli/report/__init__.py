"""Reporters: render a :class:`~tokyo_cli.results.RunResult` for people and machines.

Data first, rendering second: every reporter reads only the ``RunResult`` (never the engine,
the store or the repository), so a run reloaded from history renders exactly like a live one.

Public API::

    render_terminal(result: RunResult, console: rich.console.Console) -> None   # report.terminal
    render_markdown(result: RunResult) -> str                                  # report.markdown
    render_json(result: RunResult) -> str                                      # report.jsonout

``render_terminal`` is imported lazily (module ``__getattr__``) so that using the Markdown or
JSON reporter never imports rich.

This module also holds the rules the three formats share, so they cannot drift apart: which
files count as "not reviewed" and why, which files an analyzer could not analyze
(:func:`not_analyzed_groups`), the offline notes, the problems list (failed steps, failed
calls, unavailable analyzers) and :func:`empty_message` — the one place that decides whether
a run with no findings may honestly say "No findings.".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tokyo_cli.findings import Finding, Severity, count_by_severity
from tokyo_cli.plugins.builtins import FORMATS
from tokyo_cli.policy import rank_key
from tokyo_cli.results import RunResult, StepResult
from tokyo_cli.safety.textsafe import clean_text, one_line, quote_path

if TYPE_CHECKING:
    from tokyo_cli.report.jsonout import render_json
    from tokyo_cli.report.markdown import render_markdown
    from tokyo_cli.report.terminal import render_terminal

__all__ = [
    "BENIGN_SKIPS",
    "BUILTIN_FORMATS",
    "STEP_STATUS_STYLE",
    "NotReviewed",
    "blocking_label",
    "caveats",
    "clean_text",
    "compact_counts",
    "compact_tokens",
    "count_by_severity",
    "empty_message",
    "finding_location",
    "format_seconds",
    "format_tokens",
    "format_usd",
    "group_by_file",
    "hidden_note",
    "not_analyzed_groups",
    "not_reviewed",
    "offline_note",
    "offline_notes",
    "one_line",
    "problems",
    "quote_path",
    "render_json",
    "render_markdown",
    "render_terminal",
    "shown_findings",
    "verification_text",
]

SEVERITIES: list[Severity] = list(Severity)  # critical first, info last
BUILTIN_FORMATS = FORMATS
"""The report formats tokyo ships (:mod:`tokyo_cli.plugins.builtins`); a plugin may add others,
never replace these."""

# Skipping these loses nothing a reviewer would look at; "too large" and "excluded" do.
BENIGN_SKIPS = frozenset({"binary", "deleted", "vendored", "generated"})

_UNFINISHED = frozenset({"pending", "running"})

_LAZY = {
    "render_terminal": "tokyo_cli.report.terminal",
    "render_markdown": "tokyo_cli.report.markdown",
    "render_json": "tokyo_cli.report.jsonout",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --- text hygiene ---------------------------------------------------------------------------
# clean_text, one_line and quote_path live in tokyo_cli.safety.textsafe (the TUI and the progress
# display use them too) and are re-exported here for the reporters.


def finding_location(f: Finding) -> str:
    """``f.location`` with its path through :func:`quote_path`: ``src/a.py:3``, or
    ``"evil\nname.py":3`` for a path that would otherwise break the line."""
    return quote_path(f.path) + f.location[len(f.path) :]


# --- numbers ----------------------------------------------------------------------------------


STEP_STATUS_STYLE = {  # rich style names for a step's status, in the terminal and live progress
    "ok": "green",
    "offline": "yellow",
    "partial": "yellow",
    "failed": "bold red",
    "skipped": "dim",
    "pending": "dim",
    "running": "blue",
}


def compact_counts(counts: dict[str, int], *, empty: str = "none") -> str:
    """``{"high": 1, "low": 2}`` -> ``"1 high · 2 low"``, most severe first; ``empty`` if all 0."""
    parts = [f"{counts[s.value]} {s.value}" for s in SEVERITIES if counts.get(s.value)]
    return " · ".join(parts) if parts else empty


def format_usd(cost: float | None) -> str:
    """USD for people: ``"—"`` when unknown, 4 decimals under $1 (``"$0.0123"``), else 2."""
    if cost is None:
        return "—"
    return f"${cost:.4f}" if cost < 1 else f"${cost:,.2f}"


def format_tokens(n: int) -> str:
    """Token count with thousands separators: ``12345`` -> ``"12,345"``."""
    return f"{n:,}"


def compact_tokens(n: int) -> str:
    """Token count for narrow tables: ``1234`` -> ``"1,234"``, ``99999`` -> ``"100.0k"``,
    ``1_250_000`` -> ``"1.2M"`` (at most 6 characters; totals print exact counts)."""
    if n < 10_000:
        return f"{n:,}"
    if n < 999_950:
        return f"{n / 1000:.1f}k"
    return f"{n / 1_000_000:.1f}M"


def format_seconds(seconds: float) -> str:
    """Seconds with one decimal: ``1.234`` -> ``"1.2"`` (callers add the unit)."""
    return f"{seconds:.1f}"


def plural(n: int, word: str, words: str | None = None) -> str:
    """``plural(1, "file")`` -> ``"1 file"``; ``plural(2, "file")`` -> ``"2 files"``."""
    return f"{n} {word if n == 1 else (words or word + 's')}"


# --- agents and steps -------------------------------------------------------------------------


def agent_names(result: RunResult) -> dict[str, str]:
    """Agent id -> display name, from the run's steps (``{"akira": "Akira"}``)."""
    return {s.agent: s.agent_name for s in result.steps}


def offline_note(step: StepResult) -> str | None:
    """For an offline step, the line that tells the user how to give the agent its model.

    ``"Akira ran without a model — set ANTHROPIC_API_KEY to give it claude-opus-4-5"``;
    with several candidate variables they are joined with "or"; without any (``--offline``)
    the line says so. ``None`` for a step that is not offline.
    """
    if step.status != "offline":
        return None
    name = one_line(step.agent_name) or step.agent
    target = one_line(step.configured_model) if step.configured_model else "its model"
    if step.credential_env:
        env = " or ".join(step.credential_env)
        return f"{name} ran without a model — set {env} to give it {target}"
    return f"{name} ran without a model (offline run) — analyzers only, {target} was not called"


def offline_notes(result: RunResult) -> list[str]:
    """:func:`offline_note` for every offline step, each distinct line once (an agent that
    runs two steps gets one note)."""
    return list(dict.fromkeys(n for n in (offline_note(s) for s in result.steps) if n))


def commits_line(result: RunResult) -> str | None:
    """``"1a2b3c4..5d6e7f8"``, ``"base 1a2b3c4"`` (working/staged: no head commit), or None."""
    base, head = (sha[:7] if sha else None for sha in (result.base_sha, result.head_sha))
    if base and head:
        return f"{base}..{head}"
    if base or head:
        return f"base {base}" if base else f"head {head}"
    return None


def finding_body(f: Finding) -> str:
    """The body to print: cleaned, stripped, without a first line that repeats the title
    (analyzers often start their text with it)."""
    body = clean_text(f.body).strip()
    first, _, rest = body.partition("\n")
    if one_line(first) == one_line(f.title):
        body = rest.strip()
    return body


def cwe_text(f: Finding) -> str:
    """``"CWE-89, CWE-79"`` for the finding's CWE ids ("" without any): ints only, so safe
    in every format as is."""
    return ", ".join(f"CWE-{int(n)}" for n in f.cwe)


def verification_text(f: Finding, names: dict[str, str]) -> str | None:
    """One line on what a verify step said about ``f`` ("verified by Kenji", "corrected by
    Kenji: REASON", "rejected by Kenji: REASON", "not verified: REASON"), cleaned; ``None``
    when no verify step judged it."""
    if f.verification is None:
        return None
    who = one_line(names.get(f.verified_by or "", f.verified_by or "the verifier"))
    head = "not verified" if f.verification == "unverified" else f"{f.verification} by {who}"
    reason = one_line(clean_text(f.verification_reason or ""))[:500]
    return f"{head}: {reason}" if reason and f.verification != "verified" else head


def blocking_label(result: RunResult) -> str:
    """The totals row name for :meth:`RunResult.blocking`: "At or above high", with
    "(verified only)" or "(corroborated only)" under a workflow's ``block_on``."""
    label = f"At or above {result.fail_on.value}"
    return label if result.block_on == "all" else f"{label} ({result.block_on} only)"


def failed_calls(step: StepResult) -> int:
    """How many of the step's provider calls errored or returned invalid output.

    A call whose invalid output the repair retry fixed counts here once (the retry is a
    second, successful call); whether a step lost a chunk is what ``status == "partial"``
    says.
    """
    return sum(1 for c in step.calls if c.status != "ok")


# --- coverage ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NotReviewed:
    """A changed file no reviewer looked at: ``reason`` is for people, ``benign`` for rules.

    ``benign`` is True for binary, deleted, vendored and generated files: skipping them loses
    nothing, so they do not stop a report from saying "No findings.".
    """

    path: str
    reason: str
    benign: bool


def not_reviewed(result: RunResult) -> list[NotReviewed]:
    """Every changed file that was not reviewed, in ``result.files`` order.

    A file is not reviewed when the changeset skipped it (``FileEntry.skipped``: binary,
    deleted, vendored, generated, too large, excluded) or — when the engine recorded each
    step's file selection — when no step that ran had it in its selection ("review failed"
    if a failed step had it, "no agent covers it" otherwise). A ``partial`` step counts as
    covering its files: which chunk failed is not recorded, and :func:`caveats` reports it.
    """
    covered: set[str] = set()
    attempted: set[str] = set()
    for s in result.steps:
        attempted.update(s.files)
        if s.status in ("ok", "offline", "partial"):
            covered.update(s.files)
    track_coverage = bool(attempted)  # an engine that records no selections: trust `skipped`
    out: list[NotReviewed] = []
    for f in result.files:
        if f.skipped:
            out.append(NotReviewed(f.path, f.skipped, f.skipped in BENIGN_SKIPS))
        elif track_coverage and f.path not in covered:
            reason = "review failed" if f.path in attempted else "no agent covers it"
            out.append(NotReviewed(f.path, reason, False))
    return out


@dataclass(frozen=True)
class NotAnalyzed:
    """Files one agent's analyzer could not analyze, for one kind of reason.

    ``reason`` is the kind (``"syntax not supported by Python 3.11"``, ``"timed out"``);
    ``items`` are ``(path, detail)`` pairs in the order recorded, ``detail`` the rest of the
    analyzer's reason (``"line 2: f-string: unmatched '['"``) or ``""``. Texts are cleaned
    (:func:`one_line`); paths are raw, for each reporter to quote its own way.
    """

    agent: str
    analyzer: str
    reason: str
    items: tuple[tuple[str, str], ...]

    @property
    def paths(self) -> list[str]:
        return [p for p, _ in self.items]

    @property
    def headline(self) -> str:
        """``"Akira: bandit: 461 files not analyzed: syntax not supported by Python 3.11"``."""
        return f"{self.agent}: {self.analyzer}: {plural(len(self.items), 'file')} not analyzed: {self.reason}"


def reason_kind(reason: str) -> tuple[str, str]:
    """An analyzer's not-analyzed reason split into its kind and detail:
    ``"timed out (after 60 s)"`` -> ``("timed out", "after 60 s")``; no parentheses -> ``(reason, "")``."""
    text = one_line(reason)
    kind, sep, rest = text.partition(" (")
    if not sep or not kind:
        return text, ""
    return kind, rest[:-1] if rest.endswith(")") else rest


def not_analyzed_groups(result: RunResult) -> list[NotAnalyzed]:
    """The files each agent's analyzers could not analyze (``AnalyzerNote.not_analyzed``),
    grouped by agent, analyzer and kind of reason, in step and analyzer order; an agent that
    ran two steps gets one group per analyzer and reason."""
    groups: dict[tuple[str, str, str], dict[str, str]] = {}
    for s in result.steps:
        who = one_line(s.agent_name) or s.agent
        for a in s.analyzers:
            for path, reason in a.not_analyzed.items():
                kind, detail = reason_kind(reason)
                groups.setdefault((who, one_line(a.name), kind), {}).setdefault(path, detail)
    return [NotAnalyzed(who, name, kind, tuple(items.items())) for (who, name, kind), items in groups.items()]


def not_analyzed_count(groups: Iterable[NotAnalyzed]) -> int:
    """How many distinct files the groups name (a file two analyzers missed counts once)."""
    return len({p for g in groups for p in g.paths})


def problems(result: RunResult) -> list[str]:
    """One plain line per thing that went wrong: the run's error first, then step by step.

    Run error, failed, partial (some chunks' calls failed) or unfinished steps, and
    unavailable analyzers (``"Akira: bandit unavailable: No module named bandit"``). A call
    whose invalid output was repaired by the retry is not a problem and is not listed.
    """
    lines: list[str] = []
    if result.error:
        lines.append(f"Run {result.status}: {one_line(result.error)}")
    for s in result.steps:
        who = f"{one_line(s.agent_name) or s.agent} (step {s.step_id})"
        if s.status == "failed":
            lines.append(f"{who} failed: {one_line(s.error) or 'no error recorded'}")
        elif s.status == "partial":
            lines.append(f"{who} finished in part: {one_line(s.error) or 'a model call failed'}")
        elif s.status in _UNFINISHED:
            lines.append(f"{who} did not finish ({s.status})")
        elif s.status == "skipped" and s.error:
            lines.append(f"{who} did not run: {one_line(s.error)}")
        if s.not_reviewed:
            reasons = ", ".join(dict.fromkeys(s.not_reviewed.values()))
            lines.append(f"{who}: {plural(len(s.not_reviewed), 'file')} not reviewed ({reasons})")
        for a in s.analyzers:
            if a.error:
                err = one_line(a.error)
                text = err if err.startswith(a.name) else f"{a.name}: {err}"
                lines.append(f"{one_line(s.agent_name) or s.agent}: {text}")
    return lines


def caveats(result: RunResult) -> list[str]:
    """Short phrases saying why a review was incomplete; ``[]`` when it covered everything.

    e.g. ``["2 files were not reviewed (too large, excluded)", "1 step failed"]``. Benign
    skips (binary, deleted, vendored, generated) are not caveats; a file an analyzer could
    not analyze is (``"3 files were not analyzed (bandit: syntax not supported by Python
    3.11)"``).
    """
    out: list[str] = []
    if result.status == "failed":
        out.append("the run failed")
    elif result.status == "cancelled":
        out.append("the run was cancelled")
    gaps = [n for n in not_reviewed(result) if not n.benign]
    if gaps:
        reasons = ", ".join(dict.fromkeys(n.reason for n in gaps))
        verb = "was" if len(gaps) == 1 else "were"
        out.append(f"{plural(len(gaps), 'file')} {verb} not reviewed ({reasons})")
    missed = not_analyzed_groups(result)
    if missed:
        count = not_analyzed_count(missed)
        reasons = ", ".join(dict.fromkeys(f"{g.analyzer}: {g.reason}" for g in missed))
        verb = "was" if count == 1 else "were"
        out.append(f"{plural(count, 'file')} {verb} not analyzed ({reasons})")
    failed = sum(1 for s in result.steps if s.status == "failed")
    if failed:
        out.append(f"{plural(failed, 'step')} failed")
    unfinished = sum(1 for s in result.steps if s.status in _UNFINISHED)
    if unfinished:
        out.append(f"{plural(unfinished, 'step')} did not finish")
    partial = sum(1 for s in result.steps if s.status == "partial")
    if partial:
        out.append(f"{plural(partial, 'step')} finished in part")
    capped = sum(1 for s in result.steps if s.status == "skipped" and s.error)
    if capped:
        out.append(f"{plural(capped, 'step')} did not run")
    analyzers = sum(1 for s in result.steps for a in s.analyzers if a.error)
    if analyzers:
        verb = "was" if analyzers == 1 else "were"
        out.append(f"{plural(analyzers, 'analyzer')} {verb} unavailable")
    return out


def empty_message(result: RunResult) -> str:
    """What to say when ``result.findings`` is empty — never an unqualified "No findings."
    when something was not reviewed.

    * ``"No findings."``: every step succeeded (ok, offline, or skipped because its ``when``
      matched nothing), every changed file was reviewed or benignly skipped, and every
      analyzer analyzed every file it was given;
    * ``"Nothing to review: the change has no reviewable files."``: as above, but no file
      was reviewable (empty change, or only binary/deleted/vendored/generated files);
    * otherwise ``"No findings in what was reviewed — 2 files were not reviewed (too large),
      3 files were not analyzed (bandit: syntax not supported by Python 3.11), 1 step failed
      (see above)."``.
    """
    why = caveats(result)
    if why:
        return f"No findings in what was reviewed — {', '.join(why)} (see above)."
    skipped = {n.path for n in not_reviewed(result)}
    if not [f for f in result.files if f.path not in skipped]:
        return "Nothing to review: the change has no reviewable files."
    return "No findings."


def group_by_file(findings: Iterable[Finding]) -> list[tuple[str, list[Finding]]]:
    """Findings grouped by path: ``[(path, [finding, ...]), ...]``.

    Files are ordered by the rank of their first finding, then by path; findings within a
    file by :func:`tokyo_cli.policy.rank_key` (security and correctness first, then severity,
    confidence, agents, line).
    """
    groups: dict[str, list[Finding]] = {}
    for f in sorted(findings, key=rank_key):
        groups.setdefault(f.path, []).append(f)
    return sorted(groups.items(), key=lambda kv: (rank_key(kv[1][0])[:4], kv[0]))


def shown_findings(result: RunResult) -> tuple[list[Finding], list[Finding]]:
    """``(shown, hidden)``: the run's findings at or above its display threshold
    (``result.min_severity``, from ``--min-severity`` or the workflow) and those below it.
    Terminal, Markdown and GitHub comments show only ``shown``; JSON, SARIF and history keep
    every finding."""
    shown = [f for f in result.findings if f.severity.at_least(result.min_severity)]
    hidden = [f for f in result.findings if not f.severity.at_least(result.min_severity)]
    return shown, hidden


def hidden_note(result: RunResult) -> str | None:
    """One line on the findings below the display threshold, or ``None`` when none is:
    ``"2 findings below low not shown (1 info, 1 low...): every finding is in the JSON and
    SARIF reports and in history; --min-severity info shows them"``."""
    _, hidden = shown_findings(result)
    if not hidden:
        return None
    counts = compact_counts(count_by_severity(hidden))
    return (
        f"{plural(len(hidden), 'finding')} below {result.min_severity.value} not shown ({counts}): "
        "every finding is in the JSON and SARIF reports and in history; --min-severity info shows them"
    )
