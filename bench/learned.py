"""The trained networks: sampling speed, time outside the network, diffusers comparison, training time.

    pip install -e ".[bench]"       # diffusers, for the DDPMScheduler comparison
    python -m bench.learned [--repeats 5] [--train]

Budgets (issue 4, 2-core CPU): a 1,000-step DDPM on 2,000 points with the 2D network ≤ 1.5 s,
with ≤ 15 % of it outside the network; our loop at least as fast as diffusers' DDPMScheduler
driving the same network on the same inputs; a 2D network trains to its quality bar in ≤ 60 s
(--train retrains two moons and checks the bar); digits in ≤ 10 min (read from pretrained/digits.json).
"""
from __future__ import annotations

import json
import statistics
import time

import torch

from bench.common import report, save, start
from explorer.nets.checkpoints import PRETRAINED_DIR, load_pretrained
from explorer.measure.evaluation import toy_quality
from explorer.diffusion.samplers import CLIP_2D, ddpm_sample, run_to_end
from explorer.diffusion.schedules import make_schedule
from explorer.nets.training import TrainConfig, train


class TimedModel:
    """Wraps an eps model and adds up the seconds spent inside it."""

    def __init__(self, model, device):
        self.model, self.device, self.seconds = model, device, 0.0

    def __call__(self, x, alpha_bar):
        sync = self.device.type == "cuda"
        if sync:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        out = self.model(x, alpha_bar)
        if sync:
            torch.cuda.synchronize()
        self.seconds += time.perf_counter() - t0
        return out


def diffusers_loop(model, x_T: torch.Tensor, generator: torch.Generator):
    """The same DDPM (linear β 1e-4..0.02, T = 1,000, σ² = β̃, x̂₀ clipped) driven by diffusers."""
    from diffusers import DDPMScheduler

    sched = DDPMScheduler(num_train_timesteps=1000, beta_start=1e-4, beta_end=0.02, beta_schedule="linear",
                          variance_type="fixed_small", clip_sample=True, clip_sample_range=CLIP_2D,
                          prediction_type="epsilon")
    sched.set_timesteps(1000)
    alpha_bar = sched.alphas_cumprod.tolist()  # diffusers' index k is our t = k + 1
    x = x_T
    for k in sched.timesteps.tolist():
        eps = model(x, alpha_bar[k])
        x = sched.step(eps, k, x, generator=generator).prev_sample
    return x


def main() -> None:
    args, device = start(__doc__, ("--train", dict(action="store_true", help="also time training two moons to its quality bar")))

    model, _ = load_pretrained("two_moons")
    model.to(device)
    s = make_schedule("linear", 1000)
    x_T = torch.randn(2000, 2, generator=torch.Generator().manual_seed(0)).to(device)

    try:
        import diffusers  # noqa: F401
        have_diffusers = True
    except ImportError:
        have_diffusers = False
        print("diffusers not installed: pip install -e '.[bench]' for the DDPMScheduler comparison")

    # Ours and diffusers' loop alternate run by run (ABBA order), so a machine that speeds up or
    # slows down during the benchmark (this VM does, by up to 2x) affects both alike; the ratio
    # is taken per pair.
    t0 = time.perf_counter()  # the first run after loading computes every level's FiLM on the way
    run_to_end(ddpm_sample(model, s, x_T, clip_x0=CLIP_2D))
    first = time.perf_counter() - t0

    timed = TimedModel(model, device)
    totals, inside, theirs = [], [], []
    run_to_end(ddpm_sample(model, s, x_T, clip_x0=CLIP_2D))  # warm-ups
    if have_diffusers:
        diffusers_loop(model, x_T, torch.Generator(device).manual_seed(1))

    def ours_once() -> None:
        timed.seconds = 0.0
        g = torch.Generator(device).manual_seed(1)
        t0 = time.perf_counter()
        run_to_end(ddpm_sample(timed, s, x_T, generator=g, clip_x0=CLIP_2D))
        totals.append(time.perf_counter() - t0)
        inside.append(timed.seconds)

    def theirs_once() -> None:
        t0 = time.perf_counter()
        diffusers_loop(model, x_T, torch.Generator(device).manual_seed(1))
        theirs.append(time.perf_counter() - t0)

    for r in range(args.repeats):
        order = (ours_once, theirs_once) if r % 2 == 0 else (theirs_once, ours_once)
        for run in order:
            if run is ours_once or have_diffusers:
                run()
    ours = statistics.median(totals)
    float32, per_call = [], {True: [], False: []}
    if hasattr(model.net, "bf16_products"):
        model.net.bf16_products = False  # the same run with every product in float32, for comparison
        for _ in range(max(args.repeats // 2, 1)):
            t0 = time.perf_counter()
            run_to_end(ddpm_sample(model, s, x_T, generator=torch.Generator(device).manual_seed(1), clip_x0=CLIP_2D))
            float32.append(time.perf_counter() - t0)
        # one network call, the two product precisions alternated 40 times (100 calls each)
        for k in range(40):
            for bf16 in ((True, False) if k % 2 == 0 else (False, True)):
                model.net.bf16_products = bf16
                model(x_T, 0.3)
                t0 = time.perf_counter()
                for _ in range(100):
                    model(x_T, 0.3)
                per_call[bf16].append((time.perf_counter() - t0) / 100)
        model.net.bf16_products = True
    outside = statistics.median([1 - i / t for i, t in zip(inside, totals)])
    report("DDPM, 2D network, 2,000 points × 1,000 steps", ours, 1.5)
    print(f"{'':<58} runs: {', '.join(f'{t:.2f}' for t in totals)} s")
    report("  first run after loading (FiLM of each level computed)", first)
    if float32:
        report("  with every product in float32 (bf16_products = False)", statistics.median(float32))
        report("  one network call, bfloat16 products (40 alternations)", statistics.median(per_call[True]), unit="ms")
        report("  one network call, float32 products", statistics.median(per_call[False]), unit="ms")
    report("  time outside the network (median share)", outside * 100, 15, unit="%")
    if have_diffusers:
        ratio = statistics.median([d / o for d, o in zip(theirs, totals)])
        report("diffusers DDPMScheduler, same network and inputs", statistics.median(theirs))
        print(f"{'':<58} runs: {', '.join(f'{t:.2f}' for t in theirs)} s")
        report("  diffusers time / ours (median over ABBA pairs)", ratio, 1.0, unit="×", at_least=True)
        # the two loops differ only outside the network: time that part alone with a stand-in model
        stand_in = lambda x, alpha_bar: 0.1 * x  # noqa: E731 — one cheap op in place of the network
        loop_ours, loop_theirs = [], []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            run_to_end(ddpm_sample(stand_in, s, x_T, generator=torch.Generator(device).manual_seed(1),
                                   clip_x0=CLIP_2D))
            loop_ours.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            diffusers_loop(stand_in, x_T, torch.Generator(device).manual_seed(1))
            loop_theirs.append(time.perf_counter() - t0)
        report("  loop alone (stand-in model), ours", statistics.median(loop_ours), unit="ms")
        report("  loop alone (stand-in model), diffusers DDPMScheduler", statistics.median(loop_theirs), unit="ms")

    meta = json.loads((PRETRAINED_DIR / "digits.json").read_text())
    report("digits U-Net training (pretrained/digits.json)", meta["training_time_s"], 600)
    if args.train:
        net, hist = train(TrainConfig("two_moons"))
        q = toy_quality(net, "two_moons")
        report(f"2D training, two moons, {hist['step'][-1]} steps (bar {'met' if q['passed'] else 'MISSED'})",
               hist["seconds"], 60)
    save("learned")


if __name__ == "__main__":
    main()
