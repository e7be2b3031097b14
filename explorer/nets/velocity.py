"""The velocity networks of flow matching: the 2D MLP conditioned on the noise level of τ, wrapped as a
velocity model (x_τ, τ) -> v̂ ≈ E[ε − x_0 | x_τ] for the interpolant x_τ = (1 − τ) x_0 + τ ε."""
from __future__ import annotations

import math

import torch
from torch import nn

from .models import LOG_SNR_RANGE, differentiable


def tau_log_snr(tau):
    """The noise level of the flow interpolant x_τ = (1 − τ) x_0 + τ ε as a log-SNR, 2 log((1 − τ)/τ), clamped to
    LOG_SNR_RANGE: x_τ / √((1 − τ)² + τ²) is the VP state at ᾱ = (1 − τ)² / ((1 − τ)² + τ²). A float or a tensor."""
    lo, hi = LOG_SNR_RANGE
    if isinstance(tau, (float, int)):
        if tau <= 0:
            return hi
        if tau >= 1:
            return lo
        return min(max(2 * (math.log1p(-tau) - math.log(tau)), lo), hi)
    tau = torch.as_tensor(tau, dtype=torch.float64)
    return (2 * (torch.log1p(-tau.clamp(max=1.0)) - torch.log(tau.clamp(min=0.0)))).nan_to_num(hi).clamp(lo, hi)


class VelocityModel:
    """The velocity-model interface around a network trained by flow matching: (x_τ, τ) -> v̂ ≈ E[ε − x_0 | x_τ].
    The network is conditioned on the noise level of τ (tau_log_snr), as the eps networks are."""

    def __init__(self, net: nn.Module):
        self.net = net.eval()

    def __call__(self, x: torch.Tensor, tau) -> torch.Tensor:
        if x.requires_grad and torch.is_grad_enabled():
            return differentiable(self.net, x, torch.as_tensor(tau_log_snr(tau), dtype=torch.float64).reshape(-1))
        if isinstance(tau, (float, int)):  # the samplers' case: one τ for the batch
            return self.net.at_level(x, float(tau_log_snr(float(tau))))
        with torch.no_grad():
            return self.net(x, tau_log_snr(tau).reshape(-1).to(x.device, x.dtype))

    def to(self, device) -> "VelocityModel":
        self.net.to(device)
        return self
