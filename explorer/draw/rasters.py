"""Pictures drawn on the server with Pillow: RGB arrays and 2D point clouds → PNG and GIF bytes.

The first page shows two of these instead of a chart, so no chart library has to load in the browser.
"""
from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .palette import INK, LIM, REF, circle, rgb


def png_bytes(image: np.ndarray) -> bytes:
    """An (H, W, 3) uint8 RGB image as PNG bytes."""
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return buf.getvalue()


def jpeg_bytes(image: np.ndarray, quality: int = 92) -> bytes:
    """An (H, W, 3) uint8 RGB image as JPEG bytes."""
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def gif_bytes(frames: list[np.ndarray], ms_per_frame: int = 80, hold_last_ms: int = 1200) -> bytes:
    """An animated GIF (looping) of RGB frames; the last frame is held a little longer."""
    if not frames:
        raise ValueError("A GIF needs at least one frame.")
    imgs = [Image.fromarray(f) for f in frames]
    buf = io.BytesIO()
    durations = [ms_per_frame] * (len(imgs) - 1) + [hold_last_ms]
    imgs[0].save(buf, format="GIF", save_all=True, append_images=imgs[1:], duration=durations, loop=0,
                 optimize=False, disposal=1)
    return buf.getvalue()


def cloud_png(points: np.ndarray, color: str, title: str, size_px: int = 480, text_px: int = 11) -> bytes:
    """A still scatter of 2D points on the fixed ±LIM axes with the N(0, I) 1σ/2σ circles, as PNG bytes.

    Drawn with Pillow on the server (no chart library in the browser, no matplotlib import on the
    first page): drawn at twice the size and downsampled, so points and circles are smooth. text_px is
    the tick labels' height in the picture's pixels (the title is 9/7 of it).
    """
    k = 2  # supersampling
    W = size_px * k
    grow = text_px / 11  # the margins grow with the text
    left, right, top, bottom = round(44 * grow) * k, 12 * k, round(34 * grow) * k, round(30 * grow) * k
    side = min(W - left - right, W - top - bottom)
    img = Image.new("RGB", (W, W), "white")
    d = ImageDraw.Draw(img, "RGBA")
    font = ImageFont.load_default(size=text_px * k)
    title_font = ImageFont.load_default(size=round(text_px * 9 / 7) * k)

    def px(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return left + (x + LIM) / (2 * LIM) * side, top + (LIM - y) / (2 * LIM) * side

    for v in range(-4, 5, 1):  # grid and tick labels
        gx, gy = px(np.array([v]), np.array([v]))
        d.line([(gx[0], top), (gx[0], top + side)], fill="#eeeeee", width=k)
        d.line([(left, gy[0]), (left + side, gy[0])], fill="#eeeeee", width=k)
        if v % 2 == 0:
            d.text((gx[0], top + side + 4 * k), f"{v}", fill="#555555", font=font, anchor="mt")
            d.text((left - 6 * k, gy[0]), f"{v}", fill="#555555", font=font, anchor="rm")
    d.rectangle([left, top, left + side, top + side], outline="#bbbbbb", width=k)
    for r, dash in ((1, False), (2, True)):  # N(0, I): 1σ solid, 2σ dashed
        cx, cy = px(*circle(r, 241))
        segs = list(zip(cx, cy))
        for i in range(len(segs) - 1):
            if not dash or (i // 4) % 2 == 0:
                d.line([segs[i], segs[i + 1]], fill=REF, width=k)
    p = np.clip(np.asarray(points, dtype=float), -LIM, LIM)
    X, Y = px(p[:, 0], p[:, 1])
    rad = 2.2 * k
    for x, y in zip(X, Y):
        d.ellipse([x - rad, y - rad, x + rad, y + rad], fill=rgb(color) + (150,))
    d.text((left + side / 2, top / 2), title, fill=INK, font=title_font, anchor="mm")
    img = img.resize((size_px, size_px), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False)
    return buf.getvalue()
