"""A lesson as one self-contained HTML file for students to keep: text, formulas, figures, questions,
and the measured answers at the end.

Nothing in the file is fetched: formulas are drawn by matplotlib's mathtext as inline SVG, figures are
PNG (plotly figures redrawn with matplotlib from their own data, pictures as they are) embedded as
base64. No streamlit here; the Lessons page passes what each step's view showed.
"""
from __future__ import annotations

import base64
import html
import io
import re
from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib import mathtext  # noqa: E402

from explorer.draw.rasters import png_bytes  # noqa: E402

_MATH = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$", re.S)
_DASHES = {"dash": "--", "dot": ":", "dashdot": "-."}


# A sentence that asks for an interaction (▶ Play, a slider, a click) means nothing on paper: the handout leaves it out.
_INTERACTIVE = re.compile(r"▶|\b(press|click|drag|scrub)\b|\bplay(s|ing)?\b|under the figure|the slider", re.I)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z▶$*])")


def static_text(text: str) -> str:
    """text without the sentences that ask the reader to press, play or drag: the handout's figures are pictures
    of the state each step is about. Paragraphs are kept."""
    paragraphs = re.split(r"\n\s*\n", text.strip())
    kept = (" ".join(s for s in _SENTENCE_END.split(p.strip()) if not _INTERACTIVE.search(s)) for p in paragraphs)
    return "\n\n".join(p for p in kept if p)


def formula_svg(tex: str, display: bool = False) -> str:
    """The formula as inline SVG (matplotlib mathtext); ValueError when mathtext cannot read it."""
    buf = io.BytesIO()
    mathtext.math_to_image(f"${tex.strip()}$", buf, dpi=100 if display else 80, format="svg")
    svg = buf.getvalue().decode("utf-8")
    svg = svg[svg.index("<svg"):]  # drop the XML prolog and doctype: inline SVG in HTML
    style = "display:block;margin:0.6em auto" if display else "vertical-align:middle"
    return svg.replace("<svg ", f'<svg style="{style}" role="img" aria-label="{html.escape(tex, quote=True)}" ', 1)


def _inline(text: str) -> str:
    out = html.escape(text)
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    out = re.sub(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?![*\w])", r"<em>\1</em>", out)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", out)


def markdown_html(text: str) -> str:
    """The small Markdown the lessons use — paragraphs, **bold**, *italic*, `code`, $…$ and $$…$$ — as HTML."""
    parts = []
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        pieces, last = [], 0
        for m in _MATH.finditer(paragraph):
            pieces.append(_inline(paragraph[last:m.start()]))
            display = m.group(1) is not None
            tex = m.group(1) if display else m.group(2)
            try:
                pieces.append(formula_svg(tex.replace("\\\\", "\\"), display))
            except ValueError:
                pieces.append(f"<code>{html.escape(tex)}</code>")
            last = m.end()
        pieces.append(_inline(paragraph[last:]))
        parts.append("<p>" + "".join(pieces).replace("\n", " ") + "</p>")
    return "\n".join(parts)


def _array(value) -> np.ndarray | None:
    """A plotly dict value (list, or base64 typed array {"dtype", "bdata"}) as numpy."""
    if value is None:
        return None
    if isinstance(value, dict) and "bdata" in value:
        a = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        if "shape" in value:
            shape = value["shape"]
            return a.reshape(tuple(int(v) for v in str(shape).split(",")) if isinstance(shape, str) else shape)
        return a
    return np.asarray(value, dtype=float)


def figure_png(fig, width_in: float = 7.0) -> bytes:
    """A figure as PNG: an RGB picture as it is; a plotly figure redrawn with matplotlib from its traces
    (scatter points and lines, heat maps and contours, on each subplot's axes, with titles and legend)."""
    if isinstance(fig, np.ndarray):
        return png_bytes(fig)
    spec = fig.to_dict()
    layout = spec.get("layout", {})
    height_px = layout.get("height") or 450
    figure = plt.figure(figsize=(width_in, width_in * min(height_px / 700, 1.2)), dpi=110)
    axes = {}

    def axis_for(trace) -> plt.Axes:
        xa, ya = trace.get("xaxis", "x"), trace.get("yaxis", "y")
        if (xa, ya) not in axes:
            x_dom = layout.get("xaxis" + xa[1:], {}).get("domain", [0, 1])
            y_dom = layout.get("yaxis" + ya[1:], {}).get("domain", [0, 1])
            box = [0.08 + 0.9 * x_dom[0], 0.08 + 0.82 * y_dom[0], 0.9 * (x_dom[1] - x_dom[0]) - 0.06,
                   0.82 * (y_dom[1] - y_dom[0]) - 0.06]
            ax = figure.add_axes(box)
            x_layout, y_layout = layout.get("xaxis" + xa[1:], {}), layout.get("yaxis" + ya[1:], {})
            ax.set_xlabel((x_layout.get("title") or {}).get("text", ""), fontsize=8)
            ax.set_ylabel((y_layout.get("title") or {}).get("text", ""), fontsize=8)
            ax.set_xscale("log" if x_layout.get("type") == "log" else "linear")
            ax.set_yscale("log" if y_layout.get("type") == "log" else "linear")
            if x_layout.get("range"):
                ax.set_xlim(*(10 ** np.array(x_layout["range"]) if x_layout.get("type") == "log" else x_layout["range"]))
            if y_layout.get("range"):
                ax.set_ylim(*(10 ** np.array(y_layout["range"]) if y_layout.get("type") == "log" else y_layout["range"]))
            if y_layout.get("scaleanchor"):
                ax.set_aspect("equal", adjustable="box")
            ax.tick_params(labelsize=7)
            axes[xa, ya] = ax
        return axes[xa, ya]

    for trace in spec.get("data", []):
        if trace.get("visible") in (False, "legendonly"):
            continue
        kind, ax = trace.get("type", "scatter"), axis_for(trace)
        name = trace.get("name") if trace.get("showlegend", True) else None
        if kind in ("heatmap", "contour"):
            z = _array(trace.get("z"))
            if z is None or z.ndim != 2:
                continue
            xs, ys = trace.get("x"), trace.get("y")
            if isinstance(xs, (list, tuple)) and xs and isinstance(xs[0], str):  # categories (the trade-offs map)
                ys = list(ys) if isinstance(ys, (list, tuple)) else _array(ys).tolist()
                ax.imshow(z, origin="lower", aspect="auto", cmap="viridis", vmin=trace.get("zmin"),
                          vmax=trace.get("zmax"))
                ax.set_xticks(range(len(xs)), xs)
                ax.set_yticks(range(len(ys)), ys)
                texts = trace.get("text")
                for i, row in enumerate([] if texts is None else np.asarray(texts).tolist()):
                    for j, label in enumerate(row):
                        lo, hi = trace.get("zmin", 0.0), trace.get("zmax", 1.0)
                        light = np.isfinite(z[i, j]) and (z[i, j] - lo) / max(hi - lo, 1e-12) > 0.55
                        if "_r" in str(trace.get("colorscale", "")):
                            light = not light
                        ax.text(j, i, label, ha="center", va="center", fontsize=6, color="#222" if light else "white")
                continue
            x, y = _array(xs), _array(ys)  # coordinates, as lists or as typed arrays ({"bdata": …})
            extent = None if x is None or y is None else (x.min(), x.max(), y.min(), y.max())
            ax.imshow(z, origin="lower", extent=extent, aspect="auto", cmap="Blues", alpha=0.8)
            continue
        x, y = _array(trace.get("x")), _array(trace.get("y"))
        if x is None or y is None or not len(x):
            continue
        mode = trace.get("mode", "lines")
        line, marker = trace.get("line") or {}, trace.get("marker") or {}
        if "lines" in mode:
            ax.plot(x, y, color=line.get("color"), lw=max(line.get("width", 2), 0.5) * 0.6,
                    ls=_DASHES.get(line.get("dash"), "-"), label=name)
        if "markers" in mode:
            color = marker.get("color") if isinstance(marker.get("color"), str) else None
            ax.scatter(x, y, s=max(marker.get("size", 4), 1) ** 2 * 0.35, color=color, alpha=marker.get("opacity", 0.8),
                       linewidths=0, label=None if "lines" in mode else name)
    title = (layout.get("title") or {}).get("text", "")
    figure.suptitle(re.sub(r"<[^>]+>", "", title), fontsize=10)
    for ax in axes.values():
        if any(label and not label.startswith("_") for label in ax.get_legend_handles_labels()[1]):
            ax.legend(fontsize=6, loc="best", framealpha=0.7)
    buf = io.BytesIO()
    figure.savefig(buf, format="png")
    plt.close(figure)
    return buf.getvalue()


def _img(png: bytes, alt: str) -> str:
    return (f'<figure><img alt="{html.escape(alt, quote=True)}" src="data:image/png;base64,'
            f'{base64.b64encode(png).decode()}"><figcaption>{html.escape(alt)}</figcaption></figure>')


STYLE = """body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#222}
figure{margin:1rem 0;text-align:center}img{max-width:100%}figcaption{font-size:.85rem;color:#555}
section{border-top:1px solid #ddd;margin-top:2rem}.q{background:#f3f6fb;padding:.6rem 1rem;border-radius:.4rem}
ol.answers li{margin:.4rem 0}"""


def lesson_html(lesson, shown: Sequence) -> str:
    """The whole lesson as one HTML document: for each step its text, its figures, its question; then the
    measured answers. shown[i] is what step i's view showed (figures and measures): an animation as the frame
    it opens on (the step's state). Sentences asking to press or play are left out (static_text)."""
    body = [f"<h1>{html.escape(lesson.title)}</h1>", f"<p><em>{html.escape(lesson.question)}</em></p>"]
    answers = []
    for i, (step, view) in enumerate(zip(lesson.steps, shown), start=1):
        body.append(f"<section><h2>{i}. {html.escape(step.title)}</h2>{markdown_html(static_text(step.shown_text(view.measures)))}")
        body += [_img(figure_png(fig), static_text(caption)) for fig, caption in view.figures]
        value = view.measures[step.measure]
        if step.predict is not None:
            p = step.predict
            options = "".join(f"<li>{_inline(c)}</li>" for c in p.choices)
            body.append(f'<div class="q"><strong>Question {i}.</strong> {_inline(p.question)}'
                        + (f"<ol type='a'>{options}</ol>" if options else " (a number)") + "</div>")
            verdict = f" The answer: <strong>{_inline(p.choices[p.right_choice(value)])}</strong>." if p.choices else ""
            answers.append(f"<li>{_inline(step.revealed(view.measures))}{verdict}</li>")
        else:
            answers.append(f"<li>{_inline(step.revealed(view.measures))}</li>")
        body.append("</section>")
    body.append(f"<section><h2>Answers</h2><ol class='answers'>{''.join(answers)}</ol></section>")
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(lesson.title)}</title>"
            f"<style>{STYLE}</style></head><body>{''.join(body)}</body></html>")
