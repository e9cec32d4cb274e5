"""The hard cost cap: reserve each attempt's worst-case cost before it starts.

Before every provider attempt (first try, retries and fallbacks alike) the gateway asks the
budget to reserve the attempt's worst case: prompt tokens at the model's input price plus
the full output cap at its output price. An attempt whose reservation would push
``spent + reserved`` over the cap is not started. When it ends the reservation is settled:

- answered: the recorded cost (or the reservation, when the price is unknown);
- rejected before work (HTTP 429, 5xx, connection refused or reset): 0 — providers do not
  bill requests they refused;
- timed out: the full reservation, since the provider may have done (and billed) the work.

A model without a known price is counted at ``unknown_call_usd`` per attempt (the report
says so) rather than ignored.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Literal

from tokyo_cli.llm.pricing import price_of

Outcome = Literal["ok", "rejected", "timeout"]


@dataclass
class Reservation:
    """One attempt's hold on the budget, in USD."""

    model: str
    usd: float
    priced: bool


@dataclass
class Budget:
    """A run's spending cap in USD (``None``: no cap, but spending is still tracked).

    Not thread-safe: used from the run's event loop only.
    """

    max_cost_usd: float | None = None
    unknown_call_usd: float = 0.05
    spent_usd: float = 0.0
    reserved_usd: float = 0.0
    refused: int = 0
    holding: int = 0  # reservations not yet settled (an int: float sums leave residue)
    unpriced_models: set[str] = field(default_factory=set)
    _changed: asyncio.Condition | None = field(default=None, repr=False)

    def estimate(self, model: str, tokens_in: int, max_tokens_out: int) -> tuple[float, bool]:
        """Worst-case USD of one attempt, and whether the model's price is known."""
        price = price_of(model)
        if price is None:
            return self.unknown_call_usd, False
        return tokens_in * price.input + max_tokens_out * price.output, True

    def reserve(self, model: str, tokens_in: int, max_tokens_out: int) -> Reservation | None:
        """Hold the worst case of one attempt, or ``None`` (attempt refused) when it could exceed the cap."""
        usd, priced = self.estimate(model, tokens_in, max_tokens_out)
        if not priced:
            self.unpriced_models.add(model)
        if not self._fits(usd):
            self.refused += 1
            return None
        self.reserved_usd += usd
        self.holding += 1
        return Reservation(model=model, usd=usd, priced=priced)

    async def acquire(self, model: str, tokens_in: int, max_tokens_out: int) -> Reservation | None:
        """Like :meth:`reserve`, but while other attempts hold reservations, wait for them to
        settle (their real cost is usually far below the worst case) before refusing."""
        if self._changed is None:
            self._changed = asyncio.Condition()
        async with self._changed:
            while True:
                usd, _ = self.estimate(model, tokens_in, max_tokens_out)
                if self.holding == 0 or self._fits(usd):
                    return self.reserve(model, tokens_in, max_tokens_out)
                await self._changed.wait()

    def _fits(self, usd: float) -> bool:
        return self.max_cost_usd is None or self.spent_usd + self.reserved_usd + usd <= self.max_cost_usd + 1e-12

    def settle(
        self, reservation: Reservation, outcome: Outcome, cost_usd: float | None = None, *, measured: bool = False
    ) -> None:
        """Release ``reservation`` and book what the attempt cost (see module docstring).
        ``measured``: ``cost_usd`` is what a gateway billed (a LiteLLM Proxy's cost header),
        booked even for a model without a known price (which then no longer counts as unpriced)."""
        self.holding -= 1
        self.reserved_usd = max(0.0, self.reserved_usd - reservation.usd) if self.holding else 0.0
        if outcome == "ok":
            if measured and cost_usd is not None:
                self.unpriced_models.discard(reservation.model)
            known = cost_usd is not None and (reservation.priced or measured)
            self.spent_usd += cost_usd if known else reservation.usd  # type: ignore[operator]
        elif outcome == "timeout":
            self.spent_usd += reservation.usd
        if self._changed is not None:
            changed = self._changed

            async def _wake() -> None:
                async with changed:
                    changed.notify_all()

            try:
                asyncio.get_running_loop().create_task(_wake())
            except RuntimeError:  # settled outside a loop (tests): nobody can be waiting
                pass
