"""On a machine with a CUDA GPU, the pages sample there — and give the same pictures as on the CPU.

Skipped without one (CI has none); run on the GPU machine with `pytest tests/test_gpu.py`.
"""
import numpy as np
import pytest
import torch

from explorer.common.device import device_of, from_anywhere

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def test_device_of_a_network_and_of_an_exact_score():
    """Runs on any machine: a network computes where its weights are, an exact score where its input is."""
    from explorer.nets.checkpoints import load_pretrained
    from explorer.data.datasets import eight_gaussians_mixture
    net = load_pretrained("eight_gaussians")[0]
    assert device_of(net, None) == torch.device("cpu")
    mixture = eight_gaussians_mixture()
    assert device_of(mixture, "anywhere") == "anywhere"
    assert from_anywhere(mixture) is mixture  # exact scores already follow their input


@cuda
def test_the_same_seed_gives_the_same_noise_on_the_gpu():
    from explorer.diffusion.forward import q_sample
    from explorer.diffusion.schedules import make_schedule
    from explorer.diffusion.steps import noise
    x = torch.zeros(500, 2)
    on_cpu = noise(x, torch.Generator().manual_seed(3))
    on_gpu = noise(x.cuda(), torch.Generator().manual_seed(3))
    assert on_gpu.device.type == "cuda" and torch.equal(on_gpu.cpu(), on_cpu)
    s = make_schedule("linear", 100)
    assert torch.equal(q_sample(x.cuda(), 50, s, generator=torch.Generator().manual_seed(4)).cpu(),
                       q_sample(x, 50, s, generator=torch.Generator().manual_seed(4)))


@cuda
@pytest.mark.parametrize("score", ["exact", "pretrained"])
def test_reverse_runs_compute_on_the_gpu_and_land_on_the_data(score):
    from explorer.ui.views import runs
    from explorer.ui import sources
    from explorer.ui.settings import DataChoice, ReverseChoice, ScheduleChoice
    assert sources.COMPUTE.type == "cuda"
    data, sched = DataChoice("eight_gaussians", 2000, 0), ScheduleChoice("linear", 1000)
    rev = ReverseChoice.make("ddpm", score=score)
    if score == "pretrained":
        assert next(sources.pretrained_model("eight_gaussians").net.parameters()).device.type == "cuda"
    res = runs._reverse_run(data, sched, rev)
    assert res["xs"].shape == (1001, 1000, 2) and not res["diverged"]
    assert res["sw"][-1] < 3 * res["sw_floor"]  # the network's bar in tests/test_pretrained.py is looser still


@cuda
def test_digits_sample_on_the_gpu():
    from explorer.ui.views import image_runs
    from explorer.ui.settings import DigitsChoice, ScheduleChoice
    rev = image_runs.reverse_digits(ScheduleChoice("cosine", 250), DigitsChoice(16, 0), "pretrained")
    assert rev["xs"].shape[1:] == (16, 1, 8, 8) and np.isfinite(rev["xs"]).all()
    assert not rev["diverged"]


@cuda
@pytest.mark.parametrize("page, params", [("reverse", {"score": "pretrained"}), ("score", {"score": "pretrained"}),
                                          ("images", {"view": "reverse"}), ("images", {"view": "inpainting"}),
                                          ("images", {"view": "variations"}), ("overview", {})])
def test_pages_run_on_the_gpu_and_say_so(page, params):
    from test_pages import assert_clean, open_page
    at = open_page(page, **params)
    assert_clean(at)
    shown = " ".join(c.value for c in at.sidebar.caption) + " ".join(i.value for i in at.info)
    assert "Computing on **cuda" in shown
