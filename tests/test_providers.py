"""providers.py's routing and key rules against litellm's own (``get_llm_provider``,
``validate_environment``), for every packaged model and a list of common ones."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tokyo_cli.config.team import load_team
from tokyo_cli.llm.providers import KEYLESS_PROVIDERS, credential_groups, has_credentials, provider_of

COMMON_MODELS = [
    "gpt-4o",
    "openai/gpt-4o-mini",
    "gpt-5",
    "o4-mini",
    "ft:gpt-4o-mini-2024-07-18",
    "claude-sonnet-4-5",
    "anthropic/claude-opus-4-5",
    "gemini/gemini-2.5-flash",
    "gemini-2.5-pro",
    "gemini-2.5-flash",
    "vertex_ai/gemini-2.5-pro",
    "mistral/mistral-large-latest",
    "deepseek/deepseek-chat",
    "xai/grok-4",
    "perplexity/sonar",
    "openrouter/anthropic/claude-3.5-sonnet",
    "together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo",
    "fireworks_ai/accounts/fireworks/models/llama-v3p1-70b-instruct",
    "azure/gpt-4o",
    "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0",
    "anthropic.claude-3-5-sonnet-20240620-v1:0",
    "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    "us.amazon.nova-pro-v1:0",
    "meta.llama3-70b-instruct-v1:0",
    "groq/llama-3.3-70b-versatile",
    "cerebras/llama3.1-8b",
    "deepinfra/meta-llama/Llama-3.3-70B-Instruct",
    "cohere/command-r-plus",
    "huggingface/meta-llama/Llama-3.3-70B-Instruct",
    "cloudflare/@cf/meta/llama-2-7b-chat-int8",
    "ollama/llama3",
    "ollama_chat/llama3.1",
    "llama3",
]
# Names litellm's call path reads for Together AI that validate_environment does not list.
CALL_PATH_ONLY = {"TOGETHER_API_KEY", "TOGETHER_AI_API_KEY"}
# litellm names a provider for some routes differently from the credentials it checks.
SAME_PROVIDER = {"cohere_chat": "cohere", "text-completion-openai": "openai"}


def all_models() -> list[str]:
    return sorted({m for a in load_team(None).agents.values() for m in a.models}) + COMMON_MODELS


@pytest.fixture(scope="module")
def litellm() -> Iterator[object]:
    from tokyo_cli.llm.gateway import _litellm

    yield _litellm()


def _validate(
    litellm: object, model: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> tuple[bool, bool, list[str]]:
    """(ours, litellm's, litellm's missing keys) for ``model`` with exactly ``env`` set."""
    monkeypatch.setattr(os, "environ", dict(env))
    try:
        found = litellm.validate_environment(model)  # type: ignore[attr-defined]
        return has_credentials(model), bool(found["keys_in_environment"]), list(found["missing_keys"])
    finally:
        monkeypatch.undo()


@pytest.mark.parametrize("model", all_models())
def test_routing_matches_litellm(litellm: object, model: str) -> None:
    try:
        theirs = litellm.get_llm_provider(model)[1]  # type: ignore[attr-defined]
    except Exception:  # litellm cannot route it either
        theirs = "unknown"
    assert provider_of(model) == SAME_PROVIDER.get(theirs, theirs)


@pytest.mark.parametrize("model", all_models())
def test_key_rules_match_validate_environment(litellm: object, model: str, monkeypatch: pytest.MonkeyPatch) -> None:
    keyless = provider_of(model) in KEYLESS_PROVIDERS
    ours, theirs, missing = _validate(litellm, model, {}, monkeypatch)
    if provider_of(model) == "unknown":  # litellm cannot route it (test above): its "no key missing" means nothing
        assert not ours and not missing
        return
    # Ollama and other local servers: litellm asks for OLLAMA_API_BASE, its calls default to localhost.
    assert ours == keyless and not theirs
    for group in credential_groups(model):
        if CALL_PATH_ONLY.intersection(group):
            continue
        ours, theirs, _ = _validate(litellm, model, dict.fromkeys(group, "x"), monkeypatch)
        assert ours and theirs, f"{model}: {group} is enough for tokyo but not for litellm"
        for name in group[:-1] if len(group) > 1 else ():  # part of a group is not enough
            partial = {n: "x" for n in group if n != name}
            assert _validate(litellm, model, partial, monkeypatch)[:2] == (False, False), (model, name)
    if missing and not keyless:
        ours, theirs, _ = _validate(litellm, model, dict.fromkeys(missing, "x"), monkeypatch)
        assert ours and theirs, f"{model}: litellm's {missing} are not enough for tokyo"


def test_a_blank_variable_is_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERPLEXITYAI_API_KEY", " ")
    assert not has_credentials("perplexity/sonar")  # litellm counts a set-but-blank name; it cannot authenticate
