"""The class's answers to a prediction as bars: one bar per choice (or per range of numbers), the right ones in the
palette's green, with the share that was right in the title."""
from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go

from .palette import BLUISH_GREEN, INK, SKY_BLUE

FONT = dict(size=14)


def class_answers(labels: Sequence[str], counts: Sequence[int], right: Sequence[bool], title: str,
                  height: int = 300) -> go.Figure:
    """Bars of how many students gave each answer; right answers green, the others light blue."""
    colours = [BLUISH_GREEN if r else SKY_BLUE for r in right]
    bars = dict(type="bar", x=list(labels), y=list(counts), marker=dict(color=colours, line=dict(color=INK, width=1)),
                text=[str(c) for c in counts], textposition="outside", cliponaxis=False,
                hovertemplate="%{x}: %{y} students<extra></extra>")
    top = max(counts, default=0)
    layout = dict(title=dict(text=title), height=height, font=FONT, margin=dict(l=40, r=20, t=60, b=40),
                  plot_bgcolor="white", showlegend=False,
                  xaxis=dict(type="category", title=dict(text="answer")),
                  yaxis=dict(title=dict(text="students"), gridcolor="#eee", range=[0, max(1, top) * 1.25],
                             dtick=max(1, round(top / 5)) if top else 1))
    return go.Figure(dict(data=[bars], layout=layout))
