"""Lesson views of the reverse, score and images pages: settings → the very figures and measured values those
pages show (registered in explorer.ui.lessons.catalog)."""
from __future__ import annotations

import math

import numpy as np
import torch

from explorer.data import images
from explorer.measure.metrics import sliced_wasserstein
from explorer.ui.views import cloud_figures as cf, fields, image_runs, runs
from explorer.ui import sources
from explorer.ui.controls import ALPHA_GRID
from explorer.ui.lessons.settings import Reader, Shown
from explorer.ui.settings import ScheduleChoice


# --- reverse --------------------------------------------------------------------------------------------------
def reverse_settings(r: Reader):
    data, sched = r.data("eight_gaussians"), r.schedule()
    return data, sched, r.sampler(sched)


def stored_step(r: Reader, sched: ScheduleChoice, rev) -> int:
    K = rev.entry.steps(sched.T, dict(rev.options))
    return r.whole("step", 0, K, K)


def check_reverse(settings: dict, measure: str) -> None:
    r = Reader(settings)
    data, sched, rev = reverse_settings(r)
    stored_step(r, sched, rev)
    if rev.score == "pretrained" and not sources.pretrained_available(data):
        raise ValueError(f"no pretrained network ships for {data.name!r}.")


def divergence_warnings(res: dict, rev) -> list[str]:
    return [f"**{rev.label()} diverged.** {res['message']}"] if res["diverged"] else []


def final_sw(res: dict) -> float:
    return float(res["sw"][-1]) if len(res["sw"]) else float("nan")


def reverse_run(settings: dict) -> Shown:
    r = Reader(settings)
    data, sched, rev = reverse_settings(r)
    res = runs.reverse_run(data, sched, rev)
    k = min(stored_step(r, sched, rev), cf.stored_steps(res))  # a diverged run stops early
    t, K = int(res["times"][k]), cf.stored_steps(res)
    target = torch.tensor(res["target"][:cf.DRAWN])
    sw_xt, sw_x0 = (sliced_wasserstein(torch.tensor(res[key][k], dtype=torch.float32), target, n_projections=128)
                    for key in ("xs", "x0s"))
    return Shown([(cf.state_cloud(data, sched, rev, k, f"x_t at t = {t} (step {k} of {K})"), "The samples x_t."),
                  (cf.estimate_cloud(data, sched, rev, k), "The model's guess x̂₀ at the same step.")],
                 {"sw_final": final_sw(res), "sw_floor": res["sw_floor"], "sw_ratio": final_sw(res) / res["sw_floor"],
                  "diverged": float(res["diverged"]), "t_shown": float(t), "steps": float(K),
                  "sw_xt": sw_xt, "sw_x0": sw_x0},
                 divergence_warnings(res, rev))


def reverse_ab(settings: dict) -> Shown:
    r = Reader(settings)
    data, sched, rev_a = reverse_settings(r)
    rev_b = r.sampler(sched, prefix="b_", default_score="pretrained")
    out = {name: runs.reverse_run(data, sched, rev) for name, rev in (("A", rev_a), ("B", rev_b))}
    shown = [(cf.state_cloud(data, sched, rev, cf.stored_steps(out[name]),
                             f"{name}: {rev.label()} — t = {int(out[name]['times'][-1])}"), f"Sampler {name}.")
             for name, rev in (("A", rev_a), ("B", rev_b))]
    sw_a, sw_b = final_sw(out["A"]), final_sw(out["B"])
    return Shown(shown, {"sw_A": sw_a, "sw_B": sw_b, "sw_floor": out["A"]["sw_floor"], "sw_A_over_B": sw_a / sw_b},
                 divergence_warnings(out["A"], rev_a) + divergence_warnings(out["B"], rev_b))


def check_ab(settings: dict, measure: str) -> None:
    check_reverse(settings, measure)
    r = Reader(settings)
    r.sampler(r.schedule(), prefix="b_", default_score="pretrained")


# --- score & Langevin -----------------------------------------------------------------------------------------
def score_settings(r: Reader):
    data, sched = r.data("eight_gaussians"), r.schedule()
    return data, sched, r.whole("score_t", 1, sched.T, min(sched.T, max(1, sched.T // 10)))


def score_field(settings: dict) -> Shown:
    r = Reader(settings)
    data, sched, t = score_settings(r)
    score = r.choice("score", ["exact", "pretrained"], "exact")
    fld = fields.score_field_at(data, sched, t)
    norms = np.linalg.norm(fld["score"], axis=-1)
    measures = {"alpha_bar_t": fld["alpha_bar"], "noise_std": math.sqrt(1 - fld["alpha_bar"]),
                "norm_max": float(norms.max()), "norm_min": float(norms.min()), "rel_error": 0.0}
    if score == "exact":
        return Shown([(fields.field_figure(data, sched, t), "Arrows: the score; shading: log q_t; dots: samples of x_t.")],
                     measures)
    learned, (left, right) = fields.learned_field_at(data, sched, t, score), fields.comparison_figures(data, sched, t, score)
    return Shown([(left, "The network's score."), (right, "Where it differs from the exact one (red: larger).")],
                 {**measures, "rel_error": learned["rel_error"]})


def langevin_settings(r: Reader):
    data, sched, t = score_settings(r)
    alpha = float(r.choice("alpha", ALPHA_GRID, 0.01))
    return data, sched, t, alpha, r.whole("n_steps", 10, 2000, 300, step=10), r.choice("score", ["exact", "pretrained"], "exact")


def langevin(settings: dict) -> Shown:
    data, sched, t, alpha, n_steps, score = langevin_settings(Reader(settings))
    lv = fields.langevin_at(data, sched, t, alpha, n_steps, score)
    warn = [f"**α = {alpha:g} is too large: Langevin diverged.** {lv['message']} The stability limit of the "
            f"narrowest bump of q_t is {lv['limit']:.3g}."] if lv["diverged"] else []
    return Shown([(fields.field_figure(data, sched, t, alpha, n_steps, score), "The particles where Langevin left them."),
                  (fields.langevin_distance_figure(data, sched, t, alpha, n_steps, score), "Their distance to q_t.")],
                 {"limit": lv["limit"], "alpha_over_limit": alpha / lv["limit"], "diverged": float(lv["diverged"]),
                  "steps_done": float(lv["steps_done"]), "var_ratio": lv["var_ratio"],
                  "var_ratio_narrowest": lv["var_ratio_narrowest"],
                  "sw_final": float(lv["sw"][-1]) if len(lv["sw"]) else float("nan")}, warn)


# --- images ---------------------------------------------------------------------------------------------------
def image_settings(r: Reader):
    return r.schedule("cosine", 250, T_max=1000), r.digits()


def images_forward(settings: dict) -> Shown:
    r = Reader(settings)
    sched, pick = image_settings(r)
    t = r.whole("img_t", 0, sched.T, min(sched.T, max(1, sched.T // 5)))
    fwd = image_runs.forward_digits(sched, pick)
    ab = float(fwd["alpha_bar"][t])
    return Shown([(images.picture(images.grid(fwd["xs"][t], ncol=fwd["ncol"])), f"x_t at t = {t}")],
                 {"alpha_bar_t": ab, "pixel_std": float(fwd["std"][t]), "pixel_mean": float(fwd["mean"][t]),
                  "pixel_std_theory": math.sqrt(1 + (fwd["var0"] - 1) * ab)})


def images_reverse(settings: dict) -> Shown:
    r = Reader(settings)
    sched, pick = image_settings(r)
    score = r.choice("img_score", ["pretrained", "exact"], "pretrained")
    rev = image_runs.reverse_digits(sched, pick, score)
    return Shown([(images.picture(images.grid(rev["xs"][-1], ncol=rev["ncol"])), "The final samples."),
                  (images.picture(images.grid(rev["nearest"], ncol=rev["ncol"])), "The nearest training digit of each.")],
                 {"copies": rev["copies"], "recognised": rev["recognised"], "classes": float(rev["classes"])},
                 [f"The run diverged. {rev['message']}"] if rev["diverged"] else [])
