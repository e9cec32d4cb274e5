"""Model prices and token counts, read from the data litellm ships, without importing litellm.

Importing litellm costs ~2.5 s; packing and budget checks happen before any call (and a
fully cached re-run makes none), so they read the same data directly:

- prices: ``litellm/model_prices_and_context_window_backup.json`` — the map litellm itself
  uses with ``LITELLM_LOCAL_MODEL_COST_MAP=True`` (USD per token);
- tokens: the tokenizer litellm's ``token_counter`` selects for the model — its packaged
  Anthropic tokenizer (``tokenizers``) for Claude models other than Claude 3, tiktoken's
  encoding for OpenAI chat models, else ``cl100k_base``; tiktoken files come from litellm's
  bundled encodings directory (no download).

``tests/test_pricing.py`` checks both against litellm for every packaged model.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from tokyo_cli.providers import provider_of, wire_model_name


@lru_cache(maxsize=1)
def _litellm_dir() -> Path | None:
    spec = importlib.util.find_spec("litellm")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


@lru_cache(maxsize=1)
def price_map() -> dict[str, dict[str, Any]]:
    """litellm's bundled model map: ``{model_id: {"input_cost_per_token": USD, ...}}``."""
    root = _litellm_dir()
    if root is None:
        return {}
    try:
        data = json.loads((root / "model_prices_and_context_window_backup.json").read_bytes())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


@dataclass(frozen=True)
class Price:
    """USD per input token and per output token."""

    input: float
    output: float


def price_of(model: str) -> Price | None:
    """The model's list price, or ``None`` when the map does not know it (local models)."""
    table = price_map()
    for key in (model, wire_model_name(model)):
        entry = table.get(key)
        if entry and entry.get("input_cost_per_token") is not None:
            return Price(float(entry["input_cost_per_token"]), float(entry.get("output_cost_per_token") or 0.0))
    return None


# -- tokens ---------------------------------------------------------------------------------


def tokenizer_kind(model: str) -> str:
    """``"anthropic"`` or a tiktoken encoding name: what litellm's token_counter uses.

    Mirrors litellm's choice for the providers we ship: Claude models other than Claude 3
    use the packaged Anthropic tokenizer; OpenAI chat models use tiktoken's encoding for the
    model (``o200k_base`` for gpt-4o, o-series, gpt-5); everything else ``cl100k_base``.
    """
    name = wire_model_name(model)
    entry = price_map().get(name) or {}
    if provider_of(model) == "anthropic" and entry and "claude-3" not in name:
        return "anthropic"
    if entry.get("litellm_provider") == "openai" and entry.get("mode") == "chat":
        if "gpt-4o" in name:
            return "o200k_base"
        import tiktoken.model

        try:
            return str(tiktoken.model.encoding_name_for_model(name))
        except KeyError:
            return "cl100k_base"
    return "cl100k_base"


@lru_cache(maxsize=4)
def _encoder(kind: str) -> Any:
    root = _litellm_dir()
    if kind == "anthropic" and root is not None:
        try:
            from tokenizers import Tokenizer

            return Tokenizer.from_file(str(root / "litellm_core_utils" / "tokenizers" / "anthropic_tokenizer.json"))
        except Exception:  # noqa: BLE001 - fall back to tiktoken, as litellm does
            pass
    if root is not None:
        # Where litellm keeps its bundled tiktoken files; tiktoken would otherwise download them.
        os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(root / "litellm_core_utils" / "tokenizers"))
    import tiktoken

    return tiktoken.get_encoding("cl100k_base" if kind == "anthropic" else kind)


BATCH = 1_024  # texts per tokenizer call: bounds the memory the token-id lists take


def count_tokens(model: str, texts: Sequence[str]) -> list[int]:
    """Token counts of ``texts`` for ``model``'s tokenizer (batched; thread-parallel in Rust)."""
    enc = _encoder(tokenizer_kind(model)) if texts else None
    counts: list[int] = []
    for start in range(0, len(texts), BATCH):
        batch = list(texts[start : start + BATCH])
        if hasattr(enc, "encode_ordinary_batch"):
            counts.extend(len(t) for t in enc.encode_ordinary_batch(batch, num_threads=os.cpu_count() or 2))
        else:
            counts.extend(len(e.ids) for e in enc.encode_batch_fast(batch, add_special_tokens=False))
    return counts
