"""Images page speed: reverse sampling of a digit grid, and reruns once a run is computed.

    python -m bench.images [--repeats 5]

Budgets (issue 5, 2-core CPU): reverse sampling of 64 digits × 250 steps with the pretrained
U-Net ≤ 3 s; super-resolution (ILVR) of 16 digits from their 4 × 4 versions × 250 steps ≤ 1.5 s (issue 17); a rerun of the images page after a slider move ≤ 300 ms once computed (measured
with streamlit's AppTest: the step slider of the reverse view, and the t slider of the forward view).
"""
from __future__ import annotations

import statistics
import time
from pathlib import Path

import torch

from bench.common import median_seconds, report, save, start
from explorer.nets.checkpoints import load_pretrained
from explorer.diffusion.samplers import CLIP_DIGITS, ddpm_sample, run_to_end
from explorer.diffusion.schedules import make_schedule

APP = str(Path(__file__).resolve().parents[1] / "explorer" / "app.py")


def rerun_seconds(view: str, key: str, values: list[int]) -> list[float]:
    """Open the images page at `view`, then time a rerun for each new value of slider `key`."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=600)
    at.switch_page("../pages/images.py")
    at.query_params["view"] = view
    at.run()
    out = []
    for v in values:
        at.slider(key=key).set_value(v)
        t0 = time.perf_counter()
        at.run()
        out.append(time.perf_counter() - t0)
        assert not at.exception, [e.message for e in at.exception]
    return out


def main() -> None:
    args, device = start(__doc__)

    model, _ = load_pretrained("digits")
    model.to(device)
    s = make_schedule("cosine", 250)
    x_T = torch.randn(64, 1, 8, 8, generator=torch.Generator().manual_seed(0)).to(device)
    t, runs = median_seconds(lambda: run_to_end(ddpm_sample(model, s, x_T, clip_x0=CLIP_DIGITS)), args.repeats)
    report("DDPM, digits U-Net, 64 digits × 250 steps", t, 3.0)
    print(f"{'':<58} runs: {', '.join(f'{r:.2f}' for r in runs)} s")
    from explorer.data.datasets import digits
    from explorer.diffusion.samplers import ilvr_sample
    y = torch.nn.functional.avg_pool2d(digits()[:16], 2).to(device)
    x_T16 = x_T[:16]
    t, _ = median_seconds(lambda: run_to_end(ilvr_sample(model, s, y, x_T16, clip_x0=CLIP_DIGITS)), args.repeats)
    report("ILVR super-resolution, 16 digits from 4 × 4, × 250 steps", t, 1.5)

    rev = rerun_seconds("reverse", "img_step", [0, 125, 250, 60, 200, 10, 240, 90, 170, 30])
    report("images page rerun, reverse step slider (median of 10)", statistics.median(rev), 0.3, unit="ms")
    fwd = rerun_seconds("forward", "img_t", [0, 125, 250, 60, 200, 10, 240, 90, 170, 30])
    report("images page rerun, forward t slider (median of 10)", statistics.median(fwd), 0.3, unit="ms")
    save("images")


if __name__ == "__main__":
    main()
