"""One sampling run of each kind on the CPU and on the GPU (when present): which device pays where.

    python -m bench.gpu_runs
"""
from __future__ import annotations

import time

import torch

from bench.common import report, save
from explorer.common.device import describe_device
from explorer.nets.checkpoints import load_pretrained
from explorer.data.datasets import eight_gaussians_mixture
from explorer.diffusion.samplers import CLIP_2D, CLIP_DIGITS, ddpm_sample, run_to_end
from explorer.diffusion.schedules import make_schedule


def seconds(fn, repeats: int = 3) -> float:
    fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    torch.set_num_threads(1)  # as in the served app (explorer/app.py)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    mixture, mlp, unet = eight_gaussians_mixture(), load_pretrained("eight_gaussians")[0], load_pretrained("digits")[0]
    s2, s_img = make_schedule("linear", 1000), make_schedule("cosine", 250)
    cases = [("2D exact, 2,000 points × 1,000 steps", mixture, (2000, 2), s2, None),
             ("2D network, 2,000 points × 1,000 steps", mlp, (2000, 2), s2, CLIP_2D),
             ("digits U-Net, 64 × 250 steps", unet, (64, 1, 8, 8), s_img, CLIP_DIGITS),
             ("digits U-Net, 256 × 250 steps", unet, (256, 1, 8, 8), s_img, CLIP_DIGITS)]
    print(f"{'run':<42}" + "".join(f"{d:>10}" for d in devices))
    for name, model, shape, s, clip in cases:
        row = []
        for d in devices:
            if hasattr(model, "to"):
                model.to(d)
            x_T = torch.randn(shape, generator=torch.Generator().manual_seed(0)).to(d)
            row.append(seconds(lambda: run_to_end(ddpm_sample(model, s, x_T, generator=torch.Generator().manual_seed(1),
                                                              clip_x0=clip))))
        print(f"{name:<42}" + "".join(f"{t:>9.3f}s" for t in row))
        for d, t in zip(devices, row):
            report(name, t, column=d)
    save("gpu_runs", note="Best of 3, one torch thread as served; "
         + ", ".join(describe_device(torch.device(d)) for d in devices) + ".")


if __name__ == "__main__":
    main()
