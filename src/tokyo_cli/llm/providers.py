"""Which provider serves a model id, and which environment variables give it credentials.

Pure string rules, so the CLI can decide "online or offline" for every agent without
importing litellm (slow to import, and only ``llm/gateway.py`` may). The rules follow litellm's own
routing of model ids: an explicit ``provider/`` prefix wins; bare names are recognised by
family (``claude-*`` is Anthropic, ``gpt-*``/``o1``/``o3``/``o4`` are OpenAI).
"""

from __future__ import annotations

import os
import re

from tokyo_cli.safety.masking import mask_secrets

# provider -> env vars, any one of which gives credentials (litellm reads the same names).
# Gemini: litellm's AI Studio route reads GOOGLE_API_KEY first, then GEMINI_API_KEY.
CREDENTIAL_ENV: dict[str, list[str]] = {
    "anthropic": ["ANTHROPIC_API_KEY"],
    "openai": ["OPENAI_API_KEY"],
    "groq": ["GROQ_API_KEY"],
    "gemini": ["GEMINI_API_KEY", "GOOGLE_API_KEY"],
    "mistral": ["MISTRAL_API_KEY"],
    "deepseek": ["DEEPSEEK_API_KEY"],
    "xai": ["XAI_API_KEY"],
    "openrouter": ["OPENROUTER_API_KEY"],
    "together_ai": ["TOGETHERAI_API_KEY", "TOGETHER_API_KEY"],
    "fireworks_ai": ["FIREWORKS_API_KEY", "FIREWORKS_AI_API_KEY"],
    "cohere": ["COHERE_API_KEY"],
    "azure": ["AZURE_API_KEY"],
    "vertex_ai": ["GOOGLE_APPLICATION_CREDENTIALS"],
    "bedrock": ["AWS_ACCESS_KEY_ID", "AWS_PROFILE"],
}

# Local servers that need no key at all.
KEYLESS_PROVIDERS = frozenset({"ollama", "ollama_chat", "hosted_vllm", "lm_studio", "llamafile"})

# Prefixes stripped from a model id when calling an OpenAI-compatible --api-base server.
KNOWN_PROVIDERS = frozenset(CREDENTIAL_ENV) | KEYLESS_PROVIDERS | {"text-completion-openai"}

_OPENAI_BARE = re.compile(r"^(gpt-|chatgpt-|o\d)")


def provider_of(model: str) -> str:
    """The litellm provider name for a model id.

    ``"anthropic/..."`` or ``"claude-..."`` -> ``"anthropic"``; ``"gpt-..."``, ``"o1..."``,
    ``"o3..."``, ``"o4..."``, ``"openai/..."`` -> ``"openai"``; ``"groq/..."`` -> ``"groq"``;
    ``"gemini/..."`` -> ``"gemini"``; a bare ``"gemini-..."`` -> ``"vertex_ai"`` (litellm routes
    it there); any other ``"x/..."`` -> ``"x"``; a bare unknown name -> ``"unknown"``.
    """
    name = model.strip()
    if "/" in name:
        return name.split("/", 1)[0].lower()
    if name.startswith("claude-"):
        return "anthropic"
    if _OPENAI_BARE.match(name):
        return "openai"
    if name.startswith("gemini-"):
        return "vertex_ai"
    return "unknown"


def credential_env(model: str) -> list[str]:
    """Environment variable names, any one of which gives ``model`` credentials.

    Examples: ``["ANTHROPIC_API_KEY"]``, ``["OPENAI_API_KEY"]``, ``["GROQ_API_KEY"]``,
    ``["GEMINI_API_KEY", "GOOGLE_API_KEY"]``. ``[]`` for keyless local providers (ollama) and
    for a model whose provider cannot be told; an unlisted provider ``x`` gives
    ``["X_API_KEY"]``, litellm's usual convention.
    """
    provider = provider_of(model)
    if provider in CREDENTIAL_ENV:
        return list(CREDENTIAL_ENV[provider])
    if provider in KEYLESS_PROVIDERS or provider == "unknown":
        return []
    return [re.sub(r"[^A-Z0-9]", "_", provider.upper()) + "_API_KEY"]


def has_credentials(model: str, *, api_base: str | None = None) -> bool:
    """True when a call to ``model`` could authenticate.

    With ``api_base`` (an OpenAI-compatible server given by ``--api-base``) always True:
    local servers ignore keys. Otherwise True for keyless providers, or when any variable of
    :func:`credential_env` is set and non-blank; False for a model of unknown provider.
    """
    if api_base:
        return True
    provider = provider_of(model)
    if provider in KEYLESS_PROVIDERS:
        return True
    return any(os.environ.get(name, "").strip() for name in credential_env(model))


def wire_model_name(model: str) -> str:
    """The model name to send to an ``--api-base`` server: a known provider prefix removed.

    ``"openai/gpt-4o"`` -> ``"gpt-4o"``, ``"groq/meta-llama/llama-4"`` -> ``"meta-llama/llama-4"``,
    ``"meta-llama/llama-4"`` (no provider prefix) and ``"claude-opus-4-5"`` stay as they are.
    """
    head, sep, rest = model.partition("/")
    if sep and head.lower() in KNOWN_PROVIDERS:
        return rest
    return model


def redact(text: str, secrets: list[str] | None = None) -> str:
    """``text`` (a provider's error message) with keys masked: each of ``secrets`` (6+
    characters) as ``[MASKED:api-key]``, then everything the one secret detector finds
    (:func:`tokyo_cli.safety.masking.mask_secrets`: the values of credential variables such as
    ``OPENAI_API_KEY``, ``sk-...``/``AIza...``/``gsk_...`` keys, ...)."""
    for value in secrets or []:
        if value and len(value) >= 6:
            text = text.replace(value, "[MASKED:api-key]")
    return mask_secrets(text)[0]
