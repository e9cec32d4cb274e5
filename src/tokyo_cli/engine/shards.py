"""Sharding: one change split into N deterministic, balanced parts (``tokyo review --shard I/N``).

A CI matrix of N jobs each reviews one shard; ``tokyo merge`` joins their outputs
(:mod:`tokyo_cli.engine.merging`). The split is:

* **complete and disjoint** — every changed file (reviewable or skipped) is in exactly one
  shard; two entries of one path (a file that became a symlink) stay together;
* **balanced by changed bytes** — the bytes of the file's '+' and '-' lines (the whole file
  for ``--all``), plus :data:`FILE_OVERHEAD_BYTES` per file, assigned largest first to the
  lightest shard (the LPT rule: no shard ends more than one file's weight above the mean);
* **stable** — a pure function of the change's file list and N: the same in every process
  and on every runner (ties are broken by path and shard number, never by Python's
  ``hash()``, which is salted per process).

A shard still reads the whole change: analyzers that look across files (test gaps, import
cycles, links) see every file as context and report only on their shard's files, so the
merged findings equal an unsharded run's.

Identity: :func:`change_id` names the change (target kind, base and head commits, every
file's path, status, skip reason and content), so ``tokyo merge`` can tell that N outputs
belong together and which shard is missing.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from tokyo_cli.analyzers.common import balance
from tokyo_cli.errors import ConfigError
from tokyo_cli.git.repo import Changeset, FileChange

FILE_OVERHEAD_BYTES = 64
"""Weight every file adds besides its changed bytes (a listed file costs a little too)."""
MAX_SHARDS = 256
_SHARD = re.compile(r"^\s*(\d{1,4})\s*/\s*(\d{1,4})\s*$")


@dataclass(frozen=True)
class ShardSpec:
    """Shard ``index`` (1-based) of ``count``."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> ShardSpec:
        """``"2/4"`` -> ``ShardSpec(2, 4)``.

        Raises:
            ConfigError: not ``I/N`` with ``1 <= I <= N <= MAX_SHARDS`` (one line, exit 2).
        """
        m = _SHARD.match(text or "")
        if not m:
            raise ConfigError(f"--shard takes I/N (for example 2/4), not {text!r}")
        index, count = int(m.group(1)), int(m.group(2))
        if not 1 <= count <= MAX_SHARDS:
            raise ConfigError(f"--shard {text}: N must be 1..{MAX_SHARDS}")
        if not 1 <= index <= count:
            raise ConfigError(f"--shard {text}: I must be 1..{count} (shards are numbered from 1)")
        return cls(index, count)

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def changed_bytes(change: FileChange) -> int:
    """Bytes of ``change``'s '+' and '-' lines (UTF-8, one newline each); 0 for a file with no
    hunks (binary, deleted, skipped before reading)."""
    return sum(
        len(line.text.encode("utf-8", "surrogatepass")) + 1
        for hunk in change.hunks
        for line in hunk.lines
        if line.kind in "+-"
    )


def assign_shards(files: list[FileChange], count: int) -> dict[str, int]:
    """``{path: shard}`` (1-based) for every path of ``files`` (see the module docstring).

    Largest weight first (ties: path order), each to the shard with the least weight so
    far (ties: the lowest number). Deterministic for the same file list and ``count``.
    """
    weights: dict[str, int] = {}
    for change in files:
        weights[change.path] = weights.get(change.path, FILE_OVERHEAD_BYTES) + changed_bytes(change)
    return {path: part + 1 for path, part in balance(weights, count).items()}


def shard_paths(changeset: Changeset, spec: ShardSpec) -> frozenset[str]:
    """The paths of ``changeset`` that shard ``spec`` reviews."""
    assigned = assign_shards(changeset.files, spec.count)
    return frozenset(path for path, shard in assigned.items() if shard == spec.index)


def change_id(changeset: Changeset) -> str:
    """16 hex digits naming the change: the same on every runner that reads the same change
    (no absolute path in it), different when any file, the target or the commits differ."""
    from tokyo_cli.engine.cache import changeset_digest

    parts = [changeset_digest(changeset), changeset.base_sha or "", changeset.head_sha or ""]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


__all__ = [
    "FILE_OVERHEAD_BYTES",
    "MAX_SHARDS",
    "ShardSpec",
    "assign_shards",
    "change_id",
    "changed_bytes",
    "shard_paths",
]
