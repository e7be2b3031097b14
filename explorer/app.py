"""Streamlit entry point: `streamlit run explorer/app.py` serves the pages in ../pages.

Set DIFFUSION_EXPLORER_TIMING=FILE to append one line per script run, "<page>\t<seconds>":
the server-side rerun time that bench/pages.py reports.
"""
import os
import time

import streamlit as st

from explorer.ui.threads import limit_torch_threads
from explorer.ui import memory, preload
from explorer.ui.layout import PAGES, PAGES_DIR, log_timing, presenting


# One torch thread per script run. Every session's script runs in a fresh thread, and there a second
# intra-op thread slows torch down: a T = 1,000 reverse run of 2,000 points 0.26 → 0.63 s, the digits
# U-Net's 64 × 250 steps 1.8 → 2.2–2.5 s (2 cores). Sessions computing at once use the cores instead.
TORCH_THREADS = 1
os.environ.setdefault("OMP_NUM_THREADS", str(TORCH_THREADS))  # read when a page first imports torch: this file
# does not, so the title shows before torch has loaded (≈ 1 s)
memory.for_a_server()  # fewer malloc arenas, and freed memory back to the system (explorer/ui/memory.py)


def main() -> None:
    t0 = time.perf_counter()
    limit_torch_threads(TORCH_THREADS)  # torch loaded by an earlier run (or by the tests): set it directly
    st.set_page_config(page_title="Diffusion Explorer", page_icon=":material/blur_on:", layout="wide",
                       initial_sidebar_state="collapsed" if presenting() else "auto")
    page = st.navigation([st.Page(str(PAGES_DIR / p.file), title=p.title, icon=p.icon, default=(i == 0))
                          for i, p in enumerate(PAGES)])
    landing = page.url_path == ""  # the overview draws no Plotly chart: its pictures come first there
    if not landing:
        preload.chart_library()  # the browser loads the chart library while this page computes
    try:
        page.run()
        if landing:
            preload.chart_library()  # for the page the visitor opens next
    finally:
        log_timing(page.url_path or "overview", time.perf_counter() - t0)


main()
