"""The Images page's applications from the source text: super-resolution (ILVR) and sketch to digit (SDEdit), on
either digit set (MNIST 28 × 28 or scikit-learn's 8 × 8), the sketch drawn on a canvas in the page, built in or
uploaded.

Runs are cached (st.cache_data) and drawn by the two view functions the page calls.
"""
from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from explorer.data import images
from explorer.draw import rasters
from explorer.diffusion.forward import q_sample
from explorer.diffusion.samplers import CLIP_DIGITS, SAMPLERS, ilvr_sample, record
from explorer.diffusion.schedules import frame_times
from explorer.common.streams import STREAMS
from explorer.ui import canvas, layout, state, uploads
from explorer.ui.views import digit_sets as ds
from explorer.ui.views.image_runs import GIF_FRAMES, grid_gif
from explorer.ui.settings import ScheduleChoice
from explorer.ui.sources import COMPUTE

N_SR = 8  # high-resolution samples drawn from one low-resolution input
N_SKETCH = 8  # digits made from one sketch
T0_FRACTIONS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 0.9, 1.0)  # the t₀ / T of the faithfulness–realism curve
LOW_SIDES = {"digits": {4: "4 × 4", 2: "2 × 2"}, "mnist": {7: "7 × 7", 14: "14 × 14"}}
DRAW = "your drawing"  # the sketch choice that reads the canvas


def a_digit(n: int) -> str:
    """ "a 7", but "an 8": the article a digit takes when read aloud."""
    return f"an {n}" if int(n) == 8 else f"a {n}"


def pct(c: float) -> str:
    """A confidence as a whole percent, rounded down: 0.698 is 69 %, so a count "≥ 70 %" matches the list."""
    return f"{int(c * 100)}%"


def down(x: torch.Tensor, side: int) -> torch.Tensor:
    return torch.nn.functional.avg_pool2d(x, x.shape[-1] // side)


@st.cache_data(max_entries=16, show_spinner="Super-resolving…")
def super_resolve(sched: ScheduleChoice, index: int, side: int, seed: int, data: str = "digits") -> dict:
    """N_SR ILVR samples of training digit `index` of the set known only as its side × side block means; bicubic
    beside."""
    s = sched.build()
    x, y = ds.SETS[data].load(return_labels=True)
    full = ds.SETS[data].side
    if side not in LOW_SIDES[data]:
        raise ValueError(f"The input must be {' or '.join(LOW_SIDES[data].values())} for {ds.SETS[data].label}.")
    original = x[index:index + 1]
    low = down(original, side)
    g = STREAMS["super_resolution"].generator(seed)
    x_T = torch.randn(N_SR, 1, full, full, generator=g)
    run = record(ilvr_sample(ds.score_model(data, "pretrained"), s, low.expand(N_SR, -1, -1, -1).to(COMPUTE),
                             x_T.to(COMPUTE), generator=g, clip_x0=CLIP_DIGITS), keep=frame_times(s.T, GIF_FRAMES))
    out = run.last.x.cpu()
    diverged = run.last.diverged
    bicubic = torch.nn.functional.interpolate(low, size=(full, full), mode="bicubic", align_corners=False)
    pred, conf = ds.classify(data, out.clamp(-1, 1))
    b_pred, b_conf = ds.classify(data, bicubic.clamp(-1, 1))
    return {"original": original.numpy(), "label": int(y[index]), "low": low.numpy(),
            "low_up": torch.nn.functional.interpolate(low, size=(full, full), mode="nearest").numpy(),
            "out": out.clamp(-1, 1).numpy(), "bicubic": bicubic.clamp(-1, 1).numpy(), "pred": pred, "conf": conf,
            "b_pred": int(b_pred[0]), "b_conf": float(b_conf[0]),
            "low_error": float((down(out, side) - low).abs().max()),
            "b_low_error": float((down(bicubic, side) - low).abs().max()),
            "clipped_low_error": float((down(out.clamp(-1, 1), side) - low).abs().max()),
            "dist": (out.clamp(-1, 1) - original).flatten(1).norm(dim=1).numpy(), "diverged": diverged,
            "gif": grid_gif(run.xs.clamp(-1.5, 1.5).cpu().numpy(), range(len(run.times)), 4)}


@st.cache_data(max_entries=64, show_spinner="Denoising the sketch…")
def sketch_to_digit(sched: ScheduleChoice, sketch: bytes, t0: int, seed: int, data: str = "digits") -> dict:
    """SDEdit: the sketch (1, side, side float32 bytes) noised to t₀ N_SKETCH times and denoised by DDPM from t₀ with
    the set's network."""
    s = sched.build()
    side = ds.SETS[data].side
    x = torch.from_numpy(np.frombuffer(sketch, dtype=np.float32).reshape(1, 1, side, side).copy())
    g = STREAMS["sketch"].generator(seed)
    noised = q_sample(x.expand(N_SKETCH, -1, -1, -1), t0, s, generator=g)
    run = record(SAMPLERS["ddpm"].function(ds.score_model(data, "pretrained"), s, noised.to(COMPUTE), generator=g,
                                           clip_x0=CLIP_DIGITS, t_start=t0),
                 start=(t0, noised.to(COMPUTE)), keep=frame_times(t0, GIF_FRAMES))
    out = run.last.x.cpu().clamp(-1, 1)
    pred, conf = ds.classify(data, out)
    return {"noised": noised.numpy(), "out": out.numpy(), "pred": pred, "conf": conf, "diverged": run.last.diverged,
            "dist": (out - x).flatten(1).norm(dim=1).numpy(), "nearest": ds.nearest_distance(data, out),
            "frames": run.xs.clamp(-1.5, 1.5).cpu().numpy(),
            "alpha_bar": float(s.alphas_cumprod[t0])}


@st.cache_data(max_entries=16, show_spinner=False)
def sketch_gif(sched: ScheduleChoice, sketch: bytes, t0: int, seed: int, data: str = "digits") -> bytes:
    """The GIF of one sketch_to_digit run (only the t₀ shown needs one, not every point of the curve)."""
    frames = sketch_to_digit(sched, sketch, t0, seed, data)["frames"]
    return grid_gif(frames, range(len(frames)), 4)


def t0_grid(T: int) -> list[int]:
    return sorted({max(1, min(T, round(f * T))) for f in T0_FRACTIONS})


def show(x, caption: str, width: int = images.GRID_WIDTH) -> None:
    st.image(images.picture(x, width), caption=caption, alt=caption)  # alt: what a screen reader says


def super_resolution_view(sched: ScheduleChoice, seed: int, data: str = "digits") -> None:
    digit_set, sides = ds.SETS[data], LOW_SIDES[data]
    larger, smaller = max(sides), min(sides)
    st.markdown(f"The input is **only a {sides[larger]} (or {sides[smaller]}) version** of a digit: each pixel the mean of "
                "a block. ILVR (Choi et al. 2021) runs DDPM with the digits network and, after every step, replaces the "
                "block means of $x_{t-1}$ (its low-pass filter: block means here) by those a full-size image with the "
                "input's block means has at that noise level — so at every level the picture agrees with the noised "
                "input, at t = 0 exactly with the input, and only the detail inside the blocks is the network's.")
    st.caption(f"Data: {digit_set.label}.")
    c1, c2 = st.columns(2)
    index = int(state.slider("Which training digit", "sr_index", 0, digit_set.size - 1, 0, where=c1))
    side = int(state.choice("Input resolution", "sr_side", list(sides), larger, where=c2, widget="radio",
                            horizontal=True, format_func=sides.get))
    with layout.friendly_errors("super-resolve"):
        sr = super_resolve(sched, index, side, seed, data)
    small = 120 if data == "digits" else 168
    cols = st.columns([1, 1, 1, 3], gap="medium")
    with cols[0]:
        show(sr["low_up"][0], f"input: {sides[side]}", small)
    with cols[1]:
        show(sr["bicubic"][0], "bicubic upsampling", small)
    with cols[2]:
        show(sr["original"][0], f"original: {a_digit(sr['label'])}", small)
    with cols[3]:
        show(images.grid(sr["out"], ncol=4), f"{N_SR} ILVR samples from the same input", 360)
    same = int((sr["pred"] == sr["label"]).sum())
    m = st.columns(4)
    m[0].metric(f"samples' own {sides[side]} vs the input", f"{sr['low_error']:.1e}",
                help="Largest difference between a sample's block means and the input's, as ILVR returns the samples. "
                     "The pictures are clipped to [−1, 1] for display and the classifier; after clipping the "
                     f"difference is {sr['clipped_low_error']:.2f}.")
    m[1].metric(f"bicubic's {sides[side]} vs the input", f"{sr['b_low_error']:.2f}",
                help="Bicubic upsampling does not keep the block means (measured before clipping too).")
    m[2].metric(f"samples read as {a_digit(sr['label'])}", f"{same} of {N_SR}", help=f"By {digit_set.classifier}.")
    m[3].metric("bicubic read as", f"{sr['b_pred']} ({pct(sr['b_conf'])})")
    if sr["diverged"]:
        st.warning("The run diverged (non-finite values): the samples shown are its last finite state.",
                   icon=":material/warning:")
    cut = ds.confident(data)
    confident = int((sr["conf"] >= cut).sum())
    st.caption("Classifier verdicts of the samples: " + ", ".join(f"{p} ({pct(c)})" for p, c in zip(sr["pred"], sr["conf"]))
               + f". {confident} of {N_SR} are read with confidence ≥ {cut:g}; {same} of {N_SR} as the original's "
               f"class. Their median distance to the original is {np.median(sr['dist']):.2f}: they agree with the input, "
               "not necessarily with the digit it came from — many digits share one low-resolution version.")
    d1, d2 = st.columns(2)
    d1.download_button("PNG of the samples", rasters.png_bytes(images.picture(images.grid(sr["out"], ncol=4),
                                                                                images.GRID_WIDTH)),
                       "super_resolution.png", "image/png", key="dl_sr_png", icon=":material/download:")
    d2.download_button("GIF of the run", sr["gif"], "super_resolution.gif", "image/gif", key="dl_sr_gif",
                       icon=":material/download:")


def sketch_input(upload_key: str, data: str = "digits") -> tuple[torch.Tensor | None, str, list[str]]:
    """The sketch as the set's digits look (1, side, side): drawn on the canvas, a built-in one, or an uploaded picture
    (which wins when given), framed as the set's digits are (images.frame_ink); (sketch, name, notes). The sketch is
    None while the canvas is blank."""
    from explorer.ui.views.image_runs import load_picture

    side = ds.SETS[data].side
    name = state.choice("Sketch", "sk_name", [DRAW, *images.SKETCHES], "a hook (7)", widget="radio", horizontal=True,
                        help="Draw a digit on the canvas with the mouse, a pen or a finger, or pick a built-in sketch.")
    if name == DRAW:
        pad, note = st.columns([2, 3], gap="large")
        with pad:
            ink = canvas.draw_pad("sk_canvas")
        note.markdown(f"Draw a digit, white on black, as large as the square. When you lift the pen it is reduced to "
                      f"{side} × {side} pixels, framed as the {digit_set_name(data)} were, and sent to the network. The "
                      "tools under the canvas undo, redo and clear.")
    upload = uploads.uploader(f"…or upload a drawing (PNG or JPEG; reduced to {side} × {side} grey)", "PNG or JPEG",
                              images.MAX_UPLOAD_BYTES, key=upload_key)
    if upload is not None:
        try:
            pic, notes = load_picture(upload.getvalue())
            sketch, inverted = images.as_sketch(torch.from_numpy(pic), side)
            if float(sketch.max()) <= -1:
                raise ValueError("It is one flat shade: there are no strokes in it to use.")
            notes = notes + (["Mostly light: inverted, so the strokes are white on black like the digits."]
                             if inverted else [])
            return sketch, upload.name, notes
        except ValueError as err:
            st.error(f"Cannot use {upload.name}: {err} Using the sketch above instead.", icon=":material/error:")
    if name == DRAW:
        return (None if ink is None else images.frame_ink(torch.from_numpy(ink), side)), DRAW, []
    return images.sketch(name, side), name, []


def digit_set_name(data: str) -> str:
    return "MNIST digits (the ink's longer side scaled to 20 pixels, centred by its mass)" if data == "mnist" else \
        "8 × 8 digits (the ink's longer side scaled to the square, centred)"


def sketch_view(sched: ScheduleChoice, seed: int, data: str = "digits") -> None:
    digit_set = ds.SETS[data]
    st.markdown("Guided synthesis from a rough drawing (SDEdit, Meng et al. 2022) — what the source text's \"style "
                "transfer\" becomes for a digits model: the sketch is noised to a level t₀ and denoised by the digits "
                "network from there. Noised only slightly ($\\bar\\alpha_{t_0}$ near 1) the sketch survives, rough; noised "
                "nearly to pure noise ($\\bar\\alpha_{t_0}$ near 0) it becomes a digit that may forget the sketch.")
    st.caption(f"Data: {digit_set.label}.")
    first = float(sched.build().alphas_cumprod[1])
    if first < 0.9:
        st.info(f"This schedule's first step already leaves ᾱ₁ = {first:.2g}: even t₀ = 1 noises the sketch heavily.",
                icon=":material/info:")
    sketch, name, notes = sketch_input("sk_upload", data)
    for note in notes:
        st.info(note, icon=":material/info:")
    if sketch is None:
        st.info("The canvas is blank: draw a digit on it (or pick a built-in sketch, or upload a drawing). The digits "
                "the network makes of it appear here when you lift the pen.", icon=":material/draw:")
        return
    T = sched.T
    t0 = int(state.slider("t₀: how far to noise the sketch", "sk_t0", 1, T, max(1, round(0.3 * T))))
    raw = sketch.numpy().astype(np.float32).tobytes()
    with layout.friendly_errors("denoise the sketch"):
        res = sketch_to_digit(sched, raw, t0, seed, data)
    small = 120 if data == "digits" else 168
    a, b, c = st.columns([1, 3, 3], gap="medium")
    with a:
        show(sketch.numpy(), f"{name} ({digit_set.side} × {digit_set.side})", small)
    with b:
        show(images.grid(res["noised"], ncol=4), f"noised to t₀ = {t0} (ᾱ = {res['alpha_bar']:.3g})", 340)
    with c:
        show(images.grid(res["out"], ncol=4), f"denoised: {N_SKETCH} digits", 340)
    grid = t0_grid(T)
    bar, runs = st.empty(), []
    with layout.friendly_errors("trace the t₀ curve"):
        for i, t in enumerate(grid):
            runs.append(sketch_to_digit(sched, raw, t, seed, data))
            bar.progress((i + 1) / len(grid), text="Denoising from every t₀…")
    bar.empty()
    from explorer.draw import figures
    from explorer.draw.palette import METRIC_COLORS

    def style(measure: str) -> dict:
        return dict(color=METRIC_COLORS[measure], width=2.5, mode="lines+markers")
    fig = figures.lines(np.array(grid), {
        "distance to the sketch (faithfulness: lower is closer)": (np.array([np.mean(r["dist"]) for r in runs]),
                                                                   style("faithfulness")),
        "distance to the nearest training digit (realism: lower is more digit-like)": (
            np.array([np.mean(r["nearest"]) for r in runs]), style("realism")),
        "classifier confidence (how decisively a digit is read; right axis)": (
            np.array([np.mean(r["conf"]) for r in runs]), {**style("confidence"), "right": True})},
        "Faithfulness against realism over t₀", "t₀", "distance, mean over the digits", marker_x=t0,
        right_title="confidence")
    layout.chart(st, fig, width="stretch", key="sk_curve")
    d = [float(np.mean(r["dist"])) for r in runs]
    conf = [float(np.mean(r["conf"])) for r in runs]
    near = [float(np.mean(r["nearest"])) for r in runs]
    own_pred, own_conf = ds.classify(data, sketch[None].clamp(-1, 1))
    over = (f" Over t₀ from {grid[0]} to {grid[-1]} the distance to the sketch goes from {d[0]:.2f} to {d[-1]:.2f}, the "
            f"distance to the nearest training digit from {near[0]:.2f} to {near[-1]:.2f} and the classifier's confidence "
            f"from {pct(conf[0])} to {pct(conf[-1])}." if len(grid) > 1 else "")
    if res["diverged"]:
        st.warning("The run diverged (non-finite values): the digits shown are its last finite state.",
                   icon=":material/warning:")
    st.caption(f"At t₀ = {t0}: mean distance to the sketch {np.mean(res['dist']):.2f}, to the nearest training digit "
               f"{np.mean(res['nearest']):.2f}; classes " + ", ".join(f"{p} ({pct(c)})" for p, c in zip(res["pred"], res["conf"]))
               + "." + over + f" The sketch itself lies {float(ds.nearest_distance(data, sketch[None])[0]):.2f} from "
               f"its nearest training digit and is read as {a_digit(int(own_pred[0]))} ({pct(own_conf[0])}).")
    d1, d2 = st.columns(2)
    d1.download_button("PNG of the digits", rasters.png_bytes(images.picture(images.grid(res["out"], ncol=4),
                                                                               images.GRID_WIDTH)),
                       "sketch_to_digit.png", "image/png", key="dl_sk_png", icon=":material/download:")
    d2.download_button(f"GIF of the denoising from t₀ = {t0}", sketch_gif(sched, raw, t0, seed, data),
                       "sketch_to_digit.gif", "image/gif", key="dl_sk_gif", icon=":material/download:")
