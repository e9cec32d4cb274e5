"""The GitHub Actions context: which pull request, which token, where outputs go.

Read from the runner's environment (docs.github.com, "Variables reference" and "Webhook
events and payloads: pull_request"): ``GITHUB_EVENT_PATH`` (the event JSON),
``GITHUB_EVENT_NAME``, ``GITHUB_API_URL``, ``GITHUB_SERVER_URL``, ``GITHUB_REPOSITORY``,
``GITHUB_RUN_ID``, ``GITHUB_OUTPUT``, ``GITHUB_STEP_SUMMARY`` and the token in
``GITHUB_TOKEN`` (or ``GH_TOKEN``). Everything in the event payload is untrusted except the
numbers and SHAs this module validates.

Also here: writing step outputs, the job summary, and workflow commands (``::notice::``),
including ``::stop-commands::`` around untrusted text printed to the job log.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import secrets
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TextIO
from urllib.parse import urlsplit

from tokyo_cli.errors import ConfigError

PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")
COMMENT_EVENTS = ("issue_comment", "pull_request_review_comment")
REVIEWED_ACTIONS = ("opened", "synchronize", "reopened", "ready_for_review")
DEFAULT_API_URL = "https://api.github.com"
# GitHub: "The maximum size of a job summary is 1 MiB per step" (job summaries docs).
MAX_STEP_SUMMARY_BYTES = 1024 * 1024

_SHA = re.compile(r"^[0-9a-f]{40}$|^[0-9a-f]{64}$")
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class PullRequest:
    """The pull request an event is about (validated fields only).

    ``base_repo``/``head_repo`` are ``owner/name``; ``head_repo`` is ``None`` when the head
    repository was deleted. SHAs are full hex object names.
    """

    owner: str
    repo: str
    number: int
    base_sha: str
    head_sha: str
    base_ref: str
    head_ref: str
    base_repo: str
    head_repo: str | None
    action: str
    draft: bool = False
    labels: tuple[str, ...] = ()
    author: str = ""
    label_added: str | None = None

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.repo}"

    @property
    def is_fork(self) -> bool:
        """True when the head branch lives in another repository (a fork), or is gone."""
        return self.head_repo is None or self.head_repo.lower() != self.base_repo.lower()


def env_flag(env: Mapping[str, str], name: str, input_name: str, *, default: bool) -> bool:
    """A boolean action input passed as variable ``name``: true/false, 1/0, yes/no; empty or
    unset means ``default``.

    Raises:
        ConfigError: any other value.
    """
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in ("true", "false", "1", "0", "yes", "no"):
        raise ConfigError(f"{name} (the {input_name} input) must be true or false, got {raw!r}")
    return raw in ("true", "1", "yes")


@dataclass(frozen=True)
class Filters:
    """Which pull requests get a review (the action's inputs, as ``TOKYO_*`` variables).

    ``skip_drafts`` (``TOKYO_SKIP_DRAFTS``, default true), ``skip_label``
    (``TOKYO_SKIP_LABEL``), ``run_label`` (``TOKYO_RUN_LABEL``: only labelled pull requests,
    and adding the label starts a review), ``ignore_authors`` (``TOKYO_IGNORE_AUTHORS``,
    comma-separated logins). Unset means no filter, except drafts.
    """

    skip_drafts: bool = True
    skip_label: str = ""
    run_label: str = ""
    ignore_authors: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Filters:
        """Read the filters; raises ConfigError for a ``TOKYO_SKIP_DRAFTS`` that is not a boolean."""
        return cls(
            skip_drafts=env_flag(env, "TOKYO_SKIP_DRAFTS", "skip-drafts", default=True),
            skip_label=env.get("TOKYO_SKIP_LABEL", "").strip(),
            run_label=env.get("TOKYO_RUN_LABEL", "").strip(),
            ignore_authors=tuple(
                a.strip().lower() for a in env.get("TOKYO_IGNORE_AUTHORS", "").split(",") if a.strip()
            ),
        )


@dataclass(frozen=True)
class Comment:
    """The comment of an ``issue_comment`` / ``pull_request_review_comment`` event."""

    id: int
    body: str
    login: str
    user_type: str
    association: str
    review_comment: bool
    in_reply_to: int | None = None

    def as_item(self) -> dict[str, Any]:
        """The comment in the REST API's shape (for :func:`tokyo_cli.github.state.has_write_access`)."""
        return {
            "id": self.id,
            "body": self.body,
            "author_association": self.association,
            "user": {"login": self.login, "type": self.user_type},
        }


@dataclass(frozen=True)
class ActionContext:
    """One ``tokyo review --github`` invocation: the pull request and the runner's settings.

    ``token`` is never printed (``repr=False``). ``output_path``/``summary_path`` are the
    files behind ``GITHUB_OUTPUT``/``GITHUB_STEP_SUMMARY`` (``None`` outside Actions).
    """

    event_name: str
    pull: PullRequest
    api_url: str = DEFAULT_API_URL
    token: str | None = field(default=None, repr=False)
    graphql_url: str | None = None
    check_run: bool = False
    run_url: str | None = None
    output_path: Path | None = None
    summary_path: Path | None = None
    filters: Filters = field(default_factory=Filters)
    comment: Comment | None = None

    def skip_reason(self) -> str | None:
        """Why this event gets no review at all (closed, a draft, a label, an ignored author,
        a comment that is no command), else ``None``."""
        pull, f = self.pull, self.filters
        if self.comment is not None:
            return None  # commands decide for themselves (tokyo_cli.github.commands)
        labels = {x.lower() for x in pull.labels}
        if pull.action == "labeled":
            if not f.run_label or (pull.label_added or "").lower() != f.run_label.lower():
                return "a label was added that is not the run label"
        elif pull.action not in REVIEWED_ACTIONS:
            return f"pull_request action '{pull.action}' is not reviewed (tokyo reviews {', '.join(REVIEWED_ACTIONS)})"
        if pull.draft and f.skip_drafts:
            return "the pull request is a draft; tokyo reviews it when it is marked ready for review"
        if f.skip_label and f.skip_label.lower() in labels:
            return f"the pull request has the label '{f.skip_label}' (skip-label)"
        if f.run_label and f.run_label.lower() not in labels:
            return f"the pull request does not have the label '{f.run_label}' (run-label)"
        if pull.author.lower() in f.ignore_authors:
            return f"pull requests by {pull.author} are not reviewed (ignore-authors)"
        return None

    def post_blocker(self) -> str | None:
        """Why tokyo must not post (fork, no token), else ``None``.

        A fork's pull_request run gets a read-only token and no secrets (GitHub's
        documented behaviour), so no post is attempted at all.
        """
        if self.pull.is_fork:
            head = self.pull.head_repo or "a deleted repository"
            return (
                f"this pull request comes from a fork ({head}): its workflow token is "
                "read-only, so tokyo does not post a review"
            )
        if not self.token:
            return "no GitHub token (set GITHUB_TOKEN, e.g. the action's github-token input)"
        return None


FetchPull = Callable[[str, str | None, str, str, int], dict[str, Any]]


def load_context(env: Mapping[str, str] | None = None, *, fetch_pull: FetchPull | None = None) -> ActionContext:
    """Read the pull request event and runner settings from ``env`` (default ``os.environ``).

    A comment event (``issue_comment`` on a pull request, ``pull_request_review_comment``)
    gives :attr:`ActionContext.comment`; an ``issue_comment`` carries no pull request, so
    ``fetch_pull(api_url, token, owner, repo, number)`` reads it ("Get a pull request").

    Raises:
        ConfigError: no ``GITHUB_EVENT_PATH``, an unreadable or non-JSON event file, an event
            that is not a pull request, a malformed payload, or an ``GITHUB_API_URL`` that
            would send the token in clear text.
    """
    env = os.environ if env is None else env
    path = env.get("GITHUB_EVENT_PATH", "").strip()
    if not path:
        raise ConfigError("--github needs GITHUB_EVENT_PATH (set by GitHub Actions) to name a pull_request event file")
    try:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the GitHub event file {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"the GitHub event file {path} is not JSON: {exc}") from None
    event_name = env.get("GITHUB_EVENT_NAME", "").strip()
    if event_name and event_name not in PULL_REQUEST_EVENTS + COMMENT_EVENTS:
        raise ConfigError(
            f"--github reviews pull_request events and answers /tokyo comments; this workflow ran on '{event_name}'"
        )
    api_url = (env.get("GITHUB_API_URL") or DEFAULT_API_URL).strip().rstrip("/")
    _check_api_url(api_url)
    token = (env.get("GITHUB_TOKEN") or env.get("GH_TOKEN") or "").strip() or None
    comment = _comment(payload, event_name) if event_name in COMMENT_EVENTS else None
    if event_name == "issue_comment" and isinstance(payload, dict):
        issue = payload.get("issue") or {}
        repo_name = (payload.get("repository") or {}).get("full_name")
        number = issue.get("number") if isinstance(issue, dict) else None
        if not isinstance(issue, dict) or not issue.get("pull_request"):
            raise ConfigError("this issue_comment is on an issue, not a pull request: nothing to do")
        if not (
            isinstance(number, int)
            and isinstance(repo_name, str)
            and repo_name.count("/") == 1
            and all(_NAME.match(x) for x in repo_name.split("/"))
        ):
            raise ConfigError("malformed issue_comment event: missing or invalid issue.number or repository")
        if fetch_pull is None:
            raise ConfigError("an issue_comment event needs the pull request from the GitHub API")
        owner, repo = repo_name.split("/")
        payload = {
            "action": "comment",
            "pull_request": fetch_pull(api_url, token, owner, repo, number),
            "repository": payload.get("repository"),
        }
    if not isinstance(payload, dict) or not isinstance(payload.get("pull_request"), dict):
        raise ConfigError(
            f"the GitHub event file {path} has no pull_request object (run tokyo review --github on: pull_request)"
        )
    pull = _pull_request(payload)
    server, repository, run_id = (
        env.get(k, "").strip() for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    )
    run_url = f"{server}/{repository}/actions/runs/{run_id}" if server and repository and run_id else None
    return ActionContext(
        event_name=event_name or "pull_request",
        pull=pull,
        api_url=api_url,
        token=token,
        graphql_url=(env.get("GITHUB_GRAPHQL_URL") or "").strip() or None,
        check_run=env_flag(env, "TOKYO_CHECK_RUN", "check-run", default=False),
        run_url=run_url,
        output_path=_path(env.get("GITHUB_OUTPUT")),
        summary_path=_path(env.get("GITHUB_STEP_SUMMARY")),
        filters=Filters.from_env(env),
        comment=comment,
    )


def _comment(payload: Any, event_name: str) -> Comment:
    c = payload.get("comment") if isinstance(payload, dict) else None
    user = (c or {}).get("user") if isinstance(c, dict) else None
    if not isinstance(c, dict) or not isinstance(c.get("id"), int) or not isinstance(user, dict):
        raise ConfigError(f"malformed {event_name} event: missing or invalid comment")
    reply = c.get("in_reply_to_id")
    return Comment(
        id=c["id"],
        body=str(c.get("body") or ""),
        login=str(user.get("login") or ""),
        user_type=str(user.get("type") or ""),
        association=str(c.get("author_association") or "NONE"),
        review_comment=event_name == "pull_request_review_comment",
        in_reply_to=reply if isinstance(reply, int) else None,
    )


def _path(value: str | None) -> Path | None:
    return Path(value) if value and value.strip() else None


def _pull_request(payload: dict[str, Any]) -> PullRequest:
    pr = payload["pull_request"]
    base, head = pr.get("base") or {}, pr.get("head") or {}
    base_repo = (base.get("repo") or payload.get("repository") or {}).get("full_name")
    head_repo = (head.get("repo") or {}).get("full_name") if isinstance(head.get("repo"), dict) else None
    number = pr.get("number", payload.get("number"))
    problems = []
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        problems.append("pull_request.number")
    for key, value in (("base.sha", base.get("sha")), ("head.sha", head.get("sha"))):
        if not isinstance(value, str) or not _SHA.match(value):
            problems.append(f"pull_request.{key}")
    if (
        not isinstance(base_repo, str)
        or base_repo.count("/") != 1
        or not all(_NAME.match(p) for p in base_repo.split("/"))
    ):
        problems.append("pull_request.base.repo.full_name")
    if problems or not isinstance(base_repo, str):
        raise ConfigError(f"malformed pull_request event: missing or invalid {', '.join(problems)}")
    owner, repo = base_repo.split("/")
    return PullRequest(
        owner=owner,
        repo=repo,
        number=number,
        base_sha=base["sha"],
        head_sha=head["sha"],
        base_ref=str(base.get("ref") or ""),
        head_ref=str(head.get("ref") or ""),
        base_repo=base_repo,
        head_repo=head_repo if isinstance(head_repo, str) else None,
        action=str(payload.get("action") or "opened"),
        draft=bool(pr.get("draft", False)),
        labels=tuple(str(x.get("name")) for x in pr.get("labels") or [] if isinstance(x, dict) and x.get("name")),
        author=str((pr.get("user") or {}).get("login") or "") if isinstance(pr.get("user"), dict) else "",
        label_added=(str(payload["label"].get("name")) if isinstance(payload.get("label"), dict) else None),
    )


def _check_api_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    host = parts.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if parts.scheme == "http" and loopback:
        return  # a local test server
    raise ConfigError(
        f"GITHUB_API_URL must be an https:// URL (got {url!r}); tokyo does not send the token over plain HTTP"
    )


# --- runner I/O -----------------------------------------------------------------------------


class RunnerFiles(Protocol):
    """The runner's files a step writes: ``GITHUB_OUTPUT`` and ``GITHUB_STEP_SUMMARY`` (each
    ``None`` outside Actions). :class:`ActionContext` is one."""

    @property
    def output_path(self) -> Path | None: ...

    @property
    def summary_path(self) -> Path | None: ...


@dataclass
class StepFiles:
    """:class:`RunnerFiles` read from the environment, for steps that review no pull request
    (the action's audit and merge modes)."""

    output_path: Path | None = None
    summary_path: Path | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> StepFiles:
        """``GITHUB_OUTPUT`` and ``GITHUB_STEP_SUMMARY`` of ``env`` (unset or empty: ``None``)."""
        return cls(output_path=_path(env.get("GITHUB_OUTPUT")), summary_path=_path(env.get("GITHUB_STEP_SUMMARY")))


def set_outputs(ctx: RunnerFiles, values: Mapping[str, str | int]) -> None:
    """Append ``name=value`` step outputs to ``GITHUB_OUTPUT`` (no-op outside Actions).

    Uses the documented multi-line form (``name<<DELIM``) with a random delimiter, so no
    value can inject another output.
    """
    if ctx.output_path is None:
        return
    lines = []
    for name, value in values.items():
        delim = f"TOKYO_{secrets.token_hex(8)}"
        lines += [f"{name}<<{delim}", str(value), delim]
    with ctx.output_path.open("a", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")


def append_step_summary(ctx: RunnerFiles, markdown: str) -> bool:
    """Append ``markdown`` to the job summary; returns False when there is none.

    GitHub caps a step's summary at 1 MiB; longer text is cut at a line boundary with a note.
    """
    if ctx.summary_path is None:
        return False
    data = markdown.encode("utf-8")
    if len(data) > MAX_STEP_SUMMARY_BYTES - 200:
        cut = data[: MAX_STEP_SUMMARY_BYTES - 400].decode("utf-8", errors="ignore")
        markdown = cut[: cut.rfind("\n") + 1] + (
            "\n\n_The report was cut at GitHub's 1 MiB job-summary limit; the SARIF file and the "
            "job log have everything._\n"
        )
    with ctx.summary_path.open("a", encoding="utf-8") as fh:
        fh.write(markdown if markdown.endswith("\n") else markdown + "\n")
    return True


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_command(kind: str, message: str, *, title: str | None = None) -> str:
    """``::notice title=T::message`` (kind: notice, warning or error), escaped as the
    Actions runner expects (docs.github.com, "Workflow commands for GitHub Actions")."""
    props = f" title={_escape_property(title)}" if title else ""
    return f"::{kind}{props}::{_escape_data(message)}"


def annotate(kind: str, message: str, *, title: str = "tokyo", stream: TextIO | None = None) -> None:
    """Print a workflow command annotation on ``stream`` (stdout by default)."""
    out = stream or sys.stdout
    out.write(workflow_command(kind, message, title=title) + "\n")
    out.flush()


@contextmanager
def untrusted_output(enabled: bool, stream: TextIO | None = None) -> Iterator[None]:
    """While active, the runner ignores workflow commands on stdout (``::stop-commands::``).

    Reports print model output and file names; without this a line such as
    ``::error::`` or ``::add-mask::`` in a finding would be obeyed by the runner.
    """
    if not enabled:
        yield
        return
    out = stream or sys.stdout
    token = secrets.token_hex(16)
    out.write(f"::stop-commands::{token}\n")
    out.flush()
    try:
        yield
    finally:
        out.flush()
        out.write(f"::{token}::\n")
        out.flush()
