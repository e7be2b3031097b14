"""A process-wide, bounded, single-flight cache for work that reports progress while it runs."""
from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

RETRIES = 3  # a waiter computes itself if the session computing for it was stopped, at most this often


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

    def __init__(self, max_entries: int):
        self.max_entries = max_entries
        self._store: OrderedDict = OrderedDict()
        self._flights: dict = {}
        self._lock = threading.Lock()

    def get_or_compute(self, key, compute):
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
                return self._compute(key, compute, flight)
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            if flight.value is not None:
                return flight.value
        return compute()  # the computing sessions kept being stopped: compute without sharing

    def _compute(self, key, compute, flight: _Flight):
        try:
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
