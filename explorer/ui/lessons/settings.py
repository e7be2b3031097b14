"""A lesson step's settings → the settings objects the full pages build from their widgets.

A step names its settings by the full page's URL keys with the values that page's widgets offer, so
"open this in the full page" is that page's URL and shows the very same view. Reading them here
checks each value as the page would (a T in its range, a β on the page's grid); a value the page
would refuse is a ValueError naming the key, which the lesson loader reports with file and step.
No streamlit widgets here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from explorer.data.datasets import DEFAULT_WORD, TOY_2D
from explorer.diffusion.samplers import SAMPLERS, SNR_DEFAULT
from explorer.diffusion.schedules import DEFAULT_PARAMS, SCHEDULE_KINDS
from explorer.ui.controls import (ALPHA_GRID, BETA_GRID, DIGIT_SETS, DIGITS_IN_GRID, LANGEVIN_DEFAULT, MNIST_IN_GRID,
                                  RULE_NAMES, SNR_GRID, T_MAX_UI, step_size_options)
from explorer.ui.settings import DataChoice, DigitsChoice, ReverseChoice, ScheduleChoice


class Reader:
    """Values of one step's settings, each checked against what the full page's widget offers."""

    def __init__(self, settings: dict):
        self.settings = dict(settings)

    def choice(self, key: str, options: Sequence, default):
        value = self.settings.get(key, default)
        by_text = {str(o): o for o in options}
        if str(value) not in by_text:
            shown = ", ".join(map(str, options)) if len(options) <= 12 else f"{options[0]} … {options[-1]}"
            raise ValueError(f"'{key}' = {value!r} is not a value the full page offers ({shown}).")
        return by_text[str(value)]

    def whole(self, key: str, lo: int, hi: int, default: int, step: int = 1) -> int:
        value = self.settings.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value) \
                or not lo <= value <= hi or (value - lo) % step:
            every = f" in steps of {step}" if step > 1 else ""
            raise ValueError(f"'{key}' = {value!r} must be a whole number from {lo} to {hi}{every}.")
        return int(value)

    def number(self, key: str, lo: float, hi: float, default: float, step: float | None = None) -> float:
        value = self.settings.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi \
                or step and abs(round((value - lo) / step) * step + lo - value) > 1e-9:
            every = f" in steps of {step:g}" if step else ""
            raise ValueError(f"'{key}' = {value!r} must be a number from {lo:g} to {hi:g}{every}.")
        return float(value)

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.settings.get(key, default)
        if not isinstance(value, bool):
            raise ValueError(f"'{key}' = {value!r} must be true or false.")
        return value

    # --- the shared controls of explorer.ui.controls, read from settings --------------------------------
    def data(self, default: str = "two_moons", n_default: int = 2000) -> DataChoice:
        name = self.choice("data", list(TOY_2D), default)
        return DataChoice(name, self.whole("n", 100, 5000, n_default, step=100), self.whole("seed", 0, 99, 0), DEFAULT_WORD)

    def schedule(self, default_kind: str = "linear", default_T: int = 1000, T_max: int = T_MAX_UI,
                 prefix: str = "") -> ScheduleChoice:
        kind = self.choice(prefix + "kind", list(SCHEDULE_KINDS), default_kind)
        T = self.whole(prefix + "T", 1, T_max, default_T)
        if kind in ("constant", "geometric"):
            params = (("beta", self.choice(prefix + "beta", BETA_GRID, DEFAULT_PARAMS[kind]["beta"])),)
        elif kind in ("linear", "sigmoid"):
            params = (("beta_start", self.choice(prefix + "beta_start", BETA_GRID, DEFAULT_PARAMS[kind]["beta_start"])),
                      ("beta_end", self.choice(prefix + "beta_end", BETA_GRID, DEFAULT_PARAMS[kind]["beta_end"])))
        else:
            params = ()
        return ScheduleChoice(kind, T, params)

    def sampler(self, sched: ScheduleChoice, prefix: str = "", default_score: str = "exact") -> ReverseChoice:
        score = self.choice(prefix + "score", ["exact", "pretrained"], default_score)
        sampler = self.choice(prefix + "sampler", list(SAMPLERS), "ddpm")
        if sampler == "ddpm":
            options = {"variance": self.choice(prefix + "variance", ["posterior", "beta"], "posterior")}
        elif sampler == "ddim":
            options = {"eta": self.number(prefix + "eta", 0.0, 1.0, 0.0, step=0.1),
                       "n_steps": self.whole(prefix + "steps", 1, sched.T, min(sched.T, 50))}
        elif sampler in ("heun", "dpm"):
            options = {"n_steps": self.whole(prefix + "steps", 1, sched.T, min(sched.T, 50))}
        elif sampler == "pc":
            options = {"n_corrector": self.whole(prefix + "corrector", 0, 5, 1),
                       "r": float(self.choice(prefix + "alpha_snr", SNR_GRID, SNR_DEFAULT))}
        else:
            rule = self.choice(prefix + "rule", list(RULE_NAMES), "ncsn")
            value = (self.choice(prefix + "alpha_snr", SNR_GRID, SNR_DEFAULT) if rule == "snr"
                     else self.choice(prefix + "alpha", ALPHA_GRID, LANGEVIN_DEFAULT))
            options = {**step_size_options(rule, float(value)),
                       "n_corrector": self.whole(prefix + "corrector", 1, 10, 1)}
        return ReverseChoice.make(sampler, score, **options)

    def digits(self) -> DigitsChoice:
        data = self.choice("img_data", list(DIGIT_SETS), "digits")
        grid = MNIST_IN_GRID if data == "mnist" else DIGITS_IN_GRID
        return DigitsChoice(self.choice("img_n", list(grid), grid[-1]), self.whole("img_seed", 0, 99, 0), data)


@dataclass
class Shown:
    """What a lesson view shows: figures (a plotly figure, or an RGB picture as an array) with captions, the
    values it measured, and warnings the full page would give (a divergence)."""

    figures: list[tuple[object, str]]
    measures: dict[str, float]
    warnings: list[str] = field(default_factory=list)
