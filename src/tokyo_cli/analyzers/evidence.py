"""Analyzer findings as evidence for a model, and the model's verdicts applied back.

The prompt lists a step's analyzer findings with ids ``A1..An`` (:func:`evidence_ids`, the
same numbering in every chunk of the step). Each review reply may carry
``"evidence": [{"id", "verdict", "reason", "severity"?, "title"?}]``
(:class:`~tokyo_cli.findings.EvidenceVerdict`); :func:`reconcile` applies them:

* ``confirm`` -> the finding is kept and marked ``corroborated``;
* ``refine`` -> kept, corroborated, with the model's severity and title (the fingerprint
  stays the analyzer's, so history still tracks it) and its reason appended to the body; a
  refine that *lowers* the severity needs a reason, else the analyzer's severity stays;
* ``dismiss`` with a reason -> the finding leaves the run's findings: it stays in the step's
  raw findings with status ``"dismissed"`` and ``dismissed_reason``;
* no verdict -> kept as the analyzer reported it, corroborated only when one of the model's
  own findings says the same thing (same path, overlapping lines, same category).

Guards: a verdict counts only from a call that was shown the finding's file; confirm beats
dismiss when chunks disagree; a dismissal without a reason is ignored; and secrets findings
(``detect-secrets:*``) cannot be dismissed, because the model only ever sees the value
masked — it cannot know the key is fake — the suggestion is kept in the body instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from tokyo_cli.findings import AgentOutput, EvidenceVerdict, Finding

UNDISMISSABLE_PREFIXES = ("detect-secrets:",)


def evidence_ids(evidence: Sequence[Finding]) -> dict[str, Finding]:
    """``{"A1": first, "A2": second, ...}`` in the order given."""
    return {f"A{i}": f for i, f in enumerate(evidence, 1)}


def reconcile(
    evidence: Sequence[Finding],
    outputs: Iterable[tuple[Iterable[str], AgentOutput]],
    model_findings: Sequence[Finding] = (),
) -> tuple[list[Finding], list[Finding]]:
    """Apply the models' verdicts to ``evidence``; returns ``(kept, dismissed)``.

    Args:
        evidence: the step's analyzer findings, in the order the prompt numbered them.
        outputs: ``(paths shown to the call, its parsed reply)`` for every successful call.
        model_findings: the models' own anchored findings (for implicit corroboration).

    ``kept`` are copies (corroborated / refined as the verdicts say); ``dismissed`` are
    copies with ``status="dismissed"`` and ``dismissed_reason`` set.
    """
    ids = evidence_ids(evidence)
    verdicts: dict[str, list[EvidenceVerdict]] = {}
    for paths, output in outputs:
        shown = set(paths)
        for v in output.evidence:
            target = ids.get(v.id.strip().upper())
            if target is not None and target.path in shown:
                verdicts.setdefault(v.id.strip().upper(), []).append(v)
    kept: list[Finding] = []
    dismissed: list[Finding] = []
    for key, finding in ids.items():
        said = verdicts.get(key, [])
        positive = [v for v in said if v.verdict in ("confirm", "refine")]
        negative = [v for v in said if v.verdict == "dismiss" and v.reason.strip()]
        if positive:
            kept.append(_confirmed(finding, positive))
        elif negative and finding.rule and finding.rule.startswith(UNDISMISSABLE_PREFIXES):
            note = (
                f"\n\nA model reviewer suggested dismissing this ({negative[0].reason.strip()}), "
                "but it saw the value masked; verify by hand."
            )
            kept.append(finding.model_copy(update={"body": finding.body + note}))
        elif negative:
            dismissed.append(
                finding.model_copy(
                    update={"status": "dismissed", "dismissed_reason": negative[0].reason.strip()[:2000]}
                )
            )
        elif any(_same_place(finding, m) for m in model_findings):
            kept.append(finding.model_copy(update={"corroborated": True}))
        else:
            kept.append(finding)
    return kept, dismissed


def _confirmed(finding: Finding, verdicts: list[EvidenceVerdict]) -> Finding:
    update: dict[str, object] = {"corroborated": True}
    refine = next((v for v in verdicts if v.verdict == "refine"), None)
    reason = next((v.reason.strip() for v in verdicts if v.reason.strip()), "")
    if refine is not None:
        lowers = refine.severity is not None and not refine.severity.at_least(finding.severity)
        if refine.severity is not None and (reason or not lowers):
            update["severity"] = refine.severity
        if refine.title and refine.title.strip():
            update["title"] = refine.title.strip()[:200]
    if reason:
        update["body"] = f"{finding.body}\n\nModel review: {reason[:2000]}"
    return finding.model_copy(update=update)


def _same_place(analyzer: Finding, model: Finding) -> bool:
    if analyzer.path != model.path or analyzer.line is None or model.line is None:
        return False
    a_end, m_end = analyzer.end_line or analyzer.line, model.end_line or model.line
    return analyzer.line <= m_end and model.line <= a_end and analyzer.category == model.category


def active(findings: Iterable[Finding]) -> list[Finding]:
    """The findings that count for the run: everything not dismissed by a model's evidence
    verdict nor rejected by a verify step (:mod:`tokyo_cli.engine.tasks.verify`)."""
    return [f for f in findings if f.status != "dismissed" and f.verification != "rejected"]
