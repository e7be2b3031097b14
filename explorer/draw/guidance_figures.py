"""Figures of the Guidance page: samples coloured by class, quality against the guidance scale, and the
sharpened density p(x|c)·p(c|x)^(w−1) under the guided samples."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from .figures import FONT, LIM
from .palette import METRIC_COLORS, STATE, category


def _square(fig: go.Figure, title: str, height: int, extent: float = LIM) -> go.Figure:
    fig.update_layout(title=dict(text=title), height=height, font=FONT, plot_bgcolor="white",
                      margin=dict(l=40, r=20, t=50, b=30), legend=dict(font=dict(size=11)),
                      xaxis=dict(range=[-extent, extent], gridcolor="#eee", zeroline=False),
                      yaxis=dict(range=[-extent, extent], gridcolor="#eee", zeroline=False, scaleanchor="x"))
    return fig


def class_clouds(x: np.ndarray, labels: np.ndarray, names: Sequence[str], title: str, chosen: int | None = None,
                 height: int = 480) -> go.Figure:
    """Points coloured by their class; the chosen class drawn larger, the others faded."""
    x = np.clip(x, -LIM, LIM).astype(np.float32)
    fig = go.Figure()
    for c, name in enumerate(names):
        pts = x[labels == c]
        on = chosen is None or c == chosen
        fig.add_trace(go.Scattergl(x=pts[:, 0], y=pts[:, 1], mode="markers", name=name,
                                   marker=dict(size=5 if on else 3, color=category(c),
                                               opacity=0.85 if on else 0.25)))
    return _square(fig, title, height)


def quality_vs_scale(scales: Sequence[float], per_scale: Sequence[dict], label: int, name: str,
                     network: Sequence[dict] | None = None, height: int = 380) -> go.Figure:
    """The chosen class's precision and recall, and the mean over all classes, against the scale (exact scores);
    with network, the chosen class's precision and recall of the conditional network too (dashed)."""
    s = np.asarray(scales)
    pick = lambda key, c=None: np.array([np.mean(q[key]) if c is None else q[key][c] for q in per_scale])  # noqa: E731
    color = METRIC_COLORS  # precision and recall
    fig = go.Figure([
        go.Scatter(x=s, y=pick("precision", label), name=f"precision, {name}",
                   line=dict(color=color["precision"], width=2.5)),
        go.Scatter(x=s, y=pick("recall", label), name=f"recall, {name}", line=dict(color=color["recall"], width=2.5)),
        go.Scatter(x=s, y=pick("precision"), name="precision, mean of the classes",
                   line=dict(color=color["precision"], dash="dot")),
        go.Scatter(x=s, y=pick("recall"), name="recall, mean of the classes", line=dict(color=color["recall"], dash="dot"))])
    if network is not None:
        for key in ("precision", "recall"):
            fig.add_trace(go.Scatter(x=s, y=[q[key][label] for q in network], name=f"{key}, {name}, network",
                                     line=dict(color=color[key], dash="dash", width=2)))
    fig.update_layout(title=dict(text="Quality and diversity against the guidance scale"), height=height, font=FONT,
                      plot_bgcolor="white", margin=dict(l=50, r=20, t=50, b=40),
                      xaxis=dict(title=dict(text="guidance scale w"), gridcolor="#eee"),
                      yaxis=dict(title=dict(text="precision / recall"), range=[0, 1.05], gridcolor="#eee"),
                      legend=dict(orientation="h", y=-0.25))
    return fig


def sharpened_figure(logp: np.ndarray, samples: np.ndarray, extent: float, title: str, height: int = 480) -> go.Figure:
    """The sharpened density (log, top 8 nats) as a heat map with the guided samples of the class over it."""
    axis = np.linspace(-extent, extent, logp.shape[0])
    z = np.maximum(logp, logp.max() - 8.0)
    pts = np.clip(samples, -extent, extent)
    fig = go.Figure([go.Heatmap(x=axis, y=axis, z=z, colorscale="Blues", showscale=False, hoverinfo="skip"),
                     go.Scattergl(x=pts[:, 0], y=pts[:, 1], mode="markers", name="guided samples",
                                  marker=dict(size=4, color=STATE, opacity=0.8))])
    return _square(fig, title, height, extent)
