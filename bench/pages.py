"""Responsiveness of the live app, measured in Debian's Chromium.

    python -m bench.pages [--moves 12]

For each 2D page at its defaults (2,000 points, T = 1,000): open it, let it compute, then move
one slider back and forth between two values whose results are cached, and report
- server-side rerun time (the script run, logged by explorer/app.py), median;
- browser time from the key press to the redrawn chart, median;
and the time from starting the server to the first page's first figure. The Lessons page is measured
by its Next ▶ button through every step of a lesson once their views are computed (a first pass).
Budgets: rerun ≤ 150 ms, slider → chart ≤ 800 ms, first page ≤ 4 s, next lesson step ≤ 300 ms server.

    python -m bench.pages --visits [--rounds 3] [--pages tradeoffs guidance ...]

First visits, cold and warm, every page at its defaults (its bare URL): cold is the first visit to the page
on a fresh server (started, healthy, nothing visited yet; the clock starts when the browser opens the URL),
warm a second visit in a new browser context (a new session) on the same server once the first has finished.
Each is timed to the page's first figure (a Plotly chart with its data, or a decoded picture, on screen), and
the Trade-offs page also to complete: every cell of every heat map drawn (a number or ✕ in all 64 cells of
each map) and the caption under the maps shown, which the page writes only after its last cell. With
--rounds R every page gets R fresh servers (pages interleaved) and the medians are shown. Budgets: first
figure ≤ 4 s cold (Guidance ≤ 8 s), Trade-offs complete ≤ 15 s cold.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import report, save
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


# the pages by their URL path ("" is the landing page), each with its cold first-figure budget
VISITS = {"": 4.0, "lessons": 4.0, "forward": 4.0, "schedules": 4.0, "reverse": 4.0, "tradeoffs": 4.0,
          "score": 4.0, "guidance": 8.0, "flows": 4.0, "images": 4.0, "train": 4.0}
MAP_COMPLETE_BUDGET = 15.0
# a figure drawn: a Plotly chart laid out with its data, or a decoded picture, on screen (a non-empty box)
FIGURE_DRAWN_JS = """() => [...document.querySelectorAll('.js-plotly-plot, [data-testid=stImage] img')].some(el => {
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.height === 0) return false;
  return el.tagName === 'IMG' ? el.complete && el.naturalWidth > 0 : !!(el.data && el._fullLayout); })"""
# every heat map (the Trade-offs map) has text in all its cells, and the caption the page writes after its last cell
MAP_COMPLETE_JS = """() => { const maps = [...document.querySelectorAll('.js-plotly-plot')].filter(
    el => el.data && el.data.some(d => d.type === 'heatmap' && d.texttemplate));
  if (!maps.length || ![...document.querySelectorAll('[data-testid=stCaptionContainer]')].some(
      c => c.innerText.startsWith('Each cell:'))) return false;
  return maps.every(el => el.data.filter(d => d.texttemplate).every(
      d => d.text.flat().length === 64 && d.text.flat().every(v => v !== ''))); }"""


def visit(browser, url: str, name: str) -> dict:
    """Open url/name in a new browser context (a new session): seconds to the first figure (and, on Trade-offs,
    to the complete map); then wait until the server has finished the page's run."""
    page = browser.new_page(viewport={"width": 1400, "height": 1800})
    t0 = time.perf_counter()
    page.goto(f"{url}/{name}")
    page.wait_for_function(FIGURE_DRAWN_JS, timeout=600_000, polling=50)
    out = {"figure": time.perf_counter() - t0}
    if name == "tradeoffs":
        page.wait_for_function(MAP_COMPLETE_JS, timeout=600_000, polling=100)
        out["complete"] = time.perf_counter() - t0
    wait_idle(page, 600_000)
    page.close()
    return out


def first_visits(names: list[str], rounds: int = 1, env: dict | None = None) -> None:
    """Per page and round: a fresh server, a cold first visit, then a warm second visit; print the medians."""
    from playwright.sync_api import sync_playwright

    runs: dict[str, list] = {name: [] for name in names}
    load_before = os.getloadavg()
    with sync_playwright() as p:
        browser = launch(p)
        for _ in range(rounds):
            for name in names:
                with serve_app(env=env) as (url, healthy_s):
                    cold = visit(browser, url, name)
                    warm = visit(browser, url, name)
                runs[name].append((healthy_s, cold, warm))
                print(f"  {name or 'overview'}: healthy {healthy_s:.1f} s, cold {cold}, warm {warm}", flush=True)
        browser.close()

    def median(name: str, which: int, what: str) -> float:
        return statistics.median(r[which][what] for r in runs[name])
    print("\ncold and warm visits, the budget on cold" + (f", medians of {rounds}" if rounds > 1 else ""))
    for name in names:
        for what, label, budget in (("figure", "first figure", VISITS.get(name, 4.0)),
                                    ("complete", "complete", MAP_COMPLETE_BUDGET)):
            if what not in runs[name][0][1]:
                continue
            cold, warm = median(name, 1, what), median(name, 2, what)
            report(f"{name or 'overview'}, {label}", cold, budget, column="cold")
            report(f"{name or 'overview'}, {label}", warm, column="warm")
    healthy = statistics.median(r[0] for rs in runs.values() for r in rs)
    print(f"(server start → healthy: median {healthy:.1f} s, not counted above; "
          f"load average {load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--moves", type=int, default=12, help="slider moves per page (half right, half left)")
    ap.add_argument("--starts", type=int, default=5, help="cold server starts timed for the first page")
    ap.add_argument("--first-only", action="store_true", help="time only the cold starts of the first page")
    ap.add_argument("--lessons-only", action="store_true", help="time only the Lessons page's Next ▶")
    ap.add_argument("--visits", action="store_true", help="time first visits to every page, cold and warm")
    ap.add_argument("--rounds", type=int, default=1, help="with --visits: fresh servers per page (medians)")
    ap.add_argument("--pages", nargs="+", default=None, metavar="PAGE",
                    help="with --visits: these pages only (URL paths; 'overview' is the landing page)")
    args = ap.parse_args()
    if args.visits:
        names = [n for n in VISITS] if args.pages is None else ["" if n == "overview" else n for n in args.pages]
        first_visits(names, args.rounds)
        save("pages_visits" if args.pages is None else "pages_visits_some",
             note=f"Each page on {args.rounds} fresh servers; medians." if args.rounds > 1 else "")
        return
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
        save("pages_first")
        return
    if args.lessons_only:
        with serve_app(env={"DIFFUSION_EXPLORER_TIMING": str(log)}) as (url, _), sync_playwright() as p:
            browser = launch(p)
            server, browser_times = lesson_steps(browser.new_page(viewport={"width": 1400, "height": 1800}), url, log, 2)
            browser.close()
        report_lessons(server, browser_times)
        save("pages_lessons")
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
    save("pages")


if __name__ == "__main__":
    main()
