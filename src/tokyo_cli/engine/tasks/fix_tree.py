"""``tokyo fix``: checked patches for findings of a stored run, against the working tree.

The findings come from history (:func:`choose` narrows them); each gets :func:`propose`'s
patch (:mod:`tokyo_cli.engine.tasks.fix`), checked with ``git apply --check`` against the
working tree (:func:`tokyo_cli.engine.tasks.patches.check_in_tree`). Kept apart from
``fix.py``, which the runner imports, because it builds its own gateway like a review.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from tokyo_cli.engine.tasks.fix import FixProposal, propose
from tokyo_cli.findings import Finding, Severity

if TYPE_CHECKING:
    from pathlib import Path

    from tokyo_cli.config.settings import Settings
    from tokyo_cli.config.team import Team
    from tokyo_cli.engine.cache import ResponseCache
    from tokyo_cli.results import StepResult


def choose(
    findings: list[Finding], *, fingerprints: list[str], severity: Severity | None, agent: str | None
) -> list[Finding]:
    """The findings ``tokyo fix`` works on: those with one of ``fingerprints`` (full ones;
    see :func:`tokyo_cli.store.ledger_query.resolve_fingerprint` for prefixes), at or above
    ``severity``, raised by ``agent``; every filter given must hold. Dismissed ones never."""
    return [
        f
        for f in findings
        if f.status != "dismissed"
        and (not fingerprints or f.fingerprint in fingerprints)
        and (severity is None or f.severity.at_least(severity))
        and (agent is None or agent in f.agents)
    ]


async def fix_in_tree(
    findings: list[Finding], team: Team, root: Path, settings: Settings, cache: ResponseCache | None = None
) -> tuple[list[FixProposal], StepResult]:
    """A checked patch for each finding against the working tree at ``root``: a patch a fix
    step already stored when it still applies, else :func:`propose` with the finding's own
    agent (its models as configured, ``--model``/``--api-base`` as for a review; an agent
    without credentials gets the analyzer rewrite only). File text is read through
    :mod:`tokyo_cli.safety.safefs` (a symlink is refused, never followed). Returns the proposals,
    in order, and the record of the calls made (tokens, USD)."""
    from tokyo_cli.engine.calls import ChunkCaller
    from tokyo_cli.engine.review import make_gateway
    from tokyo_cli.engine.runner import callable_models
    from tokyo_cli.engine.tasks.patches import check_in_tree
    from tokyo_cli.events import null_listener
    from tokyo_cli.llm.budget import Budget
    from tokyo_cli.results import StepResult
    from tokyo_cli.safety import safefs

    gateway = make_gateway(settings, Budget(max_cost_usd=settings.max_cost, unknown_call_usd=settings.unknown_call_usd))
    caller = ChunkCaller(gateway, cache if gateway is not None else None, null_listener)
    res = StepResult(step_id="fix", agent="fix", agent_name="tokyo fix", task="fix")

    def check(patch: str) -> str | None:
        return check_in_tree(patch, root)

    async def one(i: int, f: Finding) -> FixProposal:
        if safefs.is_symlink(root, f.path):
            return FixProposal(f, error=f"{f.path} is a symlink: never followed, not fixed")
        data = safefs.read(root, f.path)
        if data is None:
            return FixProposal(f, error=f"{f.path} cannot be read in the working tree (missing or not a regular file)")
        if f.patch and check(f.patch) is None:
            return FixProposal(f, patch=f.patch, source="model", explanation="the patch stored by the run's fix step")
        agent = team.get(f.agent) if f.agent in team else None
        usable = callable_models(agent, settings.model, settings.api_base) if agent and gateway else []
        models = (usable[0], usable[1:]) if usable else None
        return await propose(
            f,
            data.decode("utf-8", errors="replace"),
            check,
            caller=caller,
            res=res,
            agent=agent,
            models=models,
            index=i,
            total=len(findings),
        )

    proposals = await asyncio.gather(*(one(i, f) for i, f in enumerate(findings, 1)))
    return list(proposals), res
