"""bench/load.py speaks Streamlit's websocket protocol well enough to run every case (a small N, not timed)."""
import pytest

from bench.live import serve_app
from bench.load import Session, measure


@pytest.mark.slow
def test_the_load_generator_runs_every_case_and_sees_errors():
    with serve_app(with_process=True) as (url, _, proc):
        rows = measure(url, 2, "forward", "T=50", "T=60", pid=proc.pid)
        assert [r["case"] for r in rows] == ["first view", "open", "rerun", "new view", "seeds"]
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
