"""Reverse-time samplers as generators that yield every step.

One loop (`_run`) drives a step function per sampler; it checks every new state for
divergence (a non-finite value or a runaway norm) and, if it finds one, yields a last step
marked `diverged` with a message naming the step, then stops. Nothing raises mid-run.

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
from numbers import Integral, Real
from typing import Callable, Iterator

import torch

from .forward import q_sample
from .schedules import NoiseSchedule, respaced_timesteps

DIVERGENCE_FACTOR = 50.0  # runaway: |x| beyond 50 × (1 + max|x_T|); data live within a few units
NCSN_EPSILON = 2e-5  # ε in Song & Ermon 2019 (NCSN), α_t = ε (1−ᾱ_t)/(1−ᾱ_1)
SNR_DEFAULT = 0.16  # r in Song et al. 2021 (score SDE), Algorithm 5, for CIFAR-10 VP
STEP_RULES = ("ncsn", "snr")


@dataclass
class Step:
    """One yielded state: x at time t (x_t) and the model's estimate of x_0 from it."""

    t: int
    x: torch.Tensor
    pred_x0: torch.Tensor
    diverged: bool = False
    message: str = ""


def _alpha_bar(s: NoiseSchedule, t: int) -> float:
    return float(s.alphas_cumprod[t])


def _pred_x0(x: torch.Tensor, eps: torch.Tensor, ab: float) -> torch.Tensor:
    """Tweedie: x̂_0 = (x_t − √(1−ᾱ_t) ε̂) / √ᾱ_t (ᾱ floored so x̂_0 stays finite)."""
    return (x - math.sqrt(1.0 - ab) * eps) * (1.0 / math.sqrt(max(ab, 1e-12)))


def _run(step_fn: Callable, pairs: list[tuple[int, int]], x_T: torch.Tensor, factor: float,
         name_step: Callable[[int, int], str] = lambda t, t_next: f"step t = {t} → {t_next}") -> Iterator[Step]:
    """Drive step_fn(x, t, t_next) -> (x_next, pred_x0) over (t, t_next) pairs."""
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
                               f"Try a smaller step size or more steps.")
            return
        yield Step(t_next, x, pred_x0)


def _check_x(x_T: torch.Tensor) -> None:
    if not isinstance(x_T, torch.Tensor) or not x_T.is_floating_point():
        raise ValueError("x_T must be a floating-point tensor.")
    if not torch.isfinite(x_T).all():
        raise ValueError("x_T contains NaN or inf; start from finite values (e.g. N(0, I) noise).")


def _check_clip(clip_x0) -> None:
    if clip_x0 is not None and (isinstance(clip_x0, bool) or not isinstance(clip_x0, Real) or not clip_x0 > 0):
        raise ValueError(f"clip_x0 must be a positive number or None; got {clip_x0!r}.")


def _noise(x: torch.Tensor, generator) -> torch.Tensor:
    return torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)


def _ddpm_step(eps_model: Callable, s: NoiseSchedule, generator, variance: str, clip_x0: float | None):
    """The DDPM update x_t → x_{t−1} as a step function for _run."""
    betas = s.betas.tolist()
    ab = s.alphas_cumprod.tolist()
    coef1, coef2 = s.posterior_mean_coef1.tolist(), s.posterior_mean_coef2.tolist()
    sigma = (s.posterior_variance if variance == "posterior" else s.betas).sqrt().tolist()

    def step(x, t, _):
        eps = eps_model(x, ab[t])
        x0 = _pred_x0(x, eps, ab[t])
        if clip_x0 is None:
            # 1. mean of p(x_{t−1} | x_t): (x_t − β_t/√(1−ᾱ_t) ε̂) / √α_t (DDPM eq. 11)
            mean = (x - (betas[t] / math.sqrt(1.0 - ab[t])) * eps) * (1.0 / math.sqrt(1.0 - betas[t]))
        else:
            # 1'. the same mean through the clipped x̂_0: coef1 x̂_0 + coef2 x_t (DDPM eq. 7)
            x0 = x0.clamp(-clip_x0, clip_x0)
            mean = coef1[t] * x0 + coef2[t] * x
        # 2. add σ_t z, except on the last step (DDPM Algorithm 2: z = 0 when t = 1)
        if t > 1:
            mean.add_(_noise(x, generator), alpha=sigma[t])
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
    _check_x(x_T)
    t_start = s.T if t_start is None else t_start
    if isinstance(t_start, bool) or not isinstance(t_start, Integral) or not 1 <= t_start <= s.T:
        raise ValueError(f"t_start must be a whole number from 1 to T = {s.T}; got {t_start!r}.")
    if variance not in ("posterior", "beta"):
        raise ValueError(f"variance must be 'posterior' (σ_t² = β̃_t) or 'beta' (σ_t² = β_t); "
                         f"got {variance!r}.")
    _check_clip(clip_x0)
    step = _ddpm_step(eps_model, s, generator, variance, clip_x0)
    yield from _run(step, [(t, t - 1) for t in range(int(t_start), 0, -1)], x_T, divergence_factor)


def inpaint_sample(eps_model: Callable, s: NoiseSchedule, x_known: torch.Tensor, known: torch.Tensor,
                   x_T: torch.Tensor, generator: torch.Generator | None = None,
                   clip_x0: float | None = None) -> Iterator[Step]:
    """Inpainting by replacement: DDPM on the unknown pixels, the known ones re-noised from the original.

    After each step to t−1, the pixels where `known` is True are replaced by a fresh draw of
    q(x_{t−1} | x_0 = x_known) (DDPM eq. 4), so the sampler only has to fill in the rest in a way
    that fits them. At t = 0 the known pixels equal x_known exactly.
    """
    _check_x(x_T)
    if x_known.shape != x_T.shape:
        raise ValueError(f"x_known has shape {tuple(x_known.shape)}; x_T has {tuple(x_T.shape)}.")
    _check_clip(clip_x0)
    known = torch.as_tensor(known, dtype=torch.bool, device=x_T.device).expand_as(x_T)
    ddpm = _ddpm_step(eps_model, s, generator, "posterior", clip_x0)

    def step(x, t, t_next):
        x_next, x0 = ddpm(x, t, t_next)
        return torch.where(known, q_sample(x_known, t_next, s, generator=generator), x_next), x0

    start = torch.where(known, q_sample(x_known, s.T, s, generator=generator), x_T)
    yield from _run(step, [(t, t - 1) for t in range(s.T, 0, -1)], start, DIVERGENCE_FACTOR)



def ddim_sample(eps_model: Callable, s: NoiseSchedule, x_T: torch.Tensor, eta: float = 0.0,
                generator: torch.Generator | None = None, n_steps: int | None = None,
                clip_x0: float | None = None,
                divergence_factor: float = DIVERGENCE_FACTOR) -> Iterator[Step]:
    """DDIM (eq. 12) from τ_S = T to τ_0 = 0 in n_steps steps (default T); η = 1 ≈ DDPM.

    clip_x0 = c clamps x̂_0 to [−c, c] and re-derives ε̂ from it, so both terms of eq. 12 agree.
    """
    _check_x(x_T)
    _check_clip(clip_x0)
    if isinstance(eta, bool) or not isinstance(eta, Real) or not 0.0 <= float(eta) <= 1.0 \
            or math.isnan(eta):
        raise ValueError(f"η must be a number in [0, 1] (0: deterministic DDIM, 1: DDPM-like); got {eta!r}.")
    taus = respaced_timesteps(s.T, n_steps)
    ab = s.alphas_cumprod.tolist()
    log_ab = s.log_alphas_cumprod.tolist()  # ᾱ_τ/ᾱ_τ' in log space: finite even where ᾱ underflows to 0

    def step(x, t, t_next):
        eps = eps_model(x, ab[t])
        x0 = _pred_x0(x, eps, ab[t])
        a, a_next = ab[t], ab[t_next]
        if clip_x0 is not None:
            x0 = x0.clamp(-clip_x0, clip_x0)
            eps = (x - math.sqrt(a) * x0) / math.sqrt(max(1.0 - a, 1e-12))
        ratio = math.exp(log_ab[t] - log_ab[t_next])  # ᾱ_τ / ᾱ_τ' ≤ 1
        sig = eta * math.sqrt(max((1 - a_next) / (1 - a) * (1 - ratio), 0.0)) if a < 1 else 0.0
        out = math.sqrt(a_next) * x0 + math.sqrt(max(1 - a_next - sig ** 2, 0.0)) * eps
        if sig > 0 and t_next > 0:
            out.add_(_noise(x, generator), alpha=sig)
        return out, x0

    yield from _run(step, list(zip(taus[:-1], taus[1:])), x_T, divergence_factor)


def langevin_step_sizes(s: NoiseSchedule, step_size, scale: float | None = None) -> list | str:
    """α_t for t = 0..T (index t) from a constant, a callable t -> α_t or a named rule.

    "ncsn": α_t = ε (1−ᾱ_t)/(1−ᾱ_1), ε = scale (default NCSN_EPSILON).
    "snr": computed from the score's norm at each step (Song et al. 2021, Alg. 5); returned
    as the string "snr" because it depends on x.
    """
    if isinstance(step_size, str):
        if step_size not in STEP_RULES:
            raise ValueError(f"Unknown step-size rule {step_size!r}; use a number, a function of t, "
                             f"or one of {', '.join(STEP_RULES)}.")
        if scale is not None and (not isinstance(scale, Real) or not scale > 0 or not math.isfinite(scale)):
            raise ValueError(f"The rule's scale must be a positive number; got {scale!r}.")
        if step_size == "snr":
            return "snr"
        eps = NCSN_EPSILON if scale is None else float(scale)
        one_minus = (1.0 - s.alphas_cumprod).tolist()
        return [0.0] + [eps * one_minus[t] / one_minus[1] for t in range(1, s.T + 1)]
    if callable(step_size):
        sizes = [0.0] + [step_size(t) for t in range(1, s.T + 1)]
    else:
        sizes = [0.0] + [step_size] * s.T
    return [0.0] + [_check_step(a, f" at t = {t}") for t, a in enumerate(sizes[1:], start=1)]


def _check_step(a, where: str = "") -> float:
    """a as a float if it is a usable Langevin step size α > 0; ValueError otherwise."""
    if isinstance(a, bool) or not isinstance(a, Real) or math.isnan(a) or not 0 < a < math.inf:
        raise ValueError(f"The Langevin step size α must be a positive number; {where.strip() or 'it'} is {a!r}.")
    return float(a)


def langevin_sample(eps_model: Callable, s: NoiseSchedule, x_T: torch.Tensor, step_size,
                    n_corrector: int = 1, generator: torch.Generator | None = None,
                    scale: float | None = None,
                    divergence_factor: float = DIVERGENCE_FACTOR) -> Iterator[Step]:
    """Annealed Langevin: at each level t = T..1, n_corrector steps x ← x + α_t s_t(x) + √(2α_t) ζ.

    Following the source text's x_{t−1} = x_t + α_t s_t(x_t) + √(2α_t) ζ, the state after
    level t is yielded as step t − 1, so the run ends at t = 0 like the other samplers.
    """
    _check_x(x_T)
    if isinstance(n_corrector, bool) or not isinstance(n_corrector, Integral) or not 1 <= n_corrector <= 1000:
        raise ValueError(f"The number of Langevin steps per noise level must be a whole number from 1 "
                         f"to 1000; got {n_corrector!r}.")
    sizes = langevin_step_sizes(s, step_size, scale)
    r = SNR_DEFAULT if scale is None else float(scale)
    ab = s.alphas_cumprod.tolist()
    alphas = s.alphas.tolist()

    def step(x, t, _):
        noise_std = math.sqrt(max(1.0 - ab[t], 1e-12))
        for _k in range(n_corrector):
            eps = eps_model(x, ab[t])
            score = eps * (-1.0 / noise_std)  # s_t(x) = −ε̂/√(1−ᾱ_t)
            z = _noise(x, generator)
            if sizes == "snr":  # α = 2 α_t (r ‖z‖ / ‖s‖)² (Song et al. 2021, Algorithm 5)
                flat = lambda v: v.reshape(v.shape[0], -1).norm(dim=1).mean()
                a = float(2 * alphas[t] * (r * flat(z) / flat(score).clamp_min(1e-12)) ** 2)
            else:
                a = sizes[t]
            x = x + a * score + math.sqrt(2 * a) * z
        return x, _pred_x0(x, eps_model(x, ab[t]), ab[t])  # x̂_0 from the state reached

    yield from _run(step, [(t, t - 1) for t in range(s.T, 0, -1)], x_T, divergence_factor)


def langevin_fixed(eps_model: Callable, alpha_bar: float, x_init: torch.Tensor, step_size: float,
                   n_steps: int, generator: torch.Generator | None = None,
                   divergence_factor: float = DIVERGENCE_FACTOR) -> Iterator[Step]:
    """Langevin at one noise level: n_steps of x ← x + α s(x) + √(2α) ζ, s = −ε̂/√(1−ᾱ).

    Its stationary law is q_ᾱ for small α; too large an α (beyond about twice the narrowest
    variance of q_ᾱ) makes the iteration explode, which is detected and reported.
    Yields after each iteration k = 1..n_steps (Step.t holds k).
    """
    _check_x(x_init)
    if isinstance(n_steps, bool) or not isinstance(n_steps, Integral) or not 1 <= n_steps <= 100_000:
        raise ValueError(f"The number of Langevin steps must be a whole number from 1 to 100,000; got {n_steps!r}.")
    if isinstance(alpha_bar, bool) or not isinstance(alpha_bar, Real) or not 0.0 < float(alpha_bar) < 1.0:
        raise ValueError(f"ᾱ must lie strictly between 0 and 1 for a noise level; got {alpha_bar!r}.")
    a = _check_step(step_size)
    noise_std = math.sqrt(1.0 - alpha_bar)

    def step(x, k, _):
        eps = eps_model(x, alpha_bar)
        x_new = x + (-a / noise_std) * eps + math.sqrt(2 * a) * _noise(x, generator)
        return x_new, _pred_x0(x, eps, alpha_bar)

    yield from _run(step, [(k, k + 1) for k in range(n_steps)], x_init, divergence_factor,
                    name_step=lambda k, k_next: f"Langevin step {k_next} of {n_steps}")


def run_to_end(steps: Iterator[Step]) -> Step:
    """Exhaust a sampler and return its last step (the sample, or where it diverged)."""
    last = None
    for last in steps:
        pass
    if last is None:
        raise ValueError("The sampler yielded no steps.")
    return last


def collect(steps: Iterator[Step], keep_every: int = 1) -> tuple[list[int], torch.Tensor, torch.Tensor, Step]:
    """Stack a sampler's states: (times, xs, pred_x0s, last step), keeping every k-th step.

    The last step is always kept, so xs[-1] is the final sample (or the diverged state).
    """
    times, xs, x0s = [], [], []
    last, last_kept = None, False
    for i, last in enumerate(steps):
        last_kept = i % keep_every == 0
        if last_kept:
            times.append(last.t), xs.append(last.x), x0s.append(last.pred_x0)
    if last is None:
        raise ValueError("The sampler yielded no steps.")
    if not last_kept:
        times.append(last.t), xs.append(last.x), x0s.append(last.pred_x0)
    return times, torch.stack(xs), torch.stack(x0s), last
