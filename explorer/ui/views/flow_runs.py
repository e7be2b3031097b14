"""Cached runs of the Flows & ODEs page: marginals of SDE and ODE runs, inversion round trips, likelihoods,
flow-matching and PF-ODE paths from one x_1, and reflow.

Every run starts from the reverse page's x_T (the reverse_start stream of the data's seed), so "the same
noise" is literally the same tensor on every view and on the reverse page. Small results are st.cache_data;
the reflowed network is held by a BoundedCache so a class shares one training and sees its progress.
"""
from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from explorer.draw import flow_figures as ff
from explorer.nets.checkpoints import load_pretrained
from explorer.draw.figures import Frozen
from explorer.data.datasets import DEFAULT_WORD, TOY_2D
from explorer.diffusion.flows import flow_sample, ode_log_likelihood, round_trip, straightness
from explorer.measure.metrics import sliced_wasserstein
from explorer.diffusion.samplers import heun_sample
from explorer.diffusion.scores import GaussianMixture
from explorer.common.streams import STREAMS
from explorer.nets.training import reflow
from explorer.ui.views import runs, tradeoff_runs as trr
from explorer.ui.bounded_cache import BoundedCache
from explorer.ui.settings import DataChoice, ReverseChoice, ScheduleChoice, score_name
from explorer.ui.sources import data_points, exact_model_for, score_model, toy_points

N_PATHS = 30  # particles whose paths are drawn
MARGINAL_TIMES = 12  # levels at which a run's x_t is compared with q_t
INVERT_STEPS = (2, 5, 10, 20, 50, 100, 200, 500)
LIKELIHOOD_STEPS = (2, 5, 10, 20, 50, 100, 200)
FLOW_STEPS = (1, 2, 4, 8, 16, 32, 64, 128)
N_HELD_OUT = 1000  # held-out points whose mean log-likelihood is measured
EXTENT, PIXELS = 3.0, 40  # the likelihood grid: PIXELS² points over [−EXTENT, EXTENT]²
REFLOW = dict(n_pairs=10_000, steps=2000)  # its time: bench/flows.py, and the page says how long it took


# --- SDE and ODE: the three runs, their paths and their marginals -------------------------------------------------------------------------------
def sde_runs(score: str, T: int, eta: float, steps: int) -> dict[str, tuple[str, ReverseChoice]]:
    """The SDE and ODE view's three samplers from the same x_T: key -> (name, ReverseChoice)."""
    return {"ddpm": (f"DDPM, the SDE ({T} steps)", ReverseChoice.make("ddpm", score, variance="posterior")),
            "ddim": (f"DDIM η = {eta:g} ({steps} steps)", ReverseChoice.make("ddim", score, eta=eta, n_steps=steps)),
            "heun": (f"Heun, the ODE ({steps} steps)", ReverseChoice.make("heun", score, n_steps=steps))}


@st.cache_data(max_entries=64, show_spinner=False)
def path_length(data: DataChoice, sched: ScheduleChoice, rev: ReverseChoice) -> float:
    """Median over the run's stored points of the summed length of their steps; NaN if no point stayed finite."""
    xs = runs.reverse_run(data, sched, rev)["xs"]
    lengths = np.linalg.norm(np.diff(xs.astype(np.float32), axis=0), axis=-1).sum(0)
    lengths = lengths[np.isfinite(lengths)]
    return float(np.median(lengths)) if len(lengths) else float("nan")


def largest_gap(g: dict) -> tuple[float, int]:
    """(the largest ratio of a run's SW to q_t over the floor, the t where it is); (NaN, 0) with no level."""
    if not len(g["t"]):
        return float("nan"), 0
    ratio = g["sw"] / g["floor"]
    return float(ratio.max()), int(g["t"][ratio.argmax()])


@st.cache_data(max_entries=64, show_spinner=False)
def marginal_gaps(data: DataChoice, sched: ScheduleChoice, rev: ReverseChoice) -> dict:
    """SW between the run's x_t (its first stored points) and the forward chain's x_t at MARGINAL_TIMES of the
    levels it visits, with two forward samples' SW at the same t (the floor)."""
    res = runs.reverse_run(data, sched, rev)
    fwd = runs.forward_run(data, sched)["traj"]
    stored = len(res["times"])
    idx = sorted({int(i) for i in np.linspace(1, stored - 1, MARGINAL_TIMES)}) if stored > 1 else []
    t, sw, floor = [], [], []
    for i in idx:
        ti = int(res["times"][i])
        if ti < 1:
            continue
        x = res["xs"][i].astype(np.float32)  # a copy: the cached arrays are read-only
        if not np.isfinite(x).all():
            continue
        q = torch.from_numpy(np.array(fwd[ti][:len(x)], dtype=np.float32))
        t.append(ti)
        sw.append(sliced_wasserstein(torch.from_numpy(x), q))
        floor.append(trr.q_t_floor(data, sched, ti, len(x)))
    return {"t": np.array(t), "sw": np.array(sw), "floor": np.array(floor)}


# --- inversion ------------------------------------------------------------------------------------------------
MAX_PICKED = 200  # points one inversion takes


def chosen_points(data: DataChoice, picks: tuple[int, ...]) -> torch.Tensor:
    """The data's drawn points (the grey cloud on every page) at the indices picks."""
    return torch.from_numpy(toy_points(data)[list(picks)].copy()).float()


@st.cache_data(max_entries=256, show_spinner=False)
def inversion(data: DataChoice, sched: ScheduleChoice, score: str, picks: tuple[int, ...], n_steps: int) -> dict:
    """Encode the data points at indices picks to x_T along the PF-ODE and decode them back (flows.round_trip)."""
    x_0 = chosen_points(data, picks)
    rt = round_trip(score_model(data, score), sched.build(), x_0, n_steps)
    return {"x_0": x_0.numpy(), "x_T": rt["x_T"].float().cpu().numpy(), "back": rt["back"].float().cpu().numpy(),
            "error": rt["error"].cpu().numpy()}


def invert_steps(sched: ScheduleChoice) -> list[int]:
    return [n for n in INVERT_STEPS if n <= sched.T] or [sched.T]


# --- likelihood -----------------------------------------------------------------------------------------------
def mixture_of(data: DataChoice) -> GaussianMixture | None:
    model = exact_model_for(data)
    return model if isinstance(model, GaussianMixture) else None


def grid_points() -> torch.Tensor:
    axis = torch.linspace(-EXTENT, EXTENT, PIXELS)
    gx, gy = torch.meshgrid(axis, axis, indexing="xy")
    return torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)


@st.cache_data(max_entries=64, show_spinner=False)
def likelihood_grid(data: DataChoice, sched: ScheduleChoice, score: str, n_steps: int) -> np.ndarray:
    """log p(x) of the model's PF-ODE on the PIXELS × PIXELS grid (row = y)."""
    ll = ode_log_likelihood(score_model(data, score), sched.build(), grid_points(), n_steps)
    return ll.numpy().reshape(PIXELS, PIXELS)


@st.cache_data(max_entries=16, show_spinner=False)
def true_grid(data: DataChoice) -> np.ndarray | None:
    mix = mixture_of(data)
    return None if mix is None else mix.log_prob(grid_points().double()).float().numpy().reshape(PIXELS, PIXELS)


def held_out(data: DataChoice) -> torch.Tensor:
    """N_HELD_OUT fresh points of the set (the second-sample stream: not the points any run is judged on)."""
    return data_points(data, N_HELD_OUT, STREAMS["second_sample"].seed(data.seed + 1))


@st.cache_data(max_entries=256, show_spinner=False)
def held_out_ll(data: DataChoice, sched: ScheduleChoice, score: str, n_steps: int) -> float:
    return float(ode_log_likelihood(score_model(data, score), sched.build(), held_out(data), n_steps).mean())


@st.cache_data(max_entries=16, show_spinner=False)
def true_held_out_ll(data: DataChoice) -> float | None:
    mix = mixture_of(data)
    return None if mix is None else float(mix.log_prob(held_out(data).double()).mean())


# --- flow matching beside diffusion ---------------------------------------------------------------------------
def flow_available(data: DataChoice) -> str | None:
    """None if a pretrained flow network fits the data set, else why not (a sentence)."""
    if data.name not in TOY_2D:
        return "flow networks ship for the built-in sets only, not for your own points"
    if data.name == "word" and data.word != DEFAULT_WORD:
        return f"the word set's flow network was trained on {DEFAULT_WORD!r}"
    return None


@st.cache_resource(max_entries=8, show_spinner="Loading the flow network…")
def flow_network(name: str):
    """The pretrained velocity network NAME_flow (a VelocityModel); ValueError if it cannot be loaded."""
    return load_pretrained(f"{name}_flow")[0]


_REFLOWED = BoundedCache(max_entries=4)


def reflowed(name: str, progress=None, on_wait=None) -> dict:
    """The flow network of `name` rectified once (training.reflow with REFLOW), shared by every session:
    {"model": VelocityModel, "loss": final smoothed loss, "seconds": training time}."""
    def compute() -> dict:
        model, hist = reflow(flow_network(name), progress=progress, **REFLOW)
        return {"model": model, "loss": hist["loss"][-1], "seconds": hist["seconds"]}
    return _REFLOWED.get_or_compute(name, compute, on_wait=on_wait)


def reflow_ready(name: str) -> bool:
    return _REFLOWED.has(name)


def flow_models(score: str, with_reflow: bool) -> dict[str, tuple[str, str]]:
    """The flow view's models: name -> (colour key, flow_point model key)."""
    models = {f"diffusion PF-ODE (Heun, {score_name(score)})": ("ode", f"ode:{score}"),
              "flow matching (Euler)": ("flow", "flow")}
    if with_reflow:
        models["reflowed (Euler)"] = ("reflow", "reflow")
    return models


def plural(n: int, thing: str) -> str:
    """'1 step', '8 steps'."""
    return f"{n} {thing}" + ("" if n == 1 else "s")


def _x_1(data: DataChoice) -> torch.Tensor:
    return torch.randn(data.n, 2, generator=STREAMS["reverse_start"].generator(data.seed))


def flow_point(data: DataChoice, sched: ScheduleChoice, model: str, n_steps: int) -> dict:
    """_flow_point, keyed by the schedule only where it matters (the diffusion's ODE), whose steps are capped at T:
    the result's "steps" says how many were taken."""
    if model.startswith("ode:"):
        return _flow_point(data, sched, model, min(n_steps, sched.T))
    return _flow_point(data, None, model, n_steps)


@st.cache_resource(max_entries=256, show_spinner=False)
def flow_figure(data: DataChoice, sched: ScheduleChoice, model: str, n_steps: int, name: str) -> Frozen:
    """The paths of flow_point over the data and its samples, frozen and shared."""
    p = flow_point(data, sched, model, n_steps)
    return Frozen(ff.flow_paths(trr.target(data).points.numpy(), p["last"], p["paths"],
                                f"{name}<br>{plural(p['steps'], 'step')}, {plural(p['nfe'], 'evaluation')}"))


@st.cache_data(max_entries=512, show_spinner=False)
def _flow_point(data: DataChoice, sched: ScheduleChoice | None, model: str, n_steps: int) -> dict:
    """One model at n_steps from the reverse page's x_T: model "flow" (Euler), "flow_heun", "reflow" (Euler on the
    reflowed network) or "ode:<score>" (the diffusion's PF-ODE, Heun on the schedule's levels respaced).
    {"sw" to the target, "straightness" (median over all points; "straight_all" per point), "nfe",
    "paths" (N_PATHS, steps + 1, 2), "last"}."""
    x_1 = _x_1(data)
    calls = [0]

    def counted(f):  # the network evaluations a run really makes (Heun skips its correction above σ = 80)
        def call(x, level):
            calls[0] += 1
            return f(x, level)
        return call

    if model.startswith("ode:"):
        steps = list(heun_sample(counted(score_model(data, model[4:])), sched.build(), x_1, n_steps))
    else:
        net = reflowed(data.name)["model"] if model == "reflow" else flow_network(data.name)
        steps = list(flow_sample(counted(net), x_1, n_steps, "heun" if model == "flow_heun" else "euler"))
    nfe = calls[0]
    path = [x_1] + [s.x for s in steps]
    last = path[-1]
    finite = bool(torch.isfinite(last).all())
    straight = straightness(path).numpy() if finite else np.full(len(last), np.nan)
    return {"sw": sliced_wasserstein(last, trr.target(data).points) if finite else np.nan,
            "straightness": float(np.median(straight)), "straight_all": straight, "nfe": nfe, "steps": n_steps,
            "paths": np.stack([p[:N_PATHS].float().numpy() for p in path], axis=1), "last": last.numpy()}
