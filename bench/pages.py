"""Responsiveness of the live app, measured in Debian's Chromium.

    python -m bench.pages [--moves 12]

For each 2D page at its defaults (2,000 points, T = 1,000): open it, let it compute, then move
one slider back and forth between two values whose results are cached, and report
- server-side rerun time (the script run, logged by explorer/app.py), median;
- browser time from the key press to the redrawn chart, median;
and the time from starting the server to the first page's first figure. The Lessons page is measured
by its Next ▶ button through every step of a lesson once their views are computed (a first pass).
Budgets: rerun ≤ 150 ms, slider → chart ≤ 800 ms, first page ≤ 4 s, next lesson step ≤ 300 ms server.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import report
from bench.live import FIGURE, launch, move_slider, serve_app, wait_idle

# page -> (the slider that scrubs stored results, chart index that shows the change); each page's
# sidebar T slider is measured too (a full rerun, both T values cached after the first pass)
SCRUBS = {
    "forward": ("t: the step to inspect", 2, "reruns its fragment"),
    "schedules": ("Data standard deviation σ₀", 1, "reruns the page"),
    "reverse": ("Step of the reverse run", 0, "reruns its fragment"),
    "score": ("t (noise level)", 0, "reruns its fragment"),
}


def measure(page, log: Path, name: str, label: str, chart: int, moves: int) -> tuple[list, list]:
    """Move a slider left/right `moves` times between two cached values; server and browser times."""
    move_slider(page, label, ["ArrowLeft"], chart, 300_000)  # compute both values once
    wait_idle(page, 300_000)
    move_slider(page, label, ["ArrowRight"], chart, 300_000)
    wait_idle(page, 300_000)
    n_before = len(log.read_text().splitlines())
    browser_times = []
    for i in range(moves):
        browser_times.append(move_slider(page, label, ["ArrowLeft" if i % 2 == 0 else "ArrowRight"], chart, 60_000))
        wait_idle(page)
    server = [float(line.split("\t")[1]) for line in log.read_text().splitlines()[n_before:]
              if line.startswith(name)]
    return server, browser_times


LESSON = 4  # reverse sampling, x_t beside x̂₀: 7 steps, two figures each


def lesson_steps(page, url: str, log: Path, passes: int) -> tuple[list, list]:
    """Walk lesson LESSON with Next ▶ (a first pass computes every view), then `passes` more walks timed:
    server time of each rerun, and browser time from the click to the next step's title."""
    server, browser_times = [], []
    for walk in range(passes + 1):
        page.goto(f"{url}/lessons?lesson={LESSON}&step=1")
        page.wait_for_selector(FIGURE, timeout=300_000)
        wait_idle(page, 300_000)
        n_before = len(log.read_text().splitlines())
        while page.get_by_role("button", name="Next ▶").is_enabled():
            title = page.locator("h3").first.inner_text()
            t0 = time.perf_counter()
            page.get_by_role("button", name="Next ▶").click()
            page.wait_for_function("t => document.querySelector('h3') && document.querySelector('h3').innerText != t",
                                   arg=title, timeout=300_000)
            page.wait_for_selector(FIGURE, timeout=300_000)
            elapsed = time.perf_counter() - t0
            wait_idle(page, 300_000)
            if walk:
                browser_times.append(elapsed)
        if walk:
            server += [float(line.split("\t")[1]) for line in log.read_text().splitlines()[n_before:]
                       if line.startswith("lessons")]
    return server, browser_times


def report_lessons(server: list, browser_times: list) -> None:
    report(f"lessons: server rerun, Next ▶ to a computed step (max of {len(server)})", max(server), 0.300, unit="ms")
    report("lessons: server rerun, Next ▶ (median)", statistics.median(server), 0.300, unit="ms")
    report("lessons: browser, Next ▶ to the next step's figures (median)", statistics.median(browser_times), 0.800,
           unit="ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--moves", type=int, default=12, help="slider moves per page (half right, half left)")
    ap.add_argument("--starts", type=int, default=5, help="cold server starts timed for the first page")
    ap.add_argument("--first-only", action="store_true", help="time only the cold starts of the first page")
    ap.add_argument("--lessons-only", action="store_true", help="time only the Lessons page's Next ▶")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    log = Path(tempfile.mkdtemp()) / "timing.tsv"
    with sync_playwright() as p:  # cold starts: a new server (and browser page) each time
        browser = launch(p)
        rendered, drawn, complete = [], [], []
        for _ in range(args.starts):
            t_spawn = time.perf_counter()
            with serve_app() as (url, _):
                page = browser.new_page(viewport={"width": 1400, "height": 1800})
                page.goto(url)
                page.wait_for_selector("h1", timeout=120_000)
                rendered.append(time.perf_counter() - t_spawn)
                page.wait_for_selector(FIGURE, timeout=120_000)
                drawn.append(time.perf_counter() - t_spawn)
                # complete: the diagram and both teaser pictures decoded, nothing left running
                page.wait_for_function("() => { const im = [...document.querySelectorAll("
                                       "'[data-testid=stImage] img')]; return im.length >= 3 && "
                                       "im.every(i => i.complete && i.naturalWidth > 0); }", timeout=120_000)
                complete.append(time.perf_counter() - t_spawn)
                page.close()
        browser.close()
    report(f"first page: server start -> title and text (median of {args.starts})", statistics.median(rendered), 4.0)
    report(f"first page: server start -> first figure (median of {args.starts})", statistics.median(drawn), 4.0)
    report(f"first page: server start -> complete, teaser drawn (median of {args.starts})",
           statistics.median(complete), 4.0)
    print("  runs (complete):", ", ".join(f"{c:.2f}" for c in complete), "s")
    if args.first_only:
        return
    if args.lessons_only:
        with serve_app(env={"DIFFUSION_EXPLORER_TIMING": str(log)}) as (url, _), sync_playwright() as p:
            browser = launch(p)
            server, browser_times = lesson_steps(browser.new_page(viewport={"width": 1400, "height": 1800}), url, log, 2)
            browser.close()
        report_lessons(server, browser_times)
        return
    with serve_app(env={"DIFFUSION_EXPLORER_TIMING": str(log)}) as (url, _), sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1800})
        for name, (label, chart, how) in SCRUBS.items():
            page.goto(f"{url}/{name}")
            page.wait_for_selector(FIGURE, timeout=300_000)
            wait_idle(page, 300_000)
            for what, slider, idx in ((f"{label!r} ({how})", label, chart),
                                      ("'Number of steps T' (reruns the page)", "Number of steps T", 0)):
                server, browser_times = measure(page, log, name, slider, idx, args.moves)
                report(f"{name}: server rerun, {what}", statistics.median(server), 0.150, unit="ms")
                report(f"{name}: browser, {what}", statistics.median(browser_times), 0.800, unit="ms")
        server, browser_times = lesson_steps(page, url, log, passes=2)
        report_lessons(server, browser_times)
        browser.close()


if __name__ == "__main__":
    main()
