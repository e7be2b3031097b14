"""Labelled toy sets, exact class scores and classifier-free guidance."""
import math

import pytest
import torch

from explorer.data.datasets import LABELLED_2D, exact_eps_model, toy_2d, toy_2d_labelled
from explorer.diffusion.guidance import cfg_eps_model
from explorer.diffusion.samplers import ddpm_sample, run_to_end
from explorer.diffusion.schedules import make_schedule


@pytest.mark.parametrize("name", list(LABELLED_2D))
def test_labelled_points_are_the_toy_points_with_a_class_each(name):
    points, labels = toy_2d_labelled(name, 3000, seed=4)
    assert torch.equal(points, toy_2d(name, 3000, seed=4))
    assert labels.dtype == torch.int64 and set(labels.tolist()) == set(range(len(LABELLED_2D[name])))
    counts = torch.bincount(labels).double()
    assert counts.min() > 0.3 * counts.mean()  # every class is a real share of the set


def test_classes_are_where_they_should_be():
    pts, lab = toy_2d_labelled("eight_gaussians", 4000, 0)
    angle = torch.atan2(pts[:, 1], pts[:, 0]) % (2 * math.pi)
    assert ((angle / (math.pi / 4)).round() % 8 == lab).double().mean() > 0.999  # component k at 45k°
    pts, lab = toy_2d_labelled("checkerboard", 4000, 0)
    col, row = (pts + 2).floor().clamp(0, 3).long().unbind(1)
    assert torch.equal(col % 2, lab) and torch.equal(row % 2, lab)  # the two colours alternate square by square
    pts, lab = toy_2d_labelled("word", 4000, 0)
    centres = torch.stack([pts[lab == c, 0].median() for c in range(len(LABELLED_2D["word"]))])
    assert (centres.diff() > 0).all()  # the letters of DIFFUSION, left to right
    pts, lab = toy_2d_labelled("two_moons", 4000, 0)
    assert pts[lab == 0, 1].mean() > pts[lab == 1, 1].mean()  # "upper moon" above "lower moon"


def test_bad_classes_are_refused_with_a_message():
    with pytest.raises(ValueError, match="classes are 0 … 7"):
        exact_eps_model("eight_gaussians", label=8)
    with pytest.raises(ValueError, match="has no classes"):
        toy_2d_labelled("spiral", 10)


def test_cfg_at_scales_zero_and_one_returns_the_branches():
    cond, uncond = exact_eps_model("eight_gaussians", label=2), exact_eps_model("eight_gaussians")
    x = torch.randn(500, 2, generator=torch.Generator().manual_seed(0))
    for ab in (0.05, 0.5, 0.95):
        assert torch.allclose(cfg_eps_model(cond, uncond, 1.0)(x, ab), cond(x, ab))
        assert torch.allclose(cfg_eps_model(cond, uncond, 0.0)(x, ab), uncond(x, ab))
        assert torch.allclose(cfg_eps_model(cond, uncond, 3.0)(x, ab), uncond(x, ab) + 3 * (cond(x, ab) - uncond(x, ab)))
    outside = cfg_eps_model(cond, uncond, 5.0, interval=(0.2, 0.8))
    assert torch.allclose(outside(x, 0.9), cond(x, 0.9)) and not torch.allclose(outside(x, 0.5), cond(x, 0.5))


def guided_samples(label: int, scale: float, n: int = 2000) -> torch.Tensor:
    cond, uncond = exact_eps_model("eight_gaussians", label=label), exact_eps_model("eight_gaussians")
    x_T = torch.randn(n, 2, generator=torch.Generator().manual_seed(1))
    return run_to_end(ddpm_sample(cfg_eps_model(cond, uncond, scale), make_schedule("linear", 1000), x_T,
                                  generator=torch.Generator().manual_seed(2))).x


@pytest.mark.parametrize("label", [0, 3, 6])
def test_exact_conditional_ddpm_lands_in_its_class_with_its_spread(label):
    x = guided_samples(label, 1.0)
    means = exact_eps_model("eight_gaussians").means.float()
    nearest = torch.cdist(x, means).argmin(dim=1)
    assert (nearest == label).double().mean() >= 0.99
    # the class is N(μ_k, 0.12² I): per-coordinate std 0.12 ± 5 SE (SE of a std ≈ 0.12/√(2n))
    std = float(x[nearest == label].std(dim=0).mean())
    assert abs(std - 0.12) < 5 * 0.12 / math.sqrt(2 * 2000)


def test_larger_scales_concentrate_the_class():
    spreads = [float(guided_samples(1, w).std(dim=0).mean()) for w in (1.0, 3.0, 7.0)]
    assert spreads[0] > spreads[1] > spreads[2]


# --- the page ------------------------------------------------------------------------------------------------------
import re  # noqa: E402

from explorer.lessons.course import load_lessons  # noqa: E402
from explorer.ui.lessons.catalog import SPECS  # noqa: E402
from explorer.ui.views import guidance_runs as gr  # noqa: E402
from test_pages import assert_clean, metric, open_page  # noqa: E402


def lessons():
    return [step for lesson in load_lessons(SPECS)[0] for step in lesson.steps]


def test_the_page_shows_guidance_measured():
    at = open_page("guidance")
    assert_clean(at)
    assert len([c for c in at.get("plotly_chart") if c.key in ("g_exact", "g_network")]) == 2  # side by side
    assert len([c for c in at.get("plotly_chart") if c.key.startswith("field_")]) == 3
    # the metrics are the cached per-class measures, recomputed here
    from explorer.ui.views import guidance_runs as gr
    from explorer.ui.settings import ScheduleChoice
    sched = ScheduleChoice("linear", 1000, (("beta_start", 1e-4), ("beta_end", 0.02)))
    q = gr.class_quality("eight_gaussians", sched, 3.0, (1, 1000), 0)
    assert float(metric(at, "precision of 0°, exact")) == pytest.approx(q["precision"][0], abs=5e-4)
    assert float(metric(at, "recall of 0°, exact")) == pytest.approx(q["recall"][0], abs=5e-4)
    qn = gr.class_quality("eight_gaussians", sched, 3.0, (1, 1000), 0, "network")
    assert float(metric(at, "precision of 0°, network")) == pytest.approx(qn["precision"][0], abs=5e-4)
    # the caption's share of null-label examples is the one the shipped network was trained with
    import json
    from explorer.nets.checkpoints import PRETRAINED_DIR
    share = json.loads((PRETRAINED_DIR / "eight_gaussians_cond.json").read_text())["train_config"]["p_uncond"]
    assert any(f"null label on {share:.0%} of its examples" in c.value for c in at.caption)
    # the fields' caption: each score's mean length on the arrow grid at the default t = T / 20
    import numpy as np
    f = gr.fields_at("eight_gaussians", sched, 0, 3.0, 50)
    lengths = {k: np.linalg.norm(f[k], axis=-1).mean() for k in ("cond", "uncond", "guided")}
    caption = next(c.value for c in at.caption if "mean length on the arrow grid" in c.value)
    assert f"{lengths['cond']:.3g} for s_c, {lengths['uncond']:.3g} for s_u and {lengths['guided']:.3g}" in caption


@pytest.mark.slow
@pytest.mark.parametrize("params", [
    {"scale": 0.0, "T": 100}, {"data": "two_moons", "cls": 1, "T": 100, "scale": 10.0},
    {"data": "word", "cls": 8, "T": 60, "g_t": 1}, {"g_hi": 100, "g_lo": 50, "T": 100},
    {"g_hi": 10, "g_lo": 90, "T": 100},
])
def test_every_control_at_its_extremes(params):
    at = open_page("guidance", **params)
    assert_clean(at)
    assert at.get("plotly_chart")
    if "g_lo" in params and params["g_lo"] > params["g_hi"]:
        assert any("The interval is empty" in i.value for i in at.info)
    if params.get("g_lo") == 50:
        assert any("guided only for t in [50, 100]" in m.value for m in at.markdown)


@pytest.mark.parametrize("params, words", [({"cls": 12}, "'cls'"), ({"scale": 11}, "'scale'"),
                                           ({"data": "spiral"}, "'data'"), ({"scale": "lots"}, "'scale'")])
def test_bad_links_give_a_message_and_a_working_page(params, words):
    at = open_page("guidance", **params)
    assert_clean(at)
    assert any(words in w.value for w in at.warning), [w.value for w in at.warning]


def test_guidance_sharpens_the_classes_on_the_page():
    at = open_page("guidance", scale=10.0)
    caption = [c.value for c in at.caption if c.value.startswith("For 0°")][0]
    # one baseline, conditional sampling at w = 1, for precision and recall; w = 0 is named as conditioning's step
    m = re.search(r"from w = 1 to w = 10 precision goes ([\d.]+) → ([\d.]+) \(quality (\w+ ?\w*)\) and recall ([\d.]+) → "
                  r"([\d.]+) \(diversity (\w+ ?\w*)\)\. Unguided samples of the whole set \(w = 0\) score precision "
                  r"([\d.]+) for this class: the step from there to ([\d.]+) is conditioning", caption)
    assert m, caption
    p1, p10, p_word, r1, r10, r_word, p0, p1_again = m.groups()
    assert p1 == p1_again and float(p0) < 0.3 < float(p1)  # a class is one of 8: its share of unguided samples

    def words(a, b, up, down):  # two binomial standard errors of the difference of two shares of 250 samples
        a, b = float(a), float(b)
        return "barely moves" if abs(b - a) <= 2 * ((a * (1 - a) + b * (1 - b)) / 250) ** 0.5 else up if b > a else down
    assert p_word == words(p1, p10, "rises", "falls") and r_word == words(r1, r10, "rises", "falls")


@pytest.mark.parametrize("scale, follows", [(1.0, True), (3.0, False)])
def test_guided_samples_against_the_sharpened_density_use_a_measured_noise_level(scale, follows):
    """At w = 1 the sharpened density is p(x|c) and the guided samples are within 3 standard deviations of sampling
    noise (20 pairs of its samples); at w = 3 they sit far outside it. The lesson asks with the page's own cut."""
    at = open_page("guidance", scale=scale)
    assert_clean(at)
    floor, sd = (float(v) for v in metric(at, "two samples of the sharpened density").split(" ± "))
    sw = float(metric(at, "guided samples ↔ the sharpened density"))
    caption = next(c.value for c in at.caption if c.value.startswith("Guidance pushes"))
    z = float(re.search(r"are ([+−-][\d.]+) standard deviations", caption).group(1))
    assert z == pytest.approx((sw - floor) / sd, abs=0.1 + 0.0001 / sd * 2)  # from the rounded metrics
    assert ("they match it within sampling noise" in caption) is follows and (z < gr.NOISE_Z) is follows
    lesson = next(step for step in lessons() if step.view == "guidance.sharpened")
    assert lesson.measure == "noise_z" and lesson.predict.bounds == (gr.NOISE_Z,)
