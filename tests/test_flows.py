"""Flow matching's exact velocity, flow sampling, and the probability-flow ODE likelihood."""
import math

import pytest
import torch

from explorer.datasets import eight_gaussians_mixture, toy_2d
from explorer.flows import flow_sample, ode_log_likelihood
from explorer.metrics import sliced_wasserstein
from explorer.samplers import run_to_end
from explorer.schedules import make_schedule
from explorer.scores import GaussianMixture

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


def test_the_ode_likelihood_of_the_exact_score_is_the_true_density():
    x0 = toy_2d("eight_gaussians", 200, 5).double()
    got = ode_log_likelihood(MIX, make_schedule("linear", 1000), x0, n_steps=200).double()
    true = MIX.log_prob(x0)
    assert float((got - true).abs().mean()) < 0.05  # nats per point
    assert math.isfinite(float(got.sum()))
