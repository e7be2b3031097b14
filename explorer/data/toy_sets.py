"""The 2D toy sets: generators, the word set's glyphs, and toy_2d (re-exported by explorer.data.datasets).

Every 2D set is generated already scaled to the box [−2, 2]² (BOX), with overall standard
deviation near 1, so one axis range and one network family fit all of them. Sets are
deterministic given (name, n, seed).
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch

from explorer.common.checks import whole_number
from explorer.diffusion.scores import GaussianMixture

BOX = 2.0  # every toy set lies (almost entirely) inside [−BOX, BOX]²
N_MAX = 200_000  # most points a toy set will generate at once
DEFAULT_WORD = "DIFFUSION"
WORD_MAX_CHARS = 12
WORD_HALF_WIDTH = 1.9  # the word spans [−1.9, 1.9] along its longer side
WORD_MAX_STRETCH = 2.5  # letters of long words are stretched up to 2.5× in height to stay legible

TOY_2D: dict[str, str] = {
    "two_moons": "two interleaved half circles",
    "swiss_roll": "a rolled-up spiral sheet seen from above",
    "eight_gaussians": "a mixture of 8 Gaussians on a circle (its exact score is known)",
    "checkerboard": "uniform on the dark squares of a 4×4 board",
    "rings": "three concentric circles",
    "spiral": "two interleaved spiral arms",
    "word": "points filling the letters of a word",
}

# 8 Gaussians: means on a circle of radius 1.6 (inside BOX), each with std 0.12.
EIGHT_RADIUS, EIGHT_STD = 1.6, 0.12


def eight_gaussians_mixture() -> GaussianMixture:
    """The 'eight_gaussians' data density as an exact GaussianMixture."""
    ang = torch.arange(8, dtype=torch.float64) * (2 * math.pi / 8)
    means = EIGHT_RADIUS * torch.stack([ang.cos(), ang.sin()], dim=1)
    return GaussianMixture(torch.full((8,), 1 / 8), means, torch.full((8,), EIGHT_STD ** 2))


def _two_moons(n, rng):
    n_out = n // 2
    th = rng.uniform(0, math.pi, n)
    outer = np.stack([np.cos(th), np.sin(th)], 1)
    inner = np.stack([1 - np.cos(th), 0.5 - np.sin(th)], 1)
    x = np.where((np.arange(n) < n_out)[:, None], outer, inner)
    x = x + rng.normal(0, 0.06, (n, 2))
    return (x - [0.5, 0.25]) * 1.25  # x in [−1, 2] → centred, width 3.75


def _swiss_roll(n, rng):
    t = 1.5 * math.pi * (1 + 2 * rng.uniform(0, 1, n))  # as sklearn.datasets.make_swiss_roll
    x = np.stack([t * np.cos(t), t * np.sin(t)], 1) / (4.5 * math.pi) * 1.9
    return x + rng.normal(0, 0.04, (n, 2))


def _checkerboard(n, rng):
    # 4×4 board on [−2, 2]², keep squares where (row + col) is even
    col = rng.integers(0, 4, n)
    row = 2 * rng.integers(0, 2, n) + (col % 2)
    u = rng.uniform(0, 1, (n, 2))
    return np.stack([col + u[:, 0], row + u[:, 1]], 1) - 2.0


def _rings(n, rng):
    radii = np.array([0.6, 1.2, 1.8])
    r = rng.choice(radii, n, p=radii / radii.sum())  # as many points per length on every ring
    th = rng.uniform(0, 2 * math.pi, n)
    return r[:, None] * np.stack([np.cos(th), np.sin(th)], 1) + rng.normal(0, 0.04, (n, 2))


def _spiral(n, rng):
    u = np.sqrt(rng.uniform(0, 1, n))  # denser toward the outside, even along the arc
    th = 0.3 + u * 3 * math.pi
    arm = np.where(rng.uniform(0, 1, n) < 0.5, 0.0, math.pi)
    r = th / (3 * math.pi + 0.3) * 1.9
    x = r[:, None] * np.stack([np.cos(th + arm), np.sin(th + arm)], 1)
    return x + rng.normal(0, 0.04, (n, 2))


@lru_cache(maxsize=16)
def _word_path(text: str):
    """The outline of `text` in matplotlib's bundled DejaVu Sans, scaled to fit BOX."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.path import Path
    from matplotlib.textpath import TextPath

    path = TextPath((0, 0), text, size=1.0, prop=FontProperties(family="DejaVu Sans", weight="bold"))
    v = path.vertices
    lo, hi = v.min(0), v.max(0)
    w, h = hi - lo
    sx = 2 * WORD_HALF_WIDTH / max(w, h)  # the longer side spans the box
    sy = min(sx * WORD_MAX_STRETCH, 2 * WORD_HALF_WIDTH / h)  # long words get taller letters
    verts = (v - (lo + hi) / 2) * np.array([sx, sy])
    # glyph outlines as closed polygons; a point is inside the text if it lies inside an odd
    # number of them (even–odd rule), so the holes of O, A, D, ... stay empty
    polygons = [Path(p) for p in Path(verts, path.codes).to_polygons(closed_only=True)]
    return polygons, verts.min(0), verts.max(0)


def inside_word(polygons, pts: np.ndarray) -> np.ndarray:
    """Even–odd containment of pts (M, 2) in the glyph polygons of _word_path."""
    count = sum(poly.contains_points(pts).astype(int) for poly in polygons)
    return count % 2 == 1


def check_word(text) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ValueError("The word must contain at least one visible character.")
    text = text.strip()
    if len(text) > WORD_MAX_CHARS:
        raise ValueError(f"The word may have at most {WORD_MAX_CHARS} characters; got {len(text)}.")
    return text


def _word(n, rng, text=DEFAULT_WORD):
    polygons, lo, hi = _word_path(check_word(text))
    out, have = [], 0
    for _ in range(200):  # rejection sampling inside the glyphs (holes respected)
        cand = rng.uniform(lo, hi, (max(4 * (n - have), 256), 2))
        inside = cand[inside_word(polygons, cand)]
        out.append(inside)
        have += len(inside)
        if have >= n:
            break
    pts = np.concatenate(out)
    if len(pts) < n:
        raise ValueError(f"Could not place points inside the letters of {text!r}; try other characters.")
    return pts[:n] + rng.normal(0, 0.01, (n, 2))


_GENERATORS = {"two_moons": _two_moons, "swiss_roll": _swiss_roll, "checkerboard": _checkerboard,
               "rings": _rings, "spiral": _spiral, "word": _word}


def check_toy_name(name) -> str:
    if name not in TOY_2D:
        raise ValueError(f"Unknown data set {name!r}; choose one of {', '.join(TOY_2D)}.")
    return name


def toy_2d(name: str, n: int, seed: int = 0, word: str = DEFAULT_WORD) -> torch.Tensor:
    """n points from the 2D toy set `name`, float32, shape (n, 2); `word` for the word set."""
    check_toy_name(name)
    n = whole_number(n, "The number of points", 1, N_MAX)
    seed = whole_number(seed, "The seed", 0)
    if name == "eight_gaussians":
        g = torch.Generator().manual_seed(int(seed))
        return eight_gaussians_mixture().sample(int(n), generator=g)
    rng = np.random.default_rng(int(seed))
    pts = _word(int(n), rng, word) if name == "word" else _GENERATORS[name](int(n), rng)
    pts = pts[rng.permutation(len(pts))]  # generators build sets part by part: any first k points are a fair sample
    return torch.as_tensor(pts, dtype=torch.float32)
