"""Exact scores: finite differences of the noised log-density, memorisation, bad input."""
import math

import pytest
import torch
from stats import mean_tol

from explorer.data.datasets import TOY_2D, eight_gaussians_mixture, exact_eps_model, toy_2d
from explorer.diffusion.scores import EmpiricalData, GaussianMixture


def full_cov_mixture():
    return GaussianMixture(
        weights=[0.2, 0.5, 0.3],
        means=[[1.0, -1.0], [-1.5, 0.5], [0.0, 2.0]],
        covs=[[[0.3, 0.1], [0.1, 0.2]], [[0.05, 0.0], [0.0, 0.5]], [[1.0, -0.4], [-0.4, 0.6]]],
    )


def noised_log_prob_reference(gm, x, ab):
    """log Σ_k w_k N(x; √ᾱ μ_k, ᾱΣ_k + (1−ᾱ)I), straight from torch.distributions."""
    comps = [torch.distributions.MultivariateNormal(math.sqrt(ab) * gm.means[k],
                                                    ab * gm.covs[k] + (1 - ab) * torch.eye(2, dtype=torch.float64))
             for k in range(gm.n_components)]
    lp = torch.stack([c.log_prob(x) for c in comps], 1) + gm.weights.log()
    return torch.logsumexp(lp, 1)


@pytest.mark.parametrize("ab", [1.0, 0.9, 0.3, 0.01])
def test_log_prob_matches_torch_distributions(ab):
    gm = full_cov_mixture()
    x = torch.randn(200, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 2
    assert torch.allclose(gm.log_prob(x, ab), noised_log_prob_reference(gm, x, ab), atol=1e-10)


@pytest.mark.parametrize("ab", [0.95, 0.5, 0.05])
def test_score_is_gradient_of_noised_log_density(ab):
    gm = full_cov_mixture()
    x = torch.randn(100, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) * 1.5
    h = 1e-5
    fd = torch.stack([(gm.log_prob(x + h * e, ab) - gm.log_prob(x - h * e, ab)) / (2 * h)
                      for e in torch.eye(2, dtype=torch.float64)], 1)
    assert torch.allclose(gm.score(x, ab), fd, atol=1e-6)
    assert torch.allclose(gm.eps(x, ab), -math.sqrt(1 - ab) * fd, atol=1e-6)


def test_per_sample_alpha_bar_equals_scalar_calls():
    gm = full_cov_mixture()
    x = torch.randn(6, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    ab = torch.tensor([0.99, 0.7, 0.5, 0.2, 0.05, 0.001], dtype=torch.float64)
    batched = gm.eps(x, ab)
    for i in range(6):
        assert torch.allclose(batched[i], gm.eps(x[i:i + 1], float(ab[i]))[0], atol=1e-12)


def test_eps_is_the_mmse_noise_predictor():
    """E[ε | x_t] = ε*(x_t): regressing the true noise on ε* gives slope 1 (Tweedie)."""
    gm = eight_gaussians_mixture()
    g = torch.Generator().manual_seed(3)
    n, ab = 40_000, 0.4
    x0 = gm.sample(n, g).double()
    eps = torch.randn(n, 2, generator=g, dtype=torch.float64)
    pred = gm.eps(math.sqrt(ab) * x0 + math.sqrt(1 - ab) * eps, ab)
    resid = eps - pred  # orthogonal to any function of x_t, in particular to pred
    assert abs(float((resid * pred).mean())) < mean_tol(float((resid * pred).std()), 2 * n)
    assert abs(float(resid.mean())) < mean_tol(float(resid.std()), 2 * n)


def test_sample_moments():
    gm = full_cov_mixture()
    n = 50_000
    x = gm.sample(n, torch.Generator().manual_seed(4), dtype=torch.float64)
    mean = (gm.weights[:, None] * gm.means).sum(0)
    assert torch.all((x.mean(0) - mean).abs() < mean_tol(float(x.std()), n))
    assert float(gm.log_prob(x).mean()) > float(gm.log_prob(x + 1.0).mean())


def test_empirical_data_memorises():
    gx, gy = torch.meshgrid(torch.linspace(-2, 2, 20), torch.linspace(-1.5, 1.5, 15), indexing="ij")
    pts = torch.stack([gx.flatten(), gy.flatten()], 1)  # 300 points, 0.2 apart
    ed = EmpiricalData(pts)
    noisy = pts + 0.01 * torch.randn(pts.shape, generator=torch.Generator().manual_seed(6))
    den = ed.denoise(noisy, 1 - 1e-4)
    assert torch.allclose(den, pts, atol=1e-4)  # each point snaps back to itself
    idx, dist = ed.nearest(den)
    assert torch.equal(idx, torch.arange(300)) and float(dist.max()) < 1e-3
    # at full noise the denoiser returns the data mean
    assert torch.allclose(ed.denoise(torch.randn(5, 2), 1e-8), pts.mean(0).expand(5, 2), atol=1e-3)


def test_empirical_matches_uniform_mixture_and_chunks():
    """EmpiricalData is the mixture (1/M)Σ N(x_i, 0): compare with a tiny-variance GaussianMixture."""
    pts = toy_2d("two_moons", 50, seed=7).double()
    ed = EmpiricalData(pts)
    x = torch.randn(3000, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(8))
    ab = 0.6
    gm = GaussianMixture(torch.ones(50), pts, torch.full((50,), 1e-12))
    assert torch.allclose(ed.eps(x, ab), gm.eps(x, ab), atol=1e-6)
    import explorer.diffusion.scores as scores
    old, scores.QUERY_CHUNK_ELEMENTS = scores.QUERY_CHUNK_ELEMENTS, 50 * 7  # force 7-query chunks
    try:
        assert torch.allclose(ed.eps(x, ab), gm.eps(x, ab), atol=1e-6)
    finally:
        scores.QUERY_CHUNK_ELEMENTS = old


def test_empirical_data_images_and_large_sets_fit():
    imgs = torch.rand(10_000, 1, 8, 8) * 2 - 1
    ed = EmpiricalData(imgs)
    q = torch.randn(2_000, 1, 8, 8)
    out = ed.eps(q, torch.full((2000,), 0.5))
    assert out.shape == q.shape and torch.isfinite(out).all()


@pytest.mark.parametrize("name", TOY_2D)
def test_exact_model_per_dataset(name):
    """What the pages call "exact": the 8 Gaussians' own formula; for every other set the exact score of a
    1,000-point sample, so at a tiny noise level x̂₀ of a point near a reference point is that reference point."""
    x = torch.randn(50, 2, generator=torch.Generator().manual_seed(0))
    if name == "eight_gaussians":
        assert torch.allclose(exact_eps_model(name).eps(x, 0.3), eight_gaussians_mixture().eps(x, 0.3))
        return
    ed = exact_eps_model(name, n_reference=1000)
    ref = toy_2d(name, 1000, seed=12345)
    near = ref[:10] + 1e-4  # σ = 1e-3 at this level: the nearest reference point takes all the weight
    ab = 1 - 1e-6
    x0 = (near - math.sqrt(1 - ab) * ed.eps(near, ab)) / math.sqrt(ab)
    assert torch.allclose(x0, ref[:10], atol=1e-4)


@pytest.mark.parametrize("make,words", [
    (lambda: GaussianMixture([1.0], [[0.0, 0.0]], [[[1.0, 2.0], [2.0, 1.0]]]), "positive definite"),
    (lambda: GaussianMixture([-1.0], [[0.0, 0.0]], [1.0]), "positive"),
    (lambda: GaussianMixture([1.0, 1.0], [[0.0, 0.0]], [1.0]), "one entry per component"),
    (lambda: GaussianMixture([1.0], [[float("nan"), 0.0]], [1.0]), "finite"),
    (lambda: EmpiricalData(torch.tensor([[0.0, float("nan")]])), "finite"),
    (lambda: full_cov_mixture().eps(torch.zeros(3, 2), torch.ones(2)), "one value per sample"),
    (lambda: full_cov_mixture().eps(torch.zeros(3, 5), 0.5), "shape"),
])
def test_bad_arguments(make, words):
    with pytest.raises(ValueError, match=words):
        make()


@pytest.mark.parametrize("name", ["eight_gaussians", "two_moons", "checkerboard"])
def test_the_score_field_vanishes_at_peaks_and_weakens_toward_minus_x(name):
    """The score page's caption, on its grid ([−3, 3]², 23 arrows a side) under linear T = 1000."""
    from explorer.diffusion.schedules import make_schedule
    from explorer.diffusion.scores import field_on_grid
    s = make_schedule("linear", 1000)
    model = exact_eps_model(name, n_reference=1000)
    longest = []
    for t in (1, 10, 100, 300, 500, 1000):
        ab = float(s.alphas_cumprod[t])
        grid, field = field_on_grid(model, ab, 3.0, 23)
        longest.append(float(field.norm(dim=-1).max()))
        if name == "eight_gaussians" and t <= 100:  # separate bumps: the peaks of q_t sit at √ᾱ μ_k, score ≈ 0
            peaks = (math.sqrt(ab) * model.means).float()
            assert float(model.score(peaks, ab).norm(dim=-1).max()) < 0.01 * longest[-1]
    assert all(b <= a * 1.001 for a, b in zip(longest, longest[1:])), longest
    assert torch.allclose(field, -grid, rtol=0, atol=1e-3 * 4.25)  # t = T: N(0, I)'s score, −x
