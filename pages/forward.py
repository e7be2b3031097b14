"""Forward noising: watch q(x_t | x_0) turn data into N(0, I), step by step and in one jump."""
import math

import numpy as np
import streamlit as st

from explorer.draw import figures
from explorer.ui.views import cloud_figures as cf, runs
from explorer.ui import controls, layout, state
from explorer.ui.settings import DataChoice, ScheduleChoice

layout.header(
    "Forward noising",
    "Each step shrinks the points a little and adds Gaussian noise: "
    "$x_t = \\sqrt{1-\\beta_t}\\,x_{t-1} + \\sqrt{\\beta_t}\\,\\eta_t$. "
    "Press ▶ to play the chain, or pick a step with the **t** slider below to inspect it.")

st.sidebar.header("Data")
data = controls.data_controls()
st.sidebar.header("Schedule")
sched = controls.schedule_controls()

with layout.friendly_errors("build this schedule"):
    run = runs.forward_run(data, sched)


T = sched.T
ts = np.arange(T + 1)
left, right = st.columns([3, 2], gap="large")
with left:
    layout.chart(st, cf.forward_animation(data, sched), width="stretch", key="forward_animation")
    if data.n > runs.ANIMATION_POINTS:
        st.caption(f"The animation draws the first {runs.ANIMATION_POINTS} of {data.n} points; "
                   "the inspection below uses them all.")
with right:
    layout.chart(st, figures.lines(
        ts, {"measured Var(x_t)": (run["var"], dict(color=figures.STATE, width=2.5)),
             "1 + (σ₀² − 1)ᾱ_t": (1 + (run["sigma0_sq"] - 1) * run["alpha_bar"],
                                  dict(color=figures.INK, dash="dash", width=1.5))},
        "Variance of x_t over time", "t", "Var per coordinate", height=330),
        width="stretch", key="forward_variance")
    st.caption(f"Var(x_t) is the per-coordinate variance over all points; the data have σ₀² = "
               f"{run['sigma0_sq']:.3f}. It equals 1 + (σ₀² − 1)ᾱ_t for *any* schedule, so it is constant "
               "only when σ₀² = 1.")
    c1, c2 = st.columns(2)
    c1.metric("ᾱ_T", f"{run['alpha_bar'][-1]:.3g}", help="Signal power left at the last step.")
    c2.metric("Var(x_T), measured", f"{run['var'][-1]:.3f}")


@layout.live_fragment
def inspect_step(data: DataChoice, sched: ScheduleChoice, run: dict) -> None:
    """Everything that depends on the inspected step t: moving t reruns only this part."""
    st.subheader("One step in detail")
    T = sched.T
    t = state.slider("t: the step to inspect", "t", 0, T, min(T, max(T // 4, 1)))
    beta_t, ab = float(run["beta"][t]), float(run["alpha_bar"][t])
    jump = runs.closed_form_at(data, sched, t)
    a, b = st.columns([3, 2], gap="large")
    with a:
        layout.chart(st, cf.chain_and_jump(data, sched, t), width="stretch", key="forward_snapshot")
    with b:
        st.markdown("**One step** (DDPM eq. 2) and **the jump from x₀** (DDPM eq. 4), with this t's numbers:")
        one_step = (rf"x_{{{t}}} &= {math.sqrt(1 - beta_t):.4f}\,x_{{{t - 1}}} + {math.sqrt(beta_t):.4f}\,\eta_{{{t}}}"
                    if t else r"x_0 &= \text{the data}")
        st.latex(rf"""\begin{{aligned}}{one_step} \\
            x_{{{t}}} &= \sqrt{{\bar\alpha_{{{t}}}}}\,x_0 + \sqrt{{1-\bar\alpha_{{{t}}}}}\,\varepsilon \\
            &= {math.sqrt(ab):.4f}\,x_0 + {math.sqrt(1 - ab):.4f}\,\varepsilon \end{{aligned}}""")
        c1, c2 = st.columns(2)
        c1.metric("β_t", f"{beta_t:.4g}")
        c2.metric("ᾱ_t", f"{ab:.4g}")
        c1.metric("signal √ᾱ_t", f"{math.sqrt(ab):.4f}")
        c2.metric("noise √(1−ᾱ_t)", f"{math.sqrt(1 - ab):.4f}")
        c1.metric("Var(x_t), measured", f"{run['var'][t]:.4f}")
        c2.metric("Var(x_t), theory", f"{1 + (run['sigma0_sq'] - 1) * ab:.4f}",
                  help=f"1 + (σ₀² − 1)ᾱ_t with the data's variance σ₀² = {run['sigma0_sq']:.4f} per coordinate.")
        c1.metric("SW, chain ↔ jump", f"{jump['sw_chain_vs_jump']:.4f}",
                  help="Sliced Wasserstein distance between the two point clouds at this t.")
        c2.metric("SW, two jumps", f"{jump['sw_floor']:.4f}",
                  help="Sliced Wasserstein distance between two independent jumps: the distance sampling noise alone "
                       "gives with this many points. It is a level, not a bound: "
                       "the chain's distance scatters around it, a little above or below.")
        st.caption("The step-by-step chain and the one-jump closed form are the same distribution: their distance "
                   "is of the size of that between two independent jumps (either can be the larger).")


inspect_step(data, sched, run)

layout.footer()
