"""A class's answers to a prediction, counted for a chart: one bar per choice, or per number given (or per range of
numbers when there are many), each marked right or not by the step's measurement."""
from __future__ import annotations

from typing import Mapping

from .course import Predict


def bars(p: Predict, counts: Mapping[str, int], value: float, most: int = 10):
    """A class's answers {text: students} as bars: (labels, counts, right flags, share right). Choices: one bar
    each, in order. Numbers: one bar per value given, or `most` equal ranges when there are more; a range is
    right when its middle is. The share right counts every answer exactly; NaN when nobody answered."""
    if p.is_number:  # only numbers count (the store takes any short text; a value that is not one is left out)
        counts = {v: c for v, c in counts.items() if _number(v) is not None}
    else:
        counts = {v: c for v, c in counts.items() if v in p.choices}
    total = sum(counts.values())
    if not p.is_number:
        right = p.right_choice(value)
        n = [int(counts.get(c, 0)) for c in p.choices]
        share = n[right] / total if total else float("nan")
        return list(p.choices), n, [i == right for i in range(len(p.choices))], share
    numbers = {float(v): c for v, c in counts.items()}
    share = sum(c for v, c in numbers.items() if p.is_right(v, value)) / total if total else float("nan")
    if len(numbers) <= most:
        ordered = sorted(numbers)
        return [f"{v:g}" for v in ordered], [numbers[v] for v in ordered], \
            [p.is_right(v, value) for v in ordered], share
    lo, hi = min(numbers), max(numbers)
    width = (hi - lo) / most
    n = [0] * most
    for v, c in numbers.items():
        n[min(int((v - lo) / width), most - 1)] += c
    mids = [lo + (i + 0.5) * width for i in range(most)]
    return [f"{lo + i * width:.3g} – {lo + (i + 1) * width:.3g}" for i in range(most)], n, \
        [p.is_right(m, value) for m in mids], share


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if value == value and abs(value) != float("inf") else None
