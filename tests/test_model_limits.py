"""Models as they really are: --model brings its own context window and output cap (litellm's
model map, or --context-window for a model the map does not know), and packing follows it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from fakes.gitrepo import GitRepo
from fakes.provider import FakeProvider
from tokyo_cli.config.team import Team, load_team
from tokyo_cli.engine.modelfit import fit_team
from tokyo_cli.errors import ConfigError
from tokyo_cli.llm.pricing import model_limits

RunCli = Callable[..., tuple[int, str, str]]

COMMON_MODELS = [
    "gpt-4o",
    "openai/gpt-4o-mini",
    "gpt-4.1",
    "gpt-5",
    "o3",
    "o4-mini",
    "claude-sonnet-4-5",
    "anthropic/claude-opus-4-5",
    "gemini/gemini-2.5-flash",
    "gemini-2.5-pro",
    "vertex_ai/gemini-2.5-pro",
    "mistral/mistral-large-latest",
    "deepseek/deepseek-chat",
    "perplexity/sonar",
    "azure/gpt-4o",
    "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0",
    "anthropic.claude-3-5-sonnet-20240620-v1:0",
    "meta.llama3-70b-instruct-v1:0",
    "together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo",
    "ollama/llama3",
    "ollama/llama3.1",
    "ollama_chat/llama3.1",
    "xai/grok-4",
    "qwen2.5-coder",
    "hosted_vllm/foo",
]


def team_models() -> list[str]:
    """Every model id and fallback of the packaged agents.yaml."""
    return sorted({m for a in load_team(None).agents.values() for m in a.models})


def test_model_limits_agree_with_litellm_get_model_info() -> None:
    from tokyo_cli.llm.gateway import _litellm

    litellm = _litellm()
    checked = 0
    for model in [*team_models(), *COMMON_MODELS]:
        try:
            info = litellm.get_model_info(model)
        except Exception:  # litellm does not map it (a local model): neither do we
            assert model_limits(model) is None, model
            continue
        ours = model_limits(model)
        if info.get("max_input_tokens") is None:
            assert ours is None, model
            continue
        assert ours is not None, model
        assert (ours.context_window, ours.max_output_tokens) == (
            info["max_input_tokens"],
            info.get("max_output_tokens") or info["max_tokens"],
        ), model
        checked += 1
    assert checked >= 20


def test_a_mapped_model_replaces_every_agents_window_and_caps_the_output() -> None:
    team, notices = fit_team(load_team(None), "ollama/llama3")
    assert {(a.context_window, a.max_output_tokens) for a in team.agents.values()} == {(8192, 2048)}
    assert notices == [
        "ollama/llama3: prompts packed for a 8,192-token context window (litellm's model map), output cap 2,048 tokens"
    ]
    big, _ = fit_team(load_team(None), "openai/gpt-4o-mini")  # 128k window, 16k cap: the agents' own caps stay
    assert {a.id: a.max_output_tokens for a in big.agents.values()} == {
        a.id: min(a.max_output_tokens, 16384) for a in load_team(None).agents.values()
    }
    assert {a.context_window for a in big.agents.values()} == {128_000}


def test_an_unknown_model_keeps_the_agents_windows_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    packaged = load_team(None)
    team, notices = fit_team(packaged, "ollama_chat/my-local")
    assert [a.context_window for a in team.agents.values()] == [a.context_window for a in packaged.agents.values()]
    assert notices == [
        "ollama_chat/my-local is not in litellm's model map: packing uses each agent's own context "
        "window (--context-window N gives this model's)"
    ]
    team, notices = fit_team(packaged, "ollama_chat/my-local", context_window=16_384)
    assert {(a.context_window, a.max_output_tokens) for a in team.agents.values()} == {(16_384, 4_096)}
    assert notices == [
        "ollama_chat/my-local: prompts packed for a 16,384-token context window (--context-window), "
        "output cap 4,096 tokens"
    ]
    team, _ = fit_team(packaged, None, max_output_tokens=1000)
    assert {a.max_output_tokens for a in team.agents.values()} == {1000}
    assert fit_team(packaged, None) == (packaged, [])


def test_an_output_cap_that_leaves_no_prompt_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="leaves less than 1024 tokens of the 4096-token context window"):
        fit_team(load_team(None), "x/local", context_window=4096, max_output_tokens=3500)


def _akira_requests(fp: FakeProvider) -> list[int]:
    """The size (characters of every message) of each request made for Akira's step."""
    sizes = []
    for body, _ in fp.requests:
        system = " ".join(m["content"] for m in body["messages"] if m["role"] == "system")
        if "Akira" in system:
            sizes.append(sum(len(m["content"]) for m in body["messages"]))
    return sizes


def test_an_8k_model_packs_more_smaller_chunks_than_the_200k_default(
    git_repo: GitRepo, cli: RunCli, fake_provider: FakeProvider, tmp_path: Path
) -> None:
    git_repo.write("README.txt", "start\n")
    git_repo.commit("base")
    for i in range(30):  # ~60 KB of plain text: one call at 200k, many at 8k
        git_repo.write(f"notes/n{i:02}.txt", "".join(f"line {j} of note {i}: nothing secret here\n" for j in range(50)))
    workflow = tmp_path / "one.yaml"
    workflow.write_text("name: one\nsteps:\n  - {id: sec, agent: akira}\n")
    base = [
        "review",
        str(git_repo.root),
        "--working",
        "--api-base",
        fake_provider.url,
        "--workflow",
        str(workflow),
        "--format",
        "json",
        "--no-cache",
    ]

    code, out, err = cli(*base)
    assert code == 0, err
    default = _akira_requests(fake_provider)
    fake_provider.requests.clear()
    code, out, err = cli(*base, "--model", "ollama/llama3")
    assert code == 0, err
    small = _akira_requests(fake_provider)
    notices = json.loads(out)["run"]["notices"]
    assert (
        "ollama/llama3: prompts packed for a 8,192-token context window (litellm's model map), output cap 2,048 tokens"
        in notices
    )
    assert len(default) == 1 and len(small) > 5
    assert max(small) < default[0] / 4
    assert all(body["max_tokens"] == 2048 for body, _ in fake_provider.requests)
    fake_provider.requests.clear()
    code, out, err = cli(*base, "--model", "openai/my-local", "--context-window", "16384")
    assert code == 0, err
    assert 1 < len(_akira_requests(fake_provider)) < len(small)


def test_team_models_are_all_in_the_map() -> None:
    """Every packaged model has limits in the map, so --model with one of them is sized by it."""
    assert all(model_limits(m) is not None for m in team_models())
    assert isinstance(load_team(None), Team)
