"""The Guidance page's costs, timed as the server runs them (one torch thread).

    python -m bench.guidance [--repeats 5]

- a guided run with the conditional network, 2,000 points × 1,000 DDPM steps, w = 3 (both branches from one
  pass per step: the trunk gives ε_u, the class head ε_c − ε_u) against the unguided run (the conditional
  branch alone, w = 1): budget ≤ 1.3×; for comparison the same guided run with two separate passes per step;
- the page rerun after the scale slider moves between two cached values (AppTest, whole script): ≤ 150 ms.
"""
from __future__ import annotations


import torch

from bench.common import median_seconds, page_rerun_seconds, report, save, start
from explorer.nets.checkpoints import load_pretrained
from explorer.nets.cond_models import guided_eps
from explorer.diffusion.samplers import CLIP_2D, ddpm_sample, run_to_end
from explorer.diffusion.schedules import make_schedule

def main() -> None:
    args, device = start(__doc__)
    torch.set_num_threads(1)
    model = load_pretrained("eight_gaussians_cond")[0].to(device)
    s = make_schedule("linear", 1000)
    labels = torch.arange(8, device=device).repeat_interleave(250)

    def run(scale: float):
        x_T = torch.randn(2000, 2, generator=torch.Generator().manual_seed(0)).to(device)
        return run_to_end(ddpm_sample(guided_eps(model, labels, scale), s, x_T, clip_x0=CLIP_2D))
    t_plain, _ = median_seconds(lambda: run(1.0), repeats=args.repeats)
    t_guided, _ = median_seconds(lambda: run(3.0), repeats=args.repeats)

    def two_passes(x, alpha_bar):
        e_c, e_u = model(x, alpha_bar, labels), model(x, alpha_bar, None)
        return e_u + 3.0 * (e_c - e_u)
    x_T = torch.randn(2000, 2, generator=torch.Generator().manual_seed(0)).to(device)
    t_two, _ = median_seconds(lambda: run_to_end(ddpm_sample(two_passes, s, x_T, clip_x0=CLIP_2D)),
                              repeats=args.repeats)
    report("unguided run (w = 1): 2,000 points × 1,000 steps, network", t_plain)
    report("guided run (w = 3), both branches from one pass per step", t_guided, 1.3 * t_plain)
    report("guided / unguided", t_guided / t_plain, 1.3, unit="×")
    report("the same guided run with two passes per step (ε_c, then ε_u)", t_two)
    report("two passes / unguided", t_two / t_plain, unit="×")

    rerun = page_rerun_seconds("guidance", "scale", 5.0, 3.0, args.repeats)
    report("guidance page rerun, scale slider between cached values (AppTest)", rerun, 0.150, unit="ms")
    save("guidance")


if __name__ == "__main__":
    main()
