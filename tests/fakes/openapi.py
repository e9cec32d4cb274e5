"""Requests checked against GitHub's OpenAPI description (the operations tokyo calls).

``tests/data/github-openapi-subset.json`` is copied from the npm package ``@octokit/openapi``
(its ``source`` header names the version and file; ``tools/github_openapi_subset.py`` wrote
it). :func:`match` finds the operation for a method and path and checks, from the spec:

* the route: a path template and method GitHub documents, else 404;
* path parameters: their schema type (``pull_number`` is an integer);
* the query: only documented parameters, each of its schema's type and ``enum``;
* the body: present when the spec requires one, absent when it has none, and valid against
  the request-body schema (jsonschema; OpenAPI 3.0 schemas here use only draft-4 keywords).

Stricter than GitHub in one way, on purpose: an undocumented query parameter is refused
(GitHub ignores it, which would hide a typo in tokyo).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from jsonschema import Draft4Validator

SUBSET = Path(__file__).parents[1] / "data" / "github-openapi-subset.json"


@dataclass(frozen=True)
class Operation:
    """One documented operation: ``method``, ``path`` template, ``operation_id``."""

    method: str
    path: str
    operation_id: str
    pattern: re.Pattern[str]
    parameters: tuple[dict[str, Any], ...]
    body_schema: dict[str, Any] | None
    body_required: bool


@dataclass(frozen=True)
class Refusal:
    """Why a request does not match the spec, and the status GitHub would answer."""

    status: int
    message: str


@cache
def operations() -> tuple[Operation, ...]:
    """The operations of the subset file, in its order."""
    doc = json.loads(SUBSET.read_text(encoding="utf-8"))
    ops = []
    for op in doc["operations"]:
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(op["path"]))
        body = op.get("requestBody")
        if body is not None:
            Draft4Validator.check_schema(body["schema"])
        ops.append(
            Operation(
                op["method"],
                op["path"],
                op["operationId"],
                re.compile(f"^{regex}$"),
                tuple(op["parameters"]),
                body["schema"] if body else None,
                bool(body and body["required"]),
            )
        )
    return tuple(ops)


def source() -> dict[str, Any]:
    """The subset file's ``source`` header (package, version, file)."""
    return dict(json.loads(SUBSET.read_text(encoding="utf-8"))["source"])


def _type_ok(schema: dict[str, Any], raw: str) -> bool:
    kind = schema.get("type")
    if kind == "integer" and not re.fullmatch(r"-?\d+", raw):
        return False
    if kind == "boolean" and raw not in ("true", "false"):
        return False
    return not ("enum" in schema and raw not in [str(v) for v in schema["enum"]])


def match(
    method: str, path: str, query: dict[str, list[str]], body: Any, has_body: bool
) -> tuple[Operation | None, dict[str, str], Refusal | None]:
    """The operation for ``method path`` and its path parameters, or a :class:`Refusal`.

    ``body`` is the decoded JSON (``"<not JSON>"`` when it did not parse); ``has_body`` says
    whether the request carried any bytes.
    """
    found = [(op, m) for op in operations() if (m := op.pattern.match(path))]
    if not found:
        return None, {}, Refusal(404, f"no documented route {path}")
    match = next(((op, m) for op, m in found if op.method == method), None)
    if match is None:
        allowed = ", ".join(sorted(op.method for op, _ in found))
        return None, {}, Refusal(404, f"{method} is not documented for {found[0][0].path} (only {allowed})")
    op, m = match
    params = {k: unquote(v) for k, v in m.groupdict().items()}
    for p in op.parameters:
        if p["in"] == "path" and not _type_ok(p.get("schema", {}), params[p["name"]]):
            return (
                op,
                params,
                Refusal(
                    404,
                    f"{op.operation_id}: path parameter {p['name']}={params[p['name']]!r} "
                    f"is not a {p['schema'].get('type')}",
                ),
            )
    documented = {p["name"]: p for p in op.parameters if p["in"] == "query"}
    for name, values in query.items():
        if name not in documented:
            return op, params, Refusal(422, f"{op.operation_id}: undocumented query parameter {name!r}")
        if len(values) != 1 or not _type_ok(documented[name].get("schema", {}), values[0]):
            return (
                op,
                params,
                Refusal(
                    422,
                    f"{op.operation_id}: query parameter {name}={values!r} does not match "
                    f"its schema {documented[name].get('schema')}",
                ),
            )
    missing = [p["name"] for p in documented.values() if p.get("required") and p["name"] not in query]
    if missing:
        return op, params, Refusal(422, f"{op.operation_id}: missing query parameter(s) {missing}")
    if op.body_schema is None:
        if has_body:
            return op, params, Refusal(400, f"{op.operation_id} takes no request body")
        return op, params, None
    if not has_body:
        if op.body_required:
            return op, params, Refusal(422, f"{op.operation_id}: a JSON body is required")
        return op, params, None
    if body == "<not JSON>":
        return op, params, Refusal(400, "Problems parsing JSON")
    errors = sorted(Draft4Validator(op.body_schema).iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        where = "/".join(str(x) for x in errors[0].absolute_path) or "(body)"
        return op, params, Refusal(422, f"{op.operation_id}: Invalid request: {where}: {errors[0].message}")
    return op, params, None
