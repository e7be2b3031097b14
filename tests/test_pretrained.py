"""The shipped networks: files, metadata, size, and the quality each one must reach.

2D: 2,000 DDPM samples under linear T = 1,000, cosine T = 100 and cosine T = 20 lie within
2 × the data-to-data sliced-Wasserstein distance + 0.08 of fresh data (the bar comes from the
data alone). Digits: a classifier fit on the digits recognises the samples, most classes
appear, and the samples are not copies of training images.
"""
import json
import math

import pytest
import torch

from explorer.nets.checkpoints import PRETRAINED_DIR, load_pretrained
from explorer.data.datasets import DEFAULT_WORD, TOY_2D, digits, exact_eps_model, toy_2d
from explorer.measure.evaluation import (CONFIDENT, digit_classifier, digits_quality, nearest_training_distance,
                                         toy_quality, typical_digit_spacing)
from explorer.nets.models import EpsModel

NAMES = [*TOY_2D, "digits"]


def test_every_model_ships_with_its_metadata_within_20_mb():
    total = 0
    for name in NAMES:
        weights, meta = PRETRAINED_DIR / f"{name}.safetensors", PRETRAINED_DIR / f"{name}.json"
        assert weights.is_file() and meta.is_file(), name
        total += weights.stat().st_size + meta.stat().st_size
        m = json.loads(meta.read_text())
        assert m["dataset"] == name and m["version"] == 1
        for key in ("kind", "config", "training_steps", "seed", "training_time_s", "metrics"):
            assert key in m, (name, key)
        assert m["metrics"]["passed"], (name, m["metrics"])
    assert total <= 20e6, total
    assert json.loads((PRETRAINED_DIR / "word.json").read_text())["word"] == DEFAULT_WORD


@pytest.mark.parametrize("name", list(TOY_2D))
def test_2d_models_sample_their_data_under_three_schedules(name):
    model, _ = load_pretrained(name)
    q = toy_quality(model, name, n=2000, seed=1)  # seed 1: not the seed stored in the JSON
    for setting, sw in q["sw"].items():
        assert sw <= q["bar"], (name, setting, sw, q["bar"])


@pytest.mark.parametrize("name", ["two_moons", "eight_gaussians"])
def test_the_fast_sampling_path_moves_eps_far_less_than_the_networks_own_error(name):
    """EpsModel's shared-level path (cached FiLM, bfloat16 products where the CPU has them)
    against the plain float32 forward pass, on samples of q_t: its deviation is under a tenth of
    the network's deviation from the exact ε (the mixture's own, or the optimal denoiser)."""
    model, _ = load_pretrained(name)
    exact = exact_eps_model(name)
    x0 = toy_2d(name, 2000, seed=7)
    g = torch.Generator().manual_seed(8)
    for alpha_bar in (0.9, 0.5, 0.1, 0.01):
        x_t = alpha_bar ** 0.5 * x0 + (1 - alpha_bar) ** 0.5 * torch.randn(x0.shape, generator=g)
        with torch.no_grad():
            plain = model.net(x_t, model_log_snr(alpha_bar))
        fast, truth = model(x_t, alpha_bar), exact(x_t, alpha_bar).float()
        assert (fast - plain).norm() < 0.1 * (plain - truth).norm(), (name, alpha_bar)


def test_the_fast_path_of_a_conditional_network_moves_eps_far_less_than_its_own_error():
    """The same for a class: the class head's fast path (bfloat16 products where the CPU has them) against
    the float32 forward pass, under a tenth of the network's deviation from the class's exact ε."""
    from explorer.data.datasets import toy_2d_labelled
    model, _ = load_pretrained("eight_gaussians_cond")
    points, labels = toy_2d_labelled("eight_gaussians", 8000, seed=7)
    x0 = points[labels == 3][:1000]
    exact = exact_eps_model("eight_gaussians", label=3)
    g = torch.Generator().manual_seed(8)
    for alpha_bar in (0.9, 0.5, 0.1, 0.01):
        x_t = alpha_bar ** 0.5 * x0 + (1 - alpha_bar) ** 0.5 * torch.randn(x0.shape, generator=g)
        with torch.no_grad():
            plain = model.net(x_t, model_log_snr(alpha_bar), torch.full((len(x_t),), 3))
        fast, truth = model(x_t, alpha_bar, 3), exact(x_t, alpha_bar).float()
        assert (fast - plain).norm() < 0.1 * (plain - truth).norm(), alpha_bar


def model_log_snr(alpha_bar: float) -> torch.Tensor:
    return torch.full((1,), math.log(alpha_bar / (1 - alpha_bar)))


def test_the_2d_bar_rejects_a_model_that_has_not_learnt():
    """The same check fails for an untrained network: the bar can be missed."""
    from explorer.nets.models import MLP2D, MLPConfig
    q = toy_quality(EpsModel(MLP2D(MLPConfig())), "two_moons", n=2000)
    assert not q["passed"]


def test_the_digit_classifier_is_fit_for_judging():
    """Real digits are recognised with confidence; noise is not."""
    x, y = digits(return_labels=True)
    clf = digit_classifier()
    proba = clf.predict_proba(x.flatten(1).numpy())
    assert (proba.argmax(1) == y.numpy()).mean() > 0.95
    assert (proba.max(1) >= CONFIDENT).mean() > 0.9
    noise = torch.rand(500, 64, generator=torch.Generator().manual_seed(0)) * 2 - 1
    assert (clf.predict_proba(noise.numpy()).max(1) >= CONFIDENT).mean() < 0.6


def test_copy_check_flags_training_images():
    x = digits()[:50]
    dist, idx = nearest_training_distance(x)
    assert torch.all(dist < 1e-5) and torch.equal(idx, torch.arange(50))
    assert typical_digit_spacing() > 1.0


def test_digit_samples_are_recognised_and_new():
    model, meta = load_pretrained("digits")
    q = digits_quality(model, n=400, seed=1)
    assert q["recognised"] >= 0.6, q
    assert q["classes"] >= 9, q
    assert q["copies"] <= 0.05, q


def test_the_two_digit_distances_the_images_page_names():
    """2.02 is the median distance to the *nearest* other digit; two random digits are ≈ 6.1 apart."""
    import itertools
    from explorer.data.datasets import digits
    from explorer.measure.evaluation import typical_digit_distance, typical_digit_spacing
    x = digits().flatten(1).double()
    nearest = [min(float((x[i] - x[j]).norm()) for j in range(len(x)) if j != i) for i in range(0, len(x), 60)]
    assert typical_digit_spacing() == pytest.approx(float(torch.tensor(nearest).median()), rel=0.1)
    pairs = [float((x[i] - x[j]).norm()) for i, j in itertools.islice(itertools.combinations(range(0, len(x), 7), 2), 20000)]
    assert typical_digit_distance() == pytest.approx(float(torch.tensor(pairs).median()), rel=0.05)
    assert typical_digit_distance() > 2.5 * typical_digit_spacing()


@pytest.mark.parametrize("name", ["eight_gaussians", "two_moons"])
def test_the_loss_floor_lies_below_what_training_reached(name):
    """The Train page's dotted line: the exact score of the training points at the training noise levels.
    A trained network's final loss sits just above it (never below); the floor is far from 0 (low noise)."""
    import json
    from explorer.nets.checkpoints import PRETRAINED_DIR
    from explorer.data.datasets import toy_2d
    from explorer.nets.training import TrainConfig, loss_floor
    floor = loss_floor(toy_2d(name, TrainConfig.n_data, seed=0))
    final = json.loads((PRETRAINED_DIR / f"{name}.json").read_text())["metrics"]["final_loss"]
    se = 0.01  # Monte Carlo error of the floor (8,192 draws) plus batch noise of the smoothed loss, generous
    assert 0.2 < floor < final + se and final < floor + 0.1


# --- the class-conditional networks of the labelled sets -------------------------------------------------------------
from explorer.data.datasets import LABELLED_2D  # noqa: E402


@pytest.mark.parametrize("name", list(LABELLED_2D))
def test_every_conditional_network_ships_and_records_its_training(name):
    meta = json.loads((PRETRAINED_DIR / f"{name}_cond.json").read_text())
    assert meta["kind"] == "mlp2d_cond" and meta["dataset"] == name
    assert meta["config"]["n_classes"] == len(LABELLED_2D[name]) and meta["config"]["p_uncond"] == meta["train_config"]["p_uncond"] == 0.2
    assert meta["train_config"]["conditional"] and meta["metrics"]["passed"]
    assert len(meta["metrics"]["classes"]) == len(LABELLED_2D[name])


@pytest.mark.slow
@pytest.mark.parametrize("name", ["eight_gaussians", "two_moons"])
def test_conditional_networks_pass_the_bar_for_every_class_and_for_none(name):
    from explorer.measure.evaluation import conditional_quality
    model, _ = load_pretrained(f"{name}_cond")
    q = conditional_quality(model, name, n=1000, seed=1)  # seed 1: not the seed stored in the JSON
    assert q["unconditional"]["passed"], q["unconditional"]
    for c in q["classes"]:
        assert c["passed"], c


def test_one_guided_step_is_one_network_call():
    """Both branches come from one pass: the trunk (the network up to its last hidden layer) runs once over the
    batch, and ε_u + w·δ equals ε_u + w(ε_c − ε_u) from separate calls."""
    from explorer.nets.cond_models import guided_eps
    model, _ = load_pretrained("two_moons_cond")
    rows = []
    real = model.net._hidden
    model.net._hidden = lambda x, *a: (rows.append(len(x)), real(x, *a))[1]
    x = torch.randn(300, 2)
    out = guided_eps(model, 1, 3.0)(x, 0.4)
    assert rows == [300]  # one trunk pass over the 300 points gives both branches
    e_c, e_u = model(x, 0.4, 1), model(x, 0.4, None)
    assert torch.allclose(out, e_u + 3.0 * (e_c - e_u), atol=1e-5)
    labels = torch.tensor([0, 1, 2] * 100)  # 2 is two moons' null label: ε_u on those rows
    mixed = guided_eps(model, labels, 3.0)(x, 0.4)
    assert torch.allclose(mixed[2::3], e_u[2::3], atol=1e-6)
    assert torch.allclose(mixed[1::3], out[1::3], atol=1e-6)


def test_the_fast_conditional_path_is_the_network():
    """at_level_branches (cached FiLM, label groups, float32 products here) equals forward() on shuffled labels."""
    from explorer.nets.cond_models import CondEpsModel
    model, _ = load_pretrained("eight_gaussians_cond")
    model.net.bf16_products = False
    x = torch.randn(2500, 2, generator=torch.Generator().manual_seed(0))
    labels = torch.randint(0, 9, (2500,), generator=torch.Generator().manual_seed(1))  # 8 = null
    for ab in (0.02, 0.5, 0.99):
        fast_u, fast_d = model.branches(x, ab, labels)
        slow_u, slow_d = model.branches(x, torch.tensor(ab), labels)
        assert torch.allclose(fast_u, slow_u, atol=1e-5) and torch.allclose(fast_d, slow_d, atol=1e-5)
        assert bool((fast_d[labels == 8] == 0).all()) and fast_d[labels != 8].abs().mean() > 1e-3
    assert isinstance(model, CondEpsModel)
