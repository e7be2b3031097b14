"""Images page speed: reverse sampling of a digit grid, and reruns once a run is computed.

    python -m bench.images [--repeats 5]

Budgets (issue 5, 2-core CPU): reverse sampling of 64 digits × 250 steps with the pretrained
U-Net ≤ 3 s; MNIST 28 × 28 (issue 29): 16 digits by DDIM in 50 network calls ≤ 1.5 s and one network call on 16
digits ≤ 20 ms, beside diffusers' UNet2DModel of the same widths and its DDIMScheduler on the same input (the ratio
is reported); super-resolution (ILVR) of 16 digits from their 4 × 4 versions × 250 steps ≤ 1.5 s (issue 17); a rerun of the images page after a slider move ≤ 300 ms once computed (measured
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


def diffusers_peer(config, device) -> tuple[torch.nn.Module, object]:
    """diffusers' UNet2DModel with our network's widths (its channels at 28, 14 and 7 pixels), one ResNet block a
    level, self-attention at 7 × 7 where ours has it, GroupNorm of 8 groups, 11 class embeddings (10 classes and the
    null label), and its DDIMScheduler."""
    from diffusers import DDIMScheduler, UNet2DModel

    widths = tuple(config.channels * m for m in config.mults)
    attn = config.attention
    peer = UNet2DModel(sample_size=28, in_channels=1, out_channels=1, block_out_channels=widths, layers_per_block=1,
                       down_block_types=("DownBlock2D", "DownBlock2D", "AttnDownBlock2D" if attn else "DownBlock2D"),
                       up_block_types=("AttnUpBlock2D" if attn else "UpBlock2D", "UpBlock2D", "UpBlock2D"),
                       norm_num_groups=8, num_class_embeds=11).to(device).eval()
    scheduler = DDIMScheduler(num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2", clip_sample=True)
    return peer, scheduler


def mnist_speed(device, repeats: int) -> None:
    from explorer.diffusion.samplers import ddim_sample

    model, _ = load_pretrained("mnist")
    model.to(device)
    s = make_schedule("cosine", 1000)
    x = torch.randn(16, 1, 28, 28, generator=torch.Generator().manual_seed(0)).to(device)
    labels = torch.arange(16, device=device) % 10
    ours_call, _ = median_seconds(lambda: model(x, 0.5, labels), max(repeats, 20))
    ours_run, _ = median_seconds(lambda: run_to_end(ddim_sample(model.with_label(labels), s, x, n_steps=50,
                                                                clip_x0=CLIP_DIGITS)), repeats)
    peer, scheduler = diffusers_peer(model.net.config, device)
    t500 = torch.tensor([500], device=device)

    def peer_run():
        scheduler.set_timesteps(50)
        sample = x
        with torch.inference_mode():
            for t in scheduler.timesteps:
                sample = scheduler.step(peer(sample, t, class_labels=labels).sample, t, sample).prev_sample
        return sample

    with torch.inference_mode():
        peer_call, _ = median_seconds(lambda: peer(x, t500, class_labels=labels), max(repeats, 20))
    peer_time, _ = median_seconds(peer_run, repeats)
    n_ours, n_peer = (sum(p.numel() for p in m.parameters()) for m in (model.net, peer))
    report(f"MNIST, one network call on 16 digits ({n_ours / 1e3:.0f} k weights)", ours_call, 0.020, unit="ms")
    report(f"MNIST, diffusers UNet2DModel, same widths ({n_peer / 1e3:.0f} k weights)", peer_call, unit="ms")
    report("MNIST, 16 digits by DDIM in 50 network calls", ours_run, 1.5)
    report("MNIST, diffusers DDIMScheduler + UNet2DModel, 50 steps", peer_time)
    report("MNIST, diffusers' DDIM run time over ours", peer_time / ours_run, unit="×")


def main() -> None:
    args, device = start(__doc__)
    mnist_speed(device, args.repeats)

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
