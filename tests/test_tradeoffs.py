"""The Trade-offs page: the verdicts worded from the cells, a cell equal to the reverse page's run, every
control at its extremes, and the reverse page running the new solvers."""
import base64
import json
from urllib.parse import parse_qsl

import numpy as np
import pytest

from explorer.measure import tradeoffs as tr
from test_pages import assert_clean, metric, open_page

SMALL = {"n": 100}  # the extremes at the smallest point count: the same code paths, a quicker run


# --- the verdicts follow the numbers ---------------------------------------------------------------------------
def test_verdicts_are_worded_from_the_cells():
    Ts, betas = tr.MAP_T, tr.MAP_BETA["linear"]
    rising = np.tile(np.linspace(0.5, 0.9, len(Ts))[:, None], (1, len(betas)))
    falling = rising[::-1]
    # precision reaches 0.9 later (at a larger T) for a larger β …
    later = np.array([[0.95 if i >= j else 0.5 for j in range(len(betas))] for i in range(len(Ts))])
    up = tr.verdicts(Ts, betas, later, rising)
    assert "In 8 of 8 β columns recall is higher" in up[0] and up[0].endswith("Mostly yes.")
    assert "a larger β needed more steps" in up[1] and "rank correlation +1.00" in up[1]
    assert "reach it already at the smallest T" not in up[1]  # only the first column reaches it at T = 5
    # … or sooner
    sooner = later[:, ::-1]
    down = tr.verdicts(Ts, betas, sooner, falling)
    assert "In 0 of 8 β columns" in down[0] and down[0].endswith("Mostly no.")
    assert "a larger β needed fewer steps" in down[1]
    never = np.where(np.arange(len(betas))[None, :] >= 6, 0.5, later)
    assert "never reached for β = 0.1, 0.2" in tr.verdicts(Ts, betas, never, rising)[1]
    assert tr.verdicts(Ts, betas, np.full((8, 8), np.nan), np.full((8, 8), np.nan)) == []  # nothing computed yet


def test_beta_trend_ranks_ties_at_their_average_and_says_when_the_grid_caps_them():
    """The default map's fewest T per β_end were 155, 66, 28, 12, 5, 5, 5, 5: the four 5s tie. Spearman with average
    ranks is Pearson's r of the ranks written out by hand here, not −1 (what ranking ties in arbitrary order gave)."""
    Ts, betas = np.array([5, 12, 28, 66, 155, 300, 1000, 2000]), tr.MAP_BETA["linear"]
    fewest = [155, 66, 28, 12, 5, 5, 5, 5]
    precision = np.array([[0.95 if T >= f else 0.5 for f in fewest] for T in Ts])
    bt = tr.beta_trend(Ts, betas, precision)
    beta_ranks, T_ranks = np.arange(1, 9), np.array([8, 7, 6, 5, 2.5, 2.5, 2.5, 2.5])
    assert bt.corr == pytest.approx(np.corrcoef(beta_ranks, T_ranks)[0, 1], abs=1e-12)
    assert bt.corr == pytest.approx(-0.9386, abs=1e-4) and bt.words == "a larger β needed fewer steps"
    assert bt.capped == tuple(float(b) for b in betas[4:])
    line = tr.verdicts(Ts, betas, precision, precision)[1]
    assert "Spearman rank correlation -0.94, ties at their average rank" in line
    assert ("4 of these columns (β = 0.02, 0.05, 0.1, 0.2) reach it already at the smallest T on the grid, so their "
            "true fewest T may be smaller still") in line
    # every column reaching it at the same T: no trend, not "+1.00"
    flat = tr.beta_trend(Ts, betas, np.full((8, 8), 0.95))
    assert np.isnan(flat.corr) and flat.words == "no trend"
    line = tr.verdicts(Ts, betas, np.full((8, 8), 0.95), np.full((8, 8), 0.5))[1]
    assert "Here no trend (the rank correlation is undefined: every column needs the same T)" in line
    assert "8 of these columns" in line


# --- the page --------------------------------------------------------------------------------------------------
def heat(at, key) -> np.ndarray:
    spec = [json.loads(c.proto.spec) for c in at.get("plotly_chart") if c.key == key][0]
    z = [t for t in spec["data"] if t.get("colorscale") != [[0, "#bbb"], [1, "#bbb"]]][0]["z"]
    if isinstance(z, dict):  # a typed array: {"dtype", "bdata", "shape"}
        shape = tuple(int(v) for v in str(z["shape"]).split(","))
        return np.frombuffer(base64.b64decode(z["bdata"]), dtype=np.dtype(z["dtype"])).reshape(shape).astype(float)
    return np.array([[np.nan if v is None else v for v in row] for row in z], dtype=float)


@pytest.mark.slow
def test_the_map_fills_and_the_verdicts_follow_its_cells():
    at = open_page("tradeoffs")
    assert_clean(at)
    precision = heat(at, "map_exact")
    assert precision.shape == (8, 8) and np.isfinite(precision).all() and 0 <= precision.min() <= precision.max() <= 1
    at.radio(key="metric").set_value("recall").run()
    recall = heat(at, "map_exact")
    lines = [m.value for m in at.markdown if m.value.startswith("- **Exact score.**")]
    expected = tr.verdicts(tr.MAP_T, tr.MAP_BETA["linear"], precision, recall)
    assert lines == [f"- **Exact score.** {line}" for line in expected]
    # what the README says of this map: a larger β needs fewer steps, and recall barely moves
    assert "a larger β needed fewer steps" in lines[1] and np.nanmax(recall) - np.nanmin(recall) < 0.2
    assert any(m.value.startswith("- **Pretrained network.**") for m in at.markdown)
    # short chains on a gentle schedule do not reach the data: the T = 5, β_end = 0.001 corner is poor
    assert precision[0, 0] < 0.5 < precision[-1, 0]


@pytest.mark.slow
def test_a_cell_opens_the_same_run_on_the_reverse_page():
    at = open_page("tradeoffs")
    at.selectbox(key="cell_T").set_value(66).run()
    link = [p.proto for p in at.get("page_link") if p.proto.label.startswith("Open T = 66")][0]
    caption = [c.value for c in at.caption if c.value.startswith("This cell:")][0]
    sw_cell = float(caption.split("SW ")[1].split(",")[0])
    assert "modes covered 100%" in caption  # the 8 Gaussians: every component gets its share at T = 66
    rev = open_page("reverse", **dict(parse_qsl(link.query_string)))
    assert_clean(rev)
    assert float(metric(rev, "SW to data, A")) == pytest.approx(sw_cell, abs=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize("kind, sampler", [("constant", "ddpm"), ("sigmoid", "heun")])
def test_every_kind_and_map_sampler(kind, sampler):
    at = open_page("tradeoffs", kind=kind, sampler=sampler, **SMALL)
    assert_clean(at)
    z = heat(at, "map_exact")
    assert np.isfinite(z).sum() + 0 >= 1 and z.shape == (8, 8)
    if kind == "constant":  # β = 0.5 at every step: T = 5 already erases the data; nothing diverges unseen
        spec = [json.loads(c.proto.spec) for c in at.get("plotly_chart") if c.key == "map_exact"][0]
        texts = spec["data"][-1]["text"]
        assert all(t != "" for row in texts for t in row)  # every cell computed: a number or ✕


@pytest.mark.slow
@pytest.mark.parametrize("cost_metric", ["precision", "recall", "sw"])
def test_quality_against_cost(cost_metric):
    at = open_page("tradeoffs", view="cost", cost_metric=cost_metric, **SMALL)
    assert_clean(at)
    spec = [json.loads(c.proto.spec) for c in at.get("plotly_chart") if c.key == "cost"][0]
    names = [t["name"] for t in spec["data"] if t.get("type") == "scatter"]
    assert len(names) == 2 * len(tr.SOLVERS)  # every solver, exact and network
    lines = [m.value for m in at.markdown if m.value.startswith("- **")]
    assert len(lines) == 2 and all("fewest evaluations measured to reach precision 0.9" in line for line in lines)


@pytest.mark.slow
@pytest.mark.parametrize("params", [{"score_t": 1, "n_steps": 10}, {"score_t": 1000, "n_steps": 2000},
                                    {"score_t": 100, "alpha_score": "pretrained"}])
def test_langevin_alpha_at_the_extremes(params):
    at = open_page("tradeoffs", view="alpha", **SMALL, **params)
    assert_clean(at)
    caption = [c.value for c in at.caption if c.value.startswith("At t = ")][0]
    assert "the stability limit" in caption
    if params.get("score_t") == 1:
        assert "The smallest α that diverged" in caption  # at t = 1 the bumps are narrow: α = 1 explodes


@pytest.mark.parametrize("sampler, extra", [("heun", {"steps": 20}), ("dpm", {"steps": 10}),
                                            ("pc", {"corrector": 2})])
def test_the_reverse_page_runs_the_new_solvers(sampler, extra):
    at = open_page("reverse", sampler=sampler, T=200, **extra)
    assert_clean(at)
    sw = float(metric(at, "SW to data, A"))
    assert sw < 3 * float(metric(at, "SW between two data samples"))
