"""Image helpers and image samplers: colour map, grids, your picture's checks, GIF/PNG, inpainting."""
import io

import numpy as np
import pytest
import torch
from PIL import Image

from explorer.data import images
from explorer.draw import rasters
from explorer.diffusion.samplers import ddpm_sample, ilvr_sample, inpaint_sample, low_pass, run_to_end
from explorer.diffusion.schedules import make_schedule
from explorer.diffusion.scores import EmpiricalData
from stats import mean_tol, var_tol


def encode(img: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def test_one_colour_map_and_clipping():
    rgb = images.to_uint8(np.array([[-5.0, -1.0, 0.0, 1.0, 7.0]]))
    assert rgb.shape == (1, 5, 3) and rgb.dtype == np.uint8
    assert (rgb[0, 0] == rgb[0, 1]).all() and (rgb[0, 3] == rgb[0, 4]).all()  # clipped to [−1, 1]
    assert rgb[0, 0].sum() < rgb[0, 2].sum() < rgb[0, 3].sum()  # −1 dark, +1 light
    colour = images.to_uint8(torch.tensor([[[1.0]], [[-1.0]], [[-1.0]]]))  # (3, 1, 1) pure red
    assert tuple(colour[0, 0]) == (255, 0, 0)


def test_grid_and_nearest_neighbour_upscaling():
    tiles = torch.arange(4 * 4, dtype=torch.float32).reshape(4, 1, 2, 2)
    g = images.grid(tiles, ncol=2, pad=1, pad_value=-1)
    assert g.shape == (1, 7, 7)
    assert g[0, 1, 1] == 0 and g[0, 1, 4] == 4 and g[0, 4, 1] == 8 and g[0, 0, 0] == -1
    up = images.upscale(images.to_uint8(g), 3)
    assert up.shape == (21, 21, 3) and (up[3:6, 3:6] == up[3, 3]).all()


def test_png_and_gif_round_trip():
    frames = [images.picture(torch.full((1, 8, 8), v), 64) for v in (-1.0, 0.0, 1.0)]
    gif = Image.open(io.BytesIO(rasters.gif_bytes(frames)))
    assert gif.format == "GIF" and gif.n_frames == 3 and gif.size == (64, 64)
    png = Image.open(io.BytesIO(rasters.png_bytes(frames[2])))
    assert png.format == "PNG" and png.size == (64, 64)
    with pytest.raises(ValueError, match="at least one frame"):
        rasters.gif_bytes([])


def test_picture_is_resized_to_128_and_keeps_colour():
    img = Image.new("RGB", (400, 200), (255, 0, 0))
    x, notes = images.load_picture(encode(img, "JPEG"))
    assert x.shape == (3, 64, 128)
    assert x[0].mean() > 0.9 and x[1].mean() < -0.9  # still red
    assert any("Resized from 400 × 200 to 128 × 64" in n for n in notes)
    small, notes = images.load_picture(encode(Image.new("L", (20, 30), 128)))
    assert small.shape == (1, 30, 20) and not notes


@pytest.mark.parametrize("make,note", [
    (lambda: Image.new("RGBA", (10, 10), (0, 0, 0, 0)), "transparency"),
    (lambda: Image.new("P", (10, 10), 3), "palette"),
    (lambda: Image.new("LA", (10, 10), (0, 128)), "transparency"),
    (lambda: Image.new("I;16", (10, 10), 1000), "high bit depth"),
    (lambda: Image.new("1", (10, 10), 1), "1-bit"),
])
def test_odd_modes_are_converted_with_a_note(make, note):
    x, notes = images.load_picture(encode(make()))
    assert torch.isfinite(x).all() and x.min() >= -1 and x.max() <= 1
    assert any(note in n for n in notes), notes


def test_cmyk_jpeg_is_converted():
    x, notes = images.load_picture(encode(Image.new("CMYK", (16, 16), (0, 255, 255, 0)), "JPEG"))
    assert x.shape[0] == 3 and any("CMYK" in n for n in notes)
    transparent_white = images.load_picture(encode(Image.new("RGBA", (4, 4), (0, 0, 0, 0))))[0]
    assert torch.allclose(transparent_white, torch.ones_like(transparent_white))  # flattened onto white


@pytest.mark.parametrize("raw,message", [
    (b"", "empty"),
    (b"hello, this is text", "not an image"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "not an image|could not be decoded"),
    (b"x" * (images.MAX_UPLOAD_BYTES + 1), "at most"),
])
def test_bad_files_are_refused_with_a_message(raw, message):
    with pytest.raises(ValueError, match=message):
        images.load_picture(raw)


def test_other_formats_and_huge_images_are_refused():
    with pytest.raises(ValueError, match="PNG or JPEG"):
        images.load_picture(encode(Image.new("RGB", (8, 8)), "BMP"))
    with pytest.raises(ValueError, match="megapixels"):
        images.load_picture(encode(Image.new("1", (8000, 6000))))


def png_declaring(w: int, h: int) -> bytes:
    """A few hundred bytes of PNG whose header declares w × h grey pixels: a decompression bomb when large."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * (w + 1) * 4)) + chunk(b"IEND", b""))


@pytest.mark.parametrize("w, h, size", [
    (20_000, 20_000, "400 megapixels"),  # past Pillow's DecompressionBombError (2 × 89 MP)
    (10_000, 10_000, "100 megapixels"),  # between its warning and its error (a DecompressionBombWarning)
    (8_000, 8_000, "8,000 × 8,000 pixels"),  # under Pillow's limits, over ours
])
def test_a_decompression_bomb_gets_the_apps_own_message(w, h, size):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing leaks as a warning either
        with pytest.raises(ValueError) as refused:
            images.load_picture(png_declaring(w, h))
    message = str(refused.value)
    assert message.startswith(f"The image declares {size}; at most 40 megapixels are accepted"), message
    assert "decompression bomb" not in message.lower() and "DOS" not in message  # not Pillow's text


def _tiny_images(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, 1, 4, 4, generator=g) > 0.5).float() * 2 - 1


def test_inpainting_keeps_the_known_pixels_exactly_at_t0():
    data = _tiny_images()
    model = EmpiricalData(data)
    s = make_schedule("cosine", 200)
    known = torch.zeros(1, 4, 4, dtype=torch.bool)
    known[..., :2] = True
    x_known = data[:16]
    g = torch.Generator().manual_seed(1)
    last = run_to_end(inpaint_sample(model, s, x_known, known, torch.randn(16, 1, 4, 4, generator=g), generator=g))
    assert last.t == 0 and not last.diverged
    assert torch.equal(last.x[..., :2], x_known[..., :2])
    # the filled-in half fits the known half: the result is (nearly) a training image, far more
    # often than when the unknown half is filled at random
    d = torch.cdist(last.x.flatten(1), data.flatten(1)).min(1).values
    rand = torch.where(known, x_known, torch.randint(0, 2, x_known.shape, generator=g).float() * 2 - 1)
    d_rand = torch.cdist(rand.flatten(1), data.flatten(1)).min(1).values
    assert float(d.mean()) < 0.5 * float(d_rand.mean()), (d, d_rand)


def test_inpainting_renoises_the_known_pixels_to_the_current_level():
    """At step t the known pixels are a draw of q(x_t | x_0): mean √ᾱ_t x_0, variance 1 − ᾱ_t."""
    s = make_schedule("linear", 50)
    x_known = torch.full((4000, 1, 2, 2), 0.8)
    known = torch.ones(1, 2, 2, dtype=torch.bool)
    g = torch.Generator().manual_seed(2)
    zero = lambda x, ab: torch.zeros_like(x)  # noqa: E731 — any model: known pixels ignore it
    for step in inpaint_sample(zero, s, x_known, known, torch.randn(x_known.shape, generator=g), generator=g):
        if step.t == 25:
            v = step.x.flatten()
            ab = float(s.alphas_cumprod[25])
            assert abs(float(v.mean()) - ab ** 0.5 * 0.8) < mean_tol((1 - ab) ** 0.5, len(v))
            assert abs(float(v.var()) - (1 - ab)) < var_tol(v)
            break


def test_variations_start_from_t0():
    data = _tiny_images()
    s = make_schedule("cosine", 40)
    steps = list(ddpm_sample(EmpiricalData(data), s, data[:8] * 0.9, t_start=5))
    assert [st.t for st in steps] == [4, 3, 2, 1, 0]
    with pytest.raises(ValueError, match="t_start"):
        list(ddpm_sample(EmpiricalData(data), s, data[:8], t_start=41))


# --- super-resolution (ILVR) and sketch to digit (SDEdit) -------------------------------------------------------
def test_low_pass_is_a_block_mean_projection():
    x = torch.randn(3, 1, 8, 8, generator=torch.Generator().manual_seed(4))
    lp = low_pass(x, 2)
    assert torch.allclose(low_pass(lp, 2), lp)
    assert torch.allclose(lp[0, 0, 0, 0], x[0, 0, :2, :2].mean()) and torch.allclose(lp[0, 0, 1, 1], lp[0, 0, 0, 0])


def test_ilvr_samples_equal_the_input_at_low_resolution_at_every_level():
    """The block means of x_{t−1} after each step are √ᾱ y + √(1−ᾱ) (block means of ε): their deviation from √ᾱ y
    has mean 0 and variance (1 − ᾱ)/factor²; at t = 0 they equal y exactly. Any model: the replacement decides."""
    s = make_schedule("cosine", 40)
    y = torch.rand(2000, 1, 4, 4, generator=torch.Generator().manual_seed(5)) * 2 - 1
    g = torch.Generator().manual_seed(6)
    zero = lambda x, ab: torch.zeros_like(x)  # noqa: E731
    for step in ilvr_sample(zero, s, y, torch.randn(2000, 1, 8, 8, generator=g), generator=g):
        dev = (torch.nn.functional.avg_pool2d(step.x, 2) - float(s.alphas_cumprod[step.t]) ** 0.5 * y).flatten()
        if step.t == 0:
            assert float(dev.abs().max()) < 1e-6
        elif step.t in (30, 10, 1):
            want = (1 - float(s.alphas_cumprod[step.t])) / 4
            assert abs(float(dev.mean())) < mean_tol(want ** 0.5, len(dev))
            assert abs(float(dev.var()) - want) < var_tol(dev), (step.t, float(dev.var()), want)


def test_ilvr_with_the_exact_score_keeps_a_training_digits_detail_and_the_inputs_blocks():
    """With the exact score of the training digits, each sample is a training digit's detail (what the 4 × 4 cannot
    see) on the input's block means, and that digit's own 4 × 4 version is nearer the input than a typical digit's."""
    from explorer.data.datasets import digits

    x = digits()
    ref, s = x[:16], make_schedule("cosine", 100)
    y = torch.nn.functional.avg_pool2d(ref, 2)
    g = torch.Generator().manual_seed(0)
    out = run_to_end(ilvr_sample(EmpiricalData(x), s, y, torch.randn(16, 1, 8, 8, generator=g), generator=g)).x
    assert float((torch.nn.functional.avg_pool2d(out, 2) - y).abs().max()) < 1e-5
    detail = lambda z: (z - low_pass(z, 2)).flatten(1)  # noqa: E731
    d, donor = torch.cdist(detail(out), detail(x)).min(1)
    assert float(d.max()) < 0.05, d  # the detail is a training digit's
    low_x = torch.nn.functional.avg_pool2d(x, 2).flatten(1)
    donor_gap = (low_x[donor] - y.flatten(1)).norm(dim=1)
    typical = torch.cdist(y.flatten(1), low_x).median(dim=1).values
    assert float((donor_gap / typical).median()) < 0.7, (donor_gap, typical)


def test_ilvr_refuses_an_input_that_does_not_divide_the_image():
    with pytest.raises(ValueError, match="multiple"):
        list(ilvr_sample(lambda x, ab: x, make_schedule("linear", 5), torch.zeros(1, 1, 3, 3), torch.zeros(1, 1, 8, 8)))


def test_sketches_look_like_digits_pixels_and_an_upload_becomes_one():
    for name, sk in images.SKETCHES.items():
        assert sk.shape == (1, 8, 8) and set(sk.unique().tolist()) == {-1.0, 1.0}, name
    dark_on_light = torch.ones(3, 40, 30)
    dark_on_light[:, 10:30, 12:16] = -1  # a dark bar on white paper
    sketch, inverted = images.as_sketch(dark_on_light)
    assert inverted and sketch.shape == (1, 8, 8) and float(sketch.max()) == 1.0 and float(sketch.min()) == -1.0
    assert float(sketch[0, 4, 3]) > 0.5 > float(sketch[0, 4, 7])  # the bar is now white, the paper black
    flat, _ = images.as_sketch(torch.zeros(1, 8, 8))
    assert torch.equal(flat, torch.full((1, 8, 8), -1.0))


@pytest.mark.slow
def test_sdedit_faithfulness_falls_and_realism_rises_with_t0():
    """The hook sketch through the digits network from t₀ = 10 %, 40 %, 90 % of cosine T = 100: the mean distance to the
    sketch grows and the distance to the nearest training digit shrinks (32 digits each)."""
    from explorer.nets.checkpoints import load_pretrained
    from explorer.measure.evaluation import nearest_training_distance
    from explorer.diffusion.forward import q_sample
    from explorer.diffusion.samplers import CLIP_DIGITS

    model, s = load_pretrained("digits")[0], make_schedule("cosine", 100)
    sketch = images.SKETCHES["a hook (7)"][None]
    far, near = [], []
    for t0 in (10, 40, 90):
        g = torch.Generator().manual_seed(t0)
        noised = q_sample(sketch.expand(32, -1, -1, -1), t0, s, generator=g)
        out = run_to_end(ddpm_sample(model, s, noised, generator=g, clip_x0=CLIP_DIGITS, t_start=t0)).x.clamp(-1, 1)
        far.append(float((out - sketch).flatten(1).norm(dim=1).mean()))
        near.append(float(nearest_training_distance(out)[0].mean()))
    assert far[0] < far[1] < far[2], far
    assert near[0] > near[1] > near[2] or near[0] > 1.5 * near[2], near


# --- the two views on the page ------------------------------------------------------------------------------------
def test_super_resolution_view_shows_what_ilvr_made():
    from explorer.nets.checkpoints import load_pretrained
    from explorer.data.datasets import digits
    from explorer.measure.evaluation import digit_verdicts
    from explorer.diffusion.samplers import CLIP_DIGITS
    from explorer.common.streams import STREAMS
    from test_pages import assert_clean, metric, open_page

    at = open_page("images", view="superres", sr_index=7, sr_side=4, T=100, img_data="digits")
    assert_clean(at)
    x, labels = digits(return_labels=True)
    y = torch.nn.functional.avg_pool2d(x[7:8], 2).expand(8, -1, -1, -1)
    g = STREAMS["super_resolution"].generator(0)
    out = run_to_end(ilvr_sample(load_pretrained("digits")[0], make_schedule("cosine", 100), y,
                                 torch.randn(8, 1, 8, 8, generator=g), generator=g, clip_x0=CLIP_DIGITS)).x
    same = int((torch.as_tensor(digit_verdicts(out.clamp(-1, 1))["label"]) == labels[7]).sum())
    from explorer.ui.views.image_apps import a_digit
    assert metric(at, f"samples read as {a_digit(int(labels[7]))}") == f"{same} of 8"
    assert float(metric(at, "samples' own 4 × 4 vs the input")) < 1e-5
    assert float(metric(at, "bicubic's 4 × 4 vs the input")) > 0.01  # bicubic does not keep the block means


def test_sketch_view_measures_faithfulness_against_t0():
    import re
    from test_pages import assert_clean, open_page

    at = open_page("images", view="sketch", T=100, sk_t0=30, sk_name="a bar (1)", img_data="digits")
    assert_clean(at)
    text = [c.value for c in at.caption if "distance to the sketch goes from" in c.value][0]
    lo, hi = (float(v) for v in re.findall(r"distance to the sketch goes from (\S+) to (\S+?),", text)[0])
    assert lo < hi, text  # faithfulness falls as t₀ grows
    assert any(c.key == "sk_curve" for c in at.get("plotly_chart"))


@pytest.mark.parametrize("params", [
    {"view": "superres", "sr_side": 2, "sr_index": 1796, "T": 20},
    {"view": "superres", "sr_side": 4, "sr_index": 0, "T": 1},
    *({"view": "sketch", "sk_name": name, "sk_t0": t0, "T": 20} for name in images.SKETCHES for t0 in (1, 20)),
    {"view": "sketch", "T": 1},
    {"view": "sketch", "kind": "constant", "beta": 0.5, "T": 10},
])
def test_the_application_views_at_every_choice(params):
    """The radios the slider-extremes test does not reach: both input resolutions, every built-in sketch at t₀ = 1 and
    t₀ = T, T = 1, and a schedule whose first step already noises heavily (the page says so)."""
    from test_pages import assert_clean, open_page

    at = open_page("images", img_data="digits", **params)
    assert_clean(at)
    assert len(at.get("imgs")) >= 3 or len(at.get("image")) >= 3
    if params.get("kind") == "constant":
        assert any("already leaves ᾱ₁ = 0.5" in i.value for i in at.info)
