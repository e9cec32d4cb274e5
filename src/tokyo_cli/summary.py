"""The run summary written without a model (offline runs, or when the lead's call failed)."""

from __future__ import annotations

from tokyo_cli.results import RunResult
from tokyo_cli.safety.textsafe import one_line, quote_path


def offline_summary(result: RunResult) -> str:
    """A few plain sentences: counts by severity, agents involved, the top findings.

    Reads only ``result.findings``, ``result.steps`` and ``result.files``; never a model. With
    no findings it says so only with the files an analyzer could not analyze, if any.
    """
    findings = result.findings
    reviewed = sum(1 for f in result.files if f.skipped is None)
    missed = {p for s in result.steps for a in s.analyzers for p in a.not_analyzed}
    if not findings:
        text = f"No findings in {reviewed} reviewed file{'s' if reviewed != 1 else ''}"
        # Never an unqualified "no findings" while an analyzer skipped files.
        text += (
            f", but {len(missed)} file{'s were' if len(missed) != 1 else ' was'} not analyzed by "
            "an analyzer (see Not analyzed)."
            if missed
            else "."
        )
    else:
        counts = result.severity_counts()
        parts = [f"{n} {sev}" for sev, n in counts.items() if n]
        agents = sorted({a for f in findings for a in f.agents})
        text = (
            f"{len(findings)} finding{'s' if len(findings) != 1 else ''} ({', '.join(parts)}) "
            f"from {', '.join(agents)} across {len({f.path for f in findings})} file(s)."
        )
        # The top of the ranked list (security and correctness first), above the display threshold.
        top = [f for f in findings if f.severity.at_least(result.min_severity)][:3]
        if top:
            # One paragraph: a title or a file name must not start a line of its own.
            text += (
                " Fix first: "
                + "; ".join(f"{one_line(f.title)} ({quote_path(f.path)}{f.location[len(f.path) :]})" for f in top)
                + "."
            )
    offline = [s.agent_name for s in result.steps if s.status == "offline"]
    if offline:
        text += f" Ran without a model: {', '.join(dict.fromkeys(offline))} (offline analyzers only)."
    failed = [s.step_id for s in result.steps if s.status in ("failed", "partial")]
    if failed:
        text += f" Incomplete steps: {', '.join(failed)}."
    return text
