"""bench/load.py speaks Streamlit's websocket protocol well enough to run every case (a small N, not timed)."""
import os
import signal
import time
from pathlib import Path

import pytest

from bench.live import NGINX, replica_pids, serve_app, serve_deploy
from bench.load import Session, failover, measure

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
        assert sum(o.lost + o.exceptions + o.errors for o in outcomes) == 0
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
        running = threading.Thread(target=lambda: pytest.raises(Exception, tab.run, "T=5000&n=5000"), daemon=True)
        running.start()
        time.sleep(3)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        assert time.monotonic() - t0 < 10
        running.join(15)
    for pid in children:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
    text = log.read_text()
    assert text.count(": exit 0") == 2, text  # both replicas left cleanly (deploy/serve reports each)
    assert "aborted" not in text and "terminate called" not in text
