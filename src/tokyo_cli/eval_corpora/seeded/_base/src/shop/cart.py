"""Shopping carts."""

from __future__ import annotations


class Cart:
    """Items and quantities for one customer."""

    def __init__(self) -> None:
        self.items: dict[str, int] = {}

    def add(self, sku: str, qty: int = 1) -> None:
        """Add ``qty`` of ``sku``; raises ValueError for a non-positive quantity."""
        if qty <= 0:
            raise ValueError("quantity must be positive")
        self.items[sku] = self.items.get(sku, 0) + qty

    def remove(self, sku: str) -> None:
        """Remove ``sku`` entirely (no error when absent)."""
        self.items.pop(sku, None)
