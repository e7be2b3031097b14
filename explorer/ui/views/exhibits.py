"""The schedules page's exhibits: the source text's claims (a), (b) and (c), each measured."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import streamlit as st
import torch

from explorer.draw import figures, schedule_figures
from explorer.data.datasets import toy_2d
from explorer.diffusion.forward import chain_noises, forward_trajectory, invert_chain, text_reverse_chain
from explorer.measure.metrics import kl_to_standard_normal, sliced_wasserstein
from explorer.diffusion.samplers import SAMPLERS, run_to_end
from explorer.diffusion.schedules import make_schedule
from explorer.diffusion.scores import EmpiricalData
from explorer.common.streams import STREAMS
from explorer.draw.palette import KIND_COLORS
from explorer.ui.settings import DataChoice, ScheduleChoice
from explorer.ui.sources import EXACT_REFERENCE_UI, toy_points

EXHIBIT_DATA = "two_moons"  # the data set the exhibits noise and recover
HALF_BETA = 0.5  # the source text's "middle value"
PURE_NOISE_KL = 0.01  # nats per point: below this, x_T is indistinguishable from N(0, I) in practice
NEARLY_KL = 0.05


@st.cache_data(max_entries=16, show_spinner=False)
def schedule_comparison(choices: tuple[ScheduleChoice, ...], data: DataChoice) -> tuple[dict, list[dict]]:
    """Curves against t/T for schedule_panels, and a table row per schedule: ᾱ_T, √ᾱ_T, the KL of
    q(x_T | x_0) to N(0, I) over the data's points and a verdict. The first T given is drawn in the
    kinds' own colours; labels name T only when there are several."""
    x0 = toy_points(data)
    several_T = len({c.T for c in choices}) > 1
    curves, rows = {}, []
    for choice in choices:
        s = choice.build()
        ab = s.alphas_cumprod.numpy()
        label = f"{choice.kind}, T = {choice.T}" if several_T else choice.kind
        curves[label] = {"u": np.arange(1, s.T + 1) / s.T, "beta": s.betas.numpy()[1:], "alpha_bar": ab[1:],
                         "signal": np.sqrt(ab[1:]), "noise": np.sqrt(1 - ab[1:]), "log_snr": s.log_snr.numpy()[1:]}
        if choice.T == choices[0].T:
            curves[label]["color"] = KIND_COLORS[choice.kind]
        kl = kl_to_standard_normal(s.alpha_bar_T, x0)
        verdict = "yes: pure noise" if kl < PURE_NOISE_KL else "nearly" if kl < NEARLY_KL else "no: data still visible"
        rows.append({"schedule": choice.label(), "ᾱ_T": s.alpha_bar_T, "signal left √ᾱ_T": math.sqrt(s.alpha_bar_T),
                     "KL(q(x_T|x_0) ‖ N(0,I)) [nats]": kl, "is x_T pure noise?": verdict})
    return curves, rows


@st.cache_data(max_entries=16, show_spinner="Measuring Var(x_t) along the chain…")
def variance_exhibit(sigma0: float, beta: float, T: int, seed: int, n: int = 2000) -> dict:
    """Claim (a): the geometric schedule's Var(x_t), measured on data with variance σ₀² per coordinate."""
    s = make_schedule("geometric", T, beta=beta)
    x0 = toy_2d(EXHIBIT_DATA, n, seed=seed)
    x0 = (x0 - x0.mean(0)) / x0.std(0) * sigma0  # variance exactly σ₀² per coordinate
    traj = forward_trajectory(x0, s, generator=STREAMS["variance_exhibit"].generator(seed))
    return {"var": traj.var(dim=1).mean(dim=1).double().numpy(), "alpha_bar": s.alphas_cumprod.numpy()}


@st.cache_data(max_entries=8, show_spinner="Running chains with β = 0.5…")
def half_beta_exhibit(Ts: tuple, seed: int, n: int = 4000) -> list[dict]:
    """Claim (b): what β = 0.5 does. The measured signal left is the slope of x_T regressed on x_0."""
    x0 = toy_2d(EXHIBIT_DATA, n, seed=seed).double()
    x0 = x0 - x0.mean(0)
    rows = []
    for T in Ts:
        for kind in ("constant", "geometric"):
            s = make_schedule(kind, T, beta=HALF_BETA)
            xT = forward_trajectory(x0, s, generator=STREAMS["half_beta_exhibit"].generator(seed, T))[-1]
            slope = float((xT * x0).sum() / (x0 * x0).sum())  # ≈ √ᾱ_T
            rows.append({"kind": kind, "T": T, "alpha_bar_T": s.alpha_bar_T, "signal_theory": s.alpha_bar_T ** 0.5,
                         "signal_measured": slope, "kl": kl_to_standard_normal(s.alpha_bar_T, x0)})
    return rows


def nearest_neighbour_spacing(points: torch.Tensor) -> float:
    """Median distance from a point to its nearest other point of the set."""
    d = torch.cdist(points, points)
    d.fill_diagonal_(float("inf"))
    return float(d.min(dim=1).values.median())


@st.cache_data(max_entries=8, show_spinner="Reversing the chain four ways…")
def reversal_exhibit(T: int, seed: int, n: int = 1000) -> dict:
    """Claim (c): undo the chain with the recorded noise, with fresh noise, and with the score."""
    s = make_schedule("cosine", T)
    x0 = toy_2d(EXHIBIT_DATA, n, seed=seed).double()
    g = STREAMS["reversal_exhibit"].generator(seed)
    traj = forward_trajectory(x0, s, generator=g)
    noises = chain_noises(traj, s)
    recorded = invert_chain(traj[-1], s, noises)
    text = text_reverse_chain(traj[-1], s, noises)
    fresh = invert_chain(traj[-1], s, torch.randn(traj[1:].shape, generator=g, dtype=torch.float64))
    reference = toy_2d(EXHIBIT_DATA, EXACT_REFERENCE_UI, seed=STREAMS["reference_set"].seed(seed)).double()
    model = EmpiricalData(reference)
    scored = run_to_end(SAMPLERS["ddpm"].function(model, s, traj[-1], generator=g)).x
    target = toy_2d(EXHIBIT_DATA, n, seed=STREAMS["target"].seed(seed))
    _, to_reference = model.nearest(scored)
    return {
        "x0": x0.float().numpy(), "xT": traj[-1].float().numpy(), "text": text.float().numpy(),
        "recorded": recorded.float().numpy(), "fresh": fresh.float().numpy(), "scored": scored.float().numpy(),
        "err_recorded": float((recorded - x0).abs().max()), "err_text": float((text - x0).abs().max()),
        "fresh_spread": float((fresh - x0).std(dim=0).mean()),  # measured, per coordinate
        "fresh_spread_theory": math.sqrt(2 * (1 / s.alpha_bar_T - 1)),  # √(2 Σ β_t/ᾱ_t), the sum telescoping
        "scored_to_reference": float(to_reference.median()), "reference_spacing": nearest_neighbour_spacing(reference),
        "sw": {k: sliced_wasserstein(v, target) for k, v in
               (("recorded", recorded), ("text", text), ("fresh", fresh), ("scored", scored))},
        "sw_floor": sliced_wasserstein(toy_2d(EXHIBIT_DATA, n, seed=STREAMS["second_sample"].seed(seed)), target),
    }


# --- figures -----------------------------------------------------------------------------------------
# Figures are made once per view and shared by every session showing it (figures.Frozen): a class opening
# this page together rebuilt the same five-schedule panels thirty times.
@st.cache_resource(max_entries=64, show_spinner=False)
def panels_figure(choices: tuple[ScheduleChoice, ...], data) -> figures.Frozen:
    return figures.Frozen(schedule_figures.schedule_panels(schedule_comparison(choices, data)[0]))


@st.cache_resource(max_entries=64, show_spinner=False)
def variance_figure(sigma0: float, beta: float, T: int, seed: int) -> figures.Frozen:
    ex = variance_exhibit(sigma0, beta, T, seed)
    ts = np.arange(T + 1)
    return figures.Frozen(figures.lines(
        ts, {"measured Var(x_t)": (ex["var"], dict(color=figures.STATE, width=2.5)),
             "theory 1 + (σ₀² − 1)ᾱ_t": (1 + (sigma0 ** 2 - 1) * ex["alpha_bar"], dict(color=figures.INK, dash="dash")),
             "the claim: constant σ₀²": (np.full(T + 1, sigma0 ** 2), dict(color=figures.REF, dash="dot"))},
        f"Geometric schedule, β = {beta:g}, T = {T}: Var(x_t) per coordinate", "t", "Var(x_t)"))


@st.cache_resource(max_entries=16, show_spinner=False)
def half_beta_figure(Ts_b: tuple[int, ...], seed: int) -> figures.Frozen:
    df = pd.DataFrame(half_beta_exhibit(Ts_b, seed))
    return figures.Frozen(figures.lines(np.array(Ts_b), {
        "constant β = 0.5: theory √ᾱ_T": (df[df.kind == "constant"].signal_theory.to_numpy(),
                                          dict(color=figures.KIND_COLORS["constant"], dash="dash")),
        "constant β = 0.5: measured": (df[df.kind == "constant"].signal_measured.to_numpy(),
                                       dict(color=figures.KIND_COLORS["constant"], mode="markers+lines", width=0)),
        "geometric β = 0.5: theory √ᾱ_T": (df[df.kind == "geometric"].signal_theory.to_numpy(),
                                           dict(color=figures.KIND_COLORS["geometric"], dash="dash")),
        "geometric β = 0.5: measured": (df[df.kind == "geometric"].signal_measured.to_numpy(),
                                        dict(color=figures.KIND_COLORS["geometric"], mode="markers+lines", width=0)),
        "“50%”: √0.5": (np.full(len(Ts_b), math.sqrt(0.5)), dict(color=figures.REF, dash="dot")),
    }, "Signal left in x_T with β = 0.5", "T (log scale)", "√ᾱ_T", height=380, log_x=True))


# The four ways of claim (c): title and colour of each panel.
REVERSAL_PANELS = {"recorded": ("the exact inverse with the recorded noise", figures.CLOSED),
                   "text": ("the text's formula with the recorded noise", figures.DATA),
                   "fresh": ("the exact inverse with fresh noise", figures.STATE),
                   "scored": ("with the score (DDPM)", figures.ESTIMATE)}


@st.cache_resource(max_entries=64, show_spinner=False)
def reversal_figure(T: int, seed: int, key: str) -> figures.Frozen:
    pts = np.clip(reversal_exhibit(T, seed)[key], -figures.LIM, figures.LIM)
    title, color = REVERSAL_PANELS[key]
    return figures.Frozen(figures.cloud_snapshot([(pts, color, "x_0 recovered")], title, height=440))
