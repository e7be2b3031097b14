"""Timing helpers shared by the benchmarks: medians of repeated runs, device labels, and the results file.

Every figure a benchmark reports (`report`) is also kept, and `save` writes them to bench/results/NAME.json with the
command, the date, the commit, the device and torch's version; `python -m bench.tables` writes bench/README.md's
tables from those files, so no measured figure is typed by hand.
"""
from __future__ import annotations

import argparse
import datetime
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import torch

RESULTS_DIR = Path(__file__).resolve().parent / "results"
_ROWS: list[dict] = []  # what report() measured since the last save()
_DEVICE: list[torch.device] = []  # the device start() picked
SERVER = "this machine's CPU, in the app's server (one torch thread per script run)"  # benches that time the app


def start(doc: str, *extra: tuple[str, dict]) -> tuple[argparse.Namespace, torch.device]:
    """The benchmarks' command line (--device, --repeats and any extra options), and the device line."""
    from explorer.common.device import describe_device, pick_device

    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default=None, help="cpu or cuda (default: pick_device())")
    ap.add_argument("--repeats", type=int, default=5)
    for flag, kw in extra:
        ap.add_argument(flag, **kw)
    args = ap.parse_args()
    device = torch.device(args.device) if args.device else pick_device()
    print(f"device: {describe_device(device)}, torch {torch.__version__}, threads {torch.get_num_threads()}")
    _DEVICE[:] = [device]
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


def report(name: str, seconds: float, budget: float | None = None, unit: str = "s", *, at_least: bool = False,
           column: str | None = None) -> str:
    """Print one figure and keep it for save(). seconds is in seconds for "s" and "ms" (shown in ms), otherwise in
    the unit itself ("×", "%", "MB", ...). The budget is an upper bound, or a lower one with at_least."""
    scale = 1000.0 if unit == "ms" else 1.0
    digits = 3 if unit != "ms" else 2 if seconds * scale < 10 else 1
    line = f"{name:<58} {seconds * scale:8.{digits}f} {unit}"
    ok = None
    if budget is not None:
        ok = seconds >= budget if at_least else seconds <= budget
        line += f"   (budget {'≥' if at_least else '≤'} {budget * scale:g} {unit}: {'ok' if ok else 'OVER'})"
    print(line, flush=True)
    _ROWS.append({"what": name.strip(), "value": round(seconds * scale, 6), "unit": unit,
                  "budget": None if budget is None else round(budget * scale, 6),
                  "at_least": at_least, "ok": ok, **({"column": column} if column else {})})
    return line


def device_now() -> str:
    """The device start() picked, described now: a bench that set torch's threads after start() shows that count."""
    from explorer.common.device import describe_device

    return describe_device(_DEVICE[0]) if _DEVICE else SERVER


def save(name: str, note: str = "") -> Path:
    """Write what report() measured to bench/results/NAME.json (replacing that file), with how it was measured."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=RESULTS_DIR.parent, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    result = {"name": name, "command": " ".join([f"python -m bench.{Path(sys.argv[0]).stem}", *sys.argv[1:]]),
              "measured": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
              "commit": commit, "device": device_now(), "torch": torch.__version__,
              "note": note, "rows": list(_ROWS)}
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    _ROWS.clear()
    print(f"wrote {path.relative_to(RESULTS_DIR.parent.parent)}; python -m bench.tables updates bench/README.md")
    return path


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
