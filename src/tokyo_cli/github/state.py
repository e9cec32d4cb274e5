"""The pull request as tokyo's durable store: what survives between Actions runs without a
shared database.

A hosted runner starts with an empty disk, so everything a later run needs is kept on the
pull request itself:

* the sticky summary comment carries hidden state lines, ``<!-- tokyo:state 1 head <sha>
  posted <fp>,<fp>,... -->`` (the last reviewed head SHA, every fingerprint posted so far)
  and one ``<!-- tokyo:decision <fp> <status> <login> <comment id> <reason, percent-encoded>
  -->`` per decision taken on GitHub. Plain words, not an encoded blob: every body tokyo
  sends passes the secret masker (:mod:`tokyo_cli.safety.masking`), which would mask a long
  base64 or quoted hex value, and percent-encoding keeps a reason from closing the comment;
* inline comments and review bodies carry ``<!-- tokyo:fp=... -->`` markers
  (:mod:`tokyo_cli.github.comments`);
* people decide by replying ``/tokyo dismiss <reason>`` or ``/tokyo accept`` to an inline
  comment.

Each run rebuilds from them (:func:`load_pull_state`): decisions are recorded in the local
ledger (:mod:`tokyo_cli.store.ledger`) before the review, so a dismissed finding stays silent,
and the last reviewed head decides what to review (:func:`incremental_base`).

Only markers in comments written by tokyo's own account count (a bot, or the logins in
``TOKYO_GITHUB_LOGIN``); a decision counts only from a user with write access: the
``OWNER`` author association, else the permission API ("Get repository permissions for a
user": ``permission`` admin or write, or ``role_name`` maintain).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from tokyo_cli.github.comments import fingerprints_in

if TYPE_CHECKING:
    from tokyo_cli.github.client import ReviewThread

STATE_VERSION = 1
STATE_LINES = re.compile(r"^<!-- tokyo:(?:state|decision) [^\n]*-->\n?", re.MULTILINE)
_STATE = re.compile(
    r"^<!-- tokyo:state 1 head (-|[0-9a-f]{40}|[0-9a-f]{64}) posted (-|[0-9a-f,]{16,200000}) -->$", re.MULTILINE
)
_DECISION = re.compile(
    r"^<!-- tokyo:decision ([0-9a-f]{16}) (dismissed|accepted) ([A-Za-z0-9\[\]-]{1,60}) "
    r"(\d{1,19}|-) ([A-Za-z0-9%._~-]{0,1000}) -->$",
    re.MULTILINE,
)
_COMMAND = re.compile(r"^\s*/tokyo\s+(review|dismiss|accept|help)\b[ \t]*([^\r\n]*)", re.IGNORECASE)
_FP = re.compile(r"^[0-9a-f]{16}$")
MAX_POSTED = 3000  # 17 characters each: about 51,000 of a summary's 65,536
WRITE_ASSOCIATIONS = frozenset({"OWNER"})
WRITE_PERMISSIONS = frozenset({"admin", "write"})
WRITE_ROLES = frozenset({"admin", "maintain", "write"})
MAX_REASON = 300


@dataclass(frozen=True)
class Decision:
    """A decision taken on GitHub about one finding: ``status`` is ``dismissed`` or
    ``accepted``; ``by`` is the GitHub login; ``comment_id`` the reply that said it."""

    fingerprint: str
    status: str
    reason: str
    by: str
    comment_id: int | None = None


@dataclass
class PullState:
    """The state a pull request carries in its summary comment.

    ``head``: the last head SHA tokyo reviewed (``None`` before the first review);
    ``posted``: fingerprints posted inline or in a review body; ``decisions``: by fingerprint.
    """

    head: str | None = None
    posted: set[str] = field(default_factory=set)
    decisions: dict[str, Decision] = field(default_factory=dict)

    def marker(self) -> str:
        """The hidden lines for the summary comment (see the module docstring)."""
        posted = ",".join(sorted(self.posted)[:MAX_POSTED]) or "-"
        lines = [f"<!-- tokyo:state {STATE_VERSION} head {self.head or '-'} posted {posted} -->"]
        for d in self.decisions.values():
            login = d.by if re.fullmatch(r"[A-Za-z0-9\[\]-]{1,60}", d.by) else "unknown"
            reason = quote(d.reason[:MAX_REASON], safe="")
            lines.append(
                f"<!-- tokyo:decision {d.fingerprint} {d.status} {login} "
                f"{d.comment_id if d.comment_id is not None else '-'} {reason} -->"
            )
        return "\n".join(lines)


def parse_state(body: str | None) -> PullState:
    """The state in a summary comment's body; an empty state when there is none or it is
    unreadable (never raises: a damaged marker costs a full review, not the run)."""
    text = body or ""
    m = _STATE.search(text)
    if not m:
        return PullState()
    state = PullState(head=None if m.group(1) == "-" else m.group(1))
    if m.group(2) != "-":
        state.posted = {fp for fp in m.group(2).split(",") if _FP.match(fp)}
    for fp, status, login, cid, reason in _DECISION.findall(text):
        state.decisions[fp] = Decision(
            fp, status, unquote(reason)[:MAX_REASON], login, None if cid == "-" else int(cid)
        )
    return state


@dataclass(frozen=True)
class Command:
    """A ``/tokyo <name> [argument]`` command from the first line of a comment."""

    name: str
    argument: str


def parse_command(body: str | None) -> Command | None:
    """``/tokyo review|dismiss|accept|help [text]`` at the start of ``body``, else ``None``."""
    m = _COMMAND.match(body or "")
    if not m:
        return None
    return Command(m.group(1).lower(), " ".join(m.group(2).split())[:MAX_REASON])


PermissionCheck = Callable[[str], bool]


def has_write_access(item: dict[str, Any], check: PermissionCheck) -> bool:
    """True when the author of a comment ``item`` may decide: ``author_association`` OWNER,
    else ``check(login)`` (the permission API). Bots never decide."""
    user = item.get("user") or {}
    login = user.get("login")
    if not isinstance(login, str) or not login or user.get("type") == "Bot":
        return False
    if item.get("author_association") in WRITE_ASSOCIATIONS:
        return True
    return check(login)


def decisions_from_replies(
    comments: list[dict[str, Any]], ours: dict[int, set[str]], check: PermissionCheck
) -> tuple[list[Decision], list[str]]:
    """Decisions in replies to tokyo's inline comments, oldest first, and refusals (text).

    Args:
        comments: every review comment of the pull request ("List review comments on a pull
            request"), each with ``id``, ``in_reply_to_id``, ``body``, ``user``,
            ``author_association``.
        ours: tokyo's own inline comments: comment id -> fingerprints in its body.
        check: the permission API for a login (called at most once per login).
    """
    cache: dict[str, bool] = {}

    def allowed(login: str) -> bool:
        if login not in cache:
            cache[login] = check(login)
        return cache[login]

    found: list[Decision] = []
    refused: list[str] = []
    for c in sorted(comments, key=lambda c: int(c.get("id") or 0)):
        parent = c.get("in_reply_to_id")
        if not isinstance(parent, int) or parent not in ours:
            continue
        cmd = parse_command(c.get("body"))
        if cmd is None or cmd.name not in ("dismiss", "accept"):
            continue
        login = str((c.get("user") or {}).get("login") or "?")
        if not has_write_access(c, allowed):
            refused.append(f"/tokyo {cmd.name} from {login} ignored: no write access to the repository")
            continue
        if cmd.name == "dismiss" and not cmd.argument:
            refused.append(f"/tokyo dismiss from {login} ignored: a dismissal needs a reason")
            continue
        status = "dismissed" if cmd.name == "dismiss" else "accepted"
        for fp in sorted(ours[parent]):
            found.append(Decision(fp, status, cmd.argument, login, int(c["id"])))
    return found, refused


RESOLVED_REASON = "review thread resolved on GitHub"


def decisions_from_threads(
    threads: list[ReviewThread], ours: dict[int, set[str]], check: PermissionCheck
) -> tuple[list[Decision], list[str]]:
    """Dismissals from resolved review threads that tokyo opened, and refusals (text).

    A thread counts when its first comment is one of ``ours`` (comment id -> fingerprints)
    and it was resolved by a user with write access (``check``, the permission API, at most
    once per login). GitHub lets a pull request's author resolve threads on it without write
    access, so a resolution by anyone else is refused and the finding stays.
    """
    cache: dict[str, bool] = {}
    found: list[Decision] = []
    refused: list[str] = []
    for t in threads:
        if not t.resolved or t.first_comment_id not in ours:
            continue
        login = t.resolved_by
        if login is None or login.endswith("[bot]"):
            refused.append(
                f"a review thread resolved by {login or 'an unknown user'} was not taken as a "
                "dismissal: only users with write access decide"
            )
            continue
        if login not in cache:
            cache[login] = check(login)
        if not cache[login]:
            refused.append(
                f"a review thread resolved by {login} was not taken as a dismissal: no write access to the repository"
            )
            continue
        for fp in sorted(ours[t.first_comment_id]):
            found.append(Decision(fp, "dismissed", RESOLVED_REASON, login, None))
    return found, refused


def is_resolution(d: Decision) -> bool:
    """True for a decision that came from a resolved thread (no reply comment said it), which
    an unresolved thread withdraws."""
    return d.comment_id is None and d.status == "dismissed" and d.reason == RESOLVED_REASON


def our_comments(comments: list[dict[str, Any]], trusted: Callable[[dict[str, Any]], bool]) -> dict[int, set[str]]:
    """tokyo's inline comments (written by a trusted author, with a fingerprint marker):
    comment id -> fingerprints."""
    out: dict[int, set[str]] = {}
    for c in comments:
        fps = fingerprints_in(c.get("body"))
        if fps and isinstance(c.get("id"), int) and trusted(c):
            out[c["id"]] = fps
    return out
