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
from explorer.data.datasets import toy_2d
from explorer.diffusion.scores import EmpiricalData, field_on_grid
from explorer.common.streams import STREAMS
from explorer.ui import session
from explorer.ui.views import runs
from explorer.ui.views.runs import ANIMATION_FRAMES, SW_CURVE_PROJECTIONS, forward_run
from explorer.ui.settings import YOURS, DataChoice, ScheduleChoice, score_name
from explorer.ui.sources import exact_model_for, score_model

FIELD_EXTENT = 3.0  # the score page shows [−3, 3]²
FIELD_ARROWS = 23  # arrows per side
DENSITY_PIXELS = 90  # heat-map resolution per side
LANGEVIN_PARTICLES = 1000
# A learned score of a set without a formula is judged against the score of this many fresh points of the set
# (the exact arrows use EXACT_REFERENCE_UI, far too few at small t), and a second such sample says how far that
# judge itself is from the true score
JUDGE_REFERENCE = 50_000


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


def relative_error(s: torch.Tensor, reference: torch.Tensor) -> float:
    """E‖s − s_ref‖² / E‖s_ref‖² over the rows."""
    return float(((s - reference) ** 2).sum(1).mean() / (reference ** 2).sum(1).mean().clamp_min(1e-30))


@st.cache_data(max_entries=32, show_spinner="Evaluating the network on the grid…")
def learned_field_at(data: DataChoice, sched: ScheduleChoice, t: int, score: str) -> dict:
    """A learned score next to the exact one at step t: its field, the difference, and its error.

    diff_map is ‖s_learned − s_exact‖ on the heat-map grid (the arrows' exact score). rel_error is
    E‖s_learned − s_judge‖² / E‖s_judge‖² over samples of q_t, where the judge is the exact score of a set with a
    formula, or for a toy set without one the score of JUDGE_REFERENCE fresh points of it; judge_error estimates
    the judge's own relative error from a second such sample (independent errors: E‖s_A − s_B‖² = 2 E‖e‖²), and
    arrows_error is the page's EXACT_REFERENCE_UI-point exact score against the judge. For your own points the
    judge is the score of all of them (no better one exists) and judge_error is NaN.
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
        judge, judge_error, arrows_error = "exact", 0.0, 0.0
        if isinstance(exact, EmpiricalData):
            first, second = judge_models(data)
            s_j = -first.eps(xt.double(), ab) * scale
            judge = f"{len(first.points):,} points"
            arrows_error = relative_error(s_e, s_j)
            judge_error = relative_error(-second.eps(xt.double(), ab) * scale, s_j) / 2 if second is not None else np.nan
            s_e = s_j
    return {"score": field.numpy(), "diff": (field - exact_field).numpy(),
            "diff_map": diff_map.reshape(DENSITY_PIXELS, DENSITY_PIXELS).numpy(), "rel_error": relative_error(s_l, s_e),
            "judge": judge, "judge_error": judge_error, "arrows_error": arrows_error}


def accuracy_sentence(learned: dict, arrows_points: int) -> str:
    """What the difference map and the relative error say, worded from learned_field_at's numbers."""
    rel, judge_error = learned["rel_error"], learned["judge_error"]
    if learned["judge"] == "exact":
        judged = "the exact score"
    elif np.isfinite(judge_error):
        judged = (f"the score of {learned['judge']} of the set (itself off by about {judge_error:.2g}: two such "
                  "samples disagree by twice that)")
    else:
        judged = f"the score of all {learned['judge']} of your data, the best reference they allow"
    if np.isfinite(judge_error) and judge_error > rel / 3:
        verdict = (f"at this t even that reference is too coarse to judge the network: its own error is "
                   f"{judge_error / rel:.0%} of the measured one, so pick a larger t")
    elif rel < 0.1:
        verdict = "the network is close to it where q_t has mass, and only guesses far from it, where no training "
        verdict += "sample ever landed"
    else:
        verdict = "at this t the network is far from it even where q_t has mass"
    text = (f"The red map is ‖s_learned − s_exact‖ (log scale). Against {judged} the learned score's relative "
            f"squared error is {rel:.2g}: {verdict}.")
    if learned["judge"] != "exact":
        text += (f" The exact arrows above are the score of {arrows_points:,} points of the set, off by "
                 f"{learned['arrows_error']:.2g} from that reference at this t: at small t they point at those very "
                 "points, while the network smooths between them, which is what lets it make new samples.")
    return text


def bias_sentence(alpha: float, lv: dict) -> str:
    """Langevin's step-size bias, worded from langevin_at's numbers."""
    text = ("Too small an α crawls. A larger one gets there sooner but does not sample q_t exactly: on a Gaussian "
            "bump of variance v its particles settle at variance v / (1 − α/2v), not v")
    if lv["diverged"]:
        return text + ", and at or above α = 2v they explode, as here."
    text += (f"; for the narrowest bump of this q_t that is {lv['var_ratio_narrowest']:.3g} × v" if
             np.isfinite(lv["var_ratio_narrowest"]) else "; this α is at or above the narrowest bump's limit")
    return text + (f". Measured here after {lv['steps_done']} steps: the particles' variance is {lv['var_ratio']:.3g} × "
                   "that of samples of q_t (where q_t is one wide bump, as at large t, the two agree).")


@st.cache_resource(max_entries=4, show_spinner="Drawing a large sample of the data set to judge the network…")
def judge_models(data: DataChoice) -> tuple[EmpiricalData, EmpiricalData | None]:
    """Two independent JUDGE_REFERENCE-point samples of a toy set as exact scores; for your own points, all of
    them and None."""
    if data.name == YOURS:
        mine = session.get(data.upload_key)
        if mine is None:
            raise ValueError("Your data set is no longer in memory; load it again on the Train your own page.")
        return EmpiricalData(torch.from_numpy(mine.points).double()), None
    return tuple(EmpiricalData(toy_2d(data.name, JUDGE_REFERENCE, STREAMS[name].seed(), word=data.word).double())
                 for name in ("judge_reference", "judge_reference_2"))


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
    limit = stability_limit(exact_model_for(data), ab)
    last = run.xs[-1].double()
    var_ratio = float(last.var(0).sum() / target.double().var(0).sum()) if not run.diverged else np.nan
    return {"frames": frames, "frame_k": np.array(run.times), "sw": np.array(sw),
            "sw_k": np.array([run.times[i] for i in finite]), "diverged": run.diverged, "message": run.message,
            "steps_done": int(run.last.t), "limit": limit, "var_ratio": var_ratio,
            "var_ratio_narrowest": langevin_inflation(alpha, limit)}


def langevin_inflation(alpha: float, limit: float) -> float:
    """Langevin's stationary variance over the target's on one Gaussian bump of variance v = limit / 2: from
    x ← (1 − α/v) x + √(2α) ζ, s² = (1 − α/v)² s² + 2α, so s² = v / (1 − α/2v); inf at and above the limit."""
    return 1.0 / (1.0 - alpha / limit) if alpha < limit else np.inf


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
