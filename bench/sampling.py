"""Core sampling speed: exact-score DDPM and the forward chain.

    python -m bench.sampling [--device cpu|cuda] [--repeats 5]

Budgets (DESIGN.md, 2-core CPU): a 1,000-step DDPM with the exact mixture score on 2,000
points ≤ 0.5 s; forward_trajectory of 10,000 points × 1,000 steps ≤ 250 ms.
"""
from __future__ import annotations


import torch

from bench.common import median_seconds, report, save, start
from explorer.data.datasets import eight_gaussians_mixture, toy_2d
from explorer.diffusion.forward import forward_trajectory
from explorer.diffusion.samplers import ddpm_sample, run_to_end
from explorer.diffusion.schedules import make_schedule


def main() -> None:
    args, device = start(__doc__)

    s = make_schedule("linear", T=1000)
    gm = eight_gaussians_mixture()
    g = torch.Generator(device).manual_seed(0)
    x_T = torch.randn(2000, 2, device=device, generator=g)
    t, _ = median_seconds(lambda: run_to_end(ddpm_sample(gm, s, x_T, generator=g)), args.repeats)
    report("DDPM, exact mixture score, 2,000 points × 1,000 steps", t, 0.5)

    x0 = toy_2d("two_moons", 10_000).to(device)
    t, _ = median_seconds(lambda: forward_trajectory(x0, s, generator=g), args.repeats)
    report("forward_trajectory, 10,000 points × 1,000 steps", t, 0.25, unit="ms")
    save("sampling")


if __name__ == "__main__":
    main()
