"""Guidance: class-conditional 2D data and classifier-free guidance on a live slider."""
import math

import numpy as np
import streamlit as st

from explorer.draw import guidance_figures as gf
from explorer.data.datasets import LABELLED_2D, class_names
from explorer.ui import controls, layout, state
from explorer.ui.views import guidance_runs as gr

layout.header(
    "Guidance",
    "Every image generator has a *guidance scale*. Classifier-free guidance mixes a conditional and an unconditional "
    "model: $\\hat\\varepsilon = \\varepsilon_u + w\\,(\\varepsilon_c - \\varepsilon_u)$. With $w = 1$ it is the "
    "conditional model, with $w = 0$ the unconditional one; $w > 1$ pushes past the class. Here ε_c and ε_u are the "
    "**exact** scores of labelled toy sets (a class per mixture component, moon, colour or letter), beside a "
    "conditional network trained on them, so what guidance does to the distribution can be measured.")

st.sidebar.header("Data")
name = state.choice("Labelled data set", "data", list(LABELLED_2D), "eight_gaussians", where=st.sidebar,
                    format_func=lambda k: controls.PRETTY.get(k, k),
                    help="Sets with classes: the 8 Gaussians (a class per component), two moons (a class per moon), "
                         "the checkerboard (two colours) and the word (a class per letter).")
seed = state.slider("Seed", "seed", 0, 99, 0, where=st.sidebar, help="The same x_T for every scale.")
st.sidebar.header("Schedule")
sched = controls.schedule_controls(default_kind="linear", default_T=1000, T_max=1000)
with layout.friendly_errors("build this schedule"):
    sched.build()

names = class_names(name)
c1, c2 = st.columns([1, 2])
label = state.choice("Class", "cls", list(range(len(names))), 0, where=c1, format_func=lambda i: names[i])
scale = float(state.slider("Guidance scale w", "scale", 0.0, 10.0, 3.0, step=0.5, where=c2,
                           help="0: unconditional, 1: conditional, above 1: guided past the class."))
T = sched.T
g1, g2 = st.columns(2)
g_hi = state.slider("Guide from t =", "g_hi", 1, T, T, where=g1, help="Guidance only while t is in the interval; "
                    "the conditional model elsewhere (Kynkäänniemi et al. 2024).")
g_lo = state.slider("… down to t =", "g_lo", 1, T, 1, where=g2)
if g_lo > g_hi:
    st.info(f"The interval is empty (from t = {g_hi} down to t = {g_lo}): showing guidance over the whole run.")
    g_lo, g_hi = 1, T
interval = (int(g_lo), int(g_hi))
whole = (1, T)


scores, why_not = gr.scores(name)
if why_not:
    st.info(f"The conditional network for this set cannot be loaded ({why_not}); the exact scores only.")
with layout.friendly_errors("sample with guidance"):
    guided = {sc: gr.guided_run(name, sched, scale, interval, seed, sc) for sc in scores}
for sc, run in guided.items():
    if run["diverged"]:
        st.warning(f"**The guided run ({gr.SCORES[sc]}) diverged.** {run['message']}", icon=":material/warning:")
for col, sc in zip(st.columns(2, gap="large"), scores):
    layout.chart(col, gr.clouds(name, sched, scale, interval, seed, label, sc), width="stretch", key=f"g_{sc}")
network_note = "" if "network" not in scores else (
    " Network: one conditional network, an unconditional MLP for ε_u with a small class head that adds ε_c − ε_u, "
    f"trained with the null label on {gr.network(name).net.config.p_uncond:.0%} of its examples; one pass per "
    "step gives both branches.")
st.caption(f"{gr.N_PER_CLASS} samples of every class, all from the same x_T; the chosen class drawn strong. "
           "Exact: each class's own exact score and the whole set's." + network_note)
m = st.columns(2 * len(scores))
for i, sc in enumerate(scores):
    q, q1 = gr.class_quality(name, sched, scale, interval, seed, sc), gr.class_quality(name, sched, 1.0, whole, seed, sc)
    m[2 * i].metric(f"precision of {names[label]}, {sc}", f"{q['precision'][label]:.3f}",
                    delta=f"{q['precision'][label] - q1['precision'][label]:+.3f} vs w = 1", delta_color="off",
                    help="Share of the class's guided samples inside its data's k-NN manifold (quality).")
    m[2 * i + 1].metric(f"recall of {names[label]}, {sc}", f"{q['recall'][label]:.3f}",
                        delta=f"{q['recall'][label] - q1['recall'][label]:+.3f} vs w = 1", delta_color="off",
                        help="Share of the class's data inside its samples' k-NN manifold (diversity).")
qw = gr.class_quality(name, sched, scale, interval, seed)

# --- the three fields -------------------------------------------------------------------------------------------
st.subheader("The fields at one noise level")
t = state.slider("t (noise level)", "g_t", 1, T, min(T, max(1, T // 20)))
fld = gr.fields_at(name, sched, label, scale, int(t))


for col, fig, key in zip(st.columns(3), gr.field_figures(name, sched, label, scale, int(t)), ("cond", "uncond", "guided")):
    layout.chart(col, fig, width="stretch", key=f"field_{key}")
norms = {k: np.linalg.norm(fld[k], axis=-1).mean() for k in ("cond", "uncond", "guided")}
st.caption(f"At t = {t} (ᾱ_t = {fld['alpha_bar']:.3g}), over log q_t of the whole set. Each panel's arrows are drawn to "
           f"its own scale; the scores' mean length on the arrow grid is {norms['cond']:.3g} for s_c, "
           f"{norms['uncond']:.3g} for s_u and {norms['guided']:.3g} for the guided field s_u + w(s_c − s_u).")

# --- what guidance does to the distribution ------------------------------------------------------------------------
st.subheader("What guidance does to the distribution")
with_network = "network" in scores and state.toggle(
    "Add the network's curves", "g_net_curves", False,
    help=f"Samples every class with the conditional network at all {len(gr.SCALES)} scales: one guided run per scale.")
slot, status = st.empty(), st.empty()
per_scale, net_scale = [], [] if with_network else None
with layout.friendly_errors("sample at every scale"):
    for i, w in enumerate(gr.SCALES):  # the curves grow scale by scale; every run is cached
        per_scale.append(gr.class_quality(name, sched, w, whole, seed))
        if with_network:
            net_scale.append(gr.class_quality(name, sched, w, whole, seed, "network"))
        if i < len(gr.SCALES) - 1:
            status.progress((i + 1) / len(gr.SCALES), text=f"Sampled {i + 1} of {len(gr.SCALES)} scales…")
status.empty()
layout.chart(slot, gf.quality_vs_scale(gr.SCALES, per_scale, label, names[label], net_scale), width="stretch",
                  key="g_scale")
p_zero, p_one, p_hi = (per_scale[gr.SCALES.index(w)]["precision"][label] for w in (0.0, 1.0, gr.SCALES[-1]))
r_one, r_hi = per_scale[gr.SCALES.index(1.0)]["recall"][label], per_scale[-1]["recall"][label]


def moved(before: float, after: float, up: str, down: str) -> str:
    """A change of precision or recall (a share of gr.N_PER_CLASS samples) in words: within two binomial standard
    errors of the difference it "barely moves"."""
    noise = 2 * math.sqrt((before * (1 - before) + after * (1 - after)) / gr.N_PER_CLASS)
    return "barely moves" if abs(after - before) <= noise else up if after > before else down


st.caption(f"For {names[label]}, against conditional sampling (w = 1): from w = 1 to w = {gr.SCALES[-1]:g} precision "
           f"goes {p_one:.2f} → {p_hi:.2f} (quality {moved(p_one, p_hi, 'rises', 'falls')}) and recall {r_one:.2f} → "
           f"{r_hi:.2f} (diversity {moved(r_one, r_hi, 'rises', 'falls')}). Unguided samples of the whole set (w = 0) "
           f"score precision {p_zero:.2f} for this class: the step from there to {p_one:.2f} is conditioning, not "
           "guidance.")
if name == "eight_gaussians":
    sh = gr.sharpened(name, sched, label, scale, seed)
    a, b = st.columns([3, 2], gap="large")
    layout.chart(a, gf.sharpened_figure(sh["logp"], sh["samples"], gr.EXTENT,
                                       f"p(x|c)·p(c|x)^(w−1) at w = {scale:g}, and the guided samples"),
                   width="stretch", key="g_sharp")
    b.metric("guided samples ↔ the sharpened density", f"{sh['sw']:.4f}",
             help=f"Sliced Wasserstein between the class's guided samples and a sample drawn from the sharpened "
                  f"density on the grid, averaged over {gr.NOISE_DRAWS} such samples.")
    b.metric("two samples of the sharpened density", f"{sh['sw_floor']:.4f} ± {sh['sw_floor_sd']:.4f}",
             help=f"Mean and standard deviation over {gr.NOISE_DRAWS} pairs of independent samples: sampling noise.")
    b.caption(f"Guidance pushes the class's samples toward p(x|c)^w p(x)^(1−w). The guided samples are "
              f"{sh['z']:+.1f} standard deviations of sampling noise from it: "
              + (f"within {gr.NOISE_Z:g}, they match it within sampling noise." if sh["z"] < gr.NOISE_Z else
                 f"more than {gr.NOISE_Z:g}, so they do not follow it: the guided score of the noised distributions is "
                 "not the score of a noised sharpened density.") + " At w = 1 the two coincide (p(x|c) itself).")
else:
    st.caption("The sharpened density p(x|c)·p(c|x)^(w−1) is computed exactly for the 8 Gaussians (a mixture): choose "
               "that set to compare it with the guided samples.")

# --- guidance on part of the run -------------------------------------------------------------------------------------
st.subheader("Guidance on part of the run")
if interval == whole:
    st.markdown("Narrow the interval above (e.g. guide only from t = T down to T/2) to see what guiding part of the "
                "run does.")
else:
    full = gr.class_quality(name, sched, scale, whole, seed)
    st.markdown(f"For {names[label]} at w = {scale:g}: guided over the whole run precision **{full['precision'][label]:.3f}**, "
                f"recall **{full['recall'][label]:.3f}**; guided only for t in [{interval[0]}, {interval[1]}] precision "
                f"**{qw['precision'][label]:.3f}**, recall **{qw['recall'][label]:.3f}**.")

layout.footer()
