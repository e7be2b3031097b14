"""The one colour vocabulary and the fixed 2D frame, shared by every drawing back-end.

Data/x_0 in DATA, the noised or sampled state x_t in STATE, the closed-form jump in CLOSED,
estimates x̂_0 in ESTIMATE, the N(0, I) reference in REF. No drawing library is imported here,
so the first page can use the colours without loading one.
"""
import math

import numpy as np

DATA, STATE, CLOSED, ESTIMATE, REF = "#636efa", "#ef553b", "#00a67e", "#ab63fa", "#7f7f7f"
INK = "#222"  # theory lines, paths and text
KIND_COLORS = {"linear": "#636efa", "cosine": "#ef553b", "constant": "#00a67e", "geometric": "#ab63fa",
               "sigmoid": "#ffa15a"}
LIM = 4.2  # fixed axis range ±LIM for 2D states: data in ±2 plus N(0, I) noise


def rgb(color: str) -> tuple[int, int, int]:
    """'#rrggbb' → (r, g, b)."""
    return tuple(int(color[i:i + 2], 16) for i in (1, 3, 5))


def circle(r: float, n: int = 121) -> tuple[np.ndarray, np.ndarray]:
    """n points on the circle of radius r around 0 (closed: the last equals the first): N(0, I)'s rσ contour."""
    th = np.linspace(0, 2 * math.pi, n)
    return r * np.cos(th), r * np.sin(th)
