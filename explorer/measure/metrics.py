"""Distances between sample sets and densities, for judging samplers and schedules."""
from __future__ import annotations

import math

import numpy as np
import torch

from explorer.diffusion.scores import GaussianMixture


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


def _kth_radius(X: torch.Tensor, k: int, chunk: int = 2048) -> torch.Tensor:
    """Distance from each point of X to its k-th nearest other point of X."""
    out = []
    for i in range(0, len(X), chunk):
        d = torch.cdist(X[i:i + chunk], X)
        # k + 1: the point itself is at distance 0 (topk of k + 1 is 3× faster than kthvalue here)
        out.append(d.topk(k + 1, dim=1, largest=False).values[:, k])
    return torch.cat(out)


def _inside(points: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor, chunk: int = 2048) -> torch.Tensor:
    """For each point: is it within radii[j] of some centre j?"""
    out = []
    for i in range(0, len(points), chunk):
        d = torch.cdist(points[i:i + chunk], centres)
        out.append((d <= radii[None, :]).any(dim=1))
    return torch.cat(out) if out else torch.zeros(0, dtype=torch.bool)


def manifold_radii(data: torch.Tensor, k: int = 5) -> torch.Tensor:
    """The k-NN radii of a data set, for precision_recall(…, data_radii=…) when one data set judges many runs."""
    return _kth_radius(_flat64(data), int(k))


def precision_recall(samples: torch.Tensor, data: torch.Tensor, k: int = 5,
                     data_radii: torch.Tensor | None = None) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019), from k-nearest-neighbour balls.

    The data's manifold is the union of balls around each data point reaching its k-th nearest other
    data point; precision is the share of samples inside it (quality). Recall swaps the roles: the share
    of data points inside the samples' manifold (diversity). Samples that are not finite (a diverged run)
    count as outside and span no ball.
    """
    S, D = _flat64(samples), _flat64(data)
    k = int(k)
    if not 1 <= k < min(len(D), max(len(S), 2)):
        raise ValueError(f"k must be at least 1 and below the number of points; got k = {k} for "
                         f"{len(S)} samples and {len(D)} data points.")
    finite = torch.isfinite(S).all(dim=1)
    S_ok = S[finite]
    radii = _kth_radius(D, k) if data_radii is None else data_radii
    precision = float(_inside(S_ok, D, radii).sum()) / len(S) if len(S) else 0.0
    if len(S_ok) <= k:
        return precision, 0.0
    recall = float(_inside(D, S_ok, _kth_radius(S_ok, k)).sum()) / len(D)
    return precision, recall


def mode_coverage(samples: torch.Tensor, mixture: GaussianMixture) -> dict:
    """How a sample spreads over a mixture's components: each finite sample goes to the component most
    likely to have made it (w_k N(x; μ_k, Σ_k) largest). Returns the share each component received, the
    share of components covered (receiving at least a quarter of their weight) and the weight error
    ½ Σ_k |share_k − w_k| (total variation: 0 when the shares match the weights, 1 when disjoint)."""
    S = _flat64(samples)
    S = S[torch.isfinite(S).all(dim=1)]
    w = mixture.weights
    lam, U = mixture._eig
    if len(S) == 0:
        shares = torch.zeros_like(w)
    else:
        diff = S[:, None, :] - mixture.means[None]  # (n, K, d)
        z = torch.einsum("nkd,kde->nke", diff, U) / lam.sqrt()[None]
        logp = torch.log(w)[None] - 0.5 * (z ** 2).sum(-1) - 0.5 * torch.log(lam).sum(-1)[None]
        counts = torch.bincount(logp.argmax(dim=1), minlength=len(w)).double()
        shares = counts / len(samples)
    covered = float((shares >= 0.25 * w).double().mean())
    return {"shares": shares.numpy(), "covered": covered, "weight_error": float(0.5 * (shares - w).abs().sum())}
