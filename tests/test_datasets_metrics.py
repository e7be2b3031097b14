"""Data sets, metrics and device selection."""
import math

import numpy as np
import pytest
import torch
from stats import mean_tol

from explorer.draw import rasters
from explorer.draw.diagram import chain_diagram_svg

from explorer.data.datasets import BOX, DEFAULT_WORD, TOY_2D, digits, toy_2d
from explorer.common.device import describe_device, pick_device
from explorer.measure.metrics import (SortedSample, kl_to_standard_normal, mean_log_likelihood, mmd_rbf,
                                      sliced_wasserstein)
from explorer.data.datasets import eight_gaussians_mixture


@pytest.mark.parametrize("name", list(TOY_2D))
def test_toy_sets_share_one_box_and_are_reproducible(name):
    x = toy_2d(name, 3000, seed=1)
    assert x.shape == (3000, 2) and x.dtype == torch.float32 and torch.isfinite(x).all()
    assert float((x.abs() <= BOX + 0.15).float().mean()) > 0.999  # noise may poke out a hair
    assert 0.6 < float(x.std()) < 1.4  # one scale fits all sets
    assert torch.equal(x, toy_2d(name, 3000, seed=1))
    assert not torch.equal(x, toy_2d(name, 3000, seed=2))


def test_word_points_lie_inside_letters():
    from explorer.data.datasets import _word_path, inside_word
    polygons, _, _ = _word_path("OHM")
    x = toy_2d("word", 2000, seed=3, word="OHM")
    assert inside_word(polygons, x.double().numpy()).mean() > 0.95  # all but the 0.01 jitter
    # the hole of an O is empty: its centre (the points' mean) has no points nearby
    o = toy_2d("word", 2000, seed=3, word="O")
    assert float(torch.cdist(o.mean(0, keepdim=True), o).min()) > 0.3


def test_checkerboard_fills_only_dark_squares():
    x = toy_2d("checkerboard", 5000, seed=4)
    col, row = torch.floor(x[:, 0] + 2).long(), torch.floor(x[:, 1] + 2).long()
    assert bool(((col + row) % 2 == 0).all())


def test_eight_gaussians_is_its_mixture():
    x = toy_2d("eight_gaussians", 20_000, seed=5).double()
    r = x.norm(dim=1)
    assert abs(float(r.mean()) - 1.6) < 0.01


def test_digits_range_and_shape():
    x, y = digits(return_labels=True)
    assert x.shape == (1797, 1, 8, 8) and float(x.min()) == -1.0 and float(x.max()) == 1.0
    assert set(y.tolist()) == set(range(10))


def test_digits_are_scikit_learns_load_digits():
    """digits() reads scikit-learn's bundled CSV itself (no sklearn import): the very images and labels."""
    import torch
    from sklearn.datasets import load_digits
    x, y = digits(return_labels=True)
    d = load_digits()
    assert torch.equal(x, torch.as_tensor(d.images, dtype=torch.float32).unsqueeze(1) / 8.0 - 1.0)
    assert torch.equal(y, torch.as_tensor(d.target, dtype=torch.long))


@pytest.mark.parametrize("call,words", [
    (lambda: toy_2d("blobs", 10), "Unknown data set"),
    (lambda: toy_2d("two_moons", 0), "number of points"),
    (lambda: toy_2d("two_moons", 2.5), "number of points"),
    (lambda: toy_2d("two_moons", 10, seed=-1), "seed"),
    (lambda: toy_2d("word", 10, word="   "), "visible character"),
    (lambda: toy_2d("word", 10, word="X" * 40), "at most"),
])
def test_bad_arguments(call, words):
    with pytest.raises(ValueError, match=words):
        call()


def test_sliced_wasserstein_of_a_shift():
    """SW₂ of N(0,I) and its shift by v: every projection is shifted by θ·v, so SW² = |v|²/d."""
    g = torch.Generator().manual_seed(6)
    a = torch.randn(2000, 2, generator=g, dtype=torch.float64)
    v = torch.tensor([3.0, 0.0], dtype=torch.float64)
    sw = sliced_wasserstein(a, a + v, n_projections=2000)
    # only the directions are random: SE of mean cos²θ over 2000 is √(1/8/2000); 5 SE relative
    assert sw == pytest.approx(3 / math.sqrt(2), rel=5 * math.sqrt(1 / 8 / 2000) / 0.5 / 2)
    assert sliced_wasserstein(a, a) == 0.0
    assert sliced_wasserstein(a[:5000], a[:7000]) < 0.1  # unequal sizes are fine


def test_a_presorted_reference_gives_the_same_distance():
    """SortedSample sorts the reference once for many distances: the value is sliced_wasserstein's, to the bit,
    for equal and unequal sizes; non-finite samples are infinitely far, as there."""
    g = torch.Generator().manual_seed(7)
    ref = torch.randn(1500, 2, generator=g) * torch.tensor([1.0, 3.0])
    sorted_ref = SortedSample(ref, n_projections=64, seed=3)
    for a in (torch.randn(1500, 2, generator=g), torch.randn(700, 2, generator=g) + 1.0, ref):
        assert sorted_ref.distance(a) == sliced_wasserstein(a, ref, n_projections=64, seed=3)
    assert sorted_ref.distance(ref) == 0.0
    assert sorted_ref.distance(torch.full((10, 2), math.nan)) == math.inf
    with pytest.raises(ValueError, match="coordinates"):
        sorted_ref.distance(torch.zeros(10, 3))


def test_mmd_separates():
    g = torch.Generator().manual_seed(7)
    a, b = torch.randn(500, 2, generator=g), torch.randn(500, 2, generator=g)
    same = mmd_rbf(a, b)
    assert abs(same) < 0.01 and mmd_rbf(a, b + 1.0) > 10 * max(abs(same), 1e-3)


def test_kl_to_standard_normal():
    x0 = torch.zeros(10, 3)
    assert kl_to_standard_normal(0.5, x0) == pytest.approx(0.5 * 3 * (0.5 - 1 - math.log(0.5)))
    assert kl_to_standard_normal(0.0, torch.randn(10, 3)) == pytest.approx(0.0, abs=1e-12)


def test_mean_log_likelihood_prefers_the_true_data():
    gm = eight_gaussians_mixture()
    x = gm.sample(4000, torch.Generator().manual_seed(8))
    assert mean_log_likelihood(x, gm) > mean_log_likelihood(torch.randn(4000, 2), gm) + 1.0


@pytest.mark.parametrize("cuda,mps,expected", [(True, True, "cuda"), (False, True, "mps"), (False, False, "cpu")])
def test_pick_device_prefers_cuda_then_mps_then_cpu(monkeypatch, cuda, mps, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)
    assert pick_device().type == expected


def test_describe_device_names_the_cpu_threads():
    n = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        assert describe_device(torch.device("cpu")) == "cpu (1 thread)"
        torch.set_num_threads(2)
        assert describe_device(torch.device("cpu")) == "cpu (2 threads)"
    finally:
        torch.set_num_threads(n)


def test_figures_build_from_arrays():
    """Figure builders return plotly figures whose traces hold the given data."""
    import numpy as np
    from explorer.draw import figures
    x = np.random.default_rng(0).normal(size=(300, 2))
    fig = figures.cloud_snapshot([(x, figures.STATE, "x_t")], "t = 3", paths=x[None, :10])
    assert fig.data[0].name == "x_t" and len(fig.data[0].x) == 300
    anim = figures.animated_cloud(np.stack([x, 2 * x]), [0, 5], "demo")
    assert len(anim.frames) == 2 and np.allclose(anim.frames[1].data[0].x, 2 * x[:, 0])
    svg = chain_diagram_svg()
    assert svg.count("<circle") == 6 and svg.count("<line") == 2 * 5  # x_0 … x_T, arrows both ways
    import re
    import xml.etree.ElementTree as ET
    texts = ["".join(t.itertext()) for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")]
    forward, reverse = texts[-2], texts[-1]
    assert forward.startswith("forward q(xt | xt−1)") and reverse.startswith("reverse p(xt−1 | xt)")
    # subscripts are drawn as subscripts (a smaller, lowered tspan), not typed as x_{t−1}
    assert not re.search(r"[_{}]", forward + reverse), (forward, reverse)
    assert '<tspan dy="4" font-size="11">t−1</tspan>' in svg


def test_cloud_png_draws_the_points_where_they_are():
    """A point at the origin colours the centre of the picture; an empty corner stays white."""
    import io
    from PIL import Image
    from explorer.draw.palette import STATE, rgb
    png = rasters.cloud_png(np.zeros((50, 2)), STATE, "one spot", size_px=480)
    img = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    assert img.shape == (480, 480, 3)
    # at 480 px the plot square starts at column 44 and row 34 and is 416 px wide: ±LIM = ±4.2 across it
    centre = img[34 + 208, 44 + 208]
    assert np.abs(centre - np.array(rgb(STATE))).max() < 60  # the marker colour (drawn with some transparency)
    assert (img[110, 410] == 255).all()  # x ≈ (3.2, 2.7): between grid lines, nothing drawn there


def test_csv_points_are_read_and_fitted_into_the_box():
    from explorer.data.datasets import CSV_FIT, points_from_csv
    rows = "\n".join(f"{100 + i},{-3 + 0.5 * (i % 7)}" for i in range(50))
    pts, note = points_from_csv(("x;y\n" + rows.replace(",", ";")).encode())
    assert pts.shape == (50, 2) and "50 points" in note
    assert abs(float(pts[:, 0].min()) + CSV_FIT) < 1e-5 and abs(float(pts[:, 0].max()) - CSV_FIT) < 1e-5
    # one scale for both axes: the y spread (3) over the x spread (49) is kept
    ratio = float(pts[:, 1].max() - pts[:, 1].min()) / float(pts[:, 0].max() - pts[:, 0].min())
    assert abs(ratio - 3 / 49) < 1e-5
    tabbed, _ = points_from_csv(rows.replace(",", "\t").encode())
    assert torch.allclose(tabbed, pts)


@pytest.mark.parametrize("raw,message", [
    (b"", "empty"),
    (b"\xff\xfe\x00garbage", "not a text"),
    (b"x,y,z\n" + b"1,2,3\n" * 30, "3 columns"),
    (b"1,2\n" * 10, "between 20 and"),
    (b"1,2\n" * 30 + b"4,hello\n", "Line 31"),
    (b"1,inf\n" * 30, "not finite"),
    (b"7,7\n" * 30, "same"),
])
def test_bad_csv_files_get_a_clear_message(raw, message):
    from explorer.data.datasets import points_from_csv
    with pytest.raises(ValueError, match=message):
        points_from_csv(raw)


def test_log_axes_get_plain_1_2_5_labels():
    """Log-scaled charts label 0.05, 0.1, 0.2 … in full (plotly's default shows a bare '5' or '2')."""
    import numpy as np
    from explorer.draw import figures
    assert figures.log_ticks(np.array([0.09, 0.35])) == [0.05, 0.1, 0.2, 0.5]
    # a narrow range (a loss falling from 0.9 to 0.31) gets every digit, not a lone 0.5
    assert figures.log_ticks(np.array([0.9, 0.5, 0.31])) == [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    # many decades: powers of ten only, still covering the data
    ticks = figures.log_ticks(np.array([1e-3, 2.0]))
    assert ticks == [1e-3, 1e-2, 0.1, 1.0, 10.0]
    assert figures.log_ticks(np.array([np.nan, -1.0, 0.0])) == [1.0]  # nothing positive to show
    fig = figures.lines(np.arange(3), {"SW": (np.array([0.3, 0.12, 0.09]), {})}, "t", "x", "SW", log_y=True)
    assert list(fig.layout.yaxis.ticktext) == ["0.05", "0.1", "0.2", "0.5"]
    assert fig.layout.yaxis.type == "log"


def test_the_irreducible_eps_loss_comes_from_low_noise():
    """The Train page's claim: with the exact score of the 8 Gaussians, the ε-loss is ≈ 0 at high noise
    (log-SNR −10) and ≈ 1 per coordinate at low noise (log-SNR +10), rising in between."""
    from explorer.measure.metrics import eps_loss
    gm = eight_gaussians_mixture()
    x0 = gm.sample(20_000, torch.Generator().manual_seed(0))
    losses = [eps_loss(gm, x0, 1 / (1 + math.exp(-lam)), torch.Generator().manual_seed(1)) for lam in (-10, -5, 0, 5, 10)]
    se = 2 / math.sqrt(20_000 * 2)  # a mean of 40,000 values of a χ²-like quantity below 2 in spread
    assert losses[0] < 0.001 and losses[-1] > 0.97 - 3 * se
    assert all(a < b for a, b in zip(losses, losses[1:]))


def test_a_frozen_figure_sends_what_the_plotly_figure_sends():
    """figures.Frozen (the dict made once) and animated_cloud_frozen (frames without validation) give the browser
    the same figure as plotly's own path, float32, float16-stored, float64 and int64 arrays included."""
    import json

    import plotly.io as pio

    from explorer.draw import figures
    rng = np.random.default_rng(0)
    frames = rng.normal(size=(6, 300, 2)).astype(np.float16).astype(np.float32)
    args = (frames, np.arange(6, dtype=np.int64) * 10, "DDPM")
    plain = json.loads(pio.to_json(figures.animated_cloud(*args, labels=[f"t = {t}" for t in range(6)]), validate=False))
    for fig in (figures.Frozen(figures.animated_cloud(*args, labels=[f"t = {t}" for t in range(6)])),
                figures.animated_cloud_frozen(*args, labels=[f"t = {t}" for t in range(6)])):
        assert json.loads(pio.to_json(fig, validate=False)) == plain
    assert len(plain["frames"]) == 6 and plain["frames"][0]["data"][0]["x"]["dtype"] == "f4"
    from explorer.draw.frozen import _plain
    assert _plain({"a": np.arange(3), "b": [np.float64(2.5)]}) == \
        {"a": {"dtype": "i4", "bdata": "AAAAAAEAAAACAAAA"}, "b": [2.5]}
    with pytest.raises(ValueError, match="typed array"):
        _plain(np.zeros((2, 2)))
