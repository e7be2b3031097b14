"""Distances between sample sets and densities, for judging samplers and schedules."""
from __future__ import annotations

import math

import numpy as np
import torch

from .scores import GaussianMixture


def _flat64(a: torch.Tensor) -> torch.Tensor:
    a = torch.as_tensor(a)
    return a.reshape(a.shape[0], -1).to(torch.float64)


def _sorted_projections(X: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """(N, P): each column of X @ theta sorted. numpy sorts contiguous rows several times faster
    than torch sorts along dim 0 (about 0.4 ms against 3 ms for 2,000 points × 64 directions)."""
    rows = np.ascontiguousarray((X @ theta).numpy().T)
    rows.sort(axis=1)
    return torch.from_numpy(rows.T)


def _quantiles(sorted_proj: torch.Tensor, m: int) -> torch.Tensor:
    """Quantile function of each column at levels (i + ½)/m, by linear interpolation."""
    n = sorted_proj.shape[0]
    if n == m:
        return sorted_proj
    pos = (torch.arange(m, dtype=torch.float64) + 0.5) / m * n - 0.5
    pos = pos.clamp(0, n - 1)
    lo = pos.floor().long()
    hi = (lo + 1).clamp(max=n - 1)
    w = (pos - lo)[:, None]
    return sorted_proj[lo] * (1 - w) + sorted_proj[hi] * w


def sliced_wasserstein(a: torch.Tensor, b: torch.Tensor, n_projections: int = 256, seed: int = 0) -> float:
    """Sliced 2-Wasserstein distance: √(mean over random directions θ of W₂²(θᵀa, θᵀb)).

    a and b are (N, ...) and (M, ...) sample sets of the same shape per sample; sizes may differ.
    """
    A, B = _flat64(a).cpu(), _flat64(b).cpu()
    if A.shape[1] != B.shape[1]:
        raise ValueError(f"Samples have {A.shape[1]} and {B.shape[1]} coordinates; they must match.")
    if not (torch.isfinite(A).all() and torch.isfinite(B).all()):
        return math.inf
    theta = _directions(A.shape[1], n_projections, seed)
    return _sw_sorted(_sorted_projections(A, theta), _sorted_projections(B, theta))


class SortedSample:
    """A reference sample projected on n_projections directions and sorted once, for many
    sliced_wasserstein(x, reference) distances against it (the same value, without re-sorting it)."""

    def __init__(self, reference: torch.Tensor, n_projections: int = 256, seed: int = 0):
        B = _flat64(reference).cpu()
        self.theta = _directions(B.shape[1], n_projections, seed)
        self.sorted = _sorted_projections(B, self.theta)

    def distance(self, a: torch.Tensor) -> float:
        A = _flat64(a).cpu()
        if A.shape[1] != self.theta.shape[0]:
            raise ValueError(f"Samples have {A.shape[1]} and {self.theta.shape[0]} coordinates; they must match.")
        if not torch.isfinite(A).all():
            return math.inf
        return _sw_sorted(_sorted_projections(A, self.theta), self.sorted)


def _directions(d: int, n_projections: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    theta = torch.randn(d, n_projections, generator=g, dtype=torch.float64)
    return theta / theta.norm(dim=0, keepdim=True)


def _sw_sorted(pa: torch.Tensor, pb: torch.Tensor) -> float:
    m = max(len(pa), len(pb))
    return float(((_quantiles(pa, m) - _quantiles(pb, m)) ** 2).mean().sqrt())


def mmd_rbf(a: torch.Tensor, b: torch.Tensor, bandwidth: float | None = None) -> float:
    """Unbiased MMD² with k(x, y) = exp(−‖x−y‖²/2h²); h = median pairwise distance if not given."""
    A, B = _flat64(a), _flat64(b)
    Z = torch.cat([A, B])
    d2 = torch.cdist(Z, Z) ** 2
    if bandwidth is None:
        off = d2[~torch.eye(len(Z), dtype=torch.bool)]
        bandwidth = float(off.median().sqrt()) or 1.0
    k = torch.exp(-d2 / (2 * bandwidth ** 2))
    n, m = len(A), len(B)
    kaa, kbb, kab = k[:n, :n], k[n:, n:], k[:n, n:]
    term_a = (kaa.sum() - kaa.diagonal().sum()) / (n * (n - 1))
    term_b = (kbb.sum() - kbb.diagonal().sum()) / (m * (m - 1))
    return float(term_a + term_b - 2 * kab.mean())


def mean_log_likelihood(samples: torch.Tensor, mixture: GaussianMixture) -> float:
    """Mean of log p(x) over samples under the true mixture density (higher is better)."""
    return float(mixture.log_prob(_flat64(samples)).mean())


def kl_to_standard_normal(alpha_bar: float, x0: torch.Tensor) -> float:
    """Mean over data x_0 of KL(q(x_T | x_0) ‖ N(0, I)), q(x_T | x_0) = N(√ᾱ x_0, (1−ᾱ) I).

    KL = ½ Σ_d [(1−ᾱ) + ᾱ x_{0,d}² − 1 − log(1−ᾱ)], in nats per sample.
    """
    X = _flat64(x0)
    if alpha_bar >= 1.0:
        return math.inf
    d = X.shape[1]
    return float(0.5 * ((1 - alpha_bar) * d + alpha_bar * (X ** 2).sum(1) - d
                        - d * math.log1p(-alpha_bar)).mean())


def eps_loss(eps_model, x0: torch.Tensor, alpha_bar: float, generator: torch.Generator | None = None) -> float:
    """E‖ε − ε̂(x_t, ᾱ)‖² per coordinate at one noise level, x_t = √ᾱ x_0 + √(1−ᾱ) ε (DDPM eq. 14).

    With the exact ε of the data this is the lowest loss any network can reach at that level.
    """
    x0 = x0.double()
    eps = torch.randn(x0.shape, generator=generator, dtype=x0.dtype)
    x_t = math.sqrt(alpha_bar) * x0 + math.sqrt(1.0 - alpha_bar) * eps
    with torch.no_grad():
        return float(((eps - eps_model(x_t, alpha_bar).double()) ** 2).mean())
