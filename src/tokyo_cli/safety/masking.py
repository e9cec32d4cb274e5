"""The one secret detector: every byte that leaves the machine or is stored goes through here.

:func:`mask_secrets` replaces each likely secret in a text with ``[MASKED:<kind>]`` and counts
them; :func:`mask_data` does the same for every string inside nested data (dicts, lists,
tuples, pydantic models), in one pass. They are used at every exit (docs/ARCHITECTURE.md, "Trust
boundaries"): the Gateway masks the final messages of every provider request (review,
evidence, synthesis, repair, streamed or not), findings are masked when they are made
(``findings.redact``), and the run result, the history database, every report format, the
GitHub request bodies and provider error messages are masked again on the way out.

What is masked, and the kind each gets:

* **Environment values** (read from ``os.environ`` at each call): the value (8 characters or
  more) of every variable whose name ends in ``_KEY``, ``_TOKEN``, ``_SECRET``,
  ``_PASSWORD`` or ``_PASSWD`` (so ``*_API_KEY``, ``GITHUB_TOKEN``, ``AWS_SECRET_ACCESS_KEY``
  ...), wherever it occurs: ``[MASKED:env:OPENAI_API_KEY]``.
* **detect-secrets (Yelp) plugins**, every plugin of
  ``detect_secrets.core.plugins.util.get_mapping_from_secret_type_to_class()``, run on their
  own regular expressions and checks (``analyze_string``; never ``analyze_line``, which may
  verify a secret over the network): ``ArtifactoryDetector`` (artifactory-token),
  ``AWSKeyDetector`` (aws-access-key, aws-secret), ``AzureStorageKeyDetector``
  (azure-storage-key), ``BasicAuthDetector`` (url-password), ``CloudantDetector``
  (cloudant-credential), ``DiscordBotTokenDetector`` (discord-token), ``GitHubTokenDetector``
  (github-token), ``GitLabTokenDetector`` (gitlab-token), ``IbmCloudIamDetector``
  (ibm-cloud-iam-key), ``IbmCosHmacDetector`` (ibm-cos-hmac-secret), ``IPPublicDetector``
  (public-ip), ``JwtTokenDetector`` (jwt), ``KeywordDetector`` (secret-keyword, its
  quotes-required forms: ``password = "..."``), ``MailchimpDetector`` (mailchimp-key),
  ``NpmDetector`` (npm-token), ``OpenAIDetector`` (openai-key), ``PrivateKeyDetector``
  (private-key), ``PypiTokenDetector`` (pypi-token), ``SendGridDetector`` (sendgrid-key),
  ``SlackDetector`` (slack-token, slack-webhook), ``SoftlayerDetector`` (softlayer-key),
  ``SquareOAuthDetector`` (square-secret), ``StripeDetector`` (stripe-key),
  ``TelegramBotTokenDetector`` (telegram-token), ``TwilioKeyDetector`` (twilio-key), and the
  two entropy plugins ``Base64HighEntropyString`` (high-entropy-base64) and
  ``HexHighEntropyString`` (high-entropy-hex) with their own limits (4.5 and 3.0 bits),
  **limited to quoted values (16 characters or more) and to values of assignments**
  (``name = value``, ``name: value``; 20 or more), and never to a digest: 40-, 64- or
  128-digit hex (git SHA-1, SHA-256, SHA-512) or ``sha256-...``/``sha512-...`` integrity
  values, so lockfile checksums and pinned actions (``uses: x/y@<sha>``) stay readable. A
  plugin of a future detect-secrets version without a prefilter here still runs (slower).
* **Formats detect-secrets lacks or only partly matches** (this module's rules): whole
  private key blocks, BEGIN to END (private-key), and lines of a key's body seen without
  them: lines of nothing but 60-76 base64 characters, and the short one before an END line
  (pem-body); passwords in ``scheme://user:pass@host`` URLs (url-password) and
  Sentry-style ``https://<key>@host`` DSNs (url-key); Azure
  ``AccountKey=``/``SharedAccessKey=`` of any length (azure-storage-key) and SAS ``sig=``
  (azure-sas); Google API keys ``AIza...`` (google-api-key) and OAuth ``GOCSPX-`` secrets
  (google-oauth-secret); Anthropic ``sk-ant-`` (anthropic-key), OpenAI ``sk-``/``sk-proj-``
  (openai-key), Groq ``gsk_`` (groq-key); GitHub ``gh?_``/``github_pat_`` of any length
  (github-token); GitLab ``glpat-``... (gitlab-token); Slack ``xox?-``/``xapp-`` (slack-token);
  Stripe ``sk_/rk_`` live and test keys of any length (stripe-key) and ``whsec_``
  (stripe-webhook-secret); npm ``npm_`` (npm-token); Hugging Face ``hf_``; DigitalOcean
  ``dop_v1_``; Shopify ``shpat_``...; Mailgun ``key-``; Square ``sq0atp-``; Databricks
  ``dapi``; Docker ``dckr_pat_``; Atlassian ``ATATT``; Postman ``PMAK-``; Vault ``hvs.``;
  New Relic ``NRAK-``; Linear ``lin_api_``; age ``AGE-SECRET-KEY-1``; Discord webhooks;
  JWTs with their signature (jwt); ``Bearer``/``Basic`` authorization values (bearer-token,
  basic-auth); and generic assignments (secret-assignment): ``*_KEY``/``*_TOKEN``/
  ``*_SECRET``/``*_PASSWORD``-named values in ``.env`` files, Dockerfile ``ENV``/``ARG``,
  shell ``export`` and YAML (``DB_PASSWORD=hunter2``, ``ENV API_KEY abc...``,
  ``API_TOKEN: abc...``), and lower-case ``password: ...``/``token = "..."`` values that look
  like literals (a digit or symbol in them; code such as ``password=password`` stays).

Overlapping matches are merged into one mask; the kind is the most specific rule's
(environment, then this module's formats, then detect-secrets' formats, then keywords and
assignments, then entropy, then public IPs). Masking is idempotent: ``[MASKED:...]`` is never
masked again, so masking a masked text changes nothing. Escaped text (JSON inside JSON, a
key written with ``\\n`` in a JSON file) is scanned as it reads unescaped, and a mask never
cuts an escape in two.

Speed: every rule has a prefilter (:class:`_Filter`): its substrings, looked up once per text,
or — for every token format — a run of 16 base64/token characters, found with one byte
translation and one search; only the lines that pass are joined and searched with the rule's
patterns, so ordinary code lines never reach detect-secrets' per-line checks. About 14-17 ms
of CPU per 60,000-token chunk of Python source (10-13 MB/s; ``tests/test_secret_canaries.py``
holds the correctness side). detect-secrets keeps its configuration in a process-global
singleton: the plugins are built once, under :data:`DETECT_SECRETS_LOCK` (which
``analyzers/secrets.py`` also holds while it scans), and masking afterwards calls only their
pure methods, so :func:`mask_secrets` is safe to call from any number of threads at once.
"""

from __future__ import annotations

import bisect
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = ["DETECT_SECRETS_LOCK", "mask_data", "mask_secrets"]

DETECT_SECRETS_LOCK = threading.RLock()
"""Held while detect-secrets' global settings are read or changed (plugin set-up here, scans
in ``analyzers/secrets.py``). Re-entrant: a scan masks the lines it reports while holding it."""

_MASKED = "[MASKED:"
_ENV_SUFFIXES = ("_KEY", "_TOKEN", "_SECRET", "_PASSWORD", "_PASSWD")
_ENV_MIN = 8
_SEP = "\n\x00\x1e\x00\n"  # joins mask_data's strings; no rule matches across it

T = TypeVar("T")


@dataclass(frozen=True)
class _Filter:
    """Which lines a rule searches.

    A line is a candidate when it holds one of ``needles`` (case-sensitive) or ``lower``
    (looked up in the ASCII-lower-cased text); with ``long`` it must (also) hold a run of
    :data:`_LONG_RUN` or more characters of ``[A-Za-z0-9_+/=-]`` (every token format has
    one); with ``digits``, a dotted-quad of digits. ``gate``: a candidate line must also
    match it. ``tail``: search from the line before the first candidate line to the end
    (matches that span lines). A filter with none of these searches the whole text.
    """

    needles: tuple[str, ...] = ()
    lower: tuple[str, ...] = ()
    long: bool = False
    digits: bool = False
    gate: re.Pattern[str] | None = None
    tail: bool = False


@dataclass(frozen=True)
class _Rule:
    """One pattern. ``group``: the group to mask (0: the match; -1: from its first to its
    last non-empty group). ``check``: a test the masked value must pass. ``extend``: widen
    the mask over the rest of a token the pattern matched only part of (detect-secrets'
    fixed-length patterns inside longer tokens)."""

    kind: str
    pattern: re.Pattern[str]
    priority: int
    filter: _Filter
    group: int = 0
    check: Callable[[str], bool] | None = None
    extend: bool = False
    lowered: bool = False  # search the ASCII-lower-cased text (a case-insensitive pattern, made faster)


def _lowered(pattern: str | re.Pattern[str]) -> re.Pattern[str]:
    """``pattern`` without its IGNORECASE flag, for a rule that searches the lower-cased
    text (same matches, found several times faster)."""
    if isinstance(pattern, str):
        return re.compile(pattern)
    return re.compile(pattern.pattern, pattern.flags & ~re.IGNORECASE)


# Priorities (lower wins an overlap): env 0, this module's formats 100+, detect-secrets' formats
# 300, keywords and assignments 500, entropy 600, public IPs 700.
_OWN = 100
_DS = 300
_KEYWORD_PRIORITY = 500
_ENTROPY_PRIORITY = 600
_IP_PRIORITY = 700

_LONG_RUN = 16
_LONG = _Filter(long=True)
_URL = _Filter(needles=("://",))
_KEYWORDS_LOWER = ("key", "pass", "pwd", "secret", "token", "credential")

# --- value checks ---------------------------------------------------------------------------

_DIGEST_HEX_LENGTHS = frozenset({40, 64, 128})
_HEX = frozenset("0123456789abcdefABCDEF")
_SRI = re.compile(r"sha(?:1|256|384|512)-")
_SYMBOLS = frozenset("!#%&*+/=?@^~$")
_CODE_CHARS = frozenset("()[]{}<>")


def _is_digest(value: str) -> bool:
    """A checksum, not a secret: SHA-1/256/512 hex or an ``sha512-...`` integrity value."""
    if len(value) in _DIGEST_HEX_LENGTHS and all(c in _HEX for c in value):
        return True
    return bool(_SRI.match(value))


def _literal(value: str) -> bool:
    """An unquoted value that reads as a literal, not code: no brackets or calls, not a path
    or URL, and a digit next to letters or a symbol in it (``hunter2``, ``s3cr3t!``;
    ``password``, ``get_password``, ``os.environ`` are code)."""
    if len(value) < 6 or value.isdigit() or any(c in _CODE_CHARS for c in value):
        return False
    if value.startswith(("/", "./", "~", "../")) or "://" in value:
        return False
    has_digit = any(c.isdigit() for c in value)
    has_alpha = any(c.isalpha() for c in value)
    return (has_digit and has_alpha) or any(c in _SYMBOLS for c in value)


def _generated(value: str) -> bool:
    """A quoted value under a token-like name that looks generated: see :func:`_literal`, or
    mixed case and 12+ characters (``"access_token"``, URLs and paths stay)."""
    if len(value) < 8 or "://" in value or value.startswith(("/", "./")):
        return False
    if _literal(value):
        return True
    return len(value) >= 12 and value.isalnum() and not value.islower() and not value.isupper()


def _random(value: str) -> bool:
    """An authorization value, not a word: a digit, ``+``/``/``/``=``, or mixed case."""
    return any(c.isdigit() or c in "+/=" for c in value) or (not value.islower() and not value.isupper())


def _base64_line(value: str) -> bool:
    """Base64 key material, not a digest or a word: upper case, lower case and digits (a
    line of a random key has all three; a hex SHA-256 does not)."""
    if len(value) < 20:
        return True
    return any(c.isupper() for c in value) and any(c.islower() for c in value) and any(c.isdigit() for c in value)


def _env_value(value: str) -> bool:
    """A value of an upper-case secret name: not a number, not code (``Dict[str, int]``)."""
    return not value.isdigit() and not any(c in _CODE_CHARS for c in value) and not value.endswith(",")


# --- this module's rules ----------------------------------------------------------------------

_TOKEN_TAIL = r"(?![A-Za-z0-9_\-])"


def _own_rules() -> list[_Rule]:
    order = iter(range(100))  # an earlier rule names the kind of an overlap (sk-ant- before sk-)

    def rule(kind: str, pattern: str, where: _Filter = _LONG, **kw: Any) -> _Rule:
        return _Rule(kind, re.compile(pattern), _OWN + next(order), where, **kw)

    block = _Filter(needles=("PRIVATE KEY",), tail=True)
    return [
        rule(
            "private-key",
            r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?:[^\x00]*?-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
            r"|[^\n\x00]*(?:\n[^\n\x00]*?[A-Za-z0-9+/=]{40,}[^\n\x00]*)*)",
            block,
        ),
        # ... and the short last line of such a body, right before its END line.
        rule(
            "pem-body",
            r"(?m)^[ \t]*(?:\d+[ \t]+[+\- ][ \t]?)?[\"']?([A-Za-z0-9+/]{4,76}={0,2})[ \t]*\n"
            r"[ \t]*(?:\d+[ \t]+[+\- ][ \t]?)?-----END[A-Z0-9 ]*PRIVATE KEY",
            block,
            group=1,
            check=_base64_line,
        ),
        rule(
            "private-key",
            r"PuTTY-User-Key-File-\d[^\x00]*?Private-MAC:[^\n\x00]*",
            _Filter(needles=("PuTTY-User-Key-File-",), tail=True),
        ),
        # A key's body without its BEGIN line (a hunk from the middle of a key file, a cut
        # stream): a line that is nothing but 60-76 base64 characters, PEM's and OpenSSH's width.
        rule(
            "pem-body",
            r"(?m)^[ \t]*(?:\d+[ \t]+[+\- ][ \t]?)?[\"']?([A-Za-z0-9+/]{60,76}={0,2})[\"',]*[ \t]*$",
            group=1,
            check=_base64_line,
        ),
        rule("anthropic-key", r"sk-ant-[A-Za-z0-9_\-]{20,}"),
        rule(
            "openai-key",
            r"(?<![A-Za-z0-9_\-])sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}",
            _Filter(needles=("sk-",), long=True),
        ),
        rule("groq-key", r"gsk_[A-Za-z0-9]{20,}"),
        rule("google-api-key", r"AIza[0-9A-Za-z_\-]{30,}"),
        rule("google-oauth-secret", r"GOCSPX-[A-Za-z0-9_\-]{20,}"),
        rule("github-token", r"(?:gh[pousr]_[A-Za-z0-9_]{20,}|github_pat_[A-Za-z0-9_]{20,})"),
        rule("gitlab-token", r"gl(?:pat|dt|ft|soat|rt|cbt|imt|ptt|agent|oas)-[A-Za-z0-9_\-]{20,}"),
        rule("slack-token", r"(?:xox[abposre]-[A-Za-z0-9\-]{11,}|xapp-\d-[A-Za-z0-9\-]{11,})"),
        rule("slack-webhook", r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/\-]+", _URL),
        rule(
            "discord-webhook", r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d+/[A-Za-z0-9_\-]+", _URL
        ),
        rule(
            "stripe-key",
            r"(?<![A-Za-z0-9])[rs]k_(?:live|test)_[0-9a-zA-Z]{10,}",
            _Filter(needles=("k_live_", "k_test_"), long=True),
        ),
        rule("stripe-webhook-secret", r"whsec_[A-Za-z0-9]{20,}"),
        rule("npm-token", r"npm_[A-Za-z0-9]{36}" + _TOKEN_TAIL),
        rule("huggingface-token", r"hf_[A-Za-z0-9]{30,}"),
        rule("digitalocean-token", r"do[opr]_v1_[a-f0-9]{64}"),
        rule("shopify-token", r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}"),
        rule(
            "mailgun-key",
            r"(?<![A-Za-z0-9_\-])key-[0-9a-zA-Z]{32}" + _TOKEN_TAIL,
            _Filter(needles=("key-",), long=True),
        ),
        rule("square-token", r"sq0(?:atp|csp)-[0-9A-Za-z\-_]{22,}"),
        rule("databricks-token", r"dapi[a-h0-9]{32}"),
        rule("docker-token", r"dckr_pat_[A-Za-z0-9_\-]{20,}"),
        rule("atlassian-token", r"ATATT[A-Za-z0-9_\-=]{50,}"),
        rule("postman-key", r"PMAK-[a-f0-9]{24}-[a-f0-9]{34}"),
        rule("vault-token", r"hv[sb]\.[A-Za-z0-9_\-]{24,}"),
        rule("newrelic-key", r"NRAK-[A-Z0-9]{27}"),
        rule("linear-key", r"lin_api_[A-Za-z0-9]{40}"),
        rule("age-secret-key", r"AGE-SECRET-KEY-1[0-9A-Z]{58}"),
        rule("jwt", r"eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-+/=]*"),
        rule(
            "aws-secret",
            r"(?i)aws.{0,30}?(?:secret|key).{0,30}?[=:]\s*[\"']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])",
            _Filter(lower=("aws",), long=True),
            group=1,
        ),
        rule("azure-storage-key", r"(?:AccountKey|SharedAccessKey)=([A-Za-z0-9+/]{20,}={0,2})", group=1),
        rule("azure-sas", r"[?&]sig=([A-Za-z0-9%+/=]{20,})", _Filter(needles=("sig=",)), group=1),
        rule(
            "url-password", r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s/?#@:'\"]*:(?![$%{<\[])([^\s/?#@'\"<>]+)@", _URL, group=1
        ),
        rule("url-key", r"://([0-9a-f]{32})@", _URL, group=1),
        rule(
            "bearer-token",
            r"(?i)bearer\s+([A-Za-z0-9._~+/\-]{16,}=*)",
            _Filter(lower=("bearer",), long=True),
            group=1,
            check=_random,
        ),
        rule(
            "basic-auth",
            r"(?i)basic\s+([A-Za-z0-9+/]{16,}={0,2})(?![A-Za-z0-9+/=])",
            _Filter(lower=("basic",), long=True),
            group=1,
            check=_random,
        ),
    ]


_UPPER_WORDS = r"(?:KEY|TOKEN|SECRET|PASSWORD|PASSWD|PASS|PWD|CREDENTIALS?)"
_LOWER_WORDS = (
    r"(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key"
    r"|auth[_-]?key|client[_-]?secret)"
)


def _generic_rules() -> list[_Rule]:
    where = _Filter(lower=_KEYWORDS_LOWER)
    p = _KEYWORD_PRIORITY
    return [
        # DB_PASSWORD=hunter2, export API_KEY=..., ENV A_TOKEN=..., - SECRET_KEY=..., A_TOKEN: abc
        _Rule(
            "secret-assignment",
            re.compile(rf"{_UPPER_WORDS}[A-Z0-9_]*(?:=|:[ \t]+)([\"']?)(?![$%{{<\[(/~])([^\s'\"`]{{6,}})\1"),
            p,
            where,
            group=2,
            check=_env_value,
        ),
        # API_TOKEN = "abc..." (spaces around the operator need quotes: MAX_TOKENS = 4096 stays)
        _Rule(
            "secret-assignment",
            re.compile(
                rf"{_UPPER_WORDS}[A-Z0-9_]*[\"']?[ \t]*(?:=|:|=>|:=)[ \t]*([\"'])(?![$%{{<\[])"
                rf"([^\s'\"`]{{6,}})\1"
            ),
            p,
            where,
            group=2,
            check=_env_value,
        ),
        # Dockerfile ENV NAME value (the legacy form without '=')
        _Rule(
            "secret-assignment",
            re.compile(rf"(?:ENV|ARG)[ \t]+[A-Z0-9_]*{_UPPER_WORDS}[A-Z0-9_]*[ \t]+(?![\"'$])([^\s'\"]{{6,}})"),
            p,
            where,
            group=1,
        ),
        # password: hunter2 / --password=s3cret! (a literal, not code)
        _Rule(
            "secret-assignment",
            _lowered(rf"{_LOWER_WORDS}[a-z0-9_\-]*[\"']?[ \t]*(?::[ \t]+|=)(?![\"'$%{{<\[(])([^\s'\"`,;]{{6,}})"),
            p,
            where,
            group=1,
            check=_literal,
            lowered=True,
        ),
        # token = "Zx81...", "accessToken": "...": a name that ends in the word (tokenizer,
        # token_type stay) and a value that looks generated; detect-secrets' keywords leave out tokens
        _Rule(
            "secret-assignment",
            _lowered(rf"{_LOWER_WORDS}[\"']?[ \t]*(?:=|:|=>|:=)[ \t]*([\"'])(?![$%{{<\[])([^'\"\s]{{8,}})\1"),
            p,
            where,
            group=2,
            check=_generated,
            lowered=True,
        ),
    ]


# --- detect-secrets' plugins ------------------------------------------------------------------

# Plugin class -> kind, or one kind per ``denylist`` pattern.
_DS_KINDS: dict[str, str | tuple[str, ...]] = {
    "ArtifactoryDetector": "artifactory-token",
    "AWSKeyDetector": ("aws-access-key", "aws-secret"),
    "AzureStorageKeyDetector": "azure-storage-key",
    "BasicAuthDetector": "url-password",
    "CloudantDetector": "cloudant-credential",
    "DiscordBotTokenDetector": "discord-token",
    "GitHubTokenDetector": "github-token",
    "GitLabTokenDetector": "gitlab-token",
    "Base64HighEntropyString": "high-entropy-base64",
    "HexHighEntropyString": "high-entropy-hex",
    "IbmCloudIamDetector": "ibm-cloud-iam-key",
    "IbmCosHmacDetector": "ibm-cos-hmac-secret",
    "IPPublicDetector": "public-ip",
    "JwtTokenDetector": "jwt",
    "KeywordDetector": "secret-keyword",
    "MailchimpDetector": "mailchimp-key",
    "NpmDetector": "npm-token",
    "OpenAIDetector": "openai-key",
    "PrivateKeyDetector": "private-key",
    "PypiTokenDetector": "pypi-token",
    "SendGridDetector": "sendgrid-key",
    "SlackDetector": ("slack-token", "slack-webhook"),
    "SoftlayerDetector": "softlayer-key",
    "SquareOAuthDetector": "square-secret",
    "StripeDetector": "stripe-key",
    "TelegramBotTokenDetector": "telegram-token",
    "TwilioKeyDetector": "twilio-key",
}
# Plugin class -> the lines its patterns can match on (every token format: a long run).
_PLUGIN_KEYWORDS = ("key", "pwd", "pw", "pass", "token")
_DS_FILTERS: dict[str, _Filter | tuple[_Filter, ...]] = {
    "ArtifactoryDetector": _Filter(needles=("AKC", "AP"), long=True),
    "AWSKeyDetector": (
        _Filter(needles=("A3T", "ABIA", "ACCA", "AKIA", "ASIA"), long=True),
        _Filter(lower=("aws",), long=True),
    ),
    "AzureStorageKeyDetector": _LONG,
    "BasicAuthDetector": _URL,
    "CloudantDetector": _Filter(lower=(*_PLUGIN_KEYWORDS, "cloudant"), long=True),
    "DiscordBotTokenDetector": _LONG,
    "GitHubTokenDetector": _LONG,
    "GitLabTokenDetector": _LONG,
    "IbmCloudIamDetector": _Filter(lower=_PLUGIN_KEYWORDS, long=True),
    "IbmCosHmacDetector": _Filter(lower=("secret",), long=True),
    "IPPublicDetector": _Filter(digits=True),
    "JwtTokenDetector": _LONG,
    "MailchimpDetector": _Filter(needles=("-us",), long=True),
    "NpmDetector": _Filter(needles=("_authToken",), long=True),
    "OpenAIDetector": _LONG,
    "PrivateKeyDetector": _Filter(needles=("PRIVATE KEY", "PuTTY-User-Key-File-")),
    "PypiTokenDetector": _LONG,
    "SendGridDetector": _LONG,
    "SlackDetector": (_LONG, _URL),
    "SoftlayerDetector": _Filter(lower=(*_PLUGIN_KEYWORDS, "softlayer"), long=True),
    "SquareOAuthDetector": _LONG,
    "StripeDetector": _LONG,
    "TelegramBotTokenDetector": _LONG,
    "TwilioKeyDetector": _Filter(needles=("AC", "SK"), long=True),
}
# KeywordDetector's quotes-required forms all hold one of these: `= "x`, `: 'x`, `=> "x`,
# `"x" ==`, `"x";`.
_QUOTED_VALUE_GATE = re.compile(r"[=:>]\s*@?[\"'`]\w|[\"'`]\s*[!=]=|[\"'`];")


def _ds_kind(name: str, secret_type: str, index: int) -> str:
    kinds = _DS_KINDS.get(name)
    if isinstance(kinds, tuple):
        return kinds[min(index, len(kinds) - 1)]
    if kinds:
        return kinds
    return re.sub(r"[^a-z0-9]+", "-", secret_type.lower()).strip("-") or "secret"


def _ds_filter(name: str, index: int) -> _Filter:
    where = _DS_FILTERS.get(name, _Filter())  # a plugin new to this table: the whole text
    if isinstance(where, tuple):
        return where[min(index, len(where) - 1)]
    return where


@dataclass(frozen=True)
class _Entropy:
    kind: str
    charset: frozenset[str]
    limit: float
    entropy: Callable[[str], float]


@dataclass(frozen=True)
class _Custom:
    """A plugin that is neither regex-based nor known here: ``analyze_string`` on the text."""

    kind: str
    analyze: Callable[[str], Iterable[str]]


@dataclass(frozen=True)
class _Rules:
    groups: list[tuple[_Filter, list[_Rule]]]  # rules that search the same lines, together
    entropy: list[_Entropy]
    custom: list[_Custom]


_rules: _Rules | None = None
_rules_lock = threading.Lock()


def _build() -> _Rules:
    regex = _own_rules() + _generic_rules()
    entropy: list[_Entropy] = []
    custom: list[_Custom] = []
    try:
        from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
        from detect_secrets.plugins import keyword
        from detect_secrets.plugins.base import BasePlugin, RegexBasedDetector
        from detect_secrets.plugins.high_entropy_strings import HighEntropyStringsPlugin
    except ImportError:  # a dependency; without it this module's own rules still mask
        return _Rules(_grouped(regex), entropy, custom)
    plugins: list[tuple[str, str, BasePlugin]] = []
    with DETECT_SECRETS_LOCK:
        # Annotated: detect-secrets declares the return with an unbound TypeVar.
        mapping: Mapping[str, type[BasePlugin]] = get_mapping_from_secret_type_to_class()
        for secret_type, cls in mapping.items():
            try:
                plugins.append((cls.__name__, str(secret_type), cls()))
            except Exception:  # noqa: BLE001 - a plugin that needs arguments: the others still mask
                continue
    for name, secret_type, plugin in sorted(plugins, key=lambda p: (p[0], p[1])):
        if isinstance(plugin, HighEntropyStringsPlugin):
            entropy.append(
                _Entropy(
                    _ds_kind(name, secret_type, 0),
                    frozenset(plugin.charset),
                    float(plugin.entropy_limit),
                    plugin.calculate_shannon_entropy,
                )
            )
        elif name == "KeywordDetector":
            where = _Filter(lower=("key", "pass", "pwd", "secret", "contrase"), gate=_QUOTED_VALUE_GATE)
            for pattern, group in keyword.QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP.items():
                regex.append(
                    _Rule(
                        _ds_kind(name, secret_type, 0),
                        _lowered(pattern),
                        _KEYWORD_PRIORITY,
                        where,
                        group=group,
                        lowered=True,
                    )
                )
        elif isinstance(plugin, RegexBasedDetector):
            overridden = type(plugin).analyze_string is not RegexBasedDetector.analyze_string
            check = _plugin_check(plugin) if overridden else None
            priority = _IP_PRIORITY if name == "IPPublicDetector" else _DS
            for index, pattern in enumerate(plugin.denylist):
                grouped = pattern.groups > 0
                regex.append(
                    _Rule(
                        _ds_kind(name, secret_type, index),
                        pattern,
                        priority,
                        _ds_filter(name, index),
                        group=-1 if grouped else 0,
                        check=check,
                        extend=not grouped,
                    )
                )
        else:
            custom.append(_Custom(_ds_kind(name, secret_type, 0), plugin.analyze_string))
    entropy.sort(key=lambda r: len(r.charset))  # hex before base64: the narrower charset names the kind
    return _Rules(_grouped(regex), entropy, custom)


def _grouped(rules: list[_Rule]) -> list[tuple[_Filter, list[_Rule]]]:
    groups: dict[_Filter, list[_Rule]] = {}
    for r in rules:
        groups.setdefault(r.filter, []).append(r)
    return list(groups.items())


def _plugin_check(plugin: Any) -> Callable[[str], bool]:
    """For a plugin with its own ``analyze_string`` (JwtTokenDetector's validity test): a
    match counts only when the plugin reports it too."""

    def check(value: str) -> bool:
        return any(True for _ in plugin.analyze_string(value))

    return check


def _get_rules() -> _Rules:
    global _rules
    if _rules is None:
        # One lock order everywhere: DETECT_SECRETS_LOCK (reentrant), then _rules_lock. The
        # detect-secrets analyzer masks a line while it holds DETECT_SECRETS_LOCK; taking
        # _rules_lock first here deadlocked a review with bandit masking at the same moment.
        with DETECT_SECRETS_LOCK, _rules_lock:
            if _rules is None:
                _rules = _build()
    return _rules


# --- the scan ---------------------------------------------------------------------------------

_ASCII = "".join(chr(i) for i in range(128))
# Bytes of the text (one per character: non-ASCII becomes '?') mapped to classes: 'b' for a
# character of base64/token runs, 'd' for a digit (digit table), '\n' kept, ' ' for the rest.
_RUN_CLASS = bytes.maketrans(
    _ASCII.encode(),
    "".join("b" if (c.isalnum() or c in "_-+/=") else ("\n" if c == "\n" else " ") for c in _ASCII).encode(),
)
_RUN_CLASS = _RUN_CLASS[:128] + b" " * 128
_DIGIT_CLASS = bytes.maketrans(
    _ASCII.encode(), "".join("d" if c.isdigit() else (c if c in ".\n" else " ") for c in _ASCII).encode()
)
_DIGIT_CLASS = _DIGIT_CLASS[:128] + b" " * 128
_DOTTED_QUAD = re.compile(rb"\.d{1,3}\.d{1,3}\.d")
_LONG_NEEDLE = b"b" * _LONG_RUN

_QUOTED = re.compile(r"([\"'])([A-Za-z0-9+/=_\\\-]{16,})\1")
_ASSIGNED = re.compile(r"(?:=|:[ \t])[ \t]*([A-Za-z0-9+/_\-][A-Za-z0-9+/=_\-]{19,})(?![A-Za-z0-9+/=_\-.:@\\])")
_DELIMITERS = frozenset(" \t\r\n\"'=:")  # what some detect-secrets patterns match around a token
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")

Span = tuple[int, int, int, str]  # start, end, priority, kind
Lines = dict[int, int]  # line start -> line end (the newline's index, or the text's length)


_env_cache: tuple[dict[Any, Any], list[tuple[str, str]]] | None = None


def _env_secrets() -> list[tuple[str, str]]:
    """``(value, name)`` of this process's secret-named variables, longest value first.

    Read from ``os.environ`` at each call; the list is rebuilt only when the environment
    changed since the last call (compared on ``os.environ``'s own mapping: a few
    microseconds, where decoding every variable takes a hundred).
    """
    global _env_cache
    raw = getattr(os.environ, "_data", None)
    if isinstance(raw, dict):
        cached = _env_cache
        if cached is not None and cached[0] == raw:
            return cached[1]
        snapshot = dict(raw)
    found = []
    for name, value in os.environ.items():
        upper = name.upper()
        if upper.endswith(_ENV_SUFFIXES) or upper in ("TOKEN", "PASSWORD", "SECRET"):
            value = value.strip()
            if len(value) >= _ENV_MIN and _MASKED not in value:
                found.append((value, name))
    found.sort(key=lambda p: -len(p[0]))
    if isinstance(raw, dict):
        _env_cache = (snapshot, found)
    return found


class _Text:
    """The text under scan and what the filters look it up in, each made once, on demand:
    its bytes (one per character), their lower-cased and class-mapped forms, and the lines
    holding each needle."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.raw = text.encode("ascii", "replace")
        self._lower: bytes | None = None
        self._long: Lines | None = None
        self._digits: Lines | None = None
        self._long_view: _View | None = None
        self._views: dict[int, _View | None] = {}
        self._needles: dict[tuple[bool, str], Lines] = {}

    @property
    def lower(self) -> bytes:
        if self._lower is None:
            self._lower = self.raw.lower()
        return self._lower

    def line(self, index: int) -> tuple[int, int]:
        raw = self.raw
        end = raw.find(b"\n", index)
        return raw.rfind(b"\n", 0, index) + 1, len(raw) if end == -1 else end

    def _lines_of(self, hay: bytes, needle: bytes) -> Lines:
        found: Lines = {}
        i = hay.find(needle)
        while i != -1:
            start, end = self.line(i)
            found[start] = end
            i = hay.find(needle, end)
        return found

    def needle_lines(self, needle: str, lower: bool) -> Lines:
        key = (lower, needle)
        if key not in self._needles:
            hay = self.lower if lower else self.raw
            self._needles[key] = self._lines_of(hay, needle.encode("ascii", "replace"))
        return self._needles[key]

    @property
    def long(self) -> Lines:
        if self._long is None:
            self._long = self._lines_of(self.raw.translate(_RUN_CLASS), _LONG_NEEDLE)
        return self._long

    @property
    def digits(self) -> Lines:
        if self._digits is None:
            classes = self.raw.translate(_DIGIT_CLASS)
            self._digits = {}
            m = _DOTTED_QUAD.search(classes)
            while m is not None:
                start, end = self.line(m.start())
                self._digits[start] = end
                m = _DOTTED_QUAD.search(classes, end + 1)
        return self._digits

    def long_hits(self, needle: str, lower: bool) -> set[int]:
        """Starts of the long lines holding ``needle``, found in those lines alone."""
        key = (lower, "\x00long:" + needle)
        if key not in self._needles:
            view = self.long_view
            hay = view.lower_bytes if lower else view.raw_bytes
            hits: Lines = {}
            target = needle.encode("ascii", "replace")
            i = hay.find(target)
            while i != -1:
                start = view.ranges[bisect.bisect_right(view.starts, i) - 1][0]
                hits[start] = 0
                i = hay.find(target, i + 1)
            self._needles[key] = hits
        return set(self._needles[key])

    @property
    def long_view(self) -> _View:
        if self._long_view is None:
            self._long_view = _View(self, sorted(self.long.items()), merge=False)
        return self._long_view

    def view(self, where: _Filter) -> _View | None:
        """The text's candidate lines for ``where`` as a :class:`_View`; ``None`` if none."""
        key = id(where)  # filters are module constants; their dataclass hash is slow
        if key not in self._views:
            ranges = self.candidates(where)
            self._views[key] = _View(self, ranges) if ranges else None
        return self._views[key]

    def candidates(self, where: _Filter) -> list[tuple[int, int]]:
        """Sorted ``(start, end)`` ranges of the text the filter lets through (adjacent
        lines merged)."""
        if where.long and not where.digits and not self.long:
            return []
        needles = [(False, n) for n in where.needles] + [(True, n) for n in where.lower]
        if where.long or where.digits:
            lines = dict(self.long) if where.long else {}
            if where.digits:
                lines.update(self.digits)
            if needles and where.long and not where.digits:
                keep: set[int] = set()
                for low, n in needles:
                    keep |= self.long_hits(n, low)
                lines = {s: lines[s] for s in keep}
        elif needles:
            lines = {}
            for low, n in needles:
                lines.update(self.needle_lines(n, low))
        else:
            return [(0, len(self.text))]
        if where.gate is not None:
            lines = {s: e for s, e in lines.items() if where.gate.search(self.text, s, e)}
        if not lines:
            return []
        if where.tail:  # from the line before the first candidate (a key's last line before END)
            first = min(lines)
            return [(self.line(first - 1)[0] if first else 0, len(self.text))]
        return sorted(lines.items())


class _View:
    """Ranges of a text joined by newlines (adjacent lines kept as they are), and the way back
    from a span of the view to a span of the text."""

    def __init__(self, doc: _Text, ranges: list[tuple[int, int]], *, merge: bool = True) -> None:
        if merge:
            merged: list[tuple[int, int]] = []
            for s, e in ranges:
                if merged and s <= merged[-1][1] + 1:
                    merged[-1] = (merged[-1][0], max(merged[-1][1], e))
                else:
                    merged.append((s, e))
            ranges = merged
        self.doc = doc
        self.ranges = ranges
        self.starts: list[int] = []
        pos = 0
        for s, e in ranges:
            self.starts.append(pos)
            pos += e - s + 1
        self._text: str | None = None
        self._lower: str | None = None
        self._raw_bytes: bytes | None = None
        self._lower_bytes: bytes | None = None

    def _join(self, data: Any) -> Any:
        if len(self.ranges) == 1:
            s, e = self.ranges[0]
            return data[s:e]
        sep = "\n" if isinstance(data, str) else b"\n"
        return sep.join(data[s:e] for s, e in self.ranges)

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = self._join(self.doc.text)
        return self._text

    @property
    def lower(self) -> str:
        """The view ASCII-lower-cased, as long as :attr:`text` (other characters become '?')."""
        if self._lower is None:
            self._lower = self._join(self.doc.lower).decode("ascii")
        return self._lower

    @property
    def raw_bytes(self) -> bytes:
        if self._raw_bytes is None:
            self._raw_bytes = bytes(self._join(self.doc.raw))
        return self._raw_bytes

    @property
    def lower_bytes(self) -> bytes:
        if self._lower_bytes is None:
            self._lower_bytes = bytes(self._join(self.doc.lower))
        return self._lower_bytes

    def original(self, start: int, end: int) -> list[tuple[int, int]]:
        """A span of the view as spans of the text: one per range it touches (the newline
        joining two ranges is not part of the text, and is left out)."""
        out: list[tuple[int, int]] = []
        i = max(0, bisect.bisect_right(self.starts, start) - 1)
        while start < end and i < len(self.ranges):
            first, last = self.ranges[i]
            piece_end = self.starts[i] + last - first
            s, e = max(start, self.starts[i]), min(end, piece_end)
            if s < e:
                out.append((first + s - self.starts[i], first + e - self.starts[i]))
            start, i = piece_end + 1, i + 1
        return out


def _value_span(m: re.Match[str], group: int) -> tuple[int, int] | None:
    if group >= 0:
        start, end = m.span(group)
        return (start, end) if start >= 0 and end > start else None
    spans = [m.span(g) for g in range(1, (m.re.groups or 0) + 1) if m.start(g) >= 0 and m.end(g) > m.start(g)]
    if not spans:
        return m.span() if m.end() > m.start() else None
    return min(s for s, _ in spans), max(e for _, e in spans)


def _scan_group(rules: list[_Rule], view: _View, text: str, spans: list[Span]) -> None:
    for rule in rules:
        for m in rule.pattern.finditer(view.lower if rule.lowered else view.text):
            span = _value_span(m, rule.group)
            parts = view.original(*span) if span is not None else []
            value = "".join(text[s:e] for s, e in parts)
            if not value or _MASKED in value or (rule.check is not None and not rule.check(value)):
                continue
            if rule.extend and len(parts) == 1:  # a fixed-length pattern inside a longer token
                parts = [_extended(text, *parts[0])]
            spans.extend((s, e, rule.priority, rule.kind) for s, e in parts if e > s)


def _extended(text: str, s: int, e: int) -> tuple[int, int]:
    """``text[s:e]`` without the delimiters some detect-secrets patterns match around a
    token, then widened over the rest of the token it sits in."""
    while s < e and text[s] in _DELIMITERS:
        s += 1
    while e > s and text[e - 1] in _DELIMITERS:
        e -= 1
    while e < len(text) and text[e] in _TOKEN_CHARS:
        e += 1
    while s > 0 and text[s - 1] in _TOKEN_CHARS:
        s -= 1
    return s, e


def _scan_entropy(rules: list[_Entropy], view: _View, text: str, spans: list[Span]) -> None:
    found = [m.span(2) for m in _QUOTED.finditer(view.text)] + [m.span(1) for m in _ASSIGNED.finditer(view.text)]
    least = min(2**r.limit for r in rules)
    for vs, ve in found:
        value = view.text[vs:ve]  # a value never spans lines: the view holds it whole
        # Shannon entropy is at most log2(distinct characters): most values stop here.
        distinct = len(set(value))
        if distinct <= least or _is_digest(value):
            continue
        for r in rules:
            if distinct > 2**r.limit and all(c in r.charset for c in value) and r.entropy(value) > r.limit:
                spans.extend((s, e, _ENTROPY_PRIORITY, r.kind) for s, e in view.original(vs, ve))
                break


def _scan_custom(rules: list[_Custom], text: str, spans: list[Span]) -> None:
    for r in rules:
        try:
            values = {v for v in r.analyze(text) if isinstance(v, str) and v}
        except Exception:  # noqa: BLE001 - a plugin's bug must not stop masking the rest
            continue
        for value in values:
            i = text.find(value)
            while i != -1:
                spans.append((i, i + len(value), _DS, r.kind))
                i = text.find(value, i + len(value))


def _scan_env(text: str, spans: list[Span]) -> None:
    for value, name in _env_secrets():
        i = text.find(value)
        while i != -1:
            spans.append((i, i + len(value), 0, f"env:{name}"))
            i = text.find(value, i + len(value))


_ESCAPE = re.compile(r"\\+([\"'nrt/\\])")
_ESCAPED = {"n": "\n", "r": "\n", "t": "\t"}


class _Escapes:
    """Where :func:`_unescaped` took backslashes out: the position (in its result) of each
    escaped character and how many backslashes were removed up to and including it."""

    def __init__(self) -> None:
        self.marks: list[int] = []
        self.removed: list[int] = []

    def span(self, start: int, end: int) -> tuple[int, int]:
        """A span of the unescaped text as a span of the escaped text: an escaped first
        character keeps its backslashes, and no span ends inside an escape."""
        i = bisect.bisect_right(self.marks, start) - 1
        first = start + (self.removed[i] if i >= 0 else 0)
        if i >= 0 and self.marks[i] == start:  # starts on an escaped character: its backslashes too
            first -= self.removed[i] - (self.removed[i - 1] if i > 0 else 0)
        j = bisect.bisect_right(self.marks, end - 1) - 1
        return first, end + (self.removed[j] if j >= 0 else 0)


def _unescaped(text: str) -> tuple[str, _Escapes]:
    """``text`` with its backslash escapes (``\\"``, ``\\'``, ``\\n``, ``\\r``, ``\\t``,
    ``\\/``, ``\\\\``, at any depth: ``\\\\\\"`` too) read as the character they stand
    for — JSON inside JSON, a key with ``\\n`` in a JSON file — and where they were."""
    out: list[str] = []
    escapes = _Escapes()
    pos = removed = 0
    for m in _ESCAPE.finditer(text):
        out.append(text[pos : m.start()])
        removed += m.end() - m.start() - 1
        escapes.marks.append(m.end() - 1 - removed)
        escapes.removed.append(removed)
        out.append(_ESCAPED.get(m.group(1), m.group(1)))
        pos = m.end()
    out.append(text[pos:])
    return "".join(out), escapes


_MASK_TOKEN = re.compile(r"\[MASKED:[^\]\s]*\]")


def _apply(text: str, spans: list[Span]) -> tuple[str, int]:
    if spans and _MASKED in text:  # never mask into a mask: masking a masked text changes nothing
        done = [m.span() for m in _MASK_TOKEN.finditer(text)]
        spans = [sp for sp in spans if not any(sp[0] < e and s < sp[1] for s, e in done)]
    if not spans:
        return text, 0
    spans.sort()
    merged: list[list[Any]] = []  # [start, end, priority, kind]
    for s, e, p, k in spans:
        if merged and s < merged[-1][1]:
            last = merged[-1]
            last[1] = max(last[1], e)
            if p < last[2]:
                last[2], last[3] = p, k
        else:
            merged.append([s, e, p, k])
    out: list[str] = []
    pos = 0
    for s, e, _, k in merged:
        out.append(text[pos:s])
        out.append(f"[MASKED:{k}]")
        pos = e
    out.append(text[pos:])
    return "".join(out), len(merged)


def mask_secrets(text: str) -> tuple[str, int]:
    """``text`` with every likely secret replaced by ``[MASKED:<kind>]``, and how many.

    Kinds and rules: see the module docstring (e.g. ``[MASKED:stripe-key]``,
    ``[MASKED:aws-secret]``, ``[MASKED:env:OPENAI_API_KEY]``). Idempotent:
    ``mask_secrets(mask_secrets(t)[0]) == (mask_secrets(t)[0], 0)``. Thread-safe.

    Returns:
        ``(masked_text, count)``; ``count`` is the number of masks inserted (overlapping
        matches count once). A text with nothing to mask comes back unchanged with 0.
    Raises:
        TypeError: ``text`` is not a ``str``.
    """
    if not isinstance(text, str):
        raise TypeError(f"mask_secrets takes a str, not {type(text).__name__}")
    if len(text) < 6:
        return text, 0
    rules = _get_rules()
    # Escaped text (JSON inside JSON, a key with "\n" in a JSON file) is scanned unescaped.
    scan, escapes = _unescaped(text) if "\\" in text else (text, None)
    doc = _Text(scan)
    spans: list[Span] = []
    for where, group in rules.groups:
        view = doc.view(where)
        if view is not None:
            _scan_group(group, view, scan, spans)
    if rules.entropy:
        view = doc.view(_LONG)
        if view is not None:
            _scan_entropy(rules.entropy, view, scan, spans)
    _scan_custom(rules.custom, scan, spans)
    if escapes is not None and escapes.marks:
        spans = [(*escapes.span(s, e), p, k) for s, e, p, k in spans]
    _scan_env(text, spans)
    return _apply(text, spans)


def mask_data(value: T) -> T:
    """``value`` with :func:`mask_secrets` applied to every string in it: dict keys and
    values, list and tuple items, and the fields of pydantic models (rebuilt with
    ``model_validate``, so their types are kept; a field that is not a string, such as a
    number or a datetime, is left alone). Each string is masked on its own terms, but all of
    them are scanned together, so a large report costs one scan.

    Returns:
        A new object of the same shape when something was masked; ``value`` itself when
        nothing was (the argument is never changed). Dict keys that mask to the same text
        (two secrets of one kind) become one key, the later value kept.
    Raises:
        pydantic.ValidationError: a model whose validators reject its own masked dump
            (no tokyo model does).
    """
    strings: list[str] = []
    dumps: list[Any] = []
    _collect(value, strings, dumps)
    if not strings:
        return value
    masked = _mask_many(strings)
    if masked == strings:
        return value
    rebuilt: T = _rebuild(value, iter(masked), iter(dumps))
    return rebuilt


def _collect(value: Any, strings: list[str], dumps: list[Any]) -> None:
    if isinstance(value, str):
        strings.append(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            _collect(k, strings, dumps)
            _collect(v, strings, dumps)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _collect(v, strings, dumps)
    elif _is_model(value):
        dump = value.model_dump()
        dumps.append(dump)
        _collect(dump, strings, dumps)


def _rebuild(value: Any, strings: Any, dumps: Any) -> Any:
    """``value`` rebuilt from the masked ``strings`` (and the ``dumps`` of its models), both
    in :func:`_collect`'s order."""
    if isinstance(value, str):
        return next(strings)
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            key = _rebuild(k, strings, dumps)
            out[key] = _rebuild(v, strings, dumps)
        return out
    if isinstance(value, list):
        return [_rebuild(v, strings, dumps) for v in value]
    if isinstance(value, tuple):
        items = [_rebuild(v, strings, dumps) for v in value]
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    if _is_model(value):
        return type(value).model_validate(_rebuild(next(dumps), strings, dumps))
    return value


def _is_model(value: Any) -> bool:
    return hasattr(value, "model_dump") and hasattr(type(value), "model_validate") and not isinstance(value, type)


def _mask_many(strings: list[str]) -> list[str]:
    """Mask ``strings`` with one scan of their join; separately if a mask crossed a join."""
    if len(strings) == 1:
        return [mask_secrets(strings[0])[0]]
    if not any(_SEP in s for s in strings):
        joined, count = mask_secrets(_SEP.join(strings))
        if not count:
            return strings
        parts = joined.split(_SEP)
        if len(parts) == len(strings):
            return parts
    return [mask_secrets(s)[0] for s in strings]
