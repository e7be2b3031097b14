"""Figure builders: arrays in, plotly figures out. No streamlit, no computation of the model.

One colour vocabulary throughout: data/x_0 in DATA, the noised or sampled state x_t in STATE,
the closed-form jump in CLOSED, estimates x̂_0 in ESTIMATE, the N(0, I) reference in REF.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

DATA, STATE, CLOSED, ESTIMATE, REF = "#636efa", "#ef553b", "#00a67e", "#ab63fa", "#7f7f7f"
KIND_COLORS = {"linear": "#636efa", "cosine": "#ef553b", "constant": "#00a67e", "geometric": "#ab63fa",
               "sigmoid": "#ffa15a"}
LIM = 4.2  # fixed axis range ±LIM for 2D states: data in ±2 plus N(0, I) noise
HIST_BINS = np.linspace(-LIM, LIM, 43)
FONT = dict(size=14)
DENSITY_RANGE = 12.0  # nats of log-density shown by score-field heat maps


def _circle(r: float, n: int = 121) -> tuple[np.ndarray, np.ndarray]:
    th = np.linspace(0, 2 * math.pi, n)
    return r * np.cos(th), r * np.sin(th)


def _hist(v: np.ndarray) -> np.ndarray:
    counts, _ = np.histogram(np.clip(v, -LIM, LIM), bins=HIST_BINS)
    return counts / max(len(v), 1) / (HIST_BINS[1] - HIST_BINS[0])  # a density


def _std_normal_density() -> tuple[np.ndarray, np.ndarray]:
    g = np.linspace(-LIM, LIM, 200)
    return g, np.exp(-g ** 2 / 2) / math.sqrt(2 * math.pi)


def _marginal_layout(title: str, height: int) -> go.Figure:
    fig = make_subplots(rows=2, cols=2, column_widths=[0.8, 0.2], row_heights=[0.2, 0.8],
                        shared_xaxes="columns", shared_yaxes="rows",
                        horizontal_spacing=0.02, vertical_spacing=0.02)
    fig.update_layout(title=title, height=height, font=FONT, margin=dict(l=40, r=20, t=60, b=40),
                      showlegend=True, legend=dict(orientation="h", y=-0.08, x=0), bargap=0,
                      plot_bgcolor="white")
    fig.update_xaxes(range=[-LIM, LIM], row=2, col=1, title_text="x₁", gridcolor="#eee", zeroline=False)
    fig.update_yaxes(range=[-LIM, LIM], row=2, col=1, title_text="x₂", gridcolor="#eee", zeroline=False,
                     scaleanchor="x3", scaleratio=1)
    fig.update_yaxes(range=[0, 1.2], row=1, col=1, showticklabels=False, gridcolor="#eee")
    fig.update_xaxes(range=[0, 1.2], row=2, col=2, showticklabels=False, gridcolor="#eee")
    return fig


def _add_reference(fig: go.Figure) -> None:
    """N(0, I): 1σ and 2σ circles in the scatter, the density on both marginals."""
    for r, name in ((1.0, "N(0, I): 1σ, 2σ"), (2.0, None)):
        cx, cy = _circle(r)
        fig.add_trace(go.Scatter(x=cx, y=cy, mode="lines", line=dict(color=REF, dash="dot", width=1.5),
                                 name=name or "", showlegend=name is not None, hoverinfo="skip",
                                 legendgroup="ref"), row=2, col=1)
    g, p = _std_normal_density()
    fig.add_trace(go.Scatter(x=g, y=p, mode="lines", line=dict(color=REF, dash="dot"), showlegend=False,
                             hoverinfo="skip"), row=1, col=1)
    fig.add_trace(go.Scatter(x=p, y=g, mode="lines", line=dict(color=REF, dash="dot"), showlegend=False,
                             hoverinfo="skip"), row=2, col=2)


def _state_traces(x: np.ndarray, color: str, name: str) -> list:
    """Scatter of x (N, 2) and its two marginal densities as bar traces."""
    centers = (HIST_BINS[:-1] + HIST_BINS[1:]) / 2
    return [
        go.Scatter(x=x[:, 0], y=x[:, 1], mode="markers", marker=dict(size=3.5, color=color, opacity=0.6),
                   name=name),
        go.Bar(x=centers, y=_hist(x[:, 0]), marker_color=color, opacity=0.55, showlegend=False,
               hoverinfo="skip"),
        go.Bar(y=centers, x=_hist(x[:, 1]), orientation="h", marker_color=color, opacity=0.55,
               showlegend=False, hoverinfo="skip"),
    ]


def _place(fig: go.Figure, traces: list) -> None:
    for trace, (r, c) in zip(traces, [(2, 1), (1, 1), (2, 2)]):
        fig.add_trace(trace, row=r, col=c)


def animated_cloud(frames: np.ndarray, times: Sequence[int], title: str, labels: Sequence[str] | None = None,
                   color: str = STATE, name: str = "x_t", height: int = 640,
                   step_labels: Sequence[str] | None = None) -> go.Figure:
    """Client-side animation of a 2D point cloud over stored states frames (F, N, 2).

    Play/pause buttons and a time slider run in the browser: no server round trip per frame.
    Axes are fixed so nothing jumps between frames.
    """
    labels = list(labels) if labels is not None else [f"t = {t}" for t in times]
    fig = _marginal_layout(title, height)
    _place(fig, _state_traces(frames[0], color, name))  # traces 0, 1, 2 are animated
    _add_reference(fig)
    fig.frames = [go.Frame(data=_state_traces(f, color, name), traces=[0, 1, 2], name=str(i),
                           layout=go.Layout(title_text=f"{title} — {lab}"))
                  for i, (f, lab) in enumerate(zip(frames, labels))]
    anim = dict(frame=dict(duration=120, redraw=False), transition=dict(duration=0), fromcurrent=True,
                mode="immediate")
    fig.update_layout(
        title_text=f"{title} — {labels[0]}",
        showlegend=False,
        margin=dict(l=40, r=20, t=60, b=120),
        updatemenus=[dict(type="buttons", direction="left", x=0.0, y=-0.17, xanchor="left", yanchor="top",
                          showactive=False, pad=dict(r=4, t=0),
                          buttons=[dict(label="▶ Play", method="animate", args=[None, anim]),
                                   dict(label="⏸ Pause", method="animate",
                                        args=[[None], dict(frame=dict(duration=0, redraw=False),
                                                           mode="immediate", transition=dict(duration=0))])])],
        sliders=[dict(active=0, x=0.0, len=1.0, y=-0.06, yanchor="top", pad=dict(t=0, b=0),
                      currentvalue=dict(visible=False),
                      steps=[dict(method="animate", label=lab,
                                  args=[[str(i)], dict(mode="immediate", frame=dict(duration=0, redraw=False),
                                                       transition=dict(duration=0))])
                             for i, lab in enumerate(step_labels or [str(t) for t in times])])],
    )
    return fig


def cloud_snapshot(layers: Sequence[tuple[np.ndarray, str, str]], title: str, height: int = 560,
                   paths: np.ndarray | None = None) -> go.Figure:
    """Still 2D clouds with marginals; layers are (points (N, 2), colour, name).

    paths (K, S, 2), if given, are drawn as lines: trajectories of highlighted particles.
    """
    fig = _marginal_layout(title, height)
    for pts, color, name in layers:
        _place(fig, _state_traces(pts, color, name))
    _add_reference(fig)
    if paths is not None:
        for k, p in enumerate(paths):
            fig.add_trace(go.Scatter(x=p[:, 0], y=p[:, 1], mode="lines", line=dict(width=1, color="#222"),
                                     opacity=0.45, name="particle paths", legendgroup="paths",
                                     showlegend=k == 0, hoverinfo="skip"), row=2, col=1)
            fig.add_trace(go.Scatter(x=p[-1:, 0], y=p[-1:, 1], mode="markers",
                                     marker=dict(size=7, color="#222", symbol="x"), showlegend=False,
                                     hoverinfo="skip"), row=2, col=1)
    fig.update_layout(barmode="overlay")
    return fig


def schedule_panels(curves: dict[str, dict[str, np.ndarray]], height: int = 620) -> go.Figure:
    """β_t, ᾱ_t, signal vs noise std, log-SNR against t/T for several schedules.

    curves: label -> {"u": t/T, "beta", "alpha_bar", "signal", "noise", "log_snr"} (t = 1..T).
    """
    fig = make_subplots(rows=2, cols=2, horizontal_spacing=0.09, vertical_spacing=0.2,
                        subplot_titles=("β_t (log scale)", "ᾱ_t", "signal √ᾱ_t (solid) vs noise √(1−ᾱ_t) (dashed)",
                                        "log-SNR = log ᾱ_t/(1−ᾱ_t)"))
    palette = list(KIND_COLORS.values()) + ["#19d3f3", "#ff6692", "#b6e880"]
    for i, (label, c) in enumerate(curves.items()):
        col = c.get("color", palette[i % len(palette)])
        kw = dict(legendgroup=label, line=dict(color=col, width=2.2))
        fig.add_trace(go.Scatter(x=c["u"], y=c["beta"], name=label, **kw), row=1, col=1)
        fig.add_trace(go.Scatter(x=c["u"], y=c["alpha_bar"], name=label, showlegend=False, **kw), row=1, col=2)
        fig.add_trace(go.Scatter(x=c["u"], y=c["signal"], name=label, showlegend=False, **kw), row=2, col=1)
        fig.add_trace(go.Scatter(x=c["u"], y=c["noise"], name=label, showlegend=False,
                                 legendgroup=label, line=dict(color=col, width=2.2, dash="dash")), row=2, col=1)
        fig.add_trace(go.Scatter(x=c["u"], y=np.clip(c["log_snr"], -25, 25), name=label, showlegend=False,
                                 **kw), row=2, col=2)
    fig.update_yaxes(type="log", row=1, col=1, exponentformat="power")
    fig.update_yaxes(range=[-0.03, 1.03], row=1, col=2)
    fig.update_yaxes(range=[-0.03, 1.03], row=2, col=1)
    fig.update_xaxes(title_text="t / T", range=[0, 1])
    fig.update_layout(height=height, font=FONT, margin=dict(l=50, r=20, t=50, b=50),
                      legend=dict(orientation="h", y=-0.16), plot_bgcolor="white")
    fig.update_xaxes(gridcolor="#eee")
    fig.update_yaxes(gridcolor="#eee")
    return fig


def lines(x: np.ndarray, series: dict[str, tuple[np.ndarray, dict]], title: str, x_title: str,
          y_title: str, height: int = 360, log_y: bool = False, marker_x: float | None = None) -> go.Figure:
    """Simple line chart; series: name -> (y, plotly line style dict)."""
    fig = go.Figure()
    for name, (y, style) in series.items():
        fig.add_trace(go.Scatter(x=x, y=y, name=name, mode=style.pop("mode", "lines"), line=style))
    if marker_x is not None:
        fig.add_vline(x=marker_x, line=dict(color="#444", dash="dot", width=1))
    fig.update_layout(title=title, height=height, font=FONT, margin=dict(l=50, r=20, t=50, b=40),
                      xaxis_title=x_title, yaxis_title=y_title, plot_bgcolor="white",
                      legend=dict(orientation="h", y=-0.25))
    fig.update_xaxes(gridcolor="#eee")
    fig.update_yaxes(gridcolor="#eee", type="log" if log_y else "linear", dtick="D2" if log_y else None)
    return fig


def score_field(grid: np.ndarray, vectors: np.ndarray, density: np.ndarray, extent: float, title: str,
                particles: np.ndarray | None = None, height: int = 600, arrow_scale: float = 1.0) -> go.Figure:
    """Arrows of a vector field over a log-density heat map on a square grid.

    grid (G, G, 2) points, vectors (G, G, 2), density (H, H) log-density on ±extent.
    """
    fig = go.Figure()
    H = density.shape[0]
    axis = np.linspace(-extent, extent, H)
    z = np.maximum(density, density.max() - DENSITY_RANGE)  # show the top DENSITY_RANGE nats of log q
    fig.add_trace(go.Heatmap(x=axis, y=axis, z=z, colorscale="Blues", showscale=False,
                             hoverinfo="skip", zsmooth="best"))
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
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=dict(color="#1f2d3d", width=1.2), name="score s_t(x)",
                             hoverinfo="skip"))
    if particles is not None:
        fig.add_trace(go.Scatter(x=particles[:, 0], y=particles[:, 1], mode="markers",
                                 marker=dict(size=4, color=STATE, opacity=0.7), name="particles"))
    fig.update_layout(title=title, height=height, font=FONT, margin=dict(l=40, r=20, t=50, b=40),
                      xaxis=dict(range=[-extent, extent], title="x₁", constrain="domain"),
                      yaxis=dict(range=[-extent, extent], title="x₂", scaleanchor="x", scaleratio=1),
                      legend=dict(orientation="h", y=-0.12), plot_bgcolor="white")
    return fig
