"""GitHubClient against the fake GitHub API: headers, pagination, rate limits, retries, errors.

Waits are recorded by an injected ``sleep``, never slept, so nothing here depends on time.
"""

from __future__ import annotations

import httpx
import pytest

from fakes.github import BOT, TOKEN, FakeGitHub
from tokyo_cli.github.client import GitHubClient, GitHubError

SECONDARY = {
    "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
}


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(fake_github: FakeGitHub, clock: Clock) -> GitHubClient:
    return GitHubClient(fake_github.url, TOKEN, sleep=clock.sleep, clock=clock.time)


def test_headers_and_link_pagination(fake_github: FakeGitHub, client: GitHubClient) -> None:
    for i in range(5):
        fake_github.add_issue_comment(3, f"comment {i}", BOT)
    fake_github.max_per_page = 2
    comments = client.list_issue_comments("acme", "widgets", 3)
    assert [c["body"] for c in comments] == [f"comment {i}" for i in range(5)]
    assert fake_github.log() == [
        "GET /repos/acme/widgets/issues/3/comments?per_page=100",
        "GET /repos/acme/widgets/issues/3/comments?page=2&per_page=100",
        "GET /repos/acme/widgets/issues/3/comments?page=3&per_page=100",
    ]
    headers = fake_github.requests[0].headers
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert headers["accept"] == "application/vnd.github+json"
    assert headers["x-github-api-version"] == "2022-11-28"
    assert headers["user-agent"].startswith("tokyo-cli/")
    assert fake_github.violations == []


def test_secondary_rate_limit_403_with_retry_after(fake_github: FakeGitHub, client: GitHubClient, clock: Clock) -> None:
    fake_github.fail("POST", r"/issues/\d+/comments$", 403, SECONDARY, {"retry-after": "7"})
    comment = client.create_issue_comment("acme", "widgets", 3, "hello")
    assert comment["body"] == "hello"
    assert clock.waits == [7.0]
    assert fake_github.log() == ["POST /repos/acme/widgets/issues/3/comments"] * 2
    assert len(fake_github.pull(3).issue_comments) == 1  # the refused attempt created nothing


def test_primary_rate_limit_waits_until_reset(fake_github: FakeGitHub, client: GitHubClient, clock: Clock) -> None:
    reset = int(clock.now) + 30
    fake_github.fail(
        "GET",
        r"/reviews$",
        429,
        {"message": "API rate limit exceeded"},
        {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
    )
    assert client.list_reviews("acme", "widgets", 3) == []
    assert clock.waits == [31.0]  # until the reset, plus one second of slack


def test_secondary_limit_without_a_time_waits_a_minute_then_doubles(
    fake_github: FakeGitHub, client: GitHubClient, clock: Clock
) -> None:
    fake_github.fail("GET", r"/comments$", 403, SECONDARY, times=2)
    client.list_review_comments("acme", "widgets", 3)
    assert clock.waits == [60.0, 120.0]


def test_a_wait_longer_than_the_cap_is_not_waited(fake_github: FakeGitHub, clock: Clock) -> None:
    client = GitHubClient(fake_github.url, TOKEN, sleep=clock.sleep, clock=clock.time, max_wait_s=300)
    fake_github.fail("POST", r"/reviews$", 403, SECONDARY, {"retry-after": "3600"})
    with pytest.raises(GitHubError) as info:
        client.create_review("acme", "widgets", 3, {"event": "COMMENT", "body": "x"})
    assert info.value.rate_limited and not info.value.forbidden
    assert "3600 s, longer than tokyo waits (300 s)" in str(info.value)
    assert clock.waits == []


def test_retries_are_bounded(fake_github: FakeGitHub, client: GitHubClient, clock: Clock) -> None:
    fake_github.fail("GET", r"/comments$", 403, SECONDARY, {"retry-after": "1"}, times=10)
    with pytest.raises(GitHubError, match="still rate limited after retries"):
        client.list_issue_comments("acme", "widgets", 3)
    assert clock.waits == [1.0, 1.0, 1.0] and len(fake_github.requests) == 4


def test_permission_refusal_is_not_retried(fake_github: FakeGitHub, client: GitHubClient, clock: Clock) -> None:
    fake_github.fail("POST", r"/reviews$", 403, {"message": "Resource not accessible by integration"})
    with pytest.raises(GitHubError) as info:
        client.create_review("acme", "widgets", 3, {"event": "COMMENT", "body": "x"})
    assert info.value.forbidden and info.value.status == 403
    assert str(info.value) == (
        "GitHub API: POST /repos/acme/widgets/pulls/3/reviews failed: 403 Resource not accessible by integration"
    )
    assert TOKEN not in str(info.value) and clock.waits == [] and len(fake_github.requests) == 1


def test_transient_errors_retry_reads_but_not_creates(
    fake_github: FakeGitHub, client: GitHubClient, clock: Clock
) -> None:
    fake_github.fail("GET", r"/reviews$", 502, {"message": "Bad Gateway"})
    assert client.list_reviews("acme", "widgets", 3) == []
    assert clock.waits == [2.0]
    fake_github.fail("POST", r"/issues/\d+/comments$", 502, {"message": "Bad Gateway"})
    with pytest.raises(GitHubError, match="502 Bad Gateway"):
        client.create_issue_comment("acme", "widgets", 3, "x")  # it may have been created: no retry


def test_422_carries_githubs_errors(fake_github: FakeGitHub, client: GitHubClient) -> None:
    fake_github.fail(
        "POST", r"/reviews$", 422, {"message": "Unprocessable Entity", "errors": ["Line could not be resolved"]}
    )
    with pytest.raises(GitHubError) as info:
        client.create_review("acme", "widgets", 3, {"event": "COMMENT", "body": "x"})
    assert info.value.status == 422 and info.value.errors == ["Line could not be resolved"]
    assert "(Line could not be resolved)" in str(info.value)


def test_pagination_never_follows_a_link_to_another_host() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, json=[{"id": 1}], headers={"Link": '<https://evil.example/steal?page=2>; rel="next"'}
        )

    client = GitHubClient("https://api.github.com", "t0ken", transport=httpx.MockTransport(answer))
    with pytest.raises(GitHubError, match="another host"):
        client.list_issue_comments("acme", "widgets", 3)


def test_network_failure_is_one_clear_error(clock: Clock) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client = GitHubClient("https://api.github.com", "t0ken", sleep=clock.sleep, transport=httpx.MockTransport(refuse))
    with pytest.raises(GitHubError, match="ConnectError: connection refused"):
        client.create_issue_comment("acme", "widgets", 3, "x")
    assert clock.waits == [2.0, 4.0, 8.0]  # a refused connection sent nothing: safe to retry a POST
