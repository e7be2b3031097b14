"""Figures legible from the back row of a lecture hall: every text of a Plotly figure raised to a minimum size
(presenter mode, explorer/ui/layout.chart). No streamlit; the figure is never changed in place."""
from __future__ import annotations

import copy

import plotly.graph_objects as go

from .frozen import Frozen


# Every place a Plotly figure keeps a font of its own: a template (Streamlit's theme among them) sets the
# axes' and colour bars' fonts separately, so raising layout.font alone would leave their ticks small.
_BASE_FONT_PX = 12  # Plotly's default when a figure sets no size
TITLE_SCALE = 1.15  # a figure's title, this much larger than its text


def _raise(d: dict, path: str, min_px: float, default: float | None = None) -> None:
    """d[path].size = max(its size (or default), min_px), creating the path's dicts where missing."""
    *parents, leaf = path.split(".")
    for key in parents:
        d = d.setdefault(key, {})
    font = d.setdefault(leaf, {})
    size = font.get("size", default)
    font["size"] = max(size if size is not None else min_px, min_px)


def _colorbar(bar: dict, min_px: float) -> None:
    """A colour bar's ticks and title ≥ min_px, the title along its right side: on top, at this size, it
    would sit on the highest tick label."""
    for path in ("tickfont", "title.font"):
        _raise(bar, path, min_px)
    bar["title"]["side"] = "right"


def _legend_below_the_axes(lay: dict, min_px: float) -> None:
    """A horizontal legend under the plot, moved to the figure's bottom edge with room above it for the
    x axis's (now larger) tick labels and title: at a fixed paper offset they would run into each other."""
    legend = lay.get("legend", {})
    if legend.get("orientation") != "h" or legend.get("y", 1.02) >= 0:
        return
    legend.update(yref="container", y=0, yanchor="bottom")
    margin = lay.setdefault("margin", {})
    axis_px = 2 * 1.25 * min_px + 12  # tick labels and the axis title, with Plotly's standoffs
    legend_px = 1.6 * min_px + 8  # one row of entries
    margin["b"] = max(margin.get("b", 80), axis_px + legend_px)


def enlarge_text(fig: go.Figure, min_px: float) -> go.Figure:
    """fig with every text — ticks, axis and colour-bar titles, legend, annotations, the animation's
    slider and buttons, trace labels — at least min_px (presenter mode: read from the back row).

    fig is not changed (a Frozen figure's dict is shared by every session): its layout is copied, and
    its traces shallowly; animation frames are shared as they are."""
    spec = dict(fig.to_dict())
    lay = spec["layout"] = copy.deepcopy(spec.get("layout", {}))
    _raise(lay, "font", min_px, _BASE_FONT_PX)
    _raise(lay, "title.font", min_px * TITLE_SCALE, lay["font"]["size"] * TITLE_SCALE)
    for path in ("legend.font", "legend.title.font", "hoverlabel.font"):
        _raise(lay, path, min_px)
    for key in list(lay):
        if key.startswith(("xaxis", "yaxis")):
            for path in ("tickfont", "title.font"):
                _raise(lay[key], path, min_px)
            axis = lay[key]
            if axis.get("type") == "log" and "tickvals" not in axis and "dtick" not in axis:
                axis["dtick"] = 1  # powers of ten only: Plotly draws the digits between them at ¾ of the size
        elif key.startswith("coloraxis"):
            _colorbar(lay[key].setdefault("colorbar", {}), min_px)
    for note in lay.get("annotations", ()):
        _raise(note, "font", min_px)
    _legend_below_the_axes(lay, min_px)
    for slider in lay.get("sliders", ()):
        _raise(slider, "font", min_px)
        _raise(slider, "currentvalue.font", min_px)
    for menu in lay.get("updatemenus", ()):
        _raise(menu, "font", min_px)
    traces = []
    for trace in spec.get("data", ()):
        trace = dict(trace)
        if "colorbar" in trace or trace.get("type") in ("heatmap", "contour", "histogram2d"):
            trace["colorbar"] = copy.deepcopy(trace.get("colorbar", {}))
            _colorbar(trace["colorbar"], min_px)
        if "text" in trace or "texttemplate" in trace:
            trace["textfont"] = copy.deepcopy(trace.get("textfont", {}))
            _raise(trace, "textfont", min_px)
        traces.append(trace)
    spec["data"] = traces
    return Frozen.of_dict(spec)
