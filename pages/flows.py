"""Flows & ODEs: the same noise through the SDE and the ODE, inversion, likelihood, flow matching and reflow."""
import streamlit as st

from explorer.ui import controls, layout, sources, state
from explorer.ui.views import flow_views

SECTIONS = {"sde": "SDE and ODE", "inversion": "Inversion", "likelihood": "Likelihood", "flow": "Flow matching"}

layout.header(
    "Flows & ODEs",
    "DDPM's reverse process is a discretisation of a stochastic differential equation; the same marginals q_t are "
    "also reached by a "
    "deterministic **probability-flow ODE** (Song et al. 2021), which DDIM with η = 0 and Heun's method solve. "
    "A deterministic map from noise to data can be run backwards (**inversion**) and gives the **likelihood** by an "
    "exact formula (the instantaneous change of variables), accurate once the ODE solver has converged. **Flow matching** (Lipman et al. 2023; Liu et al. 2023) learns such a map directly, as a "
    "velocity field from noise x₁ to data x₀ — and **reflow** straightens its paths.")

st.sidebar.header("Data")
data = controls.data_controls(default="eight_gaussians", n_default=1000, n_max=2000)
st.sidebar.header("Schedule and score")
sched = controls.schedule_controls(default_kind="linear", default_T=1000, T_max=1000)
with layout.friendly_errors("build this schedule"):
    sched.build()
scores = sources.score_options(data)
score = state.choice("Score", "score", list(scores), "exact", where=st.sidebar, widget="radio", horizontal=True,
                     format_func=scores.get, help=controls.EXACT_HELP + " **pretrained network**: the ε network shipped in "
                     f"pretrained/ ({controls.CLIP_NOTE}, as do inversion and the likelihood). **your network**: "
                     "trained on the Train your own page in this session.")
section = state.choice("Show", "view", list(SECTIONS), "sde", widget="radio", horizontal=True,
                       format_func=SECTIONS.get, label_visibility="collapsed")

with layout.friendly_errors("show this view"):
    flow_views.VIEWS[section or "sde"](data, sched, score, scores)

layout.footer()
