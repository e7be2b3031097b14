"""Shipped results (precomputed/, explorer/ui/shipped.py) are what the pages compute, cover the pages' defaults,
and are used for nothing else.

Tolerances. A shipped value and a live one run the same code on the same inputs (settings, seeds, x_T), so on
this machine with one torch thread they are equal to the last bit. What may vary elsewhere is the order of
float32 sums (the thread count, the CPU's vector width): each operation then differs by about 6e-8 relatively,
and a DDPM chain of at most 2,000 steps, which contracts towards the data, carries that to about 1e-4 at most
(measured here with two threads instead of one: 4e-10 on the SW, 1.5e-8 on a guided point). Precision and
recall count points on either side of a k-NN radius, so such a shift can move a point that sits on a radius:
two points of n are allowed.
"""
import numpy as np
import pytest

from explorer.ui import shipped
from test_pages import assert_clean, open_page

POINT_TOL = 1e-4  # on a coordinate (points lie within a few units of the origin)
SW_REL = 1e-4


@pytest.fixture
def live(monkeypatch):
    """Compute afresh: shipped values switched off (the cached functions' bodies are called directly)."""
    monkeypatch.setenv("DIFFUSION_EXPLORER_SHIPPED", "0")


NOT_HERE = ("shipped values are not used on this machine (not the CPU, another product arithmetic, or other "
            "weights): nothing to compare")


def agree(got: dict, want: dict, n: int) -> None:
    assert got["diverged"] == want["diverged"]
    for m in ("precision", "recall"):
        assert abs(got[m] - want[m]) <= 2 / n + 1e-12, (m, got[m], want[m])
    if not want["diverged"]:
        assert got["sw"] == pytest.approx(want["sw"], rel=SW_REL)


CELLS = [(28, 0.02), (155, 0.005), (853, 0.2)]  # a short, a middle and a long chain


@pytest.mark.slow
@pytest.mark.parametrize("score", ["exact", "pretrained"])
def test_shipped_map_cells_and_cost_points_are_the_live_runs(score):
    from explorer.ui.views import tradeoff_runs as trr
    data, kind, sampler = shipped.TRADEOFFS_DATA, shipped.TRADEOFFS_KIND, shipped.TRADEOFFS_SAMPLER
    if not shipped._tradeoffs()["usable"][score]:
        pytest.skip(NOT_HERE)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DIFFUSION_EXPLORER_SHIPPED", "1")
        want = {(T, b): shipped.map_cell(data, kind, T, b, sampler, score) for T, b in CELLS}
        want_cost = {s: shipped.cost_point(data, kind, s, 20, score) for s in ("heun", "pc")}
        mp.setenv("DIFFUSION_EXPLORER_SHIPPED", "0")
        for (T, b), cell in want.items():
            assert cell is not None, (T, b)
            got = trr.map_cell.__wrapped__(data, kind, T, b, sampler, score)
            agree(got, cell, data.n)
            assert got["alpha_bar_T"] == pytest.approx(cell["alpha_bar_T"], rel=1e-12)
            if "covered" in cell:
                assert got["covered"] == pytest.approx(cell["covered"], abs=1 / 8)  # 8 components
        for solver, point in want_cost.items():
            assert point is not None, solver
            got = trr.cost_point.__wrapped__(data, kind, solver, 20, score)
            agree(got, point, data.n)
            assert got["nfe"] == point["nfe"]


@pytest.mark.slow
@pytest.mark.parametrize("scale, score", [(3.0, "exact"), (1.0, "network")])
def test_shipped_guided_runs_are_the_live_runs(scale, score, live):
    from explorer.ui.views import guidance_runs as gr
    if not shipped._guidance()["usable"][score]:
        pytest.skip(NOT_HERE)
    args = (shipped.GUIDANCE_SET, shipped.GUIDANCE_SCHED, scale, (1, shipped.GUIDANCE_SCHED.T), shipped.GUIDANCE_SEED,
            score)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DIFFUSION_EXPLORER_SHIPPED", "1")
        want = shipped.guided_run(*args)
    assert want is not None
    got = gr.guided_run.__wrapped__(*args)
    assert np.array_equal(got["labels"], want["labels"]) and got["diverged"] == want["diverged"]
    assert np.abs(got["x"] - want["x"]).max() <= POINT_TOL


def test_shipped_values_are_only_for_their_settings(live, monkeypatch):
    from dataclasses import replace
    if not shipped._tradeoffs()["usable"]["exact"]:
        pytest.skip(NOT_HERE)
    data, kind = shipped.TRADEOFFS_DATA, shipped.TRADEOFFS_KIND
    monkeypatch.setenv("DIFFUSION_EXPLORER_SHIPPED", "1")
    assert shipped.map_cell(data, kind, 155, 0.02, "ddpm", "exact") is not None
    for other in ((replace(data, seed=1), kind, 155, 0.02, "ddpm", "exact"),
                  (replace(data, n=2000), kind, 155, 0.02, "ddpm", "exact"),
                  (data, "cosine", 155, 0.02, "ddpm", "exact"), (data, kind, 155, 0.02, "heun", "exact"),
                  (data, kind, 155, 0.02, "ddpm", "session:abc")):
        assert shipped.map_cell(*other) is None, other
    sched, whole = shipped.GUIDANCE_SCHED, (1, shipped.GUIDANCE_SCHED.T)
    assert shipped.guided_run("eight_gaussians", sched, 3.0, whole, 0, "exact") is not None
    assert shipped.guided_run("eight_gaussians", sched, 4.0, whole, 0, "exact") is None
    assert shipped.guided_run("eight_gaussians", sched, 3.0, (1, 500), 0, "exact") is None
    assert shipped.guided_run("eight_gaussians", sched, 3.0, whole, 1, "exact") is None
    assert shipped.guided_run("two_moons", sched, 3.0, whole, 0, "exact") is None
    monkeypatch.setenv("DIFFUSION_EXPLORER_SHIPPED", "0")
    assert shipped.map_cell(data, kind, 155, 0.02, "ddpm", "exact") is None


def test_retrained_weights_or_another_device_compute_live(monkeypatch):
    """Network values are tied to the weights' SHA-256 and to the bits the network gives on this CPU; everything to
    the CPU."""
    if not shipped._tradeoffs()["usable"]["exact"]:
        pytest.skip(NOT_HERE)
    monkeypatch.setenv("DIFFUSION_EXPLORER_SHIPPED", "1")
    data, kind = shipped.TRADEOFFS_DATA, shipped.TRADEOFFS_KIND
    sched, whole = shipped.GUIDANCE_SCHED, (1, shipped.GUIDANCE_SCHED.T)
    try:
        shipped._tradeoffs.cache_clear(), shipped._guidance.cache_clear()
        monkeypatch.setattr(shipped, "_sha256", lambda path: "retrained")
        assert shipped.map_cell(data, kind, 155, 0.02, "ddpm", "pretrained") is None
        assert shipped.map_cell(data, kind, 155, 0.02, "ddpm", "exact") is not None  # no weights behind it
        assert shipped.guided_run("eight_gaussians", sched, 1.0, whole, 0, "network") is None
        assert shipped.guided_run("eight_gaussians", sched, 1.0, whole, 0, "exact") is not None
        monkeypatch.undo()
        monkeypatch.setenv("DIFFUSION_EXPLORER_SHIPPED", "1")
        shipped._tradeoffs.cache_clear(), shipped._guidance.cache_clear()
        monkeypatch.setattr(shipped, "network_bits", lambda name: "another CPU's bits")  # the same weights elsewhere
        assert shipped.map_cell(data, kind, 155, 0.02, "ddpm", "pretrained") is None
        assert shipped.map_cell(data, kind, 155, 0.02, "ddpm", "exact") is not None
        assert shipped.guided_run("eight_gaussians", sched, 1.0, whole, 0, "network") is None
        monkeypatch.undo()
        monkeypatch.setenv("DIFFUSION_EXPLORER_SHIPPED", "1")
        shipped._tradeoffs.cache_clear(), shipped._guidance.cache_clear()
        import torch
        from explorer.ui import sources
        monkeypatch.setattr(sources, "COMPUTE", torch.device("meta"))  # any device but the CPU
        assert shipped.map_cell(data, kind, 155, 0.02, "ddpm", "exact") is None
    finally:
        monkeypatch.undo()
        shipped._tradeoffs.cache_clear(), shipped._guidance.cache_clear()


@pytest.mark.slow
def test_the_pages_defaults_are_read_not_computed(monkeypatch):
    """At their bare URLs the Trade-offs map and the Guidance page's runs come from precomputed/: with the
    computation itself made to fail, both pages still show everything cleanly."""
    from explorer.ui.views import guidance_runs as gr, tradeoff_runs as trr
    if not all(shipped._tradeoffs()["usable"].values()) or not all(shipped._guidance()["usable"].values()):
        pytest.skip(NOT_HERE)

    def no_live_run(*_a, **_k):
        raise AssertionError("computed live")
    monkeypatch.setenv("DIFFUSION_EXPLORER_SHIPPED", "1")
    monkeypatch.setattr(trr, "score_model", no_live_run)
    monkeypatch.setattr(gr, "run_to_end", no_live_run)
    trr.map_cell.clear(), gr.guided_run.clear()  # nothing computed earlier in this process counts
    try:
        at = open_page("tradeoffs")
        assert_clean(at)
        assert {c.key for c in at.get("plotly_chart")} >= {"map_exact", "map_pretrained"}
        assert_clean(open_page("tradeoffs", view="cost"))
        at = open_page("guidance")
        assert_clean(at)
        assert {c.key for c in at.get("plotly_chart")} >= {"g_exact", "g_network", "g_scale"}
    finally:
        trr.map_cell.clear(), gr.guided_run.clear()
