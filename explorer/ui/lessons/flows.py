"""Lesson views of the Flows & ODEs page: the SDE beside the ODE from one x_T, and flow matching with and without
reflow, from the page's own cached runs and figures (registered in explorer.ui.lessons.catalog)."""
from __future__ import annotations

import math

from explorer.draw import flow_figures as ff
from explorer.ui.views import cloud_figures as cf, flow_runs as fr, runs, tradeoff_runs as trr
from explorer.ui.lessons.settings import Reader, Shown

N_MAX = 2000  # the Flows page's point slider stops here


def base_settings(r: Reader):
    data = r.data("eight_gaussians", n_default=1000)
    if data.n > N_MAX:
        raise ValueError(f"'n' = {data.n} must be at most {N_MAX} on the Flows page.")
    return data, r.schedule(T_max=1000), r.choice("score", ["exact", "pretrained"], "exact")


def sde_settings(r: Reader):
    data, sched, score = base_settings(r)
    return (data, sched, score, r.number("eta", 0.0, 1.0, 0.0, step=0.1),
            r.whole("steps", 1, sched.T, min(sched.T, 100)))


def flow_settings(r: Reader):
    data, sched, score = base_settings(r)
    return data, sched, score, r.choice("fl_steps", list(fr.FLOW_STEPS), 8), r.flag("reflow", False)


def check_flow(settings: dict, measure: str) -> None:
    """ValueError for unreadable settings, or a reflow measure without reflow = true."""
    flow_settings(Reader(settings))
    if "reflow" in measure and not Reader(settings).flag("reflow", False):
        raise ValueError(f"'{measure}' is measured only with reflow = true.")


def flows_sde(settings: dict) -> Shown:
    data, sched, score, eta, steps = sde_settings(Reader(settings))
    revs = fr.sde_runs(score, sched.T, eta, steps)
    figures, measures, warnings = [], {}, []
    for key, (name, rev) in revs.items():
        res = runs.reverse_run(data, sched, rev)
        if res["diverged"]:
            warnings.append(f"{name} diverged. {res['message']}")
        figures.append((cf.state_cloud(data, sched, rev, cf.stored_steps(res), name), f"{name}, from the same x_T."))
        measures[f"length_{key}"] = fr.path_length(data, sched, rev)
        measures[f"gap_{key}"] = fr.largest_gap(fr.marginal_gaps(data, sched, rev))[0]
    gaps = {name: (key, fr.marginal_gaps(data, sched, rev)) for key, (name, rev) in revs.items()}
    figures.append((ff.marginal_gaps(gaps), "Each run's x_t against samples of q_t; dotted: two samples of q_t."))
    measures["length_ratio"] = measures["length_ddpm"] / measures["length_heun"] \
        if measures["length_heun"] > 0 else math.nan
    return Shown(figures, measures, warnings)


def flows_flow(settings: dict) -> Shown:
    data, sched, score, n, with_reflow = flow_settings(Reader(settings))
    models = fr.flow_models(score, with_reflow)
    floor = trr.floor(data)["sw"]
    figures, measures = [], {"sw_floor": floor}
    for name, (color, key) in models.items():
        p = fr.flow_point(data, sched, key, n)
        figures.append((fr.flow_figure(data, sched, key, n, name), f"{name}: {fr.plural(p['steps'], 'step')} from the same x₁."))
        one, fine = fr.flow_point(data, sched, key, 1), fr.flow_point(data, sched, key, fr.FLOW_STEPS[-1])
        short = {"ode": "ode", "flow": "flow", "reflow": "reflow"}[color]
        measures[f"sw_{short}"] = p["sw"]
        measures[f"one_step_{short}_over_floor"] = one["sw"] / floor
        measures[f"straight_{short}"] = fine["straightness"]
    if with_reflow:
        measures["reflow_seconds"] = fr.reflowed(data.name)["seconds"]
    return Shown(figures, measures)
