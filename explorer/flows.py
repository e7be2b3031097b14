"""Flows: sampling a flow-matching velocity field, and the likelihood of data through the PF-ODE.

Flow matching interpolates x_τ = (1 − τ) x_0 + τ ε, τ ∈ [0, 1]; its velocity is v = E[ε − x_0 | x_τ]
(GaussianMixture.velocity is exact), and dx/dτ = v carries N(0, I) at τ = 1 to the data at τ = 0.

ode_log_likelihood follows the diffusion's probability-flow ODE in EDM's variables (x̃ = x/√ᾱ,
σ = √((1−ᾱ)/ᾱ), dx̃/dσ = ε̂) from the data up to σ_T and adds the instantaneous change of variables
(Chen et al. 2018; Song et al. 2021): log p_0(x_0) = log p_T(x̃_T) + ∫ div_x̃ ε̂ dσ, with the exact 2D
divergence by autograd and an N(0, I) prior on x_T = √ᾱ_T x̃_T.
"""
from __future__ import annotations

import math
from typing import Callable, Iterator

import torch

from .checks import whole_number
from .schedules import NoiseSchedule
from .solvers import ode_levels
from .steps import DIVERGENCE_FACTOR, Step, check_x, drive


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


def ode_log_likelihood(eps_model: Callable, s: NoiseSchedule, x_0: torch.Tensor, n_steps: int | None = None) -> torch.Tensor:
    """log p(x_0) (nats, one per row) of the model's probability-flow ODE on the schedule's levels respaced to
    n_steps, Heun steps in σ; the first step, from σ = 0, evaluates ε̂ at the first level."""
    check_x(x_0)
    taus, ab, _, sig = (level[::-1] for level in ode_levels(s, n_steps))  # 0 … T
    x = x_0.detach().double()
    integral = torch.zeros(len(x), dtype=torch.float64)

    def slope(x_tilde, i):  # dx̃/dσ and its divergence in x̃ at level i: ε̂(√ᾱ x̃) and √ᾱ div_x ε̂
        r = math.sqrt(ab[i])
        eps, div = _divergence(eps_model, x_tilde * r, ab[i])
        return eps.double(), div.double() * r

    for i in range(len(taus) - 1):
        h = sig[i + 1] - sig[i]
        j = i + 1 if sig[i] == 0 else i  # no ε̂ at σ = 0: take the first level's
        d, div = slope(x, j)
        guess = x + h * d
        d2, div2 = slope(guess, i + 1)
        x = x + h * 0.5 * (d + d2)
        integral += h * 0.5 * (div + div2)
    r = math.sqrt(ab[-1])
    x_T = x * r  # prior N(0, I) on x_T; log p(x̃_T) = log N(x_T; 0, I) + d log √ᾱ_T
    d = x.shape[1]
    log_prior = -0.5 * (x_T ** 2).sum(1) - 0.5 * d * math.log(2 * math.pi) + d * math.log(r)
    return (log_prior + integral).float()
