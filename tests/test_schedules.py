"""Schedules against formulas computed independently (plain Python math) and golden values."""
import math

import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from explorer.diffusion.schedules import SCHEDULE_KINDS, make_schedule, respaced_timesteps


def prod(xs):
    out = 1.0
    for x in xs:
        out *= x
    return out


@pytest.mark.parametrize("kind", SCHEDULE_KINDS)
def test_indexing_convention(kind):
    s = make_schedule(kind, T=50)
    for arr in (s.betas, s.alphas, s.alphas_cumprod, s.sqrt_alphas_cumprod, s.posterior_variance, s.log_snr):
        assert arr.shape == (51,) and arr.dtype == torch.float64
    assert s.betas[0] == 0 and s.alphas_cumprod[0] == 1
    assert s.posterior_variance[0] == 0 and math.isinf(float(s.log_snr[0]))


def test_linear_matches_ddpm_formula_and_golden_value():
    s = make_schedule("linear", T=1000, beta_start=1e-4, beta_end=0.02)
    betas = [1e-4 + (0.02 - 1e-4) * (t - 1) / 999 for t in range(1, 1001)]
    assert torch.allclose(s.betas[1:], torch.tensor(betas, dtype=torch.float64), rtol=0, atol=1e-15)
    for t in (1, 10, 500, 1000):
        assert float(s.alphas_cumprod[t]) == pytest.approx(prod(1 - b for b in betas[:t]), rel=1e-12)
    # DDPM's linear schedule leaves ᾱ_1000 ≈ 4.04e-5 (widely quoted value)
    assert float(s.alphas_cumprod[1000]) == pytest.approx(4.0358e-5, rel=1e-3)


def test_cosine_matches_nichol_dhariwal():
    T, off = 100, 0.008
    s = make_schedule("cosine", T=T)
    f = [math.cos((t / T + off) / (1 + off) * math.pi / 2) ** 2 for t in range(T + 1)]
    for t in (1, 37, 99):
        assert float(s.alphas_cumprod[t]) == pytest.approx(f[t] / f[0], rel=1e-10)
    assert float(s.betas[T]) == pytest.approx(0.999)  # clipped at max_beta
    assert float(s.betas[1:].max()) <= 0.999


def test_sigmoid_formula():
    s = make_schedule("sigmoid", T=11, beta_start=0.001, beta_end=0.03)
    for t in range(1, 12):
        z = -6 + 12 * (t - 1) / 10
        assert float(s.betas[t]) == pytest.approx(0.001 + 0.029 / (1 + math.exp(-z)), rel=1e-12)


def test_constant_closed_form():
    s = make_schedule("constant", T=300, beta=0.01)
    assert float(s.alphas_cumprod[300]) == pytest.approx(0.99 ** 300, rel=1e-12)


# golden values: exact rational products (fractions.Fraction) of Π(1 − β(1−β)^k)
@pytest.mark.parametrize("beta,T,golden", [(0.02, 1000, 0.36600936053), (0.001, 1000, 0.53125083384),
                                           (0.5, 10, 0.28907029842)])
def test_geometric_leaves_much_signal(beta, T, golden):
    """The source text's schedule: Σβ_t = 1 − (1−β)^T < 1, so ᾱ_T stays far from 0."""
    s = make_schedule("geometric", T=T, beta=beta)
    betas = [beta * (1 - beta) ** (T - 1 - k) for k in range(T)]  # the text's 0-based formula
    assert torch.allclose(s.betas[1:], torch.tensor(betas, dtype=torch.float64), rtol=1e-12, atol=0)
    assert float(s.betas[T]) == pytest.approx(beta)
    assert float(s.betas.sum()) == pytest.approx(1 - (1 - beta) ** T, rel=1e-12)
    assert s.alpha_bar_T == pytest.approx(prod(1 - b for b in betas), rel=1e-10)
    assert s.alpha_bar_T == pytest.approx(golden, abs=1e-10)


def test_posterior_quantities():
    s = make_schedule("linear", T=20, beta_start=0.01, beta_end=0.2)
    ab = s.alphas_cumprod
    for t in (1, 5, 20):
        b = float(s.betas[t])
        assert float(s.posterior_variance[t]) == pytest.approx(b * (1 - ab[t - 1]) / (1 - ab[t]))
        assert float(s.posterior_mean_coef1[t]) == pytest.approx(b * math.sqrt(ab[t - 1]) / (1 - ab[t]))
        assert float(s.posterior_mean_coef2[t]) == pytest.approx(math.sqrt(1 - b) * (1 - ab[t - 1]) / (1 - ab[t]))
        assert float(s.log_snr[t]) == pytest.approx(math.log(ab[t] / (1 - ab[t])))
    assert float(s.posterior_variance[1]) == 0.0  # β̃_1 = 0: the last reverse step adds no noise


def test_schedule_is_frozen():
    s = make_schedule("linear", T=10)
    with pytest.raises(Exception):
        s.T = 5


@pytest.mark.parametrize("T", [1, 2, 10_000])
@pytest.mark.parametrize("kind", SCHEDULE_KINDS)
def test_any_T(kind, T):
    s = make_schedule(kind, T=T)
    assert len(s.betas) == T + 1 and torch.isfinite(s.alphas_cumprod).all()


@pytest.mark.parametrize("kwargs,words", [
    (dict(kind="linear", T=0), "from 1 to 10000"),
    (dict(kind="linear", T=10_001), "from 1 to 10000"),
    (dict(kind="linear", T=2.5), "whole number"),
    (dict(kind="linear", T="100"), "whole number"),
    (dict(kind="linear", T=True), "whole number"),
    (dict(kind="wiggly", T=10), "Unknown schedule kind"),
    (dict(kind="constant", T=10, beta=0.0), "strictly between 0 and 1"),
    (dict(kind="constant", T=10, beta=1.0), "strictly between 0 and 1"),
    (dict(kind="geometric", T=10, beta=-0.1), "strictly between 0 and 1"),
    (dict(kind="geometric", T=10, beta=float("nan")), "NaN"),
    (dict(kind="linear", T=10, beta_end=1.5), "strictly between 0 and 1"),
    (dict(kind="sigmoid", T=10, beta_start=float("nan")), "NaN"),
    (dict(kind="constant", T=10, beta_start=0.1), "no beta_start"),
    (dict(kind="cosine", T=10, s=-1.0), "offset"),
])
def test_bad_arguments_explain_themselves(kwargs, words):
    with pytest.raises(ValueError, match=words):
        make_schedule(**kwargs)


def test_respacing():
    assert respaced_timesteps(10, None) == list(range(10, -1, -1))
    taus = respaced_timesteps(1000, 50)
    assert taus[0] == 1000 and taus[-1] == 0 and len(taus) == 51
    assert all(a > b for a, b in zip(taus, taus[1:]))
    with pytest.raises(ValueError, match="from 1 to T"):
        respaced_timesteps(10, 11)


beta = st.floats(min_value=1e-6, max_value=0.999, allow_nan=False)


@settings(max_examples=150, deadline=None)
@given(kind=st.sampled_from(SCHEDULE_KINDS), T=st.integers(1, 3000), b1=beta, b2=beta)
def test_schedule_properties(kind, T, b1, b2):
    params = {"linear": dict(beta_start=b1, beta_end=b2), "sigmoid": dict(beta_start=b1, beta_end=b2),
              "constant": dict(beta=b1), "geometric": dict(beta=b1), "cosine": {}}[kind]
    if kind == "geometric":
        # β_1 = β(1−β)^(T−1) must be representable next to 1 for ᾱ to move at every step
        assume(b1 * (1 - b1) ** (T - 1) > 1e-14)
    s = make_schedule(kind, T=T, **params)
    assert len(s.betas) == len(s.alphas_cumprod) == T + 1
    b = s.betas[1:]
    assert bool(((b > 0) & (b < 1)).all())
    ab = s.alphas_cumprod
    # strictly decreasing: exact in log space (ᾱ itself may underflow to 0 at large T)
    assert bool((s.log_alphas_cumprod[1:] < s.log_alphas_cumprod[:-1]).all())
    assert bool((ab[1:] <= ab[:-1]).all())
    assert bool((ab >= 0).all()) and float(ab[0]) == 1.0
    assert torch.allclose(s.log_alphas_cumprod.exp(), ab)


def test_geometric_half_beta_alpha_bar_T_converges_and_its_last_step_is_half():
    """The schedules page's claim (b): geometric β = 0.5 leaves ᾱ_T = 0.5, 0.375, ≈0.298 at T = 1, 2, 5 and
    Π_k (1 − 0.5^k) ≈ 0.2888 from T = 10 on, while its last β is 0.5 at every T."""
    limit = math.prod(1 - 0.5 ** k for k in range(1, 200))
    ab = {T: make_schedule("geometric", T, beta=0.5).alpha_bar_T for T in (1, 2, 5, 10, 100, 1000)}
    assert ab[1] == pytest.approx(0.5) and ab[2] == pytest.approx(0.375) and ab[5] == pytest.approx(0.298, abs=5e-4)
    assert all(abs(ab[T] - limit) < 1e-3 for T in (10, 100, 1000)) and limit == pytest.approx(0.2888, abs=1e-4)
    assert all(float(make_schedule("geometric", T, beta=0.5).betas[-1]) == 0.5 for T in (1, 2, 5, 10, 1000))


@pytest.mark.parametrize("beta", [1e-4, 0.02, 0.5, 0.9, 0.99])
@pytest.mark.parametrize("T", [1, 10, 1000])
def test_geometric_sum_of_betas_and_the_bound_on_alpha_bar_T(beta, T):
    """Claim (a)'s numbers: Σβ_t = 1 − (1−β)^T exactly; ᾱ_T > e^(−1/(1−β)); for small β ᾱ_T ≈ e^(−Σβ_t)."""
    s = make_schedule("geometric", T, beta=beta)
    total = float(s.betas.sum())
    assert total == pytest.approx(1 - (1 - beta) ** T, rel=1e-12)
    assert s.alpha_bar_T > math.exp(-1 / (1 - beta))
    if beta <= 0.02:
        assert s.alpha_bar_T == pytest.approx(math.exp(-total), abs=0.01)


def test_geometric_with_beta_near_one_is_close_to_pure_noise():
    s = make_schedule("geometric", 1000, beta=0.99)
    assert s.alpha_bar_T == pytest.approx(0.0099, abs=1e-4)
    small = make_schedule("geometric", 1000, beta=0.02).alpha_bar_T
    assert small == pytest.approx(0.366, abs=1e-3) and small < math.exp(-1)
