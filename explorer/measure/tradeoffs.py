"""Trade-offs, measured: quality (precision), diversity (recall) and SW over T × β, and every solver's
quality against its number of network evaluations. No streamlit here; explorer/ui/views/tradeoff_runs.py caches.

The map answers the source text's advice about β and T: each cell is a run of the chosen sampler from
the same x_T on make_schedule(kind, T, β) — β for constant and geometric, β_end for linear and sigmoid.
The cost curves run each solver at a given number of network evaluations (NFE) from the same x_T:
with the exact score they show the solver's discretisation error alone, with a network that plus the
network's error.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from scipy.stats import spearmanr

from explorer.diffusion.langevin import langevin_sample
from .metrics import SortedSample, manifold_radii, mode_coverage, precision_recall
from explorer.diffusion.samplers import (SAMPLERS, ddim_sample, ddpm_sample, dpm_solver_sample, heun_sample, pc_sample,
                                         respaced_schedule, run_to_end)
from explorer.diffusion.schedules import NoiseSchedule, make_schedule
from explorer.diffusion.scores import GaussianMixture

MAP_T = (5, 12, 28, 66, 155, 364, 853, 2000)  # log-spaced from 5 to 2,000
MAP_BETA = {  # the β knob of each kind, log-spaced over the values the sliders offer
    "linear": (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2),
    "sigmoid": (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2),
    "constant": (0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5),
    "geometric": (0.001, 0.005, 0.01, 0.05, 0.1, 0.2, 0.5, 0.9),
}
BETA_KNOB = {"linear": "beta_end", "sigmoid": "beta_end", "constant": "beta", "geometric": "beta"}
COST_NFE = (5, 10, 20, 50, 100, 250, 1000)
SOLVERS = ("ddpm", "ddim0", "ddim1", "heun", "dpm", "langevin", "pc")
SOLVER_LABELS = {"ddpm": "DDPM (σ² = β)", "ddim0": "DDIM η = 0", "ddim1": "DDIM η = 1", "heun": "Heun (EDM)",
                 "dpm": "DPM-Solver++(2M)", "langevin": "annealed Langevin (NCSN, 1 per level)",
                 "pc": "predictor–corrector (1 corrector)"}
K_NEIGHBOURS = 5


def map_schedule(kind: str, T: int, beta: float) -> NoiseSchedule:
    """The schedule of one cell: the kind's β knob set to beta (β_start of linear and sigmoid stays 1e-4)."""
    return make_schedule(kind, T, **{BETA_KNOB[kind]: beta})


class Target:
    """The data sample runs are judged against, prepared once: sorted projections (SW) and k-NN radii."""

    def __init__(self, points: torch.Tensor):
        self.points = points
        self.sorted = SortedSample(points, 64)
        self.radii = manifold_radii(points, K_NEIGHBOURS)


def judge(samples: torch.Tensor, target: "Target") -> dict:
    """Precision, recall and SW of samples against the data; a run with non-finite samples is diverged."""
    samples = samples.detach().float().cpu()
    finite = bool(torch.isfinite(samples).all())
    precision, recall = precision_recall(samples, target.points, k=K_NEIGHBOURS, data_radii=target.radii)
    return {"precision": precision, "recall": recall, "diverged": not finite,
            "sw": target.sorted.distance(samples) if finite else math.nan}


def map_cell(eps_model: Callable, kind: str, T: int, beta: float, sampler: str, x_T: torch.Tensor,
             target: Target, generator: torch.Generator, options: dict | None = None,
             mixture: GaussianMixture | None = None) -> dict:
    """One cell of the map: the sampler's run on this schedule, judged (and, given the data's mixture, its mode
    coverage: components covered, weight error); ValueError if the schedule is refused."""
    s = map_schedule(kind, T, beta)
    run = run_to_end(SAMPLERS[sampler].function(eps_model, s, x_T, generator=generator, **(options or {})))
    out = judge(run.x, target)
    if mixture is not None:
        cover = mode_coverage(run.x.detach().float().cpu(), mixture)
        out.update(covered=cover["covered"], weight_error=cover["weight_error"])
    out.update(diverged=out["diverged"] or run.diverged, alpha_bar_T=s.alpha_bar_T)
    return out


class Counting:
    """An ε model that counts its evaluations (one call on a batch is one evaluation)."""

    def __init__(self, model: Callable):
        self.model, self.calls = model, 0

    def __call__(self, x, alpha_bar):
        self.calls += 1
        return self.model(x, alpha_bar)


def solver_run(name: str, eps_model: Callable, s: NoiseSchedule, nfe: int, x_T: torch.Tensor,
               generator: torch.Generator):
    """Solver `name` given about nfe network evaluations on schedule s: its final state and the NFE it used."""
    m = Counting(eps_model)
    n = max(1, min(s.T, nfe))
    if name == "ddpm":  # σ² = β: with σ² = β̃ respaced DDPM is DDIM η = 1 exactly
        run = ddpm_sample(m, respaced_schedule(s, n), x_T, generator=generator, variance="beta")
    elif name in ("ddim0", "ddim1"):
        run = ddim_sample(m, s, x_T, eta=0.0 if name == "ddim0" else 1.0, n_steps=n, generator=generator)
    elif name == "heun":
        run = heun_sample(m, s, x_T, n_steps=max(1, min(s.T, (nfe + 1) // 2)))
    elif name == "dpm":
        run = dpm_solver_sample(m, s, x_T, n_steps=n)
    elif name == "langevin":  # one corrector step per level plus x̂_0: two evaluations a level
        run = langevin_sample(m, respaced_schedule(s, max(1, min(s.T, nfe // 2))), x_T, "ncsn", generator=generator)
    elif name == "pc":
        run = pc_sample(m, respaced_schedule(s, max(1, min(s.T, (nfe + 1) // 2))), x_T, generator=generator)
    else:
        raise ValueError(f"Unknown solver {name!r}; choose one of {', '.join(SOLVERS)}.")
    return run_to_end(run), m.calls


def cost_point(name: str, eps_model: Callable, s: NoiseSchedule, nfe: int, x_T: torch.Tensor, target: Target,
               generator: torch.Generator) -> dict:
    run, used = solver_run(name, eps_model, s, nfe, x_T, generator)
    return {**judge(run.x, target), "nfe": used, "diverged": bool(run.diverged)}


# --- the text's claims, answered from the cells ----------------------------------------------------------------
@dataclass(frozen=True)
class BetaTrend:
    """Whether a larger β needs more steps: per β column, the fewest T on the grid whose precision reaches the
    target. A column that reaches it already at the smallest T is capped (its true fewest T may be lower: the grid
    cannot rank such columns among themselves), one that never reaches it is left out of the correlation."""

    needed: tuple[tuple[float, float], ...]  # (β, fewest T or inf) for every column with ≥ 3 cells known
    capped: tuple[float, ...]  # the βs whose fewest T is the grid's smallest T
    corr: float  # Spearman's rank correlation of β and the fewest T over the columns that reach it (average ranks
    # for ties); NaN when undefined: fewer than 3 such columns, or all of them need the same T

    @property
    def reached(self) -> list[tuple[float, float]]:
        return [(b, T) for b, T in self.needed if math.isfinite(T)]

    @property
    def never(self) -> list[float]:
        return [b for b, T in self.needed if not math.isfinite(T)]

    @property
    def words(self) -> str:
        if not math.isfinite(self.corr):
            return "no trend"
        return ("a larger β needed more steps" if self.corr > 0.3 else "a larger β needed fewer steps"
                if self.corr < -0.3 else "no clear trend with β")


def beta_trend(Ts, betas, precision: np.ndarray, target_precision: float = 0.9) -> BetaTrend:
    """The fewest T reaching target_precision in each β column of precision ((len(Ts), len(betas)), NaN where not
    computed or diverged) and Spearman's rank correlation of β with it (scipy.stats.spearmanr)."""
    needed = []
    for j, b in enumerate(betas):
        col = precision[:, j]
        if np.isfinite(col).sum() >= 3:
            ok = [T for T, p in zip(Ts, col) if np.isfinite(p) and p >= target_precision]
            needed.append((float(b), float(ok[0]) if ok else math.inf))
    reached = [(b, T) for b, T in needed if math.isfinite(T)]
    corr = math.nan
    if len(reached) >= 3 and len({T for _, T in reached}) > 1:
        corr = float(spearmanr([b for b, _ in reached], [T for _, T in reached])[0])
    return BetaTrend(tuple(needed), tuple(b for b, T in reached if T == min(Ts)), corr)


def verdicts(Ts, betas, precision: np.ndarray, recall: np.ndarray, target_precision: float = 0.9) -> list[str]:
    """Sentences about the map, worded from its cells ((len(Ts), len(betas)) arrays, NaN where not computed or
    diverged). Empty while too few cells are known."""
    out = []
    rising = [(b, recall[:, j]) for j, b in enumerate(betas) if np.isfinite(recall[:, j]).sum() >= 3]
    if rising:
        ups = [b for b, col in rising if col[np.isfinite(col)][-1] > col[np.isfinite(col)][0]]
        first = rising[0][1][np.isfinite(rising[0][1])]
        out.append(f"Does recall (diversity) rise with T at fixed β? In {len(ups)} of {len(rising)} β columns recall is "
                   f"higher at the largest T computed than at the smallest (β = {rising[0][0]:g}: "
                   f"{first[0]:.2f} → {first[-1]:.2f}). "
                   + ("Mostly yes." if len(ups) > len(rising) / 2 else "Mostly no." if len(ups) < len(rising) / 2
                      else "Half and half."))
    bt = beta_trend(Ts, betas, precision, target_precision)
    if len(bt.reached) >= 3:
        listing = ", ".join(f"β = {b:g}: T = {T:g}" for b, T in bt.reached)
        never = f"; never reached for β = {', '.join(f'{b:g}' for b in bt.never)}" if bt.never else ""
        capped = (f" {len(bt.capped)} of these columns (β = {', '.join(f'{b:g}' for b in bt.capped)}) reach it "
                  f"already at the smallest T on the grid, so their true fewest T may be smaller still and the grid "
                  f"cannot rank them." if len(bt.capped) > 1 else "")
        corr = (f"Spearman rank correlation {bt.corr:+.2f}, ties at their average rank" if math.isfinite(bt.corr)
                else "the rank correlation is undefined: every column needs the same T")
        out.append(f"Does a larger β need more steps to reach precision {target_precision:g}? The fewest steps that "
                   f"reached it: {listing}{never}. Here {bt.words} ({corr}).{capped}")
    return out
