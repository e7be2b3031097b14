"""Overview: diffusion in one screen, the map of pages, the device in use."""
import streamlit as st

from explorer.figures import chain_diagram
from explorer.ui import layout, state


layout.header(
    "Diffusion Explorer",
    "A diffusion model learns to **undo noise**. The *forward* process blurs data into pure "
    "Gaussian noise over T small steps; the *reverse* process starts from noise and, guided by "
    "the **score** ∇log q_t(x) (the direction in which data become more likely), walks back to data. "
    "Move the slider: on the left the data dissolve, on the right fresh samples condense out of noise.")
st.plotly_chart(chain_diagram(), width="stretch", key="chain_diagram", config={"staticPlot": True})
# The text, the diagram (plotly only) and the map reach the browser before the torch-based
# teaser is computed, so Chromium loads the chart library while the server imports torch.
teaser = st.container()

st.subheader("Where to go next")
PAGES = [
    ("forward.py", "Forward noising", "Animate x_t over t for any data set and schedule; the step-by-step "
                                      "chain against the closed-form jump, with the numbers of each step."),
    ("schedules.py", "Noise schedules", "Compare the five β schedules, check whether x_T is really pure noise, "
                                        "and put the source text's claims about β and T to the test."),
    ("reverse.py", "Reverse sampling", "DDPM, DDIM and annealed Langevin from the same noise: scrub through the "
                                       "steps, watch x̂₀ and the distance to the data."),
    ("score.py", "Score & Langevin", "The score field at any noise level, and Langevin dynamics with your own "
                                     "step size α — including what happens when it is too large."),
]
cols = st.columns(2)
for i, (page, title, text) in enumerate(PAGES):
    with cols[i % 2].container(border=True):
        if (layout.PAGES_DIR / page).exists():
            st.page_link(str(layout.PAGES_DIR / page), label=f"**{title}**", icon=":material/arrow_forward:")
        else:
            st.markdown(f"**{title}** (coming soon)")
        st.caption(text)

with teaser:
    from explorer import figures
    from explorer.ui import cache, controls

    TEASER_DATA = controls.DataChoice("eight_gaussians", 1000, 0)
    TEASER_SCHEDULE = controls.ScheduleChoice("cosine", 100, ())
    fwd = cache.forward_run(TEASER_DATA, TEASER_SCHEDULE)
    rev = cache.reverse_run(TEASER_DATA, TEASER_SCHEDULE, cache.ReverseChoice("ddpm"))
    t = state.slider("Noise level: step t of T = 100 (cosine schedule)", "teaser_t", 0, 100, 15)
    i_rev = int(list(rev["times"]).index(t))
    left, right = st.columns(2, gap="large")
    with left:
        st.plotly_chart(figures.cloud_snapshot([(fwd["traj"][t], figures.DATA, f"x_{t}")],
                                               f"Forward: data noised to t = {t}", height=480),
                        width="stretch", key="teaser_forward")
    with right:
        st.plotly_chart(figures.cloud_snapshot([(rev["xs"][i_rev], figures.STATE, f"x_{t}")],
                                               f"Reverse: DDPM from noise, now at t = {t}", height=480),
                        width="stretch", key="teaser_reverse")
    st.caption(f"ᾱ_{t} = {fwd['alpha_bar'][t]:.3f}: the share of the data's signal power left at this step. "
               "Both panels at the same t show the same distribution q_t — one reached from data, "
               "one from noise.")

st.info(f"Computing on **{layout.device_label()}**. Sampling runs on the GPU when one is present, "
        "otherwise on the CPU.", icon=":material/memory:")

layout.footer()
