"""The frozen settings objects: what the controls build and what every cached computation is keyed by.

No streamlit here: the objects are plain, hashable values, so a cache keys on them and a test or a
lesson can build one without a page.
"""
from __future__ import annotations

from dataclasses import dataclass

from explorer.data.datasets import DEFAULT_WORD
from explorer.diffusion.samplers import SAMPLERS, SamplerEntry
from explorer.diffusion.schedules import NoiseSchedule, make_schedule

YOURS = "yours"  # the data set name of points you uploaded on the Train your own page
SESSION_PREFIX = "session:"  # a score "session:KEY" is the network trained in this session under KEY


@dataclass(frozen=True)
class DataChoice:
    """A 2D data set and how much of it to draw."""

    name: str  # a TOY_2D name, or YOURS
    n: int  # number of points
    seed: int  # which points (and which noise, through explorer.common.streams)
    word: str = DEFAULT_WORD  # the text of the word set
    upload_key: str = ""  # YOURS: the key of your points in the session registry (explorer.ui.session)


@dataclass(frozen=True)
class ScheduleChoice:
    """A noise schedule: make_schedule(kind, T, **params)."""

    kind: str
    T: int
    params: tuple = ()  # ((name, value), ...) in a fixed order: hashable for the caches

    def build(self) -> NoiseSchedule:
        return make_schedule(self.kind, self.T, **dict(self.params))

    def label(self) -> str:
        """The schedule in words for titles and captions: "linear β from 0.0001 to 0.02, T = 1000"."""
        p = dict(self.params)
        if "beta_start" in p or "beta_end" in p:
            knob = f" β from {p.get('beta_start', 0):g} to {p.get('beta_end', 0):g}"
        elif "beta" in p:
            knob = f" β = {p['beta']:g}"
        else:
            knob = ""
        return f"{self.kind}{knob}, T = {self.T}"


def score_name(score: str) -> str:
    """How the app names a score choice: "exact", "pretrained" or "session:KEY"."""
    if score == "exact":
        return "exact score"
    if score == "pretrained":
        return "pretrained network"
    return "your network"


@dataclass(frozen=True)
class ReverseChoice:
    """A sampler of explorer.diffusion.samplers.SAMPLERS with its options, and the score that drives it."""

    sampler: str = "ddpm"  # a key of SAMPLERS
    options: tuple = ()  # ((keyword, value), ...) sorted: the sampler's own keyword options
    score: str = "exact"  # "exact", "pretrained" or SESSION_PREFIX + key

    @classmethod
    def make(cls, sampler: str, score: str = "exact", **options) -> "ReverseChoice":
        return cls(sampler, tuple(sorted(options.items())), score)

    @property
    def entry(self) -> SamplerEntry:
        if self.sampler not in SAMPLERS:
            raise ValueError(f"Unknown sampler {self.sampler!r}; choose one of {', '.join(SAMPLERS)}.")
        return SAMPLERS[self.sampler]

    def kwargs(self) -> dict:
        """The options as keyword arguments of the sampler function (checked against the registry)."""
        return self.entry.kwargs(dict(self.options))

    def label(self) -> str:
        name = self.entry.describe(dict(self.options))
        return name if self.score == "exact" else f"{name}, {score_name(self.score)}"


@dataclass(frozen=True)
class DigitsChoice:
    """Which digits the images page shows: how many, the seed that picks them (and their noise), and the set
    (explorer.ui.views.digit_sets: "mnist", 28×28, or "digits", 8×8)."""

    n: int
    seed: int
    data: str = "digits"
