"""The Images page's views of the digits: forward noising, reverse sampling beside its nearest training images,
inpainting (a mask chosen or painted) and variations. Each takes the page's schedule and digits settings; the runs
are cached in image_runs, the source text's other applications (super-resolution, sketch to digit) are in
image_apps, your own picture in picture_views."""
from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import streamlit as st

from explorer.data import images
from explorer.diffusion.schedules import frame_times
from explorer.draw import figures, rasters
from explorer.ui import layout, state
from explorer.ui.settings import DigitsChoice, ScheduleChoice
from explorer.ui.views import digit_sets as ds, image_runs as ir
from explorer.ui.views import image_apps
from explorer.ui.views.image_apps import show

WIDTH = images.GRID_WIDTH
SMALL_GRID = 16  # digits in the inpainting grid and in the nearest-neighbour pairs


def animation_block(gif: bytes, caption: str, text: str, filename: str, key: str, widths=(2, 3)) -> None:
    """A GIF shown beside its explanation, with a button to download it."""
    left, right = st.columns(list(widths), gap="large")
    left.image(gif, caption=caption, alt=f"Animation: {caption}")
    right.markdown(text)
    right.download_button("GIF of the animation", gif, filename, "image/gif", key=key, icon=":material/download:")


def grid_png(xs: np.ndarray, ncol: int) -> bytes:
    """A grid of digits as the PNG a download button offers."""
    return rasters.png_bytes(images.picture(images.grid(xs, ncol=ncol), WIDTH))


# --- forward -------------------------------------------------------------------------------------------
def forward_view(sched: ScheduleChoice, pick: DigitsChoice) -> None:
    s = sched.build()
    st.caption(f"Data: {ds.SETS[pick.data].label}.")
    with st.spinner("Noising the digits…"):
        fwd = ir.forward_digits(sched, pick)

    @layout.live_fragment
    def forward_frame(fwd: dict, T: int) -> None:
        t = state.slider("t", "img_t", 0, T, min(T, max(1, T // 5)))
        left, mid, right = st.columns([4, 5, 3], gap="large")
        with left:
            show(images.grid(fwd["xs"][t], ncol=fwd["ncol"]), f"x_t at t = {t}")
        with mid:
            layout.chart(st, figures.pixel_histogram(fwd["xs"][t].ravel(), f"Pixel values at t = {t}"), width="stretch",
                            key="img_hist")
            st.latex(r"x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1-\bar\alpha_t}\,\varepsilon")  # too wide for the right column
        with right:
            ab = float(fwd["alpha_bar"][t])
            st.metric("ᾱ_t", f"{ab:.4g}")
            st.metric("pixel mean, measured", f"{fwd['mean'][t]:.3f}",
                      help=f"Theory √ᾱ_t · mean(x_0) = {np.sqrt(ab) * fwd['mu0']:.3f}")
            st.metric("pixel std, measured", f"{fwd['std'][t]:.3f}",
                      help=f"Theory √(1 + (σ₀² − 1)ᾱ_t) = {np.sqrt(1 + (fwd['var0'] - 1) * ab):.3f} (σ₀² = "
                           f"{fwd['var0']:.3f}, the variance of all pixels of x_0 about their mean)")
            st.download_button("PNG of this grid", grid_png(fwd["xs"][t], fwd["ncol"]), f"digits_t{t}.png",
                               "image/png", key="dl_fwd_png", icon=":material/download:")

    forward_frame(fwd, s.T)
    st.subheader("The whole chain as an animation")
    animation_block(fwd["gif"], f"x_t for t = 0 … {s.T} ({len(frame_times(s.T, ir.GIF_FRAMES))} frames)",
                    "The digits dissolve into noise; the histogram of pixel values moves from the digits' "
                    "two bumps (background near −1, strokes near +1) to the bell curve of N(0, 1). When ᾱ_T is "
                    "not small — try a short constant schedule with a small β — the last frame still shows digits, "
                    "and sampling from N(0, I) at the end cannot work.", "digits_forward.gif", "dl_fwd_gif")


# --- reverse -------------------------------------------------------------------------------------------
FRAME_EVERY = 0.25  # seconds between the frames a running reverse run shows


def reverse_streamed(sched: ScheduleChoice, pick: DigitsChoice, score: str) -> dict:
    """ir.reverse_digits, showing while it runs a progress bar and x_t as it is now (every FRAME_EVERY seconds);
    both go when the run is done. A stored run shows at once."""
    if ir.reverse_digits_stored(sched, pick, score):
        return ir.reverse_digits(sched, pick, score)
    bar, frame = st.empty(), st.empty()
    last, done = [0.0], [0, 1]  # when the last frame was shown; steps done of how many

    def on_step(i: int, total: int, step) -> None:
        done[:] = i, total
        now = time.perf_counter()
        if now - last[0] < FRAME_EVERY and i < total:
            return
        last[0] = now
        bar.progress(i / total, text=f"DDPM: step {i} of {total} (t = {step.t})")
        x = step.x.detach().cpu().clamp(-1.5, 1.5).numpy()
        frame.image(images.picture(images.grid(x, ncol=ir.columns_for(len(x))), WIDTH), caption=f"x_t at t = {step.t}",
                    alt=f"The digits at t = {step.t}, while the reverse run goes on")

    def on_wait(ahead: int) -> None:
        runs = f"{ahead} other run{'s' if ahead != 1 else ''}"
        if done[0]:  # under way: it lets the runs other tabs started go first, then goes on
            bar.progress(done[0] / done[1], text=f"Step {done[0]} of {done[1]}: letting {runs} on this server go first…")
        else:
            bar.progress(0.0, text=f"Queued: {runs} on this server before this one…")
    try:
        return ir.reverse_digits(sched, pick, score, on_step, on_wait)
    finally:
        bar.empty()
        frame.empty()


def reverse_view(sched: ScheduleChoice, pick: DigitsChoice) -> None:
    digit_set = ds.SETS[pick.data]
    left, right = st.columns([3, 2], vertical_alignment="bottom")  # one row: the digits stay near the top
    right.caption(f"Data: {digit_set.label}.")
    names = digit_set.score_names()
    score = state.choice("Score", "img_score", list(names), "pretrained", widget="radio", where=left,
                         horizontal=True, format_func=names.get,
                         help="The exact score of the finite training set can only lead back to training "
                              "images: it memorises. The network generalises.")
    with layout.friendly_errors("sample digits"), st.spinner("Sampling the digits…"):
        rev = reverse_streamed(sched, pick, score)
    if rev["diverged"]:
        st.warning(f"The run diverged. {rev['message']}")

    @layout.live_fragment
    def reverse_frame(rev: dict) -> None:
        K = len(rev["times"]) - 1
        k = state.slider("Step of the reverse run (0 = pure noise)", "img_step", 0, K, K)
        t = int(rev["times"][k])
        left, right, info = st.columns([4, 4, 3], gap="large")
        with left:
            show(images.grid(rev["xs"][k], ncol=rev["ncol"]), f"x_t at t = {t} (step {k} of {K})")
        with right:
            show(images.grid(rev["x0s"][k], ncol=rev["ncol"]), figures.x0_title(k, t))
        with info:
            st.metric("Recognised as digits", f"{rev['recognised']:.0%}",
                      help=f"Share of final samples that {digit_set.classifier} labels with confidence ≥ "
                           f"{ds.confident(pick.data):g}.")
            st.metric("Classes present", f"{rev['classes']} of 10")
            st.metric("Copies of training images", f"{rev['copies']:.0%}",
                      help=f"Samples {digit_set.copy_rule}. A training digit's nearest other one is typically "
                           f"(median) {rev['spacing']:.2f} away.")
            st.download_button("PNG of this grid", grid_png(rev["xs"][k], rev["ncol"]), f"samples_step{k}.png",
                               "image/png", key="dl_rev_png", icon=":material/download:")

    reverse_frame(rev)
    st.subheader("Each sample beside its nearest training image")
    m = min(pick.n, SMALL_GRID)
    gap = np.full((m, 1, digit_set.side, 1), 0.25, dtype=np.float32)  # a thin grey line between sample and neighbour
    pairs = np.concatenate([rev["xs"][-1][:m], gap, rev["nearest"][:m]], axis=-1)  # (m, 1, side, 2 side + 1)
    c1, c2 = st.columns([3, 2], gap="large")
    with c1:
        show(images.grid(pairs, ncol=4, pad=2), f"left: sample, right: nearest of the {digit_set.size:,} training digits",
             width=560)
    with c2:
        ratio = np.median(rev["nearest_dist"]) / rev["spacing"]
        st.metric("Median distance to the nearest training digit", f"{np.median(rev['nearest_dist']):.2f}",
                  help=f"In pixel units. A training digit's nearest other training digit is typically (median) "
                       f"{rev['spacing']:.2f} away; two training digits picked at random are typically "
                       f"{rev['pair_distance']:.2f} apart.")
        copies, who = rev["copies"], "the exact score" if score == "exact" else "the network"
        if copies >= 0.5:
            verdict = f"{copies:.0%} of the samples are copies of a training image: {who} **memorises**."
        elif rev["recognised"] >= 0.5:
            verdict = (f"Only {copies:.0%} of the samples are copies of a training image and {rev['recognised']:.0%} "
                       f"are recognised as digits: {who} **generalises**, making new digits.")
        else:
            verdict = (f"Only {copies:.0%} of the samples are copies, but only {rev['recognised']:.0%} are recognised "
                       "as digits: these are not new digits either. Check ᾱ_T of this schedule on the Forward "
                       "noising view: sampling from N(0, I) works only when x_T really is noise.")
        hint = (" The exact score of a finite training set can only lead back to its images." if score == "exact"
                else " Switch the score to *exact* to see memorisation.")
        st.markdown(f"That is **{ratio:.2f}×** the median distance from a training digit to its nearest other "
                    f"training digit. {verdict}{hint}")
        st.download_button("GIF of the reverse run", rev["gif"], "digits_reverse.gif", "image/gif",
                           key="dl_rev_gif", icon=":material/download:")
    with st.expander("The reverse run as an animation"):
        st.image(rev["gif"], alt="Animation of the reverse run: the grid of digits from noise to samples")


# --- inpainting ----------------------------------------------------------------------------------------
def inpainting_view(sched: ScheduleChoice, pick: DigitsChoice) -> None:
    digit_set = ds.SETS[pick.data]
    st.caption(f"Data: {digit_set.label}.")
    mask = state.choice("Mask", "img_mask", list(ir.MASKS), "left", widget="radio", horizontal=True,
                        format_func=ir.MASKS.get)
    pick = replace(pick, n=min(pick.n, SMALL_GRID))
    drawn = None
    if mask == "drawn":
        known = drawn_mask(pick)
        if known is None:
            st.info("Paint over the part of the digit to hide (the mask applies to every digit of the grid). The "
                    "inpainted digits appear when you lift the pen.", icon=":material/draw:")
            return
        if bool(known.all()):
            st.info("The strokes cover too little of any pixel to hide it: paint a wider area.", icon=":material/draw:")
            return
        if not bool(known.any()):
            st.info("Every pixel is hidden: leave part of the digit visible for the sampler to fit.",
                    icon=":material/draw:")
            return
        drawn = known.numpy().tobytes()
    with layout.friendly_errors("inpaint"):
        inp = ir.inpaint_digits(sched, pick, mask, drawn)
    st.markdown("At every step the sampler proposes $x_{t-1}$ for all pixels; the **known** pixels are then "
                "replaced by a fresh draw of $q(x_{t-1} \\mid x_0)$ of the original — noised to exactly the current "
                "level — so the unknown pixels are filled in to fit them.")
    a, b, c = st.columns(3, gap="medium")
    with a:
        show(images.grid(inp["original"], ncol=inp["ncol"]), "original digits", 300)
    with b:
        show(images.grid(inp["masked"], ncol=inp["ncol"]), "what the sampler is given (grey: unknown)", 300)
    with c:
        show(images.grid(inp["result"], ncol=inp["ncol"]), "inpainted", 300)
    kept = (inp["pred"] == inp["labels"]).mean()
    m1, m2, m3 = st.columns(3)
    m1.metric("Known pixels: largest change at t = 0", "0 (exact)" if inp["known_error"] == 0 else
              f"{inp['known_error']:.1e}")
    m2.metric("Same class as the original", f"{kept:.0%}", help=f"By {digit_set.classifier}.")
    cut = ds.confident(pick.data)
    m3.metric(f"Confident (≥ {cut:g})", f"{(inp['confidence'] >= cut).mean():.0%}")
    g1, g2 = st.columns([2, 3])
    with g1:
        st.image(inp["gif"], caption="the inpainting run", alt="Animation of the inpainting run: the unknown pixels "
                 "filled in step by step")
    with g2:
        st.download_button("GIF of the inpainting run", inp["gif"], "inpainting.gif", "image/gif",
                           key="dl_inp_gif", icon=":material/download:")
        st.download_button("PNG of the inpainted grid", grid_png(inp["result"], inp["ncol"]), "inpainted.png",
                           "image/png", key="dl_inp_png", icon=":material/download:")


def drawn_mask(pick: DigitsChoice):
    """A canvas over the grid's first digit to paint the hidden part on; the known pixels (1, side, side), or None
    while nothing is painted."""
    from explorer.ui import canvas

    side = ds.SETS[pick.data].side
    first = ir.inpainting_originals(pick)[0][0].numpy()
    pad, preview = st.columns([2, 3], gap="large")
    with pad:
        ink = canvas.draw_pad("inp_canvas", stroke=30, colour="rgba(255, 64, 64, 0.6)",
                              background=images.picture(first, canvas.SIDE))
    if ink is None:
        return None
    known = ir.mask_from_ink(ink, side)
    with preview:
        show(np.where(known.numpy(), first, ir.UNKNOWN_SHADE), f"the mask: {int((~known).sum())} of {side * side} "
             "pixels hidden (grey)", 200)
    return known


# --- variations ----------------------------------------------------------------------------------------
def variations_view(sched: ScheduleChoice, pick: DigitsChoice) -> None:
    s = sched.build()
    st.markdown("Noise one real digit to a level t₀, then let the network denoise it from there: a small t₀ "
                "gives **almost the same** digit, a large one gives **a new digit** that kept little of the "
                "original. In between lies data augmentation: new but faithful examples.")
    digit_set = ds.SETS[pick.data]
    st.caption(f"Data: {digit_set.label}.")
    c1, c2 = st.columns(2)
    index = state.slider("Which training digit", "img_index", 0, digit_set.size - 1, 0, where=c1)
    t0 = state.slider("t₀: how far to noise it", "img_t0", 1, s.T, max(1, s.T // 3), where=c2)
    with layout.friendly_errors("make variations"):
        var = ir.variations(sched, int(index), int(t0), pick.seed, pick.data)
    a, b, c = st.columns([1, 3, 3], gap="medium")
    with a:
        show(var["original"][0], f"original: {image_apps.a_digit(var['label'])}", 120)
    with b:
        show(images.grid(var["noised"], ncol=4), f"noised to t₀ = {t0} (ᾱ = {var['alpha_bar']:.3g})", 340)
    with c:
        show(images.grid(var["out"], ncol=4), f"denoised: {ir.N_VARIATIONS} variations", 340)
    same = (var["pred"] == var["label"]).mean()
    m1, m2, m3 = st.columns(3)
    m1.metric("Still the same digit", f"{same:.0%}", help=f"By {digit_set.classifier}.")
    m2.metric("Median distance to the original", f"{np.median(var['dist']):.2f}",
              help=f"A training digit's nearest other training digit is typically (median) {var['spacing']:.2f} "
                   f"away; two training digits picked at random are typically {var['pair_distance']:.2f} apart.")
    m3.metric("Signal kept √ᾱ_t₀", f"{np.sqrt(var['alpha_bar']):.3f}")
    st.caption("Predicted classes: " + ", ".join(f"{p} ({c:.0%})" for p, c in zip(var["pred"], var["confidence"])))
