"""Where data and scores come from: points of a data set; the exact, pretrained and your own models.

Models are st.cache_resource (shared, read-only, bounded); a choice that is not available raises
ValueError with a message the page shows.
"""
from __future__ import annotations

import os

import numpy as np
import streamlit as st
import torch

from explorer.nets.checkpoints import PRETRAINED_DIR, CheckpointError, load_pretrained
from explorer.common.device import pick_device
from explorer.data.datasets import DEFAULT_WORD, N_DIGITS, TOY_2D, digits, exact_eps_model, toy_2d
from explorer.diffusion.scores import EmpiricalData
from explorer.common.streams import STREAMS
from explorer.ui import session
from explorer.ui.settings import SESSION_PREFIX, YOURS, DataChoice

EXACT_REFERENCE_UI = 1000  # reference points behind the exact score of sets without a formula
# Where sampling runs: the GPU when one is present (the pretrained networks live there); EXPLORER_DEVICE=cpu
# (or cuda, mps) chooses.
COMPUTE = torch.device(os.environ["EXPLORER_DEVICE"]) if os.environ.get("EXPLORER_DEVICE") else pick_device()


def data_points(data: DataChoice, n: int, seed: int) -> torch.Tensor:
    """n points of the chosen data set: a toy set drawn afresh, or a sample of your own points."""
    if data.name == YOURS:
        mine = session.get(data.upload_key)
        if mine is None:
            raise ValueError("Your data set is no longer in memory (the server restarted or many models were "
                             "trained since); load it again on the Train your own page.")
        rng = np.random.default_rng(seed)
        pts = mine.points
        idx = rng.integers(0, len(pts), n) if n > len(pts) else rng.permutation(len(pts))[:n]
        return torch.from_numpy(pts[idx].copy())
    return toy_2d(data.name, n, seed, word=data.word)


@st.cache_data(max_entries=16, show_spinner=False)
def toy_points(data: DataChoice) -> np.ndarray:
    """The data set's own n points (its seed), as numpy."""
    return data_points(data, data.n, STREAMS["data"].seed(data.seed)).numpy()


@st.cache_resource(max_entries=16, show_spinner=False)
def exact_model(name: str, word: str, upload_key: str = ""):
    """The exact ε model of a data set (the mixture's, or EmpiricalData of a 1,000-point sample)."""
    if name == YOURS:
        seed = STREAMS["data"].seed(0)  # your points themselves, as drawn with seed 0
        reference = DataChoice(name, EXACT_REFERENCE_UI, seed, word, upload_key)
        return EmpiricalData(data_points(reference, EXACT_REFERENCE_UI, seed))
    return exact_eps_model(name, n_reference=EXACT_REFERENCE_UI, seed=STREAMS["exact_reference"].seed(), word=word)


def exact_model_for(data: DataChoice):
    return exact_model(data.name, data.word, data.upload_key)


def pretrained_available(data: DataChoice) -> bool:
    """A shipped network exists for this set (the word set's was trained on the default word)."""
    return data.name in TOY_2D and (data.name != "word" or data.word == DEFAULT_WORD) \
        and (PRETRAINED_DIR / f"{data.name}.json").is_file()


@st.cache_resource(max_entries=16, show_spinner="Loading the pretrained network…")
def pretrained_model(name: str):
    return load_pretrained(name)[0].to(COMPUTE)


def score_options(data: DataChoice) -> dict[str, str]:
    """{score value: label} offered for this data set: exact, the pretrained network, yours."""
    options = {"exact": "exact"}
    if pretrained_available(data):
        options["pretrained"] = "pretrained network"
    for i, mine in enumerate(session.for_data(data)):
        options[SESSION_PREFIX + mine.key] = "your network" + (f" ({mine.label})" if i else "")
    return options


def score_model(data: DataChoice, score: str):
    """The ε model behind a score choice; ValueError with a message if it is not available."""
    if score == "exact":
        return exact_model_for(data)
    if score == "pretrained":
        if not pretrained_available(data):
            raise ValueError(f"No pretrained network for this data set (the word model knows {DEFAULT_WORD!r}).")
        try:
            return pretrained_model(data.name)
        except CheckpointError as err:
            raise ValueError(f"The pretrained network could not be loaded: {err}") from err
    if score.startswith(SESSION_PREFIX):
        mine = session.get(score.removeprefix(SESSION_PREFIX))
        if mine is None:
            raise ValueError("Your trained network is no longer in memory; train it again on Train your own.")
        return mine.model
    raise ValueError(f"Unknown score {score!r}.")


# --- digits ------------------------------------------------------------------------------

DIGIT_SCORES = {"pretrained": "pretrained U-Net", "exact": f"exact score of the {N_DIGITS:,} training digits"}


@st.cache_resource(show_spinner="Loading the digits network…")
def digits_model():
    return load_pretrained("digits")[0].to(COMPUTE)


@st.cache_resource(show_spinner=False)
def exact_digits_model():
    """The exact score of the training set itself: it can only reproduce training images."""
    return EmpiricalData(digits())


def digit_score_model(score: str):
    """The ε model behind a digits score choice (DIGIT_SCORES); ValueError for anything else."""
    if score == "pretrained":
        return digits_model()  # a CheckpointError is a ValueError that names the file
    if score == "exact":
        return exact_digits_model()
    raise ValueError(f"Unknown score {score!r}; choose one of {', '.join(DIGIT_SCORES)}.")
