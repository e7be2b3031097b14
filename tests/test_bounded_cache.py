"""The reverse runs' cache: bounded, read-only results, and one computation for identical requests at once."""
import threading
import time

import numpy as np
import pytest

from explorer.ui.bounded_cache import BoundedCache


def run_together(n, call):
    out, errors = [None] * n, []
    barrier = threading.Barrier(n)

    def work(i):
        barrier.wait(5)
        try:
            out[i] = call(i)
        except BaseException as err:  # noqa: BLE001
            errors.append(err)
    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    return out, errors


def test_identical_requests_at_once_share_one_computation():
    cache, calls = BoundedCache(4), []

    def compute():
        calls.append(1)
        time.sleep(0.2)  # long enough for every thread to arrive while it runs
        return {"x": np.arange(3)}
    out, errors = run_together(8, lambda i: cache.get_or_compute("k", compute))
    assert not errors and len(calls) == 1 and all(o is out[0] for o in out)
    assert not out[0]["x"].flags.writeable


def test_bad_input_reaches_every_waiter_and_a_stopped_owner_is_replaced():
    cache = BoundedCache(4)

    def bad():
        time.sleep(0.2)
        raise ValueError("no such data set")
    _, errors = run_together(4, lambda i: cache.get_or_compute("bad", bad))
    assert len(errors) == 4 and all(isinstance(e, ValueError) for e in errors)

    class Stopped(BaseException):  # what a rerun of the computing session raises inside it
        pass
    calls = []

    def stopped_once():
        calls.append(1)
        time.sleep(0.2)
        if len(calls) == 1:
            raise Stopped()
        return {"x": np.zeros(1)}
    out, errors = run_together(3, lambda i: cache.get_or_compute("s", stopped_once))
    assert len(errors) == 1 and isinstance(errors[0], Stopped)  # only the stopped session sees it
    assert len(calls) == 2 and sum(o is not None for o in out) == 2


def test_the_cache_keeps_the_newest_entries_only():
    cache = BoundedCache(2)
    for k in "abc":
        cache.get_or_compute(k, lambda: {"v": np.zeros(1)})
    calls = []
    cache.get_or_compute("a", lambda: calls.append(1) or {"v": np.zeros(1)})
    assert calls == [1]  # "a" was evicted by "c"


def test_the_compute_gate_runs_one_at_a_time_in_arrival_order_and_forgets_a_stopped_waiter():
    """slots = 1: the others queue first come, first served, hearing how many are ahead; a waiter stopped while
    queued (Streamlit raises inside its calls) leaves the queue, and the rest still run."""
    from explorer.ui.bounded_cache import ComputeGate
    gate, order, heard, running = ComputeGate(1), [], {}, []

    class Stopped(Exception):
        pass

    def work(i):
        def on_wait(ahead):
            heard.setdefault(i, ahead)
            if i == 2:
                raise Stopped
        try:
            with gate.slot(on_wait):
                running.append(i)
                assert len(running) == 1  # never two at once
                order.append(i)
                time.sleep(0.3)
                running.remove(i)
        except Stopped:
            order.append("stopped 2")
    threads = []
    for i in range(4):  # started in order, each after the one before it has queued
        threads.append(threading.Thread(target=work, args=(i,)))
        threads[-1].start()
        time.sleep(0.05)
    [t.join(10) for t in threads]
    assert order == [0, "stopped 2", 1, 3]
    assert heard == {1: 1, 2: 2, 3: 2}  # 3 heard once 2 had left the queue: 0 running, 1 waiting
