"""Every page through streamlit's AppTest: defaults, slider extremes, URL state, what is shown."""
import base64
import json
import re
from pathlib import Path

import numpy as np

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "explorer" / "app.py")
from explorer.ui.layout import PAGES as PAGE_LIST

PAGES = [p.file.removesuffix(".py") for p in PAGE_LIST]
TIMEOUT = 300


def open_page(page: str, **params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.switch_page(f"../pages/{page}.py")
    for k, v in params.items():
        at.query_params[k] = str(v)
    return at.run()


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def chart(at: AppTest, key: str) -> dict:
    """The plotly chart drawn with this key, as its JSON spec."""
    found = [json.loads(c.proto.spec) for c in at.get("plotly_chart") if c.key == key]
    assert found, f"no chart {key!r}; have {[c.key for c in at.get('plotly_chart')]}"
    return found[0]


def values(v) -> np.ndarray:
    """A plotly data array from the JSON spec: a list, or {"dtype", "bdata"} base64 for numpy arrays."""
    if isinstance(v, dict) and "bdata" in v:
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
    return np.asarray(v, dtype=float)


def visuals(at: AppTest) -> int:
    """Charts plus pictures on the page."""
    return len(charts(at)) + len(at.get("image"))


def metric(at: AppTest, label: str) -> str:
    found = [m.value for m in at.metric if m.label == label]
    assert found, f"no metric {label!r}; have {[m.label for m in at.metric]}"
    return found[0]


CODE_REPR = re.compile(r"\b[a-z_]+=[\d.]|\w\(\w+=|_\{")  # beta_start=0.0001, linear(beta=…, x_{t−1}


def shown_words(at: AppTest) -> list[str]:
    """Chart titles, axis titles and trace names, captions and metric labels: what a page writes in words."""
    words = [c.value for c in at.caption] + [m.label for m in at.metric]
    for spec in charts(at):
        layout = spec.get("layout", {})
        words += [(v.get("title") or {}).get("text", "") for k, v in layout.items()
                  if k == "title" or k.startswith(("xaxis", "yaxis")) and isinstance(v, dict)]
        words += [d.get("name") or "" for d in spec.get("data", [])]
    return [w for w in words if w]


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_by_default(page):
    at = open_page(page)
    assert_clean(at)
    assert at.title and visuals(at) >= (1 if page == "lessons" else 2)  # a lesson's first step: one live figure
    assert not at.get("exception")
    assert [w for w in shown_words(at) if CODE_REPR.search(w)] == []  # titles in words, not code reprs


def test_forward_numbers_match_the_schedule():
    at = open_page("forward", kind="constant", beta=0.01, T=100, t=50)
    assert_clean(at)
    assert float(metric(at, "β_t")) == pytest.approx(0.01)
    assert float(metric(at, "ᾱ_t")) == pytest.approx(0.99 ** 50, rel=1e-3)
    measured, theory = float(metric(at, "Var(x_t), measured")), float(metric(at, "Var(x_t), theory"))
    assert measured == pytest.approx(theory, abs=0.1)  # 2,000 points: SE of a variance ≈ 0.03
    chain_vs_jump = float(metric(at, "SW, chain ↔ jump"))
    assert chain_vs_jump < 4 * float(metric(at, "SW, two jumps")) + 0.02
    anim = chart(at, "forward_animation")
    assert "constant β = 0.01, T = 100" in anim["layout"]["title"]["text"]
    assert len(anim["frames"]) == 51 and len(anim["layout"]["sliders"][0]["steps"]) == 51
    slider = anim["layout"]["sliders"][0]  # it names what it moves: "t = 100" above it, every frame labelled
    assert slider["currentvalue"]["visible"] and slider["currentvalue"]["prefix"] == "t = "
    assert [step["label"] for step in slider["steps"]][::25] == ["0", "50", "100"]


def test_forward_t_slider_indexes_the_stored_trajectory():
    at = open_page("forward", T=300)
    snap_before = chart(at, "forward_snapshot")["data"][0]["x"]
    at.slider(key="t").set_value(300).run()
    assert_clean(at)
    assert chart(at, "forward_snapshot")["layout"]["title"]["text"].startswith("t = 300")
    assert not np.array_equal(values(chart(at, "forward_snapshot")["data"][0]["x"]), values(snap_before))
    from explorer.diffusion.schedules import make_schedule
    assert float(metric(at, "ᾱ_t")) == pytest.approx(make_schedule("linear", 300).alpha_bar_T, rel=1e-3)


def test_url_restores_every_setting():
    at = open_page("reverse", data="rings", n=500, seed=3, kind="cosine", T=60, sampler="ddim", eta=0.5, steps=20)
    assert_clean(at)
    assert at.selectbox(key="data").value == "rings"
    assert at.slider(key="n").value == 500 and at.slider(key="seed").value == 3
    assert at.selectbox(key="kind").value == "cosine" and at.slider(key="T").value == 60
    assert at.radio(key="sampler").value == "ddim"
    assert at.slider(key="eta").value == 0.5 and at.slider(key="steps").value == 20
    assert at.slider(key="step").max == 20  # 20 DDIM steps stored


def test_bad_url_values_fall_back_with_a_warning():
    at = open_page("forward", T="2.5", kind="wiggly", n=-5)
    assert_clean(at)
    assert at.slider(key="T").value == 1000 and at.selectbox(key="kind").value == "linear"
    warnings = " ".join(w.value for w in at.warning)
    assert "'T'" in warnings and "'kind'" in warnings and "'n'" in warnings


def test_a_long_bad_url_value_is_quoted_short():
    """A link's unusable value is echoed as a short excerpt (≤ 40 characters and an ellipsis), not kilobytes."""
    from explorer.ui.state import EXCERPT_CHARS, excerpt
    junk = "x" * 5000
    at = open_page("forward", kind=junk, T="9" * 300)
    assert_clean(at)
    ignored = [w.value for w in at.warning if "Ignored the link's value" in w.value]
    assert len(ignored) == 2 and all(len(w) < 120 and "…" in w for w in ignored), ignored
    assert excerpt("two") == "'two'" and excerpt(junk) == repr("x" * (EXCERPT_CHARS - 1)) + "…"


def test_bad_word_shows_a_message_and_keeps_working():
    at = open_page("forward", data="word")
    at.text_input(key="word").set_value("     ").run()
    assert not at.exception
    assert any("visible character" in e.value for e in at.error)
    assert len(charts(at)) >= 2  # the page still draws, with the default word


def test_schedules_verdict_and_claims():
    at = open_page("schedules", kinds="linear,geometric", T=1000, beta=0.02)
    assert_clean(at)
    table = at.dataframe[0].value
    verdict = dict(zip(table["schedule"], table["is x_T pure noise?"]))
    assert verdict["linear β from 0.0001 to 0.02, T = 1000"].startswith("yes")
    assert verdict["geometric β = 0.02, T = 1000"].startswith("no")
    assert float(metric(at, "ᾱ_T left by this schedule")) == pytest.approx(0.366, abs=1e-3)
    assert any("Not constant" in w.value for w in at.warning)
    sw = [float(m.value) for m in at.metric if m.label == "Sliced Wasserstein to data"]
    recorded, text, fresh, scored = sw
    assert recorded < 0.2 and scored < 0.3 and fresh > 10 * scored and text > 5 * recorded


def test_schedules_sigma_one_is_constant():
    at = open_page("schedules", a_sigma0=1.0)
    assert_clean(at)
    assert any("constant" in s.value for s in at.success)


def test_reverse_ab_mode_runs_both_from_the_same_noise():
    at = open_page("reverse", T=200, ab=1)
    assert_clean(at)
    a, b = float(metric(at, "SW to data, A")), float(metric(at, "SW to data, B"))
    floor = float(metric(at, "SW between two data samples"))
    assert a < 3 * floor and b < 3 * floor
    xa, xb = ([d for d in chart(at, key)["data"] if d.get("name") == "x_t"][0] for key in ("rev_xt_A", "rev_xt_B"))
    assert len(values(xa["x"])) == len(values(xb["x"])) == 1000  # drawn; the metrics use all 2,000
    assert np.isfinite(values(xa["x"])).all() and np.isfinite(values(xb["y"])).all()
    # the SW curves' log axis is labelled in full (0.1, 0.2, 0.5 …) around both runs and the floor
    sw_chart = chart(at, "rev_sw")
    ticks = [float(v) for v in sw_chart["layout"]["yaxis"]["ticktext"]]
    assert sw_chart["layout"]["yaxis"]["tickvals"] == ticks
    assert min(ticks) <= min(a, b, floor) and max(ticks) >= max(values(d["y"]).max() for d in sw_chart["data"])


def test_reverse_step_buttons_scrub():
    at = open_page("reverse", T=100)
    assert at.slider(key="step").value == 100
    at.button(key="prev").click().run()
    assert at.slider(key="step").value == 99
    assert "t = 1 " in chart(at, "rev_xt")["layout"]["title"]["text"]
    assert chart(at, "rev_x0")["layout"]["title"]["text"] == "x̂₀: the guess of x_0 made on the step to t = 1"
    at.slider(key="step").set_value(0).run()
    assert "t = 100 " in chart(at, "rev_xt")["layout"]["title"]["text"]
    assert chart(at, "rev_x0")["layout"]["title"]["text"] == "x̂₀: no guess yet (x_T shown)"


def test_large_langevin_step_warns_and_names_the_step():
    at = open_page("score", alpha=1.0, n_steps=100)
    assert not at.exception
    warn = " ".join(w.value for w in at.warning)
    assert "too large" in warn and "Langevin step" in warn
    assert int(metric(at, "Steps run")) < 100


def test_reverse_langevin_divergence_is_explained():
    at = open_page("reverse", T=200, sampler="langevin", rule="constant", alpha=0.5)
    assert not at.exception
    assert any("diverged" in w.value for w in at.warning)


def _extremes(at: AppTest):
    """(kind, key, value) for the min and max of every slider and select_slider on the page."""
    out = []
    for s in at.slider:
        out += [("slider", s.key, s.min), ("slider", s.key, s.max)]
    for s in at.select_slider:
        out += [("select_slider", s.key, s.options[0]), ("select_slider", s.key, s.options[-1])]
    return out


# pages, plus the reverse page with the widgets that only DDIM, Langevin and A/B mode show
VARIANTS = [(p, {}) for p in PAGES] + [("reverse", {"sampler": "ddim", "ab": 1, "b_sampler": "langevin"}),
                                       ("reverse", {"sampler": "langevin", "rule": "snr"}),
                                       ("score", {"score": "pretrained"})] + \
    [("images", {"view": v}) for v in ("reverse", "inpaint", "variations", "superres", "sketch", "picture")]


@pytest.mark.slow
@pytest.mark.parametrize("page,params", VARIANTS, ids=[f"{p}-{'-'.join(q.values()) if q else 'defaults'}"
                                                      for p, q in ((p, {k: str(v) for k, v in q.items()})
                                                                   for p, q in VARIANTS)])
def test_every_slider_at_its_extremes(page, params):
    at = open_page(page, **params)
    for kind, key, value in _extremes(at):
        fresh = open_page(page, **params)
        widget = getattr(fresh, kind)(key=key)
        if kind == "select_slider":
            value = type(widget.value)(value) if not isinstance(value, str) else value
            value = next(o for o in widget.options if str(o) == str(value))
            value = float(value) if not isinstance(widget.value, str) else value
        widget.set_value(value).run()
        assert not fresh.exception, (page, key, value, [e.message for e in fresh.exception])
        assert visuals(fresh) >= 1, (page, key, value)


def test_a_new_range_keeps_the_slider_value():
    """Changing T changes the t slider's range; the chosen t must survive (clamped), not reset."""
    at = open_page("score", T=1000, score_t=300)
    at.slider(key="T").set_value(500).run()
    assert_clean(at)
    assert at.slider(key="score_t").value == 300
    at.slider(key="T").set_value(200).run()
    assert at.slider(key="score_t").value == 200


def test_langevin_journey_animation_on_request():
    at = open_page("score", journey=1, n_steps=100)
    assert_clean(at)
    anim = chart(at, "langevin_anim")
    assert anim["frames"][-1]["layout"]["title"]["text"].endswith("Langevin step 100")
    slider = anim["layout"]["sliders"][0]
    assert slider["currentvalue"]["prefix"] == "Langevin step " and slider["steps"][-1]["label"] == "100"


# --- learned scores, Train your own, images ---------------------------------------------------

def test_reverse_ab_compares_exact_with_the_pretrained_network():
    at = open_page("reverse", T=200, ab=1)
    assert_clean(at)
    assert at.radio(key="b_score").value == "pretrained"
    assert "pretrained network" in chart(at, "rev_xt_B")["layout"]["title"]["text"]
    floor = float(metric(at, "SW between two data samples"))
    assert float(metric(at, "SW to data, B")) < 3 * floor


def test_score_page_shows_learned_beside_exact_with_their_difference():
    at = open_page("score", score="pretrained", data="two_moons")
    assert_clean(at)
    assert chart(at, "score_learned")["layout"]["title"]["text"].startswith("Learned s_t")
    diff = chart(at, "score_diff")
    assert diff["layout"]["title"]["text"] == "Difference: learned − exact" and diff["data"][0]["type"] == "heatmap"
    assert float(metric(at, "Relative squared error of the learned score where the data are")) < 0.1


def test_the_learned_score_is_judged_against_a_reference_good_enough_at_that_t():
    """Two moons has no formula: the page judges the network against a 50,000-point sample's score, not the
    1,000-point one its arrows use. At t = 100 that judge is good, and the shown error agrees with the network's error
    against an independent 200,000-point reference computed here, within the sampling error of the page's 1,000
    samples of q_t; at t = 5 even 50,000 points are too coarse, and the page says so instead of a verdict."""
    import torch
    from explorer.data.datasets import toy_2d
    from explorer.diffusion.schedules import make_schedule
    from explorer.diffusion.scores import EmpiricalData
    from explorer.nets.checkpoints import load_pretrained
    at = open_page("score", score="pretrained", data="two_moons", score_t=100)
    assert_clean(at)
    shown = float(metric(at, "Relative squared error of the learned score where the data are"))
    caption = next(c.value for c in at.caption if c.value.startswith("The red map"))
    assert "Against the score of 50,000 points of the set" in caption and "the network is close to it" in caption
    ab = float(make_schedule("linear", 1000).alphas_cumprod[100])
    g = torch.Generator().manual_seed(4242)
    x0 = toy_2d("two_moons", 4000, 4243).double()
    xt = ab ** 0.5 * x0 + (1 - ab) ** 0.5 * torch.randn(x0.shape, generator=g, dtype=torch.float64)
    ref = EmpiricalData(toy_2d("two_moons", 200_000, 4244).double()).eps(xt, ab)
    with torch.no_grad():
        net = load_pretrained("two_moons")[0](xt.float(), ab).double()
    err, size = ((net - ref) ** 2).sum(1), (ref ** 2).sum(1)
    ratio = float(err.mean() / size.mean())
    se_page = float((err - ratio * size).std() / size.mean() / 1000 ** 0.5)  # the ratio over 1,000 samples
    assert abs(shown - ratio) < 4 * se_page + 0.002, (shown, ratio, se_page)
    at = open_page("score", score="pretrained", data="two_moons", score_t=5)
    caption = next(c.value for c in at.caption if c.value.startswith("The red map"))
    assert "even that reference is too coarse to judge the network" in caption
    judge, measured = re.search(r"itself off by about ([\d.e-]+).*relative squared error is ([\d.e-]+)", caption).groups()
    assert float(judge) > float(measured) / 3


def test_langevin_below_its_limit_is_stable_but_biased():
    """On one Gaussian bump of variance v, Langevin with step α settles at variance v / (1 − α/2v). At t = T q_t is
    almost N(0, I) (v = 1 − ᾱ_T + ᾱ_T σ² ≈ 1): with α = 1 the particles' variance is twice q_t's, as the page says,
    within the sampling error of 1,000 particles and 1,000 samples of q_t in 2D."""
    at = open_page("score", score_t=1000, alpha=1.0, n_steps=300)
    assert_clean(at)
    caption = next(c.value for c in at.caption if "crawls" in c.value)
    theory, measured = re.search(r"that is ([\d.]+) × v\. Measured here after 300 steps: the particles' variance is "
                                 r"([\d.]+) ×", caption).groups()
    assert float(theory) == pytest.approx(2.0, abs=0.01)
    se = 2.0 * (2 * 2 / 2000) ** 0.5  # relative SE of a 2-coordinate variance of 1,000 points is sqrt(2/2000), twice
    assert float(measured) == pytest.approx(2.0, abs=4 * se)
    assert "settle near q_t, spread wider by the step size" in at.markdown[0].value or any(
        "spread wider by the step size" in m.value for m in at.markdown)


def test_pretrained_word_model_is_offered_only_for_the_default_word():
    at = open_page("reverse", data="word", word="HELLO", T=50)
    assert_clean(at)
    assert at.radio(key="score").options == ["exact"]
    at = open_page("reverse", data="word", T=50)
    assert "pretrained network" in at.radio(key="score").options


def _wait_for(at: AppTest, timeout: float = 120) -> None:
    job = at.session_state["train_job"]
    job.wait(timeout)
    assert not job.running, "training did not finish in time"
    at.run()


def test_train_a_word_stop_it_and_use_it_on_the_other_pages():
    at = open_page("train", tr_steps=10000, tr_word="HI")
    assert_clean(at)
    at.button(key="tr_start").click().run()
    assert at.session_state["train_job"].running
    at.button(key="tr_stop").click().run()  # the page polls; Stop is there while it runs
    _wait_for(at)
    assert_clean(at)
    job = at.session_state["train_job"]
    assert job.status == "stopped" and job.steps[-1] < 10000
    assert any("Your network is ready" in s.value and "stopped early" in s.value for s in at.success)
    assert 0.1 < float(metric(at, "Lowest possible")) < float(metric(at, "Loss now"))  # stopped early: above it
    assert any(d["name"].startswith("lowest possible") for d in chart(at, "tr_loss")["data"])
    key = at.session_state["trained_keys"][-1]
    # the other pages now offer it, for the word it was trained on
    at.switch_page("../pages/reverse.py")
    for k, v in dict(data="word", word="HI", T="50", score=f"session:{key}").items():
        at.query_params[k] = v
    at.run()
    assert_clean(at)
    assert at.radio(key="score").value == f"session:{key}"
    names = [d.get("name", "") for c in charts(at) for d in c["data"]]
    assert any("your network" in n for n in names), names


def trained_links(at: AppTest) -> dict[str, dict]:
    """The Train page's links to the pages that use the network: label → the query they open."""
    from urllib.parse import parse_qsl
    return {link.proto.label: dict(parse_qsl(link.proto.query_string)) for link in at.get("page_link")
            if link.proto.label in ("Reverse sampling with your network", "Its score field next to the exact one")}


@pytest.mark.parametrize("source", ["word", "csv"])
def test_the_trained_networks_links_open_its_data_and_select_it(source):
    """'Reverse sampling with your network' opens Reverse sampling on the data set it was trained on (a typed word,
    or the uploaded points) with that network selected; the page says the network lives in this tab only."""
    from explorer.ui.session import TAB_ONLY
    if source == "word":
        at = open_page("train", tr_steps=200, tr_word="HI")
    else:
        at = open_page("train", tr_source="csv", tr_steps=200)
        rows = "\n".join(f"{np.cos(a):.4f},{np.sin(a):.4f}" for a in np.linspace(0, 6.2, 300))
        at.sidebar.get("file_uploader")[0].set_value(("ring.csv", ("x,y\n" + rows).encode(), "text/csv")).run()
    assert_clean(at)
    assert any(TAB_ONLY in c.value for c in at.caption)  # said before training
    at.button(key="tr_start").click().run()
    _wait_for(at)
    assert_clean(at)
    key = at.session_state["trained_keys"][-1]
    links = trained_links(at)
    expected = {"data": "word", "word": "HI"} if source == "word" else {"data": "yours"}
    assert links and all(q == {**expected, "score": f"session:{key}"} for q in links.values()), links
    assert any(TAB_ONLY in c.value for c in at.caption)  # and beside the links
    at.switch_page("../pages/reverse.py")  # what the link does: the same session, the link's query
    for k, v in links["Reverse sampling with your network"].items():
        at.query_params[k] = v
    at.query_params["T"] = "50"
    at.run()
    assert_clean(at)
    assert at.selectbox(key="data").value == expected["data"]
    if source == "word":
        assert at.text_input(key="word").value == "HI"
    assert at.radio(key="score").value == f"session:{key}"
    assert "your network" in chart(at, "rev_xt")["layout"]["title"]["text"] or \
        any("your network" in d.get("name", "") for c in charts(at) for d in c["data"])


def test_a_link_to_a_network_this_tab_does_not_have_says_so():
    """After a reload (a new session) the link's trained network and uploaded points are gone: a plain message,
    the exact score and a built-in set instead, no 'Ignored the link's value' riddle."""
    from explorer.ui.session import TAB_ONLY
    at = open_page("reverse", data="yours", score="session:0123abcd4567", T=50)
    assert_clean(at)
    warnings = [w.value for w in at.warning]
    assert sum(TAB_ONLY in w for w in warnings) == 2, warnings
    assert not any("Ignored the link's value" in w for w in warnings), warnings
    assert at.radio(key="score").value == "exact" and at.selectbox(key="data").value == "eight_gaussians"
    assert "score" not in at.query_params or at.query_params["score"] == "exact"


def test_train_on_uploaded_points_and_sample_them_elsewhere():
    at = open_page("train", tr_source="csv", tr_steps=300)
    assert_clean(at)
    at.sidebar.get("file_uploader")[0].set_value(("pts.csv", b"x;y\n1;2\n3;oops\n", "text/csv")).run()
    assert any("Line 3" in e.value and "not two numbers" in e.value for e in at.error)
    assert at.button(key="tr_start").disabled
    angle = np.linspace(0, 2 * np.pi, 400, endpoint=False)
    rows = "\n".join(f"{10 + 3 * np.cos(a):.4f},{-5 + 3 * np.sin(a):.4f}" for a in angle)
    at.sidebar.get("file_uploader")[0].set_value(("circle.csv", ("x,y\n" + rows).encode(), "text/csv")).run()
    assert not at.error and any("400 points" in s.value for s in at.sidebar.success)
    at.button(key="tr_start").click().run()
    job = at.session_state["train_job"]
    job.wait(120)
    assert job.status == "done"
    at.switch_page("../pages/reverse.py")  # straight there: the finished job is picked up on any page
    for k, v in dict(data="yours", T="100").items():
        at.query_params[k] = v
    at.run()
    assert_clean(at)
    assert at.selectbox(key="data").value == "yours"
    target = [d for d in chart(at, "rev_xt")["data"] if d.get("name") == "data (target)"][0]
    r = np.hypot(values(target["x"]), values(target["y"]))  # the circle, fitted into the box: radius 1.8
    assert np.allclose(r, 1.8, atol=0.01)


@pytest.mark.parametrize("view", ["forward", "reverse", "inpaint", "variations", "picture"])
def test_images_page_views(view):
    at = open_page("images", view=view, img_data="digits")  # the 8 × 8 set (MNIST: tests/test_mnist.py)
    assert_clean(at)
    assert len(at.get("image")) >= 2
    if view == "reverse":
        assert float(metric(at, "Recognised as digits").rstrip("%")) >= 60
        assert int(metric(at, "Classes present").split()[0]) >= 9
    if view == "inpaint":
        assert metric(at, "Known pixels: largest change at t = 0") == "0 (exact)"
    if view == "forward":
        at.slider(key="img_t").set_value(250).run()
        assert abs(float(metric(at, "pixel std, measured")) - 1) < 0.05  # N(0, 1) at t = T


def test_images_exact_score_memorises():
    at = open_page("images", view="reverse", img_score="exact", img_n=16, img_data="digits")
    assert_clean(at)
    assert metric(at, "Copies of training images") == "100%"


def _png(mode="RGB", size=(40, 20), fmt="PNG"):
    import io
    from PIL import Image
    buf = io.BytesIO()
    Image.new(mode, size).save(buf, format=fmt)
    return buf.getvalue()


@pytest.mark.parametrize("name,raw,shown,kind", [
    ("notes.png", b"just some text", "not an image", "error"),
    ("empty.png", b"", "empty", "error"),
    ("cmyk.jpg", _png("CMYK", fmt="JPEG"), "CMYK", "info"),
    ("alpha.png", _png("RGBA"), "transparency", "info"),
    ("palette.png", _png("P"), "palette", "info"),
])
def test_your_picture_checks_uploads(name, raw, shown, kind):
    at = open_page("images", view="picture")
    at.get("file_uploader")[0].set_value((name, raw, "image/png")).run()
    assert not at.exception
    messages = [m.value for m in (at.error if kind == "error" else at.info)]
    assert any(shown in m for m in messages), messages
    assert len(at.get("image")) >= 2  # the page keeps working (the sample photograph on error)


def _bomb() -> bytes:
    from test_images import png_declaring
    return png_declaring(20_000, 20_000)


@pytest.mark.parametrize("where, key, name, raw, shown", [
    ("images?view=picture", "img_upload", "anim.gif", _png(fmt="GIF"), "This is a GIF image; please upload a PNG or JPEG"),
    ("images?view=picture", "img_upload", "big.png", b"\x89PNG" + b"\0" * 9_000_000, "at most 8 MB"),
    ("images?view=picture", "img_upload", "bomb.png", _bomb(), "The image declares 400 megapixels; at most 40"),
    ("images?view=sketch", "sk_upload", "bomb.png", _bomb(), "The image declares 400 megapixels; at most 40"),
    ("images?view=sketch", "sk_upload", "notes.pdf", b"%PDF-1.4 not a picture", "not an image that can be read"),
    ("train?tr_source=csv", "tr_upload", "points.png", _png(), "not a text (UTF-8) CSV file"),
    ("train?tr_source=csv", "tr_upload", "huge.csv", b"1,2\n" * 1_600_000, "at most 5 MB"),
])
def test_upload_refusals_are_messages_on_the_page(where, key, name, raw, shown):
    """Wrong type, too large, a decompression bomb: each is an st.error on the page in the app's own words. The
    uploaders take any file (a type filter or size cap in the browser would refuse it with a hover tip only),
    write their limits under them, and the server's cap leaves room above the app's limits."""
    import tomllib
    from explorer.ui.uploads import SERVER_CAP_MB
    page, _, query = where.partition("?")
    at = open_page(page, **dict(q.split("=") for q in query.split("&")))
    uploader = at.get("file_uploader")[0]
    assert uploader.key == key and uploader.allowed_type == []  # any file reaches the page's own checks
    assert any(" MB." in c.value and "at most" in c.value for c in at.caption)  # the limits, in view
    uploader.set_value((name, raw, "application/octet-stream")).run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any(shown in e for e in errors), errors
    assert not any("decompression bomb" in e.lower() or "DOS attack" in e for e in errors), errors  # not Pillow's
    config = tomllib.loads((Path(APP).parents[1] / ".streamlit" / "config.toml").read_text())
    from explorer.data.datasets import CSV_MAX_BYTES
    from explorer.data.images import MAX_UPLOAD_BYTES
    assert config["server"]["maxUploadSize"] == SERVER_CAP_MB  # room for a file 4 × over the app's limits:
    assert SERVER_CAP_MB * 1e6 >= 4 * max(MAX_UPLOAD_BYTES, CSV_MAX_BYTES)
    if page == "images":
        assert len(at.get("image")) >= 2  # the page keeps working with the sample picture or sketch


def test_overview_panels_show_the_same_q_t_up_to_sampling_noise():
    """The overview's claim: forward and DDPM-reverse clouds at the same t are as close as two forward samples."""
    from explorer.ui.views.runs import forward_reverse_distance
    from explorer.ui.settings import DataChoice, ReverseChoice, ScheduleChoice
    data, sched, rev = DataChoice("eight_gaussians", 1000, 0), ScheduleChoice("cosine", 100), ReverseChoice.make("ddpm")
    for t in (0, 15, 50, 100):
        between, two_samples = forward_reverse_distance(data, sched, rev, t)
        assert between < 2 * two_samples, (t, between, two_samples)
    at = open_page("overview", teaser_t=15)
    assert_clean(at)
    assert any("independent forward samples" in c.value for c in at.caption)


def test_a_schedule_whose_first_steps_round_to_no_noise_runs_and_is_judged_honestly():
    """Geometric β = 0.5, T = 100: 1 − ᾱ_1 rounds to 0 (the reverse page once crashed), and x_T keeps ᾱ_T = 0.29
    of the data, so the digits sampled from N(0, I) are neither copies nor digits: no "generalises"."""
    at = open_page("reverse", kind="geometric", beta=0.5, T=100)
    assert_clean(at)
    at = open_page("images", view="reverse", kind="geometric", beta=0.5, T=100, img_data="digits")
    assert_clean(at)
    recognised = float(metric(at, "Recognised as digits").rstrip("%")) / 100
    verdict = " ".join(m.value for m in at.markdown if "copies" in m.value)
    assert recognised < 0.5 and "generalises" not in verdict and "not new digits" in verdict
