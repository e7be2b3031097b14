"""The Flows & ODEs page: what each view shows against the same quantities computed here from the library,
the claims of its captions, every view at its extremes, and bad links."""
import json
import re

import numpy as np
import pytest
import torch

from explorer.nets.checkpoints import load_pretrained
from explorer.data.datasets import exact_eps_model, toy_2d
from explorer.diffusion.flows import flow_sample, ode_log_likelihood, round_trip, straightness
from explorer.measure.metrics import sliced_wasserstein
from explorer.diffusion.samplers import run_to_end
from explorer.diffusion.schedules import make_schedule
from explorer.common.streams import STREAMS
from test_pages import assert_clean, metric, open_page

MIX = exact_eps_model("eight_gaussians")


def caption_with(at, text: str) -> str:
    found = [c.value for c in at.caption if text in c.value]
    assert found, f"no caption with {text!r}"
    return found[0]


def numbers_after(text: str, label: str) -> list[float]:
    return [float(v) for v in re.findall(re.escape(label) + r" (-?\d+\.\d+)", text)]


def test_sde_and_ode_reach_the_same_marginals_and_only_the_sde_wanders():
    at = open_page("flows", T=200, n=500, steps=50)
    assert_clean(at)
    spec = [json.loads(c.proto.spec) for c in at.get("plotly_chart") if c.key == "sde_marginals"][0]
    traces = {t["name"]: t for t in spec["data"]}
    floor = decode(traces["two samples of q_t"]["y"])
    text = caption_with(at, "Measured:")
    ratio = decode(traces["DDPM, the SDE (200 steps)"]["y"]) / floor  # the floor is drawn at DDPM's levels
    assert f"DDPM, the SDE (200 steps): at most {ratio.max():.1f}× the floor" in text
    for name in ("DDPM, the SDE (200 steps)", "DDIM η = 0 (50 steps)", "Heun, the ODE (50 steps)"):
        said = float(re.findall(re.escape(name) + r": at most (\d+\.\d)× the floor", text)[0])
        assert said < 2.0, (name, text)  # the same marginals as the forward chain, to sampling noise
    lengths = [float(m.value) for m in at.metric if m.label == "median path length"]
    assert lengths[0] > 10 * lengths[2]  # DDPM's paths wander; Heun's do not
    assert f"DDPM: {lengths[0]:.2f} (median length); Heun's deterministic paths: {lengths[2]:.2f}" in \
        caption_with(at, "so its paths wander")
    noisy = open_page("flows", T=200, n=500, steps=50, eta=1.0)
    assert_clean(noisy)
    assert float([m.value for m in noisy.metric if m.label == "median path length"][1]) > 3 * lengths[1]


def decode(values):
    """A plotly array from the chart's JSON: a list, or a typed array {"dtype", "bdata"}."""
    import base64

    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=np.dtype(values["dtype"]))
    return np.asarray(values, dtype=float)


def test_inversion_shows_the_round_trip_of_the_first_points():
    at = open_page("flows", view="inversion", T=200, inv_k=30, inv_steps=50)
    assert_clean(at)
    x_0 = toy_2d("eight_gaussians", 1000, STREAMS["data"].seed(0))[:30]
    rt = round_trip(MIX, make_schedule("linear", 200), x_0, 50)
    assert metric(at, "mean round-trip error") == f"{float(rt['error'].mean()):.2g}"
    assert metric(at, "largest error") == f"{float(rt['error'].max()):.2g}"
    text = caption_with(at, "the map is invertible")
    first, last = (float(v) for v in re.findall(r"falls from (\S+) at 2 steps to (\S+) at 200", text)[0])
    assert last < 1e-3 < first  # invertible up to the solver's error, which falls with the steps
    assert at.get("plotly_chart")[2].key == "inv_curve" or any(c.key == "inv_curve" for c in at.get("plotly_chart"))


def test_likelihood_numbers_are_the_odes_and_near_the_true_density():
    at = open_page("flows", view="likelihood", T=200, ll_steps=20)
    assert_clean(at)
    held = toy_2d("eight_gaussians", 1000, STREAMS["second_sample"].seed(1))
    s = make_schedule("linear", 200)
    text = caption_with(at, "held-out points")
    exact = float(ode_log_likelihood(MIX, s, held, 20).mean())
    true = float(MIX.log_prob(held.double()).mean())
    assert numbers_after(text, "exact score") == [round(exact, 3)]
    assert f"the true density gives {true:.3f}" in text
    network = numbers_after(text, "pretrained network")[0]
    assert abs(exact - true) < 0.15 and abs(network - true) < 0.6, (exact, network, true)
    assert {c.key for c in at.get("plotly_chart")} >= {"ll_true log", "ll_exact sc", "ll_pretrain", "ll_curve"}


def test_likelihood_without_a_density_formula_shows_the_network_only():
    at = open_page("flows", view="likelihood", data="two_moons", T=100, ll_steps=10)
    assert_clean(at)
    assert any("no density formula" in i.value for i in at.info)
    text = caption_with(at, "held-out points")
    assert "exact score" not in text and "pretrained network" in text and "true density" not in text


def test_flow_matching_numbers_are_the_flow_networks():
    at = open_page("flows", view="flow", n=500, fl_steps=4)
    assert_clean(at)
    model, _ = load_pretrained("eight_gaussians_flow")
    x_1 = torch.randn(500, 2, generator=STREAMS["reverse_start"].generator(0))
    steps = list(flow_sample(model, x_1, 4))
    target = toy_2d("eight_gaussians", 500, STREAMS["target"].seed(0))
    sw = sliced_wasserstein(steps[-1].x, target)
    straight = float(np.median(straightness([x_1] + [s.x for s in steps]).numpy()))  # numpy's median: the mean of the middle two
    assert [m.value for m in at.metric if m.label == "SW to the data"][1] == f"{sw:.3f}"
    assert [m.value for m in at.metric if m.label == "straightness (median)"][1] == f"{straight:.3f}"
    one = sliced_wasserstein(run_to_end(flow_sample(model, x_1, 1)).x, target)
    assert f"flow matching (Euler) SW {one:.3f}" in caption_with(at, "In one step")


@pytest.mark.slow
def test_reflow_on_the_page_straightens_the_paths_and_fixes_one_step():
    at = open_page("flows", view="flow", n=500, data="two_moons", reflow=1)
    assert_clean(at)
    text = caption_with(at, "In one step")
    flow_one, reflow_one = numbers_after(text, "flow matching (Euler) SW")[0], numbers_after(text, "reflowed (Euler) SW")[0]
    assert reflow_one < 0.5 * flow_one, text
    flow_s, reflow_s = numbers_after(text, "flow matching (Euler)")[-1], numbers_after(text, "reflowed (Euler)")[-1]
    assert reflow_s < 1.05 < flow_s, text


@pytest.mark.parametrize("params", [
    {"T": 1, "steps": 1}, {"T": 1, "view": "inversion"}, {"T": 1, "view": "likelihood", "ll_steps": 2},
    {"view": "inversion", "inv_k": 1, "inv_steps": 2, "T": 100}, {"view": "inversion", "inv_k": 200, "T": 600,
                                                                  "inv_steps": 500},
    {"view": "flow", "fl_steps": 1, "kind": "cosine", "T": 50}, {"view": "flow", "fl_steps": 128, "n": 100},
    {"view": "sde", "score": "pretrained", "kind": "sigmoid", "T": 100, "eta": 1.0},
    {"view": "likelihood", "kind": "cosine", "T": 1000, "ll_steps": 200, "score": "pretrained"},
])
def test_every_view_at_its_extremes(params):
    at = open_page("flows", **params)
    assert_clean(at)
    assert len(at.get("plotly_chart")) >= 2


@pytest.mark.parametrize("params,words", [
    ({"view": "nope"}, "Ignored the link's value"),
    ({"view": "inversion", "inv_steps": 7}, "Ignored the link's value"),
    ({"view": "likelihood", "ll_steps": "lots"}, "Ignored the link's value"),
    ({"view": "flow", "fl_steps": 3}, "Ignored the link's value"),
    ({"view": "flow", "data": "word", "word": "HELLO"}, "trained on 'DIFFUSION'"),
    ({"score": "pretrained", "data": "word", "word": "HELLO"}, "Ignored the link's value"),
])
def test_bad_links_give_a_message_and_a_working_page(params, words):
    at = open_page("flows", T=100, n=200, **params)
    assert not at.exception
    assert any(words in w.value for w in at.warning), [w.value for w in at.warning]


@pytest.mark.parametrize("view", ["sde", "inversion", "likelihood", "flow"])
@pytest.mark.parametrize("beta", [0.7, 0.9])
def test_strong_schedules_give_messages_not_tracebacks_or_nan(view, beta):
    """constant β = 0.7 / 0.9 at T = 1,000 (ᾱ_T = e^−1204 / e^−2303): every view answers with numbers, "diverged" or a
    message, never a traceback or "nan"."""
    at = open_page("flows", view=view, kind="constant", beta=beta, n=200, inv_k=10, ll_steps=10, fl_steps=2)
    assert not at.exception, [e.message for e in at.exception]
    shown = [c.value for c in at.caption] + [m.value for m in at.metric] + [e.value for e in at.error]
    assert not any(re.search(r"\bnan\b", v, re.IGNORECASE) for v in shown), shown
