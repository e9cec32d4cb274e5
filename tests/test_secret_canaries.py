"""Secret canaries: credentials planted in a change never leave the machine and are never stored.

61 credential formats (59 in the reviewed files, 2 in this process's environment) are planted
across Python, JavaScript, YAML, JSON, ``.env``, Markdown, a Dockerfile, a key file and file
names. The values are built at run time from a seeded random generator and concatenation, so
no credential-shaped literal sits in this file (push protection, scanners).

End to end, with the fake provider recording every request byte and a fake model that echoes
its prompt into findings *and* repeats every canary (a model that leaks what it saw, or
knows): over every packaged workflow, streamed and not, and through ``--github`` with the
fake GitHub API, no canary reaches a provider request body, the history database (its bytes
and every row of every table), any report format (terminal, Markdown, JSON, SARIF), a GitHub
request, stdout, stderr or the log. The provider key and the GitHub token set in the
environment travel only in the Authorization header.

Unit tests check the masker itself (:mod:`tokyo_cli.safety.masking`): each format masked with its
kind, digests and pinned actions left alone, idempotence, environment values read at call
time, ``mask_data`` shapes, thread safety next to the detect-secrets analyzer, and each exit's
own masking given an unmasked run.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import random
import re
import sqlite3
import string
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote

import pytest

from fakes.github import TOKEN, FakeGitHub, files_from_git
from fakes.gitrepo import GitRepo
from fakes.provider import FakeProvider, message_text
from tokyo_cli import events as ev
from tokyo_cli.findings import AgentOutput, Finding, Severity, redact
from tokyo_cli.results import RunResult, StepResult
from tokyo_cli.safety.masking import mask_data, mask_secrets

pytestmark = [
    pytest.mark.filterwarnings("ignore:Item .* is using the `ReadOnly` qualifier:UserWarning"),
    pytest.mark.filterwarnings("ignore:Accessing the 'model_.*' attribute on the instance is deprecated"),
]

RunCli = Callable[..., tuple[int, str, str]]  # the `cli` fixture (conftest.py)

# --- the canaries -----------------------------------------------------------------------------

_R = random.Random(20261202)
ALNUM = string.ascii_letters + string.digits
URLSAFE = ALNUM + "-_"
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"


def _rnd(n: int, alphabet: str = ALNUM) -> str:
    return "".join(_R.choice(alphabet) for _ in range(n))


def _b64url(obj: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


def _pem(kind: str, first: str = "") -> str:
    body = "\n".join([first + _rnd(64 - len(first), B64)] + [_rnd(64, B64) for _ in range(7)] + [_rnd(22, B64) + "=="])
    return f"-----BEGIN {kind}" + f"PRIVATE KEY-----\n{body}\n-----END {kind}" + "PRIVATE KEY-----"


CANARIES: dict[str, str] = {
    "stripe-live": "sk_" + "live_" + _rnd(24),
    "stripe-restricted": "rk_" + "live_" + _rnd(24),
    "stripe-test": "sk_" + "test_" + _rnd(24),
    "stripe-webhook": "wh" + "sec_" + _rnd(32),
    "slack-bot": "xo" + "xb-" + _rnd(12, string.digits) + "-" + _rnd(13, string.digits) + "-" + _rnd(24),
    "slack-user": "xo" + "xp-" + "-".join(_rnd(12, string.digits) for _ in range(3)) + "-" + _rnd(32, HEX),
    "slack-webhook": "https://hooks.slack.com/services/"
    + "T"
    + _rnd(8, string.ascii_uppercase + string.digits)
    + "/B"
    + _rnd(10, string.ascii_uppercase + string.digits)
    + "/"
    + _rnd(24),
    "jwt": _b64url({"alg": "HS256", "typ": "JWT"})
    + "."
    + _b64url({"sub": "42", "name": "Canary", "iat": 1516239022})
    + "."
    + _rnd(43, URLSAFE),
    "twilio": "S" + "K" + _rnd(32, HEX),
    "sendgrid": "S" + "G." + _rnd(22, URLSAFE) + "." + _rnd(43, URLSAFE),
    "npm": "np" + "m_" + _rnd(36),
    "gitlab-pat": "gl" + "pat-" + _rnd(20, URLSAFE),
    "gitlab-runner": "gl" + "rt-" + _rnd(24),
    "azure-storage": _rnd(86, B64) + "==",
    "azure-sas-sig": _rnd(20) + "%2B" + _rnd(20) + "%3D",
    "aws-access-key-id": "AK" + "IA" + _rnd(16, string.ascii_uppercase + string.digits),
    "aws-secret": _rnd(30) + "/" + _rnd(9),
    "db-password": "Pg" + _rnd(14) + "!9",
    "basic-auth-password": "dpl" + _rnd(13),
    "redis-password": "Rd" + _rnd(18),
    "github-classic": "gh" + "p_" + _rnd(36),
    "github-fine": "github" + "_pat_" + _rnd(22) + "_" + _rnd(59),
    "github-oauth": "gh" + "o_" + _rnd(36),
    "google-api": "AI" + "za" + _rnd(35, URLSAFE),
    "google-oauth": "GOC" + "SPX-" + _rnd(28, URLSAFE),
    "openai-proj": "sk-" + "proj-" + _rnd(64, URLSAFE) + "T3Blbk" + "FJ" + _rnd(64, URLSAFE),
    "openai-legacy": "sk-" + _rnd(20) + "T3Blbk" + "FJ" + _rnd(20),
    "anthropic": "sk-" + "ant-api03-" + _rnd(93, URLSAFE) + "AA",
    "groq": "gs" + "k_" + _rnd(52),
    "huggingface": "h" + "f_" + _rnd(34),
    "digitalocean": "do" + "p_v1_" + _rnd(64, HEX),
    "shopify": "sh" + "pat_" + _rnd(32, HEX),
    "mailgun": "ke" + "y-" + _rnd(32, HEX),
    "mailchimp": _rnd(32, HEX) + "-u" + "s12",
    "square": "sq0" + "atp-" + _rnd(22, URLSAFE),
    "square-secret": "sq0" + "csp-" + _rnd(43, URLSAFE),
    "databricks": "da" + "pi" + _rnd(32, "abcdefgh0123456789"),
    "docker-hub": "dckr" + "_pat_" + _rnd(27, URLSAFE),
    "atlassian": "ATA" + "TT3xFfGF0" + _rnd(180, URLSAFE) + "=" + _rnd(8, HEX.upper()),
    "postman": "PM" + "AK-" + _rnd(24, HEX) + "-" + _rnd(34, HEX),
    "vault": "hv" + "s." + _rnd(90, URLSAFE),
    "newrelic": "NR" + "AK-" + _rnd(27, string.ascii_uppercase + string.digits),
    "linear": "lin" + "_api_" + _rnd(40),
    "telegram": _rnd(10, string.digits) + ":" + "AA" + _rnd(33, URLSAFE),
    "discord-webhook": "https://discord.com/api/" + "webhooks/" + _rnd(18, string.digits) + "/" + _rnd(68, URLSAFE),
    "pypi": "py" + "pi-" + "AgEIcHlwaS5vcmc" + _rnd(120, URLSAFE),
    "sentry-dsn-key": _rnd(32, HEX),
    "age": "AGE-SECRET-" + "KEY-1" + _rnd(58, string.ascii_uppercase + string.digits),
    "artifactory": "AK" + "C" + _rnd(70),
    "bearer": _rnd(40, ALNUM + "-._~"),
    "basic-header": base64.b64encode(("svc:" + _rnd(16)).encode()).decode(),
    "env-password": "hunter2-" + _rnd(10),
    "docker-env-key": _rnd(32),
    "yaml-secret": _rnd(6) + "!" + _rnd(12),
    "json-password": _rnd(12) + "#" + _rnd(6),
    "entropy-base64": _rnd(40, B64),
    "entropy-hex": _rnd(32, HEX),
    "rsa-private-key": _pem("RSA "),
    "openssh-private-key": _pem("OPENSSH ", "b3BlbnNzaC1rZXktdjEAAAAA"),
}
# The provider key and the GitHub token: shaped like no format, so only the environment rule
# can mask them.
ENV_CANARIES: dict[str, str] = {
    "OPENAI_API_KEY": "tokyo-env-canary-" + _rnd(24, string.ascii_lowercase),
    "GITHUB_TOKEN": "tokyo-env-canary-" + _rnd(24, string.ascii_lowercase),
}

PY, JS, YAML, JSONF, ENV, MD, DOCKER, KEYFILE = (
    "src/app/settings.py",
    "web/client.js",
    "deploy/values.yaml",
    "config/credentials.json",
    ".env",
    "docs/setup.md",
    "Dockerfile",
    "deploy/tls.key",
)
NAME = "<file name>"


class Plant(NamedTuple):
    """Where a canary goes: ``file`` (or ``NAME``: the canary is a file name, ``line`` the
    path) and the line holding it; ``kind`` is the mask it must get."""

    file: str
    line: str
    kind: str


PLANTS: dict[str, Plant] = {
    "stripe-live": Plant(PY, 'STRIPE_SECRET_KEY = "{v}"', "stripe-key"),
    "stripe-restricted": Plant(JS, 'const stripeRestricted = "{v}";', "stripe-key"),
    "stripe-test": Plant(NAME, "keys/{v}.txt", "stripe-key"),
    "stripe-webhook": Plant(ENV, "STRIPE_WEBHOOK_SECRET={v}", "stripe-webhook-secret"),
    "slack-bot": Plant(JS, "const slackToken = '{v}';", "slack-token"),
    "slack-user": Plant(YAML, "  slack_user_token: {v}", "slack-token"),
    "slack-webhook": Plant(MD, "Post alerts to {v} from the runbook.", "slack-webhook"),
    "jwt": Plant(JS, 'const session = "{v}";', "jwt"),
    "twilio": Plant(PY, 'TWILIO_SID = "{v}"', "twilio-key"),
    "sendgrid": Plant(ENV, "SENDGRID_API_KEY={v}", "sendgrid-key"),
    "npm": Plant(DOCKER, "ARG NPM_TOKEN={v}", "npm-token"),
    "gitlab-pat": Plant(YAML, "  gitlab_token: {v}", "gitlab-token"),
    "gitlab-runner": Plant(NAME, "certs/{v}.pem", "gitlab-token"),
    "azure-storage": Plant(
        ENV,
        "AZURE_STORAGE_CONNECTION_STRING=DefaultEndpointsProtocol=https;AccountName=acme;"
        "AccountKey={v};EndpointSuffix=core.windows.net",
        "azure-storage-key",
    ),
    "azure-sas-sig": Plant(
        PY,
        'BLOB_URL = "https://acme.blob.core.windows.net/c/x.csv?sv=2022-11-02&ss=b&sp=r&se=2030-01-01&sig={v}"',
        "azure-sas",
    ),
    "aws-access-key-id": Plant(JSONF, '  "aws_access_key_id": "{v}",', "aws-access-key"),
    "aws-secret": Plant(MD, "aws_secret_access_key = {v}", "aws-secret"),
    "db-password": Plant(ENV, "DATABASE_URL=postgres://app:{v}@db.internal:5432/app", "url-password"),
    "basic-auth-password": Plant(YAML, "  index_url: https://deploy:{v}@registry.example.com/simple", "url-password"),
    "redis-password": Plant(PY, 'CACHE_URL = "redis://:{v}@cache:6379/0"', "url-password"),
    "github-classic": Plant(DOCKER, "ENV GH_PAT={v}", "github-token"),
    "github-fine": Plant(MD, "    export GH_PAT={v}", "github-token"),
    "github-oauth": Plant(NAME, "fixtures/{v}.json", "github-token"),
    "google-api": Plant(JS, 'const mapsKey = "{v}";', "google-api-key"),
    "google-oauth": Plant(JSONF, '  "client_secret": "{v}",', "google-oauth-secret"),
    "openai-proj": Plant(PY, 'OPENAI_KEY = "{v}"', "openai-key"),
    "openai-legacy": Plant(YAML, "  openai_key: {v}", "openai-key"),
    "anthropic": Plant(ENV, "ANTHROPIC_KEY={v}", "anthropic-key"),
    "groq": Plant(DOCKER, "ENV GROQ_KEY={v}", "groq-key"),
    "huggingface": Plant(MD, "    huggingface-cli login --token {v}", "huggingface-token"),
    "digitalocean": Plant(YAML, "  do_token: {v}", "digitalocean-token"),
    "shopify": Plant(JSONF, '  "shopify_access_token": "{v}",', "shopify-token"),
    "mailgun": Plant(PY, 'MAILGUN = "{v}"', "mailgun-key"),
    "mailchimp": Plant(JS, 'const mc = "{v}";', "mailchimp-key"),
    "square": Plant(JSONF, '  "square_access_token": "{v}",', "square-token"),
    "square-secret": Plant(YAML, "  square_secret: {v}", "square-token"),
    "databricks": Plant(ENV, "DATABRICKS_HOST_TOKEN={v}", "databricks-token"),
    "docker-hub": Plant(MD, "    docker login -u acme -p {v}", "docker-token"),
    "atlassian": Plant(JSONF, '  "jira_token": "{v}",', "atlassian-token"),
    "postman": Plant(JS, 'const postman = "{v}";', "postman-key"),
    "vault": Plant(ENV, "VAULT_TOKEN={v}", "vault-token"),
    "newrelic": Plant(DOCKER, "ENV NEW_RELIC_API_KEY={v}", "newrelic-key"),
    "linear": Plant(PY, 'LINEAR = "{v}"', "linear-key"),
    "telegram": Plant(YAML, "  telegram_bot: {v}", "telegram-token"),
    "discord-webhook": Plant(MD, "Webhook: {v}", "discord-webhook"),
    "pypi": Plant(MD, "    password = {v}", "pypi-token"),
    "sentry-dsn-key": Plant(PY, 'SENTRY_DSN = "https://{v}@o123456.ingest.sentry.io/4504"', "url-key"),
    "age": Plant(ENV, "SOPS_AGE_KEY={v}", "age-secret-key"),
    "artifactory": Plant(DOCKER, "ENV ARTIFACTORY_API_KEY={v}", "artifactory-token"),
    "bearer": Plant(MD, '    curl -H "Authorization: Bearer {v}" https://api.example.com/v1/me', "bearer-token"),
    "basic-header": Plant(JS, 'const headers = {Authorization: "Basic {v}"};', "basic-auth"),
    "env-password": Plant(ENV, "DB_PASSWORD={v}", "secret-assignment"),
    "docker-env-key": Plant(DOCKER, "ENV PAYMENT_API_KEY {v}", "secret-assignment"),
    "yaml-secret": Plant(YAML, "  client_secret: {v}", "secret-assignment"),
    "json-password": Plant(JSONF, '  "password": "{v}",', "secret-"),  # secret-keyword or -assignment
    "entropy-base64": Plant(PY, 'SIGNING_SALT = "{v}"', "high-entropy-base64"),
    "entropy-hex": Plant(JSONF, '  "hmac": "{v}",', "high-entropy-hex"),
    "rsa-private-key": Plant(KEYFILE, "{v}", "private-key"),
    "openssh-private-key": Plant(MD, "{v}", "private-key"),
}
ENV_PLANTS: dict[str, Plant] = {
    "OPENAI_API_KEY": Plant(MD, "The staging model key is {v} (rotated monthly).", "env:OPENAI_API_KEY"),
    "GITHUB_TOKEN": Plant(PY, "# deploy bot token: {v}", "env:GITHUB_TOKEN"),
}
assert set(PLANTS) == set(CANARIES)
FORMATS = len(CANARIES) + len(ENV_CANARIES)
# Every canary in its context line: what a leaky model or a buggy path would repeat (a bare
# "hunter2" is a password only next to its name; no detector can tell it from a word).
CONTEXT = "\n".join(PLANTS[n].line.replace("{v}", CANARIES[n]) for n in CANARIES)
MASK_SHAPE = re.compile(r"\[MASKED:[A-Za-z0-9_:\-]+\]")


def needles(values: Iterable[str]) -> list[str]:
    """Every form a canary could take in a byte stream: as is, JSON-escaped, URL-quoted, and
    each long line of a multi-line one (a key block's lines travel separately)."""
    out: set[str] = set()
    for v in values:
        out |= {v, json.dumps(v)[1:-1], quote(v, safe="")}
        out |= {line for line in v.splitlines() if len(line) >= 16 and "PRIVATE KEY" not in line}
    return sorted(out)


ALL_NEEDLES = needles([*CANARIES.values(), *ENV_CANARIES.values()])


def leaked(blob: str | bytes, extra: Iterable[str] = ()) -> list[str]:
    """The canary forms found in ``blob`` (empty: nothing leaked)."""
    text = blob.decode("utf-8", "replace") if isinstance(blob, bytes) else blob
    return [n for n in [*ALL_NEEDLES, *needles(extra)] if n in text]


def planted_files(env_plants: dict[str, Plant] = ENV_PLANTS, env: dict[str, str] = ENV_CANARIES) -> dict[str, str]:
    """The change: path -> content, every canary in its place."""
    files: dict[str, list[str]] = {
        PY: ['"""Settings for the widgets service."""', "", "import os", "", "TIMEOUT = 30"],
        JS: ["// client configuration", "export const base = '/api';"],
        YAML: ["service:", "  name: widgets", "secrets:"],
        JSONF: [],
        ENV: ["# local development"],
        MD: ["# Setup", "", "Credentials for the staging stack:", "", "```"],
        DOCKER: ["FROM python:3.12-slim@sha256:" + "ab12" * 16, "WORKDIR /app"],
        KEYFILE: [],
    }
    names: list[str] = []
    for name, plant in [*((n, PLANTS[n]) for n in CANARIES), *((n, env_plants[n]) for n in env_plants)]:
        value = CANARIES.get(name) or env[name]
        line = plant.line.replace("{v}", value)
        if plant.file == NAME:
            names.append(line)
        else:
            files[plant.file].append(line)
    files[MD] += ["```", "", "Rotate them after the demo."]
    files[DOCKER] += ["USER app", 'CMD ["python", "-m", "widgets"]']
    out = {path: "\n".join(lines) + "\n" for path, lines in files.items() if path != JSONF}
    out[JSONF] = "{\n" + "\n".join(files[JSONF]) + '\n  "region": "eu-west-1"\n}\n'
    for path in names:
        out[path] = '{"fixture": true}\n' if path.endswith(".json") else "placeholder\n"
    # A secret inside a canary-named file: the analyzer's finding carries the name as its path.
    out[names[0]] = '{"token": "' + CANARIES["openai-legacy"] + '"}\n'
    return out


# --- the masker, format by format -----------------------------------------------------------


def test_at_least_forty_formats() -> None:
    assert FORMATS >= 40
    assert len({p.kind for p in [*PLANTS.values(), *ENV_PLANTS.values()]}) >= 35


@pytest.mark.parametrize("name", sorted(CANARIES))
def test_each_canary_is_masked_with_its_kind(name: str) -> None:
    plant, value = PLANTS[name], CANARIES[name]
    line = plant.line.replace("{v}", value)
    masked, count = mask_secrets(line)
    assert not leaked(masked), masked
    assert count >= 1
    assert f"[MASKED:{plant.kind}" in masked, masked
    assert all(MASK_SHAPE.fullmatch(m) for m in re.findall(r"\[MASKED:[^\]]*\]", masked))
    # The text around it stays readable.
    prefix = plant.line.split("{v}")[0]
    assert masked.startswith(prefix[: max(0, len(prefix) - 12)])


def test_every_detect_secrets_plugin_masks_with_a_kind_and_a_prefilter() -> None:
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    from tokyo_cli.safety import masking

    plugins = {cls.__name__ for cls in get_mapping_from_secret_type_to_class().values()}
    assert len(plugins) >= 27
    assert plugins <= set(masking._DS_KINDS)  # a new plugin still masks, named after its type
    assert plugins - {"KeywordDetector", "Base64HighEntropyString", "HexHighEntropyString"} <= set(masking._DS_FILTERS)


def test_environment_values_are_masked_when_set(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV_CANARIES.items():
        line = ENV_PLANTS[name].line.replace("{v}", value)
        assert mask_secrets(line)[0] == line  # not set: nothing marks it as a secret
        monkeypatch.setenv(name, value)
        assert mask_secrets(line)[0] == ENV_PLANTS[name].line.replace("{v}", f"[MASKED:env:{name}]")
    monkeypatch.setenv("SHORT_TOKEN", "abc1234")  # under 8 characters: left alone
    monkeypatch.setenv("PAYMENTS_SECRET", "payments-secret-value")
    monkeypatch.setenv("HOME_DIR", "/home/someone-else")  # not a secret name
    text = "abc1234 payments-secret-value /home/someone-else"
    assert mask_secrets(text)[0] == "abc1234 [MASKED:env:PAYMENTS_SECRET] /home/someone-else"
    monkeypatch.setenv("PAYMENTS_SECRET", "rotated-value-2")  # read at call time
    rotated = mask_secrets("rotated-value-2 payments-secret-value")[0]
    assert rotated == "[MASKED:env:PAYMENTS_SECRET] payments-secret-value"


@pytest.mark.parametrize(
    "line",
    [
        "      - uses: actions/checkout@b4ffde65f46336ab88eb53be808477a3936bae11  # v4.1.1",
        '    "resolved": "https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz",',
        '    "integrity": "sha512-XI5MPzVNApjAyhQzphX8BkmKsKUxD4LdyK24iZeQkvVhZMhuO1n2Sgy2DFiF6LH2q2bRfaO7Ij2L3pL1'
        'omC0Aw==",',
        'checksum = "0e1c2b3a4f5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7"',
        '{file = "widgets-1.0-py3-none-any.whl", '
        'hash = "sha256:9b2ee5d4c3a2b1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6"}',
        '  "rev": "3f786850e387550fdab836ed7e6dc881de23001b",',
        "github.com/pkg/errors v0.9.1 h1:FEBLx1zS214owpjy7qsBeixbURkuhQAwrK5UwLGTwt4=",
        "requests==2.31.0 --hash=sha256:58cd2187c01e70e6e26505bca751777aa9f2ee0b7f4300988b709f44e013003f",
        "<!-- tokyo:fp=0123456789abcdef -->",
        "token = os.environ['GITHUB_TOKEN']",
        'password = request.form.get("password")',
        "client = Client(api_key=api_key, timeout=30)",
        "MAX_TOKENS = 4096",
        "KEYWORDS: Dict[str, int] = {}",
        'headers = {"Authorization": f"Bearer {token}"}',
        'tokenizer = "cl100k_base"',
        'content_type = "application/x-www-form-urlencoded"',
        "self._consecutive_failures[key] = 0",
    ],
)
def test_digests_pinned_actions_and_ordinary_code_are_left_alone(line: str) -> None:
    assert mask_secrets(line) == (line, 0)


def test_a_lockfile_keeps_its_checksums() -> None:
    lock = "\n".join(
        f'[[package]]\nname = "pkg{i}"\nversion = "1.{i}.0"\nchecksum = "{_rnd(64, HEX)}"\n'
        f'source = "git+https://github.com/acme/pkg{i}?rev={_rnd(40, HEX)}#{_rnd(40, HEX)}"'
        for i in range(20)
    )
    assert mask_secrets(lock) == (lock, 0)


def test_masking_is_idempotent_and_counts_each_secret_once() -> None:
    text = "\n".join(PLANTS[n].line.replace("{v}", CANARIES[n]) for n in sorted(CANARIES))
    masked, count = mask_secrets(text)
    assert not leaked(masked)
    assert count >= len(CANARIES) - 3  # file-name plants are lines here too; nothing counted twice
    assert mask_secrets(masked) == (masked, 0)
    assert count == len(MASK_SHAPE.findall(masked))


def test_mask_data_masks_every_string_and_keeps_shapes() -> None:
    stripe = CANARIES["stripe-live"]

    class Pair(NamedTuple):
        left: str
        right: int

    data = {stripe: [("ok", Pair(stripe, 3)), {"n": 1, "s": f"key {stripe}"}], "plain": None}
    masked = mask_data(data)
    assert masked == {
        "[MASKED:stripe-key]": [("ok", Pair("[MASKED:stripe-key]", 3)), {"n": 1, "s": "key [MASKED:stripe-key]"}],
        "plain": None,
    }
    assert isinstance(masked["[MASKED:stripe-key]"][0][1], Pair)
    clean = {"a": ["b", ("c", 1)]}
    assert mask_data(clean) is clean  # nothing to mask: the same object back
    f = _finding(title=f"Key {stripe}", body="body")
    g = mask_data(f)
    assert isinstance(g, Finding) and g.title == "Key [MASKED:stripe-key]" and g.body == "body"
    with pytest.raises(TypeError):
        mask_secrets(b"bytes")  # type: ignore[arg-type]


def test_redact_recomputes_the_fingerprint_from_the_masked_text() -> None:
    line = PLANTS["stripe-live"].line
    raw = _finding(title="Hard-coded key", anchor_text=line.replace("{v}", CANARIES["stripe-live"]))
    masked = redact(raw)
    assert masked.anchor_text == 'STRIPE_SECRET_KEY = "[MASKED:stripe-key]"'
    assert masked.fingerprint != raw.fingerprint
    again = redact(_finding(title="Hard-coded key", anchor_text=line.replace("{v}", "sk_" + "live_" + _rnd(24))))
    assert again.fingerprint == masked.fingerprint  # a rotated key: the same finding
    assert redact(masked) is masked


def test_model_output_is_masked_before_it_is_truncated() -> None:
    key = CANARIES["anthropic"]
    title = "x" * 250 + " " + key  # the 300-character cut falls inside the key
    out = AgentOutput.model_validate(
        {
            "findings": [
                {
                    "path": "a.py",
                    "line": 1,
                    "severity": "high",
                    "title": title,
                    "body": key,
                    "suggestion": key,
                    "category": key[:90],
                }
            ],
            "summary": "see " + key,
        }
    )
    f = out.findings[0]
    for text in (f.title, f.body, f.suggestion or "", f.category, out.summary):
        assert key[:20] not in text, text


def test_masking_is_thread_safe_next_to_the_detect_secrets_analyzer(git_repo: GitRepo) -> None:
    from tokyo_cli.analyzers.base import run_analyzers
    from tokyo_cli.git.repo import load_changeset, resolve_target

    files = planted_files()
    git_repo.write("README.md", "# widgets\n")
    git_repo.commit("base")
    for path, content in files.items():
        git_repo.write(path, content)
    cs = load_changeset(git_repo.root, resolve_target(git_repo.root, working=True))
    texts = list(files.values()) * 6
    serial = [mask_secrets(t) for t in texts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        scans = [pool.submit(run_analyzers, ["detect-secrets"], cs, cs.reviewable(), agent="akira") for _ in range(3)]
        parallel = list(pool.map(mask_secrets, texts))
        runs = [s.result(timeout=120)[0] for s in scans]
    assert parallel == serial
    for run in runs:
        assert run.error is None and run.findings
        for f in run.findings:
            assert not leaked(f.model_dump_json(exclude={"path"})), f  # paths: masked with the run
            assert "[MASKED:secret]" not in f.anchor_text  # the masker caught what detect-secrets found
    assert sorted(f.fingerprint for f in runs[0].findings) == sorted(f.fingerprint for f in runs[1].findings)


# --- every exit, given an unmasked run ----------------------------------------------------------


def _finding(**kw: Any) -> Finding:
    base: dict[str, Any] = {
        "path": "src/app/settings.py",
        "line": 3,
        "severity": Severity.HIGH,
        "title": "t",
        "agent": "akira",
    }
    return Finding(**{**base, **kw})


def _unmasked_result() -> RunResult:
    """A run result built around the masker (as a buggy path could): canaries in every field."""
    blob = CONTEXT
    one = CANARIES["github-classic"]
    f = _finding(
        title="Leaked " + one,
        body=blob,
        suggestion=CANARIES["stripe-live"],
        anchor_text=one,
        path=f"fixtures/{CANARIES['github-oauth']}.json",
        fingerprint="0123456789abcdef",
    )
    step = StepResult(
        step_id="security",
        agent="akira",
        agent_name="Akira",
        status="ok",
        model="gpt-4o",
        findings=[f],
        summary="Summary " + blob,
        error="provider said " + one,
        files=[f.path],
        not_reviewed={f"keys/{CANARIES['stripe-test']}.txt": "budget"},
    )
    return RunResult(
        repo="/tmp/widgets",
        target="working",
        target_description="working tree " + one,
        workflow="review",
        status="completed",
        started_at=datetime(2026, 1, 2, tzinfo=UTC),
        finished_at=datetime(2026, 1, 2, 0, 1, tzinfo=UTC),
        steps=[step],
        findings=[f],
        summary=blob,
        notices=["notice " + one],
    )


def test_every_report_format_masks_an_unmasked_run() -> None:
    from rich.console import Console

    from tokyo_cli.report.jsonout import render_json
    from tokyo_cli.report.markdown import render_markdown
    from tokyo_cli.report.sarif import render_sarif
    from tokyo_cli.report.terminal import render_terminal

    result = _unmasked_result()
    assert leaked(result.model_dump_json())  # the test can fail: the canaries are there
    console = Console(record=True, width=300, color_system=None)
    render_terminal(result, console)
    outputs = {
        "terminal": console.export_text(),
        "markdown": render_markdown(result),
        "json": render_json(result),
        "sarif": render_sarif(result),
    }
    for fmt, text in outputs.items():
        assert not leaked(text), fmt
        assert "[MASKED:github-token]" in text, fmt
    assert isinstance(json.loads(outputs["json"]), dict) and isinstance(json.loads(outputs["sarif"]), dict)


def test_history_masks_an_unmasked_run(tmp_path: Path) -> None:
    from tokyo_cli.store.db import open_db
    from tokyo_cli.store.history import load_run, save_run

    db = open_db(tmp_path / "history.db")
    result = _unmasked_result()
    run_id = save_run(db, result)
    assert result.run_id == run_id
    assert not leaked(load_run(db, run_id).model_dump_json())
    db.conn.close()
    assert_database_clean(tmp_path / "history.db")


def test_github_requests_mask_an_unmasked_body(fake_github: FakeGitHub) -> None:
    from tokyo_cli.github.client import GitHubClient

    fake_github.set_pull(7, "a" * 40, [])
    with GitHubClient(fake_github.url, TOKEN) as client:
        client.create_issue_comment("acme", "widgets", 7, "Found " + CONTEXT)
    (posted,) = [r for r in fake_github.requests if r.method == "POST"]
    assert not leaked(json.dumps(posted.body)) and "[MASKED:stripe-key]" in posted.body["body"]


@pytest.mark.slow
def test_provider_requests_are_masked_by_the_gateway(fake_provider: FakeProvider) -> None:
    from tokyo_cli.llm.gateway import Gateway, LLMRequest

    fake_provider.script("", {"findings": [], "summary": "ok"})
    request = LLMRequest(
        model="gpt-4o",
        messages=[
            {"role": "system", "content": "rules"},
            {"role": "user", "content": CONTEXT},  # as if a path had skipped prompt masking
        ],
    )
    response = asyncio.run(Gateway(api_base=fake_provider.url, timeout_s=10).complete(request))
    assert response.content
    assert fake_provider.raw_bodies and not leaked(b"".join(fake_provider.raw_bodies))
    assert request.messages[1]["content"] == CONTEXT  # the caller's copy untouched


# --- end to end ---------------------------------------------------------------------------------


FILE_HEADER = re.compile(r"^FILE: (\S+) \(")
ADDED_LINE = re.compile(r"^\s*(\d+) \+ ")
RAW_LEAK = CONTEXT  # what the leaky model repeats in every reply


def leaky_model(body: dict[str, Any]) -> dict[str, Any]:
    """A fake model that echoes its prompt into findings on the first added line of every
    file it was shown, and repeats every canary in titles, bodies, suggestions and summary."""
    prompt = message_text(body)
    if "You write the walkthrough of a change" in prompt:  # a describe step (tokyo describe)
        return {
            "title": "Echo " + CANARIES["github-classic"],
            "overview": "Echo overview " + prompt[-800:],
            "description": "I know:\n" + RAW_LEAK,
            "risk_areas": [RAW_LEAK[:200]],
            "files": [
                {"path": m.group(1), "summary": "Echo " + CANARIES["stripe-live"]}
                for m in (FILE_HEADER.match(x) for x in prompt.splitlines())
                if m
            ],
        }
    if "Other agents reviewed the change" in prompt:
        return {"summary": "SYNTHESIS echo: " + prompt[-800:] + "\n" + RAW_LEAK, "duplicates": [], "findings": []}
    findings: list[dict[str, Any]] = []
    current: str | None = None
    for line in prompt.splitlines():
        header = FILE_HEADER.match(line)
        if header:
            current = header.group(1)
            continue
        added = ADDED_LINE.match(line)
        if added and current:
            findings.append(
                {
                    "path": current,
                    "line": int(added.group(1)),
                    "severity": "high",
                    "category": "security",
                    "title": "Echo " + line.strip()[:80] + " " + CANARIES["github-classic"],
                    "body": "I was shown:\n" + line + "\nand I know:\n" + RAW_LEAK,
                    "suggestion": CANARIES["stripe-live"],
                }
            )
            current = None
    return {"findings": findings[:20], "summary": "Echo summary " + prompt[:400] + "\n" + RAW_LEAK}


def build_change(repo: GitRepo) -> dict[str, str]:
    """Commit a clean base, then write the canary-laden change (uncommitted)."""
    repo.write("README.md", "# widgets\n\nA small service.\n")
    repo.write(PY, '"""Settings for the widgets service."""\n\nimport os\n\nTIMEOUT = 30\n')
    repo.commit("base")
    files = planted_files()
    for path, content in files.items():
        repo.write(path, content)
    return files


def assert_database_clean(path: Path, extra: Iterable[str] = ()) -> None:
    raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    assert raw and not leaked(raw, extra)
    con = sqlite3.connect(path)
    try:
        tables = [r[0] for r in con.execute("select name from sqlite_master where type = 'table'")]
        rows = 0
        for table in tables:
            for row in con.execute(f'select * from "{table}"'):
                rows += 1
                assert not leaked(repr(row), extra), table
        assert rows
    finally:
        con.close()


def provider_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV_CANARIES.items():
        monkeypatch.setenv(name, value)


def assert_provider_clean(fp: FakeProvider, extra: Iterable[str] = ()) -> None:
    assert fp.raw_bodies, "no request reached the fake provider"
    for raw in fp.raw_bodies:
        assert not leaked(raw, extra)
    # The key travels in the header, where it belongs, and nowhere else.
    assert all(h.get("authorization") == "Bearer " + ENV_CANARIES["OPENAI_API_KEY"] for _, h in fp.requests)


def packaged_workflows() -> list[str]:
    """Every packaged review workflow (``describe`` reviews nothing: its own test below)."""
    return sorted(p.stem for p in (Path(__file__).parent.parent / "workflows").glob("*.yaml") if p.stem != "describe")


@pytest.mark.parametrize("workflow", packaged_workflows())
def test_no_canary_leaves_through_any_exit(
    workflow: str,
    git_repo: GitRepo,
    cli: RunCli,
    fake_provider: FakeProvider,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    provider_env(monkeypatch)
    files = build_change(git_repo)
    fake_provider.script("", leaky_model)

    code, out, err = cli("review", str(git_repo.root), "-w", workflow, "--api-base", fake_provider.url)

    assert code == 1, err
    sent = b"\n".join(fake_provider.raw_bodies).decode()
    # The change reached the model (masked): every file, under its masked name if need be.
    for path in files:
        assert mask_secrets(path)[0] in sent or workflow == "security" and path.endswith(".md"), path
    assert len(set(MASK_SHAPE.findall(sent))) >= 30
    assert_provider_clean(fake_provider)
    reports = {"stdout": out, "stderr": err}
    code, listing, _ = cli("history", "--json")
    run_id = json.loads(listing)[0]["id"]
    for fmt in ("terminal", "markdown", "json", "sarif"):
        code, text, err2 = cli("show", str(run_id), "-f", fmt)
        assert code == 0, err2
        reports[f"show {fmt}"], reports[f"show {fmt} stderr"] = text, err2
    report = json.loads(reports["show json"])
    echoed = [f for f in report["findings"] if f["title"].startswith("Echo")]
    assert echoed and all("[MASKED:github-token]" in f["title"] for f in echoed)  # the model did repeat them
    assert any(f["rule"] == "detect-secrets:AWSKeyDetector" for f in report["findings"])
    for name, text in reports.items():
        assert not leaked(text), name
    assert not leaked(caplog.text)
    assert_database_clean(Path(os.environ["TOKYO_HOME"]) / "history.db")


def test_no_canary_leaves_through_a_walkthrough(
    git_repo: GitRepo,
    cli: RunCli,
    fake_provider: FakeProvider,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """``tokyo describe``: the describe prompt, the walkthrough in every format, its run in
    history — with a model that repeats every secret it can."""
    caplog.set_level(logging.DEBUG)
    provider_env(monkeypatch)
    build_change(git_repo)
    fake_provider.script("", leaky_model)
    outputs = {}
    for fmt in ("terminal", "markdown", "json"):
        code, out, err = cli("describe", str(git_repo.root), "--api-base", fake_provider.url, "-f", fmt, "--no-cache")
        assert code == 0, err
        outputs[fmt], outputs[f"{fmt} stderr"] = out, err
    assert json.loads(outputs["json"])["title"].startswith("Echo [MASKED:")  # the model did repeat them
    assert_provider_clean(fake_provider)
    for name, text in outputs.items():
        assert not leaked(text), name
    assert not leaked(caplog.text)
    assert_database_clean(Path(os.environ["TOKYO_HOME"]) / "history.db")


def test_no_canary_leaves_a_streamed_run(
    git_repo: GitRepo,
    fake_provider: FakeProvider,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from tokyo_cli.config.settings import load_settings
    from tokyo_cli.engine.review import ReviewRequest, prepare_review, run_review_blocking
    from tokyo_cli.engine.runview import RunView

    caplog.set_level(logging.DEBUG)
    provider_env(monkeypatch)
    build_change(git_repo)
    fake_provider.script("", leaky_model)
    settings = load_settings(api_base=fake_provider.url)
    prepared = prepare_review(ReviewRequest(repo=git_repo.root, working=True), settings)
    view = RunView()
    tails: list[str] = []  # the live panel's text after each delta
    finished: list[str] = []  # ... and after each call's last delta
    texts: list[str] = []

    def listen(event: ev.Event) -> None:
        before = view.step(event.step_id).streamed if isinstance(event, ev.CallFinished) else ""
        step = view.apply(event, now=0.0)
        if isinstance(event, ev.CallText) and step is not None:
            texts.append(event.text)
            tails.append(step.streamed)
        if isinstance(event, ev.CallFinished):
            finished.append(before)

    outcome = run_review_blocking(prepared, settings, listen, stream=True)

    assert outcome.result.status == "completed" and outcome.store_error is None
    assert fake_provider.requests and all(body.get("stream") is True for body, _ in fake_provider.requests)
    assert_provider_clean(fake_provider)
    assert leaked("".join(texts))  # the leaky model streamed its canaries ...
    # ... and the live panel masked them: every one-line format at once; a key block's short
    # last line (no format of its own) once its END line has arrived.
    one_line = [v for n, v in CANARIES.items() if "PRIVATE KEY" not in v]
    assert tails and not [t for t in tails if any(v in t for v in one_line)]
    assert finished and not [t for t in finished if leaked(t)]
    assert not leaked(outcome.result.model_dump_json()) and not leaked(caplog.text)
    assert_database_clean(Path(os.environ["TOKYO_HOME"]) / "history.db")


def test_no_canary_reaches_github(
    git_repo: GitRepo,
    cli: RunCli,
    fake_provider: FakeProvider,
    fake_github: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    env_plants = {**ENV_PLANTS, "GITHUB_TOKEN": Plant(PY, "# deploy bot token: {v}", "github-token")}
    git_repo.write("README.md", "# widgets\n")
    git_repo.write(PY, '"""Settings for the widgets service."""\n\nimport os\n\nTIMEOUT = 30\n')
    base = git_repo.commit("base")
    git_repo.checkout_branch("feature")
    for path, content in planted_files(env_plants, {**ENV_CANARIES, "GITHUB_TOKEN": TOKEN}).items():
        git_repo.write(path, content)
    head = git_repo.commit("add configuration")
    fake_github.set_pull(7, head, files_from_git(git_repo.root, base, head))
    paths = {name: tmp_path / name for name in ("event.json", "summary.md", "output.txt", "tokyo.sarif")}
    paths["event.json"].write_text(
        json.dumps(
            {
                "action": "opened",
                "number": 7,
                "pull_request": {
                    "number": 7,
                    "draft": False,
                    "title": "Add configuration",
                    "state": "open",
                    "base": {"sha": base, "ref": "main", "repo": {"full_name": "acme/widgets"}},
                    "head": {"sha": head, "ref": "feature", "repo": {"full_name": "acme/widgets"}},
                },
                "repository": {"full_name": "acme/widgets"},
            }
        ),
        encoding="utf-8",
    )
    for name, value in {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(paths["event.json"]),
        "GITHUB_API_URL": fake_github.url,
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "acme/widgets",
        "GITHUB_RUN_ID": "4242",
        "GITHUB_STEP_SUMMARY": str(paths["summary.md"]),
        "GITHUB_OUTPUT": str(paths["output.txt"]),
        "OPENAI_API_KEY": ENV_CANARIES["OPENAI_API_KEY"],
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    fake_provider.script("", leaky_model)

    code, out, err = cli(
        "review",
        str(git_repo.root),
        "--github",
        "--api-base",
        fake_provider.url,
        "-f",
        "sarif",
        "-o",
        str(paths["tokyo.sarif"]),
    )

    assert code == 1, err
    assert fake_github.violations == []
    posted = [r for r in fake_github.requests if r.method in ("POST", "PATCH")]
    assert {r.path.rsplit("/", 1)[-1] for r in posted} == {"reviews", "comments"}
    bodies = json.dumps([r.body for r in fake_github.requests])
    assert "[MASKED:" in bodies and "Echo" in bodies
    assert not leaked(bodies, [TOKEN])
    assert all(r.headers.get("authorization") == f"Bearer {TOKEN}" for r in fake_github.requests)
    assert_provider_clean(fake_provider, [TOKEN])
    for name in ("summary.md", "output.txt", "tokyo.sarif"):
        assert not leaked(paths[name].read_text(encoding="utf-8"), [TOKEN]), name
    assert not leaked(out + err + caplog.text, [TOKEN])
    assert_database_clean(Path(os.environ["TOKYO_HOME"]) / "history.db", [TOKEN])
