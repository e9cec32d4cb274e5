"""A small GitHub REST client over httpx: the few endpoints a review needs, done carefully.

Every request sends ``Authorization: Bearer <token>``, ``Accept: application/vnd.github+json``,
``X-GitHub-Api-Version: 2022-11-28`` and a ``User-Agent`` (GitHub rejects requests without
one). Lists follow the ``Link: <...>; rel="next"`` header, never to another host.
Every JSON body is masked by the one secret detector (:mod:`tokyo_cli.safety.masking`) as it is
sent: a review, a comment or a summary never carries a secret found in the change.

Rate limits, as GitHub documents them ("Rate limits for the REST API"):

* 403 or 429 with ``retry-after``: wait that many seconds, then retry;
* 403 or 429 with ``x-ratelimit-remaining: 0``: wait until ``x-ratelimit-reset`` (UTC epoch
  seconds), then retry;
* 403 or 429 whose message says "secondary rate limit" but gives no time: wait one minute,
  doubling on each further refusal;
* any wait longer than ``max_wait_s`` is not waited: :class:`GitHubError` says when to retry.

Transient failures: a connection that could not be made is retried for every method; 502,
503 and 504 and read timeouts are retried for GET and PATCH only, since a POST that reached
GitHub may have created something. Other errors raise :class:`GitHubError` at once, with
GitHub's message (never the token).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from tokyo_cli import __version__
from tokyo_cli.errors import TokyoError
from tokyo_cli.safety.masking import mask_data

API_VERSION = "2022-11-28"
ACCEPT = "application/vnd.github+json"
USER_AGENT = f"tokyo-cli/{__version__}"
PER_PAGE = 100
MAX_PAGES = 50  # 5,000 items: far more comments than a pull request review needs to read
_IDEMPOTENT = frozenset({"GET", "PATCH", "PUT", "DELETE"})
# GitHub's GraphQL API (schema: the npm package @octokit/graphql-schema). The REST API has no
# read of a review thread's resolved state; this query is the one GraphQL request tokyo sends,
# and tests/data/github-graphql-subset.graphql holds the part of the schema it uses.
REVIEW_THREADS_QUERY = """\
query ReviewThreads($owner: String!, $name: String!, $number: Int!, $cursor: String) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviewThreads(first: 100, after: $cursor) {
        pageInfo { hasNextPage endCursor }
        nodes {
          isResolved
          resolvedBy { login }
          comments(first: 1) { nodes { fullDatabaseId } }
        }
      }
    }
  }
}
"""
_TRANSIENT = frozenset({502, 503, 504})


class GitHubError(TokyoError):
    """A GitHub API call failed for good.

    Attributes:
        status: the HTTP status (``None`` for a network failure).
        errors: GitHub's ``errors`` list from the response body (strings or objects).
        rate_limited: True when the call was refused by a rate limit.
    """

    exit_code = 3

    def __init__(
        self, message: str, *, status: int | None = None, errors: list[Any] | None = None, rate_limited: bool = False
    ) -> None:
        super().__init__(message)
        self.status = status
        self.errors = list(errors or [])
        self.rate_limited = rate_limited

    @property
    def forbidden(self) -> bool:
        """A permission refusal (read-only token), as opposed to a rate limit."""
        return self.status in (401, 403, 404) and not self.rate_limited


class GitHubClient:
    """Synchronous client for ``api_url`` (``https://api.github.com`` or a GHES ``/api/v3``).

    Args:
        token: a GitHub token; sent only to ``api_url``'s host.
        timeout_s: per-request timeout in seconds.
        max_retries: retries per request after the first attempt.
        max_wait_s: the longest single rate-limit wait, in seconds.
        sleep, clock: injectable for tests (``time.sleep``, ``time.time``).
        transport: an httpx transport for tests.
        graphql_url: GitHub's GraphQL endpoint (``GITHUB_GRAPHQL_URL`` in Actions); by
            default derived from ``api_url`` (:func:`graphql_url_for`).

    ``log`` records ``"METHOD /path -> status"`` for every response, in order.
    """

    def __init__(
        self,
        api_url: str,
        token: str,
        *,
        timeout_s: float = 30.0,
        max_retries: int = 3,
        max_wait_s: float = 900.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        transport: httpx.BaseTransport | None = None,
        graphql_url: str | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self._host = urlsplit(self.api_url).netloc
        self.graphql_url = graphql_url_for(self.api_url, graphql_url)
        self.max_retries = max_retries
        self.max_wait_s = max_wait_s
        self.sleep = sleep
        self.clock = clock
        self.log: list[str] = []
        self._http = httpx.Client(
            base_url=self.api_url + "/",
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": ACCEPT,
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": USER_AGENT,
            },
            timeout=timeout_s,
            transport=transport,
            follow_redirects=False,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- endpoints ---------------------------------------------------------------------------

    def create_review(self, owner: str, repo: str, number: int, payload: dict[str, Any]) -> dict[str, Any]:
        """POST /repos/{owner}/{repo}/pulls/{number}/reviews ("Create a review for a pull request")."""
        return self._json("POST", f"repos/{owner}/{repo}/pulls/{number}/reviews", payload)

    def list_reviews(self, owner: str, repo: str, number: int) -> list[dict[str, Any]]:
        """GET /repos/{owner}/{repo}/pulls/{number}/reviews, every page."""
        return self.paginate(f"repos/{owner}/{repo}/pulls/{number}/reviews")

    def list_review_comments(self, owner: str, repo: str, number: int) -> list[dict[str, Any]]:
        """GET /repos/{owner}/{repo}/pulls/{number}/comments ("List review comments on a pull
        request"), every page."""
        return self.paginate(f"repos/{owner}/{repo}/pulls/{number}/comments")

    def list_pull_files(self, owner: str, repo: str, number: int) -> list[dict[str, Any]]:
        """GET /repos/{owner}/{repo}/pulls/{number}/files (GitHub's own diff, ``patch`` per
        file; GitHub lists at most 3,000 files)."""
        return self.paginate(f"repos/{owner}/{repo}/pulls/{number}/files")

    def list_issue_comments(self, owner: str, repo: str, number: int) -> list[dict[str, Any]]:
        """GET /repos/{owner}/{repo}/issues/{number}/comments, every page."""
        return self.paginate(f"repos/{owner}/{repo}/issues/{number}/comments")

    def create_issue_comment(self, owner: str, repo: str, number: int, body: str) -> dict[str, Any]:
        """POST /repos/{owner}/{repo}/issues/{number}/comments ("Create an issue comment")."""
        return self._json("POST", f"repos/{owner}/{repo}/issues/{number}/comments", {"body": body})

    def update_issue_comment(self, owner: str, repo: str, comment_id: int, body: str) -> dict[str, Any]:
        """PATCH /repos/{owner}/{repo}/issues/comments/{comment_id} ("Update an issue comment")."""
        return self._json("PATCH", f"repos/{owner}/{repo}/issues/comments/{comment_id}", {"body": body})

    def get_pull(self, owner: str, repo: str, number: int) -> dict[str, Any]:
        """GET /repos/{owner}/{repo}/pulls/{number} ("Get a pull request"): the pull request
        object a comment event does not carry (base and head SHAs, draft, labels)."""
        return _object(self.request("GET", f"repos/{owner}/{repo}/pulls/{number}"), "GET pulls")

    def user_permission(self, owner: str, repo: str, username: str) -> dict[str, Any]:
        """GET /repos/{owner}/{repo}/collaborators/{username}/permission ("Get repository
        permissions for a user"): ``permission`` (admin, write, read, none) and ``role_name``."""
        return _object(
            self.request("GET", f"repos/{owner}/{repo}/collaborators/{quote(username, safe='')}/permission"),
            "GET permission",
        )

    def review_threads(self, owner: str, repo: str, number: int) -> list[ReviewThread]:
        """Every review thread of a pull request with its resolved state, through GraphQL
        (:data:`REVIEW_THREADS_QUERY`, 100 threads per page, at most MAX_PAGES pages).

        Raises:
            GitHubError: the request failed, or GitHub answered with ``errors`` or an
                unexpected shape (a pull request that does not exist is such an answer).
        """
        threads: list[ReviewThread] = []
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            data = self.graphql(
                REVIEW_THREADS_QUERY, {"owner": owner, "name": repo, "number": number, "cursor": cursor}
            )
            try:
                page = data["repository"]["pullRequest"]["reviewThreads"]
                nodes, info = page["nodes"], page["pageInfo"]
            except (KeyError, TypeError):
                raise GitHubError("GitHub GraphQL: reviewThreads answer has an unexpected shape") from None
            for node in nodes or []:
                if isinstance(node, dict):
                    threads.append(ReviewThread.from_node(node))
            if not (isinstance(info, dict) and info.get("hasNextPage") and info.get("endCursor")):
                break
            cursor = str(info["endCursor"])
        return threads

    def graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """POST a GraphQL ``query`` to :attr:`graphql_url`; returns ``data``.

        GraphQL reports most failures with HTTP 200 and an ``errors`` list (GitHub's "Forming
        calls with GraphQL"); those raise too.

        Raises:
            GitHubError: a non-2xx answer (after the REST retry rules), ``errors`` in the
                answer, or no ``data`` object.
        """
        body = _decode(self.request("POST", self.graphql_url, json={"query": query, "variables": variables}))
        if not isinstance(body, dict):
            raise GitHubError("GitHub GraphQL: the answer is not a JSON object")
        errors = body.get("errors")
        if errors:
            first = errors[0] if isinstance(errors, list) and errors else errors
            message = first.get("message") if isinstance(first, dict) else first
            kind = first.get("type") if isinstance(first, dict) else None
            raise GitHubError(
                f"GitHub GraphQL: {' '.join(str(message).split())[:300]}",
                errors=errors if isinstance(errors, list) else [errors],
                rate_limited=kind == "RATE_LIMITED",
            )
        data = body.get("data")
        if not isinstance(data, dict):
            raise GitHubError("GitHub GraphQL: the answer has no data")
        return data

    def create_check_run(self, owner: str, repo: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST /repos/{owner}/{repo}/check-runs ("Create a check run"; needs ``checks: write``)."""
        return self._json("POST", f"repos/{owner}/{repo}/check-runs", payload)

    def update_check_run(self, owner: str, repo: str, check_run_id: int, payload: dict[str, Any]) -> dict[str, Any]:
        """PATCH /repos/{owner}/{repo}/check-runs/{check_run_id} ("Update a check run"): how
        annotations past the first 50 are added."""
        return self._json("PATCH", f"repos/{owner}/{repo}/check-runs/{check_run_id}", payload)

    def reply_to_review_comment(self, owner: str, repo: str, number: int, comment_id: int, body: str) -> dict[str, Any]:
        """POST /repos/{owner}/{repo}/pulls/{number}/comments/{comment_id}/replies ("Create a
        reply for a review comment")."""
        return self._json("POST", f"repos/{owner}/{repo}/pulls/{number}/comments/{comment_id}/replies", {"body": body})

    # -- plumbing ----------------------------------------------------------------------------

    def paginate(self, path: str) -> list[dict[str, Any]]:
        """Every item of a list endpoint, following ``rel="next"`` links (at most MAX_PAGES).

        Raises:
            GitHubError: a page failed, was not a JSON list, or a next link left the API host.
        """
        items: list[dict[str, Any]] = []
        url: str | None = path
        params: dict[str, Any] | None = {"per_page": PER_PAGE}
        for _ in range(MAX_PAGES):
            if url is None:
                break
            response = self.request("GET", url, params=params)
            page = _decode(response)
            if not isinstance(page, list):
                raise GitHubError(f"GitHub API: GET {_short(url)} did not return a list", status=response.status_code)
            items += [i for i in page if isinstance(i, dict)]
            url, params = response.links.get("next", {}).get("url"), None
            if url is not None and urlsplit(url).netloc != self._host:
                raise GitHubError(f"GitHub API: refusing a pagination link to another host ({urlsplit(url).netloc})")
        return items

    def _json(self, method: str, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        data = _decode(self.request(method, path, json=payload))
        if not isinstance(data, dict):
            raise GitHubError(f"GitHub API: {method} {_short(path)} did not return an object")
        return data

    def request(
        self, method: str, url: str, *, json: Any = None, params: dict[str, Any] | None = None
    ) -> httpx.Response:
        """Send one request with the retry rules of the module docstring; returns a 2xx response.
        The ``json`` body goes out with secrets masked (:func:`tokyo_cli.safety.masking.mask_data`).

        Raises:
            GitHubError: a non-2xx answer that is not retried, retries exhausted, a rate-limit
                wait longer than ``max_wait_s``, or a network failure.
        """
        attempt = 0
        secondary_wait = 60.0
        if json is not None:  # every body that goes out: the one secret detector over its strings
            json = mask_data(json)
        while True:
            try:
                response = self._http.request(method, url, json=json, params=params)
            except httpx.TransportError as exc:
                connect = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
                if attempt < self.max_retries and (connect or method in _IDEMPOTENT):
                    attempt += 1
                    self.sleep(float(2**attempt))
                    continue
                raise GitHubError(f"GitHub API: {method} {_short(url)} failed: {type(exc).__name__}: {exc}") from None
            self.log.append(f"{method} {response.request.url.path} -> {response.status_code}")
            if response.is_success:
                return response
            wait = self._rate_limit_wait(response, secondary_wait)
            if wait is not None:
                if wait > self.max_wait_s:
                    raise _error(
                        method,
                        url,
                        response,
                        rate_limited=True,
                        extra=f"rate limited for {wait:.0f} s, longer than tokyo waits ({self.max_wait_s:.0f} s)",
                    )
                if attempt >= self.max_retries:
                    raise _error(method, url, response, rate_limited=True, extra="still rate limited after retries")
                attempt += 1
                if "retry-after" not in response.headers and response.headers.get("x-ratelimit-remaining") != "0":
                    secondary_wait *= 2
                self.sleep(wait)
                continue
            if response.status_code in _TRANSIENT and method in _IDEMPOTENT and attempt < self.max_retries:
                attempt += 1
                self.sleep(float(2**attempt))
                continue
            raise _error(method, url, response)

    def _rate_limit_wait(self, response: httpx.Response, secondary_wait: float) -> float | None:
        """Seconds to wait before retrying a rate-limited response; ``None`` if not rate limited."""
        if response.status_code not in (403, 429):
            return None
        headers = response.headers
        retry_after = headers.get("retry-after")
        if retry_after is not None:
            try:
                return max(0.0, float(retry_after))
            except ValueError:
                return secondary_wait
        if headers.get("x-ratelimit-remaining") == "0":
            try:
                reset = float(headers.get("x-ratelimit-reset", ""))
            except ValueError:
                return secondary_wait
            return max(0.0, reset - self.clock()) + 1.0  # one second of slack for clock skew
        message = str(_message(response)).lower()
        if response.status_code == 429 or "rate limit" in message:
            return secondary_wait
        return None


@dataclass(frozen=True)
class ReviewThread:
    """One review thread: ``first_comment_id`` (REST id of the comment that opened it, or
    ``None``), ``resolved``, and ``resolved_by`` (the login that resolved it, if known)."""

    first_comment_id: int | None
    resolved: bool
    resolved_by: str | None

    @classmethod
    def from_node(cls, node: dict[str, Any]) -> ReviewThread:
        """From a ``PullRequestReviewThread`` node of :data:`REVIEW_THREADS_QUERY`'s answer
        (``fullDatabaseId`` is a BigInt, sent as a string)."""
        comments = (node.get("comments") or {}).get("nodes") or [None]
        first = comments[0] if isinstance(comments[0], dict) else {}
        raw = first.get("fullDatabaseId")
        try:
            cid: int | None = int(str(raw)) if raw is not None else None
        except ValueError:
            cid = None
        by = node.get("resolvedBy")
        login = by.get("login") if isinstance(by, dict) else None
        return cls(cid, node.get("isResolved") is True, login if isinstance(login, str) and login else None)


def graphql_url_for(api_url: str, given: str | None = None) -> str:
    """GitHub's GraphQL endpoint for a REST ``api_url``: ``given`` when it is on the same
    host (the token never goes elsewhere), else ``https://api.github.com/graphql`` for
    github.com, ``https://HOST/api/graphql`` for a GHES ``https://HOST/api/v3`` (GitHub
    Enterprise Server docs, "Forming calls with GraphQL"), ``<api_url>/graphql`` otherwise.
    """
    api = api_url.rstrip("/")
    if given:
        url, base = urlsplit(given.strip()), urlsplit(api)
        if (url.scheme, url.netloc) == (base.scheme, base.netloc):
            return given.strip()
    if api.endswith("/api/v3"):
        return api[: -len("/v3")] + "/graphql"
    return api + "/graphql"


def _object(response: httpx.Response, what: str) -> dict[str, Any]:
    data = _decode(response)
    if not isinstance(data, dict):
        raise GitHubError(f"GitHub API: {what} did not return an object", status=response.status_code)
    return data


def _decode(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise GitHubError(
            f"GitHub API: {response.request.method} {_short(str(response.request.url.path))} "
            "returned a body that is not JSON",
            status=response.status_code,
        ) from None


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return str(body.get("message") or "")
    return ""


def _error(
    method: str, url: str, response: httpx.Response, *, rate_limited: bool = False, extra: str = ""
) -> GitHubError:
    errors: list[Any] = []
    try:
        body = response.json()
        if isinstance(body, dict) and isinstance(body.get("errors"), list):
            errors = body["errors"]
    except ValueError:
        pass
    detail = _message(response) or response.reason_phrase
    details = "; ".join(
        str(e.get("message") or e.get("code") or e) if isinstance(e, dict) else str(e) for e in errors[:5]
    )
    text = f"GitHub API: {method} {_short(url)} failed: {response.status_code} {detail}"
    if details:
        text += f" ({details})"
    if extra:
        text += f": {extra}"
    return GitHubError(" ".join(text.split()), status=response.status_code, errors=errors, rate_limited=rate_limited)


def _short(url: str) -> str:
    path = urlsplit(url).path or url
    return path if path.startswith("/") else "/" + path
