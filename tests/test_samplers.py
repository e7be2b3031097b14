"""Samplers with the exact mixture score must reproduce the mixture; divergence is caught."""
import math

import pytest
import torch

from explorer.data.datasets import eight_gaussians_mixture, toy_2d
from stats import mean_tol

from explorer.measure.metrics import mean_log_likelihood, sliced_wasserstein
from explorer.diffusion.samplers import (SAMPLERS, ddim_sample, ddpm_sample, langevin_sample, langevin_step_sizes,
                                         record, run_to_end)
from explorer.diffusion.schedules import make_schedule
from explorer.diffusion.scores import EmpiricalData, GaussianMixture

N = 2000
LOGLIK_SLACK = 0.1  # nats: discretisation bias allowed for a finite number of steps


@pytest.fixture(scope="module")
def target():
    """The mixture, fresh data, and the sampling noise floor: mean SW between data sets of size N."""
    gm = eight_gaussians_mixture()
    data = gm.sample(N, torch.Generator().manual_seed(100))
    floors = [sliced_wasserstein(gm.sample(N, torch.Generator().manual_seed(200 + i)), data) for i in range(5)]
    return gm, data, sum(floors) / len(floors)


def loglik_tol(gm, data):
    """Z standard errors of a mean log-likelihood over N samples, doubled for two sample sets."""
    lp = gm.log_prob(data.double())
    return mean_tol(float(lp.std()), N) * math.sqrt(2)


def start(seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(N, 2, generator=g), g


def assert_reproduces(last, target, factor=2.0):
    gm, data, floor = target
    assert not last.diverged, last.message
    sw = sliced_wasserstein(last.x, data)
    assert sw < factor * floor, f"SW {sw:.3f} vs data-to-data {floor:.3f}"
    # the sharper check: samples are as likely under the true density as fresh data
    gap = mean_log_likelihood(data, gm) - mean_log_likelihood(last.x, gm)
    assert gap < loglik_tol(gm, data) + LOGLIK_SLACK, f"log-likelihood {gap:.3f} nats below the data's"


def test_noise_alone_is_far_from_the_mixture(target):
    """The bound has teeth: the starting noise, or data blurred a little, are well beyond it."""
    gm, data, floor = target
    x_T, g = start()
    assert sliced_wasserstein(x_T, data) > 3 * floor
    blurred = gm.sample(N, g) + 0.1 * torch.randn(N, 2, generator=g)
    gap = mean_log_likelihood(data, gm) - mean_log_likelihood(blurred, gm)
    assert gap > loglik_tol(gm, data) + LOGLIK_SLACK


@pytest.mark.parametrize("variance", ["posterior", "beta"])
def test_ddpm_reproduces_mixture(target, variance):
    x_T, g = start(1)
    s = make_schedule("linear", T=1000)
    assert_reproduces(run_to_end(ddpm_sample(target[0], s, x_T, generator=g, variance=variance)), target)


@pytest.mark.parametrize("eta,n_steps", [(0.0, 50), (1.0, 200), (0.5, None)])
def test_ddim_reproduces_mixture(target, eta, n_steps):
    x_T, g = start(2)
    s = make_schedule("cosine", T=500)
    assert_reproduces(run_to_end(ddim_sample(target[0], s, x_T, eta=eta, generator=g, n_steps=n_steps)), target)


def test_annealed_langevin_reproduces_mixture(target):
    x_T, g = start(3)
    s = make_schedule("linear", T=1000)
    assert_reproduces(run_to_end(langevin_sample(target[0], s, x_T, "ncsn", epsilon=1e-4, generator=g)), target)


def test_langevin_snr_rule_with_correctors(target):
    x_T, g = start(4)
    s = make_schedule("cosine", T=200)
    assert_reproduces(run_to_end(langevin_sample(target[0], s, x_T, "snr", r=0.3, n_corrector=5,
                                                generator=g)), target)


def test_ddpm_yields_every_step_in_order():
    s = make_schedule("linear", T=30)
    x_T, g = start(5)
    steps = list(ddpm_sample(eight_gaussians_mixture(), s, x_T, generator=g))
    assert [st.t for st in steps] == list(range(29, -1, -1))
    assert all(st.x.shape == (N, 2) and st.pred_x0.shape == (N, 2) for st in steps)
    assert steps[0].x is not steps[1].x  # states are not overwritten in place


def test_ddim_respaced_steps():
    s = make_schedule("linear", T=1000)
    x_T, _ = start(6)
    times = [st.t for st in ddim_sample(eight_gaussians_mixture(), s, x_T, n_steps=10)]
    assert len(times) == 10 and times[-1] == 0 and times[0] == 900


def test_deterministic_ddim_is_reproducible():
    s = make_schedule("cosine", T=100)
    x_T, _ = start(7)
    a = run_to_end(ddim_sample(eight_gaussians_mixture(), s, x_T, n_steps=20)).x
    b = run_to_end(ddim_sample(eight_gaussians_mixture(), s, x_T, n_steps=20)).x
    assert torch.equal(a, b)


def test_langevin_too_large_step_diverges_and_says_where():
    s = make_schedule("linear", T=1000)
    x_T, g = start(8)
    steps = list(langevin_sample(eight_gaussians_mixture(), s, x_T, 0.05, generator=g))
    last = steps[-1]
    assert last.diverged and "Diverged at step t =" in last.message
    assert str(last.t + 1) in last.message and "smaller step size α" in last.message  # not "more steps"
    assert not any(st.diverged for st in steps[:-1]) and len(steps) < 1000
    assert all(torch.isfinite(st.x).all() for st in steps[:-1])


def test_nan_model_is_caught_not_raised():
    s = make_schedule("linear", T=50)
    x_T, g = start(9)
    nan_model = lambda x, ab: x * float("nan") if ab > 0.8 else torch.zeros_like(x)
    steps = list(ddpm_sample(nan_model, s, x_T, generator=g))
    assert steps[-1].diverged and "non-finite" in steps[-1].message


def test_callable_and_constant_step_sizes_agree():
    s = make_schedule("linear", T=40)
    x_T, _ = start(10)
    gm = eight_gaussians_mixture()
    a = run_to_end(langevin_sample(gm, s, x_T, 1e-3, generator=torch.Generator().manual_seed(1))).x
    b = run_to_end(langevin_sample(gm, s, x_T, lambda t: 1e-3, generator=torch.Generator().manual_seed(1))).x
    assert torch.equal(a, b)


def test_ncsn_rule_values():
    s = make_schedule("linear", T=100)
    sizes = langevin_step_sizes(s, "ncsn", epsilon=1e-3)
    one_minus = 1 - s.alphas_cumprod
    assert sizes[1] == pytest.approx(1e-3)
    assert sizes[100] == pytest.approx(1e-3 * float(one_minus[100] / one_minus[1]))


def test_empirical_score_memorises_training_points():
    pts = toy_2d("checkerboard", 200, seed=11)
    x_T, g = start(12)
    last = run_to_end(ddpm_sample(EmpiricalData(pts), make_schedule("linear", T=500), x_T[:300], generator=g))
    _, dist = EmpiricalData(pts).nearest(last.x)
    _, fresh = EmpiricalData(pts).nearest(toy_2d("checkerboard", 300, seed=13))
    # samples sit on training points (up to the last step's σ ≈ 0.01); fresh data do not
    assert float((dist < 0.01).float().mean()) > 0.95 and float(dist.median()) < 1e-3
    assert float(fresh.median()) > 50 * float(dist.median()) + 0.05


def test_record_keeps_what_is_asked_and_always_the_last_step():
    s = make_schedule("linear", T=25)
    gm = eight_gaussians_mixture()
    x_T, g = start(13)
    every = record(ddpm_sample(gm, s, x_T, generator=g), start=(25, x_T), keep=10)
    assert every.times == [25, 15, 5, 0] and every.xs.shape == (4, N, 2)  # steps 10 and 20, then the last
    assert torch.equal(every.xs[0], x_T) and torch.equal(every.x0s[0], x_T)  # the start: no guess of x_0 yet
    x_T, g = start(13)
    full = record(ddpm_sample(gm, s, x_T, generator=g), start=(25, x_T))
    assert full.times == list(range(25, -1, -1)) and torch.equal(full.xs[-1], full.last.x)
    assert torch.equal(full.xs[[0, 10, 20, 25]], every.xs)  # the same run, thinned
    x_T, g = start(13)
    at = record(ddpm_sample(gm, s, x_T, generator=g), keep={20, 7, 3})
    assert at.times == [20, 7, 3, 0] and torch.equal(at.xs[1], full.xs[25 - 7])
    x_T, g = start(13)
    seen = []
    last_only = record(ddpm_sample(gm, s, x_T, generator=g), keep=0, progress=seen.append)
    assert last_only.times == [0] and seen == list(range(1, 26)) and torch.equal(last_only.last.x, full.last.x)
    with pytest.raises(ValueError, match="no steps"):
        record(iter(()))


def test_a_diverged_run_is_recorded_up_to_where_it_stopped():
    s = make_schedule("linear", T=50)
    x_T, g = start(3)
    nan_below_t20 = lambda x, ab: x * float("nan") if ab > float(s.alphas_cumprod[20]) else torch.zeros_like(x)
    run = record(ddpm_sample(nan_below_t20, s, x_T, generator=g), start=(50, x_T))
    assert run.diverged and run.message.startswith("Diverged at step t = 19 → 18")
    assert run.times == list(range(50, 17, -1)) and not torch.isfinite(run.xs[-1]).any()
    assert torch.isfinite(run.xs[:-1]).all()


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_every_registered_sampler_runs_with_its_options_and_counts_its_steps(name):
    """The registry's step count is what the generator yields; evaluations count real network calls."""
    entry = SAMPLERS[name]
    options = {"ddpm": {"variance": "beta"}, "ddim": {"eta": 0.5, "n_steps": 7},
               "langevin": {"step_size": "ncsn", "epsilon": 1e-4, "n_corrector": 2}, "heun": {"n_steps": 7},
               "dpm": {"n_steps": 6}, "pc": {"n_corrector": 2, "r": 0.16}}[name]
    calls = []
    gm = eight_gaussians_mixture()

    def counted(x, ab):
        calls.append(1)
        return gm.eps(x, ab)
    s = make_schedule("cosine", T=20)
    x_T, g = start(5)
    run = record(entry.function(counted, s, x_T, generator=g, **entry.kwargs(options)))
    n = entry.steps(s.T, options)
    assert len(run.times) == n and run.times[-1] == 0
    if name == "heun":  # 2n − 1 at most: a step from above SIGMA_MAX (and the last) stays Euler, one call
        from explorer.diffusion.samplers import SIGMA_MAX
        from explorer.diffusion.schedules import respaced_timesteps
        ab = [float(s.alphas_cumprod[t]) for t in respaced_timesteps(s.T, options["n_steps"])[:-2]]
        above = sum(((1 - a) / a) ** 0.5 > SIGMA_MAX for a in ab)
        assert above >= 1 and len(calls) == entry.evaluations(n, options) - above
    else:
        assert entry.evaluations(n, options) == len(calls)
    assert entry.describe(options)
    with pytest.raises(ValueError, match="takes"):
        entry.kwargs({"wiggle": 1})


@pytest.mark.parametrize("call,words", [
    (lambda m, s, x: list(langevin_sample(m, s, x, 0.0)), "positive"),
    (lambda m, s, x: list(langevin_sample(m, s, x, -1e-3)), "positive"),
    (lambda m, s, x: list(langevin_sample(m, s, x, float("nan"))), "positive"),
    (lambda m, s, x: list(langevin_sample(m, s, x, lambda t: -t)), "at t = 1"),
    (lambda m, s, x: list(langevin_sample(m, s, x, "huge")), "Unknown step-size rule"),
    (lambda m, s, x: list(langevin_sample(m, s, x, 1e-3, n_corrector=0)), "per noise level"),
    (lambda m, s, x: list(ddim_sample(m, s, x, eta=1.5)), "η"),
    (lambda m, s, x: list(ddim_sample(m, s, x, n_steps=11)), "from 1 to T"),
    (lambda m, s, x: list(ddpm_sample(m, s, x, variance="big")), "variance"),
    (lambda m, s, x: list(ddpm_sample(m, s, x * float("nan"))), "NaN"),
])
def test_bad_arguments(call, words):
    with pytest.raises(ValueError, match=words):
        call(eight_gaussians_mixture(), make_schedule("linear", T=10), torch.zeros(5, 2))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_ddpm_on_cuda(target):
    x_T = torch.randn(N, 2, device="cuda")
    last = run_to_end(ddpm_sample(target[0], make_schedule("linear", T=1000), x_T))
    assert last.x.device.type == "cuda"
    assert sliced_wasserstein(last.x.cpu(), target[1]) < 2 * target[2]


def test_fixed_level_langevin_matches_discrete_ou_stationary_variance():
    """For q = N(0, v I), x ← x − (α/v) x + √(2α) ζ is an AR(1) chain with stationary variance
    v / (1 − α/(2v)) exactly: the discretisation bias is known in closed form."""
    from stats import var_tol
    from explorer.diffusion.samplers import langevin_fixed
    from explorer.diffusion.scores import GaussianMixture
    sigma0_sq, ab = 0.25, 0.6
    v = ab * sigma0_sq + 1 - ab
    gm = GaussianMixture([1.0], [[0.0, 0.0]], [sigma0_sq])
    alpha = 0.2 * v
    g = torch.Generator().manual_seed(21)
    x = torch.randn(20_000, 2, generator=g, dtype=torch.float64) * 3
    last = run_to_end(langevin_fixed(gm, ab, x, alpha, n_steps=200, generator=g))
    assert not last.diverged and last.t == 200
    assert abs(float(last.x.var()) - v / (1 - alpha / (2 * v))) < var_tol(last.x)
    # beyond α = 2v the chain is unstable: it must be stopped with a message
    steps = list(langevin_fixed(gm, ab, x, 2.5 * v, n_steps=500, generator=g))
    assert steps[-1].diverged and len(steps) < 500
    assert f"Diverged at Langevin step {steps[-1].t} of 500" in steps[-1].message


def test_field_on_grid_and_empirical_log_prob():
    from explorer.diffusion.scores import field_on_grid
    gm = eight_gaussians_mixture()
    grid, score = field_on_grid(gm, 0.5, 3.0, 11)
    assert grid.shape == score.shape == (11, 11, 2)
    assert torch.allclose(score.reshape(-1, 2), gm.score(grid.reshape(-1, 2), 0.5), atol=1e-5)
    pts = toy_2d("rings", 40, seed=1).double()
    ed = EmpiricalData(pts)
    from explorer.diffusion.scores import GaussianMixture
    ref = GaussianMixture(torch.ones(40), pts, torch.full((40,), 1e-12))
    x = torch.randn(50, 2, dtype=torch.float64)
    assert torch.allclose(ed.log_prob(x, 0.7), ref.log_prob(x, 0.7), atol=1e-8)


@pytest.mark.parametrize("sampler", ["ddpm", "ddim", "langevin"])
def test_samplers_survive_a_schedule_whose_alpha_bar_underflows(sampler):
    """β = 0.99 for 1,000 steps: ᾱ_t underflows to 0 in float64; no sampler may crash."""
    s = make_schedule("linear", T=1000, beta_start=0.99, beta_end=0.99)
    assert float(s.alphas_cumprod[-1]) == 0.0
    x_T, g = start(14)
    gm = eight_gaussians_mixture()
    run = {"ddpm": lambda: ddpm_sample(gm, s, x_T, generator=g),
           "ddim": lambda: ddim_sample(gm, s, x_T, eta=1.0, generator=g, n_steps=50),
           "langevin": lambda: langevin_sample(gm, s, x_T, "ncsn", generator=g)}[sampler]
    last = run_to_end(run())
    assert last.diverged or torch.isfinite(last.x).all()


def test_clipped_posterior_mean_equals_eq11_when_nothing_is_clipped():
    """coef1 x̂_0 + coef2 x_t (DDPM eq. 7) and (x_t − β_t/√(1−ᾱ_t) ε̂)/√α_t (eq. 11) are one mean."""
    s = make_schedule("cosine", T=50)
    x_T = torch.randn(500, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(15))
    gm = eight_gaussians_mixture()
    a = run_to_end(ddpm_sample(gm, s, x_T, generator=torch.Generator().manual_seed(1))).x
    b = run_to_end(ddpm_sample(gm, s, x_T, generator=torch.Generator().manual_seed(1), clip_x0=1e6)).x
    assert torch.allclose(a, b, atol=1e-8)


def test_clipping_tames_a_bad_model_at_beta_near_one(target):
    """An ε̂ off by 1 only where ᾱ < 1e-3 (cosine T = 20's last step, β_T = 0.999): eq. 11 divides
    by √α_T ≈ 0.03 and the run never recovers; with x̂_0 clipped to the data range it does."""
    gm, data, floor = target
    bad = lambda x, ab: gm.eps(x, ab) + (1.0 if ab < 1e-3 else 0.0)
    s = make_schedule("cosine", T=20)
    x_T, _ = start(16)
    raw = run_to_end(ddpm_sample(bad, s, x_T, generator=torch.Generator().manual_seed(2))).x
    clipped = run_to_end(ddpm_sample(bad, s, x_T, generator=torch.Generator().manual_seed(2), clip_x0=2.5)).x
    assert sliced_wasserstein(raw, data) > 5 * floor
    assert sliced_wasserstein(clipped, data) < 2 * floor


def test_ddim_clip_x0_bounds_the_estimate_and_keeps_eq12_consistent():
    s = make_schedule("cosine", 20)
    wild = lambda x, ab: 5 * torch.ones_like(x)  # noqa: E731 — a model whose x̂₀ runs far outside the box
    x_T = torch.randn(300, 2, generator=torch.Generator().manual_seed(0))
    steps = list(ddim_sample(wild, s, x_T, clip_x0=1.5))
    assert all(float(st.pred_x0.abs().max()) <= 1.5 + 1e-6 for st in steps)
    assert float(steps[-1].x.abs().max()) <= 1.5 + 1e-5  # η = 0: x_0 is the clipped x̂₀
    with pytest.raises(ValueError, match="clip_x0"):
        list(ddim_sample(wild, s, x_T, clip_x0=0))


def test_langevin_above_the_single_gaussian_limit_is_not_always_unstable_in_a_mixture():
    """The score page's stability limit 2·min v is exact for one Gaussian; the 8 Gaussians catch particles a
    little beyond it (t = 148 under linear T = 1000, α = 0.5 ≈ 1.15 × the limit, the page's defaults of 300
    steps) but not at 1.5 × the limit (t = 100, 2,000 steps)."""
    from explorer.diffusion.samplers import langevin_fixed
    gm, s = eight_gaussians_mixture(), make_schedule("linear", 1000)
    for t, factor, steps, diverges in ((148, None, 300, False), (100, 1.5, 2000, True)):
        ab = float(s.alphas_cumprod[t])
        limit = 2 * gm.narrowest_variance(ab)
        alpha = 0.5 if factor is None else factor * limit
        if factor is None:
            assert 1.1 < alpha / limit < 1.2
        x, g = start(21)
        last = run_to_end(langevin_fixed(gm, ab, x[:1000], alpha, steps, generator=g))
        assert last.diverged == diverges, (t, alpha / limit, last.message)
    # and on one Gaussian bump the limit is sharp: 1.05 × it diverges
    one = GaussianMixture([1.0], [[0.0, 0.0]], [0.01])
    ab = 0.999
    limit = 2 * one.narrowest_variance(ab)
    x, g = start(22)
    assert run_to_end(langevin_fixed(one, ab, x[:1000], 1.05 * limit, 2000, generator=g)).diverged
    x, g = start(22)
    assert not run_to_end(langevin_fixed(one, ab, x[:1000], 0.95 * limit, 2000, generator=g)).diverged


def test_the_ncsn_rule_is_stable_below_its_bound_and_can_diverge_above():
    """The bound shown beside the ε slider: 2(1 − ᾱ_1) = 2β_1 = 2·10⁻⁴ for linear T = 1000. On the 8 Gaussians
    ε just below it samples the data; ε = 3·10⁻⁴ diverges, at the highest noise levels first."""
    from explorer.diffusion.samplers import ncsn_stable_epsilon
    s = make_schedule("linear", 1000)
    assert ncsn_stable_epsilon(s) == pytest.approx(2e-4)
    gm = eight_gaussians_mixture()
    x_T, g = start(4)
    below = run_to_end(langevin_sample(gm, s, x_T, "ncsn", epsilon=1.9e-4, generator=g))
    assert not below.diverged
    x_T, g = start(4)
    above = run_to_end(langevin_sample(gm, s, x_T, "ncsn", epsilon=3e-4, generator=g))
    assert above.diverged and above.t > 900, above.message


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_samplers_survive_steps_where_one_minus_alpha_bar_rounds_to_zero(name):
    """Geometric β = 0.5, T = 100: β_1 ≈ 1e-30, so 1.0 − ᾱ_1 is 0 in floats (the reverse page once crashed here)."""
    s = make_schedule("geometric", 100, beta=0.5)
    assert float(s.alphas_cumprod[1]) == 1.0
    options = {"ddpm": {}, "ddim": {"n_steps": 100}, "langevin": {"step_size": "ncsn", "epsilon": 1e-30},
               "heun": {"n_steps": 100}, "dpm": {"n_steps": 100}, "pc": {}}[name]
    x_T, g = start(6)
    last = run_to_end(SAMPLERS[name].function(eight_gaussians_mixture(), s, x_T, generator=g, **options))
    assert torch.isfinite(last.x).all()


def test_the_exact_score_field_is_finite_and_nonzero_where_one_minus_alpha_bar_rounds_to_zero():
    from explorer.diffusion.scores import field_on_grid
    grid, field = field_on_grid(eight_gaussians_mixture(), 1.0, 3.0, 23)
    assert torch.isfinite(field).all() and float(field.norm(dim=-1).max()) > 100  # the data's own score, not 0
