"""Review at scale: token packing, the hard cost cap, the response cache and --since-last."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fakes.gitrepo import GitRepo
from fakes.provider import FakeProvider
from tokyo_cli.config.team import load_team
from tokyo_cli.engine.packing import TokenMeter, pack, risk_rank
from tokyo_cli.git.repo import load_changeset, resolve_target
from tokyo_cli.llm.budget import Budget
from tokyo_cli.llm.pricing import count_tokens, price_of, tokenizer_kind

Run = Callable[..., tuple[int, dict[str, Any]]]


@pytest.fixture
def review_json(cli: Callable[..., tuple[int, str, str]]) -> Run:
    """``tokyo ARGS -f json -q``: (exit code, parsed JSON report)."""

    def run(*args: str) -> tuple[int, dict[str, Any]]:
        code, out, _ = cli(*args, "-f", "json", "-q")
        return code, json.loads(out)

    return run


# --- tokens and packing ----------------------------------------------------------------


def test_token_counts_match_litellm_for_every_packaged_model() -> None:
    import litellm

    text = "def handler(request):\n    token = request.headers['Authorization']  # ünïcode\n" * 20
    for agent in load_team(None).agents.values():
        for model in agent.models:
            ours, theirs = count_tokens(model, [text])[0], litellm.token_counter(model=model, text=text)
            # litellm encodes in fixed-size character slices, which can split a token: +-1%.
            assert abs(ours - theirs) <= max(2, theirs // 100), (model, ours, theirs)
    assert tokenizer_kind("claude-opus-4-5") == "anthropic" and tokenizer_kind("o3") == "o200k_base"
    assert tokenizer_kind("gemini/gemini-2.5-pro") == "cl100k_base"


def test_anthropic_counts_equal_the_hugging_face_tokenizer_litellm_loads() -> None:
    """Our tiktoken form of litellm's Anthropic tokenizer must count exactly as the original."""
    from tokenizers import Tokenizer

    from tokyo_cli.llm.pricing import _litellm_dir

    path = _litellm_dir() / "litellm_core_utils" / "tokenizers" / "anthropic_tokenizer.json"  # type: ignore[operator]
    original = Tokenizer.from_file(str(path))
    root = Path(__file__).resolve().parents[1]
    corpus = [p.read_text("utf-8") for p in sorted(root.glob("src/**/*.py"))[:80]]
    corpus += [
        "héllo wörld ﬁ ① ｈｅｌｌｏ 日本語のテキスト 🎉🎉 ǅ ℌ ㍿ e\u0301 \u00a0x\r\n\ty",
        "a <EOT> b <META>c",  # the file's added tokens are matched inside text
        "  \n\n   \t  x  ",
        "'s'll'VE 123456789 ++-- ==> !== $$$ ))))",
        "",
    ]
    expected = [len(e) for e in original.encode_batch_fast(corpus, add_special_tokens=False)]
    assert count_tokens("claude-opus-4-5", corpus) == expected
    assert sum(expected) > 50_000  # the corpus really was read


def test_prices_match_litellm() -> None:
    import litellm

    for model in ("claude-opus-4-5", "o3", "groq/openai/gpt-oss-120b", "gemini/gemini-2.5-pro"):
        entry = litellm.model_cost[model]
        assert price_of(model) is not None
        assert price_of(model).input == entry["input_cost_per_token"]  # type: ignore[union-attr]
    assert price_of("my-local-model") is None


@pytest.fixture
def big_change(git_repo: GitRepo):  # type: ignore[no-untyped-def]
    git_repo.write("docs/guide.md", "# Guide\n")
    git_repo.write("src/auth/login.py", "x = 0\n")
    git_repo.write("src/util.py", "y = 0\n")
    git_repo.commit("base")
    git_repo.write("docs/guide.md", "# Guide\n" + "Some words here.\n" * 50)
    git_repo.write("src/auth/login.py", "x = 0\n" + "".join(f"check_{i} = verify(token, {i})\n" for i in range(400)))
    git_repo.write("src/util.py", "y = 0\n" + "".join(f"z{i} = {i}\n" for i in range(30)))
    return load_changeset(git_repo.root, resolve_target(git_repo.root, working=True))


def test_packing_orders_by_risk_and_fits_every_chunk(big_change) -> None:  # type: ignore[no-untyped-def]
    files = big_change.reviewable()
    assert [f.path for f in sorted(files, key=risk_rank)] == ["src/auth/login.py", "src/util.py", "docs/guide.md"]
    budget = 1_000
    chunks = pack(files, budget, model="o3", meter=TokenMeter())
    assert chunks[0].paths == ["src/auth/login.py"] and chunks[-1].paths[-1] == "docs/guide.md"
    for chunk in chunks:
        rendered = "\n".join(h.render() for _, hunks in chunk.parts for h in hunks)
        assert count_tokens("o3", [rendered])[0] <= budget
    # The 400-line hunk was split by lines, with overlap, and every changed line is covered.
    login = [h for c in chunks for f, hs in c.parts if f.path == "src/auth/login.py" for h in hs]
    assert len(login) > 1
    covered = {ln.new_line for h in login for ln in h.lines if ln.kind == "+"}
    assert covered == big_change.file("src/auth/login.py").added_lines
    first, second = login[0], login[1]
    assert second.lines[0].new_line is not None and second.lines[0].new_line < first.lines[-1].new_line  # overlap


# --- the cost cap ------------------------------------------------------------------------


def test_budget_reserves_worst_case_and_settles_actual_cost() -> None:
    budget = Budget(max_cost_usd=0.10)
    price = price_of("o3")
    assert price is not None
    hold = budget.reserve("o3", 10_000, 2_000)
    assert hold is not None and budget.reserved_usd == pytest.approx(10_000 * price.input + 2_000 * price.output)
    assert budget.reserve("o3", 100_000, 100_000) is None and budget.refused == 1
    budget.settle(hold, "ok", 0.01)
    assert (budget.spent_usd, budget.reserved_usd) == (pytest.approx(0.01), 0.0)
    hold = budget.reserve("o3", 1_000, 1_000)
    assert hold is not None
    budget.settle(hold, "rejected")  # a 429 is not billed
    assert budget.spent_usd == pytest.approx(0.01)
    local = Budget(max_cost_usd=0.12, unknown_call_usd=0.05)
    assert [local.reserve("local-x", 10, 10) is not None for _ in range(3)] == [True, True, False]
    assert local.unpriced_models == {"local-x"}


async def test_budget_never_waits_when_nothing_is_in_flight() -> None:
    budget = Budget(max_cost_usd=1.0)
    for usd_in in (0.1, 0.2, 0.3, 0.1, 0.7):  # float sums that do not return to exactly 0
        hold = budget.reserve("o3", int(usd_in * 1e6 / 2), 0)
        assert hold is not None
        budget.settle(hold, "rejected")
    assert budget.holding == 0 and budget.reserved_usd == 0.0
    too_big = await budget.acquire("o3", 10_000_000, 0)  # $20 worst case: refused at once
    assert too_big is None


@pytest.fixture
def many_files(git_repo: GitRepo) -> GitRepo:
    for i in range(12):
        git_repo.write(f"src/mod{i:02}.py", f"A = {i}\n")
    git_repo.commit("base")
    for i in range(12):
        git_repo.write(f"src/mod{i:02}.py", f"A = {i}\n" + "".join(f"B{k} = A + {k}\n" for k in range(60)))
    return git_repo


def test_cost_cap_stops_in_time_and_lists_what_was_skipped(
    many_files: GitRepo, fake_provider: FakeProvider, review_json: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOKYO_MAX_CHUNK_TOKENS", "1000")  # many small calls
    # Each answer uses most of Akira's output cap: about $0.20 at claude-opus-4-5's list price.
    fake_provider.script("", {"findings": [], "summary": "fine"}, usage=(900, 8_000))
    cap = 0.5
    code, report = review_json(
        "review",
        str(many_files.root),
        "-w",
        "security",
        "--api-base",
        fake_provider.url,
        "--max-cost",
        str(cap),
        "--no-cache",
    )
    step = report["steps"][0]
    ok_calls = [c for c in step["calls"] if c["status"] == "ok"]
    skipped_calls = [c for c in step["calls"] if c["status"] == "skipped"]
    assert ok_calls and skipped_calls
    spent = sum(c["cost_usd"] for c in ok_calls)
    assert 0 < spent <= cap  # checked against the recorded per-call costs
    assert step["status"] == "partial" and report["run"]["status"] == "partial"
    assert step["not_reviewed"] and set(step["not_reviewed"].values()) == {"budget"}
    budget_files = [f["path"] for f in report["files"] if f["reason"] == "budget"]
    assert budget_files and all(not f["reviewed_by"] for f in report["files"] if f["path"] in budget_files)
    assert len(ok_calls) == 2  # a third could have crossed the cap, so it never started
    assert any("cost cap $0.50 reached" in n for n in report["run"]["notices"])
    assert report["totals"]["cost_usd"] <= cap
    assert code == 0


def test_unpriced_model_counts_calls_by_the_per_call_estimate(
    many_files: GitRepo, fake_provider: FakeProvider, review_json: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOKYO_MAX_CHUNK_TOKENS", "1000")
    monkeypatch.setenv("TOKYO_UNKNOWN_CALL_USD", "0.05")
    code, report = review_json(
        "review",
        str(many_files.root),
        "-w",
        "security",
        "--api-base",
        fake_provider.url,
        "--model",
        "openai/my-local-model",
        "--max-cost",
        "0.12",
        "--no-cache",
    )
    assert len(fake_provider.requests) == 2  # 0.12 / 0.05 per call
    assert any("no known price" in n and "$0.05" in n for n in report["run"]["notices"])


# --- the response cache ------------------------------------------------------------------


def test_rerun_of_an_unchanged_change_makes_no_provider_call(
    many_files: GitRepo, fake_provider: FakeProvider, review_json: Run
) -> None:
    args = ("review", str(many_files.root), "--api-base", fake_provider.url)
    code1, first = review_json(*args)
    calls = len(fake_provider.requests)
    assert calls == 6 and first["totals"]["cost_usd"] > 0
    code2, second = review_json(*args)
    assert len(fake_provider.requests) == calls  # zero new provider calls
    assert all(c["cache_hit"] for s in second["steps"] for c in s["calls"])
    assert second["totals"]["cost_usd"] == 0
    assert any("answered from the response cache" in n for n in second["run"]["notices"])
    assert [f["fingerprint"] for f in second["findings"]] == [f["fingerprint"] for f in first["findings"]]
    con = sqlite3.connect(Path(os.environ["TOKYO_HOME"]) / "history.db")
    assert con.execute("select sum(cache_hit) from llm_calls").fetchone() == (6,)
    review_json(*args, "--no-cache")
    assert len(fake_provider.requests) == 2 * calls


# --- --since-last -----------------------------------------------------------------------


def test_since_last_reviews_only_new_commits_and_survives_a_force_push(
    git_repo: GitRepo, fake_provider: FakeProvider, review_json: Run
) -> None:
    git_repo.write("a.py", "a = 1\n")
    git_repo.commit("base")
    git_repo.checkout_branch("feature")
    git_repo.write("b.py", "b = 1\n")
    git_repo.commit("first feature commit")
    root = str(git_repo.root)
    _, first = review_json("review", root, "--since-last", "--offline")
    assert "no earlier review of branch 'feature'" in first["run"]["notices"][0]
    assert {f["path"] for f in first["files"]} == {"b.py"}

    git_repo.write("c.py", "c = 1\n")
    git_repo.commit("second feature commit")
    _, second = review_json("review", root, "--since-last", "--offline")
    assert {f["path"] for f in second["files"]} == {"c.py"}
    assert "reviewing" in second["run"]["notices"][0] and "since the last review" in second["run"]["notices"][0]

    git_repo.git("reset", "--hard", "HEAD~2")  # a force-push rewrote the branch
    git_repo.write("d.py", "d = 1\n")
    git_repo.commit("rewritten")
    _, third = review_json("review", root, "--since-last", "--offline")
    assert "not an ancestor of HEAD" in third["run"]["notices"][0]
    assert {f["path"] for f in third["files"]} == {"d.py"}
