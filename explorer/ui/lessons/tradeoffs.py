"""Lesson views of the Trade-offs page: the T × β map and the cost curves with the exact score, from the
page's own cached cells (registered in explorer.ui.lessons.catalog)."""
from __future__ import annotations

import math

import numpy as np

from explorer.draw import tradeoff_figures as tf
from explorer.measure import tradeoffs as tr
from explorer.ui.views import tradeoff_runs as trr
from explorer.ui.lessons.settings import Reader, Shown

TARGET_PRECISION = 0.9


def map_settings(r: Reader):
    return (r.data("eight_gaussians", n_default=1000), r.choice("kind", list(tr.MAP_BETA), "linear"),
            r.choice("sampler", list(trr.MAP_SAMPLERS), "ddpm"))


def tradeoffs_map(settings: dict) -> Shown:
    data, kind, sampler = map_settings(Reader(settings))
    Ts, betas = tr.MAP_T, tr.MAP_BETA[kind]
    cells = [[trr.map_cell(data, kind, T, b, sampler, "exact") for b in betas] for T in Ts]
    grid = {m: np.array([[c[m] for c in row] for row in cells], dtype=float) for m in ("precision", "recall")}
    diverged = np.array([[c["diverged"] for c in row] for row in cells])
    name = "β" if tr.BETA_KNOB[kind] == "beta" else "β_end"
    bt = tr.beta_trend(Ts, betas, np.where(diverged, np.nan, grid["precision"]), TARGET_PRECISION)
    fewest = dict(bt.needed)
    recall = np.where(diverged, np.nan, grid["recall"])
    return Shown([(tf.heat_map(Ts, betas, grid["precision"], diverged, "precision", "Exact score: precision (quality)",
                               f"{name} ({kind})"), "Precision of every cell."),
                  (tf.heat_map(Ts, betas, grid["recall"], diverged, "recall", "Exact score: recall (diversity)",
                               f"{name} ({kind})"), "Recall of every cell.")],
                 {"fewest_T_smallest_beta": fewest.get(float(betas[0]), math.nan),
                  "fewest_T_largest_beta": fewest.get(float(betas[-1]), math.nan), "beta_trend": bt.corr,
                  "capped_columns": float(len(bt.capped)), "smallest_T": float(min(Ts)),
                  "recall_spread": float(np.nanmax(recall) - np.nanmin(recall))})


def tradeoffs_cost(settings: dict) -> Shown:
    data, kind, _ = map_settings(Reader(settings))
    curves, measures = {}, {}
    for solver in tr.SOLVERS:
        pts = [trr.cost_point(data, kind, solver, n, "exact") for n in tr.COST_NFE]
        curves[f"{solver}|exact"] = {m: [p[m] for p in pts] for m in ("nfe", "precision", "recall", "sw")}
        hit = [p["nfe"] for p in pts if p["precision"] >= TARGET_PRECISION]
        measures[f"nfe_{solver}"] = float(hit[0]) if hit else math.inf
    return Shown([(tf.cost_curves(curves, tr.SOLVER_LABELS, "precision", trr.floor(data)["precision"]),
                   "Solid: the exact score, so no network error; a deterministic solver's curve is its "
                   "discretisation error alone.")], measures)
