"""The shipped lessons and Break-it presets: every file loads, every step's view computes what its text and
reveal say (numbers recomputed here from the library), the settings are checked as the full pages check
them, and the handout is one self-contained HTML file."""
import html
import math
import re
from dataclasses import replace

import pytest

from explorer.draw import handout
from explorer.data.datasets import toy_2d
from explorer.lessons.course import (LESSONS_DIR, PLACEHOLDER, LessonError, load_gallery, load_lesson,
                                     load_lessons)
from explorer.measure.metrics import kl_to_standard_normal
from explorer.diffusion.schedules import make_schedule
from explorer.ui.lessons import catalog
from explorer.ui.controls import BETA_GRID

LESSONS, PROBLEMS = load_lessons(catalog.SPECS)
PRESETS, GALLERY_PROBLEMS = load_gallery(catalog.SPECS)


def measured(item) -> dict:
    return catalog.VIEWS[item.view].build(dict(item.settings)).measures


def test_the_shipped_lessons_and_presets_load():
    assert PROBLEMS == [] and GALLERY_PROBLEMS == []
    assert len(LESSONS) >= 7 and all(4 <= len(lesson.steps) <= 8 for lesson in LESSONS)
    assert len(PRESETS) >= 8
    # the seven subjects, in order
    assert [lesson.name for lesson in LESSONS[:7]] == ["01_noising", "02_schedules", "03_claims", "04_reverse",
                                                       "05_langevin", "06_images", "07_tradeoffs"]


def test_every_formula_of_every_lesson_renders_in_the_handout():
    for lesson in LESSONS:
        for step in lesson.steps:
            for m in re.finditer(r"\$\$(.+?)\$\$|\$(.+?)\$", step.text, re.S):
                handout.formula_svg(m.group(1) or m.group(2))  # raises ValueError when mathtext cannot read it


# --- numbers and laws the lesson texts state, recomputed from the library ---------------------------------------
def test_numbers_the_lesson_texts_state():
    linear = make_schedule("linear", 1000)
    assert math.sqrt(1 - linear.betas[1].item()) > 0.99  # lesson 1: 99 % or more survives one step
    short = make_schedule("linear", 50, beta_start=1e-4, beta_end=0.02)
    assert abs(short.alpha_bar_T - 0.6) < 0.01  # lesson 7: "ᾱ_T ≈ 0.6"
    wide = make_schedule("linear", 50, beta_start=1e-4, beta_end=0.2)
    assert kl_to_standard_normal(wide.alpha_bar_T, toy_2d("eight_gaussians", 2000, 0)) < 0.01  # "and it is"
    assert make_schedule("linear", 5).alpha_bar_T > 0.9  # break it, T = 5: "almost all of the signal"
    geometric = make_schedule("geometric", 1000, beta=0.5)
    assert geometric.betas[-1].item() == pytest.approx(0.5)  # lesson 3: the last step has β_T = β
    assert make_schedule("constant", 1000, beta=0.99).alphas_cumprod[1].item() == pytest.approx(0.01)
    cosine = {T: make_schedule("cosine", T).alpha_bar_T for T in (10, 100, 1000)}
    assert max(cosine.values()) < 1e-3  # lesson 2: "falls to (almost) zero at t = T whatever T is"
    assert 0.5 in BETA_GRID
    assert math.sqrt(1 - linear.alphas_cumprod[500].item()) == pytest.approx(0.96, abs=0.005)  # DDIM 2 steps: "0.96"
    assert make_schedule("geometric", 1000, beta=0.02).alpha_bar_T == pytest.approx(0.37, abs=0.005)  # "≈ 0.37"


def test_ddim_in_two_steps_collapses_to_the_centre():
    """Break it: "a blob at the centre, far inside the ring of bumps" (the bumps sit at radius ≈ 1.6)."""
    import torch
    from explorer.data.datasets import exact_eps_model
    from explorer.diffusion.samplers import ddim_sample, run_to_end
    x = torch.randn(2000, 2, generator=torch.Generator().manual_seed(0))
    out = run_to_end(ddim_sample(exact_eps_model("eight_gaussians"), make_schedule("linear", 1000), x, n_steps=2)).x
    bumps = toy_2d("eight_gaussians", 2000, 1).norm(dim=1).median()
    assert out.norm(dim=1).median() < 0.4 * bumps


def test_what_the_reveals_and_texts_claim_holds():
    steps = {(lesson.name, i + 1): step for lesson in LESSONS for i, step in enumerate(lesson.steps)}
    m = measured(steps["03_claims", 5])
    assert m["err_recorded"] < 1e-4 < 1 < m["err_text"]  # "the exact inverse: rounding error"
    assert measured(steps["03_claims", 1])["var_T"] < 3.5  # "not constant"
    assert measured(steps["03_claims", 3])["geometric_noise_share"] > 0.6  # "not 50 %"
    assert measured(steps["04_reverse", 2])["sw_x0"] > measured(steps["04_reverse", 3])["sw_xt"]
    at_900 = measured(steps["05_langevin", 2])
    assert at_900["alpha_bar_t"] < 1e-3  # "almost N(0, I)"
    assert measured(steps["05_langevin", 5])["diverged"] == 1.0


PLACED = [(f"{lesson.name}, step {i}", step) for lesson in LESSONS for i, step in enumerate(lesson.steps, start=1)
          if {m.group(1) for m in PLACEHOLDER.finditer(step.text + step.reveal)} - {"value"}]


@pytest.mark.parametrize("where, step", PLACED, ids=[w for w, _ in PLACED])
def test_every_placeholder_is_filled_from_the_view(where, step):
    """A measured value a lesson names ({reflow_seconds:.0f}, {capped_columns:.0f}, …) is one the step's view
    computes: the text and reveal shown keep no placeholder."""
    measures = measured(step)
    for shown in (step.shown_text(measures), step.revealed(measures)):
        prose = re.sub(r"\$\$.+?\$\$|\$.+?\$", "", shown, flags=re.S)
        assert "{" not in prose, (where, shown)
        assert not re.search(r"\b(nan|inf)\b", prose), (where, shown)


def test_the_lessons_new_measurements_say_what_their_texts_say():
    steps = {(lesson.name, i + 1): step for lesson in LESSONS for i, step in enumerate(lesson.steps)}
    # lesson 5: Langevin below its limit is biased; at t = T the formula v / (1 − α/2v) predicts the measured spread
    m = measured(steps["05_langevin", 7])
    assert m["var_ratio_narrowest"] == pytest.approx(2.0, abs=0.01)
    assert m["var_ratio"] == pytest.approx(m["var_ratio_narrowest"], abs=4 * 2.0 * (2 / 1000) ** 0.5)
    # lesson 7: the map's fewest T tie at its smallest T for the largest β_end: Spearman, not −1
    m = measured(steps["07_tradeoffs", 6])
    assert -1 < m["beta_trend"] < -0.5 and m["capped_columns"] >= 2 and m["smallest_T"] == 5


# --- Break it: each preset shows what it promises ------------------------------------------------------------------
def preset(title_start: str):
    found = [p for p in PRESETS if p.step.title.startswith(title_start)]
    assert found, [p.step.title for p in PRESETS]
    return found[0]


def test_break_it_presets_show_what_they_promise():
    shown = catalog.VIEWS["score.langevin"].build(dict(preset("Langevin α").step.settings))
    assert shown.measures["diverged"] == 1.0 and shown.measures["alpha_over_limit"] > 2
    assert any("diverged" in w for w in shown.warnings)  # the divergence warning
    assert measured(preset("T = 5").step)["sw_ratio"] > 3  # the samples miss the moons
    assert measured(preset("Geometric").step)["signal_T"] > 0.5  # x_T is not noise
    assert measured(preset("DDIM with 2").step)["sw_ratio"] > 3
    assert measured(preset("The exact score").step)["copies"] >= 0.9  # memorises
    beta_099 = measured(preset("β = 0.99").step)
    assert beta_099["sw_ratio"] > 3
    fresh = measured(preset("Subtracting fresh noise").step)
    assert fresh["fresh_spread"] > 100 and fresh["fresh_spread"] == pytest.approx(fresh["fresh_spread_theory"], rel=0.05)
    network = preset("A network off its noise levels")
    edge = measured(network.step)["rel_error"]
    usual = measured(type(network.step)(**{**network.step.__dict__, "settings": tuple(
        (k, 1e-4 if k == "beta_start" else v) for k, v in network.step.settings)}))["rel_error"]
    assert edge > 0.5 and usual < edge / 3  # "a much smaller error" at β_start = 0.0001


# --- settings are checked as the full pages check them ---------------------------------------------------------------
LESSON = '''title = "A"
question = "Q?"
''' + '''
[[steps]]
title = "S"
text = "x"
view = "{view}"
settings = {{ {settings} }}
measure = "{measure}"
reveal = "{{value}}"
''' * 4


@pytest.mark.parametrize("view, settings, measure, words", [
    ("forward.step", "T = 2.5", "alpha_bar_t", "'T' = 2.5 must be a whole number from 1 to 5000"),
    ("forward.step", "T = 100, t = 101", "alpha_bar_t", "'t' = 101 must be a whole number from 0 to 100"),
    ("forward.step", 'kind = "cubic"', "alpha_bar_t", "'kind' = 'cubic' is not a value the full page offers"),
    ("forward.step", "kind = \"constant\", beta = 0.03", "alpha_bar_t", "'beta' = 0.03 is not a value"),
    ("forward.step", "n = 150", "alpha_bar_t", "'n' = 150 must be a whole number from 100 to 5000 in steps of 100"),
    ("reverse.run", 'sampler = "ddim", steps = 60, T = 50', "sw_final", "'steps' = 60"),
    ("reverse.run", "step = 1001", "sw_final", "'step' = 1001"),
    ("reverse.run", 'score = "mine"', "sw_final", "'score' = 'mine'"),
    ("reverse.run", "eta = 0.15, sampler = \"ddim\"", "sw_final", "in steps of 0.1"),
    ("schedules.compare", 'kinds = "linear"', "kl_geometric", "needs 'geometric' among the kinds"),
    ("schedules.compare", 'kinds = "linear,squiggle"', "kl_linear", "comma-separated list"),
    ("score.langevin", "alpha = 0.3", "limit", "'alpha' = 0.3 is not a value"),
    ("images.forward", "T = 2000", "pixel_std", "'T' = 2000 must be a whole number from 1 to 1000"),
    ("reverse.ab", 'b_sampler = "euler"', "sw_A", "'b_sampler' = 'euler'"),
])
def test_settings_the_full_page_would_refuse_are_named(tmp_path, view, settings, measure, words):
    path = tmp_path / "01_a.toml"
    path.write_text(LESSON.format(view=view, settings=settings, measure=measure), encoding="utf-8")
    with pytest.raises(LessonError) as err:
        load_lesson(path, catalog.SPECS)
    assert str(err.value).startswith("01_a.toml, step 1: the field 'settings'"), str(err.value)
    if words:
        assert words in str(err.value), str(err.value)


@pytest.mark.parametrize("change, words", [
    (lambda s: s.replace('why = ', 'whyy = ', 1), "unknown field 'whyy'"),
    (lambda s: s.replace('notice = ', 'nottice = ', 1), "unknown field 'nottice'"),
    (lambda s: s.replace('view = "score.langevin"', 'view = "score.langevn"', 1), "unknown view"),
    (lambda s: s.replace('alpha = 0.5', 'alpha = 7', 1), "'alpha' = 7"),
])
def test_a_broken_preset_is_named_and_the_others_load(tmp_path, change, words):
    text = (LESSONS_DIR / "break_it.toml").read_text(encoding="utf-8")
    (tmp_path / "break_it.toml").write_text(change(text), encoding="utf-8")
    presets, problems = load_gallery(catalog.SPECS, tmp_path)
    assert len(presets) == len(PRESETS) - 1 and len(problems) == 1
    assert problems[0].startswith("break_it.toml, preset 1") and words in problems[0], problems


def test_the_handout_is_one_self_contained_file():
    lesson = LESSONS[0]
    shown = [catalog.VIEWS[s.view].build(dict(s.settings)) for s in lesson.steps]
    page = handout.lesson_html(lesson, shown)
    assert page.startswith("<!doctype html>") and "</html>" in page
    assert not re.search(r"(src|href)=['\"]https?:", page)  # nothing fetched
    assert page.count("<img ") == sum(len(v.figures) for v in shown) and page.count("data:image/png;base64,") == page.count("<img ")
    assert page.count("<svg ") == sum(len(re.findall(r"\$\$(.+?)\$\$|\$(.+?)\$", s.text, re.S)) for s in lesson.steps)
    text = html.unescape(page)
    for step, view in zip(lesson.steps, shown):
        assert step.title in text
        if step.predict:
            assert step.predict.question in text
    answers = text[text.index("<h2>Answers</h2>"):]
    assert lesson.steps[1].revealed(shown[1].measures) in answers
    assert "99 % or more" in answers  # the choice the measurement makes right


def test_each_handout_figure_shows_the_state_its_step_is_about():
    """An animation's still picture is the frame the step is about: lesson 1 step 5 (the end of the chain) shows
    x_T, not the clean moons of the first frame; lesson 2's 'See it' the geometric schedule's x_T."""
    import base64
    lesson = LESSONS[0]
    shown = [catalog.VIEWS[s.view].build(dict(s.settings)) for s in lesson.steps]
    first, last = (shown[i].figures[0][0].to_dict() for i in (0, 4))
    assert lesson.steps[0].view == lesson.steps[4].view == "forward.animation"
    assert first["data"][0]["x"] == first["frames"][0]["data"][0]["x"]  # the data, x_0
    assert last["data"][0]["x"] == last["frames"][-1]["data"][0]["x"] != first["data"][0]["x"]  # x_T
    assert last["layout"]["title"]["text"].endswith("t = 1000, ᾱ_t = 4.04e-05")
    assert last["layout"]["sliders"][0]["active"] == len(last["frames"]) - 1
    pictures = re.findall(r'src="data:image/png;base64,([^"]+)"', handout.lesson_html(lesson, shown))
    assert len(pictures) == sum(len(v.figures) for v in shown)
    assert base64.b64decode(pictures[4]) == handout.figure_png(shown[4].figures[0][0]) != base64.b64decode(pictures[0])
    see_it = next(s for s in LESSONS[1].steps if s.view == "forward.animation")
    spec = catalog.VIEWS[see_it.view].build(dict(see_it.settings)).figures[0][0].to_dict()
    assert spec["data"][0]["x"] == spec["frames"][-1]["data"][0]["x"]


_INSTRUCTIONS = re.compile(r"▶|\bpress|\bplay\b|under the figure|slider", re.I)


def test_a_handout_asks_no_one_to_press_play():
    """A handout is a still page: no 'Press ▶', 'play the animation' or 'under the figure' in its text, captions
    or answers (the live lesson keeps them)."""
    for lesson in LESSONS[:2]:  # the lessons with animations
        shown = [catalog.VIEWS[s.view].build(dict(s.settings)) for s in lesson.steps]
        text = html.unescape(re.sub(r"<svg.*?</svg>|<[^>]+>", " ", handout.lesson_html(lesson, shown), flags=re.S))
        assert not _INSTRUCTIONS.search(text), _INSTRUCTIONS.search(text)
    assert "▶" in LESSONS[0].steps[0].text  # the live step keeps its instruction; its handout leaves it out
    for lesson in LESSONS:  # and what is left of every step's text still says something
        for step in lesson.steps:
            kept = handout.static_text(step.text)
            assert kept and not _INSTRUCTIONS.search(kept), (lesson.name, step.title, kept)
    assert handout.static_text("x_t at t = 0. ▶ Play runs the chain from t = 0 to T.\n\nNext.") == "x_t at t = 0.\n\nNext."


def test_the_flows_lessons_handout_draws_every_figure():
    """Lesson 8's figures (clouds with paths, the marginal-gap lines on a reversed t axis) go into the handout, and
    the numbers its texts state are the page's: 20 drawn paths, straightness on the 128-step paths."""
    from explorer.ui.views import cloud_figures, flow_runs
    lesson = next(lesson for lesson in LESSONS if lesson.name == "08_flows")
    assert cloud_figures.N_PATHS == 20 and flow_runs.FLOW_STEPS[-1] == 128
    steps = [s for s in lesson.steps if not dict(s.settings).get("reflow")]  # reflow is trained in test_flows_page
    shown = [catalog.VIEWS[s.view].build(dict(s.settings)) for s in steps]
    page = handout.lesson_html(replace(lesson, steps=tuple(steps)), shown)
    assert page.count("<img ") == sum(len(v.figures) for v in shown) > 0


def test_the_format_document_lists_every_view():
    doc = (LESSONS_DIR / "README.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in doc for name in catalog.VIEWS)


def test_what_the_guidance_lesson_states_holds():
    """Lesson 9's texts: 250 points per class; s_c − s_u is ∇ log p(c | x_t); near an isolated Gaussian at small noise
    that gradient is close to zero; the checkerboard's two classes touch; the w = 0 rows spread over the whole set."""
    import torch
    from explorer.data.datasets import exact_eps_model, toy_2d_labelled
    from explorer.ui.views import guidance_runs
    assert guidance_runs.N_PER_CLASS == 250
    steps = {i + 1: s for i, s in enumerate(next(lesson for lesson in LESSONS if lesson.name == "09_guidance").steps)}
    ab = float(make_schedule("linear", 1000).alphas_cumprod[50])
    cond, whole = exact_eps_model("eight_gaussians", label=0), exact_eps_model("eight_gaussians")
    points, labels = toy_2d_labelled("eight_gaussians", 4000, seed=3)
    x0 = points[labels == 0]
    x = ab ** 0.5 * x0 + (1 - ab) ** 0.5 * torch.randn(x0.shape, generator=torch.Generator().manual_seed(4))
    s_c, s_u = -cond(x, ab) / (1 - ab) ** 0.5, -whole(x, ab) / (1 - ab) ** 0.5
    assert (s_c - s_u).norm(dim=1).median() < 1e-3 * s_c.norm(dim=1).median()  # "close to zero"
    xg = x[:50].double().requires_grad_(True)
    grad, = torch.autograd.grad(cond.log_prob(xg, ab).sum() - whole.log_prob(xg, ab).sum(), xg)
    assert torch.allclose(grad, (s_c - s_u)[:50].double(), atol=1e-4)  # ∇ log p(c|x_t) = ∇ log p_c − ∇ log p
    board, cls = toy_2d_labelled("checkerboard", 4000, seed=3)
    assert torch.cdist(board[cls == 0], board[cls == 1]).min() < 0.1  # the two classes touch (at the corners)
    assert measured(steps[2])["spread_ratio"] > 5  # "they spread over the whole set"
    # step 6: around the isolated class p(c|x) ≈ 1 wherever p(x|c) has its mass (log p(c|x) = log π_c + log p_c − log p)
    log_post = math.log(1 / 8) + cond.log_prob(x0, 1.0) - whole.log_prob(x0, 1.0)
    assert float(log_post.exp().quantile(0.01)) > 0.999
    assert steps[4].settings and dict(steps[7].settings)["g_lo"] == 300 and dict(steps[5].settings)["g_t"] == 50


def test_the_guidance_lessons_handout_draws_every_figure_over_its_density():
    """Lesson 9 in the handout (clouds, arrow fields and the sharpened density as images), and a heat map whose
    coordinates come as typed arrays covers its axes (it was drawn in pixel units in a corner)."""
    import io

    import numpy as np
    import plotly.graph_objects as go
    from PIL import Image
    lesson = next(lesson for lesson in LESSONS if lesson.name == "09_guidance")
    shown = [catalog.VIEWS[s.view].build(dict(s.settings)) for s in lesson.steps]
    page = handout.lesson_html(lesson, shown)
    assert page.count("<img ") == sum(len(v.figures) for v in shown) == 14
    axis = np.linspace(-3, 3, 30)
    z = np.ones((30, 30))
    z[0, 0] = 0.0  # one light cell in a corner; the rest at the top of the colour scale
    fig = go.Figure(go.Heatmap(x=axis, y=axis, z=z)).update_xaxes(range=[-3, 3]).update_yaxes(range=[-3, 3])
    assert isinstance(fig.to_dict()["data"][0]["x"], dict)  # plotly hands numpy coordinates over as typed arrays
    picture = np.asarray(Image.open(io.BytesIO(handout.figure_png(fig))).convert("L"), dtype=float)
    h, w = picture.shape
    inside = picture[int(0.3 * h):int(0.7 * h), int(0.3 * w):int(0.7 * w)]
    assert (inside < 200).mean() > 0.9  # the middle of the axes is painted
