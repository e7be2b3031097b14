"""Class labels for the 2D toy sets, and the exact score of the whole set or of one class.

toy_2d_labelled(name, n, seed) returns the very points of toy_2d(name, n, seed) with a label each:
the mixture component of the 8 Gaussians, the moon of the two moons, the colour of a checkerboard
square (the kept squares alternate between two classes), the letter of the word. explorer.data.datasets
re-exports these names, and the package root exports them (`from explorer import toy_2d_labelled, LABELLED_2D`);
this module builds on explorer.data.toy_sets, not on datasets, so the two import no cycle.
"""
from __future__ import annotations

import numpy as np
import torch

from . import toy_sets as ds
from explorer.diffusion.scores import EmpiricalData, GaussianMixture


def _letters(word: str) -> list[str]:
    """Class names of the word set: each letter with its position, so the two I of DIFFUSION differ."""
    word = ds.check_word(word)
    return [f"{c} ({i})" for i, c in enumerate(word, start=1)]


LABELLED_2D: dict[str, list[str]] = {
    "eight_gaussians": [f"{45 * k}°" for k in range(8)],  # the component at angle 45k degrees
    "two_moons": ["upper moon", "lower moon"],
    "checkerboard": ["squares in even columns", "squares in odd columns"],
    "word": _letters(ds.DEFAULT_WORD),
}


def class_names(name: str, word: str = ds.DEFAULT_WORD) -> list[str]:
    if name not in LABELLED_2D:
        raise ValueError(f"The data set {name!r} has no classes; the labelled sets are {', '.join(LABELLED_2D)}.")
    return _letters(word) if name == "word" else LABELLED_2D[name]


def _letter_edges(word: str) -> np.ndarray:
    """The x where one letter of the word set ends and the next begins (in the set's own coordinates)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath

    prop = FontProperties(family="DejaVu Sans", weight="bold")
    _, lo, hi = ds._word_path(word)
    full = TextPath((0, 0), word, size=1.0, prop=prop).vertices
    f_lo, f_hi = full.min(0), full.max(0)
    scale = (hi[0] - lo[0]) / (f_hi[0] - f_lo[0])
    # the right edge of the first i letters: letter i + 1 begins beyond it (the glyphs do not overlap)
    right = [TextPath((0, 0), word[:i], size=1.0, prop=prop).vertices[:, 0].max() for i in range(1, len(word))]
    return lo[0] + (np.array(right) - f_lo[0]) * scale


def toy_2d_labelled(name: str, n: int, seed: int = 0, word: str = ds.DEFAULT_WORD) -> tuple[torch.Tensor, torch.Tensor]:
    """(points, labels): the points of toy_2d(name, n, seed, word) and each one's class (int64)."""
    names = class_names(name, word)
    points = ds.toy_2d(name, n, seed, word=word)
    n = len(points)
    if name == "eight_gaussians":  # toy_2d draws the components first from this very generator
        g = torch.Generator().manual_seed(int(seed))
        labels = torch.multinomial(ds.eight_gaussians_mixture().weights, n, replacement=True, generator=g)
    elif name == "two_moons":  # built outer moon first, then permuted with the same rng as toy_2d
        rng = np.random.default_rng(int(seed))
        ds._two_moons(n, rng)
        labels = torch.as_tensor((np.arange(n) >= n // 2)[rng.permutation(n)].astype(np.int64))
    elif name == "checkerboard":  # kept squares have (row + col) even: a square's column parity is its class
        col = np.floor(points[:, 0].numpy() + 2.0).clip(0, 3).astype(np.int64)
        labels = torch.as_tensor(col % 2)
    else:  # the word: which letter's span along x the point falls in
        labels = torch.as_tensor(np.searchsorted(_letter_edges(word), points[:, 0].numpy()).astype(np.int64))
    assert int(labels.max()) < len(names)
    return points, labels


def exact_class_eps_model(name: str, label: int, n_reference: int, seed: int = 12345,
                          word: str = ds.DEFAULT_WORD) -> GaussianMixture | EmpiricalData:
    """The exact ε of one class (explorer.data.datasets.exact_eps_model(name, label=…)): the 8 Gaussians' component
    (a one-component mixture), else the class's points among the n_reference reference points (EmpiricalData)."""
    names = class_names(name, word)
    if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or not 0 <= int(label) < len(names):
        raise ValueError(f"Unknown class {label!r} of {name!r}; the classes are 0 … {len(names) - 1} "
                         f"({', '.join(names)}).")
    if name == "eight_gaussians":
        mix = ds.eight_gaussians_mixture()
        k = int(label)
        return GaussianMixture(torch.ones(1), mix.means[k:k + 1], mix.covs[k:k + 1])
    points, labels = toy_2d_labelled(name, n_reference, seed, word)
    return EmpiricalData(points[labels == int(label)])
