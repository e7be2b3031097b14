"""Noise schedules β_1..β_T and every quantity derived from them.

All arrays are float64 tensors of length T+1, indexed by t exactly as in the equations:
index 0 is the clean data (β_0 = 0, ᾱ_0 = 1) and index t belongs to x_t.

References
- Ho, Jain & Abbeel 2020, "Denoising Diffusion Probabilistic Models" (DDPM): linear schedule,
  eq. 2 (forward step), eq. 4 (closed form), eq. 7 (posterior q(x_{t-1} | x_t, x_0)).
- Nichol & Dhariwal 2021, "Improved DDPM", eq. 17: cosine schedule with offset s = 0.008
  and β clipped at 0.999.
- Sigmoid schedule: β_t = β_start + (β_end − β_start)·sigmoid(linspace(−6, 6, T)), as used by
  GeoDiff (Xu et al. 2022) and diffusers' "sigmoid" beta schedule.
- Geometric: the source text's β_t = β(1−β)^(T−1−t) for 0-based t, i.e. β(1−β)^(T−t) for
  t = 1..T. Then Σ_t β_t = 1 − (1−β)^T < 1, so ᾱ_T stays well above 0 (see DESIGN.md).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np
import torch

from explorer.common.checks import whole_number

SCHEDULE_KINDS: tuple[str, ...] = ("linear", "cosine", "constant", "geometric", "sigmoid")

T_MAX = 10_000  # largest number of steps the library accepts
SIGMOID_RANGE = 6.0  # sigmoid(linspace(-6, 6, T)) spans 0.0025 .. 0.9975 (GeoDiff, diffusers)
COSINE_OFFSET = 0.008  # s in Nichol & Dhariwal 2021 eq. 17
COSINE_MAX_BETA = 0.999  # their clipping "to prevent singularities at the end near t = T"

# Defaults shown in the app and used when a parameter is not given.
DEFAULT_PARAMS: dict[str, dict[str, float]] = {
    "linear": {"beta_start": 1e-4, "beta_end": 0.02},  # DDPM, T = 1000
    "cosine": {"s": COSINE_OFFSET, "max_beta": COSINE_MAX_BETA},
    "constant": {"beta": 0.01},
    "geometric": {"beta": 0.02},
    "sigmoid": {"beta_start": 1e-4, "beta_end": 0.02},
}


@dataclass(frozen=True, eq=False)
class NoiseSchedule:
    """A β schedule and its derived arrays, all float64 of length T+1 indexed by t."""

    kind: str
    T: int
    params: dict  # the parameters make_schedule used, defaults filled in
    betas: torch.Tensor  # β_t, β_0 = 0
    alphas: torch.Tensor = field(init=False)  # α_t = 1 − β_t
    alphas_cumprod: torch.Tensor = field(init=False)  # ᾱ_t = Π_{s≤t} α_s, ᾱ_0 = 1
    alphas_cumprod_prev: torch.Tensor = field(init=False)  # ᾱ_{t−1} (index 0 holds 1)
    log_alphas_cumprod: torch.Tensor = field(init=False)  # log ᾱ_t, exact even where ᾱ_t underflows
    sqrt_alphas_cumprod: torch.Tensor = field(init=False)  # √ᾱ_t: signal std
    sqrt_one_minus_alphas_cumprod: torch.Tensor = field(init=False)  # √(1−ᾱ_t): noise std
    log_snr: torch.Tensor = field(init=False)  # log(ᾱ_t / (1−ᾱ_t)); +inf at t = 0
    posterior_variance: torch.Tensor = field(init=False)  # β̃_t = β_t (1−ᾱ_{t−1}) / (1−ᾱ_t), DDPM eq. 7
    posterior_mean_coef1: torch.Tensor = field(init=False)  # β_t √ᾱ_{t−1} / (1−ᾱ_t): weight of x_0
    posterior_mean_coef2: torch.Tensor = field(init=False)  # √α_t (1−ᾱ_{t−1}) / (1−ᾱ_t): weight of x_t

    def __post_init__(self) -> None:
        b = self.betas
        set_ = object.__setattr__  # frozen: derived fields are set once, here
        alphas = 1.0 - b
        log_ac = torch.cumsum(torch.log1p(-b), dim=0)
        ac = torch.exp(log_ac)
        ac_prev = torch.cat([ac.new_ones(1), ac[:-1]])
        one_minus_ac = -torch.expm1(log_ac)  # 1 − ᾱ_t without cancellation for small t
        with torch.no_grad():
            safe = torch.where(one_minus_ac > 0, one_minus_ac, torch.ones_like(one_minus_ac))
            post_var = torch.where(one_minus_ac > 0, b * (1.0 - ac_prev) / safe, torch.zeros_like(b))
            coef1 = torch.where(one_minus_ac > 0, b * ac_prev.sqrt() / safe, torch.ones_like(b))
            coef2 = torch.where(one_minus_ac > 0, alphas.sqrt() * (1.0 - ac_prev) / safe, torch.zeros_like(b))
        set_(self, "alphas", alphas)
        set_(self, "alphas_cumprod", ac)
        set_(self, "alphas_cumprod_prev", ac_prev)
        set_(self, "log_alphas_cumprod", log_ac)
        set_(self, "sqrt_alphas_cumprod", ac.sqrt())
        set_(self, "sqrt_one_minus_alphas_cumprod", one_minus_ac.sqrt())
        set_(self, "log_snr", log_ac - torch.log(one_minus_ac))
        set_(self, "posterior_variance", post_var)
        set_(self, "posterior_mean_coef1", coef1)
        set_(self, "posterior_mean_coef2", coef2)

    @property
    def alpha_bar_T(self) -> float:
        """ᾱ_T: how much of the data's amplitude (squared) survives to the last step."""
        return float(self.alphas_cumprod[-1])


def _check_T(T) -> int:
    if isinstance(T, Real) and not isinstance(T, (bool, Integral)) and float(T).is_integer():
        T = int(T)  # 100.0 from a float slider is 100 steps; 2.5 is refused below
    return whole_number(T, "T (the number of steps)", 1, T_MAX)


def check_beta(name: str, value, *, upper_inclusive: bool = False) -> float:
    """Return value as a float if it is a valid β in (0, 1); raise ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{name} must be a number between 0 and 1; got {value!r}.")
    v = float(value)
    if math.isnan(v):
        raise ValueError(f"{name} is NaN; choose a number between 0 and 1.")
    ok = 0.0 < v <= 1.0 if upper_inclusive else 0.0 < v < 1.0
    if not ok:
        hint = " (β = 1 would erase the data in one step)" if v >= 1 else ""
        raise ValueError(f"{name} must lie strictly between 0 and 1{hint}; got {v:g}.")
    return v


def _betas(kind: str, T: int, p: dict) -> torch.Tensor:
    """β_1..β_T (length T) for one kind."""
    t = torch.arange(1, T + 1, dtype=torch.float64)
    if kind == "linear":
        return torch.linspace(p["beta_start"], p["beta_end"], T, dtype=torch.float64)
    if kind == "sigmoid":
        sig = torch.sigmoid(torch.linspace(-SIGMOID_RANGE, SIGMOID_RANGE, T, dtype=torch.float64))
        return p["beta_start"] + (p["beta_end"] - p["beta_start"]) * sig
    if kind == "constant":
        return torch.full((T,), p["beta"], dtype=torch.float64)
    if kind == "geometric":
        # β_t = β (1−β)^(T−t): the largest step is the last one, β_T = β.
        return p["beta"] * torch.exp((T - t) * math.log1p(-p["beta"]))
    if kind == "cosine":
        # Nichol & Dhariwal 2021 eq. 17: ᾱ(t) = f(t)/f(0), f(t) = cos²((t/T + s)/(1 + s) · π/2),
        # β_t = 1 − ᾱ(t)/ᾱ(t−1), clipped at max_beta.
        s = p["s"]
        grid = torch.arange(0, T + 1, dtype=torch.float64)
        f = torch.cos((grid / T + s) / (1 + s) * math.pi / 2) ** 2
        ac = f / f[0]
        return torch.clamp(1.0 - ac[1:] / ac[:-1], min=0.0, max=p["max_beta"])
    raise AssertionError(kind)  # unreachable: kind is validated by make_schedule


def make_schedule(kind: str, T: int = 1000, **params) -> NoiseSchedule:
    """Build the noise schedule `kind` with T steps; see DEFAULT_PARAMS for each kind's knobs."""
    if kind not in SCHEDULE_KINDS:
        raise ValueError(f"Unknown schedule kind {kind!r}; choose one of {', '.join(SCHEDULE_KINDS)}.")
    T = _check_T(T)
    allowed = DEFAULT_PARAMS[kind]
    unknown = set(params) - set(allowed)
    if unknown:
        raise ValueError(
            f"The {kind} schedule takes {', '.join(allowed)}; it has no {', '.join(sorted(unknown))}.")
    p = {**allowed, **params}
    if kind == "cosine":
        s = p["s"]
        if isinstance(s, bool) or not isinstance(s, Real) or not (0.0 <= float(s) < 1.0):
            raise ValueError(f"The cosine offset s must be a number in [0, 1); got {s!r}.")
        p["s"] = float(s)
        p["max_beta"] = check_beta("max_beta", p["max_beta"])
    else:
        for name in allowed:
            p[name] = check_beta(name, p[name])
    betas = torch.cat([torch.zeros(1, dtype=torch.float64), _betas(kind, T, p)])
    return NoiseSchedule(kind=kind, T=T, params=p, betas=betas)


def respaced_timesteps(T: int, n_steps: int | None) -> list[int]:
    """Evenly spaced integer times T = τ_S > ... > τ_0 = 0 for a sampler with n_steps steps."""
    T = _check_T(T)
    if n_steps is None:
        return list(range(T, -1, -1))
    n_steps = whole_number(n_steps, "The number of sampling steps", 1, T, hi_name=f"T = {T}")
    taus = torch.linspace(0, T, int(n_steps) + 1, dtype=torch.float64).round().long().tolist()
    return sorted(set(taus), reverse=True)


def frame_times(last: int, most: int) -> np.ndarray:
    """At most `most` evenly spaced whole numbers from 0 to `last`, both ends included, rounded, no repeats.

    The frames of an animation over t = 0..T, or the stored steps of a run to look at.
    """
    return np.unique(np.linspace(0, last, min(last + 1, most)).round().astype(int))
