"""Figures of the Flows & ODEs page: marginal gaps along runs, inversion, likelihood maps and curves, flow paths."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from . import figures
from .figures import DATA, FONT, REF, STATE, cloud_snapshot, label_log_axis
from .palette import FLOW_COLORS as COLORS, FLOW_OTHER


def _axes(fig: go.Figure, title: str, x_title: str, y_title: str, height: int, log_x: bool = False,
          log_y: bool = False) -> go.Figure:
    fig.update_layout(title=dict(text=title), height=height, font=FONT, plot_bgcolor="white",
                      margin=dict(l=60, r=20, t=50, b=40), legend=dict(orientation="h", y=-0.22),
                      xaxis=dict(title=dict(text=x_title), gridcolor="#eee", type="log" if log_x else "linear"),
                      yaxis=dict(title=dict(text=y_title), gridcolor="#eee", type="log" if log_y else "linear"))
    return fig


def marginal_gaps(curves: dict[str, tuple[str, dict]], height: int = 380) -> go.Figure:
    """SW between each run's x_t and samples of q_t against t; curves: name -> (colour key, marginal_gaps dict).
    The floor (two forward samples of q_t) of the first curve is drawn dotted."""
    fig = go.Figure()
    for name, (color, g) in curves.items():
        fig.add_trace(go.Scatter(x=g["t"], y=g["sw"], name=name, mode="lines+markers",
                                 line=dict(color=COLORS[color], width=2.5)))
    first = next(iter(curves.values()), None)
    if first is not None and len(first[1]["t"]):
        fig.add_trace(go.Scatter(x=first[1]["t"], y=first[1]["floor"], name="two samples of q_t",
                                 line=dict(color=REF, dash="dot")))
    fig = _axes(fig, "Each run's x_t against q_t: the same marginals?", "t", "SW to q_t (log)", height, log_y=True)
    fig.update_xaxes(autorange="reversed")
    return label_log_axis(fig)


def round_trip_clouds(x_0: np.ndarray, x_T: np.ndarray, back: np.ndarray, n_steps: int) -> tuple[go.Figure, go.Figure]:
    """The encoded points over N(0, I), and the decoded points over the originals with each error as a segment."""
    enc = cloud_snapshot([(np.clip(x_T, -figures.LIM, figures.LIM), STATE, "x_T = encode(x_0)")],
                         f"Encoded x_T ({n_steps} steps up)", height=460)
    segments = np.stack([x_0, back], axis=1)  # (k, 2, 2): x_0 → decode(encode(x_0))
    dec = cloud_snapshot([(x_0, DATA, "x_0 (data)"), (np.clip(back, -figures.LIM, figures.LIM), STATE, "decoded")],
                         f"Decoded ({n_steps} steps down)", height=460, paths=segments,
                         paths_name="x_0 → decoded")
    return enc, dec


def picker(points: np.ndarray, picked: np.ndarray, height: int = 460) -> go.Figure:
    """The data as one selectable trace (box or lasso), the points being inverted ringed."""
    fig = go.Figure(go.Scattergl(x=points[:, 0], y=points[:, 1], mode="markers", name="data",
                                 marker=dict(size=4, color=DATA, opacity=0.55), hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=picked[:, 0], y=picked[:, 1], mode="markers", name="inverted",
                             marker=dict(size=9, color="rgba(0,0,0,0)", line=dict(color=STATE, width=2)),
                             hoverinfo="skip"))
    fig.update_layout(title=dict(text="Pick: box or lasso"), height=height, font=FONT,
                      dragmode="select", plot_bgcolor="white", margin=dict(l=40, r=10, t=50, b=40),
                      legend=dict(orientation="h", y=-0.12),
                      xaxis=dict(range=[-figures.LIM, figures.LIM], gridcolor="#eee"),
                      yaxis=dict(range=[-figures.LIM, figures.LIM], scaleanchor="x", gridcolor="#eee"))
    return fig


def error_curves(steps: Sequence[int], errors: dict[str, tuple[str, Sequence[float]]], chosen: int,
                 height: int = 380) -> go.Figure:
    """Mean round-trip error against the number of ODE steps (log–log); errors: name -> (score key, values)."""
    fig = go.Figure()
    for name, (score, e) in errors.items():
        fig.add_trace(go.Scatter(x=list(steps)[:len(e)], y=list(e), name=name, mode="lines+markers",
                                 line=dict(color=COLORS.get(score, FLOW_OTHER), width=2.5)))
    fig.add_vline(x=chosen, line=dict(color="#444", dash="dot", width=1))
    return label_log_axis(_axes(fig, "Round-trip error against steps", "ODE steps each way (log)",
                                "mean ‖decode(encode(x₀)) − x₀‖ (log)", height, log_x=True, log_y=True))


def density_map(log_p: np.ndarray, extent: float, title: str, floor: float, top: float, height: int = 420) -> go.Figure:
    """A log-density on a square grid (row = y), clipped below at floor so that the colours are comparable."""
    axis = np.linspace(-extent, extent, log_p.shape[0])
    z = np.clip(np.where(np.isfinite(log_p), log_p, floor), floor, top)
    fig = go.Figure(go.Heatmap(z=z, x=axis, y=axis, colorscale="Viridis", zmin=floor, zmax=top,
                               colorbar=dict(title=dict(text="log p"), thickness=12),
                               hovertemplate="x = %{x:.2f}, y = %{y:.2f}<br>log p = %{z:.2f}<extra></extra>"))
    fig.update_layout(title=dict(text=title), height=height, font=FONT, margin=dict(l=40, r=10, t=50, b=30),
                      xaxis=dict(constrain="domain"), yaxis=dict(scaleanchor="x", constrain="domain"))
    return fig


def likelihood_curves(steps: Sequence[int], curves: dict[str, tuple[str, Sequence[float]]], true: float | None,
                      chosen: int, height: int = 380) -> go.Figure:
    """Mean log-likelihood against ODE steps; curves: name -> (score key, values); the true value dotted."""
    fig = go.Figure()
    for name, (score, v) in curves.items():
        fig.add_trace(go.Scatter(x=list(steps)[:len(v)], y=list(v), name=name, mode="lines+markers",
                                 line=dict(color=COLORS.get(score, FLOW_OTHER), width=2.5)))
    if true is not None:
        fig.add_hline(y=true, line=dict(color=REF, dash="dot"), annotation_text=f"true density: {true:.3f}",
                      annotation_position="bottom right")
    fig.add_vline(x=chosen, line=dict(color="#444", dash="dot", width=1))
    return _axes(fig, "Mean log-likelihood of held-out data against ODE steps", "ODE steps (log)",
                 "nats per point", height, log_x=True)


def flow_paths(target: np.ndarray, last: np.ndarray, paths: np.ndarray, title: str) -> go.Figure:
    return cloud_snapshot([(target[:figures.TARGET_SHOWN], DATA, "data"),
                           (np.clip(last[:1000], -figures.LIM, figures.LIM), STATE, "samples")],
                          title, height=470, paths=np.clip(paths, -figures.LIM, figures.LIM))


def quality_curves(steps: Sequence[int], curves: dict[str, tuple[str, Sequence[float]]], floor: float,
                   height: int = 380) -> go.Figure:
    """SW to the data against steps (log–log), one line per model: curves name -> (colour key, values)."""
    fig = go.Figure()
    for name, (color, v) in curves.items():
        fig.add_trace(go.Scatter(x=list(steps)[:len(v)], y=list(v), name=name, mode="lines+markers",
                                 line=dict(color=COLORS[color], width=2.5)))
    fig.add_hline(y=floor, line=dict(color=REF, dash="dot"), annotation_text="two data samples",
                  annotation_position="bottom right")
    return label_log_axis(_axes(fig, "Quality against steps", "steps (log)", "SW to the data (log)", height,
                                log_x=True, log_y=True), floor)


def straightness_histograms(values: dict[str, tuple[str, np.ndarray]], steps_note: str, top: float = 4.0,
                            height: int = 380) -> go.Figure:
    """Per-point straightness (path length / end-to-end distance, clipped at top) of each model's paths."""
    fig = go.Figure()
    for name, (color, v) in values.items():
        fig.add_trace(go.Histogram(x=np.clip(v, 1.0, top), name=name, xbins=dict(start=1.0, end=top, size=0.05),
                                   histnorm="percent", marker_color=COLORS[color], opacity=0.6))
    fig.update_layout(barmode="overlay")
    return _axes(fig, f"How straight are the paths? ({steps_note})", f"path length / end-to-end distance "
                 f"(clipped at {top:g})", "% of points", height)
