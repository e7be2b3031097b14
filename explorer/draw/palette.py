"""The one colour vocabulary and the fixed 2D frame, shared by every drawing back-end.

Data/x_0 in DATA, the noised or sampled state x_t in STATE, the closed-form jump in CLOSED,
estimates x̂_0 in ESTIMATE, the N(0, I) reference in REF. No drawing library is imported here,
so the first page can use the colours without loading one.

Every colour that tells categories apart (roles, schedules, solvers, classes, models, metrics) is one of
Okabe & Ito's eight (2008, "Color Universal Design"), chosen to stay apart for viewers with protanopia,
deuteranopia or tritanopia; tests/test_palette.py simulates the three (Machado et al. 2009) and checks it.
Continuous maps (viridis, Blues, Reds) are left to the figures that use them.
"""
import math

import numpy as np

# Okabe & Ito's palette (https://jfly.uni-koeln.de/color/), in the order categories take it: the first
# four have the most contrast on white; yellow (1.3:1 on white) comes last, for the eighth category only.
BLUE, VERMILLION, BLUISH_GREEN, REDDISH_PURPLE = "#0072b2", "#d55e00", "#009e73", "#cc79a7"
ORANGE, SKY_BLUE, BLACK, YELLOW = "#e69f00", "#56b4e9", "#000000", "#f0e442"
CATEGORICAL = (BLUE, VERMILLION, BLUISH_GREEN, REDDISH_PURPLE, ORANGE, SKY_BLUE, BLACK, YELLOW)

# REF, the N(0, I) reference and dotted floors: a grey dark enough (5.7:1 on white) to stay apart from the bluish
# green under deuteranopia, where #7f7f7f came within ΔE76 9.7 of it (tests/test_palette.py)
DATA, STATE, CLOSED, ESTIMATE, REF = BLUE, VERMILLION, BLUISH_GREEN, REDDISH_PURPLE, "#666666"
INK = "#222"  # theory lines, paths and text
KIND_COLORS = dict(zip(("linear", "cosine", "constant", "geometric", "sigmoid"), CATEGORICAL))
SOLVER_COLORS = dict(zip(("ddpm", "ddim0", "ddim1", "heun", "dpm", "langevin", "pc"), CATEGORICAL))
# The Flows page: each group of keys is drawn together (the SDE/ODE runs; the scores; the models of the
# flow-matching section), so colours differ within a group; a session's own network takes FLOW_OTHER.
FLOW_COLORS = {"ddpm": BLUE, "ddim": VERMILLION, "heun": REDDISH_PURPLE,
               "exact": BLUE, "pretrained": VERMILLION,
               "ode": REDDISH_PURPLE, "flow": BLUISH_GREEN, "flow_heun": SKY_BLUE, "reflow": ORANGE,
               "true": REF}
FLOW_OTHER = BLUISH_GREEN
# Measures drawn against each other in one chart (precision against recall, faithfulness against realism)
METRIC_COLORS = {"precision": BLUE, "recall": VERMILLION, "faithfulness": BLUE, "realism": BLUISH_GREEN,
                 "confidence": VERMILLION, "sw": VERMILLION}
TEXT_CONTRAST = 4.5  # WCAG 2's minimum contrast for body text (AA)


def _luminance(color: str) -> float:
    """WCAG 2's relative luminance of a #rrggbb colour."""
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (linear(v / 255) for v in rgb(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_on_white(color: str) -> float:
    """WCAG 2's contrast ratio of a #rrggbb colour against white."""
    return 1.05 / (_luminance(color) + 0.05)


def text_shade(color: str, ratio: float = TEXT_CONTRAST) -> str:
    """The colour itself if text in it reads on white (contrast ≥ ratio), else the lightest darker shade that does:
    words in a category's colour keep its hue (vermillion's 3.8:1 becomes a darker vermillion)."""
    for step in range(101):
        shade = "#" + "".join(f"{round(v * (1 - step / 100)):02x}" for v in rgb(color))
        if contrast_on_white(shade) >= ratio:
            return shade
    return "#000000"


LIM = 4.2  # fixed axis range ±LIM for 2D states: data in ±2 plus N(0, I) noise


def category(i: int) -> str:
    """The colour of the i-th category (classes, curves): Okabe–Ito's eight, repeated past the eighth."""
    return CATEGORICAL[i % len(CATEGORICAL)]


def rgb(color: str) -> tuple[int, int, int]:
    """'#rrggbb' → (r, g, b)."""
    return tuple(int(color[i:i + 2], 16) for i in (1, 3, 5))


def circle(r: float, n: int = 121) -> tuple[np.ndarray, np.ndarray]:
    """n points on the circle of radius r around 0 (closed: the last equals the first): N(0, I)'s rσ contour."""
    th = np.linspace(0, 2 * math.pi, n)
    return r * np.cos(th), r * np.sin(th)
