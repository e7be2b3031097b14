"""The probability-flow ODE solvers (Heun, DPM-Solver++), inversion, predictor–corrector, respacing, and the
precision / recall / mode-coverage metrics that judge them."""
import math

import numpy as np
import pytest
import torch

from explorer.data.datasets import exact_eps_model, toy_2d
from explorer.measure.metrics import mode_coverage, precision_recall, sliced_wasserstein
from explorer.diffusion.samplers import (SAMPLERS, ddim_sample, dpm_solver_sample, heun_sample, ode_encode, pc_sample,
                                         respaced_schedule, run_to_end)
from explorer.diffusion.schedules import make_schedule

MIXTURE = exact_eps_model("eight_gaussians")


def x_T(n=2000, seed=0):
    return torch.randn(n, 2, generator=torch.Generator().manual_seed(seed))


# --- precision and recall ---------------------------------------------------------------------------------------
def direct_precision_recall(samples: np.ndarray, data: np.ndarray, k: int) -> tuple[float, float]:
    """The definition, one pair of points at a time (O(n·m) Python loops): an independent computation."""
    def kth(X):
        return [sorted(math.dist(p, q) for q in X)[k] for p in X]  # index k: index 0 is the point itself
    r_data, r_samp = kth(data), kth(samples)
    inside = lambda p, centres, radii: any(math.dist(p, c) <= r for c, r in zip(centres, radii))  # noqa: E731
    return (sum(inside(p, data, r_data) for p in samples) / len(samples),
            sum(inside(p, samples, r_samp) for p in data) / len(data))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_precision_recall_against_the_definition(seed):
    g = np.random.default_rng(seed)
    data, samples = g.normal(size=(60, 2)), g.normal(0.4, 1.3, size=(45, 2))
    for k in (1, 3, 5):
        got = precision_recall(torch.tensor(samples), torch.tensor(data), k=k)
        assert got == pytest.approx(direct_precision_recall(samples, data, k), abs=1e-12)


def test_mode_collapse_lowers_recall_not_precision():
    data = toy_2d("eight_gaussians", 4000, 1)
    fresh = toy_2d("eight_gaussians", 2000, 2)
    p, r = precision_recall(fresh, data[:2000])
    # a fresh sample of the same law: both high. With k = 5 in 2D the balls miss a few percent at the edges
    assert p > 0.9 and r > 0.9
    half = fresh[fresh[:, 0] > 0.1]  # only the components on the right: about half of the modes
    p_c, r_c = precision_recall(half, data[:2000])
    assert p_c > 0.9 and r_c < 0.6  # quality stays, diversity falls
    cov_full, cov_half = mode_coverage(fresh, MIXTURE), mode_coverage(half, MIXTURE)
    # 2,000 samples over 8 equal weights: each share has SD √(w(1−w)/n) ≈ 0.0074
    assert cov_full["covered"] == 1.0 and cov_full["weight_error"] < 8 * 0.0074
    assert cov_half["covered"] <= 5 / 8 and cov_half["weight_error"] > 0.3


def test_diverged_samples_count_against_precision():
    data = toy_2d("eight_gaussians", 500, 1)
    bad = toy_2d("eight_gaussians", 500, 2).clone()
    bad[:100] = float("nan")
    p, r = precision_recall(bad, data)
    p_ok, _ = precision_recall(toy_2d("eight_gaussians", 500, 2), data)
    assert p == pytest.approx(p_ok * 0.8, abs=0.05) and 0 < r <= 1


# --- the solvers -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["linear", "cosine"])
def test_solvers_converge_to_the_pf_ode_solution(kind):
    s = make_schedule(kind, 1000)
    x = x_T()
    reference = run_to_end(heun_sample(MIXTURE, s, x)).x  # every one of the 1,000 levels
    assert (run_to_end(dpm_solver_sample(MIXTURE, s, x)).x - reference).norm(dim=1).mean() < 1e-3  # two solvers agree

    def error(sampler, n):
        return float((run_to_end(sampler(MIXTURE, s, x, n_steps=n)).x - reference).norm(dim=1).mean())
    for sampler in (heun_sample, dpm_solver_sample):  # second order: halving the step cuts the error > 2.4×
        assert error(sampler, 200) < error(sampler, 100) / 2.4 < error(sampler, 50) / 2.4
    ddim = lambda m, s, x, n_steps: ddim_sample(m, s, x, n_steps=n_steps)  # noqa: E731 — Euler: first order
    assert error(ddim, 100) / error(ddim, 200) < 2.4
    for n in (100, 200):
        assert error(heun_sample, n) < 0.75 * error(ddim, n)


@pytest.mark.parametrize("name", ["heun", "dpm", "pc"])
def test_samples_reproduce_the_mixture(name):
    s = make_schedule("linear", 1000)
    options = {"n_steps": 50} if name != "pc" else {}
    out = run_to_end(SAMPLERS[name].function(MIXTURE, s, x_T(), generator=torch.Generator().manual_seed(3),
                                             **options)).x
    data, second = toy_2d("eight_gaussians", 2000, 1), toy_2d("eight_gaussians", 2000, 2)
    assert sliced_wasserstein(out, data) < 2 * sliced_wasserstein(second, data)
    cov = mode_coverage(out, MIXTURE)
    assert cov["covered"] == 1.0 and cov["weight_error"] < 0.06


def test_encode_then_decode_returns_x0():
    s = make_schedule("linear", 1000)
    x0 = toy_2d("eight_gaussians", 1000, 4)
    x_T_enc = ode_encode(MIXTURE, s, x0, n_steps=200)
    back = run_to_end(heun_sample(MIXTURE, s, x_T_enc, n_steps=200)).x
    assert (back - x0).norm(dim=1).mean() < 1e-3
    # the encoded points look like N(0, I): per-coordinate variance within 4 SE (SE ≈ √(2/n) = 0.045)
    assert abs(float(x_T_enc.var(dim=0).mean()) - 1) < 4 * math.sqrt(2 / 1000)


def test_respaced_schedule_visits_the_original_levels():
    s = make_schedule("cosine", 1000)
    r = respaced_schedule(s, 10)
    assert r.T == 10
    taus = [0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]
    assert torch.allclose(r.alphas_cumprod, s.alphas_cumprod[taus], rtol=1e-9, atol=0)
    assert respaced_schedule(s, None) is s


def test_pc_with_no_corrector_is_ddpm():
    s = make_schedule("linear", 200)
    from explorer.diffusion.samplers import ddpm_sample
    a = run_to_end(pc_sample(MIXTURE, s, x_T(200), n_corrector=0, generator=torch.Generator().manual_seed(5))).x
    b = run_to_end(ddpm_sample(MIXTURE, s, x_T(200), generator=torch.Generator().manual_seed(5))).x
    assert torch.allclose(a, b, atol=1e-5)
