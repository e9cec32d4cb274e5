"""Token-budget packing: a step's hunks, in risk order, into chunks that fit one call each.

A chunk holds whole hunks; a hunk is split (by lines, with ``OVERLAP_LINES`` of overlap)
only when it alone exceeds the budget. Files are ordered by risk first — security-sensitive
paths, then source before configuration before docs, larger changes first — so when a cost
cap stops work part-way, what is left unreviewed is the least important part.

Token counts come from :func:`tokyo_cli.llm.pricing.count_tokens` (the tokenizer litellm uses
for the model), measured once per hunk and tokenizer and reused across agents.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from tokyo_cli.git.repo import DiffLine, FileChange, Hunk
from tokyo_cli.llm.pricing import count_tokens, tokenizer_kind

OVERLAP_LINES = 3
CHARS_PER_TOKEN = 3.5  # only when no model is given (tests, estimates)
HEADER_TOKENS = 24  # a FILE: line, measured generously

_SENSITIVE = re.compile(
    r"(auth|login|passw|secret|token|crypt|session|permission|acl|oauth|jwt|security|sql|"
    r"payment|billing|admin|\.github/workflows/|dockerfile|\.tf$|k8s/|helm/|settings|config)",
    re.I,
)
_SOURCE = {
    "python",
    "javascript",
    "typescript",
    "go",
    "rust",
    "java",
    "kotlin",
    "c",
    "cpp",
    "csharp",
    "ruby",
    "php",
    "swift",
    "scala",
    "shell",
}
_DOCS = {"markdown", "rst", "text", "asciidoc"}


def risk_rank(change: FileChange) -> tuple[int, int, int, str]:
    """Sort key, most important first: sensitive path, source < config < docs, bigger first."""
    sensitive = 0 if _SENSITIVE.search(change.path) else 1
    kind = 0 if change.language in _SOURCE else 2 if change.language in _DOCS else 1
    return (sensitive, kind, -(change.additions + change.deletions), change.path)


@dataclass
class Chunk:
    """Part of a step's change that fits one call: ``(file, hunks)`` pairs, in risk order."""

    parts: list[tuple[FileChange, list[Hunk]]] = field(default_factory=list)
    tokens: int = 0

    @property
    def paths(self) -> list[str]:
        return [f.path for f, _ in self.parts]


class TokenStore(Protocol):
    """Where measured counts persist between runs (``cache.DbCache`` satisfies it)."""

    def get_text(self, key: str) -> str | None: ...

    def put_text(self, key: str, model: str, text: str) -> None: ...


class TokenMeter:
    """Counts tokens for a model, memoised by tokenizer so agents share work.

    With a ``store``, counts of the same texts are reused across runs: loading a tokenizer
    costs ~0.4 s, which a re-run over an unchanged change should not pay.
    """

    def __init__(self, store: TokenStore | None = None) -> None:
        self._cache: dict[tuple[str, int], int] = {}
        self._renders: dict[int, str] = {}  # id(hunk) -> Hunk.render(), shared by tokenizers
        self._store = store
        self._locks: dict[str, threading.Lock] = defaultdict(threading.Lock)

    def count(self, model: str | None, texts: Sequence[str]) -> list[int]:
        """Tokens of each text for ``model``'s tokenizer (a character estimate without a model)."""
        if not model:
            return [int(len(t) / CHARS_PER_TOKEN) + 1 for t in texts]
        kind = tokenizer_kind(model)
        key = ""
        if self._store is not None:
            key = "tokens:" + kind + ":" + hashlib.sha256("\x1e".join(texts).encode("utf-8", "replace")).hexdigest()
            stored = self._store.get_text(key)
            if stored is not None:
                counts = json.loads(stored)
                if isinstance(counts, list) and len(counts) == len(texts):
                    return [int(n) for n in counts]
        counts = count_tokens(model, texts)
        if self._store is not None:
            self._store.put_text(key, "tokens", json.dumps(counts))
        return counts

    def rendered(self, hunk: Hunk) -> str:
        """``hunk.render()``, computed once per run (the meter lives as long as the changeset)."""
        text = self._renders.get(id(hunk))
        if text is None:
            text = self._renders[id(hunk)] = hunk.render()
        return text

    def measure(self, model: str | None, hunks: Sequence[Hunk]) -> list[int]:
        """Tokens of each hunk's rendering (``Hunk.render()``) for ``model``'s tokenizer."""
        kind = tokenizer_kind(model) if model else "estimate"
        with self._locks[kind]:  # agents packing in threads share one count per tokenizer
            missing = [h for h in hunks if (kind, id(h)) not in self._cache]
            if missing:
                for h, n in zip(missing, self.count(model, [self.rendered(h) for h in missing])):
                    self._cache[(kind, id(h))] = n
        return [self._cache[(kind, id(h))] for h in hunks]


def split_hunk(hunk: Hunk, line_tokens: Sequence[int], budget: int, overlap: int = OVERLAP_LINES) -> list[Hunk]:
    """Split an oversized hunk into line windows of at most ``budget`` tokens each.

    Consecutive windows share ``overlap`` lines so no line loses its context; every window is
    a valid hunk whose header and line numbers are its own.
    """
    pieces: list[Hunk] = []
    start, n = 0, len(hunk.lines)
    while start < n:
        end, used = start, 0
        while end < n and (end == start or used + line_tokens[end] <= budget):
            used += line_tokens[end]
            end += 1
        pieces.append(_sub_hunk(hunk, hunk.lines[start:end]))
        if end >= n:
            break
        start = max(end - overlap, start + 1)
    return pieces


def _sub_hunk(hunk: Hunk, lines: list[DiffLine]) -> Hunk:
    olds = [ln.old_line for ln in lines if ln.old_line is not None]
    news = [ln.new_line for ln in lines if ln.new_line is not None]
    return Hunk(
        old_start=olds[0] if olds else hunk.old_start,
        old_len=len(olds),
        new_start=news[0] if news else hunk.new_start,
        new_len=len(news),
        header=hunk.header,
        lines=list(lines),
    )


def pack(
    files: Iterable[FileChange],
    budget_tokens: int,
    *,
    model: str | None = None,
    meter: TokenMeter | None = None,
    exact: bool = True,
) -> list[Chunk]:
    """Pack ``files``' hunks (risk order) into chunks of at most ``budget_tokens`` each.

    Args:
        budget_tokens: tokens available for the diff in one call (context window minus the
            output cap, the prompt's fixed parts and a margin).
        model: whose tokenizer counts; ``None`` estimates from characters.
        meter: shares token counts between calls (one per run).
        exact: ``False`` lets a change whose UTF-8 size fits the budget skip the tokenizer
            (a byte-level BPE token is at least one byte, so bytes bound tokens from above);
            chunk sizes are then over-estimates, fine unless a cost cap needs real counts.
    Returns:
        Chunks in priority order; a file's hunks stay together and in order where they fit.
    """
    budget = max(64, budget_tokens)
    meter = meter or TokenMeter()
    ordered = sorted(files, key=risk_rank)
    all_hunks = [h for f in ordered for h in f.hunks]
    upper = [len(meter.rendered(h).encode("utf-8")) for h in all_hunks] if not exact else []
    if upper and sum(upper) + HEADER_TOKENS * len(ordered) <= budget:
        sizes = dict(zip(map(id, all_hunks), upper))  # fits whole: no tokenizer to load
    else:
        sizes = dict(zip(map(id, all_hunks), meter.measure(model, all_hunks)))
    chunks: list[Chunk] = []
    current = Chunk()

    def place(change: FileChange, hunk: Hunk, cost: int) -> None:
        nonlocal current
        extra = 0 if current.parts and current.parts[-1][0] is change else HEADER_TOKENS
        if current.parts and current.tokens + cost + extra > budget:
            chunks.append(current)
            current, extra = Chunk(), HEADER_TOKENS
        if current.parts and current.parts[-1][0] is change:
            current.parts[-1][1].append(hunk)
        else:
            current.parts.append((change, [hunk]))
        current.tokens += cost + extra

    for change in ordered:
        for hunk in change.hunks:
            cost = sizes[id(hunk)]
            if cost + HEADER_TOKENS <= budget:
                place(change, hunk, cost)
                continue
            per_line = _line_tokens(meter, model, hunk)
            for piece in split_hunk(hunk, per_line, budget - HEADER_TOKENS - 16):
                place(change, piece, sum(_line_tokens(meter, model, piece)) + 16)
    if current.parts:
        chunks.append(current)
    return chunks


def _line_tokens(meter: TokenMeter, model: str | None, hunk: Hunk) -> list[int]:
    """Tokens of each line as the prompt shows it, +1 for the newline between lines; through
    the meter, so a re-run reads stored counts instead of loading the tokenizer."""
    texts = hunk.render().split("\n")[1:]
    return [n + 1 for n in meter.count(model, texts)]
