"""The Flows & ODEs page's four views: the same noise through the SDE and the ODE, inversion, likelihood, and flow
matching with reflow beside diffusion. Each draws from the page's settings, passed in; the runs are in flow_runs."""
from __future__ import annotations

import numpy as np
import streamlit as st

from explorer.draw import flow_figures as ff
from explorer.ui import layout, sources, state
from explorer.ui.settings import DataChoice, ScheduleChoice, score_name
from explorer.ui.views import cloud_figures as cf, flow_runs as fr, runs, tradeoff_runs as trr


def shown(v: float, digits: int = 3) -> str:
    """A measurement as the page shows it, or "diverged" for a run that left the numbers."""
    return f"{v:.{digits}f}" if np.isfinite(v) else "diverged"


def trend(e: list[float], steps: list[int], k: int, score: str) -> str:
    """The round-trip errors against steps, in words that follow the numbers."""
    who = f"With the {score_name(score)} the mean error of these {k} points"
    if len(e) == 1:
        return f"{who} is {e[0]:.2g} at {steps[0]} step{'s' if steps[0] > 1 else ''}."
    best = int(np.nanargmin(e))
    if best == len(e) - 1 and all(a >= b for a, b in zip(e, e[1:])):
        if e[-1] < 0.01:
            return (f"{who} falls from {e[0]:.2g} at {steps[0]} steps to {e[-1]:.2g} at {steps[-1]}: the map is "
                    "invertible up to the solver's error.")
        return (f"{who} falls from {e[0]:.2g} at {steps[0]} steps to {e[-1]:.2g} at {steps[-1]} — still far from 0: with "
                "this score and schedule the points do not come back.")
    return (f"{who} goes from {e[0]:.2g} at {steps[0]} steps to its smallest, {e[best]:.2g}, at {steps[best]} and "
            f"is {e[-1]:.2g} at {steps[-1]}: where it stalls or grows, the solver's error is not what limits it — the "
            "exact score of a point set is stiff near its points, and a network is only approximately a gradient field.")


def pick_key(data) -> str:
    """The picker chart's key: one selection per data set (indices mean nothing on another set)."""
    return f"inv_pick_{data.name}_{data.word if data.name == 'word' else ''}_{data.n}_{data.seed}"


def picked(data, points: np.ndarray) -> tuple[int, ...]:
    """Indices of the data points selected on the picker chart (this session), at most MAX_PICKED."""
    event = st.session_state.get(pick_key(data))
    try:
        chosen = [p["point_index"] for p in event["selection"]["points"] if p.get("curve_number", 0) == 0]
    except (KeyError, TypeError):
        return ()
    return tuple(sorted({int(i) for i in chosen if 0 <= int(i) < len(points)}))[:fr.MAX_PICKED]


# --- SDE and ODE from the same x_T ------------------------------------------------------------------------------
def sde_and_ode(data: DataChoice, sched: ScheduleChoice, score: str, scores: dict[str, str]) -> None:
    T = sched.T
    c1, c2 = st.columns(2)
    eta = float(state.slider("DDIM's η (0: the ODE, 1: as noisy as DDPM)", "eta", 0.0, 1.0, 0.0, step=0.1, where=c1))
    steps = int(state.slider("Steps for DDIM and Heun (≤ T)", "steps", 1, T, min(T, 100), where=c2))
    revs = fr.sde_runs(score, T, eta, steps)
    lengths = {}
    for col, (key, (name, rev)) in zip(st.columns(3), revs.items()):
        with col:
            res = runs.reverse_run_shown(data, sched, rev, name)
            layout.chart(st, cf.state_cloud(data, sched, rev, cf.stored_steps(res), name), width="stretch",
                            key=f"sde_{key}")
            lengths[key] = shown(fr.path_length(data, sched, rev), 2)
            st.metric("median path length", lengths[key],
                      help="Over the stored points: the summed length of each point's steps from x_T to x_0.")
    said = {k: (f"{v} (median length)" if v != "diverged" else "diverged") for k, v in lengths.items()}
    wanders = "diverged" not in lengths.values() and float(lengths["ddpm"]) > 2 * float(lengths["heun"])
    st.caption(f"All three start from the same x_T ({data.n:,} points, seed {data.seed}) with the {score_name(score)}; "
               f"{cf.N_PATHS} particles' paths drawn. "
               + (("DDPM adds fresh noise at every one of its steps but the last"
                   + (", so its paths wander" if wanders else "") + ". ") if T > 1 else
                  "With T = 1 DDPM has only its last step, which adds no noise. ")
               + f"DDPM: {said['ddpm']}; Heun's deterministic paths: {said['heun']}; DDIM with η = {eta:g}: "
               f"{said['ddim']}. A noisy path's length grows with its number of steps.")
    with layout.friendly_errors("compare the marginals"):
        gaps = {name: (key, fr.marginal_gaps(data, sched, rev)) for key, (name, rev) in revs.items()}
    layout.chart(st, ff.marginal_gaps(gaps), width="stretch", key="sde_marginals")
    words = []
    for name, (_, g) in gaps.items():
        if len(g["t"]):
            ratio, at = fr.largest_gap(g)
            words.append(f"{name}: at most {ratio:.1f}× the floor (t = {at})")
    st.caption("The distance between each run's x_t and samples of the forward chain's q_t at the same t, against the "
               f"distance between two forward samples (the floor: sampling noise alone), at up to {fr.MARGINAL_TIMES} "
               "levels of each run. " + (("Measured: " + "; ".join(words) + ". Where a line stays near the floor, that "
                                          "run has q_t's marginal at that t, whether it got there by the SDE or the ODE.")
                                         if words else "No level between x_T and x_0 to compare here."))


# --- inversion -------------------------------------------------------------------------------------------------
def inversion(data: DataChoice, sched: ScheduleChoice, score: str, scores: dict[str, str]) -> None:
    c1, c2 = st.columns(2)
    k = int(state.slider("Points to invert (the first of the data)", "inv_k", 1, fr.MAX_PICKED, 50, where=c1,
                         help="Or pick them on the left-hand chart with a box or a lasso."))
    options = fr.invert_steps(sched)
    n = int(state.choice("ODE steps each way", "inv_steps", options, 20 if 20 in options else options[-1], where=c2,
                         widget="select_slider"))
    shown_points = sources.toy_points(data)[:1000]
    picks = picked(data, shown_points)
    note = (f"Inverting the {len(picks)} points you picked" + (f" (the first {fr.MAX_PICKED})" if len(picks) ==
            fr.MAX_PICKED else "") + "; clear the selection (double-click the chart) to go back to the first "
            f"{k}.") if picks else f"Inverting the first {k} points of the data."
    picks = picks or tuple(range(min(k, len(shown_points))))
    with layout.friendly_errors("invert the points"):
        res = fr.inversion(data, sched, score, picks, n)
    enc, dec = ff.round_trip_clouds(res["x_0"], res["x_T"], res["back"], n)
    cols = st.columns(3)
    layout.chart(cols[0], ff.picker(shown_points, res["x_0"]), width="stretch", key=pick_key(data),
                         on_select="rerun", selection_mode=("box", "lasso"))
    for col, fig, key in zip(cols[1:], (enc, dec), ("inv_enc", "inv_dec")):
        layout.chart(col, fig, width="stretch", key=key)
    st.caption(note)
    m = st.columns(3)
    m[0].metric("mean round-trip error", f"{res['error'].mean():.2g}")
    m[1].metric("largest error", f"{res['error'].max():.2g}")
    m[2].metric("std of the encoded x_T", f"{res['x_T'].std():.2f}", help="Points drawn from the whole data set encode to N(0, I), std 1; a "
                 "picked region of it encodes to a region of N(0, I).")
    errors, bar = {}, st.empty()
    usable = [score] + [s for s in scores if s in ("exact", "pretrained") and s != score]
    with layout.friendly_errors("invert at every step count"):
        for j, sc in enumerate(usable):
            errors[score_name(sc)] = (sc, [])
            for i, steps in enumerate(options):
                errors[score_name(sc)][1].append(float(fr.inversion(data, sched, sc, picks, steps)["error"].mean()))
                bar.progress((j * len(options) + i + 1) / (len(usable) * len(options)), text="Round trips…")
    bar.empty()
    layout.chart(st, ff.error_curves(options, errors, n), width="stretch", key="inv_curve")
    st.caption(f"Encode: the ODE from t = 0 up to t = T ({sched.label()}, Heun steps); decode: back down on the same "
               f"levels. {trend(errors[score_name(score)][1], options, len(picks), score)} "
               "DDPM cannot do this: its fresh noise makes x_T → x_0 a different draw every time.")


# --- likelihood ------------------------------------------------------------------------------------------------
def likelihood(data: DataChoice, sched: ScheduleChoice, score: str, scores: dict[str, str]) -> None:
    n = int(state.choice("ODE steps", "ll_steps", list(fr.LIKELIHOOD_STEPS), 50, widget="select_slider"))
    mix = fr.mixture_of(data)
    usable = [s for s in scores if s != "exact" or mix is not None]
    if not usable:
        st.warning("This set has no density formula and no network here (the word set's network knows "
                   "'DIFFUSION'): pick the 8 Gaussians or another set.")
        return
    if mix is None:
        st.info("This set has no density formula: its exact score is that of a 1,000-point sample, whose density is "
                "a spike at each point. The likelihood is shown for the networks; the 8 Gaussians also show the true "
                "density and the exact score's.")
    maps = {}
    with layout.friendly_errors("compute the likelihood"):
        if mix is not None:
            maps["true log density"] = fr.true_grid(data)
        for sc in usable:
            maps[f"{score_name(sc)}, {n} steps"] = fr.likelihood_grid(data, sched, sc, n)
    top = max(float(np.nanmax(g)) for g in maps.values())
    for col, (title, grid) in zip(st.columns(len(maps)), maps.items()):
        layout.chart(col, ff.density_map(grid, fr.EXTENT, title, top - 12, top), width="stretch", key=f"ll_{title[:8]}")
    curves, bar = {}, st.empty()
    with layout.friendly_errors("compute the likelihood against steps"):
        for j, sc in enumerate(usable):
            curves[score_name(sc)] = (sc, [])
            for i, steps in enumerate(fr.LIKELIHOOD_STEPS):
                curves[score_name(sc)][1].append(fr.held_out_ll(data, sched, sc, steps))
                bar.progress((j * len(fr.LIKELIHOOD_STEPS) + i + 1) / (len(usable) * len(fr.LIKELIHOOD_STEPS)),
                             text="Likelihood of held-out data…")
    bar.empty()
    true = fr.true_held_out_ll(data)
    layout.chart(st, ff.likelihood_curves(fr.LIKELIHOOD_STEPS, curves, true, n), width="stretch", key="ll_curve")
    at = fr.LIKELIHOOD_STEPS.index(n)
    said = ", ".join(f"{name} {v[at]:.3f}" for name, (_, v) in curves.items())
    st.caption(f"log p(x₀) through the PF-ODE: x₀ is carried up the noise levels (σ from 0 to σ_T, or to 1,000 where "
               f"σ_T is larger: there the noised data's variance is 1 to within a few millionths) while the divergence of the ODE's field "
               f"(exact, by autograd) is integrated; the prior N(0, I) scores where it lands. {fr.N_HELD_OUT:,} "
               f"held-out points, nats per point at {n} steps: {said}"
               + (f"; the true density gives {true:.3f}." if true is not None else ".")
               + f" Grid {fr.PIXELS} × {fr.PIXELS}, colours clipped 12 nats below the highest value.")


# --- flow matching beside diffusion -----------------------------------------------------------------------------
def flow_matching(data: DataChoice, sched: ScheduleChoice, score: str, scores: dict[str, str]) -> None:
    T = sched.T
    why_not = fr.flow_available(data)
    if why_not is None:
        try:
            fr.flow_network(data.name)
        except ValueError as err:
            why_not = str(err)
    if why_not is not None:
        st.warning(f"No flow network for this data set: {why_not}. Pick another data set"
                   + (" or type DIFFUSION." if data.name == "word" else "."))
        return
    c1, c2 = st.columns([2, 1])
    n = int(state.choice("Steps", "fl_steps", list(fr.FLOW_STEPS), 8, where=c1, widget="select_slider"))
    with_reflow = state.toggle("Reflow the flow network", "reflow", False, where=c2,
                               help=f"Pairs {fr.REFLOW['n_pairs']:,} noise draws with where the network's ODE takes "
                                    f"them and trains a copy on the pairs ({fr.REFLOW['steps']:,} steps; "
                                    + (f"it took {fr.reflowed(data.name)['seconds']:.1f} s on this server" if
                                       fr.reflow_ready(data.name) else "a bar shows its progress")
                                    + "; done once and shared by everyone on this server).")
    if with_reflow and not fr.reflow_ready(data.name):
        bar = st.progress(0.0, text="Reflow: making the pairs…")
        fr.reflowed(data.name, progress=lambda step, loss: bar.progress(
            step / fr.REFLOW["steps"], text=f"Reflow: step {step:,} of {fr.REFLOW['steps']:,}, loss {loss:.4f}"),
            on_wait=lambda ahead: bar.progress(0.0, text=f"Reflow queued: {ahead} computation(s) ahead…"))
        bar.empty()
    models = fr.flow_models(score, with_reflow)
    with layout.friendly_errors("sample the flows"):
        for col, (name, (_, key)) in zip(st.columns(len(models)), models.items()):
            p = fr.flow_point(data, sched, key, n)
            layout.chart(col, fr.flow_figure(data, sched, key, n, name), width="stretch", key=f"fl_{key}")
            col.metric("straightness (median)", shown(p["straightness"]), help="Path length / end-to-end distance "
                       "of the path drawn with these steps: 1 for a straight line, and 1 by construction at 1 step.")
            col.metric("SW to the data", shown(p["sw"]))
        curve_models = dict(models)
        curve_models["flow matching (Heun: 2n − 1 evaluations for n steps)"] = ("flow_heun", "flow_heun")
        sw, bar = {}, st.empty()
        for j, (name, (color, key)) in enumerate(curve_models.items()):
            usable = [k for k in fr.FLOW_STEPS if k <= T or not key.startswith("ode:")]
            sw[name] = (color, [fr.flow_point(data, sched, key, k)["sw"] for k in usable])
            bar.progress((j + 1) / len(curve_models), text="Every model at every step count…")
        bar.empty()
        fine = fr.FLOW_STEPS[-1]
        finest = {name: fr.flow_point(data, sched, key, fine) for name, (_, key) in models.items()}
        straight = {name: (color, finest[name]["straight_all"]) for name, (color, _) in models.items()}
    floor = trr.floor(data)["sw"]
    for col, fig, key in zip(st.columns(2), (ff.quality_curves(fr.FLOW_STEPS, sw, floor),
                                             ff.straightness_histograms(straight, f"{fine} steps" if fine <= T else
                                                                        f"{fine} steps; the diffusion's ODE {T}")),
                             ("fl_sw", "fl_straight")):
        layout.chart(col, fig, width="stretch", key=key)
    one = {name: v[1][0] for name, v in sw.items()}
    medians = {name: shown(float(np.median(v[1])) if np.isfinite(v[1]).all() else np.nan) for name, v in straight.items()}
    words = [f"From the same x₁ ({data.n:,} points). In one step: " + ", ".join(f"{k} SW {shown(v)}" for k, v in one.items())
             + f" (two data samples: {floor:.3f}).",
             "Median straightness of the finest paths: " + ", ".join(f"{k} {medians[k]} ({finest[k]['steps']} steps)"
                                                                     for k in medians) + "."]
    st.caption(" ".join(words) + " Straightness 1 is a straight path; at constant speed one Euler step follows it "
               "exactly, and reflow comes close. Flow matching's paths are straight only between each pair (x₀, x₁) it "
               "was trained on, not along the flow of the whole distribution, until reflow pairs each x₁ with the point "
               "its own flow reaches.")


VIEWS = {"sde": sde_and_ode, "inversion": inversion, "likelihood": likelihood, "flow": flow_matching}
