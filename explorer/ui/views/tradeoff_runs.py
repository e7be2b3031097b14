"""Cached runs of the Trade-offs page: one map cell, one point of a cost curve, one Langevin step size.

Each is cached on its own (st.cache_data, small dicts), so the page fills the map cell by cell, a rerun
shows every cell already computed at once, and a class sharing a server shares the cells. A map cell
draws x_T and its noise exactly as the reverse page's run does (the reverse_start stream, the same
generator) and is judged against the same target sample, so "open this run" shows the very same run.
The page's default map and cost curves are shipped (explorer/ui/shipped.py): a cell of those settings is
read, not computed, where this server would compute exactly that value.
"""
from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from explorer.measure import tradeoffs as tr
from explorer.common.device import device_of
from explorer.measure.metrics import precision_recall, sliced_wasserstein
from explorer.diffusion.samplers import CLIP_2D, SAMPLERS
from explorer.diffusion.schedules import make_schedule
from explorer.common.streams import STREAMS
from explorer.ui.views import fields, runs
from explorer.ui import shipped
from explorer.ui.settings import DataChoice
from explorer.diffusion.scores import GaussianMixture
from explorer.ui.sources import COMPUTE, data_points, exact_model_for, score_model

COST_T = 1000  # the cost curves run on the chosen kind at T = 1,000 (the kind's default β)
MAP_SAMPLERS = ("ddpm", "ddim", "heun", "dpm")  # DDIM η = 0 and the ODE solvers on all T levels


@st.cache_resource(max_entries=16, show_spinner=False)
def target(data: DataChoice) -> tr.Target:
    """The data sample runs are judged against: the reverse page's target."""
    return tr.Target(data_points(data, data.n, STREAMS["target"].seed(data.seed)))


@st.cache_data(max_entries=16, show_spinner=False)
def floor(data: DataChoice) -> dict:
    """Precision, recall and SW of a second data sample: what sampling noise alone gives."""
    second = data_points(data, data.n, STREAMS["second_sample"].seed(data.seed))
    return tr.judge(second, target(data))


def _start(data: DataChoice, model) -> tuple[torch.Tensor, torch.Generator]:
    g = STREAMS["reverse_start"].generator(data.seed)  # as runs._reverse_run: x_T on the CPU, then where the model is
    return torch.randn(data.n, 2, generator=g).to(device_of(model, COMPUTE)), g


@st.cache_data(max_entries=4096, show_spinner=False)
def map_cell(data: DataChoice, kind: str, T: int, beta: float, sampler: str, score: str) -> dict:
    """One cell: the sampler (its default options: every level) on make_schedule(kind, T, β), judged."""
    known = shipped.map_cell(data, kind, T, beta, sampler, score)
    if known is not None:
        return known
    model = score_model(data, score)
    x_T, g = _start(data, model)
    options = {"clip_x0": CLIP_2D} if score != "exact" and "clip_x0" in SAMPLERS[sampler].options else {}
    return tr.map_cell(model, kind, T, beta, sampler, x_T, target(data), g, options, mixture=mixture_of(data))


def mixture_of(data: DataChoice) -> GaussianMixture | None:
    """The data's mixture when it has one (the 8 Gaussians): its samples' mode coverage is measured."""
    model = exact_model_for(data)
    return model if isinstance(model, GaussianMixture) else None


@st.cache_data(max_entries=1024, show_spinner=False)
def cost_point(data: DataChoice, kind: str, solver: str, nfe: int, score: str) -> dict:
    """A solver given about nfe network evaluations on kind at T = COST_T, from the reverse page's x_T."""
    known = shipped.cost_point(data, kind, solver, nfe, score)
    if known is not None:
        return known
    model = score_model(data, score)
    x_T, g = _start(data, model)
    return tr.cost_point(solver, model, make_schedule(kind, COST_T), nfe, x_T, target(data), g)


@st.cache_data(max_entries=256, show_spinner=False)
def alpha_point(data: DataChoice, sched, t: int, alpha: float, n_steps: int, score: str) -> dict:
    """Langevin at level t with step α (fields.langevin_at, the score page's run): where its particles end,
    judged against samples of q_t from the forward chain."""
    lv = fields.langevin_at(data, sched, t, alpha, n_steps, score)
    last = torch.tensor(lv["frames"][-1], dtype=torch.float32)
    q_t = torch.tensor(runs.forward_run(data, sched)["traj"][t][:len(last)])
    finite = bool(torch.isfinite(last).all()) and not lv["diverged"]
    p, r = precision_recall(last, q_t) if finite else (0.0, 0.0)
    return {"sw": sliced_wasserstein(last, q_t) if finite else np.nan, "precision": p, "recall": r,
            "diverged": not finite, "limit": lv["limit"]}


@st.cache_data(max_entries=64, show_spinner=False)
def q_t_floor(data: DataChoice, sched, t: int, n: int) -> float:
    """SW between two forward samples of q_t (the chain with the next seed): sampling noise alone."""
    from dataclasses import replace
    a = torch.tensor(runs.forward_run(data, sched)["traj"][t][:n])
    b = torch.tensor(runs.forward_run(replace(data, seed=data.seed + 1), sched)["traj"][t][:n])
    return sliced_wasserstein(a, b)
