"""Rerun another browser session's page from the server, as Streamlit's own "run on save" does.

Streamlit has no public call for this (streamlit/streamlit#2838), so this module is the one place that reaches
into its runtime: the session manager finds the session, and its last client state (the page and the address it
ran with) is asked to run again. Where those internals are missing (AppTest, a Streamlit that changed them),
`available()` says so and callers fall back to polling; tests/test_push.py fails if a Streamlit upgrade breaks it.
"""
from __future__ import annotations

import logging

_log = logging.getLogger(__name__)


def session_id() -> str | None:
    """The id of the browser session whose script is running in this thread (None outside a script run)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx
    ctx = get_script_run_ctx(suppress_warning=True)
    return None if ctx is None else ctx.session_id


def _manager():
    from streamlit import runtime
    if not runtime.exists():
        return None
    return getattr(runtime.get_instance(), "_session_mgr", None)


def available() -> bool:
    """Whether this process serves browser sessions that can be rerun from here (False under AppTest)."""
    manager = _manager()
    return manager is not None and hasattr(manager, "get_active_session_info")


def rerun(session: str) -> bool:
    """Ask the session to run its page again, with the page and address of its last run (no widget states are sent:
    use it for pages whose state lives in st.session_state or a store, as a class's screen does). Thread-safe: the
    request is made on the server's event loop, where the browser's own requests are handled, so the two never
    interleave. False when the session is gone (its tab closed) or pushing is not available."""
    manager = _manager()
    if manager is None:
        return False
    try:
        info = manager.get_active_session_info(session)
        if info is None:
            return False
        app = info.session
        app._call_soon_on_event_loop(lambda: _request(app))
        return True
    except (AttributeError, RuntimeError) as err:  # Streamlit's internals moved, or the server is stopping
        _log.warning("cannot rerun session %s from the server: %r", session, err)
        return False


def _request(app) -> None:
    """On the event loop: rerun the whole page as its last run ended (its page, its query string)."""
    from streamlit.proto.ClientState_pb2 import ClientState
    state = ClientState()
    state.CopyFrom(app._client_state)
    state.fragment_id = ""  # the whole page, not the fragment that ran last
    state.is_auto_rerun = False
    app.request_rerun(state)
