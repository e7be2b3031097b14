"""The chain diagram as inline SVG: text the browser draws at once, before any chart library loads."""
from __future__ import annotations

import html
import re

from .palette import ESTIMATE, STATE, text_shade

_SUBSCRIPT = re.compile(r"_(\{[^}]*\}|\w+)")  # x_{t−1} or x_t: the subscript in braces, or one word


def math_tspans(text: str, size: int = 15) -> str:
    """Text with TeX-style subscripts (x_{t−1}, β_t) as SVG: each subscript a smaller tspan lowered with dy (which
    every browser draws; baseline-shift is not), the text after it raised back; no underscores or braces left."""
    sub, drop = round(size * 0.72), round(size * 0.3)
    out, last, lowered = [], 0, False
    for m in _SUBSCRIPT.finditer(text):
        plain = html.escape(text[last:m.start()])
        out.append(f'<tspan dy="-{drop}">{plain}</tspan>' if lowered and plain else plain)
        lowered = lowered and not plain
        shift = 0 if lowered else drop  # a subscript right after another stays down
        out.append(f'<tspan dy="{shift}" font-size="{sub}">{html.escape(m.group(1).strip("{}"))}</tspan>')
        last, lowered = m.end(), True
    rest = html.escape(text[last:])
    out.append(f'<tspan dy="-{drop}">{rest}</tspan>' if lowered and rest else rest)
    return "".join(out)


def chain_diagram_svg(width: int = 1000, height: int = 170) -> str:
    """The chain diagram as inline SVG: drawn by the browser at once, before any chart library loads."""
    names = [("x", "0"), ("x", "1"), ("x", "2"), ("⋯", ""), ("x", "T−1"), ("x", "T")]
    shades = ["#3b4cc0", "#6f8fe8", "#a2b9f5", "#ffffff", "#dcdcdc", "#bdbdbd"]
    n, r, cy = len(names), 26, height / 2
    xs = [width * (0.08 + 0.84 * i / (n - 1)) for i in range(n)]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
             f'role="img" aria-label="forward and reverse Markov chains" style="max-width:{width}px">',
             '<defs>' + "".join(
                 f'<marker id="head-{name}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
                 f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{color}"/></marker>'
                 for name, color in (("q", STATE), ("p", ESTIMATE))) + '</defs>']
    for a, b in zip(xs, xs[1:]):
        parts.append(f'<line x1="{a + r + 4:.1f}" y1="{cy - 12:.1f}" x2="{b - r - 4:.1f}" y2="{cy - 12:.1f}" '
                     f'stroke="{STATE}" stroke-width="2" marker-end="url(#head-q)"/>')
        parts.append(f'<line x1="{b - r - 4:.1f}" y1="{cy + 12:.1f}" x2="{a + r + 4:.1f}" y2="{cy + 12:.1f}" '
                     f'stroke="{ESTIMATE}" stroke-width="2" marker-end="url(#head-p)"/>')
    for x, (base, sub), shade in zip(xs, names, shades):
        parts.append(f'<circle cx="{x:.1f}" cy="{cy}" r="{r}" fill="{shade}" stroke="#444" stroke-width="1.5"/>')
        dark = shade in ("#3b4cc0", "#6f8fe8")
        label = base + (f'<tspan font-size="12" dy="5">{sub}</tspan>' if sub else "")
        parts.append(f'<text x="{x:.1f}" y="{cy + 6}" text-anchor="middle" font-size="18" font-style="italic" '
                     f'fill="{"#fff" if dark else "#222"}" font-family="serif">{label}</text>')
    parts.append(f'<text x="{width / 2}" y="22" text-anchor="middle" font-size="15" fill="{text_shade(STATE)}" '
                 'font-family="sans-serif">' + math_tspans("forward q(x_t | x_{t−1}) = N(√(1−β_t) x_{t−1}, β_t I): add noise")
                 + '</text>')
    parts.append(f'<text x="{width / 2}" y="{height - 10}" text-anchor="middle" font-size="15" fill="{text_shade(ESTIMATE)}" '
                 'font-family="sans-serif">' + math_tspans("reverse p(x_{t−1} | x_t): remove noise, guided by the score "
                                                    "∇log q_t(x_t)") + '</text>')
    parts.append("</svg>")
    return "".join(parts)
