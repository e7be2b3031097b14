"""The 2D point-cloud figures of the forward and reverse pages, made once per view and shared.

Every session showing a view — a class on the same page, and a lesson step embedding it — gets the
same frozen figure (figures.Frozen in st.cache_resource): a rerun only sends it. The pages and the
Lessons page call these, so a lesson shows exactly what the full page shows with those settings.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from explorer.draw import figures
from explorer.diffusion.schedules import frame_times
from explorer.ui.views import runs
from explorer.ui.settings import DataChoice, ReverseChoice, ScheduleChoice

N_PATHS = 20  # highlighted particles whose trajectories are drawn
PATH_POINTS = 60  # states per drawn trajectory: enough for the shape, light enough to read
DRAWN = runs.SHOWN  # points of x_t and x̂₀ drawn per cloud (metrics use all of them): keeps the browser quick
RUN_COLORS = {"A": figures.STATE, "B": figures.ESTIMATE}


# --- forward ------------------------------------------------------------------------------------------
@st.cache_resource(max_entries=8, show_spinner=False)
def forward_animation(data: DataChoice, sched: ScheduleChoice) -> figures.Frozen:
    """x_t for t = 0 … T, played in the browser."""
    run = runs.forward_run(data, sched)
    times = frame_times(sched.T, runs.ANIMATION_FRAMES)
    frames = run["traj"][times, : runs.ANIMATION_POINTS]
    labels = [f"t = {t}, ᾱ_t = {run['alpha_bar'][t]:.3g}" for t in times]
    return figures.animated_cloud_frozen(frames, times, f"x_t under {sched.label()}", labels=labels,
                                         step_labels=[str(t) for t in times])


def nearest_frame(sched: ScheduleChoice, t: int) -> int:
    """The frame of forward_animation nearest to step t."""
    return int(np.abs(frame_times(sched.T, runs.ANIMATION_FRAMES) - t).argmin())


@st.cache_resource(max_entries=8, show_spinner=False)
def forward_animation_at(data: DataChoice, sched: ScheduleChoice, t: int) -> figures.Frozen:
    """forward_animation opened on the frame nearest t: a lesson step about x_T shows x_T (in its handout too)."""
    return figures.opened_at(forward_animation(data, sched), nearest_frame(sched, t))


@st.cache_resource(max_entries=64, show_spinner=False)
def chain_and_jump(data: DataChoice, sched: ScheduleChoice, t: int) -> figures.Frozen:
    """The chain's x_t over the closed-form jump's x_t."""
    run, jump = runs.forward_run(data, sched), runs.closed_form_at(data, sched, t)
    return figures.Frozen(figures.cloud_snapshot([(run["traj"][t], figures.STATE, f"chain x_{t} (step by step)"),
                                                  (jump["jump"], figures.CLOSED, f"jump x_{t} (closed form)")],
                                                 f"t = {t}: the chain and the closed-form jump"))


# --- reverse ------------------------------------------------------------------------------------------
def stored_steps(res: dict) -> int:
    """Steps stored after x_T."""
    return len(res["times"]) - 1


def drawn(states: np.ndarray) -> np.ndarray:
    """Stored states (float16) as float32 inside the plotted box: plotly draws float32, not float16."""
    return np.clip(states.astype(np.float32), -figures.LIM, figures.LIM)


def paths(res: dict, i: int) -> np.ndarray:
    """(N_PATHS, S, 2): the highlighted particles from x_T to step i, at most PATH_POINTS states each."""
    idx = frame_times(i, PATH_POINTS)
    return np.transpose(drawn(res["xs"][idx, :N_PATHS]), (1, 0, 2))


@st.cache_resource(max_entries=512, show_spinner=False)
def state_cloud(data: DataChoice, sched: ScheduleChoice, rev: ReverseChoice, i: int, title: str) -> figures.Frozen:
    """x_t at stored step i with the highlighted particles' paths, over the data."""
    res = runs.reverse_run(data, sched, rev)
    pts = drawn(res["xs"][i][:DRAWN])
    return figures.Frozen(figures.cloud_snapshot([(res["target"][:figures.TARGET_SHOWN], figures.DATA, "data (target)"),
                                                  (pts, figures.STATE, "x_t")], title, height=520, paths=paths(res, i)))


@st.cache_resource(max_entries=512, show_spinner=False)
def estimate_cloud(data: DataChoice, sched: ScheduleChoice, rev: ReverseChoice, i: int) -> figures.Frozen:
    """x̂₀ made on the step to stored step i, over the data."""
    res = runs.reverse_run(data, sched, rev)
    x0 = drawn(res["x0s"][i][:DRAWN])
    return figures.Frozen(figures.cloud_snapshot([(res["target"][:figures.TARGET_SHOWN], figures.DATA, "data (target)"),
                                                  (x0, figures.ESTIMATE, "x̂₀")],
                                                 figures.x0_title(i, int(res["times"][i])), height=520))


@st.cache_resource(max_entries=512, show_spinner=False)
def distance_curves(data: DataChoice, sched: ScheduleChoice, choices: tuple[tuple[str, ReverseChoice], ...],
                    fraction: float) -> figures.Frozen:
    """SW to the data along each run, a marker at the fraction of the run shown."""
    results = {name: runs.reverse_run(data, sched, rev) for name, rev in choices}
    curves = [(f"{name}: {rev.label()}", results[name]["sw_index"] / max(stored_steps(results[name]), 1),
               results[name]["sw"], RUN_COLORS[name]) for name, rev in choices]
    return figures.Frozen(figures.sw_curves(curves, results[choices[0][0]]["sw_floor"], marker_x=fraction))


@st.cache_resource(max_entries=8, show_spinner=False)
def reverse_animation(data: DataChoice, sched: ScheduleChoice, rev: ReverseChoice) -> figures.Frozen:
    """The whole reverse run, played in the browser."""
    res = runs.reverse_run(data, sched, rev)
    idx = frame_times(stored_steps(res), runs.ANIMATION_FRAMES)
    frames = drawn(res["xs"][idx, :DRAWN])
    labels = [f"t = {res['times'][i]}" for i in idx]
    return figures.animated_cloud_frozen(frames, idx, f"{rev.label()}", labels=labels, color=figures.STATE,
                                         step_labels=[str(res["times"][i]) for i in idx], height=560)
