"""Data: 2D toy distributions, scikit-learn's bundled 8×8 digits, and their exact scores.

Every 2D set is generated already scaled to the box [−2, 2]² (BOX), with overall standard
deviation near 1, so one axis range and one network family fit all of them. Sets are
deterministic given (name, n, seed).
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch

from .checks import whole_number
from .scores import EmpiricalData, GaussianMixture

BOX = 2.0  # every toy set lies (almost entirely) inside [−BOX, BOX]²
N_MAX = 200_000  # most points a toy set will generate at once
DEFAULT_WORD = "DIFFUSION"
WORD_MAX_CHARS = 12
WORD_HALF_WIDTH = 1.9  # the word spans [−1.9, 1.9] along its longer side
WORD_MAX_STRETCH = 2.5  # letters of long words are stretched up to 2.5× in height to stay legible
EXACT_REFERENCE_POINTS = 5_000  # size of the finite set whose exact score stands in for p(x_0)

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


def exact_eps_model(name: str, n_reference: int = EXACT_REFERENCE_POINTS, seed: int = 12345,
                    word: str = DEFAULT_WORD, label: int | None = None) -> GaussianMixture | EmpiricalData:
    """The exact ε model of a toy set: the mixture's own, else the optimal denoiser of a sample.

    For sets without a closed-form density, EmpiricalData over n_reference points is the exact
    score of that finite sample; it converges to the set's score as n_reference grows. With a label,
    the exact ε of that class of a labelled set (explorer.labelled.exact_class_eps_model).
    """
    check_toy_name(name)
    if label is not None:
        from .labelled import exact_class_eps_model
        return exact_class_eps_model(name, label, n_reference, seed, word)
    if name == "eight_gaussians":
        return eight_gaussians_mixture()
    return EmpiricalData(toy_2d(name, n_reference, seed=seed, word=word))


N_DIGITS = 1797  # images in scikit-learn's bundled 8×8 digits


def digits(return_labels: bool = False):
    """scikit-learn's bundled 8×8 digits (N_DIGITS images) scaled to [−1, 1]; shape (N, 1, 8, 8)."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = torch.as_tensor(d.images, dtype=torch.float32).unsqueeze(1) / 8.0 - 1.0  # 0..16 → −1..1
    if return_labels:
        return x, torch.as_tensor(d.target, dtype=torch.long)
    return x


# --- your own points ---------------------------------------------------------------------

CSV_MAX_BYTES = 5_000_000
CSV_MIN_POINTS, CSV_MAX_POINTS = 20, 100_000
CSV_FIT = 1.8  # uploaded points are fitted into [−1.8, 1.8]², inside BOX


def points_from_csv(raw: bytes) -> tuple[torch.Tensor, str]:
    """Two columns of numbers (x, y) from CSV text → (N, 2) points fitted into the box, and a note.

    Accepts a header row and comma, semicolon, tab or space separators. Raises ValueError with a
    message a user can act on: empty or too large a file, not text, wrong number of columns, a
    value that is not a finite number (naming its line), too few or too many points, no spread.
    """
    if len(raw) == 0:
        raise ValueError("The file is empty.")
    if len(raw) > CSV_MAX_BYTES:
        raise ValueError(f"The file is {len(raw) / 1e6:.1f} MB; at most {CSV_MAX_BYTES / 1e6:.0f} MB is accepted.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("This is not a text (UTF-8) CSV file.") from None
    lines = [(i, ln.strip()) for i, ln in enumerate(text.splitlines(), start=1) if ln.strip()]
    if not lines:
        raise ValueError("The file has no rows.")
    sep = next((c for c in (",", ";", "\t") if c in lines[0][1]), None)

    def cells(line: str) -> list[str]:
        return [c.strip() for c in (line.split(sep) if sep else line.split())]

    def is_number(c: str) -> bool:
        try:
            float(c)
            return True
        except ValueError:
            return False

    if not all(is_number(c) for c in cells(lines[0][1])):
        lines = lines[1:]  # a header row
    rows = []
    for i, line in lines:
        row = cells(line)
        if len(row) != 2:
            raise ValueError(f"Line {i} has {len(row)} column{'s' if len(row) != 1 else ''}; "
                             "every row needs exactly two numbers, x and y.")
        try:
            x, y = float(row[0]), float(row[1])
        except ValueError:
            raise ValueError(f"Line {i}: {line[:40]!r} is not two numbers.") from None
        if not (math.isfinite(x) and math.isfinite(y)):
            raise ValueError(f"Line {i}: {line[:40]!r} is not finite (NaN or inf).")
        rows.append((x, y))
    if not CSV_MIN_POINTS <= len(rows) <= CSV_MAX_POINTS:
        raise ValueError(f"The file has {len(rows):,} points; between {CSV_MIN_POINTS} and {CSV_MAX_POINTS:,} "
                         "are needed.")
    pts = torch.tensor(rows, dtype=torch.float64)
    lo, hi = pts.min(0).values, pts.max(0).values
    half = float((hi - lo).max()) / 2
    if half <= 1e-12 * max(1.0, float(pts.abs().max())):
        raise ValueError("All the points are the same; the data need some spread.")
    fitted = (pts - (lo + hi) / 2) / half * CSV_FIT
    note = (f"{len(rows):,} points, x in [{float(lo[0]):.3g}, {float(hi[0]):.3g}], y in [{float(lo[1]):.3g}, "
            f"{float(hi[1]):.3g}]; shifted and scaled by {CSV_FIT / half:.3g} (same on both axes) into "
            f"[−{CSV_FIT}, {CSV_FIT}]².")
    return fitted.float(), note


from .labelled import LABELLED_2D, class_names, toy_2d_labelled  # noqa: E402,F401 (re-exported: the fixed API)
