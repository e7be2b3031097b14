"""Plotly figure builders: arrays in, plotly figures out. No streamlit, no computation of the model.

The colours are explorer.draw.palette's (data DATA, state x_t STATE, closed-form jump CLOSED,
estimates x̂_0 ESTIMATE, the N(0, I) reference REF). Pictures drawn on the server live in
explorer.draw.rasters (Pillow), the chain diagram in explorer.draw.diagram (SVG).
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import plotly.graph_objects as go


from .frozen import Frozen  # noqa: F401 (re-exported: pages share figures.Frozen)
from .palette import (CLOSED, DATA, ESTIMATE, INK, KIND_COLORS, LIM, REF, STATE,  # noqa: F401 (re-exported)
                      circle)

HIST_BINS = np.linspace(-LIM, LIM, 43)
FONT = dict(size=14)
DENSITY_RANGE = 12.0  # nats of log-density shown by score-field heat maps
TARGET_SHOWN = 500  # data points drawn as the target behind a cloud of samples: context, kept light for the browser


def _hist(v: np.ndarray) -> np.ndarray:
    counts, _ = np.histogram(np.clip(v, -LIM, LIM), bins=HIST_BINS)
    return counts / max(len(v), 1) / (HIST_BINS[1] - HIST_BINS[0])  # a density


def _std_normal_density() -> tuple[np.ndarray, np.ndarray]:
    g = np.linspace(-LIM, LIM, 200)
    return g, np.exp(-g ** 2 / 2) / math.sqrt(2 * math.pi)


# Axis layout of a cloud with marginals, as plain dicts (building through make_subplots and
# add_trace(row=, col=) costs ~40 ms a figure; one go.Figure(dict) costs ~1 ms):
# x/y the scatter, x2/y2 the histogram of x₁ on top, x3/y3 the histogram of x₂ on the right.
SCATTER_AXES, TOP_AXES, RIGHT_AXES = dict(xaxis="x", yaxis="y"), dict(xaxis="x2", yaxis="y2"), \
    dict(xaxis="x3", yaxis="y3")
MAIN_DOMAIN, MARGIN_DOMAIN = [0.0, 0.79], [0.81, 1.0]


def _marginal_layout(title: str, height: int) -> dict:
    grid = dict(gridcolor="#eee", zeroline=False)
    return dict(
        title=dict(text=title), height=height, font=FONT, margin=dict(l=40, r=20, t=60, b=60),
        showlegend=True, legend=dict(orientation="h", y=-0.13, yanchor="top", x=0), bargap=0, barmode="overlay",
        plot_bgcolor="white",
        xaxis=dict(domain=MAIN_DOMAIN, range=[-LIM, LIM], title=dict(text="x₁"), **grid),
        yaxis=dict(domain=MAIN_DOMAIN, range=[-LIM, LIM], title=dict(text="x₂"), scaleanchor="x", scaleratio=1,
                   **grid),
        xaxis2=dict(domain=MAIN_DOMAIN, matches="x", showticklabels=False, **grid),
        yaxis2=dict(domain=MARGIN_DOMAIN, range=[0, 1.2], showticklabels=False, **grid),
        xaxis3=dict(domain=MARGIN_DOMAIN, range=[0, 1.2], showticklabels=False, **grid),
        yaxis3=dict(domain=MAIN_DOMAIN, matches="y", showticklabels=False, **grid),
    )


def _reference_traces() -> list[dict]:
    """N(0, I): 1σ and 2σ circles in the scatter, the density on both marginals."""
    out = []
    for r, name in ((1.0, "N(0, I): 1σ, 2σ"), (2.0, "")):
        cx, cy = circle(r)
        out.append(dict(type="scatter", x=cx, y=cy, mode="lines", line=dict(color=REF, dash="dot", width=1.5),
                        name=name, showlegend=bool(name), hoverinfo="skip", legendgroup="ref", **SCATTER_AXES))
    g, p = _std_normal_density()
    out.append(dict(type="scatter", x=g, y=p, mode="lines", line=dict(color=REF, dash="dot"), showlegend=False,
                    hoverinfo="skip", **TOP_AXES))
    out.append(dict(type="scatter", x=p, y=g, mode="lines", line=dict(color=REF, dash="dot"), showlegend=False,
                    hoverinfo="skip", **RIGHT_AXES))
    return out


def _state_traces(x: np.ndarray, color: str, name: str) -> list[dict]:
    """Scatter of x (N, 2) and its two marginal densities as bar traces."""
    centers = (HIST_BINS[:-1] + HIST_BINS[1:]) / 2
    return [
        dict(type="scatter", x=x[:, 0], y=x[:, 1], mode="markers", marker=dict(size=3.5, color=color, opacity=0.6),
             name=name, **SCATTER_AXES),
        dict(type="bar", x=centers, y=_hist(x[:, 0]), marker=dict(color=color), opacity=0.55, showlegend=False,
             hoverinfo="skip", **TOP_AXES),
        dict(type="bar", y=centers, x=_hist(x[:, 1]), orientation="h", marker=dict(color=color), opacity=0.55,
             showlegend=False, hoverinfo="skip", **RIGHT_AXES),
    ]


def animated_cloud(frames: np.ndarray, times: Sequence[int], title: str, labels: Sequence[str] | None = None,
                   color: str = STATE, name: str = "x_t", height: int = 640,
                   step_labels: Sequence[str] | None = None, slider_prefix: str = "t = ") -> go.Figure:
    """Client-side animation of a 2D point cloud over stored states frames (F, N, 2).

    Play/pause buttons and a time slider run in the browser: no server round trip per frame.
    Axes are fixed so nothing jumps between frames.
    """
    fig, frame_list = animated_cloud_parts(frames, times, title, labels, color, name, height, step_labels,
                                           slider_prefix)
    fig.frames = frame_list
    return fig


def animated_cloud_frozen(*args, **kwargs) -> Frozen:
    """animated_cloud made once for many sessions: the same figure, its frames never through validation."""
    return Frozen(*animated_cloud_parts(*args, **kwargs))


def opened_at(anim: Frozen, k: int) -> Frozen:
    """A frozen animation opened on frame k: that frame's points drawn, its title, the slider there. A still
    copy of it (a handout's picture) shows frame k; ▶ Play still runs the whole animation. anim is not changed."""
    spec = anim.to_dict()
    frame = spec["frames"][k]
    data = list(spec["data"])
    for i, trace in zip(frame["traces"], frame["data"]):
        data[i] = {**data[i], **trace}
    layout = dict(spec["layout"])
    layout["title"] = {**layout.get("title", {}), **frame["layout"]["title"]}
    layout["sliders"] = [{**layout["sliders"][0], "active": k}, *layout["sliders"][1:]]
    return Frozen.of_dict({**spec, "data": data, "layout": layout})


def animated_cloud_parts(frames: np.ndarray, times: Sequence[int], title: str, labels: Sequence[str] | None = None,
                         color: str = STATE, name: str = "x_t", height: int = 640,
                         step_labels: Sequence[str] | None = None,
                         slider_prefix: str = "t = ") -> tuple[go.Figure, list[dict]]:
    """animated_cloud as (the figure without its frames, the frames as plain dicts).

    The slider says what it moves: above it, slider_prefix and the frame's step label ("t = 250"). Plotly writes
    that value from the step's own label, so every step keeps its label, and the labels under the slider (one per
    frame, they would collide) are drawn transparent."""
    labels = list(labels) if labels is not None else [f"t = {t}" for t in times]
    step_labels = list(step_labels) if step_labels is not None else [str(t) for t in times]
    layout = _marginal_layout(f"{title} — {labels[0]}", height)
    anim = dict(frame=dict(duration=120, redraw=False), transition=dict(duration=0), fromcurrent=True,
                mode="immediate")
    jump = dict(mode="immediate", frame=dict(duration=0, redraw=False), transition=dict(duration=0))
    layout.update(
        showlegend=False,
        margin=dict(l=40, r=20, t=60, b=150),
        updatemenus=[dict(type="buttons", direction="left", x=0.0, y=-0.25, xanchor="left", yanchor="top",
                          showactive=False, pad=dict(r=4, t=0),
                          buttons=[dict(label="▶ Play", method="animate", args=[None, anim]),
                                   dict(label="‖ Pause", method="animate", args=[[None], jump])])],
        sliders=[dict(active=0, x=0.0, len=1.0, y=-0.12, yanchor="top", pad=dict(t=0, b=0),  # below x₁
                      currentvalue=dict(visible=True, prefix=slider_prefix, xanchor="left", offset=4,
                                        font=dict(size=13, color=INK)),
                      font=dict(color="rgba(0,0,0,0)"),  # the per-step labels: the current value says it
                      steps=[dict(method="animate", label=lab, args=[[str(i)], jump])
                             for i, lab in enumerate(step_labels)])],
    )
    # traces 0, 1, 2 are animated; the reference traces stay put
    frame_list = [dict(data=_state_traces(f, color, name), traces=[0, 1, 2], name=str(i),
                       layout=dict(title=dict(text=f"{title} — {lab}")))
                  for i, (f, lab) in enumerate(zip(frames, labels))]
    return go.Figure(dict(data=_state_traces(frames[0], color, name) + _reference_traces(), layout=layout)), frame_list


def cloud_snapshot(layers: Sequence[tuple[np.ndarray, str, str]], title: str, height: int = 560,
                   paths: np.ndarray | None = None, paths_name: str = "particle paths") -> go.Figure:
    """Still 2D clouds with marginals; layers are (points (N, 2), colour, name).

    paths (K, S, 2), if given, are drawn as lines (named paths_name): trajectories of highlighted particles.
    """
    data = [tr for pts, color, name in layers for tr in _state_traces(pts, color, name)] + _reference_traces()
    if paths is not None and len(paths):
        # all paths in one trace, separated by gaps: one legend entry, one cheap trace
        gap = np.full((len(paths), 1, 2), np.nan)
        joined = np.concatenate([paths, gap], axis=1).reshape(-1, 2)
        data.append(dict(type="scatter", x=joined[:, 0], y=joined[:, 1], mode="lines", connectgaps=False,
                         line=dict(width=1, color=INK), opacity=0.45, name=paths_name,
                         hoverinfo="skip", **SCATTER_AXES))
        data.append(dict(type="scatter", x=paths[:, -1, 0], y=paths[:, -1, 1], mode="markers",
                         marker=dict(size=7, color=INK, symbol="x"), showlegend=False, hoverinfo="skip",
                         **SCATTER_AXES))
    return go.Figure(dict(data=data, layout=_marginal_layout(title, height)))


def lines(x: np.ndarray, series: dict[str, tuple[np.ndarray, dict]], title: str, x_title: str,
          y_title: str, height: int = 360, log_y: bool = False, marker_x: float | None = None,
          log_x: bool = False, right_title: str | None = None) -> go.Figure:
    """Simple line chart; series: name -> (y, plotly line style dict, may hold "mode", and "right": True for a series
    on a second axis at the right, titled right_title)."""
    data = []
    for name, (y, style) in series.items():
        style = dict(style)
        right = style.pop("right", False)
        data.append(dict(type="scatter", x=x, y=y, name=name, mode=style.pop("mode", "lines"), line=style,
                         **({"yaxis": "y2"} if right else {})))
    shapes = [] if marker_x is None else [dict(type="line", x0=marker_x, x1=marker_x, yref="paper", y0=0, y1=1,
                                               line=dict(color="#444", dash="dot", width=1))]
    layout = dict(title=dict(text=title), height=height, font=FONT, margin=dict(l=50, r=20, t=50, b=40),
                  xaxis=dict(title=dict(text=x_title), gridcolor="#eee", type="log" if log_x else "linear"),
                  plot_bgcolor="white",
                  yaxis=dict(title=dict(text=y_title), gridcolor="#eee", type="log" if log_y else "linear"),
                  legend=dict(orientation="h", y=-0.25), shapes=shapes)
    if right_title is not None:
        layout["yaxis2"] = dict(title=dict(text=right_title), overlaying="y", side="right", showgrid=False)
        layout["margin"] = dict(layout["margin"], r=60)
    fig = go.Figure(dict(data=data, layout=layout))
    return label_log_axis(fig) if log_y else fig


def sw_curves(curves: Sequence[tuple[str, np.ndarray, np.ndarray, str]], floor: float,
              marker_x: float | None = None, height: int = 380) -> go.Figure:
    """Sliced-Wasserstein distance to the data along runs: curves are (name, fraction of the run, SW,
    colour); floor, the distance between two data samples, is a dotted line; marker_x marks where we are."""
    fig = lines(np.zeros(0), {}, "Sliced Wasserstein distance to the data", "fraction of the run", "SW",
                height=height, log_y=True, marker_x=marker_x)
    fig.add_traces([go.Scatter(x=x, y=y, name=name, line=dict(color=color, width=2.5)) for name, x, y, color in curves])
    fig.add_hline(y=floor, line=dict(color=REF, dash="dot"), annotation_text="two data samples",
                  annotation_position="bottom right")
    return label_log_axis(fig, floor)


def pixel_histogram(values: np.ndarray, title: str, height: int = 330) -> go.Figure:
    """Histogram of pixel values (clipped to ±4) against the N(0, 1) density."""
    edges = np.linspace(-4, 4, 61)
    counts, _ = np.histogram(np.clip(values, -4, 4), bins=edges, density=True)
    grid = np.linspace(-4, 4, 200)
    fig = lines(grid, {"N(0, 1)": (np.exp(-grid ** 2 / 2) / np.sqrt(2 * np.pi), dict(color=REF, width=2, dash="dash"))},
                title, "pixel value", "density", height=height)
    fig.add_bar(x=(edges[:-1] + edges[1:]) / 2, y=counts, name="pixels of x_t", marker_color=STATE, opacity=0.6)
    return fig.update_layout(bargap=0.02)


def loss_curve(steps: np.ndarray, losses: np.ndarray, floor: float | None = None, height: int = 360) -> go.Figure:
    """The smoothed training loss ‖ε − ε̂‖² against the optimiser step, on a log axis; floor, if given, is
    drawn as a dotted line: the lowest loss any network can reach."""
    series = {"loss (smoothed)": (losses, dict(color=STATE, width=2.5))}
    if floor is not None:
        series["lowest possible (exact score of the training points)"] = (np.full(len(steps), floor),
                                                                          dict(color=REF, dash="dot", width=2))
    return lines(steps, series, "Training loss ‖ε − ε̂‖²", "optimiser step", "loss", height=height, log_y=True)


def noise_level_histogram(draws: np.ndarray, lo: float, hi: float, height: int = 300) -> go.Figure:
    """Where training puts its noise levels: a density of log-SNR draws over [lo, hi], both ends named."""
    counts, edges = np.histogram(draws, bins=2 * int(hi - lo), range=(lo, hi), density=True)
    fig = lines((edges[:-1] + edges[1:]) / 2, {"training draws": (counts, dict(color=STATE, width=2.5, shape="hvh"))},
                "Noise levels the network is trained on", "log-SNR = log(ᾱ / (1 − ᾱ))", "density", height=height)
    for x, text, side in ((lo, "pure noise", "left"), (hi, "almost clean", "right")):
        fig.add_annotation(x=x, y=0, text=text, showarrow=False, yshift=12, xanchor=side)
    return fig


def label_log_axis(fig: go.Figure, *extra: float) -> go.Figure:
    """Put log_ticks on fig's y axis from the y values of its traces (and extra levels, such as
    a reference line's); call again after adding traces."""
    ys = [np.ravel(np.asarray(d.y, dtype=float)) for d in fig.data if d.y is not None]
    ticks = log_ticks(np.concatenate([*ys, np.asarray(extra, dtype=float)]))
    return fig.update_yaxes(tickvals=ticks, ticktext=[f"{v:g}" for v in ticks])


def x0_title(step: int, t: int) -> str:
    """Caption of a stored x̂₀: the guess is made on the step that reaches x_t; step 0 has none yet."""
    return "x̂₀: no guess yet (x_T shown)" if step == 0 else f"x̂₀: the guess of x_0 made on the step to t = {t}"


def log_ticks(values: np.ndarray, most: int = 8) -> list[float]:
    """Readable ticks for a log axis over the positive finite values: 1-2-5 steps (0.05, 0.1,
    0.2 …); every digit (0.3, 0.4 … 0.9) where 1-2-5 would leave fewer than two ticks inside the
    data; only powers of ten where there would be more than `most`."""
    v = values[np.isfinite(values) & (values > 0)]
    if v.size == 0:
        return [1.0]
    lo, hi = v.min(), v.max()
    decades = 10.0 ** np.arange(np.floor(np.log10(lo)), np.ceil(np.log10(hi)) + 1)
    for mantissas in ((1, 2, 5), tuple(range(1, 10)), (1,)):
        ticks = sorted({float(f"{d * m:.6g}") for d in decades for m in mantissas})
        inside = [i for i, t in enumerate(ticks) if lo <= t <= hi]
        # keep the ticks inside the data's range, plus one on each side
        first = max((inside[0] if inside else int(np.searchsorted(ticks, lo))) - 1, 0)
        last = min((inside[-1] if inside else first) + 1, len(ticks) - 1)
        ticks = ticks[first:last + 1]
        if len(ticks) <= most and (len(inside) >= 2 or mantissas != (1, 2, 5)):
            return ticks
    step = int(np.ceil(len(ticks) / most))
    return ticks[::step]
