"""Named random streams: which seed every cached computation draws from.

Why streams must differ: two computations that drew from the same seed would share their noise.
The "independent" second data sample would then equal the target and show a distance of 0, the
reverse run's x_T would repeat the forward chain's first noise, and a second closed-form jump
would be the first one again. A stream is a base plus the user's seed (times `per_seed`) plus an
optional step, so every view is reproducible. Some bases repeat where streams never meet in one
computation (they keep the seeds the explorer has always used, so views look as they did). Streams drawn for
one comparison never meet for the seeds 0–99 the app offers (tests/test_streams.py): the data
seeds (target, second sample, reference set) lie 400 or more apart, and the closed-form jumps
stride 7919, a prime above T_MAX_UI = 5,000, per seed, so every (seed, t) gets a seed of its own.
Streams for toy data sets seed toy_2d; the others seed torch generators.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Stream:
    base: int  # where the stream starts
    per_seed: int  # how far one step of the user's seed moves it (0: the user's seed does not matter)
    what: str  # what is drawn from it

    def seed(self, seed: int = 0, step: int = 0) -> int:
        return self.base + self.per_seed * int(seed) + int(step)

    def generator(self, seed: int = 0, step: int = 0, device: str | torch.device = "cpu") -> torch.Generator:
        return torch.Generator(device).manual_seed(self.seed(seed, step))


STREAMS: dict[str, Stream] = {s_name: s for s_name, s in (
    ("data", Stream(0, 1, "the data set's own points: toy_2d with the user's seed, or a sample of your points")),
    ("exact_reference", Stream(12_345, 0, "the reference points behind the exact score of a set without a formula")),
    ("target", Stream(500, 1, "the data sample a run's samples are compared with (a toy-set seed)")),
    ("second_sample", Stream(900, 1, "a second data sample: the distance two data samples are apart")),
    ("reference_set", Stream(77, 1, "the reference points behind the exact score of the reversal exhibit")),
    ("forward_chain", Stream(1000, 1, "η_1..η_T of the forward chain on the 2D pages")),
    ("closed_form_jump", Stream(2000, 7919, "ε of the closed-form jumps at step t (the step is added)")),
    ("reverse_start", Stream(3000, 1, "x_T ~ N(0, I) and the noise of a 2D reverse run")),
    ("variance_exhibit", Stream(4000, 1, "the chain behind claim (a), Var(x_t) under the geometric schedule")),
    ("half_beta_exhibit", Stream(5000, 0, "the chains behind claim (b), β = 0.5 (T is added)")),
    ("reversal_exhibit", Stream(6000, 1, "the chain and the fresh noise of claim (c)")),
    ("langevin", Stream(7000, 1, "start and noise of Langevin at one noise level")),
    ("digits_forward", Stream(8000, 1, "the noise of the digits' forward chain")),
    ("digits_reverse", Stream(9000, 1, "x_T and the noise of a digits reverse run")),
    ("inpainting", Stream(10_000, 1, "x_T and the noise of an inpainting run")),
    ("variations", Stream(11_000, 1, "the noising to t₀ and the denoising of variations")),
    ("picture", Stream(12_000, 1, "the one noise image that dissolves your picture")),
    ("super_resolution", Stream(13_000, 1, "x_T and the noise of the super-resolution runs")),
    ("sketch", Stream(14_000, 1, "the noising to t₀ and the denoising of a sketch")),
    ("digit_pick", Stream(0, 1, "which digits the images page shows")),
    ("inpainting_pick", Stream(1, 1, "which digits are inpainted")),
    ("training_levels", Stream(0, 0, "the noise levels drawn for the Train page's histogram")),
    ("training_snapshot", Stream(0, 0, "x_T and the noise of the samples drawn while a network trains")),
    ("quality_start", Stream(0, 1, "x_T and the noise of the samples a trained model is judged by")),
    ("quality_fresh", Stream(10_000, 1, "fresh data that a trained model's samples are measured against")),
    ("quality_other", Stream(20_000, 1, "a second fresh data set: the quality bar")),
    ("mnist_guided", Stream(32_000, 1, "x_T of the MNIST class-and-guidance view")),
    ("judge_reference", Stream(30_000, 0, "the large sample a learned score of a set without a formula is judged by")),
    ("judge_reference_2", Stream(31_000, 0, "a second such sample: how far the judge is from the true score")),
)}
