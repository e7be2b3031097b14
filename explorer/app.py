"""Streamlit entry point: `streamlit run explorer/app.py` serves the pages in ../pages.

Set DIFFUSION_EXPLORER_TIMING=FILE to append one line per script run, "<page>\t<seconds>":
the server-side rerun time that bench/pages.py reports.
"""
import time

import streamlit as st

from explorer.ui.layout import PAGES, PAGES_DIR, log_timing


def main() -> None:
    t0 = time.perf_counter()
    st.set_page_config(page_title="Diffusion Explorer", page_icon=":material/blur_on:", layout="wide")
    page = st.navigation([st.Page(str(PAGES_DIR / p.file), title=p.title, icon=p.icon, default=(i == 0))
                          for i, p in enumerate(PAGES)])
    try:
        page.run()
    finally:
        log_timing(page.url_path or "overview", time.perf_counter() - t0)


main()
