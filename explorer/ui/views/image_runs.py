"""Cached runs of the images page: digits noised and sampled, inpainting, variations, your picture.

Runs are keyed by the settings objects and kept, so moving a step slider only picks stored frames
out of a finished run: the two big ones (the whole chain of a grid, forward and reverse) in a
BoundedCache shared by every session as read-only arrays, the others with st.cache_data.
"""
from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from explorer.data import images
from explorer.draw import rasters
from explorer.diffusion.forward import forward_trajectory, q_sample
from explorer.diffusion.samplers import CLIP_DIGITS, SAMPLERS, inpaint_sample, record, run_to_end
from explorer.diffusion.schedules import NoiseSchedule, frame_times
from explorer.common.streams import STREAMS
from explorer.ui.bounded_cache import BoundedCache
from explorer.ui.settings import DigitsChoice, ScheduleChoice
from explorer.ui.views import digit_sets as ds
from explorer.ui.sources import COMPUTE

GIF_FRAMES = 41
N_VARIATIONS = 8  # variations made of one digit
MASKS = {"left": "left half hidden", "right": "right half hidden", "top": "top half hidden",
         "bottom": "bottom half hidden", "box": "centre box hidden (half the side)", "drawn": "drawn by you"}
UNKNOWN_SHADE = 0.0  # unknown pixels are shown mid-grey (0 on the −1 … 1 scale)


def pick_digits(n: int, generator: torch.Generator, data: str = "digits") -> tuple[torch.Tensor, torch.Tensor]:
    """n training digits of the set drawn without replacement, and their labels."""
    x, y = ds.SETS[data].load(return_labels=True)
    idx = torch.randperm(len(x), generator=generator)[:n]
    return x[idx], y[idx]


def columns_for(n: int) -> int:
    """Columns of a square-ish grid of n digits."""
    return int(np.ceil(np.sqrt(n)))


def grid_gif(xs: np.ndarray, order, ncol: int, width: int = images.GRID_WIDTH) -> bytes:
    """A GIF of the grids of states xs[i] for i in order."""
    return rasters.gif_bytes([images.picture(images.grid(xs[i], ncol=ncol), width) for i in order])


_FORWARD, _REVERSE = BoundedCache(max_entries=6), BoundedCache(max_entries=6)  # ≤ 25 MB a run at T = 1,000


def forward_digits(sched: ScheduleChoice, pick: DigitsChoice) -> dict:
    """Cached and shared: see _forward_digits."""
    return _FORWARD.get_or_compute((sched, pick), lambda: _forward_digits(sched, pick))


TURN_EVERY = 25  # a reverse run lets queued computations of other tabs go first every this many steps


def reverse_digits(sched: ScheduleChoice, pick: DigitsChoice, score: str, on_step=None, on_wait=None) -> dict:
    """Cached and shared: see _reverse_digits. on_step(i, total, x_t) hears each step while it computes; on_wait(n)
    how many computations run or queue ahead of it."""
    return _REVERSE.get_or_compute((sched, pick, score), lambda: _reverse_digits(sched, pick, score, on_step, on_wait),
                                   on_wait=on_wait)


def reverse_digits_stored(sched: ScheduleChoice, pick: DigitsChoice, score: str) -> bool:
    return _REVERSE.has((sched, pick, score))


def _forward_digits(sched: ScheduleChoice, pick: DigitsChoice) -> dict:
    """The chain x_0..x_T for n digits (T+1, n, 1, side, side), pixel statistics per t, and a GIF."""
    s = sched.build()
    x0, _ = pick_digits(pick.n, STREAMS["digit_pick"].generator(pick.seed), pick.data)
    traj = forward_trajectory(x0, s, generator=STREAMS["digits_forward"].generator(pick.seed))
    flat = traj.flatten(1)
    ncol = columns_for(pick.n)
    xs = traj.numpy()
    return {"xs": xs, "mean": flat.mean(1).double().numpy(), "std": flat.std(1).double().numpy(),
            "alpha_bar": s.alphas_cumprod.numpy(), "ncol": ncol, "gif": grid_gif(xs, frame_times(s.T, GIF_FRAMES), ncol),
            "mu0": float(x0.mean()), "var0": float(x0.var())}


def _reverse_digits(sched: ScheduleChoice, pick: DigitsChoice, score: str, on_step=None, on_wait=None) -> dict:
    """DDPM from noise with the digits network (or the exact training-set score): every x_t and x̂_0. Every
    TURN_EVERY steps the run lets computations that other tabs queued go first (ComputeGate.take_turns)."""
    s = sched.build()
    g = STREAMS["digits_reverse"].generator(pick.seed)
    x_T = torch.randn(ds.sample_shape(pick.data, pick.n), generator=g).to(COMPUTE)  # the same x_T on every device
    steps = SAMPLERS["ddpm"].function(ds.score_model(pick.data, score), s, x_T, generator=g, clip_x0=CLIP_DIGITS)

    def watched():
        for i, step in enumerate(steps, start=1):
            yield step
            if on_step is not None:
                on_step(i, s.T, step)
            if i % TURN_EVERY == 0:
                _REVERSE.gate.take_turns(on_wait)
    run = record(watched(), start=(s.T, x_T))
    xs, x0s = run.xs.cpu().numpy(), run.x0s.cpu().numpy()
    v = ds.verdicts(pick.data, run.last.x.cpu().clamp(-1, 1))
    ncol = columns_for(pick.n)
    return {"xs": xs, "x0s": x0s, "times": np.array(run.times), "ncol": ncol,
            "gif": grid_gif(xs, frame_times(len(run.times) - 1, GIF_FRAMES), ncol),
            "nearest": ds.SETS[pick.data].load()[v["nearest_index"]].numpy(), "nearest_dist": v["nearest_dist"],
            "spacing": v["spacing"], "pair_distance": v["pair_distance"], "recognised": v["recognised"],
            "classes": v["classes"], "copies": v["copies"], "diverged": run.diverged, "message": run.message}


def mask_for(kind: str, side: int = 8) -> torch.Tensor:
    """(1, side, side) bool: True where pixels are known (kept), False where they are to be filled in (a drawn mask
    comes from mask_from_ink)."""
    h, q = side // 2, side // 4
    hidden = {"left": (..., slice(None, h)), "right": (..., slice(h, None)), "top": (..., slice(None, h), slice(None)),
              "bottom": (..., slice(h, None), slice(None)), "box": (..., slice(q, q + h), slice(q, q + h))}
    if kind not in hidden:
        raise ValueError(f"Unknown mask {kind!r}; choose one of {', '.join(MASKS)}.")
    known = torch.ones(1, side, side, dtype=torch.bool)
    known[hidden[kind]] = False
    return known


DRAWN_COVER = 0.3  # a pixel painted over on at least this share of its area is hidden


def mask_from_ink(ink: np.ndarray, side: int) -> torch.Tensor:
    """The known pixels (1, side, side) of a mask painted on a canvas: ink (H, W) in [0, 1], area-averaged to
    side × side; a pixel at least DRAWN_COVER painted over is hidden."""
    cover = torch.nn.functional.interpolate(torch.as_tensor(ink > 0, dtype=torch.float32)[None, None],
                                            size=(side, side), mode="area")[0]
    return cover < DRAWN_COVER


def inpainting_originals(pick: DigitsChoice) -> tuple[torch.Tensor, torch.Tensor]:
    """The digits the inpainting view hides parts of, and their labels."""
    return pick_digits(pick.n, STREAMS["inpainting_pick"].generator(pick.seed), pick.data)


@st.cache_data(max_entries=8, show_spinner="Inpainting…")
def inpaint_digits(sched: ScheduleChoice, pick: DigitsChoice, mask: str, drawn: bytes | None = None) -> dict:
    """Inpaint the view's digits: the preset mask, or for mask "drawn" the known pixels as bool bytes (side × side)."""
    s = sched.build()
    x0, y = inpainting_originals(pick)
    side = ds.SETS[pick.data].side
    if mask == "drawn":
        if drawn is None or len(drawn) != side * side:
            raise ValueError(f"A drawn mask needs {side} × {side} pixels.")
        known = torch.from_numpy(np.frombuffer(drawn, dtype=bool).reshape(1, side, side).copy())
    else:
        known = mask_for(mask, side)
    g = STREAMS["inpainting"].generator(pick.seed)
    x_T = torch.randn(x0.shape, generator=g)
    run = record(inpaint_sample(ds.score_model(pick.data, "pretrained"), s, x0.to(COMPUTE), known.to(COMPUTE), x_T.to(COMPUTE), generator=g,
                                clip_x0=CLIP_DIGITS), keep=frame_times(s.T, GIF_FRAMES))
    last = run.last.x.cpu()
    out = last.clamp(-1, 1)
    pred, confidence = ds.classify(pick.data, out)
    ncol = columns_for(pick.n)
    return {"original": x0.numpy(), "masked": torch.where(known, x0, UNKNOWN_SHADE).numpy(),
            "result": out.numpy(), "labels": y.numpy(), "pred": pred, "confidence": confidence, "ncol": ncol,
            "known_error": float((last - x0)[known.expand_as(x0)].abs().max()) if bool(known.any()) else 0.0,
            "gif": grid_gif(run.xs.cpu().numpy(), range(len(run.times)), ncol)}


@st.cache_data(max_entries=16, show_spinner="Making variations…")
def variations(sched: ScheduleChoice, index: int, t0: int, seed: int, data: str = "digits") -> dict:
    """Noise digit `index` of the set to t₀ N_VARIATIONS times (DDPM eq. 4), then denoise each from t₀ with the
    set's network."""
    s = sched.build()
    x, y = ds.SETS[data].load(return_labels=True)
    original = x[index:index + 1]
    g = STREAMS["variations"].generator(seed)
    noised = q_sample(original.expand(N_VARIATIONS, -1, -1, -1), t0, s, generator=g)
    last = run_to_end(SAMPLERS["ddpm"].function(ds.score_model(data, "pretrained"), s, noised.to(COMPUTE), generator=g,
                                                clip_x0=CLIP_DIGITS, t_start=t0))
    out = last.x.cpu().clamp(-1, 1)
    pred, confidence = ds.classify(data, out)
    return {"original": original.numpy(), "label": int(y[index]), "noised": noised.numpy(), "out": out.numpy(),
            "pred": pred, "confidence": confidence,
            "dist": (out - original).flatten(1).norm(dim=1).numpy(), "spacing": ds.spacing(data), "pair_distance": ds.pair_distance(data),
            "alpha_bar": float(s.alphas_cumprod[t0])}


@st.cache_data(max_entries=8, show_spinner="Reading the picture…")
def load_picture(raw: bytes) -> tuple[np.ndarray, list[str]]:
    x, notes = images.load_picture(raw)
    return x.numpy(), notes


@st.cache_data(max_entries=1, show_spinner=False)
def sample_picture() -> bytes:
    """scikit-learn's bundled photograph (china.jpg), as JPEG bytes: the picture before you upload one."""
    from sklearn.datasets import load_sample_image

    return rasters.jpeg_bytes(load_sample_image("china.jpg"))


@st.cache_data(max_entries=6, show_spinner="Noising your picture…")
def forward_picture(raw: bytes, sched: ScheduleChoice, seed: int) -> dict:
    """The picture x_0, one noise image ε, and a GIF of x_t = q_sample(x_0, t, ε) at GIF_FRAMES times."""
    s = sched.build()
    x, notes = images.load_picture(raw)
    noise = torch.randn(x.shape, generator=STREAMS["picture"].generator(seed))  # one ε for all t: a smooth dissolve
    width = 3 * x.shape[-1] if x.shape[-1] <= images.MAX_SIDE else x.shape[-1]
    frames = [images.picture(q_sample(x, int(t), s, noise=noise), width) for t in frame_times(s.T, GIF_FRAMES)]
    return {"x": x.numpy(), "noise": noise.numpy(), "notes": notes, "gif": rasters.gif_bytes(frames)}


@st.cache_data(max_entries=64, show_spinner=False)
def picture_as_digit(raw: bytes, sched: ScheduleChoice, t: int, seed: int, data: str) -> dict:
    """The picture as the set's network sees it: reduced to a grey side × side sketch (images.as_sketch), noised to t
    (DDPM eq. 4), and the network's guess x̂_0 = (x_t − √(1−ᾱ_t) ε̂) / √ᾱ_t with the set's classifier's verdict."""
    s = sched.build()
    x, _ = images.load_picture(raw)
    small, inverted = images.as_sketch(x, ds.SETS[data].side)
    small = small[None]
    noise = torch.randn(small.shape, generator=STREAMS["picture"].generator(seed))
    x_t = q_sample(small, t, s, noise=noise)
    ab = float(s.alphas_cumprod[t])
    if t == 0:
        x0 = small
    else:
        with torch.inference_mode():
            eps = ds.score_model(data, "pretrained")(x_t.to(COMPUTE), s.alphas_cumprod[t].to(COMPUTE)).cpu()
        x0 = ((x_t - (1 - ab) ** 0.5 * eps) / ab ** 0.5).clamp(-1, 1)
    pred, conf = ds.classify(data, x0)
    return {"small": small[0].numpy(), "x_t": x_t[0].numpy(), "x0": x0[0].numpy(), "pred": int(pred[0]),
            "conf": float(conf[0]), "inverted": inverted, "to_picture": float((x0 - small).norm()),
            "to_digit": float(ds.nearest_distance(data, x0)[0])}


def picture_at(pic: dict, s: NoiseSchedule, t: int) -> np.ndarray:
    """Your picture at step t with the stored noise: q_sample(x_0, t, ε) (DDPM eq. 4)."""
    return q_sample(torch.from_numpy(pic["x"]), t, s, noise=torch.from_numpy(pic["noise"])).numpy()
