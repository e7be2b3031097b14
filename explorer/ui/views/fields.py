"""The score page's computations: the score field on a grid, a learned field beside the exact one,
and Langevin dynamics at one noise level."""
from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from explorer.draw import arrows, figures
from explorer.common.device import from_anywhere
from explorer.measure.metrics import sliced_wasserstein
from explorer.diffusion.samplers import langevin_fixed, record
from explorer.diffusion.schedules import frame_times
from explorer.diffusion.scores import field_on_grid
from explorer.common.streams import STREAMS
from explorer.ui.views import runs
from explorer.ui.views.runs import ANIMATION_FRAMES, SW_CURVE_PROJECTIONS, forward_run
from explorer.ui.settings import DataChoice, ScheduleChoice, score_name
from explorer.ui.sources import exact_model_for, score_model

FIELD_EXTENT = 3.0  # the score page shows [−3, 3]²
FIELD_ARROWS = 23  # arrows per side
DENSITY_PIXELS = 90  # heat-map resolution per side
LANGEVIN_PARTICLES = 1000


def spread_subset(points: np.ndarray, k: int) -> np.ndarray:
    """k points spread over the whole set (toy sets are generated part by part: the first k are not)."""
    return points[frame_times(len(points) - 1, k)]


def stability_limit(model, alpha_bar: float) -> float:
    """2 × the narrowest variance of q_ᾱ: a Langevin step beyond it makes the iteration explode.

    For a Gaussian of variance v, x ← x − (α/v)x + √(2α)ζ is stable only while α < 2v.
    """
    return 2 * model.narrowest_variance(alpha_bar)


def _heat_grid() -> torch.Tensor:
    """The DENSITY_PIXELS² points of the heat maps over [−FIELD_EXTENT, FIELD_EXTENT]², row by row."""
    axis = torch.linspace(-FIELD_EXTENT, FIELD_EXTENT, DENSITY_PIXELS)
    gx, gy = torch.meshgrid(axis, axis, indexing="xy")
    return torch.stack([gx, gy], -1).reshape(-1, 2)


@st.cache_data(max_entries=32, show_spinner="Computing the score field…")
def score_field_at(data: DataChoice, sched: ScheduleChoice, t: int) -> dict:
    """Exact score on a grid, log q_t on a finer grid, and samples of q_t, at step t ≥ 1."""
    s = sched.build()
    ab = float(s.alphas_cumprod[t])
    model = exact_model_for(data)
    grid, score = field_on_grid(model, ab, FIELD_EXTENT, FIELD_ARROWS)
    logp = model.log_prob(_heat_grid(), ab).reshape(DENSITY_PIXELS, DENSITY_PIXELS)
    run = forward_run(data, sched)
    return {"grid": grid.numpy(), "score": score.numpy(), "logp": logp.numpy(), "alpha_bar": ab,
            "samples": spread_subset(run["traj"][t], LANGEVIN_PARTICLES), "limit": stability_limit(model, ab)}


@st.cache_data(max_entries=32, show_spinner="Evaluating the network on the grid…")
def learned_field_at(data: DataChoice, sched: ScheduleChoice, t: int, score: str) -> dict:
    """A learned score next to the exact one at step t: its field, the difference, and errors.

    rel_error is E‖s_learned − s_exact‖² / E‖s_exact‖² over samples of q_t (where it matters);
    diff_map is ‖s_learned − s_exact‖ on the heat-map grid.
    """
    s = sched.build()
    ab = float(s.alphas_cumprod[t])
    learned, exact = from_anywhere(score_model(data, score)), exact_model_for(data)
    grid, field = field_on_grid(learned, ab, FIELD_EXTENT, FIELD_ARROWS)
    exact_field = torch.from_numpy(score_field_at(data, sched, t)["score"])
    fine = _heat_grid()
    scale = 1.0 / max(1.0 - ab, 1e-12) ** 0.5
    with torch.no_grad():
        diff_map = ((learned(fine, ab) - exact(fine, ab)).float() * scale).norm(dim=1)
        xt = torch.tensor(spread_subset(forward_run(data, sched)["traj"][t], LANGEVIN_PARTICLES))
        s_l, s_e = -learned(xt, ab).double() * scale, -exact(xt, ab).double() * scale
    rel = float(((s_l - s_e) ** 2).sum(1).mean() / (s_e ** 2).sum(1).mean().clamp_min(1e-30))
    return {"score": field.numpy(), "diff": (field - exact_field).numpy(),
            "diff_map": diff_map.reshape(DENSITY_PIXELS, DENSITY_PIXELS).numpy(), "rel_error": rel}


@st.cache_data(max_entries=32, show_spinner="Running Langevin dynamics…")
def langevin_at(data: DataChoice, sched: ScheduleChoice, t: int, alpha: float, n_steps: int,
                score: str = "exact") -> dict:
    """Langevin at the fixed noise level ᾱ_t from N(0, I): frames, distance to q_t, divergence."""
    s = sched.build()
    ab = float(s.alphas_cumprod[t])
    model = from_anywhere(score_model(data, score))  # the particles stay on the CPU, the network computes
    g = STREAMS["langevin"].generator(data.seed)
    x = torch.randn(LANGEVIN_PARTICLES, 2, generator=g)
    target = torch.tensor(forward_run(data, sched)["traj"][t])  # a copy: the shared arrays are read-only
    run = record(langevin_fixed(model, ab, x, alpha, n_steps, generator=g), start=(0, x),
                 keep=max(1, n_steps // ANIMATION_FRAMES))
    frames = run.xs.numpy()
    finite = [i for i in range(len(frames)) if np.isfinite(frames[i]).all()]
    sw = [sliced_wasserstein(run.xs[i], target, n_projections=SW_CURVE_PROJECTIONS) for i in finite]
    return {"frames": frames, "frame_k": np.array(run.times), "sw": np.array(sw),
            "sw_k": np.array([run.times[i] for i in finite]), "diverged": run.diverged, "message": run.message,
            "steps_done": int(run.last.t), "limit": stability_limit(exact_model_for(data), ab)}


# --- figures: made once per view, shared by every session and by the lessons (figures.Frozen) ---------------
@st.cache_resource(max_entries=16, show_spinner=False)
def field_figure(data, sched, t: int, alpha: float | None = None, n_steps: int | None = None, score: str = "exact"):
    """The score field at t over log q_t, with samples of q_t, or (alpha given) the Langevin particles.

    Built once per view: the arrows are a few thousand line segments.
    """
    field = score_field_at(data, sched, t)
    if alpha is None:
        particles, title, height = field["samples"][::2], f"Exact s_t(x) over log q_t(x) at t = {t}", 620
    else:
        lv = langevin_at(data, sched, t, alpha, n_steps, score)
        particles = np.clip(lv["frames"][-1], -FIELD_EXTENT, FIELD_EXTENT)
        title, height = f"Particles after {lv['steps_done']} Langevin steps (α = {alpha:g})", 560
    vectors = field["score"] if score == "exact" else learned_field_at(data, sched, t, score)["score"]
    return figures.Frozen(arrows.score_field(field["grid"], vectors, field["logp"], FIELD_EXTENT, title,
                                             particles=particles, height=height))


@st.cache_resource(max_entries=16, show_spinner=False)
def comparison_figures(data, sched, t: int, score: str):
    """The learned field over log q_t, and the field of differences over ‖s_learned − s_exact‖."""
    field, learned = score_field_at(data, sched, t), learned_field_at(data, sched, t, score)
    name = score_name(score)
    left = arrows.score_field(field["grid"], learned["score"], field["logp"], FIELD_EXTENT,
                               f"Learned s_t(x) ({name}) at t = {t}", height=520, arrows_name="learned score")
    right = arrows.score_field(field["grid"], learned["diff"], np.log10(learned["diff_map"] + 1e-3),
                                FIELD_EXTENT, "Difference: learned − exact", height=520,
                                heat_title="log₁₀ ‖Δs‖", arrows_name="s_learned − s_exact")
    return figures.Frozen(left), figures.Frozen(right)


@st.cache_resource(max_entries=16, show_spinner=False)
def langevin_animation(data, sched, t: int, alpha: float, n_steps: int, score: str = "exact"):
    lv = langevin_at(data, sched, t, alpha, n_steps, score)
    frames = np.clip(lv["frames"], -figures.LIM, figures.LIM)
    labels = [f"Langevin step {k}" for k in lv["frame_k"]]
    return figures.animated_cloud_frozen(frames, lv["frame_k"], f"Langevin at t = {t}, α = {alpha:g}",
                                         labels=labels, step_labels=[str(k) for k in lv["frame_k"]], height=560,
                                         slider_prefix="Langevin step ")


# The figures above and below are made once per view and shared by every session showing it (figures.Frozen).
@st.cache_resource(max_entries=16, show_spinner=False)
def langevin_distance_figure(data, sched, t: int, alpha: float, n_steps: int, score: str) -> figures.Frozen:
    lv = langevin_at(data, sched, t, alpha, n_steps, score)
    return figures.Frozen(figures.lines(
        lv["sw_k"], {"SW(particles, q_t samples)": (lv["sw"], dict(color=figures.STATE, width=2.5))},
        "Distance to q_t over Langevin steps", "Langevin step", "sliced Wasserstein", height=330, log_y=True))


@st.cache_resource(max_entries=16, show_spinner=False)
def annealed_figure(data, sched, rev) -> figures.Frozen:
    res = runs.reverse_run(data, sched, rev)
    final = np.clip(res["last"], -figures.LIM, figures.LIM)
    return figures.Frozen(figures.cloud_snapshot([(res["target"][:figures.TARGET_SHOWN], figures.DATA, "data"),
                                                  (final, figures.STATE, "annealed Langevin samples")],
                                                 f"{rev.label()}: final samples", height=520))
