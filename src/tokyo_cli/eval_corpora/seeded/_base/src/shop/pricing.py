"""Prices and discounts."""


def discount(total: float, code: str | None) -> float:
    """``total`` after the discount ``code`` (10% for SAVE10, else unchanged)."""
    if code == "SAVE10":
        return round(total * 0.9, 2)
    return total
