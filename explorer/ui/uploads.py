"""File uploads whose every refusal is a message on the page.

The browser's own checks — the upload widget's file-type filter and the server's size cap — refuse a file
inside the widget, where the reason shows only on hover. So the widgets here accept any file, the limits are
written under them, and the app checks type and size itself (explorer.data.images.load_picture,
explorer.data.datasets.points_from_csv), answering with st.error. The server's cap (server.maxUploadSize in
.streamlit/config.toml) sits well above the app's own limits, so that a file too large for the app still
reaches those checks.
"""
from __future__ import annotations

import streamlit as st

SERVER_CAP_MB = 40  # .streamlit/config.toml server.maxUploadSize (tests/test_pages.py checks they agree)


def uploader(label: str, accepts: str, max_bytes: int, key: str, where=st, **kw):
    """st.file_uploader taking any file (the page checks it), with what it accepts written under it."""
    upload = where.file_uploader(label, key=key, **kw)
    where.caption(f"{accepts}, at most {max_bytes / 1e6:.0f} MB.")
    return upload
