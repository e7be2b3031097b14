"""Recompute the results shipped in precomputed/ (explorer/ui/shipped.py reads them):

    python -m explorer.ui.views.precompute

Each value is computed by the very function the page calls, with shipped values switched off and one torch
thread, as the server runs a page (explorer/app.py): the Trade-offs page's default map and cost curves
(tradeoff_runs.map_cell, cost_point) and the Guidance page's default runs (guidance_runs.guided_run). The files
record the arithmetic they were computed with (device, bfloat16 products, the networks' SHA-256 and probe bits). About two
minutes on this 2-core machine. Run it after retraining a shipped network or changing a sampler;
tests/test_shipped.py fails until then.
"""
from __future__ import annotations

import json
import os
import time

import numpy as np
import torch

from explorer.measure import tradeoffs as tr
from explorer.ui.views import guidance_runs as gr, tradeoff_runs as trr
from explorer.ui import shipped as sh


def _plain(values: dict) -> dict:
    """JSON-ready: floats as floats, NaN as null, numpy scalars unwrapped."""
    out = {}
    for k, v in values.items():
        v = v.item() if isinstance(v, np.generic) else v
        out[k] = None if isinstance(v, float) and not np.isfinite(v) else v
    return out


def write_tradeoffs() -> int:
    data, kind = sh.TRADEOFFS_DATA, sh.TRADEOFFS_KIND
    cells, cost = {}, {}
    for sc in sh.TRADEOFFS_SCORES:
        for T in tr.MAP_T:
            for b in tr.MAP_BETA[kind]:
                cells[sh.key(sh.data_key(data), kind, T, float(b), sh.TRADEOFFS_SAMPLER, sc)] = _plain(
                    trr.map_cell(data, kind, T, b, sh.TRADEOFFS_SAMPLER, sc))
        for solver in tr.SOLVERS:
            for n in tr.COST_NFE:
                cost[sh.key(sh.data_key(data), kind, solver, n, sc)] = _plain(trr.cost_point(data, kind, solver, n, sc))
    table = {"version": sh.FORMAT_VERSION, "made_by": "python -m explorer.ui.views.precompute", "data": sh.data_key(data),
             "arithmetic": sh.arithmetic((data.name,)), "cells": cells, "cost": cost}
    sh.PRECOMPUTED_DIR.mkdir(exist_ok=True)
    sh.TRADEOFFS_FILE.write_text(json.dumps(table, indent=0, allow_nan=False) + "\n")
    return len(cells) + len(cost)


def write_guidance() -> int:
    name, sched, seed, whole = sh.GUIDANCE_SET, sh.GUIDANCE_SCHED, sh.GUIDANCE_SEED, (1, sh.GUIDANCE_SCHED.T)
    runs = [(w, "exact") for w in gr.SCALES] + [(w, "network") for w in sh.GUIDANCE_NETWORK_SCALES]
    arrays, index = {}, {}
    for i, (w, sc) in enumerate(runs):
        run = gr.guided_run(name, sched, w, whole, seed, sc)
        arrays[f"x{i}"], arrays[f"labels{i}"] = run["x"], run["labels"].astype(np.int64)
        index[sh.key(name, sh.sched_key(sched), float(w), list(whole), seed, sc)] = {
            "x": f"x{i}", "labels": f"labels{i}", "diverged": bool(run["diverged"]), "message": run["message"]}
    meta = {"version": sh.FORMAT_VERSION, "made_by": "python -m explorer.ui.views.precompute", "set": name,
            "arithmetic": sh.arithmetic((f"{name}_cond",)), "runs": index}
    sh.PRECOMPUTED_DIR.mkdir(exist_ok=True)
    np.savez_compressed(sh.GUIDANCE_FILE, index=np.array(json.dumps(meta)), **arrays)
    return len(runs)


def main() -> None:
    import logging
    os.environ["DIFFUSION_EXPLORER_SHIPPED"] = "0"  # compute everything afresh
    logging.disable(logging.WARNING)  # st.cache_data outside a server warns that it keeps a memory cache
    torch.set_num_threads(1)  # as the server runs a page (explorer/app.py)
    for what, write in (("Trade-offs", write_tradeoffs), ("Guidance", write_guidance)):
        t0 = time.perf_counter()
        n = write()
        print(f"{what}: {n} values in {time.perf_counter() - t0:.1f} s", flush=True)


if __name__ == "__main__":
    main()
