"""YAML loading that remembers where every key came from, for errors that name file and line.

``load_yaml_text(text, name)`` composes the document (node tree, safe tags only, within the
limits of :mod:`tokyo_cli.config.limits`: size, aliases, expanded values, depth), constructs
plain Python data from it, and keeps the 1-based line of every mapping key and sequence item
under its location tuple, e.g. ``("steps", 1, "agent") -> 7``; ``load_yaml(path)`` reads a
file (at most 1 MB) and calls it. ``pydantic_errors`` turns a
pydantic ``ValidationError`` raised on that data into lines of the form
``FILE:LINE: steps[1].agent: message``.
"""

from __future__ import annotations

import difflib
import os
import re
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from tokyo_cli.config.limits import LimitedLoader, check_expansion, check_text_size, read_config_text
from tokyo_cli.errors import ConfigError
from tokyo_cli.safety.textsafe import quote_path

Loc = tuple[str | int, ...]

_MERGE_TAG = "tag:yaml.org,2002:merge"


def display_path(path: Path) -> str:
    """``path`` relative to the working directory when it lies below it, else as given."""
    try:
        if Path(path).resolve().is_relative_to(Path.cwd().resolve()):
            return os.path.relpath(Path(path).resolve(), Path.cwd().resolve())
        return str(path)
    except (OSError, ValueError):
        return str(path)


def format_loc(loc: Sequence[str | int]) -> str:
    """``("steps", 1, "agent")`` -> ``"steps[1].agent"``; ``()`` -> ``""``. A key holding a
    newline or another control character is quoted (``safety.textsafe.quote_path``): it comes from
    the file and ends up on a terminal."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            key = quote_path(str(part))
            out += f".{key}" if out else key
    return out


@dataclass
class YamlDoc:
    """One parsed YAML file.

    Attributes:
        name: the file as messages name it ("agents.yaml", "workflows/x.yaml", or whatever a
            caller loading text passed, e.g. "agents.yaml at abc1234").
        data: plain Python data (dict, list, str, int, float, bool, None); None for an empty file.
        lines: 1-based line of each location: a mapping key's line, a sequence item's first line.
            A value reached through an alias is recorded once, where its anchor is; its other
            locations fall back to the line of the alias (``line`` walks up to a known prefix).
        text: the file's text.
        path: the file on disk, None when the text came from elsewhere.
    """

    name: str
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)
    text: str = ""
    path: Path | None = None

    def line(self, loc: Sequence[str | int]) -> int:
        """Line of ``loc`` or of its longest known prefix (a missing key -> its parent's line)."""
        loc = tuple(loc)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get((), 1)

    def error(self, loc: Sequence[str | int], message: str) -> str:
        """``"FILE:LINE: loc: message"`` (``"FILE:LINE: message"`` when ``loc`` is empty)."""
        where = f"{self.name}:{self.line(loc)}"
        key = format_loc(loc)
        return f"{where}: {key}: {message}" if key else f"{where}: {message}"

    def count_error(self, loc: Sequence[str | int], limit: int, what: str) -> str | None:
        """``"FILE:LINE: loc: N <what>, over the limit of LIMIT per file"`` when the list at
        ``loc`` has more than ``limit`` items; None otherwise (also when it is not a list)."""
        value: Any = self.data
        for part in loc:
            try:
                value = value[part]
            except (KeyError, IndexError, TypeError):
                return None
        if isinstance(value, list) and len(value) > limit:
            return self.error(loc, f"{len(value)} {what}, over the limit of {limit} per file")
        return None


def load_yaml(path: Path) -> YamlDoc:
    """Read and parse one YAML file with line information: ``load_yaml_text`` over the file's
    text, named by ``display_path(path)``.

    Raises:
        ConfigError: "FILE: cannot read: <reason>" when the file cannot be read or is not UTF-8;
            "FILE: larger than the 1 MB limit ..." (checked before the file is read whole);
            every error of ``load_yaml_text``.
    """
    where = display_path(path)
    text = read_config_text(Path(path), where)
    doc = load_yaml_text(text, where)
    doc.path = Path(path)
    return doc


def load_yaml_text(text: str, name: str) -> YamlDoc:
    """Parse one YAML document given as text; ``name`` is how messages call it ("FILE").

    Untrusted input is bounded (configlimits): the size (MAX_CONFIG_BYTES), the aliases
    (MAX_ALIASES), the values with aliases expanded (MAX_VALUES) and the nesting depth
    (MAX_DEPTH); the work done is linear in the text whatever its aliases. Dates stay strings.

    Raises:
        ConfigError: "FILE: larger than the 1 MB limit ...";
            "FILE:LINE: invalid YAML: <problem>" for a syntax error, several documents, a
            control character (NUL, BEL, ...), a value PyYAML cannot build, or a limit crossed
            (the problem names the limit);
            "FILE:LINE: key: duplicate key (first at line N)" — PyYAML would silently keep the
            last one, which hides typos in overrides. All duplicates are listed, one per line.
    """
    check_text_size(text, name)
    node = None
    try:
        loader = LimitedLoader(text)
    except yaml.reader.ReaderError as exc:  # a character YAML forbids, found before parsing
        raise ConfigError(f"{name}:{_line_at(text, exc.position)}: invalid YAML: {_reader_problem(exc)}") from None
    try:
        node = loader.get_single_node()
        if node is None:
            return YamlDoc(name=name, data=None, text=text)
        check_expansion(node)
        duplicates: list[str] = []
        _find_duplicates(loader, node, (), name, duplicates, set())
        if duplicates:
            raise ConfigError("\n".join(duplicates))
        doc = YamlDoc(name=name, data=loader.construct_document(node), text=text)
        # After construction: merge keys (<<) are flattened into the mappings that use them.
        _record_lines(loader, node, (), doc.lines, set())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        # "but got <stream end>" marks the line after the last one; name a line that exists.
        line = max(1, min(line, len(text.splitlines())))
        problem = exc.problem or exc.context or "syntax error"
        raise ConfigError(f"{name}:{line}: invalid YAML: {problem}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{name}:1: invalid YAML: {exc}") from exc
    finally:
        loader.dispose()
    return doc


def _line_at(text: str, position: int) -> int:
    return text.count("\n", 0, max(0, position)) + 1


def _reader_problem(exc: yaml.reader.ReaderError) -> str:
    char = exc.character
    code = ord(char) if isinstance(char, str) else int(char)
    return f"control character U+{code:04X} is not allowed (remove it or write it as an escape in a quoted string)"


def _key_of(loader: LimitedLoader, node: yaml.Node) -> Any:
    """The Python key a scalar key node constructs to (what pydantic reports in its loc),
    built by the loader of this document (one per load: no state shared between threads)."""
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_object(node)
    return None


def _find_duplicates(
    loader: LimitedLoader, node: yaml.Node, loc: Loc, where: str, out: list[str], seen: set[int]
) -> None:
    """Duplicate keys of every mapping under ``node``; each node is walked once (``seen`` is
    shared), so an aliased mapping is checked where its anchor is, not once per alias."""
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        first: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = _key_of(loader, key_node)
            line = key_node.start_mark.line + 1
            try:
                if key in first:
                    out.append(
                        f"{where}:{line}: {format_loc(loc + (key,))}: duplicate key (first at line {first[key]})"
                    )
                else:
                    first[key] = line
            except TypeError:  # unhashable keys are reported by the constructor
                continue
            _find_duplicates(loader, value_node, loc + (key,), where, out, seen)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _find_duplicates(loader, item, loc + (i,), where, out, seen)


def _record_lines(loader: LimitedLoader, node: yaml.Node, loc: Loc, lines: dict[Loc, int], seen: set[int]) -> None:
    """Fill ``lines`` for ``node`` and below; each node is walked once (``seen`` is shared)."""
    if id(node) in seen:
        return
    seen.add(id(node))
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = _key_of(loader, key_node)
            try:
                lines[loc + (key,)] = key_node.start_mark.line + 1
            except TypeError:
                continue
            _record_lines(loader, value_node, loc + (key,), lines, seen)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[loc + (i,)] = item.start_mark.line + 1
            _record_lines(loader, item, loc + (i,), lines, seen)


_WHERE = re.compile(r"^(.*?):(\d+): ")


def sort_errors(errors: list[str]) -> list[str]:
    """Errors ordered by file then line (stable), so a reader can walk the file top to bottom."""

    def key(message: str) -> tuple[str, int]:
        match = _WHERE.match(message)
        return (match.group(1), int(match.group(2))) if match else ("", 0)

    return sorted(errors, key=key)


def type_name(value: Any) -> str:
    """The YAML word for a Python value's type: 'a mapping', 'a list', 'a string', ..."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "a boolean"
    return {dict: "a mapping", list: "a list", str: "a string", int: "an integer", float: "a number"}.get(
        type(value), type(value).__name__
    )


def pydantic_errors(doc: YamlDoc, exc: ValidationError, model: type[BaseModel], prefix: Loc = ()) -> list[str]:
    """Each error of ``exc`` as ``"FILE:LINE: loc: message"``, in pydantic's order.

    ``model`` is the class that was validated at ``prefix`` inside ``doc.data``; it is used to
    list the allowed keys for an unknown key and to suggest the nearest one.
    """
    out = []
    for err in exc.errors():
        loc = error_loc(err)
        out.append(doc.error(prefix + loc, error_message(err, model)))
    return out


def error_loc(err: Any) -> Loc:
    """The data location of one pydantic error dict (pydantic's own markers dropped)."""
    return tuple(p for p in err["loc"] if isinstance(p, (str, int)))


def error_message(err: Any, model: type[BaseModel]) -> str:
    """A short message for one pydantic error dict, phrased for a YAML author.

    Unknown keys list the allowed ones (``model`` is the class validated at the error's root);
    type errors say what was found.
    """
    loc = error_loc(err)
    kind = err["type"]
    if kind == "extra_forbidden":
        allowed = _fields_at(model, loc[:-1])
        hint = ""
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        if close:
            hint = f"did you mean '{close[0]}'? "
        return f"unknown key ({hint}allowed: {', '.join(allowed)})"
    if kind == "missing":
        return "missing required key"
    if kind in {"too_short", "string_too_short"} and err.get("ctx", {}).get("min_length") == 1:
        return "must not be empty"
    msg = str(err["msg"])
    msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    msg = msg[:1].lower() + msg[1:]
    if kind.endswith("_type") or kind in {"literal_error", "enum", "int_from_float", "bool_parsing"}:
        return f"{msg} (got {type_name(err['input'])}: {err['input']!r})"
    return msg


def _fields_at(model: type[BaseModel], loc: Loc) -> list[str]:
    """Field names of the model found by following ``loc`` through ``model``'s annotations."""
    annotation: Any = model
    for part in loc:
        annotation = _unwrap(annotation, isinstance(part, int))
        if isinstance(part, str) and isinstance(annotation, type) and issubclass(annotation, BaseModel):
            info = annotation.model_fields.get(part)
            if info is None:
                return []
            annotation = info.annotation
    annotation = _unwrap(annotation, False)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return sorted(annotation.model_fields)
    return []


def _unwrap(annotation: Any, item: bool) -> Any:
    """Strip ``X | None``; with ``item``, step into ``list[X]`` / ``dict[str, X]``."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        annotation = args[0] if len(args) == 1 else annotation
        origin = typing.get_origin(annotation)
    if item and origin in (list, dict):
        annotation = typing.get_args(annotation)[-1]
    return annotation
