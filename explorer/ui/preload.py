"""Start the browser on the chart library while the server computes the page.

Streamlit fetches and starts Plotly's JavaScript (one 4.7 MB chunk) only when the first chart arrives, and
on this 2-core machine Chromium spends about a second on it, after the server has already computed the
figure. chart_library() asks the browser to import that chunk as the page starts, so it loads while the
server imports torch and computes; Streamlit's own lazy import then finds the module already evaluated (an
ES module is evaluated once per URL). It draws nothing: a hidden container holding a script element.
"""
from __future__ import annotations

import functools
from pathlib import Path

import streamlit as st

KEY = "preload_chart_library"


@functools.lru_cache(maxsize=1)
def _plotly_chunk() -> str | None:
    """The file name of Streamlit's Plotly chunk in its static folder (hashed per release), or None."""
    js = Path(st.__file__).parent / "static" / "static" / "js"
    found = sorted(p.name for p in js.glob("PlotlyChart.*.js"))
    return found[0] if len(found) == 1 else None


# the chunk's URL is relative to Streamlit's main bundle (<base>/static/js/index.*.js), wherever it is served
SCRIPT = """<script>(() => {{
  if (window.__explorerChartsPreloaded) return;
  const main = [...document.querySelectorAll('script[type=module][src]')].find(s => /\\/static\\/js\\/index\\.[^/]+\\.js$/.test(s.src));
  if (!main) return;
  window.__explorerChartsPreloaded = true;
  import(new URL("{chunk}", main.src).href).catch(() => {{ window.__explorerChartsPreloaded = false; }});
}})();</script>"""


def chart_library() -> None:
    """Have the browser load Plotly's JavaScript now (once per tab); a no-op if the chunk is not found."""
    chunk = _plotly_chunk()
    if chunk is None:
        return
    st.html(f"<style>.st-key-{KEY} {{ display: none; }}</style>")  # style only: no room taken in the page
    with st.container(key=KEY):
        st.html(SCRIPT.format(chunk=chunk), unsafe_allow_javascript=True)
