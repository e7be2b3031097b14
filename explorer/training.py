"""Train an eps network by denoising score matching: minimise E‖ε − ε̂(√ᾱ x_0 + √(1−ᾱ) ε, ᾱ)‖².

Noise levels are drawn in log-SNR so that every ᾱ the app can produce (all five schedule kinds,
T from 1 to 5,000) is covered: half uniformly over LOG_SNR_RANGE, half as ᾱ_t of the DDPM
linear schedule at a uniform t, where most sampling steps fall.

    python -m explorer.training --dataset two_moons --steps 4000 --out pretrained/two_moons
"""
from __future__ import annotations

import argparse
import copy
import math
import sys
import time
from dataclasses import asdict, dataclass
from typing import Callable

import torch

from .datasets import DEFAULT_WORD, TOY_2D, digits, toy_2d
from .models import LOG_SNR_RANGE, EpsModel, MLP2D, MLPConfig, UNet8, UNetConfig
from .schedules import make_schedule


@dataclass
class TrainConfig:
    dataset: str = "two_moons"  # a TOY_2D name or "digits"
    word: str = DEFAULT_WORD  # for the "word" data set
    steps: int = 4000  # optimiser steps
    batch: int = 512
    lr: float = 2e-3  # AdamW peak learning rate, cosine-decayed to 5 % of it
    weight_decay: float = 1e-4
    ema_decay: float = 0.995  # the returned model is the exponential moving average of the weights
    n_data: int = 20_000  # training points drawn for a 2D set
    seed: int = 0  # data, noise and initialisation: the same seed gives the same model


def _log_snr_batch(n: int, g: torch.Generator, linear_log_snr: torch.Tensor) -> torch.Tensor:
    lo, hi = LOG_SNR_RANGE
    uniform = lo + (hi - lo) * torch.rand(n, generator=g)
    t = torch.randint(1, len(linear_log_snr), (n,), generator=g)
    pick = torch.rand(n, generator=g) < 0.5
    return torch.where(pick, uniform, linear_log_snr[t].float().clamp(lo, hi))


def train(config: TrainConfig, progress: Callable[[int, float], None] | None = None,
          should_stop: Callable[[], bool] | None = None) -> tuple[EpsModel, dict]:
    """Train; returns (EMA eps model, history {"step": [...], "loss": [...], "seconds": ...})."""
    if config.dataset != "digits" and config.dataset not in TOY_2D:
        raise ValueError(f"Unknown data set {config.dataset!r}; choose digits or one of {', '.join(TOY_2D)}.")
    if not (isinstance(config.steps, int) and config.steps >= 1):
        raise ValueError(f"steps must be a whole number ≥ 1; got {config.steps!r}.")
    torch.manual_seed(config.seed)
    g = torch.Generator().manual_seed(config.seed)
    if config.dataset == "digits":
        data, net = digits(), UNet8(UNetConfig())
    else:
        data = toy_2d(config.dataset, config.n_data, seed=config.seed, word=config.word)
        net = MLP2D(MLPConfig(seed=config.seed))
    ema = copy.deepcopy(net).requires_grad_(False)
    opt = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda k: 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(k / config.steps, 1.0))))
    linear_log_snr = make_schedule("linear", 1000).log_snr[1:]
    history = {"step": [], "loss": []}
    smooth, t0 = None, time.perf_counter()
    for step in range(1, config.steps + 1):
        x0 = data[torch.randint(0, len(data), (config.batch,), generator=g)]
        log_snr = _log_snr_batch(config.batch, g, linear_log_snr)
        ab = torch.sigmoid(log_snr).view(-1, *([1] * (x0.ndim - 1)))
        eps = torch.randn(x0.shape, generator=g)
        loss = ((net(ab.sqrt() * x0 + (1 - ab).sqrt() * eps, log_snr) - eps) ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        with torch.no_grad():
            for pe, p in zip(ema.parameters(), net.parameters()):
                pe.lerp_(p, 1 - config.ema_decay)
        value = loss.item()
        smooth = value if smooth is None else 0.98 * smooth + 0.02 * value
        if step % 50 == 0 or step == config.steps:
            history["step"].append(step), history["loss"].append(smooth)
            if progress is not None:
                progress(step, smooth)
        if should_stop is not None and should_stop():
            break
    history["seconds"] = time.perf_counter() - t0
    return EpsModel(ema), history


def main(argv: list[str] | None = None) -> None:
    from .checkpoints import save

    ap = argparse.ArgumentParser(description="Train an eps network and save it as safetensors + JSON.")
    ap.add_argument("--dataset", required=True, help=f"digits or one of {', '.join(TOY_2D)}")
    ap.add_argument("--out", required=True, help="checkpoint path without extension, e.g. pretrained/two_moons")
    for field, default in asdict(TrainConfig()).items():
        if field != "dataset":
            ap.add_argument(f"--{field.replace('_', '-')}", type=type(default), default=default)
    args = ap.parse_args(argv)
    cfg = TrainConfig(**{k: getattr(args, k) for k in asdict(TrainConfig())})

    def bar(step: int, loss: float) -> None:
        done = int(30 * step / cfg.steps)
        print(f"\r[{'#' * done}{'.' * (30 - done)}] {step}/{cfg.steps} loss {loss:.4f}", end="", file=sys.stderr)
    model, hist = train(cfg, progress=bar)
    print(file=sys.stderr)
    save(model.net, args.out, dataset=cfg.dataset, word=cfg.word if cfg.dataset == "word" else None,
         training_steps=hist["step"][-1], seed=cfg.seed, training_time_s=round(hist["seconds"], 1),
         metrics={"final_loss": hist["loss"][-1]}, train_config=asdict(cfg))
    print(f"saved {args.out}.safetensors and {args.out}.json in {hist['seconds']:.1f} s")


if __name__ == "__main__":
    main()
