"""Training in a background thread, so the page stays live: it polls the job and can stop it.

The thread only writes plain Python data (lists, numpy arrays, a status string); the page
reads them on each poll. Registering the finished model happens in the page's own thread
(session.register), where st.session_state is available.
"""
from __future__ import annotations

import threading
import time

import numpy as np
import torch

from explorer.diffusion.samplers import CLIP_2D, SAMPLERS, run_to_end
from explorer.diffusion.schedules import make_schedule
from explorer.common.streams import STREAMS
from explorer.nets.training import TrainConfig, loss_floor, train

SNAPSHOT_EVERY = 250  # optimiser steps between sample pictures
SNAPSHOT_POINTS = 1000
SNAPSHOT_SCHEDULE = ("cosine", 100)  # a quick DDPM run for the pictures: ~0.1 s


class TrainJob:
    """One training run of the 2D network on given points; start() launches the thread."""

    def __init__(self, config: TrainConfig, points: torch.Tensor, dataset: str, word: str, label: str):
        self.config, self.points = config, points.float()
        self.dataset, self.word, self.label = dataset, word, label
        self.steps: list[int] = []
        self.losses: list[float] = []
        self.snapshots: list[tuple[int, np.ndarray]] = []
        self.status = "waiting"  # → running → done | stopped | failed
        self.error = ""
        self.model = None
        self.floor: float | None = None  # the lowest loss any network can reach on these points
        self.history: dict = {}
        self.started = time.time()
        self.registered_key: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="explorer-training", daemon=True)

    def start(self) -> "TrainJob":
        self.status, self.started = "running", time.time()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    @property
    def running(self) -> bool:
        return self.status == "running"

    @property
    def elapsed(self) -> float:
        return self.history.get("seconds", time.time() - self.started)

    def wait(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _progress(self, step: int, loss: float) -> None:
        self.steps.append(step)
        self.losses.append(loss)

    def _snapshot(self, step: int, model) -> None:
        kind, T = SNAPSHOT_SCHEDULE
        g = STREAMS["training_snapshot"].generator()
        x_T = torch.randn(SNAPSHOT_POINTS, 2, generator=g)
        x = run_to_end(SAMPLERS["ddpm"].function(model, make_schedule(kind, T), x_T, generator=g, clip_x0=CLIP_2D)).x
        self.snapshots.append((step, x.numpy()))

    def _run(self) -> None:
        try:
            self.floor = loss_floor(self.points)
            model, hist = train(self.config, progress=self._progress, should_stop=self._stop.is_set,
                                data=self.points, snapshot=self._snapshot, snapshot_every=SNAPSHOT_EVERY)
            self.model, self.history = model, hist
            self.status = "stopped" if self._stop.is_set() else "done"
        except Exception as err:  # noqa: BLE001 — shown on the page; the app must keep working
            self.error, self.status = f"{type(err).__name__}: {err}", "failed"
