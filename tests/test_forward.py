"""The forward process: moments and laws against theory, tolerances from the sample size."""
import math

import pytest
import torch
from stats import KS_CRIT_001, ks_normal, mean_tol, var_tol

from explorer.data.datasets import toy_2d
from explorer.diffusion.forward import (chain_noises, closed_form_trajectory, forward_trajectory, invert_chain,
                                        text_reverse_chain, q_sample, q_step)
from explorer.diffusion.schedules import make_schedule

N = 20_000


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_q_sample_moments_match_ddpm_eq4():
    s = make_schedule("linear", T=1000)
    x0 = torch.full((N, 2), 1.5, dtype=torch.float64)
    for t in (1, 100, 500, 1000):
        xt = q_sample(x0, t, s, generator=gen(t))
        a, sd = math.sqrt(s.alphas_cumprod[t]), math.sqrt(1 - s.alphas_cumprod[t])
        assert abs(float(xt.mean()) - 1.5 * a) < mean_tol(sd, xt.numel())
        assert abs(float(xt.var()) - sd ** 2) < var_tol(xt)
        assert ks_normal((xt - 1.5 * a) / sd) < KS_CRIT_001


def test_q_step_moments_match_ddpm_eq2():
    s = make_schedule("constant", T=10, beta=0.3)
    x = torch.full((N,), -2.0, dtype=torch.float64)
    y = q_step(x, 4, s, generator=gen())
    assert abs(float(y.mean()) + 2 * math.sqrt(0.7)) < mean_tol(math.sqrt(0.3), N)
    assert ks_normal((y + 2 * math.sqrt(0.7)) / math.sqrt(0.3)) < KS_CRIT_001


def test_q_sample_with_given_noise_is_exact_and_per_sample_t():
    s = make_schedule("cosine", T=50)
    x0, eps = torch.randn(4, 3, generator=gen(1)), torch.randn(4, 3, generator=gen(2))
    t = torch.tensor([0, 1, 25, 50])
    out = q_sample(x0, t, s, noise=eps)
    for i in range(4):
        ab = float(s.alphas_cumprod[t[i]])
        assert torch.allclose(out[i], math.sqrt(ab) * x0[i] + math.sqrt(1 - ab) * eps[i], atol=1e-6)
    assert torch.equal(q_sample(x0, 0, s, noise=eps), x0)


@pytest.mark.parametrize("kind", ["linear", "cosine", "geometric"])
def test_chain_agrees_with_closed_form_in_distribution(kind):
    """Given x_0, the chain's x_t must be N(√ᾱ_t x_0, (1−ᾱ_t) I), like eq. 4."""
    s = make_schedule(kind, T=200)
    x0 = toy_2d("two_moons", N // 4, seed=3)
    traj = forward_trajectory(x0, s, generator=gen(4))
    assert traj.shape == (201, N // 4, 2) and torch.equal(traj[0], x0)
    for t in (1, 50, 200):
        a, sd = float(s.sqrt_alphas_cumprod[t]), float(s.sqrt_one_minus_alphas_cumprod[t])
        z = (traj[t] - a * x0) / sd
        n = z.numel()
        assert abs(float(z.mean())) < mean_tol(1.0, n)
        assert abs(float(z.var()) - 1) < var_tol(z)
        assert ks_normal(z) < KS_CRIT_001
        # the two coordinates stay uncorrelated
        corr = float((z[:, 0] * z[:, 1]).mean())
        assert abs(corr) < mean_tol(1.0, len(z))


def test_chain_steps_are_markov_with_eq2_noise():
    s = make_schedule("linear", T=100, beta_start=0.01, beta_end=0.2)
    traj = forward_trajectory(torch.zeros(N // 10, 2), s, generator=gen(5))
    eta = chain_noises(traj.double(), s)
    assert eta.shape == (100, N // 10, 2)
    assert ks_normal(eta[[0, 49, 99]]) < KS_CRIT_001
    # successive noises are independent: lag-1 correlation ~ 0
    assert abs(float((eta[1:] * eta[:-1]).mean())) < mean_tol(1.0, eta[1:].numel())


def test_closed_form_trajectory_marginals():
    s = make_schedule("linear", T=100)
    x0 = torch.ones(N, 1)
    traj = closed_form_trajectory(x0, s, generator=gen(6))
    t = 60
    z = (traj[t] - float(s.sqrt_alphas_cumprod[t])) / float(s.sqrt_one_minus_alphas_cumprod[t])
    assert ks_normal(z) < KS_CRIT_001


@pytest.mark.parametrize("sigma0", [0.3, 1.0, 2.5])
def test_geometric_variance_is_not_constant_unless_data_variance_is_one(sigma0):
    """Var(x_t) = 1 + (σ₀² − 1) ᾱ_t under any schedule, the source text's geometric one included."""
    s = make_schedule("geometric", T=100, beta=0.05)
    x0 = sigma0 * torch.randn(N, generator=gen(7), dtype=torch.float64)
    traj = forward_trajectory(x0, s, generator=gen(8))
    for t in (0, 20, 60, 100):
        theory = 1 + (sigma0 ** 2 - 1) * float(s.alphas_cumprod[t])
        assert abs(float(traj[t].var()) - theory) < var_tol(traj[t])
    if sigma0 != 1.0:  # the variance moves by much more than sampling noise
        assert abs(float(traj[100].var()) - float(traj[0].var())) > 10 * var_tol(traj[0])


def test_invert_chain_with_recorded_noise_is_exact_with_fresh_noise_fails():
    s = make_schedule("linear", T=300)
    x0 = toy_2d("rings", 500, seed=1).double()
    traj = forward_trajectory(x0, s, generator=gen(9))
    back = invert_chain(traj[-1], s, chain_noises(traj, s))
    assert torch.allclose(back, x0, atol=1e-8)
    fresh = torch.randn(traj[1:].shape, generator=gen(10), dtype=torch.float64)
    wrong = invert_chain(traj[-1], s, fresh)
    assert float((wrong - x0).abs().mean()) > 1.0


def test_fresh_noise_scatters_x0_by_the_telescoping_sum():
    """Inverting with fresh noise adds Σ_t (√β_t/√ᾱ_t)(η_t − η'_t) to x_0: variance 2 Σ β_t/ᾱ_t = 2(1/ᾱ_T − 1)
    per coordinate (β_t/ᾱ_t = 1/ᾱ_t − 1/ᾱ_{t−1}). The std of 4,000 values is within ±5 % at 3σ (SE ≈ 1.1 %)."""
    s = make_schedule("cosine", T=100)
    x0 = toy_2d("two_moons", 2000, seed=2).double()
    traj = forward_trajectory(x0, s, generator=gen(11))
    fresh = invert_chain(traj[-1], s, torch.randn(traj[1:].shape, generator=gen(12), dtype=torch.float64))
    theory = math.sqrt(2 * (1 / s.alpha_bar_T - 1))
    assert float((fresh - x0).std()) == pytest.approx(theory, rel=0.05)


def test_the_text_reverse_formula_misses_even_with_the_recorded_noise():
    """ε_t = √(1−β_t) ε_{t+1} − √β_t η_t multiplies where the inverse divides: the recorded noise does not help."""
    s = make_schedule("cosine", T=100)
    x0 = toy_2d("two_moons", 1000, seed=0).double()
    traj = forward_trajectory(x0, s, generator=gen(13))
    noises = chain_noises(traj, s)
    assert torch.allclose(invert_chain(traj[-1], s, noises), x0, atol=1e-9)
    assert float((text_reverse_chain(traj[-1], s, noises) - x0).abs().max()) > 1.0


def test_image_batches_and_dtype_device_follow_input():
    s = make_schedule("cosine", T=20)
    imgs = torch.rand(5, 1, 8, 8, dtype=torch.float64)
    traj = forward_trajectory(imgs, s, generator=gen())
    assert traj.shape == (21, 5, 1, 8, 8) and traj.dtype == torch.float64
    assert q_sample(imgs.float(), 3, s).dtype == torch.float32


@pytest.mark.parametrize("call,words", [
    (lambda s, x: q_sample(x, 11, s), "from 0 to T = 10"),
    (lambda s, x: q_sample(x, -1, s), "from 0 to T = 10"),
    (lambda s, x: q_step(x, 0, s), "from 1 to T = 10"),
    (lambda s, x: q_step(x, 1.5, s), "whole number"),
    (lambda s, x: q_sample(x, 2, s, noise=torch.zeros(3)), "shape"),
])
def test_bad_arguments(call, words):
    s = make_schedule("linear", T=10)
    with pytest.raises(ValueError, match=words):
        call(s, torch.zeros(4, 2))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_forward_runs_on_cuda():
    s = make_schedule("linear", T=100)
    x0 = toy_2d("two_moons", 1000).cuda()
    traj = forward_trajectory(x0, s, generator=torch.Generator("cuda").manual_seed(0))
    assert traj.device.type == "cuda" and traj.shape == (101, 1000, 2)


def test_chain_and_jump_are_as_far_apart_as_two_jumps():
    """The forward page's caption: SW(chain x_t, jump x_t) is of the size of SW(jump, second jump), either being
    the larger at some t (the same distribution; the two-jump distance is a level, not a bound)."""
    from explorer.measure.metrics import sliced_wasserstein
    s = make_schedule("linear", T=300)
    x0 = toy_2d("two_moons", 2000, seed=0)
    traj = forward_trajectory(x0, s, generator=gen(20))
    ratios = []
    for t in range(10, 301, 10):
        jump, other = q_sample(x0, t, s, generator=gen(1000 + t)), q_sample(x0, t, s, generator=gen(5000 + t))
        ratios.append(sliced_wasserstein(traj[t], jump, n_projections=128) / sliced_wasserstein(other, jump, n_projections=128))
    ratios = torch.tensor(ratios)
    assert 0.75 < float(ratios.mean()) < 1.33 and float(ratios.max()) < 3
    assert 0.15 < float((ratios > 1).float().mean()) < 0.85  # neither is always the larger
