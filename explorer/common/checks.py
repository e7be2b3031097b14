"""Checks of the arguments a student passes in: a ValueError they can act on, never an assert."""
from __future__ import annotations

from numbers import Integral


def whole_number(value, what: str, lo: int, hi: int | None = None, hi_name: str | None = None) -> int:
    """value as an int if it is a whole number in [lo, hi] (no upper end if hi is None).

    what names the quantity in the message ("t", "The number of points"); hi_name says where the
    upper end comes from ("T = 10") when that helps more than the bare number.
    """
    ok = not isinstance(value, bool) and isinstance(value, Integral) and value >= lo and (hi is None or value <= hi)
    if not ok:
        span = f"≥ {lo}" if hi is None else f"from {lo} to {hi_name or hi}"
        raise ValueError(f"{what} must be a whole number {span}; got {value!r}.")
    return int(value)
