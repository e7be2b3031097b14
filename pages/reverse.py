"""Reverse sampling: DDPM, DDIM and annealed Langevin from noise back to data, step by step."""
import numpy as np
import streamlit as st

from explorer.ui.views import cloud_figures as cf, runs
from explorer.ui import controls, layout, sources, state
from explorer.ui.settings import DataChoice, ReverseChoice, ScheduleChoice


layout.header(
    "Reverse sampling",
    "Start from pure noise x_T ~ N(0, I) and let a sampler walk back to data, guided by the score of the "
    "data set — exact, or learned by a network. Scrub through every stored step, compare x_t with the model's current guess "
    "x̂₀ = (x_t − √(1−ᾱ_t) ε̂)/√ᾱ_t, and turn on **A/B** to run two samplers — or exact beside learned — "
    "from the same x_T.")

st.sidebar.header("Data")
data = controls.data_controls(default="eight_gaussians")
if data.name != "eight_gaussians":
    st.sidebar.caption(f"The exact score of this set is that of a {sources.EXACT_REFERENCE_UI}-point sample "
                       "(EmpiricalData): it reproduces — memorises — those points.")
st.sidebar.header("Schedule")
sched = controls.schedule_controls(default_kind="linear", default_T=1000)
scores = sources.score_options(data)
st.sidebar.header("Sampler A")
rev_a = controls.sampler_controls(sched, scores=scores)
ab_mode = state.toggle("A/B: compare with a second sampler", "ab", False, where=st.sidebar,
                       help="Two samplers — or the same sampler with the exact and a learned score — "
                            "side by side from the same x_T.")
choices = {"A": rev_a}
if ab_mode:
    st.sidebar.header("Sampler B")
    learned = next((k for k in scores if k != "exact"), "exact")
    choices["B"] = controls.sampler_controls(sched, prefix="b_", scores=scores, default_score=learned)

results = {name: runs.reverse_run_shown(data, sched, rev, name) for name, rev in choices.items()}


def index_for(res: dict, fraction: float) -> int:
    """The stored step the same fraction of the way through a run."""
    return int(round(fraction * cf.stored_steps(res)))


def nudge(d: int, last: int) -> None:
    st.session_state["step"] = int(np.clip(st.session_state.get("step", last) + d, 0, last))


@layout.live_fragment
def scrub(data: DataChoice, sched: ScheduleChoice, choices: dict[str, ReverseChoice], results: dict[str, dict]) -> None:
    """The stored steps, one at a time: moving the step reruns only this part of the page."""
    res_a = results["A"]
    K = cf.stored_steps(res_a)
    if st.session_state.get("step", 0) > K:
        st.session_state["step"] = K
    c_prev, c_slider, c_next = st.columns([1, 12, 1], vertical_alignment="bottom")
    c_prev.button("◀", on_click=nudge, args=(-1, K), help="One step back", key="prev", width="stretch")
    c_next.button("▶", on_click=nudge, args=(1, K), help="One step forward", key="next", width="stretch")
    with c_slider:
        k = state.slider("Step of the reverse run (0 = pure noise x_T)", "step", 0, K, K)
    fraction = k / max(K, 1)
    cols = st.columns(2, gap="large")
    if len(results) == 1:
        t = int(res_a["times"][k])
        layout.chart(cols[0], cf.state_cloud(data, sched, choices["A"], k, f"x_t at t = {t} (step {k} of {K})"),
                             width="stretch", key="rev_xt")
        layout.chart(cols[1], cf.estimate_cloud(data, sched, choices["A"], k), width="stretch", key="rev_x0")
    else:
        for col, (name, res) in zip(cols, results.items()):
            i = index_for(res, fraction)
            layout.chart(col, cf.state_cloud(data, sched, choices[name], i,
                                         f"{name}: {choices[name].label()} — t = {int(res['times'][i])}"),
                             width="stretch", key=f"rev_xt_{name}")
    left, right = st.columns([3, 2], gap="large")
    with left:
        layout.chart(st, cf.distance_curves(data, sched, tuple(choices.items()), fraction), width="stretch", key="rev_sw")
    with right:
        for name, res in results.items():
            final = res["sw"][-1] if len(res["sw"]) else float("nan")
            st.metric(f"SW to data, {name}", f"{final:.4f}", help="At the end of the run (or where it stopped).")
        st.metric("SW between two data samples", f"{res_a['sw_floor']:.4f}",
                  help="The distance between two independent samples of the data of this size: the level that "
                       "sampling noise alone gives. It is not a lower bound: a run can land below it by chance.")


scrub(data, sched, choices, results)


st.subheader("The whole run, played in the browser")
a_col, c_col = st.columns([3, 2], gap="large")
with a_col:
    layout.chart(st, cf.reverse_animation(data, sched, rev_a), width="stretch", key="rev_anim")
with c_col:
    st.caption("Press ▶ Play to watch sampler A carry the noise to the data, frame by frame, "
               "without asking the server again. The slider under the chart jumps to any stored step. "
               f"Clouds draw {cf.DRAWN} of the points; the distances use all of them.")

layout.footer()
