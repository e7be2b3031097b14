"""The Guidance page's costs, timed as the server runs them (one torch thread).

    python -m bench.guidance [--repeats 5]

- a guided run with the conditional network, 2,000 points × 1,000 DDPM steps, w = 3 (both branches in one
  batched call per step) against the unguided run (the conditional branch alone, w = 1): budget ≤ 1.3×;
- the page rerun after the scale slider moves between two cached values (AppTest, whole script): ≤ 150 ms.
"""
from __future__ import annotations

import statistics
import time
from pathlib import Path

import torch

from bench.common import median_seconds, report, start
from explorer.checkpoints import load_pretrained
from explorer.cond_models import guided_eps
from explorer.samplers import CLIP_2D, ddpm_sample, run_to_end
from explorer.schedules import make_schedule

PAGE = Path(__file__).resolve().parents[1] / "explorer" / "app.py"


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
    report("unguided run (w = 1): 2,000 points × 1,000 steps, network", t_plain)
    report("guided run (w = 3), one batched call per step", t_guided, 1.3 * t_plain)
    print(f"  ratio guided / unguided: {t_guided / t_plain:.2f} (budget ≤ 1.3)")

    import logging
    logging.disable(logging.WARNING)
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file(str(PAGE), default_timeout=600)
    at.switch_page("../pages/guidance.py")
    at.run()
    for w in (5.0, 3.0):  # compute both once
        at.slider(key="scale").set_value(w).run()
    times = []
    for i in range(2 * args.repeats):
        t0 = time.perf_counter()
        at.slider(key="scale").set_value(5.0 if i % 2 == 0 else 3.0).run()
        times.append(time.perf_counter() - t0)
    assert not at.exception, [e.message for e in at.exception]
    report("guidance page rerun, scale slider between cached values (AppTest)", statistics.median(times), 0.150,
           unit="ms")


if __name__ == "__main__":
    main()
