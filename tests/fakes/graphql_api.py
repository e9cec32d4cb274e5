"""GitHub's GraphQL endpoint for the fake GitHub, checked against GitHub's published schema.

``tests/data/github-graphql-subset.graphql`` is the part of ``@octokit/graphql-schema`` that
tokyo's queries use (``tools/github_graphql_subset.py`` wrote it; field and argument types as
GitHub publishes them). :func:`answer` parses and validates a request's query against it with
graphql-core — an unknown field, a wrong argument or a variable of the wrong type is refused
like GitHub refuses it (HTTP 200 with ``errors``) — and then executes it over the fake's
state, so the answer has exactly the shape the query asks for.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from graphql import GraphQLSchema, build_schema, graphql_sync, parse, validate

SUBSET = Path(__file__).parents[1] / "data" / "github-graphql-subset.graphql"

Threads = Callable[[str, str, int], list[dict[str, Any]] | None]


@cache
def schema() -> GraphQLSchema:
    """The schema subset (parsed once)."""
    return build_schema(SUBSET.read_text(encoding="utf-8"))


def problems(body: Any) -> list[str]:
    """Why a GraphQL request body is refused before execution: not ``{"query": str,
    "variables": object}``, or a query that does not validate against the schema."""
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return ["the body must be a JSON object with a query string"]
    if not isinstance(body.get("variables", {}), dict):
        return ["variables must be an object"]
    extra = set(body) - {"query", "variables", "operationName"}
    if extra:
        return [f"unknown request fields {sorted(extra)}"]
    try:
        document = parse(body["query"])
    except Exception as exc:  # graphql.GraphQLError: a syntax error
        return [f"syntax error: {exc}"]
    return [e.message for e in validate(schema(), document)]


def answer(body: dict[str, Any], threads: Threads, page_size: int = 100) -> dict[str, Any]:
    """Execute a validated request. ``threads(owner, name, number)`` gives the pull request's
    review threads as ``{"isResolved", "resolvedBy", "comments": [first comment id, ...]}``
    (``None``: no such pull request). Connections honour ``first`` (at most 100, as GitHub
    requires) and ``after``, with at most ``page_size`` nodes per page."""

    def pull_request(owner: str, name: str) -> Callable[..., Any]:
        def resolve(_info: Any, number: int) -> dict[str, Any] | None:
            found = threads(owner, name, number)
            if found is None:
                return None
            return {
                "reviewThreads": lambda _i, first=None, after=None: _connection(
                    [_thread(t) for t in found], first, after, page_size
                )
            }

        return resolve

    root = {"repository": lambda _info, owner, name: {"pullRequest": pull_request(owner, name)}}
    result = graphql_sync(schema(), body["query"], root_value=root, variable_values=body.get("variables") or {})
    out: dict[str, Any] = {"data": result.data}
    if result.errors:
        out["errors"] = [{"message": e.message, "type": "INVALID"} for e in result.errors]
    return out


def _thread(t: dict[str, Any]) -> dict[str, Any]:
    login = t.get("resolvedBy")
    nodes = [{"fullDatabaseId": str(cid)} for cid in t["comments"]]
    return {
        "isResolved": bool(t["isResolved"]),
        "resolvedBy": {"login": login} if login else None,
        "comments": lambda _i, first=None: {"nodes": nodes[: first or len(nodes)]},
    }


def _connection(items: list[Any], first: int | None, after: str | None, page_size: int) -> dict[str, Any]:
    if first is None or not 1 <= first <= 100:
        raise ValueError("You must provide a `first` or `last` value between 1 and 100 to properly paginate")
    start = int(base64.b64decode(after).decode().split(":")[1]) if after else 0
    size = min(first, page_size)
    chunk = items[start : start + size]
    end = start + len(chunk)
    return {
        "nodes": chunk,
        "pageInfo": {"hasNextPage": end < len(items), "endCursor": base64.b64encode(f"cursor:{end}".encode()).decode()},
    }
