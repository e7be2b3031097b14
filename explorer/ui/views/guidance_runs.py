"""Cached runs of the Guidance page: guided DDPM for every class at once, the fields, the sharpened density.

Every class gets the same share of the points and its own guided ε, ε_u + w(ε_c − ε_u) with the exact
scores of explorer.data.labelled; all classes start from one x_T (the reverse page's stream) so the same x_T
seeds every scale. Runs, per-class measures and figures are cached and shared by the sessions. The page's
default runs are shipped (explorer/ui/shipped.py): read, not computed, where this server would compute them.
"""
from __future__ import annotations

import math

import numpy as np
import streamlit as st
import torch

from explorer.draw import arrows, figures, guidance_figures as gf
from explorer.data.datasets import class_names, exact_eps_model, toy_2d_labelled
from explorer.diffusion.guidance import cfg_eps_model
from explorer.measure.metrics import precision_recall, sliced_wasserstein
from explorer.nets.cond_models import guided_eps
from explorer.diffusion.samplers import CLIP_2D, ddpm_sample, run_to_end
from explorer.diffusion.scores import field_on_grid
from explorer.common.streams import STREAMS
from explorer.ui import shipped
from explorer.ui.settings import ScheduleChoice
from explorer.ui.sources import COMPUTE

N_PER_CLASS = 250  # guided samples of each class
# The guided samples follow the sharpened density when their distance to samples of it is within NOISE_Z standard
# deviations of the distance between two samples of it, both from NOISE_DRAWS draws: one cut for page and lesson
NOISE_DRAWS, NOISE_Z = 20, 3.0
N_REFERENCE = 1000  # reference points behind the exact score of a set without a formula
EXTENT, ARROWS, PIXELS = 3.0, 21, 90
SCALES = (0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 7.0, 10.0)  # the scales of the "against the scale" chart


@st.cache_resource(max_entries=64, show_spinner=False)
def class_model(name: str, label: int | None):
    """The exact ε of the set (None) or of one class (shared, read-only)."""
    return exact_eps_model(name, n_reference=N_REFERENCE, seed=STREAMS["exact_reference"].seed(), label=label)


class PerClass:
    """ε for points that each belong to a class: every class's guided ε on its own rows, one batch."""

    def __init__(self, name: str, labels: torch.Tensor, scale: float, interval):
        self.rows = [(c, labels == c) for c in range(len(class_names(name)))]
        self.models = {c: cfg_eps_model(class_model(name, c), class_model(name, None), scale, interval)
                       for c, _ in self.rows}

    def __call__(self, x: torch.Tensor, alpha_bar):
        out = torch.empty_like(x)
        for c, rows in self.rows:
            out[rows] = self.models[c](x[rows], alpha_bar).to(x.dtype)
        return out


def interval_in_alpha_bar(sched: ScheduleChoice, t_range: tuple[int, int]) -> tuple[float, float] | None:
    """Guide for t in [t_lo, t_hi]: that is ᾱ in [ᾱ_{t_hi}, ᾱ_{t_lo}]; None for the whole run."""
    lo, hi = t_range
    if lo <= 1 and hi >= sched.T:
        return None
    ab = sched.build().alphas_cumprod
    return float(ab[hi]), float(ab[lo])


SCORES = {"exact": "exact scores", "network": "conditional network"}


@st.cache_resource(max_entries=8, show_spinner="Loading the conditional network…")
def network(name: str):
    """The pretrained class-conditional network <name>_cond (a CondEpsModel); ValueError if it cannot load."""
    from explorer.nets.checkpoints import load_pretrained
    return load_pretrained(f"{name}_cond")[0].to(COMPUTE)


def scores(name: str) -> tuple[list[str], str | None]:
    """The scores the page can show for a set: exact, and the network when it loads (else why it does not)."""
    try:
        network(name)
        return ["exact", "network"], None
    except ValueError as err:
        return ["exact"], str(err)


@st.cache_data(max_entries=64, show_spinner="Sampling every class with guidance…")
def guided_run(name: str, sched: ScheduleChoice, scale: float, t_range: tuple[int, int], seed: int,
               score: str = "exact") -> dict:
    """Guided DDPM of N_PER_CLASS points for each class from one x_T: final points and their classes. With the
    network one pass per step gives every class's ε_u and ε_c − ε_u (cond_models.guided_eps); x̂_0 clipped as
    for every network."""
    known = shipped.guided_run(name, sched, scale, t_range, seed, score)
    if known is not None:
        return known
    K = len(class_names(name))
    labels = torch.arange(K).repeat_interleave(N_PER_CLASS)
    g = STREAMS["reverse_start"].generator(seed)
    x_T = torch.randn(len(labels), 2, generator=g)
    interval = interval_in_alpha_bar(sched, t_range)
    if score == "exact":
        model, clip = PerClass(name, labels, scale, interval), None
    else:
        net = network(name)
        x_T, labels_on = x_T.to(COMPUTE), labels.to(COMPUTE)
        model, clip = guided_eps(net, labels_on, scale, interval), CLIP_2D
    run = run_to_end(ddpm_sample(model, sched.build(), x_T, generator=g, clip_x0=clip))
    return {"x": run.x.cpu().numpy(), "labels": labels.numpy(), "diverged": run.diverged, "message": run.message}


@st.cache_data(max_entries=16, show_spinner=False)
def class_data(name: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A labelled data sample the guided samples are judged against (the target stream)."""
    points, labels = toy_2d_labelled(name, 4000, STREAMS["target"].seed(seed))
    return points.numpy(), labels.numpy()


@st.cache_data(max_entries=256, show_spinner=False)
def class_quality(name: str, sched: ScheduleChoice, scale: float, t_range: tuple[int, int], seed: int,
                  score: str = "exact") -> dict:
    """Per class: precision and recall of its guided samples against that class's data, and their spread."""
    run = guided_run(name, sched, scale, t_range, seed, score)
    data, data_labels = class_data(name, seed)
    out = {"precision": [], "recall": [], "spread": []}
    for c in range(len(class_names(name))):
        mine = torch.tensor(run["x"][run["labels"] == c])
        ref = torch.tensor(data[data_labels == c][:N_PER_CLASS * 2])
        p, r = precision_recall(mine, ref) if torch.isfinite(mine).all() else (0.0, 0.0)
        out["precision"].append(p)
        out["recall"].append(r)
        out["spread"].append(float(mine.std(dim=0).mean()))
    return out


@st.cache_data(max_entries=64, show_spinner="Computing the three fields…")
def fields_at(name: str, sched: ScheduleChoice, label: int, scale: float, t: int) -> dict:
    """Scores of ε_c, ε_u and the guided ε on a grid at step t, over log q_t of the set."""
    ab = float(sched.build().alphas_cumprod[t])
    cond, uncond = class_model(name, label), class_model(name, None)
    grid, s_c = field_on_grid(cond, ab, EXTENT, ARROWS)
    _, s_u = field_on_grid(uncond, ab, EXTENT, ARROWS)
    # the guided score s_u + w (s_c − s_u) = −(guided ε)/√(1−ᾱ), from the two exact scores
    out = {"alpha_bar": ab, "grid": grid.numpy(), "cond": s_c.numpy(), "uncond": s_u.numpy(),
           "guided": (s_u + scale * (s_c - s_u)).numpy()}
    axis = torch.linspace(-EXTENT, EXTENT, PIXELS)
    gx, gy = torch.meshgrid(axis, axis, indexing="xy")
    out["logp"] = uncond.log_prob(torch.stack([gx, gy], -1).reshape(-1, 2), ab).reshape(PIXELS, PIXELS).numpy()
    return out


@st.cache_data(max_entries=64, show_spinner="Comparing with the sharpened density…")
def sharpened(name: str, sched: ScheduleChoice, label: int, scale: float, seed: int) -> dict:
    """p(x|c)·p(c|x)^(w−1) ∝ p(x|c)^w p(x)^(1−w) on a grid (normalised there), and how far the guided samples of
    class c are from samples of it: sw, the mean sliced Wasserstein to NOISE_DRAWS fresh samples; sw_floor and
    sw_floor_sd, the mean and standard deviation of the distance between two fresh samples over NOISE_DRAWS pairs
    (sampling noise alone); z = (sw − sw_floor) / sw_floor_sd. Exact densities: for a mixture only (the 8 Gaussians)."""
    cond, uncond = class_model(name, label), class_model(name, None)
    axis = torch.linspace(-EXTENT, EXTENT, PIXELS, dtype=torch.float64)
    gx, gy = torch.meshgrid(axis, axis, indexing="xy")
    grid = torch.stack([gx, gy], -1).reshape(-1, 2)
    logp = scale * cond.log_prob(grid, 1.0).double() + (1 - scale) * uncond.log_prob(grid, 1.0).double()
    logp = logp - torch.logsumexp(logp, 0)
    cell = float(axis[1] - axis[0])
    g = torch.Generator().manual_seed(STREAMS["second_sample"].seed(seed))
    draw = lambda: (grid[torch.multinomial(logp.exp(), N_PER_CLASS, replacement=True, generator=g)] + (  # noqa: E731
        torch.rand(N_PER_CLASS, 2, generator=g, dtype=torch.float64) - 0.5) * cell).float()
    run = guided_run(name, sched, scale, (1, sched.T), seed)
    mine = torch.tensor(run["x"][run["labels"] == label])
    finite = bool(torch.isfinite(mine).all())
    to_mine = [sliced_wasserstein(mine, draw()) if finite else math.nan for _ in range(NOISE_DRAWS)]
    pairs = [sliced_wasserstein(draw(), draw()) for _ in range(NOISE_DRAWS)]
    sw, floor, floor_sd = float(np.mean(to_mine)), float(np.mean(pairs)), float(np.std(pairs, ddof=1))
    return {"logp": logp.reshape(PIXELS, PIXELS).numpy(), "samples": mine.numpy(), "sw": sw, "sw_floor": floor,
            "sw_floor_sd": floor_sd, "z": (sw - floor) / floor_sd}


# --- the page's figures, frozen and shared by the page and its lesson views --------------------------------------------
@st.cache_resource(max_entries=128, show_spinner=False)
def clouds(name: str, sched: ScheduleChoice, scale: float, interval: tuple, seed: int, label: int,
           score: str) -> figures.Frozen:
    run = guided_run(name, sched, scale, interval, seed, score)
    part = "" if interval == (1, sched.T) else f", guided for t in [{interval[0]}, {interval[1]}]"
    return figures.Frozen(gf.class_clouds(run["x"], run["labels"], class_names(name),
                                          f"{SCORES[score].capitalize()}, w = {scale:g}{part}", label))


@st.cache_resource(max_entries=64, show_spinner=False)
def field_figures(name: str, sched: ScheduleChoice, label: int, scale: float, t: int) -> list:
    f = fields_at(name, sched, label, scale, t)
    return [figures.Frozen(arrows.score_field(f["grid"], f[key], f["logp"], EXTENT, title, height=420,
                                              arrows_name=key))
            for key, title in (("cond", f"s_c: {class_names(name)[label]}"), ("uncond", "s_u: the whole set"),
                               ("guided", f"guided, w = {scale:g}"))]
