"""Train an eps network by denoising score matching: minimise E‖ε − ε̂(√ᾱ x_0 + √(1−ᾱ) ε, ᾱ)‖².

Noise levels are drawn in log-SNR so that every ᾱ the app can produce (all five schedule kinds,
T from 1 to 5,000) is covered: half uniformly over LOG_SNR_RANGE, half as ᾱ_t of the DDPM
linear schedule at a uniform t, where most sampling steps fall.

    python -m explorer.nets.training --dataset two_moons --steps 4000 --out pretrained/two_moons
    python -m explorer.nets.training --all      # rebuild every model in pretrained/ (about 17 min on 2 cores)

With --objective flow the network learns a velocity instead (flow matching, Lipman et al. 2023; Liu et al.
2023): v̂(x_τ, τ) ≈ ε − x_0 at x_τ = (1 − τ) x_0 + τ ε, τ uniform in [0, 1], conditioned on τ's log-SNR.
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

from explorer.common.checks import whole_number
from explorer.data.datasets import DEFAULT_WORD, LABELLED_2D, TOY_2D, class_names, digits, toy_2d, toy_2d_labelled
from .models import LOG_SNR_RANGE, EpsModel, MLP2D, MLPConfig, UNet8, UNetConfig
from .velocity import VelocityModel, tau_log_snr
from explorer.diffusion.schedules import make_schedule


@dataclass(frozen=True)
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
    conditional: bool = False  # a class-conditional network (a labelled 2D set), for classifier-free guidance
    p_uncond: float = 0.2  # conditional: the share of examples trained with the null label (condition dropout;
    # 0.2 rather than 0.1: the null label alone trains ε_u, and at 0.1 the unconditional samples came out worse)
    objective: str = "eps"  # "eps" (denoising score matching) or "flow" (flow matching: a velocity network)


def sample_log_snr(n: int, g: torch.Generator, levels: torch.Tensor, share: float = 0.5) -> torch.Tensor:
    """n training noise levels: a share drawn from a schedule's levels (t uniform; every network here uses the linear
    T = 1,000 schedule's and share 0.5), the rest uniform over LOG_SNR_RANGE."""
    lo, hi = LOG_SNR_RANGE
    uniform = lo + (hi - lo) * torch.rand(n, generator=g)
    t = torch.randint(1, len(levels), (n,), generator=g)
    pick = torch.rand(n, generator=g) < 1 - share  # True: uniform (share 0.5 draws as it always did)
    return torch.where(pick, uniform, levels[t].float().clamp(lo, hi))


FLOOR_DRAWS = 8192  # (x_0, ᾱ, ε) draws behind loss_floor's estimate


def loss_floor(points: torch.Tensor, n: int = FLOOR_DRAWS, seed: int = 0) -> float:
    """The lowest training loss any network can reach on `points`: E‖ε − ε*(x_t, ᾱ)‖² per coordinate at the
    training recipe's noise levels (sample_log_snr), ε* the exact ε of the points themselves (EmpiricalData)."""
    from explorer.diffusion.scores import EmpiricalData

    g = torch.Generator().manual_seed(seed)
    points = points.double()
    x0 = points[torch.randint(0, len(points), (n,), generator=g)]
    ab = torch.sigmoid(sample_log_snr(n, g, make_schedule("linear", 1000).log_snr[1:]).double())
    eps = torch.randn(x0.shape, generator=g, dtype=torch.float64)
    view = (-1,) + (1,) * (x0.ndim - 1)
    x_t = ab.sqrt().view(view) * x0 + (1 - ab).sqrt().view(view) * eps
    return float(((eps - EmpiricalData(points).eps(x_t, ab)) ** 2).mean())


def optimiser_step(loss: torch.Tensor, opt, sched, net: torch.nn.Module, ema: torch.nn.Module, ema_decay: float) -> None:
    """One AdamW step on loss, the learning-rate schedule's step, and the EMA of the weights moved toward them."""
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    sched.step()
    with torch.no_grad():
        for pe, p in zip(ema.parameters(), net.parameters()):
            pe.lerp_(p, 1 - ema_decay)


def train(config: TrainConfig, progress: Callable[[int, float], None] | None = None,
          should_stop: Callable[[], bool] | None = None, data: torch.Tensor | None = None,
          snapshot: Callable[[int, EpsModel], None] | None = None,
          snapshot_every: int = 250, noise: torch.Tensor | None = None,
          init: torch.nn.Module | None = None) -> tuple[EpsModel, dict]:
    """Train; returns (EMA eps model, history {"step": [...], "loss": [...], "seconds": ...}).

    progress(step, smoothed loss) is called every 50 steps, snapshot(step, EMA model) every
    snapshot_every steps and at the end; should_stop() is polled every step and ends training
    early (the model so far is returned). data: your own (N, 2) points instead of config.dataset.
    noise (flow objective, with data): the ε paired with each point instead of fresh noise (reflow's couples).
    init: a network to start from (a copy is trained) instead of a fresh one.
    """
    if config.objective not in ("eps", "flow"):
        raise ValueError(f"objective must be 'eps' or 'flow'; got {config.objective!r}.")
    if noise is not None and (data is None or noise.shape != data.shape or config.objective != "flow"):
        raise ValueError("noise pairs need data of the same shape and the flow objective.")
    if config.objective == "flow" and (config.conditional or (data is None and config.dataset == "digits")):
        raise ValueError("The flow objective trains the unconditional 2D network: not for digits or --conditional.")
    if data is not None:
        if not (isinstance(data, torch.Tensor) and data.ndim == 2 and data.shape[1] == 2 and len(data) >= 2
                and torch.isfinite(data).all()):
            raise ValueError("data must be a finite (N, 2) tensor of points with N ≥ 2.")
    elif config.dataset != "digits" and config.dataset not in TOY_2D:
        raise ValueError(f"Unknown data set {config.dataset!r}; choose digits or one of {', '.join(TOY_2D)}.")
    whole_number(config.steps, "steps", 1)
    torch.manual_seed(config.seed)
    g = torch.Generator().manual_seed(config.seed)
    if data is not None:
        data, net = data.float(), MLP2D(MLPConfig(seed=config.seed))
    elif config.dataset == "digits":
        data, net = digits(), UNet8(UNetConfig())
    elif config.conditional:
        from .cond_models import CondMLP2D, CondMLPConfig
        data, labels = toy_2d_labelled(config.dataset, config.n_data, seed=config.seed, word=config.word)
        net = CondMLP2D(CondMLPConfig(seed=config.seed, n_classes=len(class_names(config.dataset, config.word)),
                                      p_uncond=config.p_uncond))
    else:
        data = toy_2d(config.dataset, config.n_data, seed=config.seed, word=config.word)
        net = MLP2D(MLPConfig(seed=config.seed))
    if init is not None:
        net = copy.deepcopy(init).train().requires_grad_(True)
    ema = copy.deepcopy(net).requires_grad_(False)
    opt = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda k: 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(k / config.steps, 1.0))))
    linear_log_snr = make_schedule("linear", 1000).log_snr[1:]
    history = {"step": [], "loss": []}
    smooth, t0 = None, time.perf_counter()
    for step in range(1, config.steps + 1):
        idx = torch.randint(0, len(data), (config.batch,), generator=g)
        x0 = data[idx]
        eps = torch.randn(x0.shape, generator=g) if noise is None else noise[idx]
        if config.objective == "flow":
            tau = torch.rand(config.batch, 1, generator=g)
            loss = ((net((1 - tau) * x0 + tau * eps, tau_log_snr(tau[:, 0]).float()) - (eps - x0)) ** 2).mean()
        else:
            log_snr = sample_log_snr(config.batch, g, linear_log_snr)
            ab = torch.sigmoid(log_snr).view(-1, *([1] * (x0.ndim - 1)))
            extra = ()
            if config.conditional:  # condition dropout: a share p_uncond learns the null label, ε_u
                drop = torch.rand(config.batch, generator=g) < config.p_uncond
                extra = (torch.where(drop, torch.full_like(labels[idx], net.null), labels[idx]),)
            loss = ((net(ab.sqrt() * x0 + (1 - ab).sqrt() * eps, log_snr, *extra) - eps) ** 2).mean()
        optimiser_step(loss, opt, sched, net, ema, config.ema_decay)
        value = loss.item()
        smooth = value if smooth is None else 0.98 * smooth + 0.02 * value
        if step % 50 == 0 or step == config.steps:
            history["step"].append(step), history["loss"].append(smooth)
            if progress is not None:
                progress(step, smooth)
        stop = should_stop is not None and should_stop()
        if snapshot is not None and (step % snapshot_every == 0 or step == config.steps or stop):
            snapshot(step, wrap(ema, config.objective))
        if stop:
            if history["step"][-1:] != [step]:
                history["step"].append(step), history["loss"].append(smooth)
                if progress is not None:
                    progress(step, smooth)
            break
    history["seconds"] = time.perf_counter() - t0
    return wrap(ema, config.objective), history


def wrap(net, objective: str = "eps"):
    """The model interface of a network: a velocity model for flow matching; conditional ones take a label too."""
    if objective == "flow":
        return VelocityModel(net)
    if getattr(net, "kind", "") == "mlp2d_cond":
        from .cond_models import CondEpsModel
        return CondEpsModel(net)
    return EpsModel(net)


def reflow(velocity_model, n_pairs: int = 20_000, steps: int = 3000, n_steps: int = 100, seed: int = 0,
           progress: Callable[[int, float], None] | None = None):
    """Rectify a velocity network once: train a copy of it on its own couples (reflow_pairs); returns
    (VelocityModel, history) as explorer.nets.training.train does."""
    from explorer.diffusion.flows import reflow_pairs

    whole_number(n_pairs, "The number of reflow pairs", 2, 200_000)
    x_0, x_1 = reflow_pairs(velocity_model, n_pairs, n_steps, seed)
    cfg = TrainConfig(objective="flow", steps=steps, lr=1e-3, seed=seed)
    return train(cfg, data=x_0, noise=x_1, init=velocity_model.net, progress=progress)


PRETRAINED_RECIPES = {"digits": {"steps": 4000, "batch": 256}}  # 2D sets use the TrainConfig defaults


def _progress_bar(cfg: TrainConfig) -> Callable[[int, float], None]:
    def bar(step: int, loss: float) -> None:
        done = int(30 * step / cfg.steps)
        print(f"\r{cfg.dataset:>15} [{'#' * done}{'.' * (30 - done)}] {step}/{cfg.steps} loss {loss:.4f}",
              end="", file=sys.stderr)
    return bar


def train_and_save(cfg: TrainConfig, out) -> dict:
    """Train, measure the model's sample quality (explorer.measure.evaluation) and save both; returns metadata."""
    from .checkpoints import save
    from explorer.measure.evaluation import digits_quality, toy_quality

    model, hist = train(cfg, progress=_progress_bar(cfg))
    print(file=sys.stderr)
    if cfg.objective == "flow":
        from explorer.measure.evaluation import flow_quality
        quality = flow_quality(model, cfg.dataset, word=cfg.word)
    elif cfg.conditional:
        from explorer.measure.evaluation import conditional_quality
        quality = conditional_quality(model, cfg.dataset, word=cfg.word)
    else:
        quality = digits_quality(model) if cfg.dataset == "digits" else toy_quality(model, cfg.dataset, word=cfg.word)
    meta = dict(dataset=cfg.dataset, word=cfg.word if cfg.dataset == "word" else None,
                training_steps=hist["step"][-1], seed=cfg.seed, training_time_s=round(hist["seconds"], 1),
                metrics={"final_loss": hist["loss"][-1], **quality}, train_config=asdict(cfg),
                objective=cfg.objective)
    save(model.net, out, **meta)
    verdict = "passes" if quality["passed"] else "FAILS"
    print(f"saved {out}.safetensors/.json: {hist['seconds']:.1f} s of training, {verdict} its quality bar",
          file=sys.stderr)
    return meta


def main(argv: list[str] | None = None) -> None:
    from .checkpoints import PRETRAINED_DIR

    ap = argparse.ArgumentParser(
        description="Train an eps network and save it as safetensors + JSON. "
                    "`--all` rebuilds every model in pretrained/.")
    ap.add_argument("--dataset", help=f"digits or one of {', '.join(TOY_2D)}")
    ap.add_argument("--out", help="checkpoint path without extension (default: pretrained/DATASET)")
    ap.add_argument("--all", action="store_true", help="rebuild pretrained/ for every data set")
    for field, default in asdict(TrainConfig()).items():
        if field != "dataset":
            if isinstance(default, bool):
                ap.add_argument(f"--{field.replace('_', '-')}", action="store_true", default=None,
                                help=f"default {default}")
            else:
                ap.add_argument(f"--{field.replace('_', '-')}", type=type(default), default=None,
                                help=f"default {default}")
    args = ap.parse_args(argv)
    if args.all == bool(args.dataset):
        ap.error("give either --dataset NAME or --all")
    overrides = {k: getattr(args, k) for k in asdict(TrainConfig()) if k != "dataset" and getattr(args, k) is not None}
    names = [*TOY_2D, "digits"] if args.all else [args.dataset]
    if args.all:  # and the class-conditional networks of the labelled sets, and a velocity network per 2D set
        names += [f"{n}_cond" for n in LABELLED_2D] + [f"{n}_flow" for n in TOY_2D]
    for name in names:
        base = name.removesuffix("_cond").removesuffix("_flow")
        extra = {"conditional": True} if name.endswith("_cond") else {"objective": "flow"} if name.endswith("_flow") else {}
        cfg = TrainConfig(dataset=base, **{**PRETRAINED_RECIPES.get(base, {}), **overrides, **extra})
        suffix = "_cond" if cfg.conditional else "_flow" if cfg.objective == "flow" else ""
        out = PRETRAINED_DIR / f"{base}{suffix}"
        try:
            train_and_save(cfg, args.out if args.out and not args.all else out)
        except ValueError as err:
            ap.error(str(err))


if __name__ == "__main__":
    main()
