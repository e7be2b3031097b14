"""How good is a trained model? The measurements behind pretrained/*.json, the tests and the README.

2D: 2,000 DDPM samples under linear T = 1,000, cosine T = 100 and cosine T = 20 against fresh
data, by sliced Wasserstein; the bar is 2 × the distance between two fresh data sets + 0.08.
Digits: a classifier fit on the digits data must recognise the samples (confidence ≥ 0.7),
most classes must appear, and samples must not be copies of training images.
"""
from __future__ import annotations

from functools import lru_cache

import torch

from explorer.data.datasets import DEFAULT_WORD, digits, toy_2d
from .metrics import sliced_wasserstein
from explorer.diffusion.samplers import CLIP_2D, CLIP_DIGITS, ddpm_sample, run_to_end
from explorer.diffusion.schedules import make_schedule
from explorer.common.streams import STREAMS

QUALITY_SCHEDULES = (("linear", 1000), ("cosine", 100), ("cosine", 20))
FLOW_QUALITY_STEPS = (("euler", 100), ("heun", 50), ("heun", 10))  # a velocity network's bar: the same SW, these solvers
DIGITS_SCHEDULE = ("cosine", 250)
CONFIDENT = 0.7


def toy_quality(model, name: str, word: str = DEFAULT_WORD, n: int = 2000, seed: int = 0) -> dict:
    """{"data_sw", "bar", "sw": {"linear T=1000": ..., ...}, "passed"} for a 2D eps model."""
    def sample(kind: str, T: int) -> torch.Tensor:
        g = STREAMS["quality_start"].generator(seed)
        x_T = torch.randn(n, 2, generator=g)
        return run_to_end(ddpm_sample(model, make_schedule(kind, T), x_T, generator=g, clip_x0=CLIP_2D)).x
    return _judged(name, word, n, seed, {f"{kind} T={T}": (lambda k=kind, t=T: sample(k, t))
                                         for kind, T in QUALITY_SCHEDULES})


def _judged(name: str, word: str, n: int, seed: int, samplers: dict) -> dict:
    """Each sampler's n samples (name -> a function giving them) against fresh data of the set; the bar is
    2 × the SW between two fresh data sets + 0.08."""
    fresh = toy_2d(name, n, seed=STREAMS["quality_fresh"].seed(seed), word=word)
    other = toy_2d(name, n, seed=STREAMS["quality_other"].seed(seed), word=word)
    data_sw = sliced_wasserstein(fresh, other)
    bar = 2 * data_sw + 0.08
    sw = {key: sliced_wasserstein(make(), fresh) for key, make in samplers.items()}
    return {"data_sw": data_sw, "bar": bar, "sw": sw, "passed": all(v <= bar for v in sw.values())}


def flow_quality(model, name: str, word: str = DEFAULT_WORD, n: int = 2000, seed: int = 0) -> dict:
    """toy_quality for a velocity network (flow matching): flow_sample from the same N(0, I) starts with each
    (method, steps) of FLOW_QUALITY_STEPS against fresh data, the same bar."""
    from explorer.diffusion.flows import flow_sample

    def sample(method: str, steps: int) -> torch.Tensor:
        x_1 = torch.randn(n, 2, generator=STREAMS["quality_start"].generator(seed))
        return run_to_end(flow_sample(model, x_1, steps, method)).x
    return _judged(name, word, n, seed, {f"{m} {k} steps": (lambda m=m, k=k: sample(m, k)) for m, k in FLOW_QUALITY_STEPS})


def conditional_quality(model, name: str, word: str = DEFAULT_WORD, n: int = 2000, seed: int = 0) -> dict:
    """toy_quality for a class-conditional network: with no label against the whole set, and with each label
    against that class's points (fresh data of the class; the bar is again 2 × two fresh samples' SW + 0.08)."""
    from explorer.data.datasets import class_names, toy_2d_labelled
    whole = toy_quality(model.with_label(None), name, word=word, n=n, seed=seed)
    classes = []
    fresh, f_lab = toy_2d_labelled(name, 4 * n, STREAMS["quality_fresh"].seed(seed), word=word)
    other, o_lab = toy_2d_labelled(name, 4 * n, STREAMS["quality_other"].seed(seed), word=word)
    for c, class_name in enumerate(class_names(name, word)):
        mine, theirs = fresh[f_lab == c][:n], other[o_lab == c][:n]
        m = min(len(mine), len(theirs))
        bar = 2 * sliced_wasserstein(mine[:m], theirs[:m]) + 0.08
        sw = {}
        for kind, T in QUALITY_SCHEDULES:
            g = STREAMS["quality_start"].generator(seed)
            x_T = torch.randn(m, 2, generator=g)
            x = run_to_end(ddpm_sample(model.with_label(c), make_schedule(kind, T), x_T, generator=g,
                                       clip_x0=CLIP_2D)).x
            sw[f"{kind} T={T}"] = sliced_wasserstein(x, mine[:m])
        classes.append({"class": class_name, "bar": bar, "sw": sw, "passed": all(v <= bar for v in sw.values())})
    return {"unconditional": whole, "classes": classes,
            "passed": whole["passed"] and all(c["passed"] for c in classes)}


@lru_cache(maxsize=1)
def digit_classifier():
    """Logistic regression on every one of scikit-learn's digits (pixels in [−1, 1]); about 99 % training accuracy."""
    from sklearn.linear_model import LogisticRegression

    x, y = digits(return_labels=True)
    return LogisticRegression(max_iter=3000, C=0.5).fit(x.flatten(1).numpy(), y.numpy())


def nearest_training_distance(samples: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(distance, index) of each sample's nearest training digit, in pixel L2."""
    train = digits().flatten(1)
    d = torch.cdist(samples.flatten(1).float(), train)
    return d.min(dim=1)


@lru_cache(maxsize=1)
def typical_digit_spacing() -> float:
    """Median distance from a training digit to its nearest other training digit (the copy check's yardstick)."""
    train = digits().flatten(1)
    d = torch.cdist(train, train)
    d.fill_diagonal_(float("inf"))
    return float(d.min(dim=1).values.median())


@lru_cache(maxsize=1)
def typical_digit_distance() -> float:
    """Median distance between two different training digits (over all pairs)."""
    train = digits().flatten(1)
    d = torch.cdist(train, train)
    return float(d[torch.triu(torch.ones_like(d, dtype=torch.bool), diagonal=1)].median())


def digit_verdicts(samples: torch.Tensor) -> dict:
    """What the classifier and the copy check say about (N, 1, 8, 8) samples in [−1, 1]."""
    proba = digit_classifier().predict_proba(samples.flatten(1).numpy())
    confident = proba.max(axis=1) >= CONFIDENT
    dist, idx = nearest_training_distance(samples)
    spacing = typical_digit_spacing()
    copies = float((dist < 0.25 * spacing).float().mean())
    recognised, classes = float(confident.mean()), len({int(c) for c in proba.argmax(axis=1)[confident]})
    return {"recognised": recognised, "classes": classes, "copies": copies,
            "median_nearest_over_spacing": float(dist.median()) / spacing,
            "passed": recognised >= 0.6 and classes >= 9 and copies <= 0.05,
            "label": proba.argmax(axis=1), "confidence": proba.max(axis=1),
            "nearest_index": idx, "nearest_dist": dist, "spacing": spacing}


def digits_quality(model, n: int = 500, seed: int = 0) -> dict:
    """Classifier verdicts and copy check for n DDPM samples (cosine T = 250, x̂_0 clipped to [−1, 1])."""
    g = STREAMS["quality_start"].generator(seed)
    x_T = torch.randn(n, 1, 8, 8, generator=g)
    kind, T = DIGITS_SCHEDULE
    x = run_to_end(ddpm_sample(model, make_schedule(kind, T), x_T, generator=g, clip_x0=CLIP_DIGITS)).x
    v = digit_verdicts(x.clamp(-1, 1))
    return {k: v[k] for k in ("recognised", "classes", "median_nearest_over_spacing", "copies", "passed")}
