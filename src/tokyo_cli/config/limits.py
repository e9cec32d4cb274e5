"""Limits on untrusted configuration files, and a YAML loader that enforces them while it reads.

A reviewed repository's agents.yaml, workflows/ and pyproject.toml are hostile input
(docs/ARCHITECTURE.md, trust boundaries). Without limits a few hundred bytes of YAML aliases expand to
billions of values, a deeply nested flow sequence overflows the Python stack, and a 50 MB file
takes minutes and gigabytes to read. Every limit below is far above what a real team or
workflow needs; going over one is a ConfigError (exit 2) naming the file and the limit.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

from tokyo_cli.errors import ConfigError

MAX_CONFIG_BYTES = 1_000_000
"""Bytes, per configuration file (agents.yaml, one workflow, pyproject.toml); checked before parsing."""
MAX_ALIASES = 100
"""YAML alias references (``*name``) per file."""
MAX_VALUES = 100_000
"""Values (scalars, lists, mappings) per file, counted with every alias expanded."""
MAX_DEPTH = 32
"""Nesting depth of lists and mappings per file, aliases expanded (a workflow step needs 6)."""
MAX_AGENTS = 100
"""Agents per agents.yaml."""
MAX_STEPS = 100
"""Steps per workflow."""


def read_config_text(path: Path, where: str, *, max_bytes: int = MAX_CONFIG_BYTES) -> str:
    """The UTF-8 text of a configuration file, at most ``max_bytes`` bytes.

    At most ``max_bytes + 1`` bytes are read, whatever the file claims to be (a growing file,
    a pseudo-file reporting size 0), so an oversized file costs no time or memory.

    Raises:
        ConfigError: "WHERE: cannot read: <reason>" (missing, unreadable, not UTF-8) or
            "WHERE: larger than the 1 MB limit for a configuration file (1000000 bytes)".
    """
    try:
        with open(path, "rb") as handle:
            raw = handle.read(max_bytes + 1)
        if len(raw) > max_bytes:
            raise too_large(where, max_bytes)
        return raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{where}: cannot read: {exc}") from exc


def check_text_size(text: str, where: str, *, max_bytes: int = MAX_CONFIG_BYTES) -> None:
    """ConfigError when ``text`` encodes to more than ``max_bytes`` UTF-8 bytes (same message
    as read_config_text), for configuration that arrives as text (e.g. from a git commit)."""
    # 4 bytes per character at most: only a text near the limit pays for the encoding.
    if len(text) * 4 > max_bytes and len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        raise too_large(where, max_bytes)


def too_large(where: str, max_bytes: int = MAX_CONFIG_BYTES) -> ConfigError:
    """The error for a configuration file over ``max_bytes``: "WHERE: larger than the 1 MB
    limit for a configuration file (1000000 bytes)" (exit 2)."""
    return ConfigError(
        f"{where}: larger than the {_size(max_bytes)} limit for a configuration file ({max_bytes} bytes)"
    )


def load_toml_text(text: str, where: str) -> dict[str, Any]:
    """Parse an untrusted TOML document (a reviewed repository's pyproject.toml).

    The size (MAX_CONFIG_BYTES) and the nesting (MAX_DEPTH: brackets, and dots of one dotted
    key) are checked before ``tomllib`` sees the text: tomllib recurses once per nested array
    (a RecursionError past ~1000) and holds every prefix of a dotted key (a 200 KB key
    ``a.a.a...`` needs tens of GB).

    Raises:
        ConfigError: "WHERE: larger than the 1 MB limit ...", "WHERE:LINE: invalid TOML: nested
            deeper than 32 levels (the limit)" or "WHERE: invalid TOML: <tomllib's message>".
    """
    check_text_size(text, where)
    line = toml_too_deep(text)
    if line:
        raise ConfigError(f"{where}:{line}: invalid TOML: nested deeper than {MAX_DEPTH} levels (the limit)")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: invalid TOML: {exc}") from exc


_TOML_SPECIAL = re.compile(r"[#\"'\[\]{},=\n.]")
# The rest of a string after its opening quote(s), up to (not including) the closing quote(s):
# basic strings honour backslash escapes; one-line strings stop at a newline.
_TOML_STRING_BODY = {
    '"""': re.compile(r'(?:[^"\\]|\\.|"(?!""))*', re.S),
    "'''": re.compile(r"(?:[^']|'(?!''))*", re.S),
    '"': re.compile(r'(?:[^"\\\n]|\\[^\n])*'),
    "'": re.compile(r"[^'\n]*"),
}


def toml_too_deep(text: str) -> int:
    """Before any ``tomllib.loads`` of untrusted text: the 1-based line where brackets outside
    strings nest deeper than MAX_DEPTH, or one run of text between separators (``,=[]{}`` and
    newlines) holds more than MAX_DEPTH dots; 0 if none. Linear: regex jumps, no per-character
    Python loop (a 1 MB file takes milliseconds).

    Strings and comments are skipped, so a version "1.2.3" or a URL never counts; a value has
    at most one dot (a float, a time), so only an absurd dotted key can reach the limit. The
    scan follows tomllib wherever the TOML is valid (it only has to agree with tomllib up to
    the first error tomllib raises).
    """
    depth = dots = 0
    line = 1
    i, n = 0, len(text)
    while i < n:
        found = _TOML_SPECIAL.search(text, i)
        if found is None:
            break
        i = found.start()
        ch = text[i]
        if ch == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if ch in "\"'":
            quote = ch * 3 if text.startswith(ch * 3, i) else ch
            body = _TOML_STRING_BODY[quote].match(text, i + len(quote))
            assert body is not None  # every pattern matches the empty string
            end = body.end()
            line += text.count("\n", i, end)
            if text.startswith(quote, end):
                end += len(quote)
                if len(quote) == 3:  # a multi-line string may close with up to two more quotes
                    end += len(text[end : end + 2]) - len(text[end : end + 2].lstrip(ch))
            i = end
            continue
        if ch in "[{":
            depth += 1
            dots = 0
            if depth > MAX_DEPTH:
                return line
        elif ch in "]}":
            depth -= 1
            dots = 0
        elif ch == ".":
            dots += 1
            if dots > MAX_DEPTH:
                return line
        else:  # , = newline
            dots = 0
            line += ch == "\n"
        i += 1
    return 0


def _size(n: int) -> str:
    return f"{n // 1_000_000} MB" if n % 1_000_000 == 0 else f"{n} bytes"


class LimitExceeded(yaml.MarkedYAMLError):
    """A YAML limit was crossed at ``problem_mark``; the message names the limit."""


class LimitedLoader(yaml.SafeLoader):
    """PyYAML's safe loader with the alias, value and depth limits checked while composing.

    The checks run before any value is constructed, so a bomb costs at most MAX_VALUES
    steps. Dates stay strings (a config never needs one, and an impossible date such as
    2024-13-45 made PyYAML raise a bare ValueError); a value PyYAML cannot build (an integer of
    more than 4300 digits, an explicit ``!!timestamp`` that is not one) is a ConstructorError
    at its line.
    """

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._depth = 0
        self._aliases = 0
        self._values = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        # types-PyYAML leaves the parser's methods unannotated.
        mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise LimitExceeded(problem=f"more than {MAX_ALIASES} aliases (the limit per file)", problem_mark=mark)
            return super().compose_node(parent, index)
        self._values += 1
        if self._values > MAX_VALUES:
            raise LimitExceeded(problem=f"more than {MAX_VALUES} values (the limit per file)", problem_mark=mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise LimitExceeded(problem=f"nested deeper than {MAX_DEPTH} levels (the limit)", problem_mark=mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        # PyYAML's constructors fail on odd values with plain Python errors: int() past 4300
        # digits (ValueError), "!!timestamp x" (AttributeError), ...
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as exc:
            problem = f"cannot read this value: {exc}"
        except (TypeError, AttributeError, IndexError, KeyError):
            problem = f"not a valid {str(node.tag).rsplit(':', 1)[-1]}"
        raise yaml.constructor.ConstructorError(problem=problem, problem_mark=node.start_mark)


# Timestamps resolve to str: drop the implicit resolver from this class's own copy.
LimitedLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def check_expansion(root: yaml.Node) -> None:
    """Raise LimitExceeded when ``root`` expands (every alias followed) to more than MAX_VALUES
    values or deeper than MAX_DEPTH, or an alias refers to its own anchor (endless data).

    Each distinct node is visited once (sizes memoised), so this is linear in the composed file
    whatever the expansion; iterative, so no Python recursion limit applies.
    """
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        children = _children(node)
        if finished:
            open_nodes.discard(key)
            size[key] = 1 + sum(size[id(c)] for c in children)
            depth[key] = 1 + max((depth[id(c)] for c in children), default=0)
            if size[key] > MAX_VALUES:
                raise LimitExceeded(
                    problem=f"aliases expand to more than {MAX_VALUES} values (the limit per file)",
                    problem_mark=node.start_mark,
                )
            if depth[key] > MAX_DEPTH:
                raise LimitExceeded(
                    problem=f"aliases nest deeper than {MAX_DEPTH} levels (the limit)",
                    problem_mark=node.start_mark,
                )
            continue
        if key in size:
            continue
        if key in open_nodes:  # entered, not finished: an ancestor of itself
            raise LimitExceeded(
                problem="an alias refers to its own anchor (endless data)", problem_mark=node.start_mark
            )
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in size)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []
