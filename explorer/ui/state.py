"""Widgets whose values are mirrored to st.query_params, so a copied URL reopens the same view.

Each helper seeds st.session_state[key] from the URL once (a bad or out-of-range value falls
back to the default with a warning), draws the widget bound to that key, and writes the
current value back to the URL.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import streamlit as st

from explorer.common.checks import whole_number

_WARN_KEY = "_url_warnings"
EXCERPT_CHARS = 40  # a link's value quoted in a message: at most this many characters, then an ellipsis


def excerpt(raw: str, most: int = EXCERPT_CHARS) -> str:
    """A value from the URL, quoted for a message: short (a link can carry kilobytes), with an ellipsis if cut."""
    raw = str(raw)
    return repr(raw) if len(raw) <= most else repr(raw[:most - 1]) + "…"


def link_warning(message: str) -> None:
    """A message about the link, shown once on the page (show_url_warnings)."""
    st.session_state.setdefault(_WARN_KEY, []).append(message)


def _seed(key: str, default: Any, parse: Callable[[str], Any]) -> None:
    if key in st.session_state:
        return
    raw = st.query_params.get(key)
    value = default
    if raw is not None:
        try:
            value = parse(raw)
        except (ValueError, TypeError):
            link_warning(f"Ignored the link's value {excerpt(raw)} for '{key}'; using {default!r}.")
    st.session_state[key] = value


def _publish(key: str, fmt: Callable[[Any], str] = str) -> None:
    value = fmt(st.session_state[key])
    if st.query_params.get(key) != value:
        st.query_params[key] = value


def _number_in(lo, hi, cast):
    def parse(raw: str):
        v = float(raw)
        if math.isnan(v):
            raise ValueError("NaN")
        if cast is int:  # "2.5" for T is refused, not truncated
            return whole_number(int(v) if v.is_integer() else v, "the value", lo, hi)
        if not lo <= v <= hi:
            raise ValueError("out of range")
        return v
    return parse


def slider(label: str, key: str, lo, hi, default, step=None, where=st, **kw):
    """st.slider bound to session_state[key] and to the URL parameter `key`."""
    cast = int if isinstance(default, int) else float
    if lo >= hi:  # a one-value range (e.g. t when T = 1): st.slider refuses it, so just say the value
        st.session_state[key] = lo
        where.markdown(f"{label}: **{lo}** (the only value when the range is this small)")
        _publish(key)
        return lo
    _seed(key, default, _number_in(lo, hi, cast))
    shadow = "_range_" + key
    old = st.session_state.get(shadow)
    if old is not None and old[:2] != (lo, hi):
        # a new range makes Streamlit treat the slider as a new widget and forget its value:
        # carry the last value over, clamped into the new range
        st.session_state[key] = min(max(old[2], lo), hi)
    where.slider(label, lo, hi, step=step, key=key, **kw)
    st.session_state[shadow] = (lo, hi, st.session_state[key])
    _publish(key)
    return st.session_state[key]


def choice(label: str, key: str, options: Sequence, default, where=st, widget="selectbox",
           format_func=str, **kw):
    """A selectbox / radio / select_slider over `options`, mirrored to the URL by str(option)."""
    by_text = {str(o): o for o in options}

    def parse(raw: str):
        if raw not in by_text:
            raise ValueError(raw)
        return by_text[raw]
    _seed(key, default, parse)
    if st.session_state[key] not in options:  # e.g. options changed under a stale value
        st.session_state[key] = default
    getattr(where, widget)(label, options, key=key, format_func=format_func, **kw)
    _publish(key)
    return st.session_state[key]


def multi(label: str, key: str, options: Sequence[str], default: Sequence[str], where=st, **kw):
    """st.multiselect mirrored to the URL as a comma-separated list."""
    def parse(raw: str):
        vals = [v for v in raw.split(",") if v]
        if not all(v in options for v in vals):
            raise ValueError(raw)
        return vals
    _seed(key, list(default), parse)
    where.multiselect(label, options, key=key, **kw)
    _publish(key, lambda v: ",".join(v))
    return st.session_state[key]


def text(label: str, key: str, default: str, where=st, max_chars: int | None = None, **kw):
    """st.text_input mirrored to the URL."""
    def parse(raw: str):
        if max_chars is not None and len(raw) > max_chars:
            raise ValueError(raw)
        return raw
    _seed(key, default, parse)
    where.text_input(label, key=key, max_chars=max_chars, **kw)
    _publish(key)
    return st.session_state[key]


def toggle(label: str, key: str, default: bool, where=st, **kw):
    """st.toggle mirrored to the URL as 1/0."""
    def parse(raw: str):
        if raw not in ("0", "1"):
            raise ValueError(raw)
        return raw == "1"
    _seed(key, default, parse)
    where.toggle(label, key=key, **kw)
    _publish(key, lambda v: "1" if v else "0")
    return st.session_state[key]


def show_url_warnings() -> None:
    """Tell the user once about link values that could not be used."""
    for msg in st.session_state.pop(_WARN_KEY, []):
        st.warning(msg)
