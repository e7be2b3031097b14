"""Solvers of the probability-flow ODE, ODE inversion, predictor–corrector, and respacing a schedule.

The VP probability-flow ODE (Song et al. 2021) in EDM's variables (Karras et al. 2022): with
σ = √((1−ᾱ)/ᾱ) and x̃ = x/√ᾱ it reads dx̃/dσ = ε̂(x, ᾱ). Its Euler step is exactly DDIM with η = 0.

- heun_sample: EDM Algorithm 1 (deterministic, 2nd order) on the schedule's noise levels respaced to
  n_steps: an Euler step to σ_{i+1}, then the trapezoid correction with ε̂ evaluated there; the step to
  σ = 0 stays Euler (2n − 1 network evaluations). Our schedules start far above EDM's σ_max = 80
  (linear: σ_T ≈ 157, cosine: ≈ 2·10⁴); a step that starts above SIGMA_MAX is left Euler too, where
  the correction would multiply the change of ε̂ by a step of thousands of σ units.
- dpm_solver_sample: DPM-Solver++(2M) (Lu et al. 2022, Algorithm 2): data prediction x̂_0, the
  exact linear part in λ = log(√ᾱ/√(1−ᾱ)), the previous x̂_0 for the 2nd-order term; first and last
  steps 1st order (n evaluations).
- ode_encode: x_0 → x_T along the same ODE (Heun's steps in increasing σ), for inversion.
- pc_sample: predictor–corrector (Song et al. 2021, Algorithm 2 for the VP SDE): an ancestral step,
  then n_corrector Langevin steps at the new level with the signal-to-noise step size.
"""
from __future__ import annotations

import math
from typing import Callable, Iterator

import torch

from explorer.common.checks import whole_number
from .langevin import MAX_CORRECTOR, SNR_DEFAULT
from .schedules import NoiseSchedule, respaced_timesteps
from .scores import tweedie_x0
from .steps import DIVERGENCE_FACTOR, Step, check_x, drive, noise

SIGMA_MAX = 80.0  # EDM's largest noise level (σ_data = 0.5): above it x̃ is noise to within 0.6 %


def respaced_schedule(s: NoiseSchedule, n_steps: int | None) -> NoiseSchedule:
    """The schedule seen by a sampler that visits only n_steps evenly spaced levels τ_0 = 0 < … < τ_n = T:
    step k has β_k = 1 − ᾱ_{τ_k}/ᾱ_{τ_{k−1}}, so ᾱ at step k is ᾱ_{τ_k} of s (improved DDPM's respacing)."""
    taus = respaced_timesteps(s.T, n_steps)[::-1]
    if len(taus) == s.T + 1:
        return s
    log_ab = s.log_alphas_cumprod[taus]
    betas = torch.cat([log_ab.new_zeros(1), -torch.expm1(log_ab[1:] - log_ab[:-1])])
    return NoiseSchedule(s.kind, len(taus) - 1, {**s.params, "respaced_from": s.T}, betas)


def ode_levels(s: NoiseSchedule, n_steps: int | None) -> tuple[list[int], list[float], list[float], list[float]]:
    """Respaced times T → 0, their ᾱ, log ᾱ and σ = √((1−ᾱ)/ᾱ) (0 at t = 0; huge where ᾱ underflows):
    the levels every PF-ODE solver here (and flows.ode_log_likelihood) walks."""
    taus = respaced_timesteps(s.T, n_steps)
    ab = [float(s.alphas_cumprod[t]) for t in taus]
    log_ab = [float(s.log_alphas_cumprod[t]) for t in taus]
    check_ode_range(log_ab[0])
    sig = [math.sqrt(-math.expm1(la)) * math.exp(-la / 2) if la < 0 else 0.0 for la in log_ab]
    return taus, ab, log_ab, sig


LOG_AB_MIN = -1400.0  # below, σ = √((1−ᾱ)/ᾱ) > e⁷⁰⁰ leaves float64's range


def check_ode_range(log_alpha_bar_T: float) -> None:
    """ValueError if the schedule's last level is too noisy for the ODE's variables (σ_T beyond float64)."""
    if log_alpha_bar_T < LOG_AB_MIN:
        raise ValueError(f"This schedule leaves ᾱ_T = e^{log_alpha_bar_T:.0f}: the probability-flow ODE would have to "
                         f"start at σ_T ≈ e^{-log_alpha_bar_T / 2:.0f}, beyond what float64 can hold. Choose a smaller "
                         "β or a smaller T (DDPM and DDIM still run).")


def _eps_at(eps_model: Callable, x_tilde: torch.Tensor, a: float) -> torch.Tensor:
    return eps_model(x_tilde * math.sqrt(a), a)


def heun_sample(eps_model: Callable, s: NoiseSchedule, x_T: torch.Tensor, n_steps: int | None = None,
                generator: torch.Generator | None = None,
                divergence_factor: float = DIVERGENCE_FACTOR) -> Iterator[Step]:
    """EDM's deterministic Heun sampler on the schedule's levels respaced to n_steps (default T)."""
    check_x(x_T)
    taus, ab, _, sig = ode_levels(s, n_steps)
    pos = {t: i for i, t in enumerate(taus)}

    def step(x, t, t_next):
        i = pos[t]
        a, a_next, sg, sg_next = ab[i], ab[i + 1], sig[i], sig[i + 1]
        eps = eps_model(x, a)
        x0 = tweedie_x0(x, eps, a)
        x_tilde = x0 + sg_next * eps  # the Euler (DDIM) step, written through x̂_0: no x/√ᾱ of a tiny ᾱ
        if sg_next > 0 and sg <= SIGMA_MAX:
            eps_next = _eps_at(eps_model, x_tilde, a_next)
            x_tilde = x_tilde + (sg_next - sg) * 0.5 * (eps_next - eps)  # trapezoid: (d + d')/2 instead of d
        return x_tilde * math.sqrt(a_next), x0

    yield from drive(step, list(zip(taus[:-1], taus[1:])), x_T, divergence_factor)


def dpm_solver_sample(eps_model: Callable, s: NoiseSchedule, x_T: torch.Tensor, n_steps: int | None = None,
                      generator: torch.Generator | None = None,
                      divergence_factor: float = DIVERGENCE_FACTOR) -> Iterator[Step]:
    """DPM-Solver++(2M) on the schedule's levels respaced to n_steps (default T)."""
    check_x(x_T)
    taus, ab, log_ab, _ = ode_levels(s, n_steps)
    pos = {t: i for i, t in enumerate(taus)}
    # λ = log √ᾱ − log √(1−ᾱ), +∞ at t = 0
    lam = [0.5 * la - 0.5 * math.log(-math.expm1(la)) if la < 0 else math.inf for la in log_ab]
    previous: dict[str, object] = {}

    def step(x, t, t_next):
        i = pos[t]
        a, a_next = ab[i], ab[i + 1]
        x0 = tweedie_x0(x, eps_model(x, a), a)
        h = lam[i + 1] - lam[i]
        if a_next >= 1.0:  # the last step, to σ = 0: x_0 = x̂_0 (1st order)
            return x0.clone(), x0
        d = x0
        if "x0" in previous and i + 1 < len(taus) - 1:
            r = previous["h"] / h
            d = (1 + 1 / (2 * r)) * x0 - (1 / (2 * r)) * previous["x0"]
        previous.update(x0=x0, h=h)
        sigma_ratio = math.sqrt((1 - a_next) / (1 - a))  # σ_{t_next} / σ_t
        return sigma_ratio * x - math.sqrt(a_next) * math.expm1(-h) * d, x0

    yield from drive(step, list(zip(taus[:-1], taus[1:])), x_T, divergence_factor)


def ode_encode(eps_model: Callable, s: NoiseSchedule, x_0: torch.Tensor, n_steps: int | None = None) -> torch.Tensor:
    """x_0 → x_T along the probability-flow ODE (Heun's steps up the respaced levels): the x_T from which
    heun_sample with the same levels returns (close to) x_0. The first step, from σ = 0 where ε̂ is not
    defined, takes ε̂ at the first level."""
    check_x(x_0)
    taus, ab, _, sig = ode_levels(s, n_steps)
    taus, ab, sig = taus[::-1], ab[::-1], sig[::-1]
    x_tilde = x_0.clone()
    for i in range(len(taus) - 1):
        a, a_next, sg, sg_next = ab[i], ab[i + 1], sig[i], sig[i + 1]
        if sg == 0:
            x_tilde = x_tilde + sg_next * _eps_at(eps_model, x_tilde, a_next)
            continue
        d = _eps_at(eps_model, x_tilde, a)
        guess = x_tilde + (sg_next - sg) * d
        x_tilde = x_tilde + (sg_next - sg) * 0.5 * (d + _eps_at(eps_model, guess, a_next)) \
            if sg_next <= SIGMA_MAX else guess
    return x_tilde * math.sqrt(ab[-1])


def pc_sample(eps_model: Callable, s: NoiseSchedule, x_T: torch.Tensor, n_corrector: int = 1,
              r: float = SNR_DEFAULT, generator: torch.Generator | None = None,
              divergence_factor: float = DIVERGENCE_FACTOR) -> Iterator[Step]:
    """Predictor–corrector: at t = T..1 an ancestral DDPM step to t − 1 (σ² = β̃), then n_corrector
    Langevin steps at level t − 1 with α = 2 α_t (r ‖z‖ / ‖s‖)²; none at t − 1 = 0."""
    check_x(x_T)
    n_corrector = whole_number(n_corrector, "The number of corrector steps", 0, MAX_CORRECTOR)
    ab, alphas = s.alphas_cumprod.tolist(), s.alphas.tolist()
    coef1, coef2 = s.posterior_mean_coef1.tolist(), s.posterior_mean_coef2.tolist()
    sigma = s.posterior_variance.sqrt().tolist()
    norm = lambda v: v.reshape(v.shape[0], -1).norm(dim=1).mean()  # noqa: E731

    def step(x, t, t_next):
        x0 = tweedie_x0(x, eps_model(x, ab[t]), ab[t])
        x = coef1[t] * x0 + coef2[t] * x
        if t_next > 0:
            x = x + sigma[t] * noise(x, generator)
            std = math.sqrt(1.0 - ab[t_next])
            for _ in range(n_corrector):
                score = eps_model(x, ab[t_next]) * (-1.0 / std)
                z = noise(x, generator)
                step_size = float(2 * alphas[t_next] * (r * norm(z) / norm(score).clamp_min(1e-12)) ** 2)
                x = x + step_size * score + math.sqrt(2 * step_size) * z
        return x, x0

    yield from drive(step, [(t, t - 1) for t in range(s.T, 0, -1)], x_T, divergence_factor)
