"""Reverse-time samplers as generators that yield every step.

Every sampler is a step function driven by steps.drive (divergence is caught, never raised);
Langevin dynamics live in langevin.py; SAMPLERS below is the registry every page goes through.

- DDPM ancestral (Ho et al. 2020, Algorithm 2 / eq. 11):
  x_{t−1} = (x_t − β_t/√(1−ᾱ_t) ε̂) / √α_t + σ_t z,  σ_t² = β̃_t (default) or β_t.
- DDIM (Song, Meng & Ermon 2021, eq. 12), on a possibly respaced grid τ:
  x_{τ'} = √ᾱ_{τ'} x̂_0 + √(1−ᾱ_{τ'}−σ²) ε̂ + σ z,  σ = η √((1−ᾱ_{τ'})/(1−ᾱ_τ)) √(1−ᾱ_τ/ᾱ_{τ'}).
- Annealed Langevin in the source text's form x ← x + α_t s_t(x) + √(2α_t) ζ, with
  s_t = −ε̂/√(1−ᾱ_t), n_corrector steps at each noise level t = T..1 (Song & Ermon 2019).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real
from typing import Callable, Iterator, Mapping

import torch

from explorer.common.checks import whole_number
from .forward import q_sample
from .langevin import (MAX_CORRECTOR, MAX_LANGEVIN_STEPS, NCSN_EPSILON, SNR_DEFAULT, STEP_RULES,
                       langevin_fixed, langevin_sample, langevin_step_sizes, ncsn_stable_epsilon)
from .schedules import NoiseSchedule, respaced_timesteps
from .scores import tweedie_x0
from .solvers import SIGMA_MAX, dpm_solver_sample, heun_sample, ode_encode, pc_sample, respaced_schedule
from .steps import (DIVERGENCE_FACTOR, MORE_STEPS, SMALLER_ALPHA, Run, Step, check_x, drive, noise,
                    record, run_to_end)

__all__ = ["CLIP_2D", "CLIP_DIGITS", "SAMPLERS", "SamplerEntry", "ddpm_sample", "ddim_sample", "inpaint_sample",
           "heun_sample", "dpm_solver_sample", "ode_encode", "pc_sample", "respaced_schedule", "SIGMA_MAX",
           # re-exported: the samplers and their helpers in one place (the root re-exports the public ones)
           "langevin_sample", "langevin_fixed", "langevin_step_sizes", "ncsn_stable_epsilon", "NCSN_EPSILON",
           "SNR_DEFAULT", "STEP_RULES", "MAX_CORRECTOR", "MAX_LANGEVIN_STEPS", "Step", "Run", "record", "run_to_end",
           "DIVERGENCE_FACTOR", "MORE_STEPS", "SMALLER_ALPHA"]

CLIP_2D = 2.5  # a network's x̂_0 is clipped to ±2.5 on the 2D sets, which live in [−2, 2]²
CLIP_DIGITS = 1.0  # digits live in [−1, 1]


def _check_clip(clip_x0) -> None:
    if clip_x0 is not None and (isinstance(clip_x0, bool) or not isinstance(clip_x0, Real) or not clip_x0 > 0):
        raise ValueError(f"clip_x0 must be a positive number or None; got {clip_x0!r}.")


def _ddpm_step(eps_model: Callable, s: NoiseSchedule, generator, variance: str, clip_x0: float | None):
    """The DDPM update x_t → x_{t−1} as a step function for steps.drive."""
    betas = s.betas.tolist()
    ab = s.alphas_cumprod.tolist()
    coef1, coef2 = s.posterior_mean_coef1.tolist(), s.posterior_mean_coef2.tolist()
    sigma = (s.posterior_variance if variance == "posterior" else s.betas).sqrt().tolist()
    # β_t/√(1−ᾱ_t) from the schedule's 1 − ᾱ_t, computed without cancellation: 1.0 − ᾱ_t in floats is 0
    # where β_t is below 1e-16 (e.g. the geometric schedule's first steps), and β_t/0 would fail
    eps_coef = torch.where(s.betas > 0, s.betas / s.sqrt_one_minus_alphas_cumprod.clamp_min(1e-300),
                           torch.zeros_like(s.betas)).tolist()

    def step(x, t, _):
        eps = eps_model(x, ab[t])
        x0 = tweedie_x0(x, eps, ab[t])
        if clip_x0 is None:
            # 1. mean of p(x_{t−1} | x_t): (x_t − β_t/√(1−ᾱ_t) ε̂) / √α_t (DDPM eq. 11)
            mean = (x - eps_coef[t] * eps) * (1.0 / math.sqrt(1.0 - betas[t]))
        else:
            # 1'. the same mean through the clipped x̂_0: coef1 x̂_0 + coef2 x_t (DDPM eq. 7)
            x0 = x0.clamp(-clip_x0, clip_x0)
            mean = coef1[t] * x0 + coef2[t] * x
        # 2. add σ_t z, except on the last step (DDPM Algorithm 2: z = 0 when t = 1)
        if t > 1:
            mean.add_(noise(x, generator), alpha=sigma[t])
        return mean, x0

    return step


def ddpm_sample(eps_model: Callable, s: NoiseSchedule, x_T: torch.Tensor,
                generator: torch.Generator | None = None, variance: str = "posterior",
                clip_x0: float | None = None, t_start: int | None = None,
                divergence_factor: float = DIVERGENCE_FACTOR) -> Iterator[Step]:
    """Ancestral sampling of p(x_{t−1} | x_t) for t = T..1; yields x_{T−1}, ..., x_0.

    clip_x0 = c clamps x̂_0 to [−c, c] and takes the mean from the posterior q(x_{t−1} | x_t, x̂_0)
    (DDPM eq. 7), as DDPM does for images: it tames steps with β_t near 1, where dividing by
    √α_t amplifies any error in ε̂. t_start = t₀ < T starts from x_T given as an x_{t₀}
    (e.g. a real image noised to t₀: a variation of it) and runs t = t₀..1.
    """
    check_x(x_T)
    t_start = s.T if t_start is None else whole_number(t_start, "t_start", 1, s.T, hi_name=f"T = {s.T}")
    if variance not in ("posterior", "beta"):
        raise ValueError(f"variance must be 'posterior' (σ_t² = β̃_t) or 'beta' (σ_t² = β_t); "
                         f"got {variance!r}.")
    _check_clip(clip_x0)
    step = _ddpm_step(eps_model, s, generator, variance, clip_x0)
    yield from drive(step, [(t, t - 1) for t in range(t_start, 0, -1)], x_T, divergence_factor)


def inpaint_sample(eps_model: Callable, s: NoiseSchedule, x_known: torch.Tensor, known: torch.Tensor,
                   x_T: torch.Tensor, generator: torch.Generator | None = None,
                   clip_x0: float | None = None) -> Iterator[Step]:
    """Inpainting by replacement: DDPM on the unknown pixels, the known ones re-noised from the original.

    After each step to t−1, the pixels where `known` is True are replaced by a fresh draw of
    q(x_{t−1} | x_0 = x_known) (DDPM eq. 4), so the sampler only has to fill in the rest in a way
    that fits them. At t = 0 the known pixels equal x_known exactly.
    """
    check_x(x_T)
    if x_known.shape != x_T.shape:
        raise ValueError(f"x_known has shape {tuple(x_known.shape)}; x_T has {tuple(x_T.shape)}.")
    _check_clip(clip_x0)
    known = torch.as_tensor(known, dtype=torch.bool, device=x_T.device).expand_as(x_T)
    ddpm = _ddpm_step(eps_model, s, generator, "posterior", clip_x0)

    def step(x, t, t_next):
        x_next, x0 = ddpm(x, t, t_next)
        return torch.where(known, q_sample(x_known, t_next, s, generator=generator), x_next), x0

    start = torch.where(known, q_sample(x_known, s.T, s, generator=generator), x_T)
    yield from drive(step, [(t, t - 1) for t in range(s.T, 0, -1)], start, DIVERGENCE_FACTOR)

def low_pass(x: torch.Tensor, factor: int) -> torch.Tensor:
    """ILVR's filter φ_N = up(down(x)): each factor × factor block replaced by its mean (a projection: φ(φ(x)) = φ(x))."""
    return torch.nn.functional.interpolate(torch.nn.functional.avg_pool2d(x, factor), scale_factor=factor,
                                           mode="nearest")


def ilvr_sample(eps_model: Callable, s: NoiseSchedule, y: torch.Tensor, x_T: torch.Tensor,
                generator: torch.Generator | None = None, clip_x0: float | None = None) -> Iterator[Step]:
    """Super-resolution by ILVR (Choi et al. 2021): DDPM, and after each step to t−1 the low-frequency part of
    x_{t−1} (block means over factor × factor, factor = x_T's side / y's side) is replaced by that of the reference
    noised to t−1. y (N, C, h, w) is the low-resolution input itself: the block means of a noised full image are
    √ᾱ y + √(1−ᾱ) (block means of ε), drawn directly. At t = 0 the sample's block means equal y exactly."""
    check_x(x_T)
    _check_clip(clip_x0)
    if y.ndim != 4 or x_T.ndim != 4 or y.shape[:2] != x_T.shape[:2] or x_T.shape[-1] % y.shape[-1] \
            or x_T.shape[-2] % y.shape[-2] or x_T.shape[-1] // y.shape[-1] != x_T.shape[-2] // y.shape[-2]:
        raise ValueError(f"The low-resolution input must be (N, C, h, w) with the image's side a multiple of its own; "
                         f"got {tuple(y.shape)} for images {tuple(x_T.shape)}.")
    factor = x_T.shape[-1] // y.shape[-1]
    y_up = torch.nn.functional.interpolate(y.to(x_T), scale_factor=factor, mode="nearest")
    ddpm = _ddpm_step(eps_model, s, generator, "posterior", clip_x0)

    def reference_at(t: int) -> torch.Tensor:  # φ(q_sample(x_ref, t)) from y alone
        if t == 0:
            return y_up
        a = float(s.alphas_cumprod[t])
        return math.sqrt(a) * y_up + math.sqrt(1 - a) * low_pass(noise(x_T, generator), factor)

    def step(x, t, t_next):
        x_next, x0 = ddpm(x, t, t_next)
        return x_next - low_pass(x_next, factor) + reference_at(t_next), x0

    yield from drive(step, [(t, t - 1) for t in range(s.T, 0, -1)], x_T, DIVERGENCE_FACTOR)


def ddim_sample(eps_model: Callable, s: NoiseSchedule, x_T: torch.Tensor, eta: float = 0.0,
                generator: torch.Generator | None = None, n_steps: int | None = None,
                clip_x0: float | None = None,
                divergence_factor: float = DIVERGENCE_FACTOR) -> Iterator[Step]:
    """DDIM (eq. 12) from τ_S = T to τ_0 = 0 in n_steps steps (default T); η = 1 ≈ DDPM.

    clip_x0 = c clamps x̂_0 to [−c, c] and re-derives ε̂ from it, so both terms of eq. 12 agree.
    """
    check_x(x_T)
    _check_clip(clip_x0)
    if isinstance(eta, bool) or not isinstance(eta, Real) or not 0.0 <= float(eta) <= 1.0 \
            or math.isnan(eta):
        raise ValueError(f"η must be a number in [0, 1] (0: deterministic DDIM, 1: DDPM-like); got {eta!r}.")
    taus = respaced_timesteps(s.T, n_steps)
    ab = s.alphas_cumprod.tolist()
    log_ab = s.log_alphas_cumprod.tolist()  # ᾱ_τ/ᾱ_τ' in log space: finite even where ᾱ underflows to 0

    def step(x, t, t_next):
        eps = eps_model(x, ab[t])
        x0 = tweedie_x0(x, eps, ab[t])
        a, a_next = ab[t], ab[t_next]
        if clip_x0 is not None:
            x0 = x0.clamp(-clip_x0, clip_x0)
            eps = (x - math.sqrt(a) * x0) / math.sqrt(max(1.0 - a, 1e-12))
        ratio = math.exp(log_ab[t] - log_ab[t_next])  # ᾱ_τ / ᾱ_τ' ≤ 1
        sig = eta * math.sqrt(max((1 - a_next) / (1 - a) * (1 - ratio), 0.0)) if a < 1 else 0.0
        out = math.sqrt(a_next) * x0 + math.sqrt(max(1 - a_next - sig ** 2, 0.0)) * eps
        if sig > 0 and t_next > 0:
            out.add_(noise(x, generator), alpha=sig)
        return out, x0

    yield from drive(step, list(zip(taus[:-1], taus[1:])), x_T, divergence_factor)


# --- the registry every page goes through ------------------------------------------------

@dataclass(frozen=True)
class SamplerEntry:
    """A sampler as the app offers it: function(eps_model, s, x_T, generator=..., **options)."""

    function: Callable[..., Iterator[Step]]
    label: str  # its name in the app
    options: tuple[str, ...]  # the keyword options the app may pass
    steps: Callable[[int, Mapping], int]  # steps a run yields on a schedule of T steps, given the options
    evaluations: Callable[[int, Mapping], int]  # network evaluations for a run of n steps, given the options
    describe: Callable[[Mapping], str]  # a short label with the options' values

    def kwargs(self, options: Mapping) -> dict:
        """The options this sampler takes, ValueError for any other."""
        unknown = set(options) - set(self.options)
        if unknown:
            raise ValueError(f"{self.label} takes {', '.join(self.options)}; not {', '.join(sorted(unknown))}.")
        return dict(options)


def _describe_langevin(o: Mapping) -> str:
    size = o.get("step_size", "ncsn")
    if size == "ncsn":
        rule = f"ncsn rule, {o.get('epsilon', NCSN_EPSILON):g}"
    elif size == "snr":
        rule = f"snr rule, {o.get('r', SNR_DEFAULT):g}"
    else:
        rule = f"α = {size:g}"
    return f"Langevin ({rule}, {o.get('n_corrector', 1)} per level)"


SAMPLERS: dict[str, SamplerEntry] = {
    "ddpm": SamplerEntry(
        ddpm_sample, "DDPM (ancestral)", ("variance", "clip_x0"),
        steps=lambda T, o: T, evaluations=lambda n, o: n,
        describe=lambda o: f"DDPM (σ² = {'β' if o.get('variance') == 'beta' else 'β̃'})"),
    "ddim": SamplerEntry(
        ddim_sample, "DDIM", ("eta", "n_steps", "clip_x0"),
        steps=lambda T, o: len(respaced_timesteps(T, o.get("n_steps"))) - 1, evaluations=lambda n, o: n,
        describe=lambda o: f"DDIM (η = {o.get('eta', 0.0):g}, {o.get('n_steps') or 'T'} steps)"),
    "langevin": SamplerEntry(
        langevin_sample, "Annealed Langevin", ("step_size", "epsilon", "r", "n_corrector"),
        steps=lambda T, o: T,
        evaluations=lambda n, o: n * (o.get("n_corrector", 1) + 1),  # + 1: x̂_0 from the state reached
        describe=_describe_langevin),
    "heun": SamplerEntry(
        heun_sample, "Heun (EDM, PF-ODE)", ("n_steps",),
        steps=lambda T, o: len(respaced_timesteps(T, o.get("n_steps"))) - 1,
        evaluations=lambda n, o: 2 * n - 1,  # at most: steps above SIGMA_MAX and the last take one
        describe=lambda o: f"Heun ({o.get('n_steps') or 'T'} steps)"),
    "dpm": SamplerEntry(
        dpm_solver_sample, "DPM-Solver++(2M)", ("n_steps",),
        steps=lambda T, o: len(respaced_timesteps(T, o.get("n_steps"))) - 1, evaluations=lambda n, o: n,
        describe=lambda o: f"DPM-Solver++(2M) ({o.get('n_steps') or 'T'} steps)"),
    "pc": SamplerEntry(
        pc_sample, "Predictor–corrector", ("n_corrector", "r"),
        steps=lambda T, o: T, evaluations=lambda n, o: n + (n - 1) * o.get("n_corrector", 1),
        describe=lambda o: f"PC (DDPM + {o.get('n_corrector', 1)} Langevin, r = {o.get('r', SNR_DEFAULT):g})"),
}
