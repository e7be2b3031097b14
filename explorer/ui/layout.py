"""Page chrome shared by every page: title, sidebar footer, device, friendly error boundary."""
from __future__ import annotations

import contextlib
from pathlib import Path

import streamlit as st

from explorer.device import describe_device, pick_device
from explorer.ui import state

PAGES_DIR = Path(__file__).resolve().parents[2] / "pages"


@st.cache_resource
def device_label() -> str:
    return describe_device(pick_device())


_SLOT = "_header_slot"


def header(title: str, intro: str) -> None:
    """Title and introduction, plus a slot where footer() reports unusable link values."""
    st.title(title)
    st.markdown(intro)
    st.session_state[_SLOT] = st.container()


def footer() -> None:
    """Sidebar footer (device, sharing hint); warnings about the link go to the header's slot."""
    st.sidebar.divider()
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
