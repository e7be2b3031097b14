"""Streamlit entry point: `streamlit run explorer/app.py` serves the pages in ../pages.

Set DIFFUSION_EXPLORER_TIMING=FILE to append one line per script run, "<page>\t<seconds>":
the server-side rerun time that bench/pages.py reports.
"""
import os
import time
from pathlib import Path

import streamlit as st

PAGES = Path(__file__).resolve().parent.parent / "pages"

# (file, title, icon) in the order of the sidebar; the first one is the landing page
PAGE_LIST = [
    ("overview.py", "Overview", ":material/home:"),
    ("forward.py", "Forward noising", ":material/blur_on:"),
    ("schedules.py", "Noise schedules", ":material/show_chart:"),
    ("reverse.py", "Reverse sampling", ":material/replay:"),
    ("score.py", "Score & Langevin", ":material/explore:"),
    ("images.py", "Images", ":material/image:"),
    ("train.py", "Train your own", ":material/model_training:"),
]


def main() -> None:
    t0 = time.perf_counter()
    st.set_page_config(page_title="Diffusion Explorer", page_icon=":material/blur_on:", layout="wide")
    pages = [st.Page(str(PAGES / f), title=title, icon=icon, default=(i == 0))
             for i, (f, title, icon) in enumerate(PAGE_LIST) if (PAGES / f).exists()]
    page = st.navigation(pages)
    try:
        page.run()
    finally:
        log = os.environ.get("DIFFUSION_EXPLORER_TIMING")
        if log:
            with open(log, "a") as f:
                f.write(f"{page.url_path or 'overview'}\t{time.perf_counter() - t0:.4f}\n")


main()
