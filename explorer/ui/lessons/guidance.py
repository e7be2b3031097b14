"""Lesson views of the Guidance page: every class sampled with guidance, the three fields at one level, and the
guided samples against the sharpened density, from the page's own cached runs and frozen figures (registered in
explorer.ui.lessons.catalog)."""
from __future__ import annotations

import math

import numpy as np

from explorer.draw import guidance_figures as gf
from explorer.data.datasets import LABELLED_2D, class_names
from explorer.ui.views import guidance_runs as gr
from explorer.ui.lessons.settings import Reader, Shown


def settings(r: Reader):
    """(set, schedule, seed, class, w, guided interval) as the Guidance page reads them from its URL."""
    name = r.choice("data", list(LABELLED_2D), "eight_gaussians")
    sched = r.schedule(T_max=1000)
    seed = r.whole("seed", 0, 99, 0)
    label = r.choice("cls", list(range(len(class_names(name)))), 0)
    scale = r.number("scale", 0.0, 10.0, 3.0, step=0.5)
    hi, lo = r.whole("g_hi", 1, sched.T, sched.T), r.whole("g_lo", 1, sched.T, 1)
    if lo > hi:
        raise ValueError(f"'g_lo' = {lo} is above 'g_hi' = {hi}: the guided interval would be empty.")
    return name, sched, seed, label, scale, (lo, hi)


def field_settings(r: Reader):
    name, sched, seed, label, scale, _ = settings(r)
    return name, sched, label, scale, r.whole("g_t", 1, sched.T, min(sched.T, max(1, sched.T // 20)))


def check_sharpened(values: dict, measure: str) -> None:
    if settings(Reader(values))[0] != "eight_gaussians":
        raise ValueError("'data' must be eight_gaussians: the sharpened density is computed for the mixture only.")


def classes(values: dict) -> Shown:
    """Both clouds (exact, network) at w, and the chosen class's precision, recall and spread at w and at w = 1
    (and guided over the whole run, when the interval is part of it)."""
    name, sched, seed, label, scale, interval = settings(Reader(values))
    whole = (1, sched.T)
    figures, measures, warnings = [], {}, []
    for sc in gr.scores(name)[0]:
        run = gr.guided_run(name, sched, scale, interval, seed, sc)
        if run["diverged"]:
            warnings.append(f"The guided run ({gr.SCORES[sc]}) diverged. {run['message']}")
        figures.append((gr.clouds(name, sched, scale, interval, seed, label, sc),
                        f"{gr.N_PER_CLASS} samples of every class from the same x_T, {class_names(name)[label]} strong."))
        suffix = "" if sc == "exact" else "_net"
        q, q1 = gr.class_quality(name, sched, scale, interval, seed, sc), gr.class_quality(name, sched, 1.0, whole, seed, sc)
        for m in ("precision", "recall", "spread"):
            measures[f"{m}{suffix}"] = q[m][label]
            measures[f"{m}_w1{suffix}"] = q1[m][label]
        measures[f"spread_ratio{suffix}"] = q["spread"][label] / q1["spread"][label] if q1["spread"][label] else math.nan
    full = gr.class_quality(name, sched, scale, whole, seed)
    measures["precision_whole_run"], measures["recall_whole_run"] = full["precision"][label], full["recall"][label]
    measures["recall_gain"] = measures["recall"] - measures["recall_whole_run"]  # 0 when guided over the whole run
    return Shown(figures, measures, warnings)


def fields(values: dict) -> Shown:
    """The three fields at t and the mean length of each score on the arrow grid (the arrows are drawn to each panel's scale)."""
    name, sched, label, scale, t = field_settings(Reader(values))
    f = gr.fields_at(name, sched, label, scale, t)
    norms = {k: float(np.linalg.norm(f[k], axis=-1).mean()) for k in ("cond", "uncond", "guided")}
    captions = ("s_c: the class's score.", "s_u: the whole set's score.", f"The guided field s_u + w(s_c − s_u), w = {scale:g}.")
    return Shown(list(zip(gr.field_figures(name, sched, label, scale, t), captions)),
                 {"norm_cond": norms["cond"], "norm_uncond": norms["uncond"], "norm_guided": norms["guided"],
                  "guided_over_cond": norms["guided"] / norms["cond"], "alpha_bar_t": f["alpha_bar"]})


def sharpened(values: dict) -> Shown:
    """The class's guided samples over p(x|c)·p(c|x)^(w−1) on a grid, and their distance to samples of it."""
    name, sched, seed, label, scale, _ = settings(Reader(values))
    sh = gr.sharpened(name, sched, label, scale, seed)
    fig = gf.sharpened_figure(sh["logp"], sh["samples"], gr.EXTENT, f"p(x|c)·p(c|x)^(w−1) at w = {scale:g}, and the guided samples")
    return Shown([(fig, "Shading: the sharpened density; dots: the class's guided samples (exact scores).")],
                 {"sw": sh["sw"], "sw_floor": sh["sw_floor"], "sw_floor_sd": sh["sw_floor_sd"],
                  "sw_over_floor": sh["sw"] / sh["sw_floor"], "noise_z": sh["z"]})
