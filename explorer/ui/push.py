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


_broken = False  # a request failed on the event loop: Streamlit's internals moved, pages poll from now on
PUSHED, BUSY, GONE = "pushed", "busy", "gone"  # what rerun() did


def available() -> bool:
    """Whether this process serves browser sessions that can be rerun from here (False under AppTest)."""
    manager = _manager()
    return not _broken and manager is not None and hasattr(manager, "get_active_session_info")


def page_hash() -> str | None:
    """The page the running script draws (its script hash), to tell later whether a session is still on it."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx
    ctx = get_script_run_ctx(suppress_warning=True)
    return None if ctx is None else ctx.page_script_hash


def rerun(session: str, page: str | None = None) -> str:
    """Ask the session to run its page again, with the page and address its last run ended with.

    GONE: the session is closed, or its last run was not on `page` (it went to another page: not rerun).
    BUSY: it is running its script (a run of its own, or its first): not interrupted; ask again later.
    PUSHED: the request is on its way. It is made on the server's event loop, where the browser's own requests
    are handled, so the two never interleave, and it is dropped there if a run began meanwhile.
    No widget states are sent: for pages whose state lives in st.session_state or a store, as a class's screen."""
    manager = _manager()
    if manager is None or _broken:
        return GONE
    try:
        info = manager.get_active_session_info(session)
        if info is None:
            return GONE
        app = info.session
        if not _idle(app):
            return BUSY
        if page is not None and app._client_state.page_script_hash != page:
            return GONE
        app._call_soon_on_event_loop(lambda: _request(app))
        return PUSHED
    except (AttributeError, RuntimeError) as err:  # Streamlit's internals moved, or the server is stopping
        _fail(err)
        return GONE


def _idle(app) -> bool:
    """No script running, and the last run's client state saved (Streamlit sets it when a runner shuts down)."""
    return app._scriptrunner is None and app._state.name == "APP_NOT_RUNNING" and bool(
        app._client_state.page_script_hash)


def _request(app) -> None:
    """On the event loop: rerun the whole page as its last run ended (its page, its query string), unless a run
    began since the request was made."""
    try:
        if not _idle(app):
            return
        from streamlit.proto.ClientState_pb2 import ClientState
        state = ClientState()
        state.CopyFrom(app._client_state)
        state.fragment_id = ""  # the whole page, not the fragment that ran last
        state.is_auto_rerun = False
        app.request_rerun(state)
    except (AttributeError, TypeError, ValueError) as err:
        _fail(err)


def _fail(err: Exception) -> None:
    global _broken
    _broken = True
    _log.warning("cannot rerun a session from the server (pages poll instead): %r", err)
