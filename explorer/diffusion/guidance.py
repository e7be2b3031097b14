"""Classifier-free guidance (Ho & Salimans 2022): ε_u + scale·(ε_c − ε_u).

scale 1 is the conditional model, 0 the unconditional one, above 1 guidance pushes past the class
(the convention of diffusers and of image generators' "guidance scale"). `interval` applies guidance
only for noise levels inside it (Kynkäänniemi et al. 2024) and the conditional model elsewhere.
"""
from __future__ import annotations

import math
from numbers import Real
from typing import Callable

import torch


def check_scale(scale) -> float:
    if isinstance(scale, bool) or not isinstance(scale, Real) or math.isnan(scale) or not math.isfinite(scale):
        raise ValueError(f"The guidance scale must be a finite number; got {scale!r}.")
    return float(scale)


def cfg_eps_model(eps_cond: Callable, eps_uncond: Callable, scale: float,
                  interval: tuple[float, float] | None = None) -> Callable:
    """The guided ε model (x, ᾱ) -> ε_u + scale·(ε_c − ε_u). interval = (lo, hi) in ᾱ: guide only while
    lo ≤ ᾱ ≤ hi, use ε_c elsewhere."""
    scale = check_scale(scale)

    def guided(x: torch.Tensor, alpha_bar):
        if interval is not None and isinstance(alpha_bar, float) and not interval[0] <= alpha_bar <= interval[1]:
            return eps_cond(x, alpha_bar)
        e_c = eps_cond(x, alpha_bar)
        if scale == 1.0:
            return e_c
        e_u = eps_uncond(x, alpha_bar)
        return e_u + scale * (e_c - e_u)

    return guided
