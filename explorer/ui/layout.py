"""Page chrome shared by every page: title, sidebar footer, device, friendly error boundary."""
from __future__ import annotations

import atexit
import contextlib
import functools
import json
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from explorer.ui import state
from explorer.ui.a11y import A11Y_CSS

PAGES_DIR = Path(__file__).resolve().parents[2] / "pages"


@dataclass(frozen=True)
class PageInfo:
    file: str  # in PAGES_DIR
    title: str
    icon: str
    summary: str  # what the overview says of it


# The one page list (pages/index.json): the sidebar's order, the first being the landing page, and the
# overview's map of pages.
PAGES = tuple(PageInfo(**page) for page in json.loads((PAGES_DIR / "index.json").read_text(encoding="utf-8")))


def log_timing(page: str, seconds: float, fragment: bool = False) -> None:
    """With DIFFUSION_EXPLORER_TIMING=FILE set, append "<page>\t<seconds>[\tfragment]" (bench/pages.py reads it)."""
    log = os.environ.get("DIFFUSION_EXPLORER_TIMING")
    if log:
        with open(log, "a") as f:
            f.write(f"{page}\t{seconds:.4f}" + ("\tfragment\n" if fragment else "\n"))


def _leave_at_once_if_a_script_still_runs() -> None:
    """At interpreter exit (SIGTERM stops the server), leave at once if a script is still computing.

    Tearing torch's thread pool down under a sampling run that is still going aborts the process
    ("terminate called without an active exception", exit −6: seen in 2 of 6 stops mid-run). The
    server has already stopped serving by then, so nothing is lost by skipping the teardown.
    """
    if any(t.name == "ScriptRunner.scriptThread" and t.is_alive() for t in threading.enumerate()):
        sys.stdout.flush(), sys.stderr.flush()
        os._exit(0)


if st.runtime.exists():  # a server (AppTest has no runtime); this module is imported once per process
    atexit.register(_leave_at_once_if_a_script_still_runs)


@st.cache_resource
def device_label() -> str:
    from explorer.common.device import describe_device  # imports torch: only when asked
    from explorer.ui.sources import COMPUTE
    return describe_device(COMPUTE)


_SLOT = "_header_slot"
PRESENT_KEY = "present"  # ?present=1: presenter mode (explorer/app.py collapses the sidebar at load)
PRESENT_TEXT_PX = 16  # presenter mode: no chart text smaller than this (read from the back row of a hall)
# Presenter mode: every rem-sized text 22/16 = 1.375× larger (body 22 px, captions 19 px), the page edge to
# edge, big buttons (◀ ▶). Only the coloured decoration bar is hidden: Streamlit's header holds the button
# that opens the folded sidebar (stExpandSidebarButton), so it stays. The Deploy button is off for everyone
# (.streamlit/config.toml: client.toolbarMode = "viewer"). Selectors are Streamlit's data-testids, checked
# against the versions pyproject.toml admits by tests/test_presenter.py.
PRESENT_CSS = """<style>
html { font-size: 22px; }
.block-container, [data-testid="stMainBlockContainer"] { max-width: 100% !important; padding: 4rem 2rem 2rem !important; }
[data-testid="stDecoration"], [data-testid="stAppDeployButton"] { display: none; }
.stButton button, .stPageLink a, .stDownloadButton button { min-height: 2.6rem; }
[data-testid="stMainBlockContainer"] h2 { padding: 0.25rem 0; }
</style>"""


def presenting() -> bool:
    """Presenter mode: the toggle's value once drawn, else the link's ?present=1."""
    if PRESENT_KEY in st.session_state:
        return bool(st.session_state[PRESENT_KEY])
    return st.query_params.get(PRESENT_KEY) == "1"


def _leave_presenter_mode() -> None:
    st.session_state[PRESENT_KEY] = False


def header(title: str, intro: str, compact: bool = False) -> None:
    """Title and introduction, plus a slot where footer() reports unusable link values; compact: the title alone,
    small (a student's phone in a class: the figure and the question come first).

    In presenter mode the header is one compact row — the title, the introduction behind an "About this
    page" button, and "Leave presenter mode" — so that the page's figure starts in the first screen."""
    st.html(A11Y_CSS)  # contrast where Streamlit's defaults fall short (explorer/ui/a11y.py)
    if presenting():
        st.html(PRESENT_CSS)
        name, about, leave = st.columns([5, 2, 3], vertical_alignment="center")
        name.markdown(f"## {title}")
        with about.popover("About this page", icon=":material/info:", width="stretch"):
            st.markdown(intro)
        leave.button("Leave presenter mode", key="leave_present", icon=":material/close_fullscreen:",
                     width="stretch", on_click=_leave_presenter_mode,
                     help="Back to the normal layout: sidebar, page text, normal type size.")
    elif compact:
        st.markdown(f"#### {title}")
    else:
        st.title(title)
        st.markdown(intro)
    st.session_state[_SLOT] = st.container()


def chart(where, fig, **kwargs) -> None:
    """where.plotly_chart(fig, **kwargs), with every text of the figure ≥ PRESENT_TEXT_PX in presenter mode."""
    if presenting():
        from explorer.draw.legible import enlarge_text  # plotly: not before the first page's title is shown
        fig = enlarge_text(fig, PRESENT_TEXT_PX)
    where.plotly_chart(fig, **kwargs)


def footer(divider: bool = True) -> None:
    """Sidebar footer (device, sharing hint); warnings about the link go to the header's slot.

    divider=False on a page with no sidebar controls: the page list already ends in a rule."""
    if divider:
        st.sidebar.divider()
    state.toggle("Presenter mode", PRESENT_KEY, False, where=st.sidebar,
                 help="For a projector: larger type and chart text, the page edge to edge, a compact header, the "
                      "sidebar folded away (open it with the » button at the top left; leave with \"Leave "
                      "presenter mode\" at the top right). The link keeps it: ?present=1.")
    st.sidebar.caption(f"Computing on **{device_label()}**. Every setting is in the URL: copy it to share "
                       "this exact view.")
    with st.session_state.pop(_SLOT, st.container()):
        state.show_url_warnings()


@contextlib.contextmanager
def friendly_errors(what: str):
    """Turn a ValueError from the core library into a message on the page, not a traceback."""
    try:
        yield
    except ValueError as err:
        st.error(f"Cannot {what}: {err}")
        st.stop()


def live_fragment(func):
    """st.fragment: a slider inside reruns only this part of the page, not the whole script.

    Scrubbing through stored steps then costs only the views that depend on the step. When
    DIFFUSION_EXPLORER_TIMING is set, each fragment rerun is logged like a full run (app.py).
    """
    @functools.wraps(func)
    def timed(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            log_timing(Path(func.__code__.co_filename).stem, time.perf_counter() - t0, fragment=True)
    return st.fragment(timed)
