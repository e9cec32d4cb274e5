"""budget: the exact cap boundary, settle() per outcome and acquire() waiting.

Written against mutation-testing survivors (issue 13, benchmarks/mutation.py). Prices are
faked so the arithmetic is exact.
"""

from __future__ import annotations

import asyncio

import pytest

import tokyo_cli.llm.budget as budget_mod
from tokyo_cli.llm.budget import Budget, Reservation
from tokyo_cli.llm.pricing import Price


@pytest.fixture(autouse=True)
def fake_prices(monkeypatch: pytest.MonkeyPatch) -> None:
    table = {"priced": Price(input=0.25, output=0.5)}
    monkeypatch.setattr(budget_mod, "price_of", table.get)


def test_estimate_is_input_tokens_times_input_price_plus_output_cap_times_output_price() -> None:
    budget = Budget(unknown_call_usd=0.125)
    assert budget.estimate("priced", 4, 2) == (2.0, True)
    assert budget.estimate("priced", 0, 3) == (1.5, True)
    assert budget.estimate("local", 1000, 1000) == (0.125, False)


def test_reserve_holds_the_worst_case_and_records_unpriced_models() -> None:
    budget = Budget(max_cost_usd=10.0, unknown_call_usd=0.5)
    hold = budget.reserve("priced", 4, 2)
    assert hold == Reservation(model="priced", usd=2.0, priced=True)
    assert (budget.reserved_usd, budget.holding, budget.unpriced_models) == (2.0, 1, set())
    local = budget.reserve("local", 1, 1)
    assert local == Reservation(model="local", usd=0.5, priced=False)
    assert (budget.reserved_usd, budget.holding, budget.unpriced_models) == (2.5, 2, {"local"})
    assert budget.spent_usd == 0.0 and budget.refused == 0


def test_a_reservation_that_reaches_the_cap_exactly_fits_one_cent_more_does_not() -> None:
    budget = Budget(max_cost_usd=1.0, unknown_call_usd=0.5)
    assert budget.reserve("local", 0, 0) is not None
    assert budget.reserve("local", 0, 0) is not None  # spent + reserved == cap: allowed
    assert budget.reserve("local", 0, 0) is None
    assert budget.reserve("local", 0, 0) is None
    assert budget.refused == 2 and budget.holding == 2 and budget.reserved_usd == 1.0

    over = Budget(max_cost_usd=1.0, unknown_call_usd=1.0 + 1e-9)
    assert over.reserve("local", 0, 0) is None and over.refused == 1 and over.holding == 0


def test_the_tolerance_itself_is_inside_the_cap() -> None:
    # The boundary is inclusive (<=) of cap + 1e-12: a strict comparison refuses this one.
    assert Budget(max_cost_usd=1.0, unknown_call_usd=1.0 + 1e-12).reserve("local", 0, 0) is not None
    assert Budget(max_cost_usd=1.0, unknown_call_usd=1.0 + 1e-11).reserve("local", 0, 0) is None


def test_float_residue_below_a_picodollar_does_not_refuse() -> None:
    budget = Budget(max_cost_usd=0.3, unknown_call_usd=0.1)
    assert [budget.reserve("local", 0, 0) is not None for _ in range(4)] == [True, True, True, False]


def test_spent_money_counts_against_the_cap() -> None:
    budget = Budget(max_cost_usd=1.0, unknown_call_usd=0.5, spent_usd=0.75)
    assert budget.reserve("local", 0, 0) is None


def test_no_cap_never_refuses_but_still_tracks() -> None:
    budget = Budget(max_cost_usd=None, unknown_call_usd=1e9)
    hold = budget.reserve("local", 0, 0)
    assert hold is not None
    budget.settle(hold, "ok")
    assert budget.spent_usd == 1e9 and budget.refused == 0


@pytest.mark.parametrize(
    ("model", "outcome", "cost", "spent"),
    [
        ("priced", "ok", 0.125, 0.125),  # answered: the recorded cost
        ("priced", "ok", 0.0, 0.0),  # a recorded zero is a cost, not "unknown"
        ("priced", "ok", None, 2.0),  # answered, cost unknown: the reservation
        ("local", "ok", 0.125, 0.5),  # unpriced model: the per-call stand-in, not a made-up cost
        ("priced", "rejected", 0.125, 0.0),  # refused before work: not billed
        ("priced", "timeout", None, 2.0),  # timed out: the full reservation
        ("local", "timeout", None, 0.5),
    ],
)
def test_settle_books_what_the_attempt_cost(model: str, outcome: str, cost: float | None, spent: float) -> None:
    budget = Budget(max_cost_usd=10.0, unknown_call_usd=0.5, spent_usd=1.0)
    hold = budget.reserve(model, 4, 2)
    assert hold is not None
    budget.settle(hold, outcome, cost)  # type: ignore[arg-type]
    assert budget.spent_usd == 1.0 + spent
    assert (budget.holding, budget.reserved_usd) == (0, 0.0)


def test_settle_releases_only_its_own_reservation_while_others_hold() -> None:
    budget = Budget(max_cost_usd=10.0, unknown_call_usd=0.5)
    first = budget.reserve("priced", 4, 2)
    second = budget.reserve("local", 0, 0)
    assert first is not None and second is not None
    budget.settle(first, "rejected")
    assert (budget.holding, budget.reserved_usd) == (1, 0.5)
    budget.settle(second, "rejected")
    assert (budget.holding, budget.reserved_usd) == (0, 0.0)


def test_settle_never_leaves_a_negative_reservation() -> None:
    budget = Budget(max_cost_usd=10.0, unknown_call_usd=0.5)
    first = budget.reserve("local", 0, 0)
    assert first is not None and budget.reserve("local", 0, 0) is not None
    budget.reserved_usd = 0.25  # float residue: less held than this reservation
    budget.settle(first, "rejected")
    assert (budget.holding, budget.reserved_usd) == (1, 0.0)


async def test_acquire_waits_for_a_holder_to_settle_then_fits() -> None:
    budget = Budget(max_cost_usd=1.0, unknown_call_usd=0.75)
    first = await budget.acquire("local", 0, 0)
    assert first is not None
    waiting = asyncio.ensure_future(budget.acquire("local", 0, 0))
    for _ in range(5):
        await asyncio.sleep(0)
    assert not waiting.done() and budget.refused == 0
    budget.settle(first, "rejected")
    second = await asyncio.wait_for(waiting, 5)
    assert second == Reservation(model="local", usd=0.75, priced=False)
    assert budget.holding == 1


async def test_acquire_refuses_once_the_holder_settles_and_it_still_does_not_fit() -> None:
    budget = Budget(max_cost_usd=1.0, unknown_call_usd=0.75)
    first = await budget.acquire("local", 0, 0)
    assert first is not None
    waiting = asyncio.ensure_future(budget.acquire("local", 0, 0))
    await asyncio.sleep(0)
    budget.settle(first, "timeout")  # billed: 0.75 spent, another 0.75 does not fit
    assert await asyncio.wait_for(waiting, 5) is None
    assert budget.refused == 1 and budget.spent_usd == 0.75


async def test_acquire_takes_a_fitting_reservation_while_others_hold() -> None:
    budget = Budget(max_cost_usd=2.0, unknown_call_usd=0.75)
    assert await budget.acquire("local", 0, 0) is not None
    assert await asyncio.wait_for(budget.acquire("local", 0, 0), 5) is not None
    assert budget.holding == 2
