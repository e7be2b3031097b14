"""The settings objects: labels the pages show, hashable cache keys, options checked against the registry."""
import pytest

from explorer.ui.settings import DataChoice, ReverseChoice, ScheduleChoice


@pytest.mark.parametrize("choice,label", [
    (ReverseChoice.make("ddpm", variance="posterior"), "DDPM (σ² = β̃)"),
    (ReverseChoice.make("ddpm", variance="beta"), "DDPM (σ² = β)"),
    (ReverseChoice.make("ddim", eta=0.5, n_steps=20), "DDIM (η = 0.5, 20 steps)"),
    (ReverseChoice.make("ddim"), "DDIM (η = 0, T steps)"),
    (ReverseChoice.make("langevin", step_size="ncsn", epsilon=1e-4, n_corrector=1), "Langevin (ncsn rule, 0.0001, 1 per level)"),
    (ReverseChoice.make("langevin", step_size=0.01, n_corrector=3), "Langevin (α = 0.01, 3 per level)"),
    (ReverseChoice.make("langevin", step_size="snr", r=0.16, n_corrector=2), "Langevin (snr rule, 0.16, 2 per level)"),
    (ReverseChoice.make("ddpm", "pretrained", variance="posterior"), "DDPM (σ² = β̃), pretrained network"),
    (ReverseChoice.make("ddpm", "session:abc", variance="beta"), "DDPM (σ² = β), your network"),
])
def test_sampler_labels(choice, label):
    assert choice.label() == label


@pytest.mark.parametrize("choice,label", [
    (ScheduleChoice("linear", 1000, (("beta_start", 1e-4), ("beta_end", 0.02))), "linear β from 0.0001 to 0.02, T = 1000"),
    (ScheduleChoice("sigmoid", 50, (("beta_start", 1e-5), ("beta_end", 0.5))), "sigmoid β from 1e-05 to 0.5, T = 50"),
    (ScheduleChoice("geometric", 1000, (("beta", 0.02),)), "geometric β = 0.02, T = 1000"),
    (ScheduleChoice("constant", 10, (("beta", 0.5),)), "constant β = 0.5, T = 10"),
    (ScheduleChoice("cosine", 250), "cosine, T = 250"),
])
def test_schedule_labels_are_words_not_code(choice, label):
    """Titles and captions name a schedule in words (no `linear(beta_start=0.0001, …)` repr)."""
    assert choice.label() == label
    assert "_" not in label and "(" not in label


def test_choices_are_cache_keys_that_ignore_option_order():
    a = ReverseChoice.make("ddim", eta=0.5, n_steps=20)
    b = ReverseChoice.make("ddim", n_steps=20, eta=0.5)
    assert a == b and hash(a) == hash(b) and a.kwargs() == {"eta": 0.5, "n_steps": 20}
    assert len({a, b, ReverseChoice.make("ddim", eta=0.5, n_steps=21)}) == 2
    mine = DataChoice("yours", 100, 0, upload_key="k1")
    assert mine != DataChoice("yours", 100, 0, upload_key="k2")  # two uploads are two data sets
    assert ScheduleChoice("constant", 10, (("beta", 0.5),)).build().alpha_bar_T == pytest.approx(0.5 ** 10)


def test_unknown_samplers_and_options_are_refused_with_a_message():
    with pytest.raises(ValueError, match="Unknown sampler"):
        ReverseChoice.make("euler_maruyama").label()
    with pytest.raises(ValueError, match="takes eta, n_steps, clip_x0; not alpha"):
        ReverseChoice.make("ddim", alpha=0.1).kwargs()
