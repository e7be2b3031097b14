"""The live views a lesson step (or a Break-it preset) can show: the full pages' own cached runs and
figures, with the step's settings, and the quantities each measures.

A view reads its settings (explorer.ui.lesson_settings: the full page's URL keys, checked as the
page checks them), asks the same cached computations the page asks (runs, fields, exhibits,
image_runs) and returns the same frozen figures (cloud_figures, fields, exhibits) — so a step and
"open this in the full page" show one view, computed once for both — plus its measured values.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from explorer import images
from explorer.lessons import View
from explorer.metrics import sliced_wasserstein
from explorer.schedules import SCHEDULE_KINDS
from explorer.ui import cloud_figures as cf, exhibits, fields, image_runs, runs, sources
from explorer.ui.controls import ALPHA_GRID, BETA_GRID
from explorer.ui.lesson_settings import Reader
from explorer.ui.settings import ScheduleChoice


@dataclass
class Shown:
    """What a view shows: figures (a plotly figure, or an RGB picture as an array) with captions, the
    values it measured, and warnings the full page would give (a divergence)."""

    figures: list[tuple[object, str]]
    measures: dict[str, float]
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class LessonView:
    spec: View
    build: Callable[[dict], Shown]  # settings → Shown (computes, or reuses the cached runs)
    query: tuple[tuple[str, str], ...] = ()  # fixed URL keys of the full page (e.g. the images page's section)

    def link(self, settings: dict[str, str]) -> dict[str, str]:
        """The full page's query parameters for these settings."""
        return {**dict(self.query), **settings}


def _check(build_settings: Callable[[Reader], object]) -> Callable[[dict, str], None]:
    return lambda settings, measure: build_settings(Reader(settings))


# --- forward --------------------------------------------------------------------------------------------------
_DATA = {"data", "n", "seed"}
_SCHED = {"kind", "T", "beta", "beta_start", "beta_end"}
_SAMPLER = {"score", "sampler", "variance", "eta", "steps", "rule", "alpha", "alpha_snr", "corrector"}


def _forward_animation(settings: dict) -> Shown:
    r = Reader(settings)
    data, sched = r.data(), r.schedule()
    run = runs.forward_run(data, sched)
    ab = float(run["alpha_bar"][-1])
    return Shown([(cf.forward_animation(data, sched), "Press ▶ to play the chain from t = 0 to T.")],
                 {"alpha_bar_T": ab, "signal_T": math.sqrt(ab), "var_T": float(run["var"][-1]),
                  "var_0": float(run["var"][0])})


def _forward_t(r: Reader, sched: ScheduleChoice) -> int:
    return r.whole("t", 0, sched.T, min(sched.T, max(sched.T // 4, 1)))


def _forward_step(settings: dict) -> Shown:
    r = Reader(settings)
    data, sched = r.data(), r.schedule()
    t = _forward_t(r, sched)
    run, jump = runs.forward_run(data, sched), runs.closed_form_at(data, sched, t)
    ab = float(run["alpha_bar"][t])
    return Shown([(cf.chain_and_jump(data, sched, t), "Red: the chain, step by step. Green: one jump from x₀.")],
                 {"sw_chain_vs_jump": jump["sw_chain_vs_jump"], "sw_floor": jump["sw_floor"],
                  "sw_ratio": jump["sw_chain_vs_jump"] / jump["sw_floor"], "alpha_bar_t": ab,
                  "signal_t": math.sqrt(ab), "noise_t": math.sqrt(1 - ab), "var_t": float(run["var"][t]),
                  "var_theory": 1 + (run["sigma0_sq"] - 1) * ab})


# --- schedules ------------------------------------------------------------------------------------------------
def _kinds(r: Reader) -> list[str]:
    raw = r.settings.get("kinds", ",".join(SCHEDULE_KINDS))
    kinds = [k for k in str(raw).split(",") if k]
    if not kinds or any(k not in SCHEDULE_KINDS for k in kinds):
        raise ValueError(f"'kinds' = {raw!r} must be a comma-separated list of {', '.join(SCHEDULE_KINDS)}.")
    return kinds


def _schedule_choices(r: Reader) -> tuple[ScheduleChoice, ...]:
    T = r.whole("T", 1, 5000, 1000)
    beta = r.choice("beta", BETA_GRID, 0.02)
    lo, hi = r.choice("beta_start", BETA_GRID, 1e-4), r.choice("beta_end", BETA_GRID, 0.02)
    params = {"linear": (("beta_start", lo), ("beta_end", hi)), "sigmoid": (("beta_start", lo), ("beta_end", hi)),
              "constant": (("beta", beta),), "geometric": (("beta", beta),), "cosine": ()}
    return tuple(ScheduleChoice(kind, T, params[kind]) for kind in _kinds(r))


def _check_compare(settings: dict, measure: str) -> None:
    r = Reader(settings)
    _schedule_choices(r), r.data()
    kind = measure.rsplit("_", 1)[-1]
    if kind not in _kinds(r):
        raise ValueError(f"the measure {measure!r} needs '{kind}' among the kinds {_kinds(r)}.")


def _schedules_compare(settings: dict) -> Shown:
    r = Reader(settings)
    choices, data = _schedule_choices(r), r.data()
    _, rows = exhibits.schedule_comparison(choices, data)
    measures = {}
    for choice, row in zip(choices, rows):
        measures |= {f"kl_{choice.kind}": row["KL(q(x_T|x_0) ‖ N(0,I)) [nats]"], f"alpha_bar_T_{choice.kind}": row["ᾱ_T"],
                     f"signal_T_{choice.kind}": row["signal left √ᾱ_T"]}
    return Shown([(exhibits.panels_figure(choices, data), "β_t, ᾱ_t, signal and noise, and log SNR against t/T.")],
                 measures)


def _claim_a(settings: dict) -> Shown:
    r = Reader(settings)
    sigma0, beta = r.number("a_sigma0", 0.1, 3.0, 2.0, step=0.1), r.choice("a_beta", BETA_GRID, 0.02)
    T, seed = r.whole("a_T", 1, 5000, 1000), r.data().seed
    ex = exhibits.variance_exhibit(sigma0, float(beta), T, seed)
    return Shown([(exhibits.variance_figure(sigma0, float(beta), T, seed), "Measured Var(x_t) against the theory.")],
                 {"var_0": float(ex["var"][0]), "var_T": float(ex["var"][-1]),
                  "alpha_bar_T": float(ex["alpha_bar"][-1]), "signal_T": math.sqrt(ex["alpha_bar"][-1])})


HALF_BETA_TS = (1, 2, 5, 10, 100, 1000)  # the schedules page's T values for claim (b)


def _claim_b(settings: dict) -> Shown:
    seed = Reader(settings).data().seed
    rows = exhibits.half_beta_exhibit(HALF_BETA_TS, seed)
    at = {(row["kind"], row["T"]): row for row in rows}
    return Shown([(exhibits.half_beta_figure(HALF_BETA_TS, seed), "Signal left in x_T with β = 0.5.")],
                 {"geometric_alpha_bar_T": at["geometric", 1000]["alpha_bar_T"],
                  "geometric_noise_share": 1 - at["geometric", 1000]["alpha_bar_T"],
                  "constant_alpha_bar_10": at["constant", 10]["alpha_bar_T"],
                  "geometric_signal_measured": at["geometric", 1000]["signal_measured"]})


def _claim_c(settings: dict) -> Shown:
    r = Reader(settings)
    T, seed = r.whole("c_T", 10, 1000, 100), r.data().seed
    rx = exhibits.reversal_exhibit(T, seed)
    shown = [(exhibits.reversal_figure(T, seed, key), f"Sliced Wasserstein to the data: {rx['sw'][key]:.3f}")
             for key in exhibits.REVERSAL_PANELS]
    return Shown(shown, {**{f"sw_{k}": v for k, v in rx["sw"].items()}, "sw_floor": rx["sw_floor"],
                         "err_text": rx["err_text"], "err_recorded": rx["err_recorded"],
                         "fresh_spread": rx["fresh_spread"], "fresh_spread_theory": rx["fresh_spread_theory"],
                         "scored_over_floor": rx["sw"]["scored"] / rx["sw_floor"]})


# --- reverse --------------------------------------------------------------------------------------------------
def _reverse_settings(r: Reader):
    data, sched = r.data("eight_gaussians"), r.schedule()
    return data, sched, r.sampler(sched)


def _stored_step(r: Reader, sched: ScheduleChoice, rev) -> int:
    K = rev.entry.steps(sched.T, dict(rev.options))
    return r.whole("step", 0, K, K)


def _check_reverse(settings: dict, measure: str) -> None:
    r = Reader(settings)
    data, sched, rev = _reverse_settings(r)
    _stored_step(r, sched, rev)
    if rev.score == "pretrained" and not sources.pretrained_available(data):
        raise ValueError(f"no pretrained network ships for {data.name!r}.")


def _diverged(res: dict, rev) -> list[str]:
    return [f"**{rev.label()} diverged.** {res['message']}"] if res["diverged"] else []


def _final_sw(res: dict) -> float:
    return float(res["sw"][-1]) if len(res["sw"]) else float("nan")


def _reverse_run(settings: dict) -> Shown:
    r = Reader(settings)
    data, sched, rev = _reverse_settings(r)
    res = runs.reverse_run(data, sched, rev)
    k = min(_stored_step(r, sched, rev), cf.stored_steps(res))  # a diverged run stops early
    t, K = int(res["times"][k]), cf.stored_steps(res)
    target = torch.tensor(res["target"][:cf.DRAWN])
    sw_xt, sw_x0 = (sliced_wasserstein(torch.tensor(res[key][k], dtype=torch.float32), target, n_projections=128)
                    for key in ("xs", "x0s"))
    return Shown([(cf.state_cloud(data, sched, rev, k, f"x_t at t = {t} (step {k} of {K})"), "The samples x_t."),
                  (cf.estimate_cloud(data, sched, rev, k), "The model's guess x̂₀ at the same step.")],
                 {"sw_final": _final_sw(res), "sw_floor": res["sw_floor"], "sw_ratio": _final_sw(res) / res["sw_floor"],
                  "diverged": float(res["diverged"]), "t_shown": float(t), "steps": float(K),
                  "sw_xt": sw_xt, "sw_x0": sw_x0},
                 _diverged(res, rev))


def _reverse_ab(settings: dict) -> Shown:
    r = Reader(settings)
    data, sched, rev_a = _reverse_settings(r)
    rev_b = r.sampler(sched, prefix="b_", default_score="pretrained")
    out = {name: runs.reverse_run(data, sched, rev) for name, rev in (("A", rev_a), ("B", rev_b))}
    shown = [(cf.state_cloud(data, sched, rev, cf.stored_steps(out[name]),
                             f"{name}: {rev.label()} — t = {int(out[name]['times'][-1])}"), f"Sampler {name}.")
             for name, rev in (("A", rev_a), ("B", rev_b))]
    sw_a, sw_b = _final_sw(out["A"]), _final_sw(out["B"])
    return Shown(shown, {"sw_A": sw_a, "sw_B": sw_b, "sw_floor": out["A"]["sw_floor"], "sw_A_over_B": sw_a / sw_b},
                 _diverged(out["A"], rev_a) + _diverged(out["B"], rev_b))


def _check_ab(settings: dict, measure: str) -> None:
    _check_reverse(settings, measure)
    r = Reader(settings)
    r.sampler(r.schedule(), prefix="b_", default_score="pretrained")


# --- score & Langevin -----------------------------------------------------------------------------------------
def _score_settings(r: Reader):
    data, sched = r.data("eight_gaussians"), r.schedule()
    return data, sched, r.whole("score_t", 1, sched.T, min(sched.T, max(1, sched.T // 10)))


def _score_field(settings: dict) -> Shown:
    r = Reader(settings)
    data, sched, t = _score_settings(r)
    score = r.choice("score", ["exact", "pretrained"], "exact")
    fld = fields.score_field_at(data, sched, t)
    norms = np.linalg.norm(fld["score"], axis=-1)
    measures = {"alpha_bar_t": fld["alpha_bar"], "noise_std": math.sqrt(1 - fld["alpha_bar"]),
                "norm_max": float(norms.max()), "norm_min": float(norms.min()), "rel_error": 0.0}
    if score == "exact":
        return Shown([(fields.field_figure(data, sched, t), "Arrows: the score; shading: log q_t; dots: samples of x_t.")],
                     measures)
    learned, (left, right) = fields.learned_field_at(data, sched, t, score), fields.comparison_figures(data, sched, t, score)
    return Shown([(left, "The network's score."), (right, "Where it differs from the exact one (red: larger).")],
                 {**measures, "rel_error": learned["rel_error"]})


def _langevin_settings(r: Reader):
    data, sched, t = _score_settings(r)
    alpha = float(r.choice("alpha", ALPHA_GRID, 0.01))
    return data, sched, t, alpha, r.whole("n_steps", 10, 2000, 300, step=10), r.choice("score", ["exact", "pretrained"], "exact")


def _langevin(settings: dict) -> Shown:
    data, sched, t, alpha, n_steps, score = _langevin_settings(Reader(settings))
    lv = fields.langevin_at(data, sched, t, alpha, n_steps, score)
    warn = [f"**α = {alpha:g} is too large: Langevin diverged.** {lv['message']} The stability limit of the "
            f"narrowest bump of q_t is {lv['limit']:.3g}."] if lv["diverged"] else []
    return Shown([(fields.field_figure(data, sched, t, alpha, n_steps, score), "The particles where Langevin left them."),
                  (fields.langevin_distance_figure(data, sched, t, alpha, n_steps, score), "Their distance to q_t.")],
                 {"limit": lv["limit"], "alpha_over_limit": alpha / lv["limit"], "diverged": float(lv["diverged"]),
                  "steps_done": float(lv["steps_done"]),
                  "sw_final": float(lv["sw"][-1]) if len(lv["sw"]) else float("nan")}, warn)


# --- images ---------------------------------------------------------------------------------------------------
def _image_settings(r: Reader):
    return r.schedule("cosine", 250, T_max=1000), r.digits()


def _images_forward(settings: dict) -> Shown:
    r = Reader(settings)
    sched, pick = _image_settings(r)
    t = r.whole("img_t", 0, sched.T, min(sched.T, max(1, sched.T // 5)))
    fwd = image_runs.forward_digits(sched, pick)
    ab = float(fwd["alpha_bar"][t])
    return Shown([(images.picture(images.grid(fwd["xs"][t], ncol=fwd["ncol"])), f"x_t at t = {t}")],
                 {"alpha_bar_t": ab, "pixel_std": float(fwd["std"][t]), "pixel_mean": float(fwd["mean"][t]),
                  "pixel_std_theory": math.sqrt(1 + (fwd["var0"] - 1) * ab)})


def _images_reverse(settings: dict) -> Shown:
    r = Reader(settings)
    sched, pick = _image_settings(r)
    score = r.choice("img_score", list(sources.DIGIT_SCORES), "pretrained")
    rev = image_runs.reverse_digits(sched, pick, score)
    return Shown([(images.picture(images.grid(rev["xs"][-1], ncol=rev["ncol"])), "The final samples."),
                  (images.picture(images.grid(rev["nearest"], ncol=rev["ncol"])), "The nearest training digit of each.")],
                 {"copies": rev["copies"], "recognised": rev["recognised"], "classes": float(rev["classes"])},
                 [f"The run diverged. {rev['message']}"] if rev["diverged"] else [])


def _view(page, keys, measures, build, check, query=()):
    return LessonView(View(page, frozenset(keys), frozenset(measures), check), build, tuple(query))


_COMPARE_MEASURES = {f"{m}_{k}" for m in ("kl", "alpha_bar_T", "signal_T") for k in SCHEDULE_KINDS}
_IMG = {"kind", "T", "beta", "beta_start", "beta_end", "img_n", "img_seed"}
VIEWS: dict[str, LessonView] = {
    "forward.animation": _view("forward", _DATA | _SCHED, {"alpha_bar_T", "signal_T", "var_T", "var_0"},
                               _forward_animation, _check(lambda r: (r.data(), r.schedule()))),
    "forward.step": _view("forward", _DATA | _SCHED | {"t"},
                          {"sw_chain_vs_jump", "sw_floor", "sw_ratio", "alpha_bar_t", "signal_t", "noise_t", "var_t",
                           "var_theory"}, _forward_step, _check(lambda r: (r.data(), _forward_t(r, r.schedule())))),
    "schedules.compare": _view("schedules", _DATA | {"kinds", "T", "beta", "beta_start", "beta_end"}, _COMPARE_MEASURES,
                               _schedules_compare, _check_compare),
    "schedules.claim_a": _view("schedules", {"a_sigma0", "a_beta", "a_T", "seed"},
                               {"var_0", "var_T", "alpha_bar_T", "signal_T"}, _claim_a,
                               _check(lambda r: (r.number("a_sigma0", 0.1, 3.0, 2.0, step=0.1),
                                                 r.choice("a_beta", BETA_GRID, 0.02), r.whole("a_T", 1, 5000, 1000), r.data()))),
    "schedules.claim_b": _view("schedules", {"seed"}, {"geometric_alpha_bar_T", "geometric_noise_share",
                                                       "constant_alpha_bar_10", "geometric_signal_measured"},
                               _claim_b, _check(lambda r: r.data())),
    "schedules.claim_c": _view("schedules", {"c_T", "seed"},
                               {"sw_recorded", "sw_text", "sw_fresh", "sw_scored", "sw_floor", "err_text", "err_recorded",
                                "fresh_spread", "fresh_spread_theory", "scored_over_floor"}, _claim_c,
                               _check(lambda r: (r.whole("c_T", 10, 1000, 100), r.data()))),
    "reverse.run": _view("reverse", _DATA | _SCHED | _SAMPLER | {"step"},
                         {"sw_final", "sw_floor", "sw_ratio", "diverged", "t_shown", "steps", "sw_xt", "sw_x0"}, _reverse_run, _check_reverse),
    "reverse.ab": _view("reverse", _DATA | _SCHED | _SAMPLER | {"b_" + k for k in _SAMPLER},
                        {"sw_A", "sw_B", "sw_floor", "sw_A_over_B"}, _reverse_ab, _check_ab, query=[("ab", "1")]),
    "score.field": _view("score", _DATA | _SCHED | {"score_t", "score"},
                         {"alpha_bar_t", "noise_std", "norm_max", "norm_min", "rel_error"}, _score_field,
                         _check(lambda r: (_score_settings(r), r.choice("score", ["exact", "pretrained"], "exact")))),
    "score.langevin": _view("score", _DATA | _SCHED | {"score_t", "alpha", "n_steps", "score"},
                            {"limit", "alpha_over_limit", "diverged", "steps_done", "sw_final"}, _langevin,
                            _check(_langevin_settings)),
    "images.forward": _view("images", _IMG | {"img_t"}, {"alpha_bar_t", "pixel_std", "pixel_mean", "pixel_std_theory"},
                            _images_forward, _check(lambda r: r.whole("img_t", 0, _image_settings(r)[0].T, 1)),
                            query=[("view", "forward")]),
    "images.reverse": _view("images", _IMG | {"img_score"}, {"copies", "recognised", "classes"}, _images_reverse,
                            _check(lambda r: (_image_settings(r), r.choice("img_score", list(sources.DIGIT_SCORES),
                                                                           "pretrained"))), query=[("view", "reverse")]),
}
SPECS = {name: view.spec for name, view in VIEWS.items()}  # what explorer.lessons checks lesson files against
