"""A live explorer for browser tests and benchmarks: serve `streamlit run explorer/app.py`
on a free loopback port and drive it with Playwright in Debian's Chromium."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
FIGURE = ".js-plotly-plot, [data-testid=stImage] img"  # a Plotly chart or a picture, in page order


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, what: str, tries: int) -> None:
    """Poll url's /_stcore/health (every 0.25 s, `tries` times) until it answers ok; fail if proc exits."""
    for _ in range(tries):
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=1).read() == b"ok":
                return
        except OSError:
            time.sleep(0.25)
    raise RuntimeError(f"{what} never became healthy")


def stop(proc: subprocess.Popen, within: float) -> None:
    """SIGTERM, and SIGKILL if it has not left `within` seconds later."""
    proc.terminate()
    try:
        proc.wait(within)
    except subprocess.TimeoutExpired:
        proc.kill()


@contextlib.contextmanager
def serve_app(log_path: Path | None = None, env: dict | None = None, with_process: bool = False):
    """Start the app; yield (base_url, seconds until healthy[, the server's Popen]); stop it afterwards."""
    port = free_port()
    log = open(log_path, "w") if log_path else subprocess.DEVNULL
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "explorer" / "app.py"), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, "the explorer", tries=240)
        yield (url, time.perf_counter() - t0, proc) if with_process else (url, time.perf_counter() - t0)
    finally:
        stop(proc, within=10)


NGINX = "/usr/sbin/nginx"


@contextlib.contextmanager
def serve_deploy(replicas: int = 2, log_path: Path | None = None):
    """Start deploy/serve (nginx in front of `replicas` explorers); yield (base_url, its Popen); stop it."""
    port = free_port()
    log = open(log_path, "w") if log_path else subprocess.DEVNULL
    proc = subprocess.Popen([sys.executable, str(ROOT / "deploy" / "serve"), "--port", str(port), "--replicas",
                             str(replicas)], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, "deploy/serve", tries=480)
        yield url, proc
    finally:
        stop(proc, within=30)


def replica_pids(serve_pid: int) -> list[int]:
    """The explorer replicas deploy/serve started (its child processes running streamlit)."""
    with open(f"/proc/{serve_pid}/task/{serve_pid}/children") as f:
        children = [int(p) for p in f.read().split()]
    out = []
    for pid in children:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if b"streamlit" in f.read():
                    out.append(pid)
        except OSError:
            pass
    return out



def replica_ports(pids: list[int]) -> dict[int, int]:
    """pid -> the loopback port of each replica (its --server.port)."""
    ports = {}
    for pid in pids:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        ports[pid] = int(args[args.index(b"--server.port") + 1])
    return ports


def websocket_replica(ports: dict[int, int]) -> int | None:
    """The pid of the replica (pid -> port) holding an established loopback connection on its port: with
    one browser tab open, the replica that holds its websocket (nginx keeps no idle upstream connections)."""
    held = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        if state == "01":  # ESTABLISHED
            held.add(int(local.split(":")[1], 16))
    on = [pid for pid, port in ports.items() if port in held]
    return on[0] if len(on) == 1 else None

@contextlib.contextmanager
def app_and_browser(shots: Path | None = None):
    """A served explorer and a Chromium to drive it: yield (base_url, browser); the server's log goes to
    shots/server.log (the folder made) when shots is given. The browser tests' module-wide fixture."""
    from playwright.sync_api import sync_playwright
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
    with serve_app(shots / "server.log" if shots else None) as (url, _), sync_playwright() as p:
        browser = launch(p)
        try:
            yield url, browser
        finally:
            browser.close()


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def slider_input(page, label: str):
    """The hidden range input of the st.slider / st.select_slider whose label contains `label`."""
    return page.locator("[data-testid=stSlider]").filter(has_text=label).first.locator("input[type=range]")


SIGNATURE_JS = """(i) => { const el = document.querySelectorAll('.js-plotly-plot, [data-testid=stImage] img')[i];
    if (el && el.tagName === 'IMG') return el.complete ? 'img|' + el.currentSrc : '';
    if (!el || !el.data) return '';
    const t = el.layout && el.layout.title ? (el.layout.title.text || '') : '';
    const s = JSON.stringify(el.data.map(d => [d.x, d.y, d.z]));
    let h = 5381;
    for (let k = 0; k < s.length; k++) h = ((h * 33) ^ s.charCodeAt(k)) >>> 0;  // djb2 over all trace data
    return t + '|' + s.length + '|' + h; }"""


def chart_signature(page, index: int = 0) -> str:
    """Changes whenever figure `index` (FIGURE order) is redrawn: a chart's title and trace data, or a
    picture's source once loaded."""
    return page.evaluate(SIGNATURE_JS, index)


def wait_idle(page, timeout_ms: int = 60_000) -> None:
    """Wait until Streamlit has finished rerunning (no 'running' status widget)."""
    page.wait_for_timeout(150)
    page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=timeout_ms)


def move_slider(page, label: str, keys: list[str], chart_index: int = 0, timeout_ms: int = 60_000) -> float:
    """Focus a slider, press keys, wait until chart `chart_index` changes; return the seconds it took.

    If the keys were lost (the slider kept its value: Streamlit replaced the element while it was
    being focused), focus it again and press again, up to three times.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    inp = slider_input(page, label)
    before_value, before_chart = inp.input_value(), chart_signature(page, chart_index)
    changed = f"([i, old]) => ({SIGNATURE_JS})(i) !== old"
    for attempt in range(3):
        inp.focus()
        t0 = time.perf_counter()
        for k in keys:
            page.keyboard.press(k)
        try:
            page.wait_for_function(changed, arg=[chart_index, before_chart], timeout=min(timeout_ms, 15_000))
            break
        except PlaywrightTimeout:
            if inp.input_value() == before_value and attempt < 2:
                continue  # the key presses went nowhere: press again
            page.wait_for_function(changed, arg=[chart_index, before_chart], timeout=timeout_ms)
            break
    elapsed = time.perf_counter() - t0
    if inp.input_value() == before_value:
        raise AssertionError(f"slider {label!r} did not move")
    return elapsed
