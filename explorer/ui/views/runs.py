"""Cached runs of the 2D pages: the forward chain, closed-form jumps, and reverse sampler runs.

Reverse runs go through the sampler registry (explorer.diffusion.samplers.SAMPLERS) and are recorded with
samplers.record; reverse_run_shown draws the progress bar and explains a divergence. Scrubbing
through time or revisiting a view reuses stored states: nothing recomputes on a rerun with the
same settings.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import streamlit as st
import torch

from explorer.common.device import device_of
from explorer.diffusion.forward import forward_trajectory, q_sample
from explorer.measure.metrics import SortedSample, sliced_wasserstein
from explorer.diffusion.samplers import CLIP_2D, record
from explorer.diffusion.schedules import frame_times
from explorer.common.streams import STREAMS
from explorer.ui.bounded_cache import BoundedCache
from explorer.ui.settings import DataChoice, ReverseChoice, ScheduleChoice
from explorer.ui.sources import COMPUTE, data_points, score_model

ANIMATION_FRAMES = 51  # frames in a client-side animation (t = 0 .. T, evenly spaced)
ANIMATION_POINTS = 1500  # points drawn per animation frame (the first ones of the data set)
SW_PROJECTIONS = 128
SW_CURVE_PROJECTIONS = 64  # fewer directions for the curve over a run: 30 distances per run
SHOWN = 1000  # points of every stored reverse state kept for drawing; the distances use all points
# Stored states are float16: 3 significant digits, 0.004 at |x| = 4, a quarter of a pixel on a 520 px cloud
# of the ±4 box; a T = 1,000 run then holds 8 MB. Computations run in float32 and the distances use them.
STORED = torch.float16
SW_CURVE_POINTS = 30  # steps at which the distance to the data is measured along a run
PROGRESS_EVERY = 25  # steps between two updates of a run's progress bar


_FORWARD_RUNS = BoundedCache(max_entries=8)  # a T = 1,000 chain of 2,000 points holds 16 MB


def forward_run(data: DataChoice, sched: ScheduleChoice) -> dict:
    """Cached and shared by every session (read-only arrays): see _forward_run. st.cache_data would hand each
    session its own unpickled copy — thirty tabs opening the forward page held 30 × 16 MB at once."""
    return _FORWARD_RUNS.get_or_compute((data, sched), lambda: _forward_run(data, sched))


def _forward_run(data: DataChoice, sched: ScheduleChoice) -> dict:
    """x_0 and the whole chain x_0 .. x_T (DDPM eq. 2), plus per-t variance, as numpy arrays."""
    s = sched.build()
    x0 = data_points(data, data.n, STREAMS["data"].seed(data.seed))
    traj = forward_trajectory(x0, s, generator=STREAMS["forward_chain"].generator(data.seed))
    return {
        "traj": traj.numpy(),  # (T+1, N, 2)
        "var": traj.var(dim=1).mean(dim=1).double().numpy(),  # measured Var(x_t) per coordinate
        "sigma0_sq": float(x0.var(dim=0).mean()),  # data variance σ₀² per coordinate
        "alpha_bar": s.alphas_cumprod.numpy(),
        "beta": s.betas.numpy(),
    }


@st.cache_data(max_entries=64, show_spinner=False)
def closed_form_at(data: DataChoice, sched: ScheduleChoice, t: int) -> dict:
    """x_t by the closed-form jump (DDPM eq. 4), its distance to the chain's x_t and a noise floor."""
    s = sched.build()
    run = forward_run(data, sched)
    x0 = torch.tensor(run["traj"][0])  # copies: the shared arrays are read-only
    g = STREAMS["closed_form_jump"].generator(data.seed, t)
    jump = q_sample(x0, t, s, generator=g)
    other = q_sample(x0, t, s, generator=g)  # a second independent jump: the sampling-noise floor
    chain = torch.tensor(run["traj"][t])
    return {
        "jump": jump.numpy(),
        "sw_chain_vs_jump": sliced_wasserstein(chain, jump, n_projections=SW_PROJECTIONS),
        "sw_floor": sliced_wasserstein(other, jump, n_projections=SW_PROJECTIONS),
    }


def forward_reverse_distance(data: DataChoice, sched: ScheduleChoice, rev: ReverseChoice, t: int) -> tuple[float, float]:
    """SW between the forward chain's x_t and a reverse run's x_t, and between two independent forward
    chains' x_t (the second drawn with the next seed): how close "the same q_t" from both ends is."""
    fwd, other = forward_run(data, sched), forward_run(replace(data, seed=data.seed + 1), sched)
    rev_run = reverse_run(data, sched, rev)
    i = int(np.flatnonzero(rev_run["times"] == t)[0])
    b = torch.tensor(rev_run["xs"][i], dtype=torch.float32)  # copies: the cached arrays are read-only
    m = len(b)  # the reverse run keeps SHOWN points per step: compare as many of each
    a = torch.tensor(fwd["traj"][t][:m])
    return (sliced_wasserstein(a, b, n_projections=SW_PROJECTIONS),
            sliced_wasserstein(a, torch.tensor(other["traj"][t][:m]), n_projections=SW_PROJECTIONS))


_REVERSE_RUNS = BoundedCache(max_entries=6)  # a T = 5,000 run of 5,000 points holds ~400 MB


def reverse_run(data: DataChoice, sched: ScheduleChoice, rev: ReverseChoice, progress=None, on_wait=None) -> dict:
    """Cached: run a sampler from x_T ~ N(0, I) with the chosen score (see _reverse_run); on_wait(n)
    hears how many computations are ahead while it queues for the compute gate."""
    return _REVERSE_RUNS.get_or_compute((data, sched, rev), lambda: _reverse_run(data, sched, rev, progress),
                                        on_wait=on_wait)


def reverse_run_shown(data: DataChoice, sched: ScheduleChoice, rev: ReverseChoice, name: str = "") -> dict:
    """reverse_run with a progress bar while it computes, and a warning if the run diverged."""
    bar = st.empty()
    prefix = f"{name}: " if name else ""
    label = rev.label()
    try:
        total = rev.entry.steps(sched.T, dict(rev.options))

        def progress(i: int) -> None:
            if i % PROGRESS_EVERY == 0 or i == total:
                bar.progress(min(i / total, 1.0), text=f"Sampling {prefix}{label} … {i / total:.0%}")
        def waiting(ahead: int) -> None:
            bar.progress(0.0, text=f"Queued: {ahead} other sampling run{'s' if ahead != 1 else ''} ahead of "
                                   f"{prefix}{label} on this server…")
        out = reverse_run(data, sched, rev, progress=progress, on_wait=waiting)
    except ValueError as err:
        st.error(f"Cannot run {prefix}{label}: {err}")
        st.stop()
    bar.empty()
    if out["diverged"]:
        st.warning(f"**{prefix}{label} diverged.** {out['message']} The pictures show the run up to "
                   "that step.", icon=":material/warning:")
    return out


def _reverse_run(data: DataChoice, sched: ScheduleChoice, rev: ReverseChoice, progress=None) -> dict:
    """Run a sampler from x_T ~ N(0, I) with the chosen score.

    Every step keeps x_t and x̂_0 of the first SHOWN points (what the pages draw: clouds, paths,
    animation frames); the distance to the data is measured on all points at SW_CURVE_POINTS steps
    while the run goes, and the last state is kept whole (float32). A T = 1,000 run of 2,000 points
    holds 8 MB this way (float16, see STORED) instead of 32 MB, and the same at 5,000 points instead of 80 MB.

    x_T depends only on the seed and the number of points, so two settings compared side by
    side start from the same noise. A network's x̂_0 is clipped to ±CLIP_2D by the samplers that
    take clip_x0. progress(i) is called after step i.
    """
    s = sched.build()
    model = score_model(data, rev.score)
    options = rev.kwargs()
    if rev.score != "exact" and "clip_x0" in rev.entry.options:
        options["clip_x0"] = CLIP_2D
    g = STREAMS["reverse_start"].generator(data.seed)
    # drawn on the CPU (the same x_T on every device), then where the model computes: the GPU when present,
    # except for your own network, which stays on the CPU it was trained on
    x_T = torch.randn(data.n, 2, generator=g).to(device_of(model, COMPUTE))
    target = data_points(data, data.n, STREAMS["target"].seed(data.seed))
    target_sorted = SortedSample(target, SW_CURVE_PROJECTIONS)
    planned = {int(i) for i in frame_times(rev.entry.steps(sched.T, dict(rev.options)), SW_CURVE_POINTS)}
    sw: dict[int, float] = {}
    last = x_T  # the whole state where the run is (thinned keeps only SHOWN points of each step)

    def measure(i: int, x: torch.Tensor) -> None:
        if torch.isfinite(x).all():
            sw[i] = target_sorted.distance(x)

    def thinned(steps):
        """The sampler's steps with only the drawn points; SW of the whole state at the planned steps."""
        nonlocal last
        measure(0, x_T)
        i = 0
        for i, step in enumerate(steps, start=1):
            if i in planned:
                measure(i, step.x)
            last = step.x
            yield replace(step, x=step.x[:SHOWN], pred_x0=step.pred_x0[:SHOWN])
        if i not in sw:
            measure(i, last)  # where the run ended, planned or not (a divergence stops it early)

    run = record(thinned(rev.entry.function(model, s, x_T, generator=g, **options)), start=(s.T, x_T[:SHOWN]),
                 progress=progress)
    xs, x0s = run.xs.to(STORED).cpu().numpy(), run.x0s.to(STORED).cpu().numpy()
    floor = sliced_wasserstein(data_points(data, data.n, STREAMS["second_sample"].seed(data.seed)), target,
                               n_projections=SW_CURVE_PROJECTIONS)
    index = sorted(sw)
    return {
        "times": np.array(run.times), "xs": xs, "x0s": x0s, "last": last.cpu().numpy(),
        "sw_index": np.array(index, dtype=int), "sw": np.array([sw[i] for i in index]), "sw_floor": floor,
        "target": target.numpy(), "diverged": run.diverged, "message": run.message,
    }
