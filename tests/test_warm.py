"""deploy/serve --warm computes every page's defaults inside each replica before it serves (not timed)."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.live import NGINX, ROOT, free_port, stop

pytestmark = [pytest.mark.alone, pytest.mark.slow,
              pytest.mark.skipif(not Path(NGINX).exists(), reason="deploy/serve needs nginx (apt-get install nginx-light)")]
PAGES = [p["file"].removesuffix(".py") for p in json.loads((ROOT / "pages" / "index.json").read_text())]


def test_warm_runs_every_page_in_every_replica_before_serving(tmp_path):
    timing = tmp_path / "timing.tsv"  # every script run of every replica appends "<page>\t<seconds>"
    proc = subprocess.Popen([sys.executable, str(ROOT / "deploy" / "serve"), "--port", str(free_port()),
                             "--replicas", "2", "--warm"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env={**os.environ, "DIFFUSION_EXPLORER_TIMING": str(timing)})
    lines = []
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("Serving the explorer"):
                break
        assert lines and lines[-1].startswith("Serving the explorer"), "".join(lines)
        warmed = [line for line in lines if line.startswith("warmed ")]
        assert len(warmed) == 2 and not any("exceptions" in line for line in warmed), "".join(lines)
        assert not any("failed" in line for line in lines), "".join(lines)
        runs = [line.split("\t")[0] for line in timing.read_text().splitlines() if not line.endswith("\tfragment")]
        assert sorted(runs) == sorted(PAGES * 2)  # each page once in each replica, all before nginx served anyone
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            assert proc.wait(30) == 0
        finally:
            stop(proc, within=5)
