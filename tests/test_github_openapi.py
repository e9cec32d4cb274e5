"""The fake GitHub checks every request against GitHub's OpenAPI description.

The subset in ``tests/data/github-openapi-subset.json`` comes from ``@octokit/openapi``; every
request tokyo's client can send must match one of its operations, and the fake must refuse
(4xx, and a failing test through the fixture) whatever does not: an unknown route or method,
a path parameter of the wrong type, an undocumented or ill-typed query parameter, a body that
is missing, unexpected or off-schema. GitHub's review rule is checked too: one comment off the
diff refuses the whole review with 422 and creates nothing.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from fakes import openapi
from fakes.github import BOT, HUMAN, TOKEN, FakeGitHub
from tokyo_cli.github.client import GitHubClient, GitHubError

PATCH = "@@ -1,2 +1,3 @@\n a\n+b\n c"
HEAD = "a" * 40


def _raw(
    fake: FakeGitHub,
    method: str,
    path: str,
    *,
    body: Any = None,
    params: dict[str, str] | None = None,
    content: bytes | None = None,
) -> httpx.Response:
    headers = {
        "Authorization": f"Bearer {TOKEN}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
        "User-Agent": "test",
    }
    if body is not None or content is not None:
        headers["Content-Type"] = "application/json"
    return httpx.request(
        method,
        fake.url + path,
        headers=headers,
        params=params,
        content=content if content is not None else (None if body is None else json.dumps(body)),
    )


def test_the_subset_names_its_source() -> None:
    src = openapi.source()
    assert src["package"] == "@octokit/openapi"
    assert src["version"] == "23.0.2" and src["file"] == "generated/api.github.com.deref.json"
    assert len(src["file_sha256"]) == 64
    assert [op.operation_id for op in openapi.operations()] == [
        "pulls/get",
        "pulls/list-review-comments",
        "pulls/create-reply-for-review-comment",
        "pulls/list-reviews",
        "pulls/create-review",
        "pulls/list-files",
        "issues/list-comments",
        "issues/create-comment",
        "issues/update-comment",
        "repos/get-collaborator-permission-level",
        "checks/create",
        "checks/update",
    ]


def test_every_client_endpoint_matches_a_documented_operation(fake_github: FakeGitHub) -> None:
    fake_github.set_pull(7, HEAD, [{"filename": "x.py", "status": "modified", "patch": PATCH}])
    theirs = fake_github.add_review_comment(7, "a question", HUMAN, "x.py", 2)
    with GitHubClient(fake_github.url, TOKEN) as client:
        assert client.get_pull("acme", "widgets", 7)["head"]["sha"] == HEAD
        client.list_review_comments("acme", "widgets", 7)
        client.reply_to_review_comment("acme", "widgets", 7, theirs["id"], "an answer")
        client.list_reviews("acme", "widgets", 7)
        client.create_review(
            "acme",
            "widgets",
            7,
            {
                "commit_id": HEAD,
                "body": "review",
                "event": "COMMENT",
                "comments": [{"path": "x.py", "line": 2, "side": "RIGHT", "body": "inline"}],
            },
        )
        client.list_pull_files("acme", "widgets", 7)
        client.list_issue_comments("acme", "widgets", 7)
        made = client.create_issue_comment("acme", "widgets", 7, "summary")
        client.update_issue_comment("acme", "widgets", made["id"], "summary, edited")
        assert client.user_permission("acme", "widgets", "dependabot[bot]")["permission"] == "read"
        run = client.create_check_run(
            "acme",
            "widgets",
            {
                "name": "tokyo review",
                "head_sha": HEAD,
                "status": "completed",
                "conclusion": "success",
                "output": {
                    "title": "t",
                    "summary": "s",
                    "annotations": [
                        {"path": "x.py", "start_line": 1, "end_line": 1, "annotation_level": "notice", "message": "m"}
                    ],
                },
            },
        )
        client.update_check_run("acme", "widgets", run["id"], {"output": {"title": "t", "summary": "s"}})
        threads = client.review_threads("acme", "widgets", 7)  # theirs, and the review's inline comment
        assert [t.first_comment_id for t in threads][0] == theirs["id"] and len(threads) == 2
    assert fake_github.violations == []
    hit = {
        openapi.match(r.method, r.path, r.query, r.body, r.has_body)[0].operation_id  # type: ignore[union-attr]
        for r in fake_github.requests
        if r.path != "/graphql"
    }
    assert hit == {op.operation_id for op in openapi.operations()}


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "words"),
    [
        ("GET", "/repos/acme/widgets/pulls/7/comment", {}, 404, "no documented route"),
        ("DELETE", "/repos/acme/widgets/pulls/7/reviews", {}, 404, "DELETE is not documented"),
        ("PUT", "/repos/acme/widgets/issues/comments/5", {"body": {"body": "x"}}, 404, "only PATCH"),
        ("GET", "/repos/acme/widgets/pulls/seven/files", {}, 404, "pull_number='seven' is not a integer"),
        ("GET", "/repos/acme/widgets/pulls/7/files", {"params": {"per_page": "many"}}, 422, "per_page"),
        (
            "GET",
            "/repos/acme/widgets/pulls/7/reviews",
            {"params": {"sort": "created"}},
            422,
            "undocumented query parameter 'sort'",
        ),
        ("GET", "/repos/acme/widgets/pulls/7/comments", {"params": {"direction": "sideways"}}, 422, "direction"),
        ("GET", "/repos/acme/widgets/pulls/7", {"body": {"x": 1}}, 400, "takes no request body"),
        ("POST", "/repos/acme/widgets/issues/7/comments", {}, 422, "a JSON body is required"),
        ("POST", "/repos/acme/widgets/issues/7/comments", {"body": {"text": "hi"}}, 422, "'body' is a required"),
        ("PATCH", "/repos/acme/widgets/issues/comments/5", {"body": {"body": 5}}, 422, "5 is not of type 'string'"),
        ("POST", "/repos/acme/widgets/issues/7/comments", {"content": b"{nope"}, 400, "Problems parsing JSON"),
        (
            "POST",
            "/repos/acme/widgets/pulls/7/reviews",
            {"body": {"event": "LGTM", "body": "x"}},
            422,
            "event: 'LGTM' is not one of",
        ),
        (
            "POST",
            "/repos/acme/widgets/pulls/7/reviews",
            {"body": {"body": "x", "event": "COMMENT", "comments": {}}},
            422,
            "comments: {} is not of type 'array'",
        ),
        (
            "POST",
            "/repos/acme/widgets/pulls/7/reviews",
            {"body": {"body": "x", "event": "COMMENT", "comments": [{"path": "x.py", "line": 2}]}},
            422,
            "comments/0: 'body' is a required property",
        ),
        (
            "POST",
            "/repos/acme/widgets/pulls/7/reviews",
            {"body": {"body": "x", "event": "COMMENT", "comments": [{"path": "x.py", "line": "2", "body": "b"}]}},
            422,
            "comments/0/line: '2' is not of type 'integer'",
        ),
        ("GET", "/repos/other/widgets/pulls/7/files", {}, 404, "unknown repository"),
        ("GET", "/user", {}, 404, "no documented route"),
    ],
)
def test_a_request_off_the_spec_is_refused_and_fails_the_test(
    fake_github: FakeGitHub, method: str, path: str, kwargs: dict[str, Any], status: int, words: str
) -> None:
    fake_github.set_pull(7, HEAD, [{"filename": "x.py", "status": "modified", "patch": PATCH}])
    response = _raw(fake_github, method, path, **kwargs)
    assert response.status_code == status
    assert words in response.json()["message"]
    assert len(fake_github.violations) == 1 and words in fake_github.violations[0]
    with pytest.raises(pytest.fail.Exception, match="refused"):
        fake_github.check_clean()  # what the fixture does at teardown
    fake_github.violations.clear()


def test_a_wrong_header_is_refused_after_the_route_is_known(fake_github: FakeGitHub) -> None:
    response = httpx.get(
        fake_github.url + "/repos/acme/widgets/pulls/7/files",
        headers={
            "Authorization": f"Bearer {TOKEN}",
            "Accept": "application/json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "t",
        },
    )
    assert response.status_code == 400 and "Accept" in response.json()["message"]
    fake_github.violations.clear()


@pytest.mark.parametrize(
    "comments",
    [
        [{"path": "x.py", "line": 9, "side": "RIGHT", "body": "off the diff"}],
        [
            {"path": "x.py", "line": 2, "side": "RIGHT", "body": "on the diff"},
            {"path": "y.py", "line": 1, "side": "RIGHT", "body": "a file outside the pull request"},
        ],
        [
            {"path": "x.py", "start_line": 1, "line": 2, "side": "RIGHT", "start_side": "RIGHT", "body": "ok"},
            {"path": "x.py", "start_line": 2, "line": 5, "side": "RIGHT", "start_side": "RIGHT", "body": "ends off"},
        ],
    ],
)
def test_one_comment_off_the_diff_refuses_the_whole_review(
    fake_github: FakeGitHub, comments: list[dict[str, Any]]
) -> None:
    fake_github.set_pull(7, HEAD, [{"filename": "x.py", "status": "modified", "patch": PATCH}])
    with GitHubClient(fake_github.url, TOKEN) as client, pytest.raises(GitHubError) as caught:
        client.create_review(
            "acme", "widgets", 7, {"commit_id": HEAD, "body": "b", "event": "COMMENT", "comments": comments}
        )
    assert caught.value.status == 422
    assert "must be part of the diff" in str(caught.value)
    assert fake_github.pull(7).reviews == [] and fake_github.pull(7).review_comments == []
    assert fake_github.violations == []  # GitHub's rule, not a malformed request


def test_the_same_comments_on_the_diff_are_accepted(fake_github: FakeGitHub) -> None:
    fake_github.set_pull(7, HEAD, [{"filename": "x.py", "status": "modified", "patch": PATCH}])
    with GitHubClient(fake_github.url, TOKEN) as client:
        review = client.create_review(
            "acme",
            "widgets",
            7,
            {
                "commit_id": HEAD,
                "body": "b",
                "event": "COMMENT",
                "comments": [
                    {
                        "path": "x.py",
                        "start_line": 1,
                        "line": 3,
                        "side": "RIGHT",
                        "start_side": "RIGHT",
                        "body": "range",
                    }
                ],
            },
        )
    assert review["state"] == "COMMENTED"
    assert [c["body"] for c in fake_github.pull(7).review_comments] == ["range"]
    assert BOT["login"] == fake_github.pull(7).review_comments[0]["user"]["login"]
