"""The Flows & ODEs page's costs, timed as the server runs them (one torch thread).

    python -m bench.flows [--repeats 3]

- the likelihood of 1,000 points through the PF-ODE with the 8 Gaussians' ε network, exact divergence,
  at 50 (the page's default), 100 and 200 steps: budget ≤ 5 s at 100;
- a flow sample of 2,000 points × 100 Euler steps with the velocity network: ≤ 0.2 s;
- reflow of one 2D set as the page runs it (10,000 couples by 100 Heun steps, 2,000 training steps): ≤ 60 s
  (once: it trains);
- the page rerun after DDIM's η moves between two cached values (AppTest, whole script).
"""
from __future__ import annotations

import time

import torch

from bench.common import median_seconds, page_rerun_seconds, report, save, start
from explorer.nets.checkpoints import load_pretrained
from explorer.data.datasets import toy_2d
from explorer.diffusion.flows import flow_sample, ode_log_likelihood
from explorer.diffusion.samplers import run_to_end
from explorer.diffusion.schedules import make_schedule

def main() -> None:
    args, device = start(__doc__)
    torch.set_num_threads(1)
    eps = load_pretrained("eight_gaussians")[0]
    x_0 = toy_2d("eight_gaussians", 1000, seed=1)
    s = make_schedule("linear", 1000)
    for n in (50, 100, 200):
        t, _ = median_seconds(lambda: ode_log_likelihood(eps, s, x_0, n), repeats=args.repeats)
        report(f"likelihood of 1,000 points, network, {n} ODE steps", t, 5.0 if n == 100 else None)

    flow = load_pretrained("eight_gaussians_flow")[0]
    x_1 = torch.randn(2000, 2, generator=torch.Generator().manual_seed(0))
    t, _ = median_seconds(lambda: run_to_end(flow_sample(flow, x_1, 100)), repeats=args.repeats)
    report("flow sample, 2,000 points × 100 Euler steps, velocity network", t, 0.2)

    import logging
    logging.disable(logging.WARNING)  # streamlit's caches outside a server say so, once per cached function
    from explorer.nets.training import reflow
    from explorer.ui.views.flow_runs import REFLOW
    t0 = time.perf_counter()
    reflow(load_pretrained("two_moons_flow")[0], **REFLOW)
    report("reflow of two moons (couples + training, as the page runs it)", time.perf_counter() - t0, 60.0)

    rerun = page_rerun_seconds("flows", "eta", 0.5, 0.0, args.repeats)
    report("flows page rerun, η slider between cached values (AppTest)", rerun, 0.300, unit="ms")
    save("flows")


if __name__ == "__main__":
    main()
