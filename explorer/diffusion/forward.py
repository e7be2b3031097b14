"""The forward (noising) process q, step by step and in closed form.

DDPM (Ho et al. 2020) eq. 2:  x_t = √(1−β_t) x_{t−1} + √β_t η_t,   η_t ~ N(0, I)
DDPM eq. 4:                   x_t = √ᾱ_t x_0 + √(1−ᾱ_t) ε,          ε ~ N(0, I)
Everything runs on the device and in the dtype of the input tensor.
"""
from __future__ import annotations

import torch

from explorer.common.checks import whole_number
from .schedules import NoiseSchedule


def _check_t(t, s: NoiseSchedule, lowest: int) -> int:
    return whole_number(t, "t", lowest, s.T, hi_name=f"T = {s.T}")


def _noise_like(x: torch.Tensor, noise, generator) -> torch.Tensor:
    if noise is None:
        if generator is not None and generator.device != x.device:  # the same numbers on every device
            return torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)
        return torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    if noise.shape != x.shape:
        raise ValueError(f"noise has shape {tuple(noise.shape)} but x has shape {tuple(x.shape)}.")
    return noise


def q_step(x_prev: torch.Tensor, t: int, s: NoiseSchedule, noise: torch.Tensor | None = None,
           generator: torch.Generator | None = None) -> torch.Tensor:
    """Sample x_t ~ q(x_t | x_{t−1}) = N(√(1−β_t) x_{t−1}, β_t I) (DDPM eq. 2), t in 1..T."""
    t = _check_t(t, s, 1)
    eta = _noise_like(x_prev, noise, generator)
    beta = float(s.betas[t])
    return (1.0 - beta) ** 0.5 * x_prev + beta ** 0.5 * eta


def q_sample(x0: torch.Tensor, t, s: NoiseSchedule, noise: torch.Tensor | None = None,
             generator: torch.Generator | None = None) -> torch.Tensor:
    """Sample x_t ~ q(x_t | x_0) = N(√ᾱ_t x_0, (1−ᾱ_t) I) (DDPM eq. 4).

    t is one step for the whole batch, or a tensor of steps, one per sample (first axis).
    """
    eps = _noise_like(x0, noise, generator)
    if isinstance(t, torch.Tensor) and t.ndim > 0:
        if t.shape[0] != x0.shape[0] or t.ndim != 1:
            raise ValueError(f"per-sample t needs shape ({x0.shape[0]},); got {tuple(t.shape)}.")
        if int(t.min()) < 0 or int(t.max()) > s.T:
            raise ValueError(f"every t must lie between 0 and T = {s.T}.")
        view = (-1,) + (1,) * (x0.ndim - 1)
        idx = t.long().cpu()
        a = s.sqrt_alphas_cumprod[idx].to(x0.device, x0.dtype).view(view)
        b = s.sqrt_one_minus_alphas_cumprod[idx].to(x0.device, x0.dtype).view(view)
        return a * x0 + b * eps
    if isinstance(t, torch.Tensor):
        t = int(t)
    t = _check_t(t, s, 0)
    return float(s.sqrt_alphas_cumprod[t]) * x0 + float(s.sqrt_one_minus_alphas_cumprod[t]) * eps


def forward_trajectory(x0: torch.Tensor, s: NoiseSchedule, generator: torch.Generator | None = None,
                       ) -> torch.Tensor:
    """Run the Markov chain x_0 → x_1 → ... → x_T (DDPM eq. 2); returns (T+1, *x0.shape).

    trajectory[t] is x_t. The noise η_1..η_T is drawn straight into the preallocated result,
    which is then turned into the chain in place, one step at a time.
    """
    out = torch.empty((s.T + 1, *x0.shape), device=x0.device, dtype=x0.dtype)
    out[1:].normal_(generator=generator)  # out[t] holds η_t until step t overwrites it
    out[0] = x0
    keep = s.alphas.sqrt().tolist()  # √(1−β_t)
    add = s.betas.sqrt().tolist()  # √β_t
    for t in range(1, s.T + 1):
        out[t].mul_(add[t]).add_(out[t - 1], alpha=keep[t])
    return out


def closed_form_trajectory(x0: torch.Tensor, s: NoiseSchedule,
                           generator: torch.Generator | None = None) -> torch.Tensor:
    """x_t = √ᾱ_t x_0 + √(1−ᾱ_t) ε_t for every t with fresh ε_t each; (T+1, *x0.shape).

    Each slice has the same law as the chain's x_t, but slices are independent draws:
    this is DDPM eq. 4 applied T+1 times, for comparing with forward_trajectory.
    """
    view = (-1,) + (1,) * x0.ndim
    out = torch.empty((s.T + 1, *x0.shape), device=x0.device, dtype=x0.dtype)
    out.normal_(generator=generator)
    a = s.sqrt_alphas_cumprod.to(x0.device, x0.dtype).view(view)
    b = s.sqrt_one_minus_alphas_cumprod.to(x0.device, x0.dtype).view(view)
    return out.mul_(b).add_(a * x0)


def chain_noises(trajectory: torch.Tensor, s: NoiseSchedule) -> torch.Tensor:
    """Recover η_t = (x_t − √(1−β_t) x_{t−1}) / √β_t from a chain; index t−1 holds η_t."""
    view = (-1,) + (1,) * (trajectory.ndim - 1)
    keep = s.alphas[1:].sqrt().to(trajectory.device, trajectory.dtype).view(view)
    add = s.betas[1:].sqrt().to(trajectory.device, trajectory.dtype).view(view)
    return (trajectory[1:] - keep * trajectory[:-1]) / add


def invert_chain(x_T: torch.Tensor, s: NoiseSchedule, noises: torch.Tensor) -> torch.Tensor:
    """Undo DDPM eq. 2 with given noises: x_{t−1} = (x_t − √β_t η_t) / √(1−β_t), t = T..1.

    With the recorded η_t this returns the original x_0 exactly (up to rounding); with fresh
    noise it does not, which is why the reverse process needs a score instead.
    """
    x = x_T
    keep = s.alphas.sqrt().tolist()
    add = s.betas.sqrt().tolist()
    for t in range(s.T, 0, -1):
        x = (x - add[t] * noises[t - 1]) / keep[t]
    return x


def text_reverse_chain(x_T: torch.Tensor, s: NoiseSchedule, noises: torch.Tensor) -> torch.Tensor:
    """The source text's reverse step ε_t = √(1−β_t) ε_{t+1} − √β_t η_t, read with the forward step's indices:
    x_{t−1} = √(1−β_t) x_t − √β_t η_t for t = T..1 (noises[t−1] holds η_t, as from chain_noises).

    It multiplies by √(1−β_t) where undoing DDPM eq. 2 divides by it, so even the recorded noise does not
    bring x_0 back (compare invert_chain).
    """
    x = x_T
    keep = s.alphas.sqrt().tolist()
    add = s.betas.sqrt().tolist()
    for t in range(s.T, 0, -1):
        x = keep[t] * x - add[t] * noises[t - 1]
    return x
