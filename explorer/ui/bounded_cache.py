"""A process-wide, bounded, single-flight cache for work that reports progress while it runs, and the
gate that lets only a few such computations run at once."""
from __future__ import annotations

import os
import threading
from collections import OrderedDict
from contextlib import contextmanager
from typing import Callable

import numpy as np

from explorer.ui.memory import release

RETRIES = 3  # a waiter computes itself if the session computing for it was stopped, at most this often


class ComputeGate:
    """At most `slots` heavy computations at a time; the others queue in arrival order.

    Ten sampling runs started together in ten script threads fight over the GIL (and over torch's
    threads): on 2 cores they all finish after ~4.5 s, where one after the other the first is done in
    0.27 s and the last in 2.7 s. Waiting is cheap; a caller can say how many are ahead of it.
    """

    def __init__(self, slots: int):
        self.slots = max(1, slots)
        self._lock = threading.Condition()
        self._busy = 0
        self._queue: list[object] = []

    def _acquire(self, me: object, on_wait: Callable[[int], None] | None) -> None:
        """Queue `me` and wait until it is first in the queue and a slot is free; then take the slot."""
        with self._lock:
            self._queue.append(me)
            try:
                while self._busy >= self.slots or self._queue[0] is not me:
                    if on_wait is not None:  # may raise: Streamlit stops a script from inside its calls
                        on_wait(self._queue.index(me) + self._busy)
                    self._lock.wait(timeout=1.0)
            except BaseException:
                self._queue.remove(me)
                self._lock.notify_all()
                raise
            self._queue.pop(0)  # it is this one: first in the queue
            self._busy += 1

    def _release(self) -> None:
        with self._lock:
            self._busy -= 1
            self._lock.notify_all()

    @contextmanager
    def slot(self, on_wait: Callable[[int], None] | None = None):
        self._acquire(object(), on_wait)
        try:
            yield
        finally:
            release()  # the computation's temporaries are freed now: give their pages back
            self._release()

    def take_turns(self, on_wait: Callable[[int], None] | None = None) -> bool:
        """Called by a long computation inside its slot: if others queue, give the slot to them and queue again
        (behind them, in arrival order), so one long run never holds the others up to its end. True if it waited."""
        with self._lock:
            if not self._queue:
                return False
            self._busy -= 1
            self._lock.notify_all()
        try:
            self._acquire(object(), on_wait)
        except BaseException:
            with self._lock:  # the slot() around it releases once more: keep the count right
                self._busy += 1
            raise
        return True


# One computation at a time by default: the runs are Python loops of small tensor operations, so two at once
# share one GIL and both slow down (on 2 cores and on 16). EXPLORER_COMPUTE_SLOTS=k allows k.
GATE = ComputeGate(int(os.environ.get("EXPLORER_COMPUTE_SLOTS", "1")))


class _Flight:
    """One computation under way: waiters block on `done` and then read `value` or `error`."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value = None
        self.error: ValueError | None = None


class BoundedCache:
    """An LRU of read-only results (dicts of arrays) where identical requests share one computation.

    st.cache_data replays every element a cached function touches, so a progress bar drawn from
    inside one breaks on the next hit; this cache calls the function only on a miss and leaves the
    drawing to the caller. When thirty sessions ask for the same new result at once, the first
    computes it and the others wait for it (single flight) instead of computing it thirty times. A
    ValueError (bad input) reaches every waiter; if the computing session is stopped in any other way
    (a rerun or stop of that session), a waiter computes the result itself. Arrays are frozen
    (read-only) before they are shared.
    """

    def __init__(self, max_entries: int, gate: ComputeGate | None = None):
        self.max_entries = max_entries
        self.gate = gate or GATE
        self._store: OrderedDict = OrderedDict()
        self._flights: dict = {}
        self._lock = threading.Lock()

    def has(self, key) -> bool:
        """Whether key's value is stored now (no computation starts)."""
        with self._lock:
            return key in self._store

    def get_or_compute(self, key, compute, on_wait: Callable[[int], None] | None = None):
        """The cached value for key, or compute() once for everyone asking now. A computation waits for a
        slot of the gate; on_wait(n) hears, about once a second, how many run or queue ahead of it."""
        for _ in range(RETRIES + 1):
            with self._lock:
                if key in self._store:
                    self._store.move_to_end(key)
                    return self._store[key]
                flight = self._flights.get(key)
                owner = flight is None
                if owner:
                    flight = self._flights[key] = _Flight()
            if owner:
                return self._compute(key, compute, flight, on_wait)
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            if flight.value is not None:
                return flight.value
        return compute()  # the computing sessions kept being stopped: compute without sharing

    def _compute(self, key, compute, flight: _Flight, on_wait=None):
        try:
            with self.gate.slot(on_wait):
                value = compute()
            for v in value.values():
                if isinstance(v, np.ndarray):
                    v.flags.writeable = False
            flight.value = value
            with self._lock:
                self._store[key] = value
                while len(self._store) > self.max_entries:
                    self._store.popitem(last=False)
            return value
        except ValueError as err:
            flight.error = err
            raise
        finally:
            with self._lock:
                self._flights.pop(key, None)
            flight.done.set()
