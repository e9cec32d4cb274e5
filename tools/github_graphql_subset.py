"""Write tests/data/github-graphql-subset.graphql: the part of GitHub's GraphQL schema that
tokyo's queries use, copied from the ``@octokit/graphql-schema`` npm package.

Run by hand when a query in ``tokyo_cli.github.client`` changes or the pinned version moves::

    npm pack @octokit/graphql-schema@15.26.1 --pack-destination /tmp
    mkdir -p /tmp/gqls && tar xzf /tmp/octokit-graphql-schema-15.26.1.tgz -C /tmp/gqls
    python tools/github_graphql_subset.py /tmp/gqls/package > tests/data/github-graphql-subset.graphql

Copied: every object type a query selects from, with only the fields it selects, each
field with its original type and the arguments the query passes (plus every required
argument), and the custom scalars those fields return. Field and argument types are not
changed, so a query valid against the subset is valid against the whole schema. The
tests read only the subset: nothing is downloaded at test time.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from graphql import (
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    build_schema,
    get_named_type,
    parse,
    specified_scalar_types,
    validate,
    visit,
)

from tokyo_cli.github.client import REVIEW_THREADS_QUERY

QUERIES = [REVIEW_THREADS_QUERY]


def main(package_dir: str) -> None:
    root = Path(package_dir)
    package = json.loads((root / "package.json").read_text())
    raw = (root / "schema.graphql").read_bytes()
    # GitHub's schema defines two EnterpriseOwnerInfo fields twice, which strict SDL
    # validation refuses; the types this tool copies are not affected.
    schema = build_schema(raw.decode(), assume_valid_sdl=True)
    # graphql-core's schema validation also refuses GitHub's deprecated implementations of
    # non-deprecated interface fields (Node.id on Project, ...); the queries are still
    # validated against the schema below. An empty error list marks the schema as checked.
    schema._validation_errors = []  # noqa: SLF001
    used: dict[str, dict[str, set[str]]] = {}  # type -> field -> argument names
    scalars: set[str] = set()

    class Collect(Visitor):
        def enter_field(self, node, *_):  # type: ignore[no-untyped-def]
            parent, field = info.get_parent_type(), info.get_field_def()
            if parent is None or field is None:
                raise SystemExit(f"field {node.name.value} is not in the schema")
            args = used.setdefault(parent.name, {}).setdefault(node.name.value, set())
            args.update(a.name.value for a in node.arguments or [])
            args.update(name for name, a in field.args.items() if isinstance(a.type, GraphQLNonNull))
            named = get_named_type(field.type)
            if isinstance(named, GraphQLScalarType) and named.name not in specified_scalar_types:
                scalars.add(named.name)

    out = [
        f"# GitHub's GraphQL schema, the part tokyo's queries use: {package['name']} {package['version']},",
        f"# schema.graphql sha256 {hashlib.sha256(raw).hexdigest()}; written by tools/github_graphql_subset.py",
        "# (descriptions removed, types and arguments unchanged).",
        "",
    ]
    for query in QUERIES:
        document = parse(query)
        errors = validate(schema, document)
        if errors:
            raise SystemExit(f"a query is not valid against the schema: {errors[0].message}")
        info = TypeInfo(schema)
        visit(document, TypeInfoVisitor(info, Collect()))
    out.append("schema { query: Query }\n")
    for name in sorted(scalars):
        out.append(f"scalar {name}\n")
    for type_name in sorted(used):
        gtype: GraphQLNamedType = schema.type_map[type_name]
        assert isinstance(gtype, GraphQLObjectType), type_name
        lines = [f"type {type_name} {{"]
        for field_name in sorted(used[type_name]):
            field = gtype.fields[field_name]
            args = [f"{a}: {field.args[a].type}" for a in sorted(used[type_name][field_name])]
            lines.append(f"  {field_name}{'(' + ', '.join(args) + ')' if args else ''}: {field.type}")
        lines.append("}\n")
        out.append("\n".join(lines))
    sys.stdout.write("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1])
