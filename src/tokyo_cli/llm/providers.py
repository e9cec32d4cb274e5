"""Which provider serves a model id, and which environment variables give it credentials.

Pure string rules, so the CLI can decide "online or offline" for every agent without
importing litellm (slow to import, and only ``llm/gateway.py`` may). The rules follow litellm's own
routing of model ids (``litellm.get_llm_provider``) and its key checks
(``litellm.validate_environment``): an explicit ``provider/`` prefix wins; bare names are
recognised by family (``claude-*`` is Anthropic, ``gpt-*``/``o1``/``o3``/``o4`` are OpenAI,
``gemini-*`` is Vertex AI, ``anthropic.*``/``us.amazon.*`` are Bedrock).
``tests/test_providers.py`` compares both with litellm for every packaged model and a list
of common ones.
"""

from __future__ import annotations

import os
import re

from tokyo_cli.safety.masking import mask_secrets

# provider -> the ways to give it credentials: each alternative is a group of variables that
# must all be set. The rules are litellm's own (litellm.validate_environment, litellm 1.109;
# tests/test_providers.py compares them for every packaged model and a list of common ones),
# plus names litellm's call path reads that validate_environment does not list (Together's).
_AWS = (
    ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
    ("AWS_PROFILE",),
    ("AWS_ROLE_ARN",),
    ("AWS_WEB_IDENTITY_TOKEN_FILE",),
    ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",),
    ("AWS_CONTAINER_CREDENTIALS_FULL_URI",),
)
CREDENTIALS: dict[str, tuple[tuple[str, ...], ...]] = {
    "anthropic": (("ANTHROPIC_API_KEY",), ("ANTHROPIC_AUTH_TOKEN",)),
    "openai": (("OPENAI_API_KEY",),),
    "groq": (("GROQ_API_KEY",),),
    # litellm's AI Studio route reads GOOGLE_API_KEY first, then GEMINI_API_KEY.
    "gemini": (("GEMINI_API_KEY",), ("GOOGLE_API_KEY",)),
    "mistral": (("MISTRAL_API_KEY",),),
    "deepseek": (("DEEPSEEK_API_KEY",),),
    "xai": (("XAI_API_KEY",),),
    "openrouter": (("OPENROUTER_API_KEY",),),
    "perplexity": (("PERPLEXITYAI_API_KEY",),),
    "together_ai": (("TOGETHERAI_API_KEY",), ("TOGETHER_API_KEY",), ("TOGETHER_AI_API_KEY",)),
    "fireworks_ai": (
        ("FIREWORKS_AI_API_KEY",),
        ("FIREWORKS_API_KEY",),
        ("FIREWORKSAI_API_KEY",),
        ("FIREWORKS_AI_TOKEN",),
    ),
    "cohere": (("COHERE_API_KEY",),),
    "azure": (("AZURE_API_KEY", "AZURE_API_BASE", "AZURE_API_VERSION"),),
    # A bare "gemini-*" id goes here too (litellm routes it to Vertex AI, not AI Studio).
    "vertex_ai": (("VERTEXAI_PROJECT", "VERTEXAI_LOCATION"),),
    "bedrock": _AWS,
    "sagemaker": _AWS,
    "cloudflare": (("CLOUDFLARE_API_KEY", "CLOUDFLARE_ACCOUNT_ID"), ("CLOUDFLARE_API_KEY", "CLOUDFLARE_API_BASE")),
    "datarobot": (("DATAROBOT_API_TOKEN",),),
}

CREDENTIAL_ENV: dict[str, list[str]] = {
    provider: [" and ".join(group) for group in groups] for provider, groups in CREDENTIALS.items()
}
"""provider -> the alternatives of :data:`CREDENTIALS` as text (``"AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY"``), any one of which gives credentials."""

# Local servers that need no key at all. (litellm's validate_environment asks for
# OLLAMA_API_BASE, but its Ollama calls default to http://localhost:11434.)
KEYLESS_PROVIDERS = frozenset({"ollama", "ollama_chat", "hosted_vllm", "lm_studio", "llamafile"})

# Prefixes stripped from a model id when calling an OpenAI-compatible --api-base server.
KNOWN_PROVIDERS = frozenset(CREDENTIALS) | KEYLESS_PROVIDERS | {"text-completion-openai"}

_OPENAI_BARE = re.compile(r"^(?:ft:)?(gpt-|chatgpt-|o\d|computer-use-)")
# Bedrock's own ids: [region.]vendor.model ("anthropic.claude-3-5-sonnet-20240620-v1:0",
# "us.amazon.nova-pro-v1:0"), which litellm routes to Bedrock without a prefix.
_BEDROCK_BARE = re.compile(
    r"^(?:(?:us|eu|apac|global|jp|au|ca|in|us-gov)\.)?"
    r"(?:anthropic|amazon|stability|meta|mistral|openai|qwen|cohere|ai21|twelvelabs|nvidia|writer|google|"
    r"deepseek|minimax|zai|xai|moonshot|moonshotai)\.[a-z0-9]"
)


def provider_of(model: str) -> str:
    """The litellm provider name for a model id, as ``litellm.get_llm_provider`` routes it.

    ``"anthropic/..."`` or ``"claude-..."`` -> ``"anthropic"``; ``"gpt-..."``, ``"o1..."``,
    ``"o3..."``, ``"o4..."``, ``"ft:gpt-..."``, ``"openai/..."`` -> ``"openai"``;
    ``"groq/..."`` -> ``"groq"``; ``"gemini/..."`` -> ``"gemini"``; a bare ``"gemini-..."`` ->
    ``"vertex_ai"``; a Bedrock id (``"anthropic.claude-..."``, ``"us.amazon.nova-..."``) ->
    ``"bedrock"``; any other ``"x/..."`` -> ``"x"``; a bare unknown name -> ``"unknown"``.
    """
    name = model.strip()
    if "/" in name:
        return name.split("/", 1)[0].lower()
    if _BEDROCK_BARE.match(name):
        return "bedrock"
    if name.startswith("claude-"):
        return "anthropic"
    if _OPENAI_BARE.match(name):
        return "openai"
    if name.startswith("gemini-"):
        return "vertex_ai"
    return "unknown"


def credential_groups(model: str) -> list[tuple[str, ...]]:
    """The ways to give ``model`` credentials: groups of variables that must all be set, any
    one group enough. ``[]`` for keyless local providers and a model whose provider cannot be
    told; an unlisted provider ``x`` gives ``[("X_API_KEY",)]``, litellm's usual convention."""
    provider = provider_of(model)
    if provider in CREDENTIALS:
        return list(CREDENTIALS[provider])
    if provider in KEYLESS_PROVIDERS or provider == "unknown":
        return []
    return [(re.sub(r"[^A-Z0-9]", "_", provider.upper()) + "_API_KEY",)]


def credential_env(model: str) -> list[str]:
    """What to set to give ``model`` credentials, one alternative per item, any one enough.

    Examples: ``["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"]``, ``["OPENAI_API_KEY"]``,
    ``["GEMINI_API_KEY", "GOOGLE_API_KEY"]``, ``["VERTEXAI_PROJECT and VERTEXAI_LOCATION"]``
    (a bare ``gemini-*`` id), ``["AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", "AWS_PROFILE",
    ...]``. ``[]`` for keyless local providers (ollama) and for a model whose provider cannot
    be told (see :func:`credential_groups`).
    """
    return [" and ".join(group) for group in credential_groups(model)]


def _set(name: str) -> bool:
    return bool(os.environ.get(name, "").strip())


def provider_has_credentials(provider: str) -> bool:
    """True when some alternative of :data:`CREDENTIALS` for ``provider`` is fully set."""
    return any(all(_set(n) for n in group) for group in CREDENTIALS.get(provider, ()))


def has_credentials(model: str, *, api_base: str | None = None) -> bool:
    """True when a call to ``model`` could authenticate.

    With ``api_base`` (an OpenAI-compatible server given by ``--api-base``) always True:
    local servers ignore keys. Otherwise True for keyless providers, or when every variable of
    one group of :func:`credential_groups` is set and non-blank; False for a model of
    unknown provider.
    """
    if api_base:
        return True
    provider = provider_of(model)
    if provider in KEYLESS_PROVIDERS:
        return True
    return any(all(_set(n) for n in group) for group in credential_groups(model))


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
