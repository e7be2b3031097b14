"""Tolerances derived from the sample size, shared by the statistical tests.

Z = 5 standard errors: a correct implementation fails a single check with probability
about 6e-7 (two-sided normal tail), so a red test means a real bug, not bad luck.
"""
import math

import torch

Z = 5.0
KS_CRIT_001 = 1.95  # Kolmogorov–Smirnov: P(√n D_n > 1.95) ≈ 0.001 for large n


def mean_tol(std: float, n: int) -> float:
    """Z standard errors of a sample mean."""
    return Z * std / math.sqrt(n)


def var_tol(x: torch.Tensor) -> float:
    """Z standard errors of a sample variance: SE² ≈ (μ₄ − σ⁴)/n, μ₄ estimated from x."""
    x = x.double().flatten()
    c = x - x.mean()
    m4, v = (c ** 4).mean(), (c ** 2).mean()
    return Z * math.sqrt(float(m4 - v ** 2) / len(x))


def ks_normal(x: torch.Tensor) -> float:
    """√n × the Kolmogorov–Smirnov distance between x's empirical CDF and N(0, 1)."""
    x, _ = x.double().flatten().sort()
    n = len(x)
    cdf = 0.5 * (1 + torch.erf(x / math.sqrt(2)))
    i = torch.arange(1, n + 1, dtype=torch.float64)
    d = torch.maximum(i / n - cdf, cdf - (i - 1) / n).max()
    return float(d) * math.sqrt(n)
