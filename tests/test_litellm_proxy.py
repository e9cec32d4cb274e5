"""A real LiteLLM Proxy on 127.0.0.1 in front of the fake provider, as the shared gateway.

The proxy (litellm 1.109.3's, from requirements/litellm-proxy.txt: ``.ci/run`` installs it
into ``.venv-proxy``; ``TOKYO_TEST_LITELLM`` may name another ``litellm`` executable) runs with
no database: a proxy-wide, key or team budget needs PostgreSQL through Prisma, whose engine
binaries Prisma downloads from its own servers at ``prisma generate``, which no install here
can reach. What the proxy enforces without a database, in memory, is a deployment budget
(``litellm_params.max_budget``): past it, the proxy answers HTTP 429 "No deployments
available - crossed budget", which tokyo must take as a budget stop, not a rate limit to retry.

The run: Akira reviews (its model's deployment has no budget), then Kenji synthesises through
a deployment whose budget a warm-up already spent (the test waits until the proxy refuses a
probe, so nothing races the proxy's own spend bookkeeping). tokyo reports the budget stop and
keeps every finding made before it; the cost of each call is the proxy's
``x-litellm-response-cost``, not litellm's list price.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from fakes.gitrepo import GitRepo
from fakes.provider import FakeProvider

ROOT = Path(__file__).resolve().parents[1]
MASTER_KEY = "sk-tokyo-proxy-test-master-0123456789"
INPUT_USD, OUTPUT_USD = 0.0001, 0.0002  # per token, the proxy's own prices (model_info)
REVIEW_REPLY = {
    "summary": "one finding",
    "findings": [
        {
            "path": "app/db.py",
            "line": 5,
            "severity": "high",
            "category": "security",
            "title": "SQL built from user input",
            "body": "Use a parameterised query.",
        }
    ],
}


def proxy_executable() -> str | None:
    named = os.environ.get("TOKYO_TEST_LITELLM")
    if named:
        return named
    local = ROOT / ".venv-proxy" / "bin" / "litellm"
    return str(local) if local.exists() else shutil.which("litellm-proxy-for-tests")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def config(upstream: str, spent_models: tuple[str, ...]) -> str:
    """Deployments for the wire names of Akira's and Kenji's models (``--api-base`` strips a
    provider prefix); ``spent_models`` get a deployment budget of $0.000001."""
    lines = ["model_list:"]
    for name in ("claude-opus-4-5", "claude-sonnet-4-5", "o3", "o4-mini"):
        lines += [
            f"  - model_name: {name}",
            "    litellm_params:",
            f"      model: openai/{name}",
            f"      api_base: {upstream}",
            "      api_key: fake-upstream-key",
        ]
        if name in spent_models:
            lines += ["      max_budget: 0.000001", "      budget_duration: 30d"]
        lines += [
            "    model_info:",
            f"      input_cost_per_token: {INPUT_USD}",
            f"      output_cost_per_token: {OUTPUT_USD}",
        ]
    lines += ["litellm_settings:", "  telemetry: false", "general_settings:", f"  master_key: {MASTER_KEY}"]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeProvider]:
    with FakeProvider.start() as fp:
        yield fp


@pytest.fixture(scope="module")
def proxy(upstream: FakeProvider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    exe = proxy_executable()
    if exe is None:  # the README's test command installs it; a missing proxy is no pass
        pytest.fail(
            "no LiteLLM Proxy: python3 -m venv .venv-proxy && .venv-proxy/bin/pip install "
            "-r requirements/litellm-proxy.txt"
        )
    work = tmp_path_factory.mktemp("proxy")
    (work / "config.yaml").write_text(config(upstream.url, ("o3", "o4-mini")), encoding="utf-8")
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(work),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "LITELLM_TELEMETRY": "False",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    log = (work / "proxy.log").open("wb")
    proc = subprocess.Popen(
        [exe, "--config", str(work / "config.yaml"), "--host", "127.0.0.1", "--port", str(port)],
        cwd=work,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # its start-up imports take ~25 s on a loaded 2-core machine
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the proxy exited ({proc.returncode}): {(work / 'proxy.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/health/liveliness", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the proxy did not start in 180 s: {(work / 'proxy.log').read_text()[-2000:]}")
            time.sleep(0.5)
        spend_the_budget(url, "o3")
        spend_the_budget(url, "o4-mini")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def spend_the_budget(url: str, model: str) -> None:
    """Call ``model`` until the proxy refuses it for its budget (the proxy books spend after
    answering; waiting for its refusal is waiting on the condition, not on a clock)."""
    for _ in range(100):
        r = httpx.post(
            f"{url}/v1/chat/completions",
            headers={"Authorization": f"Bearer {MASTER_KEY}"},
            json={"model": model, "messages": [{"role": "user", "content": "warm-up"}]},
            timeout=30,
        )
        if r.status_code == 429 and "budget" in r.text:
            return
        assert r.status_code == 200, r.text
        time.sleep(0.1)
    pytest.fail(f"the proxy never refused {model} for its budget")


@pytest.fixture
def change(git_repo: GitRepo) -> GitRepo:
    git_repo.write(
        "app/db.py",
        "import sqlite3\n\n\ndef find(conn, name):\n"
        '    return conn.execute("SELECT * FROM users WHERE name = \'" + name + "\'")\n',
    )
    git_repo.commit("db")
    (git_repo.root / "workflow.yaml").write_text(
        "name: proxied\nsteps:\n  - id: security\n    agent: akira\n"
        "  - id: summary\n    agent: kenji\n    task: synthesize\n    depends_on: [security]\nfail_on: critical\n"
    )
    return git_repo


def test_a_proxy_budget_stops_the_run_part_way_and_keeps_the_findings_before_it(
    proxy: str,
    upstream: FakeProvider,
    change: GitRepo,
    cli,
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    upstream.reset()
    upstream.script("SQL", REVIEW_REPLY, usage=(400, 60))
    monkeypatch.setenv("OPENAI_API_KEY", MASTER_KEY)  # --api-base sends it: the proxy's (virtual) key
    code, out, err = cli(
        "review",
        str(change.root),
        "--all",
        "-q",
        "--no-cache",
        "--api-base",
        f"{proxy}/v1",
        "--workflow",
        str(change.root / "workflow.yaml"),
        "-f",
        "json",
    )
    report = json.loads(out)
    steps = {s["id"]: s for s in report["steps"]}
    assert steps["security"]["status"] == "ok"
    kept = [f for f in report["findings"] if f["title"] == "SQL built from user input"]
    assert kept and kept[0]["agents"] == ["akira"]  # the finding made before the stop is kept
    summary = steps["summary"]
    assert summary["status"] == "skipped" and "budget exceeded (HTTP 429)" in summary["error"]
    assert [c["status"] for c in summary["calls"]] == ["skipped"]  # refused: no provider crash
    assert report["run"]["status"] == "partial" and code == 0
    assert any(n.startswith("budget stop: the gateway refused") for n in report["run"]["notices"])
    assert "provider error" not in json.dumps(report) and "rate limited" not in json.dumps(report)
    # the cost is the proxy's (x-litellm-response-cost at its prices), not Anthropic's list price
    (call,) = steps["security"]["calls"]
    assert call["tokens_in"] == 400 and call["tokens_out"] == 60
    assert call["cost_usd"] == pytest.approx(400 * INPUT_USD + 60 * OUTPUT_USD)
    assert MASTER_KEY not in out + err


def test_litellm_proxy_model_ids_reach_the_proxy_with_its_cost(
    proxy: str,
    upstream: FakeProvider,
    change: GitRepo,
    cli,
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    """``litellm_proxy/<model>``: litellm's own route to a proxy (LITELLM_PROXY_API_BASE and
    LITELLM_PROXY_API_KEY), no --api-base."""
    upstream.reset()
    upstream.script("SQL", REVIEW_REPLY, usage=(300, 50))
    monkeypatch.setenv("LITELLM_PROXY_API_BASE", proxy)
    monkeypatch.setenv("LITELLM_PROXY_API_KEY", MASTER_KEY)
    code, out, _ = cli(
        "review",
        str(change.root),
        "--all",
        "-q",
        "--no-cache",
        "--model",
        "litellm_proxy/claude-opus-4-5",
        "--workflow",
        str(change.root / "workflow.yaml"),
        "-f",
        "json",
    )
    report = json.loads(out)
    calls = [c for s in report["steps"] for c in s["calls"]]
    assert [c["model"] for c in calls] == ["litellm_proxy/claude-opus-4-5"] * 2  # review, then synthesis
    assert calls[0]["cost_usd"] == pytest.approx(300 * INPUT_USD + 50 * OUTPUT_USD)
    assert any(f["title"] == "SQL built from user input" for f in report["findings"])


# --- the proxy's refusals that need its database, answered by the fake as the proxy does ----

GLOBAL_BUDGET = {
    "error": {
        "message": "Budget has been exceeded! Current cost: 1.2034, Max budget: 1.0",
        "type": "budget_exceeded",
        "param": None,
        "code": "400",
    }
}


@pytest.mark.parametrize(
    "status, body",
    [
        (400, GLOBAL_BUDGET),  # proxy-wide, key, user or team budget (docs.litellm.ai/docs/proxy/users)
        (429, {"error": {"message": "Max budget limit reached.", "type": "None", "param": None, "code": "429"}}),
    ],
)
def test_a_budget_refusal_is_a_budget_stop_never_retried_nor_sent_again(
    status: int, body: dict[str, object], fake_provider: FakeProvider
) -> None:
    import asyncio

    from tokyo_cli.errors import BudgetExceeded
    from tokyo_cli.llm.gateway import Gateway, LLMRequest

    fake_provider.script("", body, status=status)
    gateway = Gateway(api_base=fake_provider.url, retries=3)
    request = LLMRequest(model="gpt-4o-mini", messages=[{"role": "user", "content": "review this"}])

    async def two_calls() -> list[BaseException]:
        out = []
        for _ in range(2):
            try:
                await gateway.complete(request, fallbacks=["o4-mini"])
            except BaseException as exc:  # noqa: BLE001 - the test inspects what came back
                out.append(exc)
        return out

    first, second = asyncio.run(two_calls())
    assert isinstance(first, BudgetExceeded) and isinstance(second, BudgetExceeded)
    assert f"gpt-4o-mini: budget exceeded (HTTP {status}) at {fake_provider.url}" in str(first)
    assert len(fake_provider.requests) == 1  # no retry, no fallback, nothing after the stop
    assert gateway.budget_stops == 4  # two models refused in each of the two calls


def test_a_plain_rate_limit_from_a_proxy_is_still_retried(fake_provider: FakeProvider) -> None:
    import asyncio

    from tokyo_cli.llm.gateway import Gateway, LLMRequest

    fake_provider.script(
        "",
        {
            "error": {
                "message": "No deployments available for selected model, Try again in 1 seconds. rpm limit=1",
                "type": "None",
                "code": "429",
            }
        },
        status=429,
        times=1,
        headers={"retry-after": "0"},
    )
    gateway = Gateway(api_base=fake_provider.url, retries=2)
    request = LLMRequest(model="gpt-4o-mini", messages=[{"role": "user", "content": "review this"}])
    response = asyncio.run(gateway.complete(request))
    assert response.attempts == 2 and gateway.budget_stops == 0


def test_a_gateway_reported_cost_wins_over_the_price_map_and_feeds_the_cap(fake_provider: FakeProvider) -> None:
    import asyncio

    from tokyo_cli.llm.budget import Budget
    from tokyo_cli.llm.gateway import Gateway, LLMRequest

    fake_provider.script("", {"findings": [], "summary": "ok"}, headers={"x-litellm-response-cost": "0.25"})
    budget = Budget(max_cost_usd=10.0)
    gateway = Gateway(api_base=fake_provider.url, budget=budget)
    request = LLMRequest(model="my-proxy-model", messages=[{"role": "user", "content": "hi"}], max_tokens=100)
    response = asyncio.run(gateway.complete(request))
    assert (response.cost_usd, response.cost_source) == (0.25, "gateway")
    assert budget.spent_usd == pytest.approx(0.25) and "my-proxy-model" not in budget.unpriced_models
