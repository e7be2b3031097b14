"""Images for the explorer: one colour map, grids, nearest-neighbour upscaling, your own picture, sketches.

Pixel values live in [−1, 1] (data) and wander outside it once noised; every picture on the
images page maps [−1, 1] through the same colour map and clips beyond it, so a pixel's shade
means the same thing everywhere. Colour pictures keep their RGB channels.
"""
from __future__ import annotations

import functools
import io
import re

import numpy as np
import torch

MAX_SIDE = 128  # uploaded pictures are resized so that their longer side is at most this
MAX_UPLOAD_BYTES = 8_000_000
MAX_UPLOAD_PIXELS = 40_000_000  # refuse decompression bombs before decoding
CMAP = "gray"  # the one colour map for single-channel images: −1 black … 1 white
GRID_WIDTH = 360  # on-screen width of a grid of digits, in pixels (nearest-neighbour upscaling)


@functools.lru_cache(maxsize=1)
def _lut() -> np.ndarray:
    """CMAP as a 256-entry uint8 RGB table."""
    from matplotlib import colormaps

    return (colormaps[CMAP](np.linspace(0, 1, 256))[:, :3] * 255).round().astype(np.uint8)


def to_uint8(x: np.ndarray | torch.Tensor) -> np.ndarray:
    """(C, H, W) or (H, W) values in [−1, 1] (clipped) → (H, W, 3) uint8 RGB."""
    a = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    a = np.nan_to_num(a.astype(np.float32), nan=0.0, posinf=1.0, neginf=-1.0)
    levels = np.clip((a + 1) * 127.5, 0, 255).round().astype(np.uint8)
    if levels.ndim == 3 and levels.shape[0] == 3:
        return np.ascontiguousarray(levels.transpose(1, 2, 0))
    if levels.ndim == 3:
        levels = levels[0]
    return _lut()[levels]


def grid(images: np.ndarray | torch.Tensor, ncol: int | None = None, pad: int = 1,
         pad_value: float = 0.25) -> np.ndarray:
    """(N, C, H, W) → one (C, H', W') image of tiles separated by `pad` pixels of `pad_value`."""
    a = images.detach().cpu().numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    n, c, h, w = a.shape
    ncol = ncol or int(np.ceil(np.sqrt(n)))
    nrow = int(np.ceil(n / ncol))
    out = np.full((c, nrow * (h + pad) + pad, ncol * (w + pad) + pad), pad_value, dtype=np.float32)
    for i in range(n):
        r, q = divmod(i, ncol)
        out[:, pad + r * (h + pad): pad + r * (h + pad) + h, pad + q * (w + pad): pad + q * (w + pad) + w] = a[i]
    return out


def upscale(rgb: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour upscaling of an (H, W, 3) image: every pixel becomes a factor × factor block."""
    return np.repeat(np.repeat(rgb, factor, axis=0), factor, axis=1)


def picture(x, width: int = GRID_WIDTH) -> np.ndarray:
    """An image (C, H, W) in [−1, 1] as RGB upscaled to about `width` pixels wide (integer factor)."""
    rgb = to_uint8(x)
    return upscale(rgb, max(1, width // rgb.shape[1]))


def too_many_pixels(w: int | None = None, h: int | None = None, pixels: int | None = None) -> str:
    """The message for a picture that declares more pixels than the app decodes (a decompression bomb, or just huge)."""
    size = f"{w:,} × {h:,} pixels" if w and h else f"{pixels / 1e6:,.0f} megapixels" if pixels else \
        "far more pixels than a photograph"
    return (f"The image declares {size}; at most {MAX_UPLOAD_PIXELS / 1e6:.0f} megapixels are accepted, so it was "
            f"not decoded. Please upload a smaller PNG or JPEG (it is shrunk to {MAX_SIDE} pixels anyway).")


def load_picture(raw: bytes, max_side: int = MAX_SIDE) -> tuple[torch.Tensor, list[str]]:
    """A PNG or JPEG file → (C, H, W) tensor in [−1, 1] with C = 3 (colour) or 1 (grey), and notes.

    Resized (Lanczos) so the longer side is at most max_side. Odd modes are converted with a note:
    palette → RGB, CMYK → RGB, transparency → flattened onto white, 16-bit or float grey → 8-bit.
    Raises ValueError for an empty or too large file, something that is not a PNG/JPEG image,
    or an image with zero width or height.
    """
    import warnings

    from PIL import Image, UnidentifiedImageError

    if len(raw) == 0:
        raise ValueError("The file is empty (0 bytes).")
    if len(raw) > MAX_UPLOAD_BYTES:
        raise ValueError(f"The file is {len(raw) / 1e6:.1f} MB; at most {MAX_UPLOAD_BYTES / 1e6:.0f} MB is accepted.")
    try:
        with warnings.catch_warnings():  # Pillow warns (or raises) about a huge declared size as it opens the file
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(raw))
            fmt = img.format
            w, h = img.size
            if fmt not in ("PNG", "JPEG"):
                raise ValueError(f"This is a {fmt} image; please upload a PNG or JPEG.")
            if w == 0 or h == 0:
                raise ValueError(f"The image has zero size ({w} × {h} pixels).")
            if w * h > MAX_UPLOAD_PIXELS:
                raise ValueError(too_many_pixels(w, h))
            img.load()
    except UnidentifiedImageError:
        raise ValueError("This file is not an image that can be read (PNG or JPEG expected).") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        # Pillow refused while opening, before the size could be asked: its text names the pixel count
        declared = re.search(r"\((\d+) pixels\)", str(err))
        raise ValueError(too_many_pixels(pixels=int(declared.group(1)) if declared else None)) from None
    except (OSError, SyntaxError) as err:
        raise ValueError(f"The image could not be decoded ({type(err).__name__}); it may be damaged or cut short. "
                         "Please upload another PNG or JPEG.") from None
    notes = []
    mode = img.mode
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
        notes.append("A palette image: converted to RGB colours.")
        mode = img.mode
    if mode == "CMYK":
        img = img.convert("RGB")
        notes.append("A CMYK image: converted to RGB (colours may shift slightly).")
    elif mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        a = np.asarray(img, dtype=np.float64)
        lo, hi = float(a.min()), float(a.max())
        a = (a - lo) / (hi - lo) * 255 if hi > lo else np.zeros_like(a)
        img = Image.fromarray(a.round().astype(np.uint8), mode="L")
        notes.append(f"A {mode} (high bit depth) grey image: rescaled to 8 bits.")
    elif mode == "1":
        img = img.convert("L")
        notes.append("A black-and-white (1-bit) image: converted to grey.")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode in ("RGB", "L") and "transparency" in img.info):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba).convert("RGB")
        notes.append("The image has transparency: flattened onto a white background.")
    if img.mode not in ("RGB", "L"):
        img = img.convert("RGB")
        notes.append(f"Mode {mode}: converted to RGB.")
    if max(w, h) > max_side:
        scale = max_side / max(w, h)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        img = img.resize(size, Image.Resampling.LANCZOS)
        notes.append(f"Resized from {w} × {h} to {size[0]} × {size[1]} pixels (longer side ≤ {max_side}).")
    a = np.asarray(img, dtype=np.float32) / 127.5 - 1.0
    x = torch.from_numpy(a.transpose(2, 0, 1).copy() if a.ndim == 3 else a[None].copy())
    return x, notes


def _sketch(rows: list[str]) -> torch.Tensor:
    return torch.tensor([[1.0 if c == "#" else -1.0 for c in row] for row in rows])[None]


# Blocky 8 × 8 drawings, white strokes (+1) on black (−1) like the digits: inputs for "sketch to digit".
SKETCHES = {
    "a ring (0)": _sketch(["........", "..####..", ".#....#.", ".#....#.", ".#....#.", ".#....#.", "..####..", "........"]),
    "a bar (1)": _sketch(["........", "...##...", "...##...", "...##...", "...##...", "...##...", "...##...", "........"]),
    "a hook (7)": _sketch(["........", ".######.", "......#.", ".....#..", "....#...", "...#....", "...#....", "........"]),
    "a cross (4)": _sketch(["........", ".#...#..", ".#...#..", ".######.", ".....#..", ".....#..", ".....#..", "........"]),
    "a square (0?)": _sketch(["........", ".######.", ".#....#.", ".#....#.", ".#....#.", ".#....#.", ".######.", "........"]),
}


MNIST_BOX = 20  # MNIST's digits: the ink scaled to fit 20 × 20, its centre of mass at the centre of 28 × 28


def frame_ink(ink: torch.Tensor, side: int = 8) -> torch.Tensor:
    """Ink (H, W) in [0, 1] (0 paper, 1 stroke) framed as the digit set's own digits were, as (1, side, side) in
    [−1, 1]: the ink's bounding box scaled (aspect kept, anti-aliased) to fill side × side for scikit-learn's 8 × 8
    digits (normalised to their 32 × 32 box, then 4 × 4 block means), or to fit MNIST_BOX × MNIST_BOX with its centre
    of mass at the centre of 28 × 28 for MNIST (LeCun et al.); strokes stretched to +1. No ink: all −1."""
    ink = ink.float()
    peak = float(ink.max()) if ink.numel() else 0.0
    if peak <= 1e-6:
        return torch.full((1, side, side), -1.0)
    rows = (ink > 0.05 * peak).any(1).nonzero().flatten()
    cols = (ink > 0.05 * peak).any(0).nonzero().flatten()
    crop = ink[int(rows[0]):int(rows[-1]) + 1, int(cols[0]):int(cols[-1]) + 1]
    box = MNIST_BOX if side == 28 else 4 * side  # 8 × 8: drawn at 32 × 32 first, as scikit-learn's digits were
    h, w = crop.shape
    scale = box / max(h, w)
    size = (max(1, round(h * scale)), max(1, round(w * scale)))
    fitted = torch.nn.functional.interpolate(crop[None, None], size=size, mode="bilinear", antialias=True,
                                             align_corners=False)[0, 0].clamp(0, 1)
    full = box if side != 28 else side
    if side == 28:  # the centre of mass at the centre
        mass = fitted.sum()
        cy = float((fitted.sum(1) * torch.arange(size[0])).sum() / mass)
        cx = float((fitted.sum(0) * torch.arange(size[1])).sum() / mass)
        top = min(max(round((side - 1) / 2 - cy), 0), side - size[0])
        left = min(max(round((side - 1) / 2 - cx), 0), side - size[1])
    else:  # the bounding box at the centre
        top, left = (full - size[0]) // 2, (full - size[1]) // 2
    out = torch.zeros(full, full)
    out[top:top + size[0], left:left + size[1]] = fitted
    if full != side:
        out = torch.nn.functional.interpolate(out[None, None], size=(side, side), mode="area")[0, 0]
    return (out / out.max() * 2 - 1)[None]


def as_sketch(x: torch.Tensor, side: int = 8) -> tuple[torch.Tensor, bool]:
    """A picture (C, H, W) in [−1, 1] as a grey sketch (1, side, side) in [−1, 1] like the digits: channels averaged,
    stretched to the full range, inverted when it is mostly light (dark strokes on light paper become white strokes on
    black), then framed as the set's digits are (frame_ink). Returns (sketch, inverted)."""
    grey = x.float().mean(0)
    lo, hi = float(grey.min()), float(grey.max())
    if hi - lo <= 1e-6:
        return torch.full((1, side, side), -1.0), False
    ink = (grey - lo) / (hi - lo)
    inverted = bool(ink.mean() > 0.5)
    return frame_ink(1 - ink if inverted else ink, side), inverted


def sketch(name: str, side: int = 8) -> torch.Tensor:
    """The built-in sketch `name` (a key of SKETCHES) at side × side: the 8 × 8 drawing itself, or for 28 × 28 its
    blocks (4 × 4 pixels each) framed as MNIST's digits are."""
    if name not in SKETCHES:
        raise ValueError(f"Unknown sketch {name!r}; choose one of {', '.join(SKETCHES)}.")
    blocks = SKETCHES[name]
    if side == 8:
        return blocks
    return frame_ink((blocks[0].repeat_interleave(4, 0).repeat_interleave(4, 1) + 1) / 2, side)
