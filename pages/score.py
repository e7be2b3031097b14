"""Score & Langevin: the field s_t(x) = ∇log q_t(x), and Langevin dynamics driven by it."""
import numpy as np
import streamlit as st

from explorer.ui import controls, layout, sources, state
from explorer.ui.views import fields, runs
from explorer.ui.settings import DataChoice, ScheduleChoice

layout.header(
    "Score & Langevin",
    "The **score** s_t(x) = ∇log q_t(x) points toward where noised data are more likely. "
    "Langevin dynamics follow it with a little noise: "
    "$x \\leftarrow x + \\alpha\\, s_t(x) + \\sqrt{2\\alpha}\\,\\zeta$. Pick a noise level, a step size α and "
    "a number of steps, and watch particles settle near q_t, spread wider by the step size, or blow up.")

st.sidebar.header("Data")
data = controls.data_controls(default="eight_gaussians")
st.sidebar.header("Schedule")
sched = controls.schedule_controls(default_kind="linear", default_T=1000)

st.sidebar.header("Score")
score_opts = sources.score_options(data)
controls.forget_gone_network("score", score_opts)
score = state.choice("Score s_t used below", "score", list(score_opts), "exact", where=st.sidebar, widget="radio",
                     format_func=score_opts.get,
                     help=f"{controls.EXACT_HELP} **pretrained network**: the ε network shipped with the explorer, "
                          "s = −ε̂/√(1−ᾱ_t). **your network**: one you trained on the Train your own page in this "
                          "session.")

with layout.friendly_errors("build this schedule"):
    sched.build()


@layout.live_fragment
def one_noise_level(data: DataChoice, sched: ScheduleChoice, score: str) -> None:
    """The field and Langevin at one level t: moving t, α or the steps reruns only this part."""
    T = sched.T
    # --- 1. the field at step t --------------------------------------------------------------
    st.subheader("The score field at step t")
    c_t, c_info = st.columns([3, 2], vertical_alignment="bottom")
    with c_t:
        t = state.slider("t (noise level)", "score_t", 1, T, min(T, max(1, T // 10)))
    field = fields.score_field_at(data, sched, t)
    with c_info:
        st.markdown(f"ᾱ_t = **{field['alpha_bar']:.4g}**, noise std √(1−ᾱ_t) = **{np.sqrt(1 - field['alpha_bar']):.3g}**")
    norms = np.linalg.norm(field["score"], axis=-1)
    layout.chart(st, fields.field_figure(data, sched, t), width="stretch", key="score_field")
    st.caption(f"Arrows are scaled to fit the grid (the longest is |s_t| = {norms.max():.2g} long); the blue shading "
               "is log q_t, the red dots are samples of x_t from the forward chain. The arrows point toward where q_t "
               "has mass and vanish at its peaks; as t grows q_t approaches N(0, I) and the field approaches its "
               "score, s = −x.")
    if score != "exact":
        with layout.friendly_errors("evaluate the learned score"):
            learned = fields.learned_field_at(data, sched, t, score)
            left, right = fields.comparison_figures(data, sched, t, score)
        c_l, c_r = st.columns(2, gap="large")
        layout.chart(c_l, left, width="stretch", key="score_learned")
        layout.chart(c_r, right, width="stretch", key="score_diff")
        judged = "the exact score" if learned["judge"] == "exact" else f"the score of {learned['judge']} of the set"
        st.metric("Relative squared error of the learned score where the data are", f"{learned['rel_error']:.3g}",
                  help=f"E‖s_learned − s‖² / E‖s‖² over samples of q_t, with s {judged}.")
        st.caption(fields.accuracy_sentence(learned, sources.EXACT_REFERENCE_UI))

    # --- 2. Langevin at a fixed noise level ----------------------------------------------------
    st.subheader("Langevin dynamics at this noise level")
    c1, c2 = st.columns(2)
    alpha = state.choice("Step size α (log scale)", "alpha", controls.ALPHA_GRID, 0.01, where=c1,
                         widget="select_slider", format_func=controls.beta_label)
    n_steps = state.slider("Number of Langevin steps", "n_steps", 10, 2000, 300, step=10, where=c2)
    with layout.friendly_errors("run Langevin"):
        lv = fields.langevin_at(data, sched, t, float(alpha), int(n_steps), score)
    if lv["diverged"]:
        st.warning(f"**α = {alpha:g} is too large: Langevin diverged.** {lv['message']} "
                   f"On a single Gaussian bump of variance v, Langevin is stable only while α < 2v; the narrowest "
                   f"bump of this q_t gives 2v ≈ {lv['limit']:.3g}. The pictures show the particles up to that step.",
                   icon=":material/warning:")
    elif alpha > lv["limit"]:
        why = ("the limit is exact for a single Gaussian, while in a mixture particles thrown out of one bump can be "
               "caught by the others" if score == "exact" else
               "the limit belongs to the exact q_t, while these particles follow the network's score, whose field "
               "differs from it")
        st.info(f"α = {alpha:g} is {alpha / lv['limit']:.2f} × the stability limit {lv['limit']:.3g} of q_t's "
                f"narrowest bump, yet the particles stayed finite for all {lv['steps_done']} steps: {why}. A larger "
                "α or more steps can still make it diverge.")
    left, right = st.columns([3, 2], gap="large")
    with left:
        layout.chart(st, fields.field_figure(data, sched, t, float(alpha), int(n_steps), score), width="stretch",
                        key="langevin_final")
    with right:
        m1, m2 = st.columns(2)
        m1.metric("Steps run", f"{lv['steps_done']}", help="Stops early if the particles diverge.")
        m2.metric("Stability limit for α", f"{lv['limit']:.3g}",
                  help="Twice the variance of the narrowest bump of q_t: a noised component of the 8 Gaussians, or, "
                       f"for a set scored from its {sources.EXACT_REFERENCE_UI:,}-point sample, one of the bumps of "
                       "variance 1 − ᾱ_t around those points. Exact for a single Gaussian.")
        layout.chart(st, fields.langevin_distance_figure(data, sched, t, float(alpha), int(n_steps), score), width="stretch",
                        key="langevin_sw")
        st.caption(fields.bias_sentence(float(alpha), lv))
    if state.toggle("▶ Show the particles' journey as an animation", "journey", False):
        layout.chart(st, fields.langevin_animation(data, sched, t, float(alpha), int(n_steps), score), width="stretch",
                        key="langevin_anim")

one_noise_level(data, sched, score)

# --- 3. annealed Langevin down the whole schedule --------------------------------------------
st.subheader("Annealed Langevin: from t = T down to 0")
st.markdown("One fixed noise level cannot take noise to data: the score is reliable only where q_t has mass. "
            "Annealing runs Langevin at every noise level from T down to 1; the NCSN rule shrinks α_t with the noise, "
            "a constant α does not.")
rev = controls.annealed_langevin_controls(score, st.columns(3))
res = runs.reverse_run_shown(data, sched, rev)
p1, p2 = st.columns([3, 2], gap="large")
with p1:
    layout.chart(st, fields.annealed_figure(data, sched, rev), width="stretch", key="annealed_final")
with p2:
    st.metric("SW to data", f"{res['sw'][-1]:.4f}" if len(res["sw"]) else "—")
    st.metric("SW between two data samples", f"{res['sw_floor']:.4f}")
    if rev.kwargs()["step_size"] == "ncsn":
        st.caption("With the NCSN rule α_t = ε(1−ᾱ_t)/(1−ᾱ₁) the step shrinks with the noise variance 1 − ᾱ_t, "
                   "which every bump of q_t has at least. " + controls.ncsn_bound_note(sched))
    else:
        st.caption("A constant α takes the same step at every noise level, however narrow q_t is there.")

layout.footer()
