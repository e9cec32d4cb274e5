"""The response cache: a model's usable answer, keyed by everything that shapes it.

key = sha256 of (model, fallbacks, messages, temperature, max_tokens, json_mode). Only
answers that parsed into the output contract are stored, so a cached reply is always usable.
The cache lives in the history database (table ``cache``, migration ``m004_cache``); a re-run
over an unchanged change therefore makes no provider call at all.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any, Protocol

from pydantic import BaseModel


class CachedReply(BaseModel):
    """What a cache hit gives back: the reply text, who answered, and what it cost then."""

    content: str
    model: str
    provider: str
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float | None = None


class ResponseCache(Protocol):
    """Anything with ``get``/``put`` by key (tests pass a dict-backed one)."""

    def get(self, key: str) -> CachedReply | None: ...

    def put(self, key: str, reply: CachedReply) -> None: ...


def cache_key(
    model: str,
    fallbacks: Sequence[str],
    messages: Sequence[dict[str, Any]],
    *,
    temperature: float | None,
    max_tokens: int,
    json_mode: bool = True,
) -> str:
    """sha256 hex of every input that affects a model's output."""
    payload = json.dumps(
        [model, list(fallbacks), list(messages), temperature, max_tokens, json_mode],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class DbCache:
    """:class:`ResponseCache` over the history database's ``cache`` table.

    Errors reading or writing (a locked or full database) are swallowed: a cache miss costs
    money, never the run.
    """

    def __init__(self, db: Any) -> None:
        self.db = db

    def get(self, key: str) -> CachedReply | None:
        try:
            rows = list(self.db["cache"].rows_where("key = ?", [key], limit=1))
        except Exception:  # noqa: BLE001 - see class docstring
            return None
        if not rows:
            return None
        try:
            return CachedReply.model_validate_json(rows[0]["reply"])
        except ValueError:
            return None

    def put(self, key: str, reply: CachedReply) -> None:
        try:
            self.db["cache"].upsert(
                {
                    "key": key,
                    "model": reply.model,
                    "reply": reply.model_dump_json(),
                    "created_at": datetime.now(timezone.utc).isoformat(),
                },
                pk="key",
            )
        except Exception:  # noqa: BLE001 - see class docstring
            pass
