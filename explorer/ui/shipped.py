"""Results shipped with the explorer for the pages' fixed defaults, so a first visit need not compute them.

    python -m explorer.ui.views.precompute   # recompute and write precomputed/ (≈ 2 minutes, one torch thread)

What is shipped (the constants below): the Trade-offs page's default map (8 Gaussians, 1,000 points, seed 0, linear,
DDPM; exact score and network) and its quality-against-cost curves, and the Guidance page's default runs (the
exact scores at every scale of its chart, the network at w = 3 and w = 1). Each value was computed by the very
function the page calls (tradeoff_runs.map_cell, tradeoff_runs.cost_point, guidance_runs.guided_run: the same
seeds, the same x_T), so a shipped cell opened on the reverse page is the same run.

A shipped value is used only when it is what this server would compute: the same settings (its key), the CPU
(the precomputation's device), and for a network the same weights (their SHA-256), the same products (bfloat16
where the CPU multiplies it natively, models._product_dtype) and the very same bits on a fixed probe (network_bits:
CPUs round bfloat16 products differently). Anything else computes live, and so does
everything with DIFFUSION_EXPLORER_SHIPPED=0 in the environment. tests/test_shipped.py recomputes a few
shipped values and checks they agree.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path

import numpy as np
import torch

from explorer.nets.checkpoints import PRETRAINED_DIR
from explorer.ui.settings import DataChoice, ScheduleChoice

PRECOMPUTED_DIR = Path(__file__).resolve().parents[2] / "precomputed"
TRADEOFFS_FILE = PRECOMPUTED_DIR / "tradeoffs.json"
GUIDANCE_FILE = PRECOMPUTED_DIR / "guidance.npz"  # arrays only (np.load without pickle) and a JSON index
FORMAT_VERSION = 1

# The pages' defaults that are shipped (pages/tradeoffs.py and pages/guidance.py at their bare URLs)
TRADEOFFS_DATA = DataChoice("eight_gaussians", 1000, 0)
TRADEOFFS_KIND, TRADEOFFS_SAMPLER, TRADEOFFS_SCORES = "linear", "ddpm", ("exact", "pretrained")
GUIDANCE_SET, GUIDANCE_SEED = "eight_gaussians", 0
GUIDANCE_SCHED = ScheduleChoice("linear", 1000, (("beta_start", 1e-4), ("beta_end", 0.02)))
GUIDANCE_NETWORK_SCALES = (3.0, 1.0)  # the page's default w and the w = 1 its metrics compare with


def enabled() -> bool:
    return os.environ.get("DIFFUSION_EXPLORER_SHIPPED", "1") != "0"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""


def arithmetic(weights: tuple[str, ...]) -> dict:
    """What a run's numbers depend on besides its settings: the device, bfloat16 products, the networks' weights,
    and the bits each network gives on a fixed probe (network_bits)."""
    from explorer.nets.models import _product_dtype
    from explorer.ui.sources import COMPUTE
    return {"device": COMPUTE.type, "torch": torch.__version__,
            "bf16_products": _product_dtype(torch.zeros(1)) == torch.bfloat16,
            "weights": {name: _sha256(PRETRAINED_DIR / f"{name}.safetensors") for name in weights},
            "network_bits": {name: network_bits(name) for name in weights}}


@functools.lru_cache(maxsize=8)
def network_bits(name: str) -> str:
    """A hash of what network `name` computes on this machine: its ε̂ on fixed points at three noise levels, called
    as the samplers call it (one level for the batch; a conditional network with labels). CPUs differ in how they
    multiply in bfloat16 (AMX, AVX-512 BF16) and in the last bit of float32 functions such as sin; a difference of
    one bit before a bfloat16 rounding moves a run's points by about 1e-4 over a thousand steps, so a value made
    on another CPU is not what this one computes. "" without the weights."""
    from explorer.nets.checkpoints import CheckpointError, load_pretrained
    try:
        model = load_pretrained(name)[0].to("cpu")
    except CheckpointError:
        return ""
    x = torch.randn(1500, 2, generator=torch.Generator().manual_seed(0))  # beyond one chunk of the fast path
    extra = (torch.arange(len(x)) % model.n_classes,) if hasattr(model, "n_classes") else ()
    with torch.no_grad():
        out = torch.cat([model(x, ab, *extra) for ab in (0.99, 0.3, 0.001)])
    return hashlib.sha256(out.numpy().tobytes()).hexdigest()


def _usable(shipped: dict, score_is_network: bool, weights: str) -> bool:
    """Whether a value computed under `shipped` arithmetic is what this server computes."""
    here = arithmetic((weights,))
    if shipped["device"] != "cpu" or here["device"] != "cpu":
        return False
    return not score_is_network or (shipped["bf16_products"] == here["bf16_products"]
                                    and shipped["weights"].get(weights) == here["weights"][weights] != ""
                                    and shipped.get("network_bits", {}).get(weights) == here["network_bits"][weights])


def key(*parts) -> str:
    """One entry's settings as a string (floats in repr, which reads back exactly)."""
    return json.dumps(parts, separators=(",", ":"))


def data_key(data: DataChoice) -> list:
    return [data.name, data.n, data.seed, data.word, data.upload_key]


def sched_key(sched: ScheduleChoice) -> list:
    return [sched.kind, sched.T, [list(p) for p in sched.params]]


# --- reading --------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _tradeoffs() -> dict:
    """{"arithmetic": ..., "usable": {score: bool}, "cells": {key: values}}; empty when missing or unreadable."""
    try:
        table = json.loads(TRADEOFFS_FILE.read_text())
    except (OSError, ValueError):
        return {}
    if table.get("version") != FORMAT_VERSION:
        return {}
    name = table["data"][0]
    table["usable"] = {sc: _usable(table["arithmetic"], sc != "exact", name) for sc in ("exact", "pretrained")}
    return table


def _tradeoff_value(section: str, score: str, entry: str) -> dict | None:
    if not enabled():
        return None
    table = _tradeoffs()
    if not table or not table["usable"].get(score, False):
        return None
    found = table[section].get(entry)
    return None if found is None else {k: (np.nan if v is None else v) for k, v in found.items()}


def map_cell(data: DataChoice, kind: str, T: int, beta: float, sampler: str, score: str) -> dict | None:
    """The shipped map cell of these settings, or None (compute it)."""
    return _tradeoff_value("cells", score, key(data_key(data), kind, int(T), float(beta), sampler, score))


def cost_point(data: DataChoice, kind: str, solver: str, nfe: int, score: str) -> dict | None:
    """The shipped point of a quality-against-cost curve, or None (compute it)."""
    return _tradeoff_value("cost", score, key(data_key(data), kind, solver, int(nfe), score))


@functools.lru_cache(maxsize=1)
def _guidance() -> dict:
    """{"index": {key: (array name, diverged, message)}, "arrays": {...}, "usable": {score: bool}}; or {}."""
    try:
        with np.load(GUIDANCE_FILE, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
        meta = json.loads(str(arrays.pop("index")))
    except (OSError, ValueError, KeyError):
        return {}
    if meta.get("version") != FORMAT_VERSION:
        return {}
    weights = f"{meta['set']}_cond"
    usable = {sc: _usable(meta["arithmetic"], sc != "exact", weights) for sc in ("exact", "network")}
    return {"index": meta["runs"], "arrays": arrays, "usable": usable}


def guided_run(name: str, sched: ScheduleChoice, scale: float, t_range: tuple[int, int], seed: int,
               score: str) -> dict | None:
    """The shipped guided run of these settings (guidance_runs.guided_run's dict), or None (compute it)."""
    if not enabled():
        return None
    table = _guidance()
    if not table or not table["usable"].get(score, False):
        return None
    found = table["index"].get(key(name, sched_key(sched), float(scale), [int(v) for v in t_range], int(seed), score))
    if found is None:
        return None
    return {"x": table["arrays"][found["x"]].copy(), "labels": table["arrays"][found["labels"]].copy(),
            "diverged": found["diverged"], "message": found["message"]}
