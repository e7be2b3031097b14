"""Image helpers and image samplers: colour map, grids, your picture's checks, GIF/PNG, inpainting."""
import io

import numpy as np
import pytest
import torch
from PIL import Image

from explorer import images, rasters
from explorer.samplers import ddpm_sample, inpaint_sample, run_to_end
from explorer.schedules import make_schedule
from explorer.scores import EmpiricalData
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
