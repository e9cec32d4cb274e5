"""A fake GitHub REST API on 127.0.0.1 that checks requests against GitHub's OpenAPI description.

``FakeGitHub`` serves, for one repository (``owner/repo``), the operations tokyo calls, as
``tests/data/github-openapi-subset.json`` (copied from the npm package ``@octokit/openapi``)
lists them: pulls/get, pulls/list-review-comments, pulls/create-reply-for-review-comment,
pulls/list-reviews, pulls/create-review, pulls/list-files, issues/list-comments,
issues/create-comment, issues/update-comment, repos/get-collaborator-permission-level,
checks/create, checks/update; and ``POST /graphql`` for the review threads' resolved state,
validated against GitHub's GraphQL schema (:mod:`fakes.graphql_api`).

Every request is checked: route, method, path parameters, query and JSON body against the
spec (:mod:`fakes.openapi`), then ``Authorization: Bearer <token>``,
``Accept: application/vnd.github+json``, ``X-GitHub-Api-Version: 2022-11-28``, a
``User-Agent`` and ``Content-Type: application/json``, then rules the spec does not encode
(docs.github.com REST reference, API version 2022-11-28): no unknown body fields, line/side
rather than the deprecated ``position``, ``commit_id`` a SHA. A request that breaks a rule is
answered with a 4xx in GitHub's error shape and listed in ``violations``; the
``fake_github`` fixture fails the test at teardown when any is left (a test that provokes
one on purpose asserts it and clears the list).

Like GitHub, a review comment must sit on a line of the pull request's diff (``line`` and
``start_line`` in one hunk of the file's ``patch``, side RIGHT), else the whole review is
refused with 422 and nothing of it is created (GitHub's behaviour, not a violation: tokyo
recovers from it); bodies over 65,536 characters are refused with 422; lists are paginated
(``per_page`` at most 100, ``max_per_page`` can force small pages) with ``Link`` headers.

Faults are queued with :meth:`FakeGitHub.fail` (status, body, headers, times).
The server is independent of tokyo's code: it parses patches itself.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from fakes import graphql_api, openapi

TOKEN = "ghs_fake_token_0123456789abcdefABCDEF"
BOT: dict[str, Any] = {
    "login": "github-actions[bot]",
    "id": 41898282,
    "node_id": "MDM6Qm90NDE4OTgyODI=",
    "type": "Bot",
    "site_admin": False,
}
HUMAN: dict[str, Any] = {
    "login": "mallory",
    "id": 1001,
    "node_id": "MDQ6VXNlcjEwMDE=",
    "type": "User",
    "site_admin": False,
}
MAX_BODY = 65_536
DOCS = "https://docs.github.com/rest"
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
_SHA = re.compile(r"^[0-9a-f]{40}$")


@dataclass
class Recorded:
    """One request as received: method, path (no query), query, lower-cased headers, JSON."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    has_body: bool = False

    def __str__(self) -> str:
        q = "&".join(f"{k}={v[0]}" for k, v in sorted(self.query.items()))
        return f"{self.method} {self.path}{'?' + q if q else ''}"


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    times: int


@dataclass
class Pull:
    """Server-side state of one pull request."""

    number: int
    head_sha: str = ""
    base_sha: str = "0" * 40
    head_repo: str | None = ""  # "" = the base repository; None = a deleted fork
    draft: bool = False
    labels: list[str] = field(default_factory=list)
    author: str = "octocat"
    files: list[dict[str, Any]] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)
    review_comments: list[dict[str, Any]] = field(default_factory=list)
    issue_comments: list[dict[str, Any]] = field(default_factory=list)
    resolved: dict[int, str] = field(default_factory=dict)  # thread's first comment id -> resolver


def patch_hunks(patch: str | None) -> list[set[int]]:
    """New-side line numbers of each hunk in a unified-diff ``patch``."""
    hunks: list[set[int]] = []
    line = 0
    for text in (patch or "").split("\n"):
        m = _HUNK.match(text)
        if m:
            hunks.append(set())
            line = int(m.group(1))
        elif hunks and text[:1] in (" ", "+"):
            hunks[-1].add(line)
            line += 1
    return hunks


def files_from_git(root: Path, base: str, head: str) -> list[dict[str, Any]]:
    """What GitHub's "List pull requests files" would return for ``base...head`` of a real
    repository: filename, status, counts and the per-file ``patch`` (hunks only)."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, check=True, text=True).stdout

    out = []
    for row in git("diff", "--numstat", "-M", f"{base}...{head}").splitlines():
        added, deleted, name = row.split("\t", 2)
        name = name.split(" => ")[-1]
        diff = git("diff", "-M", "-U3", f"{base}...{head}", "--", name)
        patch = diff[diff.index("@@") :].rstrip("\n") if "@@" in diff else None
        item = {
            "sha": "0" * 40,
            "filename": name,
            "status": "modified",
            "additions": 0 if added == "-" else int(added),
            "deletions": 0 if deleted == "-" else int(deleted),
            "changes": 0,
            "blob_url": "",
            "raw_url": "",
            "contents_url": "",
        }
        if patch is not None:
            item["patch"] = patch
        out.append(item)
    return out


class FakeGitHub:
    """The fake API. Attributes: ``url`` (the API base URL), ``requests`` (every request, in
    order), ``violations`` (rule breaks, as text), ``pulls`` (state by number),
    ``max_per_page`` (force pagination), ``user`` (the account tokyo's token belongs to)."""

    def __init__(self, owner: str = "acme", repo: str = "widgets", token: str = TOKEN) -> None:
        self.owner, self.repo, self.token = owner, repo, token
        self.requests: list[Recorded] = []
        self.violations: list[str] = []
        self.pulls: dict[int, Pull] = {}
        self.max_per_page = 100
        self.user = BOT
        self._faults: list[Fault] = []
        self._ids = 1000
        self.permissions: dict[str, str] = {}  # login -> admin | write | read (default read)
        self.check_runs: list[dict[str, Any]] = []
        self.graphql_page_size = 100
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> FakeGitHub:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- setup -----------------------------------------------------------------------------
    def pull(self, number: int) -> Pull:
        with self._lock:
            return self.pulls.setdefault(number, Pull(number))

    def set_pull(self, number: int, head_sha: str, files: list[dict[str, Any]]) -> Pull:
        """Set a pull request's head commit and GitHub's view of its diff."""
        pull = self.pull(number)
        pull.head_sha, pull.files = head_sha, files
        return pull

    def add_issue_comment(self, number: int, body: str, user: dict[str, Any]) -> dict[str, Any]:
        comment = self._issue_comment(body, user)
        self.pull(number).issue_comments.append(comment)
        return comment

    def add_review_comment(
        self,
        number: int,
        body: str,
        user: dict[str, Any],
        path: str = "x.py",
        line: int = 1,
        *,
        in_reply_to: int | None = None,
        association: str = "NONE",
    ) -> dict[str, Any]:
        """A review comment written by someone else (a reply when ``in_reply_to`` is set)."""
        comment: dict[str, Any] = {
            "id": self._next_id(),
            "body": body,
            "user": user,
            "path": path,
            "line": line,
            "author_association": association,
        }
        if in_reply_to is not None:
            comment["in_reply_to_id"] = in_reply_to
        self.pull(number).review_comments.append(comment)
        return comment

    def resolve_thread(self, number: int, comment_id: int, by: str | None) -> None:
        """Mark the review thread opened by ``comment_id`` resolved by ``by`` (``None``:
        unresolve it), as "Resolve conversation" in GitHub's UI does."""
        pull = self.pull(number)
        if by is None:
            pull.resolved.pop(comment_id, None)
        else:
            pull.resolved[comment_id] = by

    def threads(self, owner: str, name: str, number: int) -> list[dict[str, Any]] | None:
        """The pull request's review threads for the GraphQL endpoint: one per comment that
        is not a reply, with its replies' ids; ``None`` for an unknown pull request."""
        if (owner, name) != (self.owner, self.repo) or number not in self.pulls:
            return None
        pull = self.pulls[number]
        out = []
        for c in pull.review_comments:
            if c.get("in_reply_to_id") is None:
                replies = [r["id"] for r in pull.review_comments if r.get("in_reply_to_id") == c["id"]]
                by = pull.resolved.get(c["id"])
                out.append({"isResolved": by is not None, "resolvedBy": by, "comments": [c["id"], *replies]})
        return out

    def fail(
        self,
        method: str,
        path_regex: str,
        status: int,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status`` (after validation)."""
        self._faults.append(
            Fault(method, re.compile(path_regex), status, body or {"message": "fault"}, dict(headers or {}), times)
        )

    def check_clean(self) -> None:
        """Fail the running test when a request broke a rule (``violations`` not empty)."""
        if self.violations:
            pytest.fail(
                "requests the fake GitHub refused (GitHub's OpenAPI description or its rules):\n  "
                + "\n  ".join(self.violations),
                pytrace=False,
            )

    def log(self) -> list[str]:
        """``"METHOD /path?query"`` for every request, in order."""
        return [str(r) for r in self.requests]

    # -- handling ----------------------------------------------------------------------------
    def _next_id(self) -> int:
        with self._lock:
            self._ids += 1
            return self._ids

    def _issue_comment(self, body: str, user: dict[str, Any]) -> dict[str, Any]:
        cid = self._next_id()
        return {
            "id": cid,
            "node_id": f"IC_{cid}",
            "body": body,
            "user": user,
            "author_association": "NONE",
            "html_url": f"https://github.com/{self.owner}/{self.repo}/pull/1#issuecomment-{cid}",
            "issue_url": f"{self.url}/repos/{self.owner}/{self.repo}/issues/1",
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
        }

    def handle(self, rec: Recorded) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            self.requests.append(rec)
        if rec.path == "/graphql":
            return self._graphql(rec)
        op, params, refusal = openapi.match(rec.method, rec.path, rec.query, rec.body, rec.has_body)
        if refusal is not None:
            return self._violation(rec, refusal.status, f"OpenAPI: {refusal.message}")
        assert op is not None
        problem = self._check_headers(rec)
        if problem:
            return self._violation(rec, 400 if "Authorization" not in problem else 401, problem)
        if (params["owner"], params["repo"]) != (self.owner, self.repo):
            return self._violation(rec, 404, f"unknown repository in {rec.path}")
        route = rec.path[len(f"/repos/{self.owner}/{self.repo}") :]
        for fault in self._faults:
            if fault.times > 0 and fault.method == rec.method and fault.path.search(route):
                fault.times -= 1
                return fault.status, fault.body, fault.headers
        handlers = {
            "pulls/get": lambda: self._get_pull(rec, int(params["pull_number"])),
            "pulls/list-review-comments": lambda: self._page(
                rec, list(self.pull(int(params["pull_number"])).review_comments)
            ),
            "pulls/create-reply-for-review-comment": lambda: self._reply(
                rec, int(params["pull_number"]), int(params["comment_id"])
            ),
            "pulls/list-reviews": lambda: self._page(rec, list(self.pull(int(params["pull_number"])).reviews)),
            "pulls/create-review": lambda: self._create_review(rec, int(params["pull_number"])),
            "pulls/list-files": lambda: self._page(rec, list(self.pull(int(params["pull_number"])).files)),
            "issues/list-comments": lambda: self._page(
                rec, list(self.pull(int(params["issue_number"])).issue_comments)
            ),
            "issues/create-comment": lambda: self._create_issue_comment(rec, int(params["issue_number"])),
            "issues/update-comment": lambda: self._update_issue_comment(rec, int(params["comment_id"])),
            "repos/get-collaborator-permission-level": lambda: self._permission(params["username"]),
            "checks/create": lambda: self._create_check_run(rec),
            "checks/update": lambda: self._update_check_run(rec, int(params["check_run_id"])),
        }
        if op.operation_id not in handlers:  # the subset lists an operation this fake does not serve
            return self._violation(rec, 501, f"fake GitHub does not serve {op.operation_id}")
        return handlers[op.operation_id]()

    def _graphql(self, rec: Recorded) -> tuple[int, Any, dict[str, str]]:
        """POST /graphql: the headers as for REST (GitHub's GraphQL endpoint needs only the
        token; the rest is harmless), then the query validated against the schema subset."""
        if rec.method != "POST":
            return self._violation(rec, 404, "GraphQL is POST /graphql")
        problem = self._check_headers(rec)
        if problem:
            return self._violation(rec, 401 if "Authorization" in problem else 400, problem)
        for fault in self._faults:
            if fault.times > 0 and fault.method == "POST" and fault.path.search("/graphql"):
                fault.times -= 1
                return fault.status, fault.body, fault.headers
        refused = graphql_api.problems(rec.body)
        if refused:
            self._violation(rec, 200, "GraphQL schema: " + "; ".join(refused))
            return 200, {"errors": [{"message": m} for m in refused]}, {}
        return 200, graphql_api.answer(rec.body, self.threads, self.graphql_page_size), {}

    def _create_check_run(self, rec: Recorded) -> tuple[int, Any, dict[str, str]]:
        body = rec.body
        if not _SHA.match(str(body.get("head_sha"))):
            return self._violation(rec, 422, "head_sha must be a commit SHA")
        if body.get("status") == "completed" and "conclusion" not in body:
            return self._violation(rec, 422, "a completed check run needs a conclusion")
        cid = self._next_id()
        run = {
            "id": cid,
            "name": body["name"],
            "head_sha": body["head_sha"],
            "status": body.get("status"),
            "conclusion": body.get("conclusion"),
            "output": body.get("output") or {},
            "annotations": list((body.get("output") or {}).get("annotations") or []),
            "html_url": f"https://github.com/{self.owner}/{self.repo}/runs/{cid}",
        }
        with self._lock:
            self.check_runs.append(run)
        return 201, run, {}

    def _update_check_run(self, rec: Recorded, check_run_id: int) -> tuple[int, Any, dict[str, str]]:
        run = next((r for r in self.check_runs if r["id"] == check_run_id), None)
        if run is None:
            return self._violation(rec, 404, f"no check run {check_run_id}")
        output = rec.body.get("output") or {}
        with self._lock:  # GitHub appends annotations sent with an update
            run["annotations"] += list(output.get("annotations") or [])
            run["output"] = {**run["output"], **{k: v for k, v in output.items() if k != "annotations"}}
        return 200, run, {}

    def _permission(self, login: str) -> tuple[int, Any, dict[str, str]]:
        level = self.permissions.get(login, "read")
        return 200, {"permission": level, "role_name": level, "user": {"login": login}}, {}

    def _get_pull(self, rec: Recorded, n: int) -> tuple[int, Any, dict[str, str]]:
        if n not in self.pulls:
            return self._violation(rec, 404, f"no pull request {n}")
        pull = self.pulls[n]
        base_repo = {"full_name": f"{self.owner}/{self.repo}"}
        head_repo = (
            base_repo if pull.head_repo == "" else (None if pull.head_repo is None else {"full_name": pull.head_repo})
        )
        return (
            200,
            {
                "number": n,
                "state": "open",
                "draft": pull.draft,
                "user": {"login": pull.author, "type": "User"},
                "labels": [{"name": x} for x in pull.labels],
                "base": {"sha": pull.base_sha, "ref": "main", "repo": base_repo},
                "head": {"sha": pull.head_sha, "ref": "feature", "repo": head_repo},
            },
            {},
        )

    def _reply(self, rec: Recorded, n: int, comment_id: int) -> tuple[int, Any, dict[str, str]]:
        problem = self._body_only(rec)
        if problem:
            return self._violation(rec, 422, problem)
        pull = self.pull(n)
        parent = next((c for c in pull.review_comments if c["id"] == comment_id), None)
        if parent is None:
            return 404, {"message": "Not Found", "documentation_url": DOCS}, {}
        cid = self._next_id()
        reply = {
            "id": cid,
            "body": rec.body["body"],
            "user": self.user,
            "path": parent["path"],
            "line": parent.get("line"),
            "in_reply_to_id": comment_id,
            "author_association": "NONE",
            "html_url": f"https://github.com/{self.owner}/{self.repo}/pull/{n}#discussion_r{cid}",
        }
        pull.review_comments.append(reply)
        return 201, reply, {}

    def _violation(self, rec: Recorded, status: int, message: str) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            self.violations.append(f"{rec.method} {rec.path}: {message}")
        return status, {"message": message, "documentation_url": DOCS}, {}

    def _check_headers(self, rec: Recorded) -> str | None:
        h = rec.headers
        if h.get("authorization") != f"Bearer {self.token}":
            return "Authorization must be 'Bearer <token>'"
        if h.get("accept") != "application/vnd.github+json":
            return f"Accept must be application/vnd.github+json, got {h.get('accept')!r}"
        if h.get("x-github-api-version") != "2022-11-28":
            return "X-GitHub-Api-Version must be 2022-11-28"
        if not h.get("user-agent"):
            return "a User-Agent header is required"
        if rec.method in ("POST", "PATCH"):
            if not h.get("content-type", "").startswith("application/json"):
                return "Content-Type must be application/json"
            if not isinstance(rec.body, dict):
                return "the body must be a JSON object"
        return None

    def _page(self, rec: Recorded, items: list[dict[str, Any]]) -> tuple[int, Any, dict[str, str]]:
        try:
            per_page = int(rec.query.get("per_page", ["30"])[0])
            page = int(rec.query.get("page", ["1"])[0])
        except ValueError:
            return self._violation(rec, 422, "per_page and page must be integers")
        if not 1 <= per_page <= 100 or page < 1:
            return self._violation(rec, 422, f"per_page must be 1..100 (got {per_page}), page >= 1")
        size = min(per_page, self.max_per_page)
        chunk = items[(page - 1) * size : page * size]
        last = max(1, -(-len(items) // size))
        links = []
        if page < last:
            links.append(f'<{self.url}{rec.path}?per_page={per_page}&page={page + 1}>; rel="next"')
            links.append(f'<{self.url}{rec.path}?per_page={per_page}&page={last}>; rel="last"')
        return 200, chunk, ({"Link": ", ".join(links)} if links else {})

    def _create_review(self, rec: Recorded, n: int) -> tuple[int, Any, dict[str, str]]:
        body, pull = rec.body, self.pull(n)
        extra = set(body) - {"commit_id", "body", "event", "comments"}
        if extra:
            return self._violation(rec, 422, f"unknown review fields {sorted(extra)}")
        if "commit_id" in body and not (isinstance(body["commit_id"], str) and _SHA.match(body["commit_id"])):
            return self._violation(rec, 422, "commit_id must be a commit SHA")
        if pull.head_sha and body.get("commit_id") not in (None, pull.head_sha):
            return (
                422,
                {
                    "message": "Unprocessable Entity",
                    "errors": ["Commit is not part of the pull request"],
                    "documentation_url": DOCS,
                },
                {},
            )
        event = body.get("event")
        if event not in (None, "APPROVE", "REQUEST_CHANGES", "COMMENT"):
            return self._violation(rec, 422, f"event must be APPROVE, REQUEST_CHANGES or COMMENT, got {event!r}")
        text = body.get("body")
        if event in ("COMMENT", "REQUEST_CHANGES") and not (isinstance(text, str) and text.strip()):
            return self._violation(rec, 422, "body is required for COMMENT and REQUEST_CHANGES")
        if text is not None and not isinstance(text, str):
            return self._violation(rec, 422, "body must be a string")
        comments = body.get("comments", [])
        if not isinstance(comments, list):
            return self._violation(rec, 422, "comments must be an array")
        for i, c in enumerate(comments):
            problem = self._comment_shape(c)
            if problem:
                return self._violation(rec, 422, f"comments[{i}]: {problem}")
        too_long = [t for t in [text or ""] + [c["body"] for c in comments] if len(t) > MAX_BODY]
        if too_long:
            return (
                422,
                {
                    "message": "Validation Failed",
                    "errors": [
                        {
                            "resource": "PullRequestReview",
                            "code": "custom",
                            "field": "body",
                            "message": "body is too long (maximum is 65536 characters)",
                        }
                    ],
                    "documentation_url": DOCS,
                },
                {},
            )
        hunks = {f["filename"]: patch_hunks(f.get("patch")) for f in pull.files}
        for c in comments:
            file_hunks = hunks.get(c["path"], [])
            start = c.get("start_line", c["line"])
            if not any(c["line"] in h and start in h for h in file_hunks):
                # GitHub's message names the field but not which comment (see the issue threads).
                return (
                    422,
                    {
                        "message": "Unprocessable Entity",
                        "errors": [
                            "Pull request review thread line must be part of the diff and Pull request review "
                            "thread diff hunk can't be blank"
                        ],
                        "documentation_url": DOCS,
                    },
                    {},
                )
        rid = self._next_id()
        review = {
            "id": rid,
            "node_id": f"PRR_{rid}",
            "user": self.user,
            "body": text or "",
            "state": {"COMMENT": "COMMENTED", "APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED"}.get(
                str(event), "PENDING"
            ),
            "html_url": f"https://github.com/{self.owner}/{self.repo}/pull/{n}#pullrequestreview-{rid}",
            "pull_request_url": f"{self.url}/repos/{self.owner}/{self.repo}/pulls/{n}",
            "author_association": "NONE",
            "submitted_at": "2026-01-01T00:00:00Z",
            "commit_id": body.get("commit_id") or pull.head_sha,
        }
        with self._lock:
            pull.reviews.append(review)
            for c in comments:
                cid = self._ids = self._ids + 1
                pull.review_comments.append(
                    {
                        "id": cid,
                        "pull_request_review_id": rid,
                        "path": c["path"],
                        "line": c["line"],
                        "start_line": c.get("start_line"),
                        "side": c.get("side", "RIGHT"),
                        "start_side": c.get("start_side"),
                        "body": c["body"],
                        "user": self.user,
                        "commit_id": review["commit_id"],
                        "original_commit_id": review["commit_id"],
                        "subject_type": "line",
                        "author_association": "NONE",
                        "html_url": f"https://github.com/{self.owner}/{self.repo}/pull/{n}#discussion_r{cid}",
                    }
                )
        return 200, review, {}

    @staticmethod
    def _comment_shape(c: Any) -> str | None:
        if not isinstance(c, dict):
            return "must be an object"
        extra = set(c) - {"path", "position", "body", "line", "side", "start_line", "start_side"}
        if extra:
            return f"unknown fields {sorted(extra)}"
        if not isinstance(c.get("path"), str) or not c["path"]:
            return "path is required"
        if not isinstance(c.get("body"), str) or not c["body"].strip():
            return "body is required"
        if "position" in c:
            return "tokyo must use line/side, not the deprecated position"
        if not isinstance(c.get("line"), int) or c["line"] < 1:
            return "line must be a positive integer"
        if c.get("side", "RIGHT") not in ("LEFT", "RIGHT"):
            return "side must be LEFT or RIGHT"
        if "start_line" in c:
            if not isinstance(c["start_line"], int) or not 1 <= c["start_line"] < c["line"]:
                return "start_line must be a positive integer below line"
            if c.get("start_side", c.get("side", "RIGHT")) not in ("LEFT", "RIGHT"):
                return "start_side must be LEFT or RIGHT"
        return None

    def _body_only(self, rec: Recorded) -> str | None:
        body = rec.body
        if set(body) != {"body"}:
            return f"the body must be exactly {{'body'}}, got {sorted(body)}"
        if not isinstance(body["body"], str) or not body["body"].strip():
            return "body must be a non-empty string"
        return None

    def _create_issue_comment(self, rec: Recorded, n: int) -> tuple[int, Any, dict[str, str]]:
        problem = self._body_only(rec)
        if problem:
            return self._violation(rec, 422, problem)
        if len(rec.body["body"]) > MAX_BODY:
            return (
                422,
                {
                    "message": "Validation Failed",
                    "errors": [
                        {
                            "resource": "IssueComment",
                            "code": "unprocessable",
                            "field": "data",
                            "message": "Body is too long (maximum is 65536 characters)",
                        }
                    ],
                    "documentation_url": DOCS,
                },
                {},
            )
        comment = self._issue_comment(rec.body["body"], self.user)
        self.pull(n).issue_comments.append(comment)
        return 201, comment, {}

    def _update_issue_comment(self, rec: Recorded, comment_id: int) -> tuple[int, Any, dict[str, str]]:
        problem = self._body_only(rec)
        if problem:
            return self._violation(rec, 422, problem)
        if len(rec.body["body"]) > MAX_BODY:
            return self._violation(rec, 422, "Body is too long (maximum is 65536 characters)")
        for pull in self.pulls.values():
            for comment in pull.issue_comments:
                if comment["id"] == comment_id:
                    comment["body"] = rec.body["body"]
                    comment["updated_at"] = "2026-01-02T00:00:00Z"
                    return 200, comment, {}
        return self._violation(rec, 404, f"no issue comment {comment_id}")


def _handler(fake: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except json.JSONDecodeError:
                body = "<not JSON>"
            parts = urlsplit(self.path)
            rec = Recorded(
                self.command,
                parts.path,
                parse_qs(parts.query, keep_blank_values=True),
                {k.lower(): v for k, v in self.headers.items()},
                body,
                bool(raw),
            )
            status, payload, headers = fake.handle(rec)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("X-GitHub-Api-Version-Selected", "2022-11-28")
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve  # noqa: N815 - stdlib names

    return Handler


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    """A started FakeGitHub for ``acme/widgets`` accepting the token ``TOKEN``; the test fails
    if a request broke a rule and the test did not clear ``violations``."""
    fake = FakeGitHub().start()
    try:
        yield fake
    finally:
        fake.stop()
    fake.check_clean()
