"""Plotly figure builders for the Noise schedules page: arrays in, figures out. No streamlit."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .figures import FONT
from .palette import category


def schedule_panels(curves: dict[str, dict[str, np.ndarray]], height: int = 640) -> go.Figure:
    """β_t, ᾱ_t, signal vs noise std, log-SNR against t/T for several schedules (a 2 × 2 grid).

    curves: label -> {"u": t/T, "beta", "alpha_bar", "signal", "noise", "log_snr"} (t = 1..T), and
    optionally "color".
    """
    cols, rows = ([0.0, 0.45], [0.55, 1.0]), ([0.6, 1.0], [0.0, 0.36])
    titles = ("β_t (log scale)", "ᾱ_t", "signal √ᾱ_t (solid) and noise √(1−ᾱ_t) (dashed)",
              "log-SNR = log(ᾱ_t/(1−ᾱ_t))")
    layout = dict(height=height, font=FONT, margin=dict(l=50, r=20, t=40, b=50), plot_bgcolor="white",
                  legend=dict(orientation="h", y=-0.14), annotations=[])
    for k in range(4):
        sfx = "" if k == 0 else str(k + 1)
        xd, yd = cols[k % 2], rows[k // 2]
        layout[f"xaxis{sfx}"] = dict(domain=xd, range=[0, 1], anchor=f"y{sfx}", gridcolor="#eee",
                                     title=dict(text="t / T", standoff=4))
        layout[f"yaxis{sfx}"] = dict(domain=yd, anchor=f"x{sfx}", gridcolor="#eee")
        layout["annotations"].append(dict(text=titles[k], x=sum(xd) / 2, y=yd[1] + 0.02, xref="paper",
                                          yref="paper", showarrow=False, xanchor="center", yanchor="bottom",
                                          font=dict(size=14)))
    layout["yaxis"].update(type="log", exponentformat="power")
    layout["yaxis2"].update(range=[-0.03, 1.03])
    layout["yaxis3"].update(range=[-0.03, 1.03])
    data = []
    for i, (label, c) in enumerate(curves.items()):
        col = c.get("color") or category(i)
        line = dict(color=col, width=2.2)
        common = dict(type="scatter", x=c["u"], mode="lines", legendgroup=label, name=label)
        data += [dict(common, y=c["beta"], line=line, xaxis="x", yaxis="y"),
                 dict(common, y=c["alpha_bar"], line=line, showlegend=False, xaxis="x2", yaxis="y2"),
                 dict(common, y=c["signal"], line=line, showlegend=False, xaxis="x3", yaxis="y3"),
                 dict(common, y=c["noise"], line=dict(line, dash="dash"), showlegend=False, xaxis="x3", yaxis="y3"),
                 dict(common, y=np.clip(c["log_snr"], -25, 25), line=line, showlegend=False, xaxis="x4",
                      yaxis="y4")]
    return go.Figure(dict(data=data, layout=layout))
