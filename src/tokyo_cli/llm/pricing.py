"""Model prices and token counts, read from the data litellm ships, without importing litellm.

Importing litellm costs ~2.5 s; packing and budget checks happen before any call (and a
fully cached re-run makes none), so they read the same data directly:

- prices: ``litellm/model_prices_and_context_window_backup.json`` — the map litellm itself
  uses with ``LITELLM_LOCAL_MODEL_COST_MAP=True`` (USD per token);
- tokens: the tokenizer litellm's ``token_counter`` selects for the model — its packaged
  Anthropic tokenizer (run by tiktoken: :func:`anthropic_encoding`) for Claude models other
  than Claude 3, tiktoken's
  encoding for OpenAI chat models, else ``cl100k_base``; tiktoken files come from litellm's
  bundled encodings directory (no download).

``tests/test_pricing.py`` checks both against litellm for every packaged model.
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
import unicodedata
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from tokyo_cli.llm.providers import provider_of, wire_model_name


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


@dataclass(frozen=True)
class ModelLimits:
    """A model's limits in tokens: ``context_window`` (input tokens a prompt may use: the map's
    ``max_input_tokens``) and ``max_output_tokens`` (per reply)."""

    context_window: int
    max_output_tokens: int


def model_limits(model: str) -> ModelLimits | None:
    """``model``'s context window and output cap from litellm's bundled model map, as
    ``litellm.get_model_info(model)`` gives them with ``LITELLM_LOCAL_MODEL_COST_MAP=True``
    (the id, else the id without its provider prefix); ``None`` when the map does not know the
    model or its input window (local models: use ``--context-window``). Reads the JSON map
    (~0.1 s, once per process) instead of importing litellm (~2.5 s)."""
    table = price_map()
    for key in (model, wire_model_name(model)):
        entry = table.get(key)
        if not isinstance(entry, dict) or entry.get("mode", "chat") not in ("chat", "responses", "completion"):
            continue
        window = entry.get("max_input_tokens")
        output = entry.get("max_output_tokens") or entry.get("max_tokens")
        if isinstance(window, int) and window > 0:
            return ModelLimits(window, output if isinstance(output, int) and output > 0 else window)
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
        with _LOADING:  # threads importing tiktoken at once trip importlib's deadlock check
            import tiktoken.model
        try:
            return str(tiktoken.model.encoding_name_for_model(name))
        except KeyError:
            return "cl100k_base"
    return "cl100k_base"


_LOADING = threading.RLock()


def _encoder(kind: str) -> Any:
    with _LOADING:  # agents packing in threads load each tokenizer once, one at a time
        return _load_encoder(kind)


@lru_cache(maxsize=4)
def _load_encoder(kind: str) -> Any:
    root = _litellm_dir()
    if root is not None:
        # Where litellm keeps its bundled tiktoken files; tiktoken would otherwise download them.
        os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(root / "litellm_core_utils" / "tokenizers"))
    if kind == "anthropic" and root is not None:
        try:
            return anthropic_encoding(root / "litellm_core_utils" / "tokenizers" / "anthropic_tokenizer.json")
        except (OSError, ValueError, KeyError):  # fall back to tiktoken, as litellm does
            pass
    import tiktoken

    return tiktoken.get_encoding("cl100k_base" if kind == "anthropic" else kind)


# GPT-2's pre-tokenizer split, which a Hugging Face ``ByteLevel`` pre-tokenizer applies.
_BYTE_LEVEL_SPLIT = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


def _byte_level_alphabet() -> dict[str, int]:
    """GPT-2's ``bytes_to_unicode`` reversed: the printable character standing for each byte."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    chars = {b: b for b in printable}
    extra = 0
    for b in range(256):
        if b not in chars:
            chars[b] = 256 + extra
            extra += 1
    return {chr(c): b for b, c in chars.items()}


def anthropic_encoding(path: Path) -> Any:
    """litellm's Anthropic tokenizer (a Hugging Face byte-level BPE JSON) as a tiktoken Encoding.

    The same BPE, about twice as fast to count with, which matters for a 500,000-line change.
    Ranks: the 256 bytes, then each merge in file order — how tiktoken itself converted GPT-2's
    BPE files (``tiktoken.load.data_gym_to_mergeable_bpe_ranks``); for a BPE trained by merges
    the lowest-rank pair is then the pair the merge list applies first. The file's split
    pattern is the ``ByteLevel`` (GPT-2) one, its added tokens are special tokens, and its
    NFKC normalizer is applied by :func:`count_tokens` (``unicodedata``). ``tests/test_scale.py``
    checks the counts equal the Hugging Face tokenizer's over a corpus.

    Raises:
        OSError, ValueError, KeyError: the file is missing or not a byte-level BPE.
    """
    import tiktoken

    data = json.loads(path.read_bytes())
    model, pre = data["model"], data.get("pre_tokenizer") or {}
    if model.get("type") != "BPE" or pre.get("type") != "ByteLevel" or pre.get("add_prefix_space"):
        raise ValueError("not a byte-level BPE tokenizer")
    alphabet = _byte_level_alphabet()
    ranks = {bytes([b]): b for b in range(256)}
    for merge in model["merges"]:
        left, right = merge.split(" ") if isinstance(merge, str) else merge
        token = bytes(alphabet[c] for c in left + right)
        ranks.setdefault(token, len(ranks))
    specials = {t["content"]: len(ranks) + i for i, t in enumerate(data.get("added_tokens") or [])}
    enc = tiktoken.Encoding(
        "litellm-anthropic", pat_str=_BYTE_LEVEL_SPLIT, mergeable_ranks=ranks, special_tokens=specials
    )
    enc.nfkc = (data.get("normalizer") or {}).get("type") == "NFKC"  # type: ignore[attr-defined]
    return enc


SLICE = 256  # texts per pool task: large enough that task overhead is noise


@lru_cache(maxsize=1)
def _pool() -> ThreadPoolExecutor:
    """One pool for every tokenizer and caller: agents packing at once share the cores
    instead of each starting its own threads (tiktoken releases the GIL while encoding)."""
    return ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="tokyo-tokens")


def count_tokens(model: str, texts: Sequence[str]) -> list[int]:
    """Token counts of ``texts`` for ``model``'s tokenizer, counted on a shared thread pool.

    tiktoken's own batch API starts a thread pool per call: with several agents counting at
    once that measured 1.5x the CPU for the same counts on a 2-core machine.
    """
    if not texts:
        return []
    enc = _encoder(tokenizer_kind(model))
    if len(texts) <= SLICE:
        return _count(enc, texts)
    slices = [texts[i : i + SLICE] for i in range(0, len(texts), SLICE)]
    return [n for part in _pool().map(_count, [enc] * len(slices), slices) for n in part]


def _count(enc: Any, texts: Sequence[str]) -> list[int]:
    if getattr(enc, "nfkc", False):  # the Anthropic file: NFKC first; its added tokens match in text
        return [
            len(enc.encode(t if t.isascii() else unicodedata.normalize("NFKC", t), allowed_special="all"))
            for t in texts
        ]
    encode = enc.encode_ordinary
    return [len(encode(t)) for t in texts]
