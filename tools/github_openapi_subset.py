"""Write tests/data/github-openapi-subset.json: the operations tokyo calls, copied from the
``@octokit/openapi`` npm package (GitHub's published OpenAPI description).

Run by hand when tokyo starts calling another endpoint or the pinned version moves::

    npm pack @octokit/openapi@23.0.2 --pack-destination /tmp && tar xzf /tmp/octokit-openapi-23.0.2.tgz -C /tmp
    python tools/github_openapi_subset.py /tmp/package > tests/data/github-openapi-subset.json

Copied per operation: method, path, operationId, the parameters (name, in, required, schema)
and the ``application/json`` request-body schema, with ``description``/``examples`` text
removed (nothing else changed), and the documented response status codes. The tests read
only this file: nothing is downloaded at test time.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

SOURCE_FILE = "generated/api.github.com.deref.json"
# (method, path) of every request tokyo_cli.github.client sends.
OPERATIONS = [
    ("get", "/repos/{owner}/{repo}/pulls/{pull_number}"),
    ("get", "/repos/{owner}/{repo}/pulls/{pull_number}/comments"),
    ("post", "/repos/{owner}/{repo}/pulls/{pull_number}/comments/{comment_id}/replies"),
    ("get", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews"),
    ("post", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews"),
    ("get", "/repos/{owner}/{repo}/pulls/{pull_number}/files"),
    ("get", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    ("post", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    ("patch", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),
    ("get", "/repos/{owner}/{repo}/collaborators/{username}/permission"),
    ("post", "/repos/{owner}/{repo}/check-runs"),
    ("patch", "/repos/{owner}/{repo}/check-runs/{check_run_id}"),
]


def _strip(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _strip(v) for k, v in node.items() if k not in ("description", "examples", "example")}
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node


def main(package_dir: str) -> None:
    root = Path(package_dir)
    package = json.loads((root / "package.json").read_text())
    raw = (root / SOURCE_FILE).read_bytes()
    spec = json.loads(raw)
    ops = []
    for method, path in OPERATIONS:
        op = spec["paths"][path][method]
        body = (op.get("requestBody") or {}).get("content", {}).get("application/json", {}).get("schema")
        ops.append(
            {
                "method": method.upper(),
                "path": path,
                "operationId": op["operationId"],
                "parameters": [
                    _strip({k: p[k] for k in ("name", "in", "required", "schema") if k in p})
                    for p in op.get("parameters", [])
                ],
                "requestBody": None
                if body is None
                else {"required": bool(op["requestBody"].get("required")), "schema": _strip(body)},
                "responses": sorted(op["responses"]),
            }
        )
    json.dump(
        {
            "source": {
                "package": package["name"],
                "version": package["version"],
                "file": SOURCE_FILE,
                "file_sha256": hashlib.sha256(raw).hexdigest(),
                "openapi": spec["openapi"],
                "info_version": spec["info"]["version"],
                "note": "operations tokyo calls, copied by tools/github_openapi_subset.py; "
                "description and examples text removed, nothing else changed",
            },
            "operations": ops,
        },
        sys.stdout,
        indent=1,
        sort_keys=False,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
