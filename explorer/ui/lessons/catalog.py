"""The live views a lesson step (or a Break-it preset) can show: the full pages' own cached runs and
figures, with the step's settings, and the quantities each measures.

A view reads its settings (explorer.ui.lessons.settings: the full page's URL keys, checked as the
page checks them), asks the same cached computations the page asks (runs, fields, exhibits,
image_runs) and returns the same frozen figures (cloud_figures, fields, exhibits) — so a step and
"open this in the full page" show one view, computed once for both — plus its measured values.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from explorer.lessons.course import View
from explorer.diffusion.schedules import SCHEDULE_KINDS
from explorer.measure import tradeoffs as tr
from explorer.ui.lessons import (flows as flows, guidance as guidance, noising as noising, sampling as sampling,
                                 tradeoffs as trade)
from explorer.ui import sources
from explorer.ui.controls import BETA_GRID
from explorer.ui.lessons.settings import Reader, Shown


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


_DATA = {"data", "n", "seed"}
_SCHED = {"kind", "T", "beta", "beta_start", "beta_end"}
_SAMPLER = {"score", "sampler", "variance", "eta", "steps", "rule", "alpha", "alpha_snr", "corrector"}


def _view(page, keys, measures, build, check, query=()):
    return LessonView(View(page, frozenset(keys), frozenset(measures), check), build, tuple(query))


_COMPARE_MEASURES = {f"{m}_{k}" for m in ("kl", "alpha_bar_T", "signal_T") for k in SCHEDULE_KINDS}
_IMG = {"kind", "T", "beta", "beta_start", "beta_end", "img_n", "img_seed", "img_data"}
_GUIDE = _SCHED | {"data", "seed", "cls", "scale", "g_hi", "g_lo"}
_CLASS_MEASURES = {f"{m}{w}{net}" for m in ("precision", "recall", "spread") for w in ("", "_w1") for net in ("", "_net")} \
    | {"spread_ratio", "spread_ratio_net", "precision_whole_run", "recall_whole_run", "recall_gain"}
VIEWS: dict[str, LessonView] = {
    "forward.animation": _view("forward", _DATA | _SCHED | {"t"}, {"alpha_bar_T", "signal_T", "var_T", "var_0"},
                               noising.forward_animation,
                               _check(lambda r: (r.data(), noising.animation_t(r, r.schedule())))),
    "forward.step": _view("forward", _DATA | _SCHED | {"t"},
                          {"sw_chain_vs_jump", "sw_floor", "sw_ratio", "alpha_bar_t", "signal_t", "noise_t", "var_t",
                           "var_theory"}, noising.forward_step, _check(lambda r: (r.data(), noising.forward_t(r, r.schedule())))),
    "schedules.compare": _view("schedules", _DATA | {"kinds", "T", "beta", "beta_start", "beta_end"}, _COMPARE_MEASURES,
                               noising.schedules_compare, noising.check_compare),
    "schedules.claim_a": _view("schedules", {"a_sigma0", "a_beta", "a_T", "seed"},
                               {"var_0", "var_T", "alpha_bar_T", "signal_T"}, noising.claim_a,
                               _check(lambda r: (r.number("a_sigma0", 0.1, 3.0, 2.0, step=0.1),
                                                 r.choice("a_beta", BETA_GRID, 0.02), r.whole("a_T", 1, 5000, 1000), r.data()))),
    "schedules.claim_b": _view("schedules", {"seed"}, {"geometric_alpha_bar_T", "geometric_noise_share",
                                                       "constant_alpha_bar_10", "geometric_signal_measured"},
                               noising.claim_b, _check(lambda r: r.data())),
    "schedules.claim_c": _view("schedules", {"c_T", "seed"},
                               {"sw_recorded", "sw_text", "sw_fresh", "sw_scored", "sw_floor", "err_text", "err_recorded",
                                "fresh_spread", "fresh_spread_theory", "scored_over_floor"}, noising.claim_c,
                               _check(lambda r: (r.whole("c_T", 10, 1000, 100), r.data()))),
    "reverse.run": _view("reverse", _DATA | _SCHED | _SAMPLER | {"step"},
                         {"sw_final", "sw_floor", "sw_ratio", "diverged", "t_shown", "steps", "sw_xt", "sw_x0"}, sampling.reverse_run, sampling.check_reverse),
    "reverse.ab": _view("reverse", _DATA | _SCHED | _SAMPLER | {"b_" + k for k in _SAMPLER},
                        {"sw_A", "sw_B", "sw_floor", "sw_A_over_B"}, sampling.reverse_ab, sampling.check_ab, query=[("ab", "1")]),
    "score.field": _view("score", _DATA | _SCHED | {"score_t", "score"},
                         {"alpha_bar_t", "noise_std", "norm_max", "norm_min", "rel_error"}, sampling.score_field,
                         _check(lambda r: (sampling.score_settings(r), r.choice("score", ["exact", "pretrained"], "exact")))),
    "score.langevin": _view("score", _DATA | _SCHED | {"score_t", "alpha", "n_steps", "score"},
                            {"limit", "alpha_over_limit", "diverged", "steps_done", "sw_final", "var_ratio",
                             "var_ratio_narrowest"}, sampling.langevin,
                            _check(sampling.langevin_settings)),
    "images.forward": _view("images", _IMG | {"img_t"}, {"alpha_bar_t", "pixel_std", "pixel_mean", "pixel_std_theory"},
                            sampling.images_forward, _check(lambda r: r.whole("img_t", 0, sampling.image_settings(r)[0].T, 1)),
                            query=[("view", "forward")]),
    "images.reverse": _view("images", _IMG | {"img_score"}, {"copies", "recognised", "classes"}, sampling.images_reverse,
                            _check(lambda r: (sampling.image_settings(r), r.choice("img_score", list(sources.DIGIT_SCORES),
                                                                           "pretrained"))), query=[("view", "reverse")]),
    "tradeoffs.map": _view("tradeoffs", _DATA | {"kind", "sampler"},
                           {"fewest_T_smallest_beta", "fewest_T_largest_beta", "beta_trend", "capped_columns",
                            "smallest_T", "recall_spread"},
                           trade.tradeoffs_map, _check(trade.map_settings), query=[("view", "map")]),
    "tradeoffs.cost": _view("tradeoffs", _DATA | {"kind"}, {f"nfe_{s}" for s in tr.SOLVERS}, trade.tradeoffs_cost,
                            _check(trade.map_settings), query=[("view", "cost")]),
    "flows.sde": _view("flows", _DATA | _SCHED | {"score", "eta", "steps"},
                       {f"{m}_{k}" for m in ("length", "gap") for k in ("ddpm", "ddim", "heun")} | {"length_ratio"},
                       flows.flows_sde, _check(flows.sde_settings), query=[("view", "sde")]),
    "flows.flow": _view("flows", _DATA | _SCHED | {"score", "fl_steps", "reflow"},
                        {"sw_floor"} | {f"{m}_{k}" for m in ("sw", "straight") for k in ("ode", "flow", "reflow")}
                        | {f"one_step_{k}_over_floor" for k in ("ode", "flow", "reflow")} | {"reflow_seconds"},
                        flows.flows_flow, flows.check_flow, query=[("view", "flow")]),
    "guidance.classes": _view("guidance", _GUIDE, _CLASS_MEASURES, guidance.classes, _check(guidance.settings)),
    "guidance.fields": _view("guidance", _GUIDE | {"g_t"}, {"norm_cond", "norm_uncond", "norm_guided", "guided_over_cond",
                                                           "alpha_bar_t"}, guidance.fields, _check(guidance.field_settings)),
    "guidance.sharpened": _view("guidance", _GUIDE, {"sw", "sw_floor", "sw_floor_sd", "sw_over_floor", "noise_z"}, guidance.sharpened,
                                guidance.check_sharpened),
}
SPECS = {name: view.spec for name, view in VIEWS.items()}  # what explorer.lessons.course checks lesson files against
