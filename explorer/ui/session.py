"""Models trained on the Train-your-own page, shared with the other pages of the same session.

The model and its training points live in a small process-wide registry under a random key;
the session remembers its keys. A data set of your own (uploaded CSV points) is DataChoice
name YOURS with that key as its `upload_key`, so every cached loader keys on it as usual.
"""
from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from explorer.ui.settings import SESSION_PREFIX, YOURS, DataChoice

if TYPE_CHECKING:
    from explorer.nets.models import EpsModel

MAX_MODELS = 24  # process-wide: a 2D model is ~300 KB, its points at most 800 KB
# Said on the Train page, and where a link names a network this tab does not have.
TAB_ONLY = ("A network you train lives in this browser tab only: a reload, another tab or a shared link starts "
            "without it (the link keeps the data set and settings, not the network).")


@dataclass
class TrainedModel:
    key: str
    model: "EpsModel"
    points: np.ndarray  # (N, 2) float32: the training data, in the explorer's [−2, 2]² frame
    dataset: str  # a TOY_2D name, or YOURS for uploaded points
    word: str  # the word, for the word set
    label: str  # what the user sees, e.g. "two moons, 3,000 steps"
    history: dict = field(default_factory=dict)


_REGISTRY: OrderedDict[str, TrainedModel] = OrderedDict()
_LOCK = threading.Lock()


def register(model: "EpsModel", points: np.ndarray, dataset: str, word: str, label: str, history: dict) -> str:
    key = uuid.uuid4().hex[:12]
    with _LOCK:
        _REGISTRY[key] = TrainedModel(key, model, np.asarray(points, dtype=np.float32), dataset, word, label, history)
        while len(_REGISTRY) > MAX_MODELS:
            _REGISTRY.popitem(last=False)
    st.session_state.setdefault("trained_keys", [])
    st.session_state["trained_keys"] = [*st.session_state["trained_keys"], key]
    return key


def get(key: str) -> TrainedModel | None:
    with _LOCK:
        return _REGISTRY.get(key)


def collect_finished_job() -> None:
    """Register the session's training job once it has finished, whichever page notices first."""
    job = st.session_state.get("train_job")
    if job is not None and job.status in ("done", "stopped") and job.registered_key is None:
        job.registered_key = register(job.model, job.points.numpy(), job.dataset, job.word, job.label, job.history)


def mine() -> list[TrainedModel]:
    """This session's trained models, newest first (those still in the registry)."""
    collect_finished_job()
    found = (get(k) for k in reversed(st.session_state.get("trained_keys", [])))
    return [m for m in found if m is not None]


def link_params(model: TrainedModel) -> dict[str, str]:
    """The URL keys that open the Reverse sampling and Score pages on this model's data set with it selected."""
    params = {"data": model.dataset, "score": SESSION_PREFIX + model.key}
    return params | ({"word": model.word} if model.dataset == "word" else {})


def for_data(data: DataChoice) -> list[TrainedModel]:
    """This session's models trained on the chosen data set."""
    if data.name == YOURS:
        return [m for m in mine() if m.key == data.upload_key]
    return [m for m in mine() if m.dataset == data.name and (data.name != "word" or m.word == data.word)]
