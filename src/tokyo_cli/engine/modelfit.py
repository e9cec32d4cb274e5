"""The team sized for the model a run really calls (``--model``, ``--context-window``).

An agent's ``context_window`` and ``max_output_tokens`` in agents.yaml describe its own
models. When ``--model`` replaces them, packing must follow the model called instead: its
limits come from litellm's bundled model map (:func:`~tokyo_cli.llm.pricing.model_limits`,
read without importing litellm), or from ``--context-window`` / ``--max-output-tokens`` for
a model the map does not know (a local one).
"""

from __future__ import annotations

from tokyo_cli.config.team import AgentSpec, Team
from tokyo_cli.errors import ConfigError
from tokyo_cli.llm.pricing import model_limits

OUTPUT_SHARE = 4
"""A fitted agent's output cap is at most 1/OUTPUT_SHARE of its context window, so the prompt
keeps the rest (a local model's map entry often gives the whole window as its output cap)."""
MIN_PROMPT_TOKENS = 1_024
"""Tokens a context window must leave for the prompt after the output cap."""


def fit_team(
    team: Team, model: str | None, *, context_window: int | None = None, max_output_tokens: int | None = None
) -> tuple[Team, list[str]]:
    """The team sized for the model a run really calls: with ``model`` (``--model``), each
    agent's ``context_window`` becomes that model's (litellm's model map,
    :func:`~tokyo_cli.llm.pricing.model_limits`) and its ``max_output_tokens`` the smallest of its
    own, the model's and a quarter of the window; ``context_window`` / ``max_output_tokens``
    (``--context-window``, ``--max-output-tokens``, tokens) replace them for every agent, for
    models the map does not know (local ones). Returns ``(team, notices)``: the same team
    when nothing changes, else a copy, and one line saying what packing uses.

    Raises:
        ConfigError: the output cap leaves fewer than MIN_PROMPT_TOKENS of the window.
    """
    if not (model or context_window or max_output_tokens):
        return team, []
    limits = model_limits(model) if model else None
    notices: list[str] = []
    if model and limits is None and context_window is None:
        notices.append(
            f"{model} is not in litellm's model map: packing uses each agent's own context window "
            "(--context-window N gives this model's)"
        )
    window = context_window or (limits.context_window if limits else None)
    agents: dict[str, AgentSpec] = {}
    for agent_id, agent in team.agents.items():
        size = window or agent.context_window
        cap = max_output_tokens or min(
            agent.max_output_tokens, limits.max_output_tokens if limits else size, size // OUTPUT_SHARE
        )
        if size - cap < MIN_PROMPT_TOKENS:
            raise ConfigError(
                f"--max-output-tokens {cap} leaves less than {MIN_PROMPT_TOKENS} tokens of the "
                f"{size}-token context window for the prompt"
            )
        agents[agent_id] = agent.model_copy(update={"context_window": size, "max_output_tokens": cap})
    if window is not None or max_output_tokens:
        source = "--context-window" if context_window else "litellm's model map" if limits else "agents.yaml"
        caps = sorted({a.max_output_tokens for a in agents.values()})
        shown = f"{caps[0]:,}" if len(caps) == 1 else f"{caps[0]:,}-{caps[-1]:,}"
        what = f"a {window:,}-token context window ({source})" if window else "each agent's own context window"
        notices.append(f"{model or 'every agent'}: prompts packed for {what}, output cap {shown} tokens")
    return team.model_copy(update={"agents": agents}), notices
