"""How good is the MNIST network? A judge that is not the model's own: a small CNN classifier trained on the same
5,000 digits (4,500 of them; its accuracy on the other 500 is recorded with its weights), and a copy check.

A sample is recognised when the classifier gives it a class with confidence ≥ CONFIDENT. It is a near-copy when it
lies closer to a training digit than NEAR_QUANTILE of the training digits lie to their own nearest other training
digit: a fresh MNIST digit would be a near-copy about that often by chance.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import torch
from torch import nn

from explorer.data.datasets import mnist

CONFIDENT = 0.8
NEAR_QUANTILE = 0.05
CLASSIFIER_FILE = Path(__file__).resolve().parents[2] / "pretrained" / "mnist_classifier"
HELD_OUT = 500  # the last 50 digits of each class: the classifier's test set


class DigitCNN(nn.Module):
    """28×28 → 10 logits: two 3×3 convolutions with pooling, then two linear layers."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(32 * 7 * 7, 64), nn.ReLU(), nn.Dropout(0.3), nn.Linear(64, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def split() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(train x, train y, test x, test y): the last HELD_OUT / 10 digits of each class are held out."""
    x, y = mnist(return_labels=True)
    rank = torch.zeros_like(y)
    for c in range(10):
        rank[y == c] = torch.arange(int((y == c).sum()))
    test = rank >= (y == 0).sum() - HELD_OUT // 10
    return x[~test], y[~test], x[test], y[test]


def train_classifier(epochs: int = 15, seed: int = 0) -> tuple[DigitCNN, float]:
    """Train DigitCNN on the training split (shifts of up to 2 pixels as augmentation); (net, held-out accuracy)."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    xtr, ytr, xte, yte = split()
    net = DigitCNN()
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4)
    for _ in range(epochs):
        net.train()
        for idx in torch.randperm(len(xtr), generator=g).split(128):
            dx, dy = (int(v) for v in torch.randint(-2, 3, (2,), generator=g))
            xb = torch.roll(xtr[idx], shifts=(dx, dy), dims=(2, 3))
            loss = nn.functional.cross_entropy(net(xb), ytr[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    net.eval()
    with torch.no_grad():
        accuracy = float((net(xte).argmax(1) == yte).float().mean())
    return net, accuracy


def save_classifier(net: DigitCNN, accuracy: float, path: Path = CLASSIFIER_FILE) -> None:
    from safetensors.torch import save_file
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path.with_suffix(".safetensors")))
    path.with_suffix(".json").write_text(json.dumps({"kind": "digit_cnn", "held_out": HELD_OUT,
                                                     "held_out_accuracy": accuracy}, indent=2))


@lru_cache(maxsize=1)
def classifier() -> DigitCNN:
    """The shipped judge (pretrained/mnist_classifier.*)."""
    from safetensors.torch import load_file
    net = DigitCNN()
    net.load_state_dict(load_file(str(CLASSIFIER_FILE.with_suffix(".safetensors"))))
    return net.eval()


def classifier_accuracy() -> float:
    return json.loads(CLASSIFIER_FILE.with_suffix(".json").read_text())["held_out_accuracy"]


@lru_cache(maxsize=1)
def nearest_other_distances() -> torch.Tensor:
    """Each training digit's distance to its nearest other training digit (pixel L2), (N_MNIST,)."""
    train = mnist().flatten(1)
    d = torch.cdist(train, train)
    d.fill_diagonal_(float("inf"))
    return d.min(dim=1).values


def near_distance() -> float:
    """NEAR_QUANTILE of nearest_other_distances(): closer than this, a sample is a near-copy."""
    return float(nearest_other_distances().quantile(NEAR_QUANTILE))


def verdicts(samples: torch.Tensor) -> dict:
    """What the classifier and the copy check say about (N, 1, 28, 28) samples in [−1, 1]."""
    with torch.no_grad():
        proba = torch.softmax(classifier()(samples.float().cpu()), dim=1)
    confidence, label = proba.max(dim=1)
    dist, idx = torch.cdist(samples.flatten(1).float().cpu(), mnist().flatten(1)).min(dim=1)
    confident = confidence >= CONFIDENT
    counts = torch.bincount(label[confident], minlength=10)
    return {"recognised": float(confident.float().mean()), "classes": int((counts > 0).sum()),
            "largest_class_share": float(counts.max()) / max(int(confident.sum()), 1),
            "near_copies": float((dist < near_distance()).float().mean()),
            "label": label, "confidence": confidence, "nearest_index": idx, "nearest_dist": dist}


QUALITY_SCHEDULE, QUALITY_STEPS, GUIDANCE_SCALE = ("cosine", 1000), 50, 3.0


def quality(model, n: int = 500, per_class: int = 50, seed: int = 0) -> dict:
    """The shipped network's bar: n unconditional DDIM samples in QUALITY_STEPS steps (η = 0, cosine T = 1,000,
    x̂_0 clipped to [−1, 1]) recognised (confidence ≥ CONFIDENT) ≥ 70 %, ≥ 9 classes, no class above 30 %, near-copies
    ≤ 10 %; guided at w = GUIDANCE_SCALE, per_class samples of each class read as that class ≥ 85 % for every class."""
    from explorer.common.streams import STREAMS
    from explorer.diffusion.samplers import CLIP_DIGITS, ddim_sample, run_to_end
    from explorer.diffusion.schedules import make_schedule

    s = make_schedule(*QUALITY_SCHEDULE)
    g = STREAMS["quality_start"].generator(seed)
    x_T = torch.randn(n, 1, 28, 28, generator=g)
    with torch.no_grad():
        x = run_to_end(ddim_sample(model.with_label(None), s, x_T, n_steps=QUALITY_STEPS, clip_x0=CLIP_DIGITS)).x
    v = verdicts(x.clamp(-1, 1))
    labels = torch.arange(10).repeat_interleave(per_class)
    x_T = torch.randn(len(labels), 1, 28, 28, generator=g)
    with torch.no_grad():
        def guided(x, alpha_bar):  # ε_u + w (ε_c − ε_u), both branches from one batch (model.branches)
            eps_u, delta = model.branches(x, alpha_bar, labels)
            return eps_u + GUIDANCE_SCALE * delta
        xg = run_to_end(ddim_sample(guided, s, x_T, n_steps=QUALITY_STEPS, clip_x0=CLIP_DIGITS)).x
    vg = verdicts(xg.clamp(-1, 1))
    per = [float((vg["label"][labels == c] == c).float().mean()) for c in range(10)]
    out = {"recognised": v["recognised"], "classes": v["classes"], "largest_class_share": v["largest_class_share"],
           "near_copies": v["near_copies"], "guided_scale": GUIDANCE_SCALE, "guided_right_per_class": per,
           "guided_right_min": min(per), "near_copies_guided": vg["near_copies"]}
    out["passed"] = (out["recognised"] >= 0.7 and out["classes"] >= 9 and out["largest_class_share"] <= 0.3
                     and out["near_copies"] <= 0.1 and out["guided_right_min"] >= 0.85)
    return out
