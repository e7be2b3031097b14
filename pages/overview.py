"""Overview: diffusion in one screen, the map of pages, the device in use."""
import streamlit as st

from explorer.figures import chain_diagram_svg
from explorer.ui import layout, state


layout.header(
    "Diffusion Explorer",
    "A diffusion model learns to **undo noise**. The *forward* process blurs data into pure "
    "Gaussian noise over T small steps; the *reverse* process starts from noise and, guided by "
    "the **score** ∇log q_t(x) (the direction in which data become more likely), walks back to data. "
    "Move the slider: on the left the data dissolve, on the right fresh samples condense out of noise.")
st.image(chain_diagram_svg(), width="stretch")
# The text, the diagram (inline SVG) and the map reach the browser before the torch-based
# teaser is computed; the teaser is two server-drawn pictures, so the first page needs no chart
# library at all (Plotly's bundle costs Chromium ≈ 2 s on a 2-core machine).
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
    ("images.py", "Images", "Digits noised and sampled, memorisation made visible, inpainting, variations — "
                            "and your own picture dissolving into noise."),
    ("train.py", "Train your own", "Train the 2D network live on any data set, a word you type or your own "
                                   "points, then sample with it on the other pages."),
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
    loading = st.empty()
    loading.caption(":material/hourglass_top: Preparing the live demo: forward noising and DDPM sampling of 1,000 points…")
    from explorer import figures
    from explorer.ui import cache, controls

    TEASER_DATA = controls.DataChoice("eight_gaussians", 1000, 0)
    TEASER_SCHEDULE = controls.ScheduleChoice("cosine", 100, ())

    @st.cache_resource(show_spinner=False)
    def teaser_reverse():
        """DDPM with the exact mixture score from x_T ~ N(0, I): {t: x_t} for t = T..0."""
        import torch

        from explorer.samplers import collect, ddpm_sample

        g = torch.Generator().manual_seed(3000)
        x_T = torch.randn(TEASER_DATA.n, 2, generator=g)
        times, xs, _, _ = collect(ddpm_sample(cache.exact_model(TEASER_DATA.name, TEASER_DATA.word),
                                              TEASER_SCHEDULE.build(), x_T, generator=g))
        return {TEASER_SCHEDULE.T: x_T.numpy(), **{t: x.numpy() for t, x in zip(times, xs)}}

    @st.cache_data(max_entries=202, show_spinner=False)
    def teaser_pictures(t: int) -> tuple[bytes, bytes]:
        fwd = cache.forward_run(TEASER_DATA, TEASER_SCHEDULE)
        return (figures.cloud_png(fwd["traj"][t], figures.DATA, f"Forward: data noised to t = {t}"),
                figures.cloud_png(teaser_reverse()[t], figures.STATE, f"Reverse: DDPM from noise, now at t = {t}"))

    t = state.slider("Noise level: step t of T = 100 (cosine schedule)", "teaser_t", 0, 100, 15)
    fwd = cache.forward_run(TEASER_DATA, TEASER_SCHEDULE)
    left, right = st.columns(2, gap="large")
    forward_png, reverse_png = teaser_pictures(int(t))
    loading.empty()
    left.image(forward_png, width="stretch")
    right.image(reverse_png, width="stretch")
    st.caption(f"ᾱ_{t} = {fwd['alpha_bar'][t]:.3f}: the share of the data's signal power left at this step. "
               "Both panels at the same t show the same distribution q_t — one reached from data, "
               "one from noise.")

st.info(f"Computing on **{layout.device_label()}**. Sampling runs on the GPU when one is present, "
        "otherwise on the CPU.", icon=":material/memory:")

layout.footer(divider=False)
