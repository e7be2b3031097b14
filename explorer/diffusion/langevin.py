"""Langevin dynamics with a score, in the source text's form x ← x + α_t s_t(x) + √(2α_t) ζ.

s_t = −ε̂/√(1−ᾱ_t). Annealed: n_corrector steps at each noise level t = T..1 (Song & Ermon 2019);
at one fixed level: n_steps, whose stationary law is q_ᾱ for small α.
"""
from __future__ import annotations

import math
from numbers import Real
from typing import Callable, Iterator

import torch

from explorer.common.checks import whole_number
from .schedules import NoiseSchedule
from .scores import tweedie_x0
from .steps import DIVERGENCE_FACTOR, SMALLER_ALPHA, Step, check_x, drive, noise

NCSN_EPSILON = 2e-5  # ε in Song & Ermon 2019 (NCSN), α_t = ε (1−ᾱ_t)/(1−ᾱ_1)
SNR_DEFAULT = 0.16  # r in Song et al. 2021 (score SDE), Algorithm 5, for CIFAR-10 VP
STEP_RULES = ("ncsn", "snr")
MAX_CORRECTOR = 1000  # Langevin steps per noise level
MAX_LANGEVIN_STEPS = 100_000  # Langevin steps at one noise level


def _check_positive(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not value > 0 or not math.isfinite(value):
        raise ValueError(f"{what} must be a positive number; got {value!r}.")
    return float(value)


def langevin_step_sizes(s: NoiseSchedule, step_size, epsilon: float = NCSN_EPSILON) -> list | str:
    """α_t for t = 0..T (index t) from a constant, a callable t -> α_t or a named rule.

    "ncsn": α_t = ε (1−ᾱ_t)/(1−ᾱ_1) (Song & Ermon 2019).
    "snr": computed from the score's norm at each step (Song et al. 2021, Alg. 5); returned
    as the string "snr" because it depends on x.
    """
    if isinstance(step_size, str):
        if step_size not in STEP_RULES:
            raise ValueError(f"Unknown step-size rule {step_size!r}; use a number, a function of t, "
                             f"or one of {', '.join(STEP_RULES)}.")
        if step_size == "snr":
            return "snr"
        eps = _check_positive(epsilon, "The NCSN rule's ε")
        one_minus = (s.sqrt_one_minus_alphas_cumprod ** 2).tolist()  # 1 − ᾱ_t without cancellation
        return [0.0] + [eps * one_minus[t] / one_minus[1] for t in range(1, s.T + 1)]
    if callable(step_size):
        sizes = [0.0] + [step_size(t) for t in range(1, s.T + 1)]
    else:
        sizes = [0.0] + [step_size] * s.T
    return [0.0] + [_check_step(a, f" at t = {t}") for t, a in enumerate(sizes[1:], start=1)]


def ncsn_stable_epsilon(s: NoiseSchedule) -> float:
    """2(1 − ᾱ_1): below it, the NCSN rule's α_t = ε(1−ᾱ_t)/(1−ᾱ_1) stays under 2(1 − ᾱ_t) at every level t,
    and every bump of q_t has a variance of at least 1 − ᾱ_t, so no level exceeds the one-Gaussian limit 2v."""
    return 2.0 * float(s.sqrt_one_minus_alphas_cumprod[1]) ** 2


def _check_step(a, where: str = "") -> float:
    """a as a float if it is a usable Langevin step size α > 0; ValueError otherwise."""
    if isinstance(a, bool) or not isinstance(a, Real) or math.isnan(a) or not 0 < a < math.inf:
        raise ValueError(f"The Langevin step size α must be a positive number; {where.strip() or 'it'} is {a!r}.")
    return float(a)


def langevin_sample(eps_model: Callable, s: NoiseSchedule, x_T: torch.Tensor, step_size,
                    n_corrector: int = 1, generator: torch.Generator | None = None,
                    epsilon: float = NCSN_EPSILON, r: float = SNR_DEFAULT,
                    divergence_factor: float = DIVERGENCE_FACTOR) -> Iterator[Step]:
    """Annealed Langevin: at each level t = T..1, n_corrector steps x ← x + α_t s_t(x) + √(2α_t) ζ.

    step_size: a constant α, a callable t -> α_t, "ncsn" (α_t = ε (1−ᾱ_t)/(1−ᾱ_1), ε = epsilon)
    or "snr" (α_t from the signal-to-noise ratio r, Song et al. 2021, Algorithm 5).
    Following the source text's x_{t−1} = x_t + α_t s_t(x_t) + √(2α_t) ζ, the state after
    level t is yielded as step t − 1, so the run ends at t = 0 like the other samplers.
    """
    check_x(x_T)
    n_corrector = whole_number(n_corrector, "The number of Langevin steps per noise level", 1, MAX_CORRECTOR)
    sizes = langevin_step_sizes(s, step_size, epsilon)
    r = _check_positive(r, "The signal-to-noise ratio r")
    ab = s.alphas_cumprod.tolist()
    alphas = s.alphas.tolist()

    def step(x, t, _):
        noise_std = math.sqrt(max(1.0 - ab[t], 1e-12))
        for _k in range(n_corrector):
            eps = eps_model(x, ab[t])
            score = eps * (-1.0 / noise_std)  # s_t(x) = −ε̂/√(1−ᾱ_t)
            z = noise(x, generator)
            if sizes == "snr":  # α = 2 α_t (r ‖z‖ / ‖s‖)² (Song et al. 2021, Algorithm 5)
                flat = lambda v: v.reshape(v.shape[0], -1).norm(dim=1).mean()
                a = float(2 * alphas[t] * (r * flat(z) / flat(score).clamp_min(1e-12)) ** 2)
            else:
                a = sizes[t]
            x = x + a * score + math.sqrt(2 * a) * z
        return x, tweedie_x0(x, eps_model(x, ab[t]), ab[t])  # x̂_0 from the state reached

    yield from drive(step, [(t, t - 1) for t in range(s.T, 0, -1)], x_T, divergence_factor, advice=SMALLER_ALPHA)


def langevin_fixed(eps_model: Callable, alpha_bar: float, x_init: torch.Tensor, step_size: float,
                   n_steps: int, generator: torch.Generator | None = None,
                   divergence_factor: float = DIVERGENCE_FACTOR) -> Iterator[Step]:
    """Langevin at one noise level: n_steps of x ← x + α s(x) + √(2α) ζ, s = −ε̂/√(1−ᾱ).

    Its stationary law is q_ᾱ for small α; too large an α (beyond about twice the narrowest
    variance of q_ᾱ) makes the iteration explode, which is detected and reported.
    Yields after each iteration k = 1..n_steps (Step.t holds k).
    """
    check_x(x_init)
    n_steps = whole_number(n_steps, "The number of Langevin steps", 1, MAX_LANGEVIN_STEPS)
    if isinstance(alpha_bar, bool) or not isinstance(alpha_bar, Real) or not 0.0 < float(alpha_bar) < 1.0:
        raise ValueError(f"ᾱ must lie strictly between 0 and 1 for a noise level; got {alpha_bar!r}.")
    a = _check_step(step_size)
    noise_std = math.sqrt(1.0 - alpha_bar)

    def step(x, k, _):
        eps = eps_model(x, alpha_bar)
        x_new = x + (-a / noise_std) * eps + math.sqrt(2 * a) * noise(x, generator)
        return x_new, tweedie_x0(x, eps, alpha_bar)

    yield from drive(step, [(k, k + 1) for k in range(n_steps)], x_init, divergence_factor,
                    name_step=lambda k, k_next: f"Langevin step {k_next} of {n_steps}", advice=SMALLER_ALPHA)
