"""Flows: sampling a flow-matching velocity field, and the likelihood of data through the PF-ODE.

Flow matching interpolates x_τ = (1 − τ) x_0 + τ ε, τ ∈ [0, 1]; its velocity is v = E[ε − x_0 | x_τ]
(GaussianMixture.velocity is exact), and dx/dτ = v carries N(0, I) at τ = 1 to the data at τ = 0.

ode_log_likelihood follows the diffusion's probability-flow ODE in EDM's variables (x̃ = x/√ᾱ,
σ = √((1−ᾱ)/ᾱ), dx̃/dσ = ε̂) from the data up to σ_T and adds the instantaneous change of variables
(Chen et al. 2018; Song et al. 2021): log p_0(x_0) = log p_T(x̃_T) + ∫ div_x̃ ε̂ dσ, with the exact 2D
divergence by autograd and an N(0, I) prior on x_T = √ᾱ_T x̃_T.

Reflow (Liu et al. 2023, "rectified flow"): couple each noise x_1 with the point the model's own ODE takes it
to (reflow_pairs), and train the velocity again on those couples (explorer.nets.training.reflow); the new paths are straighter (straightness: a path's
length over the distance between its ends, 1 for a straight line), so fewer steps reach the data.
"""
from __future__ import annotations

import math
from typing import Callable, Iterator

import torch

from explorer.common.checks import whole_number
from .schedules import NoiseSchedule
from .solvers import heun_sample, ode_encode
from .steps import DIVERGENCE_FACTOR, Step, check_x, drive, run_to_end


def flow_sample(velocity_model: Callable, x_1: torch.Tensor, n_steps: int, method: str = "euler",
                generator: torch.Generator | None = None,
                divergence_factor: float = DIVERGENCE_FACTOR) -> Iterator[Step]:
    """Integrate dx/dτ = v(x, τ) from τ = 1 (x_1 ~ N(0, I)) to τ = 0 in n_steps equal steps; Step.t is τ.
    method "euler" (one evaluation a step) or "heun" (two, the last step one): 2nd order."""
    check_x(x_1)
    n_steps = whole_number(n_steps, "The number of flow steps", 1, 10_000)
    if method not in ("euler", "heun"):
        raise ValueError(f"method must be 'euler' or 'heun'; got {method!r}.")
    taus = [1.0 - k / n_steps for k in range(n_steps + 1)]

    def step(x, tau, tau_next):
        v = velocity_model(x, tau)
        h = tau_next - tau  # negative: towards the data
        x_next = x + h * v
        if method == "heun" and tau_next > 0:
            x_next = x + h * 0.5 * (v + velocity_model(x_next, tau_next))
        return x_next, x - tau * v  # x̂_0 = x_τ − τ v (E[x_0 | x_τ] for the exact velocity)

    yield from drive(step, list(zip(taus[:-1], taus[1:])), x_1, divergence_factor,
                     name_step=lambda t, t_next: f"τ = {t:.3g} → {t_next:.3g}")


def _divergence(eps_model: Callable, x: torch.Tensor, a: float) -> tuple[torch.Tensor, torch.Tensor]:
    """ε̂(x, ᾱ) and its exact divergence Σ_i ∂ε̂_i/∂x_i (one backward pass per coordinate)."""
    with torch.enable_grad():
        x = x.detach().requires_grad_(True)
        eps = eps_model(x, a)
        div = torch.zeros(len(x), dtype=x.dtype)
        for i in range(x.shape[1]):
            div = div + torch.autograd.grad(eps[:, i].sum(), x, retain_graph=i + 1 < x.shape[1])[0][:, i]
    return eps.detach(), div.detach()


SIGMA_LO, SIGMA_TOP = 0.01, 1000.0  # the likelihood's ODE runs from σ = min(σ_1, SIGMA_LO) to min(σ_T, SIGMA_TOP)


def likelihood_levels(s: NoiseSchedule, n_steps: int | None = None) -> list[float]:
    """log σ (σ = √((1−ᾱ)/ᾱ)) of the likelihood's levels above σ = 0: n_steps levels (default T) spaced evenly in
    log σ from min(σ_1, SIGMA_LO) to min(σ_T, SIGMA_TOP). The integrand changes on the scale of log σ, so these
    levels converge for every schedule (the schedule's own levels leave a jump of thousands of σ units at
    cosine's end, and a constant β = 0.5 starts at σ_1 = 1). Above σ = 1,000, x = √ᾱ x̃ has variance
    1 + (v − 1)/(1 + σ²), 1 to within a few millionths for data of variance v, so the prior N(0, I) is applied there: the ODE beyond it maps
    that Gaussian onto itself. The levels ask the network for noise levels of their own (it is conditioned on
    the level, not a step index)."""
    n = s.T if n_steps is None else whole_number(n_steps, "The number of ODE steps", 1, 100_000)
    la_1, la_T = float(s.log_alphas_cumprod[1]), float(s.log_alphas_cumprod[s.T])
    lo, hi = (0.5 * (math.log(-math.expm1(la)) - la) for la in (la_1, la_T))  # log σ, finite for any ᾱ > 0 in logs
    lo, hi = min(lo, math.log(SIGMA_LO)), min(hi, math.log(SIGMA_TOP))
    if n == 1 or hi <= lo:
        return [hi]
    return [lo + (hi - lo) * k / (n - 1) for k in range(n)]


def _softplus(z: float) -> float:
    """log(1 + e^z) without overflow."""
    return z + math.log1p(math.exp(-z)) if z > 0 else math.log1p(math.exp(z))


def ode_log_likelihood(eps_model: Callable, s: NoiseSchedule, x_0: torch.Tensor, n_steps: int | None = None) -> torch.Tensor:
    """log p(x_0) (nats, one per row) of the model's probability-flow ODE: Heun steps in σ from 0 through
    likelihood_levels (n_steps levels evenly in log σ), the first step, from σ = 0, taking ε̂ at the lowest level;
    the N(0, I) prior on x = √ᾱ x̃ at the top level."""
    check_x(x_0)
    log_sig = likelihood_levels(s, n_steps)
    sig = [0.0] + [math.exp(ls) for ls in log_sig]
    log_root = [0.0] + [-0.5 * _softplus(2 * ls) for ls in log_sig]  # log √ᾱ = −½ log(1 + σ²)
    root = [math.exp(lr) for lr in log_root]
    x = x_0.detach().double()
    integral = torch.zeros(len(x), dtype=torch.float64)

    def slope(x_tilde, i):  # dx̃/dσ and its divergence in x̃ at level i: ε̂(√ᾱ x̃) and √ᾱ div_x ε̂
        r = root[i]
        eps, div = _divergence(eps_model, x_tilde * r, r * r)
        return eps.double(), div.double() * r

    for i in range(len(sig) - 1):
        h = sig[i + 1] - sig[i]
        d, div = slope(x, i + 1 if i == 0 else i)  # no ε̂ at σ = 0: take the first level's
        guess = x + h * d
        d2, div2 = slope(guess, i + 1)
        x = x + h * 0.5 * (d + d2)
        integral += h * 0.5 * (div + div2)
    x_T = x * root[-1]  # prior N(0, I) on x at the top level; log p(x̃) = log N(x; 0, I) + d log √ᾱ
    d = x.shape[1]
    log_prior = -0.5 * (x_T ** 2).sum(1) - 0.5 * d * math.log(2 * math.pi) + d * log_root[-1]
    return (log_prior + integral).float()


def round_trip(eps_model: Callable, s: NoiseSchedule, x_0: torch.Tensor, n_steps: int | None = None) -> dict:
    """Inversion: x_0 → x_T along the PF-ODE (solvers.ode_encode) and back with heun_sample on the same n_steps
    levels. {"x_T", "back", "error": ‖back − x_0‖ per point}."""
    x_T = ode_encode(eps_model, s, x_0, n_steps)
    if not torch.isfinite(x_T).all():
        raise ValueError("Encoding diverged: x_T overflowed on the way up (this schedule's last levels are too far "
                         "apart for these steps). Try more steps, a smaller β or a smaller T.")
    back = run_to_end(heun_sample(eps_model, s, x_T, n_steps)).x
    return {"x_T": x_T, "back": back, "error": (back.double() - x_0.double()).norm(dim=1)}


def straightness(path: list[torch.Tensor]) -> torch.Tensor:
    """Per point: the length of the polyline path[0] → path[1] → … over the distance between its ends (≥ 1)."""
    xs = torch.stack([p.double() for p in path])  # (K, n, d)
    length = (xs[1:] - xs[:-1]).norm(dim=-1).sum(0)
    return (length / (xs[-1] - xs[0]).norm(dim=-1).clamp_min(1e-12)).float()


def reflow_pairs(velocity_model: Callable, n: int, n_steps: int = 100, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """(x_0, x_1): n noise draws x_1 ~ N(0, I) and where the model's ODE (Heun, n_steps) takes each."""
    x_1 = torch.randn(n, 2, generator=torch.Generator().manual_seed(seed))
    *_, last = flow_sample(velocity_model, x_1, n_steps, method="heun")
    return last.x, x_1
