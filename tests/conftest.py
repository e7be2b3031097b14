import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # tests/stats.py
sys.path.insert(0, str(HERE.parent))  # bench.live: the live-app helpers shared with the benchmarks

import fcntl  # noqa: E402
import tempfile  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _alone_when_marked(request):
    """Under pytest-xdist, a test marked `alone` runs while no other test runs on the other workers (an exclusive
    file lock; every other test holds it shared). The load and failover tests time a class of tabs against a
    server: a page test computing beside them on the same two cores made one of them miss (CI, 2026-11-26)."""
    worker = getattr(request.config, "workerinput", None)
    if worker is None:  # one process: nothing runs beside
        yield
        return
    path = Path(tempfile.gettempdir()) / f"diffusion-explorer-{worker['testrunuid']}.lock"
    with open(path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX if request.node.get_closest_marker("alone") else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
