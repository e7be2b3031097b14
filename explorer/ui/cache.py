"""Cached core computations for the pages, keyed by the validated settings objects.

st.cache_data with max_entries: scrubbing a time slider or revisiting a view reuses stored
states; nothing here recomputes on a rerun with the same settings.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import streamlit as st
import torch

from explorer.checkpoints import PRETRAINED_DIR, CheckpointError, load_pretrained
from explorer.datasets import DEFAULT_WORD, TOY_2D, exact_eps_model, toy_2d
from explorer.evaluation import CLIP_2D
from explorer.forward import chain_noises, forward_trajectory, invert_chain, q_sample
from explorer.metrics import kl_to_standard_normal, sliced_wasserstein
from explorer.samplers import ddim_sample, ddpm_sample, langevin_fixed, langevin_sample, run_to_end
from explorer.schedules import make_schedule, respaced_timesteps
from explorer.scores import EmpiricalData, field_on_grid
from explorer.ui import session
from explorer.ui.controls import DataChoice, ScheduleChoice

ANIMATION_FRAMES = 51  # frames in a client-side animation (t = 0 .. T, evenly spaced)
ANIMATION_POINTS = 1500  # points drawn per animation frame (the first ones of the data set)
SW_PROJECTIONS = 128
SW_CURVE_PROJECTIONS = 64  # fewer directions for the curve over a run: 30 distances per run


def data_points(data: DataChoice, n: int, seed: int) -> torch.Tensor:
    """n points of the chosen data set: a toy set drawn afresh, or a sample of your own points."""
    if data.name == session.YOURS:
        mine = session.get(data.word)
        if mine is None:
            raise ValueError("Your data set is no longer in memory (the server restarted or many models were "
                             "trained since); load it again on the Train your own page.")
        rng = np.random.default_rng(seed)
        pts = mine.points
        idx = rng.integers(0, len(pts), n) if n > len(pts) else rng.permutation(len(pts))[:n]
        return torch.from_numpy(pts[idx].copy())
    return toy_2d(data.name, n, seed, word=data.word)


def frame_times(T: int, n_frames: int = ANIMATION_FRAMES) -> np.ndarray:
    """Evenly spaced integer times from 0 to T, at most n_frames of them."""
    return np.unique(np.linspace(0, T, min(T + 1, n_frames)).round().astype(int))


@st.cache_data(max_entries=8, show_spinner="Running the forward chain…")
def forward_run(data: DataChoice, sched: ScheduleChoice) -> dict:
    """x_0 and the whole chain x_0 .. x_T (DDPM eq. 2), plus per-t variance, as numpy arrays."""
    s = sched.build()
    x0 = data_points(data, data.n, data.seed)
    traj = forward_trajectory(x0, s, generator=torch.Generator().manual_seed(1000 + data.seed))
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
    x0 = torch.from_numpy(run["traj"][0])
    g = torch.Generator().manual_seed(2000 + 7919 * data.seed + t)
    jump = q_sample(x0, t, s, generator=g)
    other = q_sample(x0, t, s, generator=g)  # a second independent jump: the sampling-noise floor
    chain = torch.from_numpy(run["traj"][t])
    return {
        "jump": jump.numpy(),
        "sw_chain_vs_jump": sliced_wasserstein(chain, jump, n_projections=SW_PROJECTIONS),
        "sw_floor": sliced_wasserstein(other, jump, n_projections=SW_PROJECTIONS),
    }


# --- reverse sampling --------------------------------------------------------------------

SAMPLERS = ("ddpm", "ddim", "langevin")
SW_CURVE_POINTS = 30  # steps at which the distance to the data is measured along a run
EXACT_REFERENCE_UI = 1000  # reference points behind the exact score of sets without a formula


@dataclass(frozen=True)
class ReverseChoice:
    sampler: str = "ddpm"  # one of SAMPLERS
    eta: float = 0.0  # DDIM: 0 deterministic, 1 ≈ DDPM
    n_steps: int | None = None  # DDIM: sampling steps (None: T)
    step_rule: str = "ncsn"  # Langevin: "constant", "ncsn" or "snr"
    alpha: float = 1e-4  # Langevin: the constant α, or the rule's scale (ε for ncsn, r for snr)
    n_corrector: int = 1  # Langevin: steps per noise level
    variance: str = "posterior"  # DDPM: σ_t² = β̃_t or β_t
    score: str = "exact"  # "exact", "pretrained" or "session:KEY" (see score_model)

    def label(self) -> str:
        if self.sampler == "ddpm":
            name = f"DDPM (σ² = {'β̃' if self.variance == 'posterior' else 'β'})"
        elif self.sampler == "ddim":
            name = f"DDIM (η = {self.eta:g}, {self.n_steps or 'T'} steps)"
        else:
            rule = f"α = {self.alpha:g}" if self.step_rule == "constant" else f"{self.step_rule} rule, {self.alpha:g}"
            name = f"Langevin ({rule}, {self.n_corrector} per level)"
        return name if self.score == "exact" else f"{name}, {score_name(self.score)}"


@st.cache_resource(max_entries=16, show_spinner=False)
def exact_model(name: str, word: str):
    """The exact ε model of a data set (the mixture's, or EmpiricalData of a 1,000-point sample)."""
    if name == session.YOURS:
        pts = data_points(DataChoice(name, EXACT_REFERENCE_UI, 0, word), EXACT_REFERENCE_UI, 0)
        return EmpiricalData(pts)
    return exact_eps_model(name, n_reference=EXACT_REFERENCE_UI, word=word)


# --- learned scores ----------------------------------------------------------------------

def pretrained_available(data: DataChoice) -> bool:
    """A shipped network exists for this set (the word set's was trained on the default word)."""
    return data.name in TOY_2D and (data.name != "word" or data.word == DEFAULT_WORD) \
        and (PRETRAINED_DIR / f"{data.name}.json").is_file()


@st.cache_resource(max_entries=16, show_spinner="Loading the pretrained network…")
def pretrained_model(name: str):
    return load_pretrained(name)[0]


def score_name(score: str) -> str:
    if score == "exact":
        return "exact score"
    if score == "pretrained":
        return "pretrained network"
    return "your network"


def score_options(data: DataChoice) -> dict[str, str]:
    """{score value: label} offered for this data set: exact, the pretrained network, yours."""
    options = {"exact": "exact"}
    if pretrained_available(data):
        options["pretrained"] = "pretrained network"
    for i, mine in enumerate(session.for_data(data.name, data.word)):
        options[f"session:{mine.key}"] = "your network" + (f" ({mine.label})" if i else "")
    return options


def score_model(data: DataChoice, score: str):
    """The ε model behind a score choice; ValueError with a message if it is not available."""
    if score == "exact":
        return exact_model(data.name, data.word)
    if score == "pretrained":
        if not pretrained_available(data):
            raise ValueError(f"No pretrained network for this data set (the word model knows {DEFAULT_WORD!r}).")
        try:
            return pretrained_model(data.name)
        except CheckpointError as err:
            raise ValueError(f"The pretrained network could not be loaded: {err}") from err
    if score.startswith("session:"):
        mine = session.get(score.split(":", 1)[1])
        if mine is None:
            raise ValueError("Your trained network is no longer in memory; train it again on Train your own.")
        return mine.model
    raise ValueError(f"Unknown score {score!r}.")


def make_sampler(model, s, x_T: torch.Tensor, rev: ReverseChoice, generator: torch.Generator):
    clip = None if rev.score == "exact" else CLIP_2D  # a network's x̂₀ is clipped to the data's box
    if rev.sampler == "ddpm":
        return ddpm_sample(model, s, x_T, generator=generator, variance=rev.variance, clip_x0=clip)
    if rev.sampler == "ddim":
        return ddim_sample(model, s, x_T, eta=rev.eta, generator=generator, n_steps=rev.n_steps, clip_x0=clip)
    if rev.sampler == "langevin":
        size = rev.alpha if rev.step_rule == "constant" else rev.step_rule
        scale = None if rev.step_rule == "constant" else rev.alpha
        return langevin_sample(model, s, x_T, size, n_corrector=rev.n_corrector, generator=generator, scale=scale)
    raise ValueError(f"Unknown sampler {rev.sampler!r}; choose one of {', '.join(SAMPLERS)}.")


class BoundedCache:
    """A process-wide LRU of read-only results, for work that reports progress while it runs.

    st.cache_data replays every element a cached function touches, so a progress bar drawn
    from inside one breaks on the next hit; this cache calls the function only on a miss and
    leaves the drawing to the caller. Arrays are frozen (read-only) before they are shared.
    """

    def __init__(self, max_entries: int):
        self.max_entries = max_entries
        self._store: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, key, compute):
        with self._lock:
            if key in self._store:
                self._store.move_to_end(key)
                return self._store[key]
        value = compute()
        for v in value.values():
            if isinstance(v, np.ndarray):
                v.flags.writeable = False
        with self._lock:
            self._store[key] = value
            while len(self._store) > self.max_entries:
                self._store.popitem(last=False)
        return value

    def __contains__(self, key) -> bool:
        return key in self._store


_REVERSE_RUNS = BoundedCache(max_entries=6)  # a T = 5,000 run of 5,000 points holds ~400 MB


def reverse_run(data: DataChoice, sched: ScheduleChoice, rev: ReverseChoice, progress=None) -> dict:
    """Cached: run a sampler from x_T ~ N(0, I) with the exact score (see _reverse_run)."""
    return _REVERSE_RUNS.get_or_compute((data, sched, rev), lambda: _reverse_run(data, sched, rev, progress))


def reverse_run_shown(data: DataChoice, sched: ScheduleChoice, rev: ReverseChoice, name: str = "") -> dict:
    """reverse_run with a progress bar while it computes, and a warning if the run diverged."""
    bar = st.empty()
    prefix = f"{name}: " if name else ""

    def progress(frac: float) -> None:
        bar.progress(min(frac, 1.0), text=f"Sampling {prefix}{rev.label()} … {frac:.0%}")
    try:
        out = reverse_run(data, sched, rev, progress=progress)
    except ValueError as err:
        st.error(f"Cannot run {rev.label()}: {err}")
        st.stop()
    bar.empty()
    if out["diverged"]:
        st.warning(f"**{prefix}{rev.label()} diverged.** {out['message']} The pictures show the run up to "
                   "that step.", icon=":material/warning:")
    return out


def _reverse_run(data: DataChoice, sched: ScheduleChoice, rev: ReverseChoice, _progress=None) -> dict:
    """Run a sampler from x_T ~ N(0, I) with the exact score; every step's x_t and x̂_0 as numpy.

    x_T depends only on the seed and the number of points, so two settings compared side by
    side start from the same noise. _progress(fraction) is called as steps complete.
    """
    s = sched.build()
    model = score_model(data, rev.score)
    g = torch.Generator().manual_seed(3000 + data.seed)
    x_T = torch.randn(data.n, 2, generator=g)
    steps = make_sampler(model, s, x_T, rev, g)
    n_total = len(respaced_timesteps(s.T, rev.n_steps)) - 1 if rev.sampler == "ddim" else s.T
    times, xs, x0s, last = [s.T], [x_T], [x_T], None
    for i, last in enumerate(steps, start=1):
        times.append(last.t), xs.append(last.x), x0s.append(last.pred_x0)
        if _progress is not None and (i % 25 == 0 or i == n_total):
            _progress(i / n_total)
    xs_np, x0s_np = torch.stack(xs).numpy(), torch.stack(x0s).numpy()
    target = data_points(data, data.n, data.seed + 500)
    idx = np.unique(np.linspace(0, len(times) - 1, min(len(times), SW_CURVE_POINTS)).round().astype(int))
    finite = [i for i in idx if np.isfinite(xs_np[i]).all()]
    sw = [sliced_wasserstein(torch.from_numpy(xs_np[i]), target, n_projections=SW_CURVE_PROJECTIONS)
          for i in finite]
    floor = sliced_wasserstein(data_points(data, data.n, data.seed + 900), target,
                               n_projections=SW_CURVE_PROJECTIONS)
    return {
        "times": np.array(times), "xs": xs_np, "x0s": x0s_np,
        "sw_index": np.array(finite, dtype=int), "sw": np.array(sw), "sw_floor": floor,
        "target": target.numpy(),
        "diverged": bool(last is not None and last.diverged), "message": last.message if last else "",
    }


# --- noise schedules page ----------------------------------------------------------------

@st.cache_data(max_entries=16, show_spinner=False)
def toy_points(data: DataChoice) -> np.ndarray:
    return data_points(data, data.n, data.seed).numpy()


@st.cache_data(max_entries=16, show_spinner="Measuring Var(x_t) along the chain…")
def variance_exhibit(sigma0: float, beta: float, T: int, seed: int, n: int = 2000) -> dict:
    """Claim (a): the geometric schedule's Var(x_t), measured on data with variance σ₀² per coordinate."""
    s = make_schedule("geometric", T, beta=beta)
    x0 = toy_2d("two_moons", n, seed=seed)
    x0 = (x0 - x0.mean(0)) / x0.std(0) * sigma0  # variance exactly σ₀² per coordinate
    traj = forward_trajectory(x0, s, generator=torch.Generator().manual_seed(4000 + seed))
    return {"var": traj.var(dim=1).mean(dim=1).double().numpy(), "alpha_bar": s.alphas_cumprod.numpy()}


@st.cache_data(max_entries=8, show_spinner="Running chains with β = 0.5…")
def half_beta_exhibit(Ts: tuple, seed: int, n: int = 4000) -> list[dict]:
    """Claim (b): what β = 0.5 does. The measured signal left is the slope of x_T regressed on x_0."""
    x0 = toy_2d("two_moons", n, seed=seed).double()
    x0 = x0 - x0.mean(0)
    rows = []
    for T in Ts:
        for kind in ("constant", "geometric"):
            s = make_schedule(kind, T, beta=0.5)
            xT = forward_trajectory(x0, s, generator=torch.Generator().manual_seed(5000 + T))[-1]
            slope = float((xT * x0).sum() / (x0 * x0).sum())  # ≈ √ᾱ_T
            rows.append({"kind": kind, "T": T, "alpha_bar_T": s.alpha_bar_T, "signal_theory": s.alpha_bar_T ** 0.5,
                         "signal_measured": slope, "kl": kl_to_standard_normal(s.alpha_bar_T, x0)})
    return rows


@st.cache_data(max_entries=8, show_spinner="Reversing the chain three ways…")
def reversal_exhibit(T: int, seed: int, n: int = 1000) -> dict:
    """Claim (c): undo the chain with the recorded noise, with fresh noise, and with the score."""
    s = make_schedule("cosine", T)
    x0 = toy_2d("two_moons", n, seed=seed).double()
    g = torch.Generator().manual_seed(6000 + seed)
    traj = forward_trajectory(x0, s, generator=g)
    recorded = invert_chain(traj[-1], s, chain_noises(traj, s))
    fresh = invert_chain(traj[-1], s, torch.randn(traj[1:].shape, generator=g, dtype=torch.float64))
    model = EmpiricalData(toy_2d("two_moons", EXACT_REFERENCE_UI, seed=seed + 77).double())
    scored = run_to_end(ddpm_sample(model, s, traj[-1], generator=g)).x
    target = toy_2d("two_moons", n, seed=seed + 500)
    return {
        "x0": x0.float().numpy(), "xT": traj[-1].float().numpy(),
        "recorded": recorded.float().numpy(), "fresh": fresh.float().numpy(), "scored": scored.float().numpy(),
        "err_recorded": float((recorded - x0).abs().max()),
        "sw": {k: sliced_wasserstein(v, target) for k, v in
               (("recorded", recorded), ("fresh", fresh), ("scored", scored))},
        "sw_floor": sliced_wasserstein(toy_2d("two_moons", n, seed=seed + 900), target),
    }


# --- score & Langevin page ---------------------------------------------------------------

FIELD_EXTENT = 3.0  # the score page shows [−3, 3]²
FIELD_ARROWS = 23  # arrows per side
DENSITY_PIXELS = 90  # heat-map resolution per side
LANGEVIN_PARTICLES = 1000


def spread_subset(points: np.ndarray, k: int) -> np.ndarray:
    """k points spread over the whole set (toy sets are generated part by part: the first k are not)."""
    return points[np.linspace(0, len(points) - 1, min(k, len(points))).round().astype(int)]


def stability_limit(model, alpha_bar: float) -> float:
    """2 × the narrowest variance of q_ᾱ: a Langevin step beyond it makes the iteration explode.

    For a Gaussian of variance v, x ← x − (α/v)x + √(2α)ζ is stable only while α < 2v.
    """
    return 2 * model.narrowest_variance(alpha_bar)


@st.cache_data(max_entries=32, show_spinner="Computing the score field…")
def score_field_at(data: DataChoice, sched: ScheduleChoice, t: int) -> dict:
    """Exact score on a grid, log q_t on a finer grid, and samples of q_t, at step t ≥ 1."""
    s = sched.build()
    ab = float(s.alphas_cumprod[t])
    model = exact_model(data.name, data.word)
    grid, score = field_on_grid(model, ab, FIELD_EXTENT, FIELD_ARROWS)
    axis = torch.linspace(-FIELD_EXTENT, FIELD_EXTENT, DENSITY_PIXELS)
    gx, gy = torch.meshgrid(axis, axis, indexing="xy")
    logp = model.log_prob(torch.stack([gx, gy], -1).reshape(-1, 2), ab).reshape(DENSITY_PIXELS, DENSITY_PIXELS)
    run = forward_run(data, sched)
    return {"grid": grid.numpy(), "score": score.numpy(), "logp": logp.numpy(), "alpha_bar": ab,
            "samples": spread_subset(run["traj"][t], LANGEVIN_PARTICLES), "limit": stability_limit(model, ab)}


@st.cache_data(max_entries=32, show_spinner="Evaluating the network on the grid…")
def learned_field_at(data: DataChoice, sched: ScheduleChoice, t: int, score: str) -> dict:
    """A learned score next to the exact one at step t: its field, the difference, and errors.

    rel_error is E‖s_learned − s_exact‖² / E‖s_exact‖² over samples of q_t (where it matters);
    diff_map is ‖s_learned − s_exact‖ on the heat-map grid.
    """
    s = sched.build()
    ab = float(s.alphas_cumprod[t])
    learned, exact = score_model(data, score), exact_model(data.name, data.word)
    grid, field = field_on_grid(learned, ab, FIELD_EXTENT, FIELD_ARROWS)
    exact_field = torch.from_numpy(score_field_at(data, sched, t)["score"])
    axis = torch.linspace(-FIELD_EXTENT, FIELD_EXTENT, DENSITY_PIXELS)
    gx, gy = torch.meshgrid(axis, axis, indexing="xy")
    fine = torch.stack([gx, gy], -1).reshape(-1, 2)
    scale = 1.0 / max(1.0 - ab, 1e-12) ** 0.5
    with torch.no_grad():
        diff_map = ((learned(fine, ab) - exact(fine, ab)).float() * scale).norm(dim=1)
        xt = torch.from_numpy(spread_subset(forward_run(data, sched)["traj"][t], LANGEVIN_PARTICLES))
        s_l, s_e = -learned(xt, ab).double() * scale, -exact(xt, ab).double() * scale
    rel = float(((s_l - s_e) ** 2).sum(1).mean() / (s_e ** 2).sum(1).mean().clamp_min(1e-30))
    return {"score": field.numpy(), "diff": (field - exact_field).numpy(),
            "diff_map": diff_map.reshape(DENSITY_PIXELS, DENSITY_PIXELS).numpy(), "rel_error": rel}


@st.cache_data(max_entries=32, show_spinner="Running Langevin dynamics…")
def langevin_at(data: DataChoice, sched: ScheduleChoice, t: int, alpha: float, n_steps: int,
                score: str = "exact") -> dict:
    """Langevin at the fixed noise level ᾱ_t from N(0, I): frames, distance to q_t, divergence."""
    s = sched.build()
    ab = float(s.alphas_cumprod[t])
    model = score_model(data, score)
    g = torch.Generator().manual_seed(7000 + data.seed)
    x = torch.randn(LANGEVIN_PARTICLES, 2, generator=g)
    target = torch.from_numpy(forward_run(data, sched)["traj"][t])
    keep = max(1, n_steps // ANIMATION_FRAMES)
    frames, frame_k, sw_k, sw, last = [x.numpy()], [0], [0], [], None
    sw.append(sliced_wasserstein(x, target, n_projections=SW_CURVE_PROJECTIONS))
    for last in langevin_fixed(model, ab, x, alpha, n_steps, generator=g):
        if last.t % keep == 0 or last.diverged or last.t == n_steps:
            frames.append(last.x.numpy()), frame_k.append(last.t)
            if np.isfinite(frames[-1]).all():
                sw.append(sliced_wasserstein(last.x, target, n_projections=SW_CURVE_PROJECTIONS))
                sw_k.append(last.t)
    return {"frames": np.stack(frames), "frame_k": np.array(frame_k), "sw": np.array(sw), "sw_k": np.array(sw_k),
            "diverged": bool(last.diverged), "message": last.message, "steps_done": int(last.t),
            "limit": stability_limit(exact_model(data.name, data.word), ab)}
