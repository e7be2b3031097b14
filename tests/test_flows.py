"""Flow matching's exact velocity, flow sampling, and the probability-flow ODE likelihood."""
import math

import pytest
import torch

from explorer.data.datasets import TOY_2D, eight_gaussians_mixture, toy_2d
from explorer.measure.evaluation import FLOW_QUALITY_STEPS, flow_quality
from explorer.diffusion.flows import flow_sample, likelihood_levels, ode_log_likelihood, round_trip, straightness
from explorer.nets.training import reflow
from explorer.nets.models import LOG_SNR_RANGE
from explorer.nets.velocity import tau_log_snr
from explorer.measure.metrics import sliced_wasserstein
from explorer.diffusion.samplers import run_to_end
from explorer.diffusion.schedules import make_schedule
from explorer.diffusion.scores import GaussianMixture

MIX = eight_gaussians_mixture()


def one_gaussian_velocity(x, tau, mu, var):
    """Closed form for one Gaussian N(μ, v I): (x_τ, ε) jointly Gaussian, E[ε − x_0 | x_τ] by regression.
    Cov(x_τ) = (a² v + τ²) I, Cov(ε, x_τ) = τ I, Cov(x_0, x_τ) = a v I, E x_τ = a μ."""
    a = 1 - tau
    c = a * a * var + tau * tau
    centred = x - a * mu
    return (tau / c) * centred - (mu + (a * var / c) * centred)


@pytest.mark.parametrize("tau", [0.0, 0.1, 0.5, 0.9, 0.999, 1.0])
def test_the_exact_velocity_against_a_closed_form(tau):
    mu, var = torch.tensor([0.7, -0.4], dtype=torch.float64), 0.09
    one = GaussianMixture(torch.ones(1), mu[None], torch.tensor([var]))
    x = torch.randn(200, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert torch.allclose(one.velocity(x, tau), one_gaussian_velocity(x, tau, mu, var), atol=1e-9)


def test_the_mixture_velocity_is_the_responsibility_weighted_velocity_of_its_components():
    x = torch.randn(300, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    tau = 0.6
    a = 1 - tau
    # responsibilities of the components for x_τ: N(a μ_k, (a² v + τ²) I)
    c = a * a * 0.12 ** 2 + tau * tau
    logits = torch.log(MIX.weights)[None] - ((x[:, None, :] - a * MIX.means[None]) ** 2).sum(-1) / (2 * c)
    r = torch.softmax(logits, dim=1)
    each = torch.stack([one_gaussian_velocity(x, tau, MIX.means[k], 0.12 ** 2) for k in range(8)], dim=1)
    assert torch.allclose(MIX.velocity(x, tau), (r[:, :, None] * each).sum(1), atol=1e-8)


def test_flow_sampling_reproduces_the_mixture_and_heun_beats_euler():
    x_1 = torch.randn(2000, 2, generator=torch.Generator().manual_seed(2))
    reference = run_to_end(flow_sample(MIX.velocity, x_1, 1000, "heun")).x
    err = {(m, n): float((run_to_end(flow_sample(MIX.velocity, x_1, n, m)).x - reference).norm(dim=1).mean())
           for m in ("euler", "heun") for n in (25, 50)}
    assert err["heun", 50] < err["euler", 50] / 3 and err["heun", 50] < err["heun", 25] / 2.4  # 2nd order
    data, second = toy_2d("eight_gaussians", 2000, 1), toy_2d("eight_gaussians", 2000, 3)
    out = run_to_end(flow_sample(MIX.velocity, x_1, 50, "heun")).x
    assert sliced_wasserstein(out, data) < 2 * sliced_wasserstein(second, data)


@pytest.mark.parametrize("kind,T", [("linear", 1000), ("cosine", 1000), ("sigmoid", 200)])
def test_the_ode_likelihood_of_the_exact_score_is_the_true_density(kind, T):
    """On every kind: the levels are spaced in log σ, so cosine's jump from σ ≈ 300 to 2·10⁴ at its last step
    (which on the schedule's own levels gave +137 nats instead of −0.6) is integrated in small steps."""
    x0 = toy_2d("eight_gaussians", 200, 5).double()
    got = ode_log_likelihood(MIX, make_schedule(kind, T), x0, n_steps=200).double()
    true = MIX.log_prob(x0)
    assert float((got - true).abs().mean()) < 0.05  # nats per point
    assert math.isfinite(float(got.sum()))


def test_the_likelihood_levels_run_evenly_in_log_sigma_between_their_bounds():
    from explorer.diffusion.flows import SIGMA_LO, SIGMA_TOP
    s = make_schedule("cosine", 1000)
    log_sig = likelihood_levels(s, 50)
    ab = s.alphas_cumprod
    assert len(log_sig) == 50
    assert math.exp(log_sig[0]) == pytest.approx(math.sqrt((1 - ab[1]) / ab[1]), rel=1e-9)  # σ_1 < SIGMA_LO
    assert math.exp(log_sig[-1]) == pytest.approx(SIGMA_TOP)  # σ_T ≈ 2·10⁴ > SIGMA_TOP
    gaps = [b - a for a, b in zip(log_sig, log_sig[1:])]
    assert max(gaps) == pytest.approx(min(gaps), rel=1e-9)
    strong = likelihood_levels(make_schedule("constant", 1000, beta=0.7), 20)  # σ_1 = 1.5, σ_T = e^602
    assert math.exp(strong[0]) == pytest.approx(SIGMA_LO) and math.exp(strong[-1]) == pytest.approx(SIGMA_TOP)


def test_strong_schedules_integrate_and_one_beyond_float64_is_refused_by_the_solvers():
    """constant β = 0.7 at T = 1,000 leaves ᾱ_T = e^−1204 (σ_T ≈ e^602) and starts at σ_1 = 1.5: the likelihood is
    still the true density; β = 0.9 (ᾱ_T = e^−2303) is refused by the ODE solvers with a message."""
    from explorer.diffusion.samplers import heun_sample
    x0 = toy_2d("eight_gaussians", 200, 5).double()
    for beta in (0.7, 0.9):
        got = ode_log_likelihood(MIX, make_schedule("constant", 1000, beta=beta), x0, n_steps=200).double()
        assert float((got - MIX.log_prob(x0)).abs().mean()) < 0.05, beta
    with pytest.raises(ValueError, match="float64"):
        list(heun_sample(MIX, make_schedule("constant", 1000, beta=0.9), torch.randn(10, 2), 10))


def test_the_divergence_through_a_network_equals_finite_differences():
    """The exact 2D divergence by autograd through the pretrained network against central differences of the
    same network's ε̂ (in float64, so the differences are accurate); and the graph's ε̂ is the sampling path's."""
    import copy
    from explorer.nets.checkpoints import load_pretrained
    from explorer.diffusion.flows import _divergence
    from explorer.nets.models import EpsModel

    model, _ = load_pretrained("eight_gaussians")
    net64 = copy.deepcopy(model.net).double()
    x = toy_2d("eight_gaussians", 50, 3).double() * 0.9
    for a in (0.9, 0.3, 0.02):
        eps, div = _divergence(EpsModel(net64), x, a)
        lam = torch.full((1,), math.log(a / (1 - a)), dtype=torch.float64)
        h, fd = 1e-7, torch.zeros(len(x), dtype=torch.float64)  # small: a ReLU kink between x ± h is unlikely
        with torch.no_grad():
            for i in range(2):
                e = torch.zeros(2, dtype=torch.float64)
                e[i] = h
                fd += (net64(x + e, lam)[:, i] - net64(x - e, lam)[:, i]) / (2 * h)
        assert torch.allclose(div, fd, rtol=1e-4, atol=1e-4), (a, div[:4], fd[:4])
        assert torch.allclose(eps.float(), model(x.float(), a), atol=0.02)  # the graph's ε̂ is the fast path's


def test_the_likelihood_through_the_network_is_near_the_true_density():
    """1,000 held-out points of the 8 Gaussians, 100 steps, linear: the network's mean log-likelihood (measured
    −0.99) within 0.5 nats of the true −0.62, and far above what a model that learnt nothing would give."""
    from explorer.nets.checkpoints import load_pretrained

    model, _ = load_pretrained("eight_gaussians")
    x0 = toy_2d("eight_gaussians", 1000, 11)
    s = make_schedule("linear", 1000)
    got, true = float(ode_log_likelihood(model, s, x0, 100).mean()), float(MIX.log_prob(x0.double()).mean())
    standard_normal = float((-0.5 * (x0.double() ** 2).sum(1) - math.log(2 * math.pi)).mean())
    assert abs(got - true) < 0.5, (got, true)
    assert got > standard_normal + 1.0, (got, standard_normal)


def test_tau_log_snr_is_the_noise_level_of_the_interpolant():
    """x_τ / √((1−τ)² + τ²) = √ᾱ x_0 + √(1−ᾱ) ε with ᾱ = sigmoid(tau_log_snr(τ)), for floats and tensors."""
    for tau in (0.01, 0.3, 0.5, 0.8, 0.99):
        a, s = 1 - tau, math.hypot(1 - tau, tau)
        ab = 1 / (1 + math.exp(-tau_log_snr(tau)))
        assert math.sqrt(ab) == pytest.approx(a / s, rel=1e-9) and math.sqrt(1 - ab) == pytest.approx(tau / s, rel=1e-9)
    taus = torch.tensor([0.0, 0.25, 0.5, 1.0])
    lam = tau_log_snr(taus)
    assert lam[0] == LOG_SNR_RANGE[1] and lam[-1] == LOG_SNR_RANGE[0] and float(lam[2]) == 0.0
    assert float(lam[1]) == pytest.approx(tau_log_snr(0.25), rel=1e-12)


def test_straightness_of_a_line_a_detour_and_a_loop():
    a, b = torch.zeros(3, 2), torch.tensor([[3.0, 4.0], [1.0, 0.0], [0.0, 2.0]])
    mid = torch.tensor([[1.5, 2.0], [0.5, 0.5], [0.0, 1.0]])  # on the line, a detour, on the line
    got = straightness([a, mid, b])
    assert got[0] == pytest.approx(1.0) and got[2] == pytest.approx(1.0)
    assert got[1] == pytest.approx(2 * math.hypot(0.5, 0.5), rel=1e-6)


def test_round_trip_error_falls_with_the_number_of_steps():
    x0 = toy_2d("eight_gaussians", 300, 4)
    s = make_schedule("linear", 1000)
    errors = [float(round_trip(MIX, s, x0, n)["error"].mean()) for n in (5, 20, 100)]
    assert errors[0] > errors[1] > errors[2] and errors[2] < 0.01, errors


def test_the_flow_objective_is_refused_where_it_does_not_apply():
    from explorer.nets.training import TrainConfig, train
    with pytest.raises(ValueError, match="objective"):
        train(TrainConfig(objective="score", steps=1))
    with pytest.raises(ValueError, match="not for digits"):
        train(TrainConfig(dataset="digits", objective="flow", steps=1))
    pts = toy_2d("two_moons", 100, 0)
    with pytest.raises(ValueError, match="pairs"):
        train(TrainConfig(objective="eps", steps=1), data=pts, noise=torch.randn(100, 2))


@pytest.mark.parametrize("name", list(TOY_2D))
def test_every_flow_network_ships_as_a_velocity_model_that_passed_its_bar(name):
    from explorer.nets.checkpoints import load_pretrained
    from explorer.nets.velocity import VelocityModel

    model, meta = load_pretrained(f"{name}_flow")
    assert isinstance(model, VelocityModel) and meta["objective"] == "flow" and meta["dataset"] == name
    assert meta["metrics"]["passed"] and set(meta["metrics"]["sw"]) == {f"{m} {k} steps" for m, k in FLOW_QUALITY_STEPS}


@pytest.mark.slow
@pytest.mark.parametrize("name", ["two_moons", "checkerboard"])
def test_flow_networks_sample_their_data_at_a_new_seed(name):
    from explorer.nets.checkpoints import load_pretrained

    q = flow_quality(load_pretrained(f"{name}_flow")[0], name, seed=1)
    assert q["passed"], q


@pytest.mark.slow
def test_reflow_makes_the_paths_straighter_and_one_step_good():
    """Reflow of the two-moons flow network (8,000 couples, 1,500 steps): the median straightness of 20-step
    Euler paths falls towards 1 and the one-step sample's SW to the data falls below half of what it was."""
    from explorer.nets.checkpoints import load_pretrained

    model, _ = load_pretrained("two_moons_flow")
    new, hist = reflow(model, n_pairs=8000, steps=1500, seed=3)
    x_1 = torch.randn(2000, 2, generator=torch.Generator().manual_seed(9))
    data = toy_2d("two_moons", 2000, 12)

    def measure(m):
        path = [x_1] + [st.x for st in flow_sample(m, x_1, 20)]
        one = run_to_end(flow_sample(m, x_1, 1)).x
        return float(straightness(path).median()), sliced_wasserstein(one, data)

    (s0, sw0), (s1, sw1) = measure(model), measure(new)
    assert s1 < 1.05 < s0 and s1 < s0, (s0, s1)
    assert sw1 < 0.5 * sw0, (sw0, sw1)
