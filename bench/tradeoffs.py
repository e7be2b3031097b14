"""The Trade-offs page's computations, timed as the server runs them (one torch thread, 1,000 points).

    python -m bench.tradeoffs [--repeats 3]

- the default 8 × 8 map (linear, β_end, DDPM, 8 Gaussians) from cold: with the exact score, with the
  pretrained network (budgets ≤ 10 s and ≤ 20 s), and instant when cached (the page's cached cells);
- the quality-against-cost chart from cold: 7 solvers × 7 NFE levels, exact and network (budget ≤ 10 s).
Each "cold" run recomputes every cell; the median of --repeats runs is reported.
"""
from __future__ import annotations

import logging

import numpy as np
import torch

from bench.common import median_seconds, report, save, start
from explorer.draw import tradeoff_figures as tf
from explorer.measure import tradeoffs as tr
from explorer.nets.checkpoints import load_pretrained
from explorer.data.datasets import exact_eps_model, toy_2d
from explorer.diffusion.schedules import make_schedule
from explorer.common.streams import STREAMS
from explorer.ui.views import tradeoff_runs as trr
from explorer.ui.settings import DataChoice

N = 1000


def x_T() -> tuple[torch.Tensor, torch.Generator]:
    g = STREAMS["reverse_start"].generator(0)
    return torch.randn(N, 2, generator=g), g


def full_map(model, target: tr.Target, clip: dict) -> list[dict]:
    cells = []
    for T in tr.MAP_T:
        for b in tr.MAP_BETA["linear"]:
            x, g = x_T()
            cells.append(tr.map_cell(model, "linear", T, b, "ddpm", x, target, g, clip))
    return cells


def cost_chart(models: dict, target: tr.Target) -> list[dict]:
    s = make_schedule("linear", 1000)
    out = []
    for solver in tr.SOLVERS:
        for model in models.values():
            for n in tr.COST_NFE:
                x, g = x_T()
                out.append(tr.cost_point(solver, model, s, n, x, target, g))
    return out


def main() -> None:
    args, _ = start(__doc__)
    torch.set_num_threads(1)  # as the server runs a page (explorer/app.py)
    target = tr.Target(toy_2d("eight_gaussians", N, STREAMS["target"].seed(0)))
    exact, net = exact_eps_model("eight_gaussians"), load_pretrained("eight_gaussians")[0]
    t_exact, _ = median_seconds(lambda: full_map(exact, target, {}), repeats=args.repeats, warmup=0)
    report("map 8 × 8, exact score, cold", t_exact, 10.0)
    t_net, _ = median_seconds(lambda: full_map(net, target, {"clip_x0": 2.5}), repeats=args.repeats, warmup=0)
    report("map 8 × 8, pretrained network, cold", t_net, 20.0)
    t_cost, _ = median_seconds(lambda: cost_chart({"exact": exact, "net": net}, target), repeats=args.repeats, warmup=0)
    report("quality against cost: 7 solvers × 7 NFE, exact and network, cold", t_cost, 10.0)
    # cached: what a rerun of the map view costs once its 128 cells are in the page's cache (st.cache_data)
    logging.disable(logging.WARNING)  # st.cache_data outside a server warns that it keeps a memory cache
    data = DataChoice("eight_gaussians", N, 0)

    def page_map():
        cells = {sc: [[trr.map_cell(data, "linear", T, b, "ddpm", sc) for b in tr.MAP_BETA["linear"]]
                      for T in tr.MAP_T] for sc in ("exact", "pretrained")}
        for sc, rows in cells.items():
            z = [[c["precision"] for c in row] for row in rows]
            tf.heat_map(tr.MAP_T, tr.MAP_BETA["linear"], np.array(z), np.zeros((8, 8), bool), "precision", sc, "β_end")
        return cells
    page_map()  # compute once
    t_cached, _ = median_seconds(page_map, repeats=args.repeats)
    report("map, both scores, every cell cached: cells + two heat maps", t_cached, 0.5, unit="ms")
    save("tradeoffs")


if __name__ == "__main__":
    main()
