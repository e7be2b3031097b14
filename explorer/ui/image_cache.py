"""Cached computations for the images page: digits noised and sampled, inpainting, variations, pictures.

Runs are keyed by the settings objects and kept with st.cache_data(max_entries=...), so moving a
step slider only picks stored frames out of a finished run.
"""
from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from explorer import images
from explorer.checkpoints import load_pretrained
from explorer.datasets import digits
from explorer.evaluation import CLIP_DIGITS, digit_classifier, digit_verdicts, typical_digit_spacing
from explorer.forward import forward_trajectory, q_sample
from explorer.samplers import ddpm_sample, inpaint_sample
from explorer.scores import EmpiricalData
from explorer.ui.controls import ScheduleChoice

GIF_FRAMES = 41
MASKS = {"left": "left half hidden", "right": "right half hidden", "top": "top half hidden",
         "bottom": "bottom half hidden", "box": "centre 4 × 4 box hidden"}
SCORES = {"pretrained": "pretrained U-Net", "exact": "exact score of the 1,797 training digits"}


@st.cache_resource(show_spinner="Loading the digits network…")
def digits_model():
    return load_pretrained("digits")[0]


@st.cache_resource(show_spinner=False)
def exact_digits_model():
    """The exact score of the training set itself: it can only reproduce training images."""
    return EmpiricalData(digits())


def model_for(score: str):
    return digits_model() if score == "pretrained" else exact_digits_model()


def pick_digits(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = digits(return_labels=True)
    idx = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))[:n]
    return x[idx], y[idx]


def frame_times(T: int, n: int = GIF_FRAMES) -> np.ndarray:
    return np.unique(np.linspace(0, T, min(T + 1, n)).round().astype(int))


def grid_frames(xs: np.ndarray, order: np.ndarray, ncol: int, width: int = 360) -> list[np.ndarray]:
    """RGB frames (upscaled grids) of the states xs[i] for i in order."""
    return [images.picture(images.grid(xs[i], ncol=ncol), width) for i in order]


@st.cache_data(max_entries=6, show_spinner="Noising the digits…")
def forward_digits(sched: ScheduleChoice, n: int, seed: int) -> dict:
    """The chain x_0..x_T for n digits (T+1, n, 1, 8, 8), pixel statistics per t, and a GIF."""
    s = sched.build()
    x0, _ = pick_digits(n, seed)
    traj = forward_trajectory(x0, s, generator=torch.Generator().manual_seed(8000 + seed))
    flat = traj.flatten(1)
    ncol = int(np.ceil(np.sqrt(n)))
    times = frame_times(s.T)
    xs = traj.numpy()
    gif = images.gif_bytes(grid_frames(xs, times, ncol))
    return {"xs": xs, "mean": flat.mean(1).double().numpy(), "std": flat.std(1).double().numpy(),
            "alpha_bar": s.alphas_cumprod.numpy(), "ncol": ncol, "gif": gif,
            "mu0": float(x0.mean()), "var0": float(x0.var())}


@st.cache_data(max_entries=6, show_spinner=False)
def reverse_digits(sched: ScheduleChoice, n: int, seed: int, score: str) -> dict:
    """DDPM from noise with the digits network (or the exact training-set score): every x_t and x̂_0."""
    s = sched.build()
    g = torch.Generator().manual_seed(9000 + seed)
    x_T = torch.randn(n, 1, 8, 8, generator=g)
    xs, x0s, times, last = [x_T], [x_T], [s.T], None
    for last in ddpm_sample(model_for(score), s, x_T, generator=g, clip_x0=CLIP_DIGITS):
        xs.append(last.x), x0s.append(last.pred_x0), times.append(last.t)
    xs_np, x0s_np = torch.stack(xs).numpy(), torch.stack(x0s).numpy()
    v = digit_verdicts(torch.from_numpy(xs_np[-1]).clamp(-1, 1))
    ncol = int(np.ceil(np.sqrt(n)))
    order = np.unique(np.linspace(0, len(times) - 1, min(len(times), GIF_FRAMES)).round().astype(int))
    gif = images.gif_bytes(grid_frames(xs_np, order, ncol))
    return {"xs": xs_np, "x0s": x0s_np, "times": np.array(times), "ncol": ncol, "gif": gif,
            "nearest": digits()[v["nearest_index"]].numpy(), "nearest_dist": v["nearest_dist"].numpy(),
            "spacing": v["spacing"], "recognised": v["recognised"], "classes": v["classes"], "copies": v["copies"],
            "diverged": bool(last is not None and last.diverged), "message": last.message if last else ""}


def mask_for(kind: str) -> torch.Tensor:
    """(1, 8, 8) bool: True where pixels are known (kept), False where they are to be filled in."""
    known = torch.ones(1, 8, 8, dtype=torch.bool)
    if kind == "left":
        known[..., :4] = False
    elif kind == "right":
        known[..., 4:] = False
    elif kind == "top":
        known[..., :4, :] = False
    elif kind == "bottom":
        known[..., 4:, :] = False
    elif kind == "box":
        known[..., 2:6, 2:6] = False
    else:
        raise ValueError(f"Unknown mask {kind!r}; choose one of {', '.join(MASKS)}.")
    return known


@st.cache_data(max_entries=8, show_spinner="Inpainting…")
def inpaint_digits(sched: ScheduleChoice, n: int, seed: int, mask: str) -> dict:
    s = sched.build()
    x0, y = pick_digits(n, seed + 1)
    known = mask_for(mask)
    g = torch.Generator().manual_seed(10_000 + seed)
    x_T = torch.randn(x0.shape, generator=g)
    xs, last = [], None
    keep = set(frame_times(s.T).tolist())
    for last in inpaint_sample(digits_model(), s, x0, known, x_T, generator=g, clip_x0=CLIP_DIGITS):
        if last.t in keep:
            xs.append(last.x.numpy())
    out = last.x.clamp(-1, 1)
    proba = digit_classifier().predict_proba(out.flatten(1).numpy())
    ncol = int(np.ceil(np.sqrt(n)))
    masked = torch.where(known, x0, torch.zeros_like(x0) - 0.0)  # unknown pixels shown as mid-grey
    return {"original": x0.numpy(), "masked": masked.numpy(), "result": out.numpy(), "labels": y.numpy(),
            "pred": proba.argmax(1), "confidence": proba.max(1), "ncol": ncol,
            "known_error": float((last.x - x0)[known.expand_as(x0)].abs().max()),
            "gif": images.gif_bytes([images.picture(images.grid(x, ncol=ncol)) for x in xs])}


@st.cache_data(max_entries=16, show_spinner="Making variations…")
def variations(sched: ScheduleChoice, index: int, t0: int, n: int, seed: int) -> dict:
    """Noise digit `index` to t₀ n times (DDPM eq. 4), then denoise each from t₀ with the network."""
    s = sched.build()
    x, y = digits(return_labels=True)
    original = x[index:index + 1]
    g = torch.Generator().manual_seed(11_000 + seed)
    noised = q_sample(original.expand(n, -1, -1, -1), t0, s, generator=g)
    last = None
    for last in ddpm_sample(digits_model(), s, noised, generator=g, clip_x0=CLIP_DIGITS, t_start=t0):
        pass
    out = last.x.clamp(-1, 1)
    proba = digit_classifier().predict_proba(out.flatten(1).numpy())
    return {"original": original.numpy(), "label": int(y[index]), "noised": noised.numpy(), "out": out.numpy(),
            "pred": proba.argmax(1), "confidence": proba.max(1),
            "dist": (out - original).flatten(1).norm(dim=1).numpy(), "spacing": typical_digit_spacing(),
            "alpha_bar": float(s.alphas_cumprod[t0])}


@st.cache_data(max_entries=8, show_spinner="Reading the picture…")
def load_picture(raw: bytes) -> tuple[np.ndarray, list[str]]:
    x, notes = images.load_picture(raw)
    return x.numpy(), notes


@st.cache_data(max_entries=1, show_spinner=False)
def sample_picture() -> bytes:
    """scikit-learn's bundled photograph (china.jpg), as JPEG bytes: the picture before you upload one."""
    import io

    from PIL import Image
    from sklearn.datasets import load_sample_image

    buf = io.BytesIO()
    Image.fromarray(load_sample_image("china.jpg")).save(buf, format="JPEG", quality=92)
    return buf.getvalue()


@st.cache_data(max_entries=6, show_spinner="Noising your picture…")
def forward_picture(raw: bytes, sched: ScheduleChoice, seed: int) -> dict:
    """Frames of x_t for the picture at GIF_FRAMES evenly spaced t (each by the closed form, DDPM eq. 4)."""
    s = sched.build()
    x, notes = images.load_picture(raw)
    g = torch.Generator().manual_seed(12_000 + seed)
    noise = torch.randn(x.shape, generator=g)  # one noise for all t: the picture dissolves smoothly
    times = frame_times(s.T)
    frames = [(float(s.sqrt_alphas_cumprod[t]) * x + float(s.sqrt_one_minus_alphas_cumprod[t]) * noise).numpy()
              for t in times]
    width = 3 * x.shape[-1] if x.shape[-1] <= 128 else x.shape[-1]
    return {"x": x.numpy(), "noise": noise.numpy(), "times": times, "notes": notes,
            "gif": images.gif_bytes([images.picture(f, width) for f in frames]),
            "sqrt_ab": s.sqrt_alphas_cumprod.numpy(), "sqrt_1mab": s.sqrt_one_minus_alphas_cumprod.numpy()}
