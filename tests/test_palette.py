"""The categorical colours stay apart for colour-blind viewers.

Each colour is passed through Machado, Oliveira & Fernandes's (2009) simulation of protanopia, deuteranopia
and tritanopia (severity 1, the full dichromacy; applied to linear RGB, as colorspacious and the paper's own
implementation do), then compared in CIELAB (D65) by ΔE76, the Euclidean distance.

Threshold: ΔE76 = 2.3 is one just-noticeable difference between two large patches side by side (Sharma 2003,
"Digital Color Imaging Handbook"); the marks of a chart are small and apart, and Stone, Szafir & Setlur
(2014, "An Engineering Model for Color Difference as a Function of Size") measured the difference needed to
tell colours apart growing several-fold as marks shrink to points and thin lines. We ask for MIN_DELTA_E = 10,
about four JNDs. Okabe–Ito's eight clear it under every simulation (the closest pair ≈ 16); Plotly's default
colours, which the app used before, do not (blue and purple ≈ 1.6 apart under protanopia): the last test
checks that the threshold tells the two apart.
"""
import itertools

import numpy as np
import pytest

from explorer.draw import palette

MIN_DELTA_E = 10.0

# Machado et al. 2009, Table 1 at severity 1.0 (linear RGB → simulated linear RGB)
MACHADO = {
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]],
}
VISIONS = {"normal": np.eye(3), **{k: np.array(m) for k, m in MACHADO.items()}}
SRGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750],
                        [0.0193339, 0.1191920, 0.9503041]])  # IEC 61966-2-1, D65
D65 = np.array([0.95047, 1.0, 1.08883])


def linear_rgb(color: str) -> np.ndarray:
    """'#rrggbb' → linear-light RGB in [0, 1] (the sRGB transfer function undone)."""
    c = np.array(palette.rgb(color)) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def lab(linear: np.ndarray) -> np.ndarray:
    """Linear RGB → CIELAB (D65)."""
    t = SRGB_TO_XYZ @ np.clip(linear, 0.0, 1.0) / D65
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def closest_pair(colors: dict[str, str], vision: str) -> tuple[float, str, str]:
    """The smallest ΔE76 between two of the colours as a viewer with `vision` sees them, and which two."""
    seen = {name: lab(VISIONS[vision] @ linear_rgb(c)) for name, c in colors.items()}
    return min((float(np.linalg.norm(seen[a] - seen[b])), a, b) for a, b in itertools.combinations(seen, 2))


def test_lab_matches_known_values():
    """The conversion itself: white, black and sRGB red at their published CIELAB coordinates."""
    np.testing.assert_allclose(lab(linear_rgb("#ffffff")), [100, 0, 0], atol=0.01)
    np.testing.assert_allclose(lab(linear_rgb("#000000")), [0, 0, 0], atol=0.01)
    np.testing.assert_allclose(lab(linear_rgb("#ff0000")), [53.24, 80.09, 67.20], atol=0.05)


def test_simulations_leave_greys_grey():
    """Machado's matrices keep white white (rows sum to 1), so greys are seen unchanged by every viewer."""
    for m in MACHADO.values():
        np.testing.assert_allclose(np.array(m).sum(axis=1), 1.0, atol=1e-4)


# Every set of colours drawn side by side to tell categories apart
GROUPS = {
    "categorical (classes, curves)": dict(enumerate(palette.CATEGORICAL)),
    "roles (data, x_t, jump, x̂_0, reference)": dict(DATA=palette.DATA, STATE=palette.STATE, CLOSED=palette.CLOSED,
                                                     ESTIMATE=palette.ESTIMATE, REF=palette.REF),
    "schedules": palette.KIND_COLORS,
    "solvers": palette.SOLVER_COLORS,
    "flows: the SDE and the ODE": {k: palette.FLOW_COLORS[k] for k in ("ddpm", "ddim", "heun")},
    "flows: the scores": {"exact": palette.FLOW_COLORS["exact"], "pretrained": palette.FLOW_COLORS["pretrained"],
                          "session": palette.FLOW_OTHER, "true": palette.FLOW_COLORS["true"]},
    "flows: the models": {k: palette.FLOW_COLORS[k] for k in ("ode", "flow", "flow_heun", "reflow")},
    "faithfulness against realism": {k: palette.METRIC_COLORS[k] for k in ("faithfulness", "realism", "confidence")},
}


@pytest.mark.parametrize("vision", list(VISIONS))
@pytest.mark.parametrize("group", list(GROUPS))
def test_categories_stay_apart(group, vision):
    delta, a, b = closest_pair(GROUPS[group], vision)
    assert delta >= MIN_DELTA_E, f"{group}: {a} and {b} are only ΔE76 = {delta:.1f} apart under {vision}"


def test_categorical_is_okabe_ito():
    okabe_ito = {"#000000", "#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7"}
    assert set(palette.CATEGORICAL) == okabe_ito
    assert [palette.category(i) for i in range(10)] == list(palette.CATEGORICAL) + list(palette.CATEGORICAL[:2])


def test_the_threshold_catches_plotly_defaults():
    """The colours the app used before Okabe–Ito (Plotly's first five) fail: the test has teeth."""
    plotly = dict(zip("abcde", ("#636efa", "#ef553b", "#00a67e", "#ab63fa", "#ffa15a")))
    assert closest_pair(plotly, "protanopia")[0] < MIN_DELTA_E


def test_contrast_matches_wcag_golden_values():
    """WCAG 2's ratios: black on white 21:1; #767676 is the lightest grey that passes AA (4.54:1)."""
    from explorer.draw.palette import contrast_on_white
    assert contrast_on_white("#000000") == pytest.approx(21.0)
    assert contrast_on_white("#ffffff") == pytest.approx(1.0)
    assert contrast_on_white("#767676") == pytest.approx(4.54, abs=0.01)


def test_the_chain_diagrams_words_read_on_white():
    """The diagram is an SVG picture, which axe-core cannot read: its coloured captions are checked here."""
    import re
    from explorer.draw.diagram import chain_diagram_svg
    from explorer.draw.palette import TEXT_CONTRAST, contrast_on_white
    svg = chain_diagram_svg()
    fills = re.findall(r'<text[^>]*fill="(#[0-9a-fA-F]{6})"', svg)
    assert len(fills) >= 2
    assert all(contrast_on_white(f) >= TEXT_CONTRAST for f in fills), fills
