"""Lesson views of the forward and schedules pages: settings → the very figures and measured values those
pages show (registered in explorer.ui.lessons.catalog)."""
from __future__ import annotations

import math

from explorer.diffusion.schedules import SCHEDULE_KINDS, frame_times
from explorer.ui.views import cloud_figures as cf, exhibits, runs
from explorer.ui.controls import BETA_GRID
from explorer.ui.lessons.settings import Reader, Shown
from explorer.ui.settings import ScheduleChoice


# --- forward --------------------------------------------------------------------------------------------------


def animation_t(r: Reader, sched: ScheduleChoice) -> int:
    """The step the animation opens on (the forward page's t): 0, the data, unless the step is about another."""
    return r.whole("t", 0, sched.T, 0)


def forward_animation(settings: dict) -> Shown:
    r = Reader(settings)
    data, sched = r.data(), r.schedule()
    t = animation_t(r, sched)
    run = runs.forward_run(data, sched)
    ab = float(run["alpha_bar"][-1])
    shown_t = int(frame_times(sched.T, runs.ANIMATION_FRAMES)[cf.nearest_frame(sched, t)])
    return Shown([(cf.forward_animation_at(data, sched, t), f"x_t at t = {shown_t}. ▶ Play runs the chain from t = 0 "
                                                            "to T.")],
                 {"alpha_bar_T": ab, "signal_T": math.sqrt(ab), "var_T": float(run["var"][-1]),
                  "var_0": float(run["var"][0])})


def forward_t(r: Reader, sched: ScheduleChoice) -> int:
    return r.whole("t", 0, sched.T, min(sched.T, max(sched.T // 4, 1)))


def forward_step(settings: dict) -> Shown:
    r = Reader(settings)
    data, sched = r.data(), r.schedule()
    t = forward_t(r, sched)
    run, jump = runs.forward_run(data, sched), runs.closed_form_at(data, sched, t)
    ab = float(run["alpha_bar"][t])
    return Shown([(cf.chain_and_jump(data, sched, t), "Red: the chain, step by step. Green: one jump from x₀.")],
                 {"sw_chain_vs_jump": jump["sw_chain_vs_jump"], "sw_floor": jump["sw_floor"],
                  "sw_ratio": jump["sw_chain_vs_jump"] / jump["sw_floor"], "alpha_bar_t": ab,
                  "signal_t": math.sqrt(ab), "noise_t": math.sqrt(1 - ab), "var_t": float(run["var"][t]),
                  "var_theory": 1 + (run["sigma0_sq"] - 1) * ab})


# --- schedules ------------------------------------------------------------------------------------------------
def kinds(r: Reader) -> list[str]:
    raw = r.settings.get("kinds", ",".join(SCHEDULE_KINDS))
    kinds = [k for k in str(raw).split(",") if k]
    if not kinds or any(k not in SCHEDULE_KINDS for k in kinds):
        raise ValueError(f"'kinds' = {raw!r} must be a comma-separated list of {', '.join(SCHEDULE_KINDS)}.")
    return kinds


def schedule_choices(r: Reader) -> tuple[ScheduleChoice, ...]:
    T = r.whole("T", 1, 5000, 1000)
    beta = r.choice("beta", BETA_GRID, 0.02)
    lo, hi = r.choice("beta_start", BETA_GRID, 1e-4), r.choice("beta_end", BETA_GRID, 0.02)
    params = {"linear": (("beta_start", lo), ("beta_end", hi)), "sigmoid": (("beta_start", lo), ("beta_end", hi)),
              "constant": (("beta", beta),), "geometric": (("beta", beta),), "cosine": ()}
    return tuple(ScheduleChoice(kind, T, params[kind]) for kind in kinds(r))


def check_compare(settings: dict, measure: str) -> None:
    r = Reader(settings)
    schedule_choices(r), r.data()
    kind = measure.rsplit("_", 1)[-1]
    if kind not in kinds(r):
        raise ValueError(f"the measure {measure!r} needs '{kind}' among the kinds {kinds(r)}.")


def schedules_compare(settings: dict) -> Shown:
    r = Reader(settings)
    choices, data = schedule_choices(r), r.data()
    _, rows = exhibits.schedule_comparison(choices, data)
    measures = {}
    for choice, row in zip(choices, rows):
        measures |= {f"kl_{choice.kind}": row["KL(q(x_T|x_0) ‖ N(0,I)) [nats]"], f"alpha_bar_T_{choice.kind}": row["ᾱ_T"],
                     f"signal_T_{choice.kind}": row["signal left √ᾱ_T"]}
    return Shown([(exhibits.panels_figure(choices, data), "β_t, ᾱ_t, signal and noise, and log SNR against t/T.")],
                 measures)


def claim_a(settings: dict) -> Shown:
    r = Reader(settings)
    sigma0, beta = r.number("a_sigma0", 0.1, 3.0, 2.0, step=0.1), r.choice("a_beta", BETA_GRID, 0.02)
    T, seed = r.whole("a_T", 1, 5000, 1000), r.data().seed
    ex = exhibits.variance_exhibit(sigma0, float(beta), T, seed)
    return Shown([(exhibits.variance_figure(sigma0, float(beta), T, seed), "Measured Var(x_t) against the theory.")],
                 {"var_0": float(ex["var"][0]), "var_T": float(ex["var"][-1]),
                  "alpha_bar_T": float(ex["alpha_bar"][-1]), "signal_T": math.sqrt(ex["alpha_bar"][-1])})


HALF_BETA_TS = (1, 2, 5, 10, 100, 1000)  # the schedules page's T values for claim (b)


def claim_b(settings: dict) -> Shown:
    seed = Reader(settings).data().seed
    rows = exhibits.half_beta_exhibit(HALF_BETA_TS, seed)
    at = {(row["kind"], row["T"]): row for row in rows}
    return Shown([(exhibits.half_beta_figure(HALF_BETA_TS, seed), "Signal left in x_T with β = 0.5.")],
                 {"geometric_alpha_bar_T": at["geometric", 1000]["alpha_bar_T"],
                  "geometric_noise_share": 1 - at["geometric", 1000]["alpha_bar_T"],
                  "constant_alpha_bar_10": at["constant", 10]["alpha_bar_T"],
                  "geometric_signal_measured": at["geometric", 1000]["signal_measured"]})


def claim_c(settings: dict) -> Shown:
    r = Reader(settings)
    T, seed = r.whole("c_T", 10, 1000, 100), r.data().seed
    rx = exhibits.reversal_exhibit(T, seed)
    shown = [(exhibits.reversal_figure(T, seed, key), f"Sliced Wasserstein to the data: {rx['sw'][key]:.3f}")
             for key in exhibits.REVERSAL_PANELS]
    return Shown(shown, {**{f"sw_{k}": v for k, v in rx["sw"].items()}, "sw_floor": rx["sw_floor"],
                         "err_text": rx["err_text"], "err_recorded": rx["err_recorded"],
                         "fresh_spread": rx["fresh_spread"], "fresh_spread_theory": rx["fresh_spread_theory"],
                         "scored_over_floor": rx["sw"]["scored"] / rx["sw_floor"]})
