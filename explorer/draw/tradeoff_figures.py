"""Figures of the Trade-offs page: the T × β map as a heat map, quality against network evaluations,
and Langevin's quality against its step size."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from .figures import FONT, INK, REF, label_log_axis
from .palette import METRIC_COLORS, SOLVER_COLORS

METRIC_TITLES = {"precision": "precision (quality)", "recall": "recall (diversity)", "sw": "sliced Wasserstein to data"}


def heat_map(Ts: Sequence[int], betas: Sequence[float], values: np.ndarray, diverged: np.ndarray, metric: str,
             title: str, beta_name: str, height: int = 430) -> go.Figure:
    """values (len(Ts), len(betas)), NaN where not computed yet; diverged cells drawn ✕ over grey."""
    shown = np.where(diverged, np.nan, values)
    text = np.where(diverged, "✕", np.where(np.isnan(values), "", np.vectorize(
        lambda v: f"{v:.2f}" if metric != "sw" else f"{v:.3f}")(np.nan_to_num(values))))
    scale = "Viridis" if metric != "sw" else "Viridis_r"  # bright = good for every metric
    zmin, zmax = (0.0, 1.0) if metric != "sw" else (0.0, max(0.3, float(np.nanmax(shown)) if np.isfinite(shown).any()
                                                              else 0.3))
    x_labels, y_labels = [f"{b:g}" for b in betas], [str(T) for T in Ts]
    fig = go.Figure(go.Heatmap(z=shown, x=x_labels, y=y_labels, text=text, texttemplate="%{text}", colorscale=scale,
                               zmin=zmin, zmax=zmax, hoverongaps=False, xgap=2, ygap=2,
                               colorbar=dict(title=dict(text=METRIC_TITLES[metric].split(" (")[0]), thickness=12),
                               hovertemplate=f"T = %{{y}}, {beta_name} = %{{x}}<br>{metric} = %{{text}}<extra></extra>"))
    if diverged.any():  # grey under the ✕ of runs that diverged
        fig.add_trace(go.Heatmap(z=np.where(diverged, 1.0, np.nan), x=x_labels, y=y_labels, showscale=False,
                                 colorscale=[[0, "#bbb"], [1, "#bbb"]], hoverinfo="skip", xgap=2, ygap=2))
        fig.data = (fig.data[1], fig.data[0])
    fig.update_layout(title=dict(text=title), height=height, font=FONT, margin=dict(l=60, r=20, t=50, b=50),
                      xaxis=dict(title=dict(text=beta_name), type="category"),
                      yaxis=dict(title=dict(text="T (steps)"), type="category"), plot_bgcolor="white")
    return fig


def cost_curves(curves: dict[str, dict], labels: dict[str, str], metric: str, floor: float | None,
                height: int = 420) -> go.Figure:
    """metric against network evaluations, one colour per solver: the exact score solid, the network dashed.
    curves: "<solver>|<score>" -> {"nfe": [...], metric: [...]}; floor: two data samples' value (dotted)."""
    fig = go.Figure()
    for key, c in curves.items():
        solver, score = key.split("|")
        fig.add_trace(go.Scatter(x=c["nfe"], y=c[metric], mode="lines+markers",
                                 name=f"{labels[solver]} — {'exact' if score == 'exact' else 'network'}",
                                 legendgroup=solver, line=dict(color=SOLVER_COLORS[solver], width=2,
                                                               dash="solid" if score == "exact" else "dash")))
    if floor is not None:
        fig.add_hline(y=floor, line=dict(color=REF, dash="dot"), annotation_text="two data samples",
                      annotation_position="top right" if metric != "sw" else "bottom right")
    fig.update_layout(title=dict(text=f"{METRIC_TITLES[metric].capitalize()} against network evaluations"),
                      height=height, font=FONT, plot_bgcolor="white", margin=dict(l=60, r=20, t=50, b=40),
                      xaxis=dict(title=dict(text="network evaluations (log scale)"), type="log", gridcolor="#eee"),
                      yaxis=dict(title=dict(text=METRIC_TITLES[metric]), gridcolor="#eee",
                                 type="log" if metric == "sw" else "linear"),
                      legend=dict(font=dict(size=11)))
    return label_log_axis(fig) if metric == "sw" else fig


def alpha_curve(alphas: np.ndarray, sw: np.ndarray, precision: np.ndarray, diverged: np.ndarray, limit: float,
                floor: float, height: int = 420) -> go.Figure:
    """SW and precision of Langevin's particles against α (log), the stability limit as a vertical line,
    diverged α as ✕ at the top."""
    ok = ~diverged
    fig = go.Figure([go.Scatter(x=alphas[ok], y=sw[ok], name="SW to q_t samples", mode="lines+markers",
                                line=dict(color=METRIC_COLORS["sw"], width=2.5)),
                     go.Scatter(x=alphas[ok], y=precision[ok], name="precision", mode="lines+markers",
                                yaxis="y2", line=dict(color=METRIC_COLORS["precision"], width=2, dash="dash"))])
    if diverged.any():
        fig.add_trace(go.Scatter(x=alphas[diverged], y=np.full(diverged.sum(), 1.0), yaxis="y2", mode="markers",
                                 name="diverged", marker=dict(symbol="x", size=12, color=INK)))
    fig.add_vline(x=limit, line=dict(color=INK, dash="dot"), annotation_text=f"limit 2v = {limit:.3g}")
    fig.add_hline(y=floor, line=dict(color=REF, dash="dot"), annotation_text="two samples of q_t")
    fig.update_layout(title=dict(text="Langevin at one noise level: quality against the step size α"), height=height,
                      font=FONT, plot_bgcolor="white", margin=dict(l=60, r=60, t=50, b=40),
                      xaxis=dict(title=dict(text="α (log scale)"), type="log", gridcolor="#eee"),
                      yaxis=dict(title=dict(text="sliced Wasserstein (log)"), type="log", gridcolor="#eee"),
                      yaxis2=dict(title=dict(text="precision"), overlaying="y", side="right", range=[0, 1.05]),
                      legend=dict(orientation="h", y=-0.2))
    return fig
