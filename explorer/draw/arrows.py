"""The score field as a plotly figure: arrows of a vector field over a heat map (the score page)."""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from .figures import DENSITY_RANGE, FONT
from .palette import STATE


def score_field(grid: np.ndarray, vectors: np.ndarray, density: np.ndarray, extent: float, title: str,
                particles: np.ndarray | None = None, height: int = 600, arrow_scale: float = 1.0,
                heat_title: str | None = None, arrows_name: str = "score s_t(x)") -> go.Figure:
    """Arrows of a vector field over a heat map on a square grid.

    grid (G, G, 2) points, vectors (G, G, 2), density (H, H) on ±extent: a log-density (default,
    the top DENSITY_RANGE nats shown in blue) or, with heat_title, any quantity (reds, with a colour bar).
    """
    fig = go.Figure()
    H = density.shape[0]
    axis = np.linspace(-extent, extent, H)
    if heat_title is None:
        z = np.maximum(density, density.max() - DENSITY_RANGE)  # show the top DENSITY_RANGE nats of log q
        heat = dict(colorscale="Blues", showscale=False)
    else:
        z = density
        heat = dict(colorscale="Reds", showscale=True, colorbar=dict(title=dict(text=heat_title, side="right"),
                                                                      thickness=12, len=0.8))
    fig.add_trace(go.Heatmap(x=axis, y=axis, z=z, hoverinfo="skip", zsmooth="fast", **heat))
    g = grid.reshape(-1, 2)
    v = vectors.reshape(-1, 2)
    step = 2 * extent / (grid.shape[0] - 1)
    norm = np.linalg.norm(v, axis=1, keepdims=True)
    # lengths saturate at one grid step so long arrows near the data do not hide short ones
    typical = max(float(np.median(norm)), 1e-12)
    length = 0.9 * step * arrow_scale * np.tanh(norm / typical)
    tip = g + v / np.maximum(norm, 1e-12) * length
    xs, ys = [], []
    for (x0, y0), (x1, y1) in zip(g, tip):
        # shaft and a two-stroke head
        dx, dy = x1 - x0, y1 - y0
        L = math.hypot(dx, dy) or 1e-12
        ux, uy = dx / L, dy / L
        h = 0.35 * L
        xs += [x0, x1, None, x1, x1 - h * (ux * 0.87 - uy * 0.5), None, x1, x1 - h * (ux * 0.87 + uy * 0.5), None]
        ys += [y0, y1, None, y1, y1 - h * (uy * 0.87 + ux * 0.5), None, y1, y1 - h * (uy * 0.87 - ux * 0.5), None]
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=dict(color="#1f2d3d", width=1.2), name=arrows_name,
                             hoverinfo="skip"))
    if particles is not None:
        fig.add_trace(go.Scatter(x=particles[:, 0], y=particles[:, 1], mode="markers",
                                 marker=dict(size=4, color=STATE, opacity=0.7), name="particles"))
    fig.update_layout(title=title, height=height, font=FONT, margin=dict(l=40, r=20, t=50, b=40),
                      xaxis=dict(range=[-extent, extent], title="x₁", constrain="domain"),
                      yaxis=dict(range=[-extent, extent], title="x₂", scaleanchor="x", scaleratio=1, constrain="domain"),
                      legend=dict(orientation="h", y=-0.12), plot_bgcolor="white")
    return fig
