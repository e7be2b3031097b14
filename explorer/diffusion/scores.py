"""Exact noise predictors ("eps models") for distributions whose noised density is known.

An eps model is any callable (x_t, alpha_bar) -> ε̂ with the shape of x_t, where alpha_bar is
a scalar or one value per sample. Under VP noising x_t = √ᾱ x_0 + √(1−ᾱ) ε the optimal
predictor is ε*(x_t) = −√(1−ᾱ) ∇log q_ᾱ(x_t), and Tweedie's formula gives
E[x_0 | x_t] = (x_t − √(1−ᾱ) ε*) / √ᾱ.
"""
from __future__ import annotations

import math

import torch

MIN_NOISE_VAR = 1e-12  # floor on 1−ᾱ so the score at ᾱ → 1 stays finite
QUERY_CHUNK_ELEMENTS = 2 ** 22  # queries × points per chunk in EmpiricalData: 16 MB of float32
LEVELS_KEPT = 6_000  # noise levels whose per-component terms a mixture keeps (~1 kB each): a T = 5,000 run


def _alpha_bar_view(alpha_bar, x: torch.Tensor) -> torch.Tensor:
    """ᾱ as a tensor on x's device and dtype: shape () or (N,) for a batch of N."""
    ab = torch.as_tensor(alpha_bar, dtype=x.dtype, device=x.device)
    if ab.numel() == 1:
        return ab.reshape(())
    if ab.ndim != 1 or ab.shape[0] != x.shape[0]:
        raise ValueError(f"alpha_bar must be a scalar or have one value per sample ({x.shape[0]}); "
                         f"got shape {tuple(ab.shape)}.")
    return ab


class GaussianMixture:
    """p(x_0) = Σ_k w_k N(μ_k, Σ_k), and its exact VP-noised density, score and ε.

    Noised to level ᾱ: q_ᾱ(x) = Σ_k w_k N(√ᾱ μ_k, ᾱ Σ_k + (1−ᾱ) I). Each Σ_k is diagonalised
    once (Σ_k = U_k diag(λ_k) U_kᵀ), so every noise level costs only a rescaling of λ.
    """

    def __init__(self, weights, means, covs):
        w = torch.as_tensor(weights, dtype=torch.float64).flatten()
        mu = torch.as_tensor(means, dtype=torch.float64)
        if mu.ndim != 2:
            raise ValueError(f"means must have shape (K, d); got {tuple(mu.shape)}.")
        K, d = mu.shape
        if w.shape != (K,):
            raise ValueError(f"weights must have one entry per component ({K}); got {w.numel()}.")
        if not torch.isfinite(w).all() or (w <= 0).any():
            raise ValueError("mixture weights must be positive finite numbers.")
        if not torch.isfinite(mu).all():
            raise ValueError("mixture means must be finite numbers.")
        cov = torch.as_tensor(covs, dtype=torch.float64)
        if cov.shape == (K,):  # isotropic variances
            cov = cov[:, None, None] * torch.eye(d, dtype=torch.float64)
        elif cov.shape == (K, d):  # diagonal variances
            cov = torch.diag_embed(cov)
        elif cov.shape != (K, d, d):
            raise ValueError(f"covs must have shape (K,), (K, d) or (K, d, d); got {tuple(cov.shape)}.")
        if not torch.isfinite(cov).all() or not torch.allclose(cov, cov.transpose(-1, -2)):
            raise ValueError("each covariance must be a finite symmetric matrix.")
        lam, U = torch.linalg.eigh(cov)
        if (lam <= 0).any():
            raise ValueError("each covariance must be positive definite (all eigenvalues > 0).")
        self.weights = w / w.sum()
        self.means, self.covs = mu, cov
        self.dim, self.n_components = d, K
        self._eig = (lam, U)
        self._cast: dict = {}
        self._levels: dict = {}

    def _on(self, x: torch.Tensor):
        key = (x.device, x.dtype)
        if key not in self._cast:
            lam, U = self._eig
            self._cast[key] = tuple(a.to(x.device, x.dtype) for a in
                                    (self.weights.log(), self.means, lam, U))
        return self._cast[key]

    def _parts(self, x: torch.Tensor, alpha_bar):
        """Per-component log densities (N, K) and whitened residuals for x ~ q_ᾱ."""
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"x must have shape (N, {self.dim}); got {tuple(x.shape)}.")
        log_w, mu, lam, U = self._on(x)
        ab = _alpha_bar_view(alpha_bar, x)
        ab3 = ab.reshape(-1, 1, 1) if ab.ndim else ab
        var = ab3 * lam + (1.0 - ab3)  # (K, d) or (N, K, d): eigenvalues of ᾱΣ_k + (1−ᾱ)I
        diff = x[:, None, :] - ab3.sqrt() * mu  # (N, K, d)
        z = torch.einsum("nkd,kde->nke", diff, U)  # residual in each component's eigenbasis
        w = z / var  # C_k^{-1} (x − m_k), eigenbasis
        logdet = var.log().sum(-1)
        log_comp = log_w - 0.5 * ((z * w).sum(-1) + logdet + self.dim * math.log(2 * math.pi))
        return log_comp, w, U

    def _parts_shared(self, x: torch.Tensor, a: float):
        """Fast path for one ᾱ shared by the batch: log densities (K, N) through matmuls.

        With precisions P_k = C_k^{-1} and means m_k = √ᾱ μ_k,
        (x−m_k)ᵀP_k(x−m_k) = vec(x xᵀ)·vec(P_k) − 2 m_kᵀP_k x + m_kᵀP_k m_k.
        Components run along the first axis so the softmax over them is a few row operations.
        """
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"x must have shape (N, {self.dim}); got {tuple(x.shape)}.")
        prec_flat, pm, const = self._level(a, x)
        d = self.dim
        xt = x.T  # (d, N)
        xx = (xt[:, None, :] * xt[None, :, :]).reshape(d * d, -1)  # vec(x xᵀ), (d², N)
        log_comp = torch.addmm(const[:, None], pm, xt).addmm_(prec_flat, xx, alpha=-0.5)  # (K, N)
        return log_comp, prec_flat, pm

    def _level(self, a: float, x: torch.Tensor):
        """What q_ᾱ's components need at one noise level, whatever x: precisions P_k (flattened, (K, d²)),
        P_k m_k (K, d) and the log-density constants (K,). Kept per (ᾱ, device, dtype): a sampling run
        meets each ᾱ of its schedule once, and the next run of the same schedule meets them again."""
        key = (a, x.device, x.dtype)
        hit = self._levels.get(key)
        if hit is not None:
            return hit
        log_w, mu, lam, U = self._on(x)
        d = self.dim
        var = a * lam + (1.0 - a)  # (K, d)
        prec = (U / var[:, None, :]) @ U.transpose(1, 2)  # (K, d, d)
        pm = (prec @ (math.sqrt(a) * mu)[:, :, None]).squeeze(-1)  # P_k m_k, (K, d)
        const = log_w - 0.5 * ((pm * mu).sum(-1) * math.sqrt(a) + var.log().sum(-1)
                               + d * math.log(2 * math.pi))
        if len(self._levels) >= LEVELS_KEPT:
            self._levels.clear()  # bounded: a few schedules' worth of levels
        self._levels[key] = out = (prec.reshape(-1, d * d), pm, const)
        return out

    def narrowest_variance(self, alpha_bar: float) -> float:
        """The smallest variance of any component of q_ᾱ: min eigenvalue of ᾱΣ_k + (1−ᾱ)I."""
        return float(alpha_bar * self._eig[0].min() + 1.0 - alpha_bar)

    def log_prob(self, x: torch.Tensor, alpha_bar=1.0) -> torch.Tensor:
        """log q_ᾱ(x) for each row of x (ᾱ = 1: the data density itself); shape (N,)."""
        ab = _alpha_bar_view(alpha_bar, x)
        if ab.ndim == 0:
            return torch.logsumexp(self._parts_shared(x, float(ab))[0], dim=0)
        return torch.logsumexp(self._parts(x, ab)[0], dim=1)

    def score(self, x_t: torch.Tensor, alpha_bar) -> torch.Tensor:
        """∇_x log q_ᾱ(x_t) = −Σ_k r_k(x) C_k^{-1}(x − √ᾱ μ_k), r_k the responsibilities."""
        ab = _alpha_bar_view(alpha_bar, x_t)
        if ab.ndim == 0:
            log_comp, prec_flat, pm = self._parts_shared(x_t, float(ab))
            r = torch.softmax(log_comp, dim=0)  # responsibilities, (K, N); no in-place ops: autograd can
            d = self.dim                        # differentiate the score (the ODE likelihood's divergence)
            mixed_prec = (prec_flat.T @ r).view(d, d, -1)  # Σ_k r_k P_k, (d, d, N)
            return ((pm.T @ r) - (mixed_prec * x_t.T[None, :, :]).sum(1)).T
        log_comp, w, U = self._parts(x_t, ab)
        r = torch.softmax(log_comp, dim=1)
        return -torch.einsum("nk,nke,kde->nd", r, w, U)

    def eps(self, x_t: torch.Tensor, alpha_bar) -> torch.Tensor:
        """ε*(x_t) = −√(1−ᾱ) ∇log q_ᾱ(x_t): the noise an ideal network would predict."""
        ab = _alpha_bar_view(alpha_bar, x_t)
        s = (1.0 - ab).clamp_min(0).sqrt()
        return -(s.reshape(-1, 1) if ab.ndim else s) * self.score(x_t, alpha_bar)

    __call__ = eps

    def velocity(self, x: torch.Tensor, tau) -> torch.Tensor:
        """The exact flow-matching velocity E[ε − x_0 | x_τ] for x_τ = (1 − τ) x_0 + τ ε (τ a float in [0, 1]).

        x_τ is a rescaled VP state: with a = 1 − τ, s = √(a² + τ²), x_τ/s = √ᾱ x_0 + √(1−ᾱ) ε at ᾱ = a²/s²,
        so E[ε | x_τ] = ε*(x_τ/s, ᾱ) and E[x_0 | x_τ] = (x_τ − τ E[ε | x_τ])/a; hence v = (E[ε | x_τ] − x_τ)/a.
        At τ = 1, x_1 = ε: v = x_1 − E[x_0]."""
        tau = float(tau)
        if not 0.0 <= tau <= 1.0:
            raise ValueError(f"τ must lie in [0, 1]; got {tau}.")
        a = 1.0 - tau
        if a < 1e-9:
            return x - (self.weights[:, None] * self.means).sum(0).to(x.dtype)
        s = math.hypot(a, tau)
        return (self.eps(x / s, (a / s) ** 2) - x) / a

    def sample(self, n: int, generator: torch.Generator | None = None,
               dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """Draw n points x_0 ~ p(x_0); shape (n, d)."""
        k = torch.multinomial(self.weights, n, replacement=True, generator=generator)
        z = torch.randn((n, self.dim), generator=generator, dtype=torch.float64)
        lam, U = self._eig
        x = self.means[k] + torch.einsum("nde,ne->nd", U[k], lam[k].sqrt() * z)
        return x.to(dtype)


class EmpiricalData:
    """The exact optimal denoiser of a finite set {x^(i)}: it reproduces (memorises) the set.

    q_ᾱ is the mixture (1/M) Σ_i N(√ᾱ x^(i), (1−ᾱ) I), so
    E[x_0 | x_t] = Σ_i softmax_i(−‖x_t − √ᾱ x^(i)‖² / 2(1−ᾱ)) x^(i), computed with log-sum-exp
    in chunks of queries so memory stays at QUERY_CHUNK_ELEMENTS.
    """

    def __init__(self, points: torch.Tensor):
        pts = torch.as_tensor(points)
        if pts.ndim < 2 or pts.shape[0] < 1:
            raise ValueError("EmpiricalData needs a batch of at least one point, shape (M, ...).")
        if not pts.is_floating_point():
            pts = pts.float()
        if not torch.isfinite(pts).all():
            raise ValueError("EmpiricalData points must be finite numbers (no NaN or inf).")
        self.points = pts
        self._flat = pts.reshape(pts.shape[0], -1)
        self._sqnorm = (self._flat ** 2).sum(1)
        self._cast: dict = {}

    def _on(self, x: torch.Tensor):
        key = (x.device, x.dtype)
        if key not in self._cast:
            self._cast[key] = (self._flat.to(x.device, x.dtype), self._sqnorm.to(x.device, x.dtype))
        return self._cast[key]

    def denoise(self, x_t: torch.Tensor, alpha_bar) -> torch.Tensor:
        """E[x_0 | x_t] under q_ᾱ (Tweedie's posterior mean); shape of x_t."""
        if x_t.shape[1:] != self.points.shape[1:]:
            raise ValueError(f"x_t has samples of shape {tuple(x_t.shape[1:])}, the data "
                             f"{tuple(self.points.shape[1:])}.")
        P, P2 = self._on(x_t)
        ab = _alpha_bar_view(alpha_bar, x_t)
        N = x_t.shape[0]
        q = x_t.reshape(N, -1)
        out = torch.empty_like(q)
        chunk = max(1, QUERY_CHUNK_ELEMENTS // P.shape[0])
        if ab.ndim == 0:  # one ᾱ for all: the logits are a single fused matmul + bias
            a = float(ab)
            noise_var = max(1.0 - a, MIN_NOISE_VAR)
            weight = P.T * (math.sqrt(a) / noise_var)  # (D, M)
            bias = P2 * (-0.5 * a / noise_var)  # (M,)
            for i in range(0, N, chunk):
                logits = torch.addmm(bias, q[i:i + chunk], weight)
                out[i:i + chunk] = torch.softmax(logits, dim=1) @ P
            return out.reshape(x_t.shape)
        for i in range(0, N, chunk):
            a = ab[i:i + chunk, None]
            noise_var = (1.0 - a).clamp_min(MIN_NOISE_VAR)
            # −‖x − √ᾱ p‖²/2(1−ᾱ) up to a per-row constant: (√ᾱ x·p − ᾱ‖p‖²/2) / (1−ᾱ)
            logits = (a.sqrt() * (q[i:i + chunk] @ P.T) - 0.5 * a * P2) / noise_var
            out[i:i + chunk] = torch.softmax(logits, dim=1) @ P
        return out.reshape(x_t.shape)

    def eps(self, x_t: torch.Tensor, alpha_bar) -> torch.Tensor:
        """ε* = (x_t − √ᾱ E[x_0 | x_t]) / √(1−ᾱ)."""
        ab = _alpha_bar_view(alpha_bar, x_t)
        view = (-1,) + (1,) * (x_t.ndim - 1)
        a = ab.reshape(view) if ab.ndim else ab
        return (x_t - a.sqrt() * self.denoise(x_t, alpha_bar)) / (1.0 - a).clamp_min(MIN_NOISE_VAR).sqrt()

    __call__ = eps

    def score(self, x_t: torch.Tensor, alpha_bar) -> torch.Tensor:
        """∇log q_ᾱ(x_t) = −ε*/√(1−ᾱ)."""
        ab = _alpha_bar_view(alpha_bar, x_t)
        view = (-1,) + (1,) * (x_t.ndim - 1)
        a = ab.reshape(view) if ab.ndim else ab
        return -self.eps(x_t, alpha_bar) / (1.0 - a).clamp_min(MIN_NOISE_VAR).sqrt()

    def narrowest_variance(self, alpha_bar: float) -> float:
        """Each bump of q_ᾱ has variance 1 − ᾱ."""
        return max(1.0 - float(alpha_bar), MIN_NOISE_VAR)

    def log_prob(self, x: torch.Tensor, alpha_bar=1.0) -> torch.Tensor:
        """log q_ᾱ(x) = log (1/M) Σ_i N(x; √ᾱ x^(i), (1−ᾱ) I) per row of x (needs ᾱ < 1)."""
        P, P2 = self._on(x)
        a = float(alpha_bar)
        var = max(1.0 - a, MIN_NOISE_VAR)
        q = x.reshape(x.shape[0], -1)
        d2 = ((q ** 2).sum(1, keepdim=True) - 2 * math.sqrt(a) * q @ P.T + a * P2).clamp_min(0)
        D = q.shape[1]
        return torch.logsumexp(-d2 / (2 * var), dim=1) - math.log(P.shape[0]) - 0.5 * D * math.log(2 * math.pi * var)

    def nearest(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(index, distance) of the closest stored point to each row of x."""
        P, P2 = self._on(x)
        q = x.reshape(x.shape[0], -1)
        d2 = (q ** 2).sum(1, keepdim=True) - 2 * q @ P.T + P2
        dist, idx = d2.clamp_min(0).min(dim=1)
        return idx, dist.sqrt()


def tweedie_x0(x_t: torch.Tensor, eps: torch.Tensor, alpha_bar: float) -> torch.Tensor:
    """x̂_0 = (x_t − √(1−ᾱ) ε̂) / √ᾱ (Tweedie's formula in ε form)."""
    return (x_t - math.sqrt(max(1.0 - alpha_bar, 0.0)) * eps) / math.sqrt(max(alpha_bar, MIN_NOISE_VAR))


def field_on_grid(model, alpha_bar: float, extent: float, n: int, dtype=torch.float32):
    """Score s(x) = −ε̂(x)/√(1−ᾱ) of an eps model on an n × n grid over [−extent, extent]².

    Returns (grid (n, n, 2), score (n, n, 2)); works for exact models and networks alike.
    """
    axis = torch.linspace(-extent, extent, n, dtype=dtype)
    gx, gy = torch.meshgrid(axis, axis, indexing="xy")
    grid = torch.stack([gx, gy], -1).reshape(-1, 2)
    with torch.no_grad():
        if hasattr(model, "score"):  # exact models: the score itself, finite even where 1 − ᾱ rounds to 0
            score = model.score(grid, alpha_bar)
        else:
            score = -model(grid, alpha_bar) / math.sqrt(max(1.0 - alpha_bar, MIN_NOISE_VAR))
    return grid.reshape(n, n, 2), score.reshape(n, n, 2)
