"""The one loop every sampler runs, and the one way to record what it yields.

`drive` runs a step function over (t, t_next) pairs and checks every new state for divergence (a
non-finite value or a runaway norm); if it finds one, it yields a last step marked `diverged` with a
message naming the step, then stops. Nothing raises mid-run. `record` keeps the states asked for.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Collection, Iterable, Iterator

import torch

DIVERGENCE_FACTOR = 50.0  # runaway: |x| beyond 50 × (1 + max|x_T|); data live within a few units
MORE_STEPS = "Try more steps (a smaller β per step)."
SMALLER_ALPHA = "Try a smaller step size α; more steps at the same α do not help."


@dataclass
class Step:
    """One yielded state: x at time t (x_t) and the model's estimate of x_0 from it."""

    t: int
    x: torch.Tensor
    pred_x0: torch.Tensor
    diverged: bool = False
    message: str = ""


def drive(step_fn: Callable, pairs: list[tuple[int, int]], x_T: torch.Tensor, factor: float,
         name_step: Callable[[int, int], str] = lambda t, t_next: f"step t = {t} → {t_next}",
         advice: str = MORE_STEPS) -> Iterator[Step]:
    """Drive step_fn(x, t, t_next) -> (x_next, pred_x0) over (t, t_next) pairs; advice ends a divergence message."""
    x = x_T
    limit = factor * (1.0 + float(x_T.abs().max()))
    for t, t_next in pairs:
        x, pred_x0 = step_fn(x, t, t_next)
        peak = float(x.abs().max()) if x.numel() else 0.0  # NaN propagates through max
        if not math.isfinite(peak) or peak > limit:
            why = "non-finite values (NaN or inf)" if not math.isfinite(peak) else \
                f"|x| reached {peak:.3g}, beyond {limit:g}"
            yield Step(t_next, x, pred_x0, diverged=True,
                       message=f"Diverged at {name_step(t, t_next)}: {why}. "
                               f"{advice}")
            return
        yield Step(t_next, x, pred_x0)


def check_x(x_T: torch.Tensor) -> None:
    if not isinstance(x_T, torch.Tensor) or not x_T.is_floating_point():
        raise ValueError("x_T must be a floating-point tensor.")
    if not torch.isfinite(x_T).all():
        raise ValueError("x_T contains NaN or inf; start from finite values (e.g. N(0, I) noise).")


def noise(x: torch.Tensor, generator) -> torch.Tensor:
    """N(0, I) shaped like x, on x's device. A generator on another device (a CPU generator for a run on the
    GPU) draws where it lives and the numbers move: the same seed gives the same noise on every device."""
    if generator is not None and generator.device != x.device:
        return torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)
    return torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)



@dataclass(frozen=True)
class Run:
    """The states a sampler went through: xs[i] is x at times[i], x0s[i] the x̂_0 made on the step to it.

    last is the sampler's last step: the sample, or the state where it diverged.
    """

    times: list[int]
    xs: torch.Tensor  # (K, *x.shape)
    x0s: torch.Tensor  # (K, *x.shape)
    last: Step

    @property
    def diverged(self) -> bool:
        return self.last.diverged

    @property
    def message(self) -> str:
        return self.last.message


def record(steps: Iterable[Step], start: tuple[int, torch.Tensor] | None = None,
           keep: int | Collection[int] = 1, progress: Callable[[int], None] | None = None) -> Run:
    """Run a sampler to its end and keep the states asked for; the last step is always kept.

    start = (t, x) puts the starting state first (its x̂_0 is x itself: no guess yet).
    keep = k keeps every k-th step (1: all; 0: the last only); a collection of times keeps the
    steps whose t is in it. progress(i) is called after the i-th step.
    """
    every = keep if isinstance(keep, int) else None
    at = None if every is not None else frozenset(int(t) for t in keep)
    times, xs, x0s = [], [], []
    if start is not None:
        times.append(int(start[0])), xs.append(start[1]), x0s.append(start[1])
    last, kept = None, False
    for i, last in enumerate(steps, start=1):
        kept = (last.t in at) if at is not None else (every > 0 and i % every == 0)
        if kept:
            times.append(last.t), xs.append(last.x), x0s.append(last.pred_x0)
        if progress is not None:
            progress(i)
    if last is None:
        raise ValueError("The sampler yielded no steps.")
    if not kept:
        times.append(last.t), xs.append(last.x), x0s.append(last.pred_x0)
    return Run(times, torch.stack(xs), torch.stack(x0s), last)


def run_to_end(steps: Iterable[Step]) -> Step:
    """Exhaust a sampler and return its last step (the sample, or where it diverged)."""
    return record(steps, keep=0).last
