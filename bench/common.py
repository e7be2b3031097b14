"""Timing helpers shared by the benchmarks: medians of repeated runs, device labels."""
from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable

import torch


def start(doc: str, *extra: tuple[str, dict]) -> tuple[argparse.Namespace, torch.device]:
    """The benchmarks' command line (--device, --repeats and any extra options), and the device line."""
    from explorer.device import describe_device, pick_device

    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default=None, help="cpu or cuda (default: pick_device())")
    ap.add_argument("--repeats", type=int, default=5)
    for flag, kw in extra:
        ap.add_argument(flag, **kw)
    args = ap.parse_args()
    device = torch.device(args.device) if args.device else pick_device()
    print(f"device: {describe_device(device)}, torch {torch.__version__}, threads {torch.get_num_threads()}")
    return args, device


def median_seconds(fn: Callable[[], object], repeats: int = 5, warmup: int = 1) -> tuple[float, list[float]]:
    """Run fn warmup + repeats times; return (median seconds, all timings)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def report(name: str, seconds: float, budget: float | None = None, unit: str = "s") -> str:
    scale = 1000.0 if unit == "ms" else 1.0
    digits = 3 if unit != "ms" else 2 if seconds * scale < 10 else 1
    line = f"{name:<58} {seconds * scale:8.{digits}f} {unit}"
    if budget is not None:
        line += f"   (budget {budget * scale:g} {unit}: {'ok' if seconds <= budget else 'OVER'})"
    print(line, flush=True)
    return line


def page_rerun_seconds(page: str, key: str, a, b, repeats: int) -> float:
    """Median seconds of the whole page's rerun (AppTest) when slider `key` moves between a and b, both computed once
    before the timing."""
    import logging
    import statistics
    import time
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    logging.disable(logging.WARNING)
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "explorer" / "app.py"), default_timeout=600)
    at.switch_page(f"../pages/{page}.py")
    at.run()
    for value in (a, b):
        at.slider(key=key).set_value(value).run()
    times = []
    for i in range(2 * repeats):
        t0 = time.perf_counter()
        at.slider(key=key).set_value(a if i % 2 == 0 else b).run()
        times.append(time.perf_counter() - t0)
    assert not at.exception, [e.message for e in at.exception]
    return statistics.median(times)
