"""Overview: diffusion in one screen, the map of pages, the device in use."""
import streamlit as st

from explorer.draw.diagram import chain_diagram_svg
from explorer.ui import layout, state

TEASER_POINTS = 1000
# The teaser's pictures are 480 px wide and shown at least ~570 px wide in presenter mode (half of a 1280 px
# screen): 14 px ticks there read ≥ 16 px on screen, the presenter's minimum for chart text.
TEASER_TEXT_PX = {False: 11, True: 14}

layout.header(
    "Diffusion Explorer",
    "A diffusion model learns to **undo noise**. The *forward* process blurs data into pure "
    "Gaussian noise over T small steps; the *reverse* process starts from noise and, guided by "
    "the **score** ∇log q_t(x) (the direction in which data become more likely), walks back to data. "
    "Move the slider: on the left the data dissolve, on the right fresh samples condense out of noise.")
st.image(chain_diagram_svg(), width="stretch", alt="Diagram: the forward chain x₀ → x₁ → … → x_T adds noise, "
         "q(x_t | x_{t−1}); the reverse chain p(x_{t−1} | x_t) removes it, guided by the score.")
# The text, the diagram (inline SVG) and the map reach the browser before the torch-based
# teaser is computed; the teaser is two server-drawn pictures, so the first page needs no chart
# library at all (Plotly's bundle costs Chromium ≈ 2 s on a 2-core machine).
teaser = st.container()

st.subheader("Where to go next")
cols = st.columns(2)
for i, page in enumerate(layout.PAGES[1:]):
    with cols[i % 2].container(border=True):
        st.page_link(str(layout.PAGES_DIR / page.file), label=f"**{page.title}**", icon=":material/arrow_forward:")
        st.caption(page.summary)

with teaser:
    loading = st.empty()
    loading.caption(":material/hourglass_top: Preparing the live demo: forward noising and DDPM sampling of "
                    f"{TEASER_POINTS:,} points…")
    import numpy as np

    from explorer.draw import palette, rasters
    from explorer.ui.views import runs
    from explorer.ui.settings import DataChoice, ReverseChoice, ScheduleChoice

    TEASER_DATA = DataChoice("eight_gaussians", TEASER_POINTS, 0)
    TEASER_SCHEDULE = ScheduleChoice("cosine", 100)
    TEASER_SAMPLER = ReverseChoice.make("ddpm")  # with the exact mixture score

    @st.cache_data(max_entries=202, show_spinner=False)
    def teaser_pictures(t: int, text_px: int) -> tuple[bytes, bytes]:
        fwd = runs.forward_run(TEASER_DATA, TEASER_SCHEDULE)
        rev = runs.reverse_run(TEASER_DATA, TEASER_SCHEDULE, TEASER_SAMPLER)  # stored from t = T down to 0
        return (rasters.cloud_png(fwd["traj"][t], palette.DATA, f"Forward: data noised to t = {t}", text_px=text_px),
                rasters.cloud_png(rev["xs"][TEASER_SCHEDULE.T - t].astype(np.float32), palette.STATE,
                                  f"Reverse: DDPM from noise, now at t = {t}", text_px=text_px))

    @st.cache_data(max_entries=202, show_spinner=False)
    def teaser_distances(t: int) -> tuple[float, float]:
        """SW between the two panels at t, and between two independent forward samples at t."""
        return runs.forward_reverse_distance(TEASER_DATA, TEASER_SCHEDULE, TEASER_SAMPLER, t)

    t = state.slider(f"Noise level: step t of T = {TEASER_SCHEDULE.T} ({TEASER_SCHEDULE.kind} schedule)", "teaser_t",
                     0, TEASER_SCHEDULE.T, 15)
    fwd = runs.forward_run(TEASER_DATA, TEASER_SCHEDULE)
    left, right = st.columns(2, gap="large")
    forward_png, reverse_png = teaser_pictures(int(t), TEASER_TEXT_PX[layout.presenting()])
    loading.empty()
    left.image(forward_png, width="stretch", alt=f"Scatter plot: the eight-Gaussians data noised to step t = {t}")
    right.image(reverse_png, width="stretch", alt=f"Scatter plot: DDPM samples from noise, now at step t = {t}")
    between, two_samples = teaser_distances(int(t))
    st.caption(f"ᾱ_{t} = {fwd['alpha_bar'][t]:.3f}: the share of the data's signal power left at this step. "
               "Both panels at the same t show samples of q_t — one reached from data, one from noise, up to "
               f"the error of DDPM's {TEASER_SCHEDULE.T} steps: their sliced-Wasserstein distance is {between:.3f}, "
               f"against {two_samples:.3f} between two independent forward samples.")

st.info(f"Computing on **{layout.device_label()}**. Sampling runs on the GPU when one is present, "
        "otherwise on the CPU.", icon=":material/memory:")

layout.footer(divider=False)
