"""bench/load.py speaks Streamlit's websocket protocol well enough to run every case (a small N, not timed)."""
import os
import signal
import time
from pathlib import Path

import pytest

from bench.live import NGINX, replica_pids, replica_ports, serve_app, serve_deploy, websocket_replica
from bench.load import Session, failover, measure

pytestmark = pytest.mark.alone  # these time a class of tabs against a server: nothing else on the cores meanwhile

needs_nginx = pytest.mark.skipif(not Path(NGINX).exists(), reason="deploy/serve needs nginx (apt-get install nginx-light)")


@pytest.mark.slow
def test_the_load_generator_runs_every_case_and_sees_errors():
    with serve_app(with_process=True) as (url, _, proc):
        rows = measure(url, 2, "forward", "T=50", "T=60", pid=proc.pid)
        assert [r["case"] for r in rows] == ["first view", "open", "rerun", "slider", "new view", "seeds"]
        assert all(r["failed"] == 0 and r["exceptions"] == 0 and r["errors"] == 0 for r in rows)
        opened, rerun = rows[1], rows[2]
        assert opened["kB"] > 10 * rerun["kB"]  # a rerun gets hashes, not the cached messages again
        assert all(r["rss_mb"] > 50 for r in rows)  # the server's memory is read
        # an error alert on the page is counted (a script that shows st.error still "finishes successfully")
        tab = Session(url, "forward")
        try:
            run = tab.run("data=word&word=%20%20%20")  # a blank word: "Cannot …" message, page keeps working
            assert run.status == 0 and run.errors >= 1 and run.exceptions == 0
        finally:
            tab.close()


@pytest.mark.slow
def test_sigterm_in_the_middle_of_a_sampling_run_stops_the_server_cleanly(tmp_path):
    """A replica stopped mid-computation (T = 5,000, 5,000 points) exits within seconds, without an abort."""
    import signal
    import threading
    import time

    log = tmp_path / "server.log"
    with serve_app(log_path=log, with_process=True) as (url, _, proc):
        tab = Session(url, "reverse")
        running = threading.Thread(target=lambda: pytest.raises(Exception, tab.run, "T=5000&n=5000"), daemon=True)
        running.start()
        time.sleep(3)  # well inside the run, which takes far longer
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        running.join(15)
    text = log.read_text()
    assert "Stopping" in text and "terminate called" not in text and "Aborted" not in text


@pytest.mark.slow
@needs_nginx
def test_a_replica_killed_in_the_middle_of_a_class_loses_no_view():
    """Two replicas behind nginx; eight tabs go through four new views each; one replica is killed (SIGKILL)
    while they compute. Every tab on it reconnects through nginx to the other and asks again for the view in
    its URL: every view arrives, no exception, no error; deploy/serve starts the dead replica again."""
    with serve_deploy(replicas=2) as (url, proc):
        replicas = replica_pids(proc.pid)
        assert len(replicas) == 2
        queries = [f"T={T}&n=1000" for T in (300, 400, 500, 600)]
        outcomes = failover(url, 8, "reverse", queries, kill=lambda: os.kill(replicas[0], signal.SIGKILL),
                            kill_after_s=1.0)
        assert sum(o.reconnects for o in outcomes) >= 1  # the kill did hit tabs in the middle of their runs
        assert [o.views for o in outcomes] == [len(queries)] * 8
        assert sum(o.lost + o.exceptions + o.errors for o in outcomes) == 0, \
            [o for o in outcomes if o.lost + o.exceptions + o.errors]
        for _ in range(120):  # restarted: a new streamlit child in place of the dead one
            alive = replica_pids(proc.pid)
            if len(alive) == 2 and replicas[0] not in alive:
                break
            time.sleep(0.5)
        assert len(alive) == 2 and replicas[0] not in alive


@pytest.mark.slow
@needs_nginx
def test_sigterm_stops_deploy_serve_and_everything_it_started(tmp_path):
    """SIGTERM to deploy/serve in the middle of a sampling run: nginx and both replicas are gone within a few
    seconds, exit 0, no abort in the log."""
    import threading
    log = tmp_path / "serve.log"
    with serve_deploy(replicas=2, log_path=log) as (url, proc):
        children = replica_pids(proc.pid)
        tab = Session(url, "reverse")
        ended = {}

        def sample() -> None:  # a long run: it is still computing when SIGTERM comes (checked below)
            try:
                ended["run"] = tab.run("T=5000&n=5000")
            except Exception as err:  # noqa: BLE001 — the server going away mid-run is the expected end
                ended["error"] = err
            ended["at"] = time.monotonic()
        running = threading.Thread(target=sample, daemon=True)
        running.start()
        time.sleep(3)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        assert time.monotonic() - t0 < 10
        running.join(15)
        assert ended.get("at", float("inf")) >= t0, ended  # the run had not finished before the signal
    for pid in children:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
    text = log.read_text()
    assert text.count(": exit 0") == 2, text  # both replicas left cleanly (deploy/serve reports each)
    assert "aborted" not in text and "terminate called" not in text


@pytest.mark.slow
@pytest.mark.browser
@needs_nginx
@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs Debian's chromium (.ci/run installs it)")
def test_a_browser_tab_keeps_its_view_when_its_replica_dies():
    """Chromium through nginx: the page loads over the proxied websocket, a slider moves; then the replica holding
    the tab's websocket is killed, and the tab reconnects to the other replica and shows the same view again."""
    from playwright.sync_api import sync_playwright

    from bench.live import FIGURE, launch, move_slider, slider_input, wait_idle
    with serve_deploy(replicas=2) as (url, proc), sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/reverse?T=300&n=500")
        page.wait_for_selector(FIGURE, timeout=120_000)
        wait_idle(page, 120_000)
        move_slider(page, "Number of steps T", ["ArrowLeft"] * 3, timeout_ms=120_000)
        wait_idle(page, 120_000)
        shown = slider_input(page, "Number of steps T").input_value()
        assert shown == "297" and "T=297" in page.url
        ports = replica_ports(replica_pids(proc.pid))
        holder = None
        for _ in range(40):
            holder = websocket_replica(ports)
            if holder:
                break
            time.sleep(0.25)
        assert holder is not None, ports
        os.kill(holder, signal.SIGKILL)
        survivor = next(port for pid, port in ports.items() if pid != holder)
        for _ in range(120):  # the tab reconnects through nginx, to the replica still alive
            if websocket_replica({0: survivor}) == 0:
                break
            time.sleep(0.5)
        assert websocket_replica({0: survivor}) == 0
        page.wait_for_selector(FIGURE, timeout=120_000)
        wait_idle(page, 120_000)
        assert slider_input(page, "Number of steps T").input_value() == shown  # the same view, from its URL
        move_slider(page, "Number of steps T", ["ArrowLeft"], timeout_ms=120_000)  # and it is live there
        wait_idle(page, 120_000)
        assert slider_input(page, "Number of steps T").input_value() == "296" and "T=296" in page.url
        assert page.locator("[data-testid=stException]").count() == 0
        browser.close()


@pytest.mark.slow
def test_the_class_scenario_takes_three_students_through_a_lesson(tmp_path):
    """bench.load --scenario class with three students: every step and every reveal reaches every screen (pushed by
    the server: the students' pages have no timer of their own), and every answer is sent and counted."""
    from bench.load_class import Board, teach
    with serve_app(env={"DIFFUSION_EXPLORER_CLASS_DB": str(tmp_path / "class.db")}) as (url, _):
        board = Board()
        out = teach(url, 3, board)
    steps = out["steps"]
    assert out["joined"] and all(everyone for _, everyone in out["waits"])
    for log in out["logs"]:
        assert not log.failures
        assert sorted(log.step_seen) == sorted(log.reveal_seen) == list(range(steps))
        assert sorted(log.sent) == list(range(steps))
    assert out["counted"] == [3] * steps
