"""Networks, checkpoints (safetensors + JSON, no pickle) and the training loop."""
import json
import math

import pytest
import torch

from explorer.nets.checkpoints import CheckpointError, load, save
from explorer.nets.models import EpsModel, MLP2D, MLPConfig, UNet8, UNetConfig, build
from explorer.nets.training import TrainConfig, train


def test_networks_are_eps_models_conditioned_on_the_noise_level():
    net = MLP2D(MLPConfig(hidden=32, n_layers=2))
    x = torch.randn(7, 2)
    mlp = EpsModel(net)
    # the noise level enters through FiLM layers that start at zero (a plain residual MLP) ...
    assert torch.allclose(mlp(x, 0.9), mlp(x, 0.1))
    with torch.no_grad():  # ... and matters as soon as training moves them
        net.emb[-1].weight.normal_(0, 0.1)
    assert mlp(x, 0.5).shape == (7, 2)
    per_sample = mlp(x, torch.linspace(0.01, 0.99, 7))
    assert per_sample.shape == (7, 2)
    # a shared level (the samplers' fast path, cached FiLM, bfloat16 products on CPUs that have
    # them) gives what passing the level per sample (float32 throughout) gives, to within
    # bfloat16's rounding: inputs rounded by ≤ 2^-9 relative, errors averaging over 128 terms
    shared, per_sample = mlp(x, 0.3), mlp(x, torch.full((7,), 0.3))
    assert (shared - per_sample).norm() <= 4e-3 * per_sample.norm()
    assert not torch.allclose(mlp(x, 0.9), mlp(x, 0.1))  # the noise level changes the output
    unet = EpsModel(UNet8(UNetConfig(channels=16)))
    imgs = torch.randn(3, 1, 8, 8)
    assert unet(imgs, 0.3).shape == (3, 1, 8, 8)
    assert torch.allclose(unet(imgs, 0.3), unet(imgs, torch.full((3,), 0.3)), atol=1e-5)


def test_checkpoint_round_trip(tmp_path):
    net = MLP2D(MLPConfig(hidden=32, n_layers=2, seed=3))
    save(net, tmp_path / "m", dataset="two_moons", training_steps=0, seed=3)
    model, meta = load(tmp_path / "m")
    x = torch.randn(5, 2)
    assert torch.allclose(model(x, 0.4), EpsModel(net)(x, 0.4))
    assert meta["dataset"] == "two_moons" and meta["kind"] == "mlp2d" and meta["config"]["hidden"] == 32


def test_checkpoint_errors_name_the_file(tmp_path):
    save(MLP2D(MLPConfig(hidden=32, n_layers=2)), tmp_path / "m")
    with pytest.raises(CheckpointError, match="nope.json: file not found"):
        load(tmp_path / "nope")
    (tmp_path / "m.safetensors").write_bytes(b"not safetensors at all")
    with pytest.raises(CheckpointError, match="m.safetensors: not a readable safetensors"):
        load(tmp_path / "m")
    save(MLP2D(MLPConfig(hidden=32, n_layers=2)), tmp_path / "m")
    meta = json.loads((tmp_path / "m.json").read_text())
    meta["config"]["hidden"] = 64
    (tmp_path / "m.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="has shape"):
        load(tmp_path / "m")
    (tmp_path / "m.json").write_text("{broken")
    with pytest.raises(CheckpointError, match="m.json: not valid JSON"):
        load(tmp_path / "m")


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="Unknown network kind"):
        build("transformer", {})


def test_training_lowers_the_loss_and_is_repeatable():
    cfg = TrainConfig("eight_gaussians", steps=150, batch=256, n_data=2000, seed=1)
    model_a, hist = train(cfg)
    assert hist["loss"][-1] < 0.8 * hist["loss"][0]
    model_b, _ = train(cfg)
    x = torch.randn(10, 2)
    assert torch.allclose(model_a(x, 0.5), model_b(x, 0.5))
    with pytest.raises(ValueError, match="Unknown data set"):
        train(TrainConfig("blobs"))


def test_training_noise_levels_cover_every_schedule_the_app_can_make():
    """Every ᾱ_t (t ≥ 1) the sliders can produce lies in the trained log-SNR range, or outside it
    where the clamp cannot matter: below, x_t is noise to within √ᾱ < 1e-4; above, x_t is data
    to within √(1−ᾱ) < 1e-3 (the network then sees the clamped level −20 or 14)."""
    import math
    from explorer.nets.models import LOG_SNR_RANGE
    from explorer.diffusion.schedules import make_schedule
    from explorer.ui.controls import BETA_GRID
    lo, hi = LOG_SNR_RANGE
    extremes = [{"beta": BETA_GRID[0]}, {"beta": BETA_GRID[-1]}]
    ranges = [{"beta_start": a, "beta_end": b} for a in (BETA_GRID[0], BETA_GRID[-1]) for b in (BETA_GRID[0], BETA_GRID[-1])]
    params = {"linear": ranges, "sigmoid": ranges, "constant": extremes, "geometric": extremes, "cosine": [{}]}
    for kind, options in params.items():
        for p in options:
            for T in (1, 2, 10, 1000, 5000):
                s = make_schedule(kind, T, **p)
                snr = s.log_snr[1:]
                above = snr > hi
                if above.any():
                    assert math.sqrt(float((1 - s.alphas_cumprod[1:][above]).max())) < 1e-3, (kind, T, p)
                below = snr < lo
                if below.any():
                    assert math.exp(0.5 * float(s.log_alphas_cumprod[1:][below].max())) < 1e-4, (kind, T, p)


def test_the_shared_level_path_follows_weight_updates():
    """at_level keeps FiLM vectors and rearranged weights between calls; an in-place update of any
    weight (an optimiser step, the EMA, load_state_dict) must reach its next result."""
    net = MLP2D(MLPConfig(hidden=32, n_layers=2))
    model, x = EpsModel(net), torch.randn(50, 2)

    def plain():
        with torch.no_grad():
            return net(x, torch.full((1,), math.log(0.3 / 0.7)))

    before = model(x, 0.3)
    for weight in (net.emb[-1].weight, net.layers[1].weight, net.inp.bias, net.out.weight):
        with torch.no_grad():
            weight.add_(torch.randn_like(weight) * 0.2)
        now = model(x, 0.3)
        assert (now - plain()).norm() <= 4e-3 * plain().norm()
        assert not torch.allclose(now, before)
        before = now
    net.load_state_dict(MLP2D(MLPConfig(hidden=32, n_layers=2, seed=5)).state_dict())
    assert (model(x, 0.3) - plain()).norm() <= 4e-3 * plain().norm()


def test_the_shared_level_path_is_safe_across_threads():
    """Streamlit sessions share one cached model and call it from their own threads: concurrent
    calls (reused scratch buffers, shared FiLM cache) give what one thread alone gives."""
    from concurrent.futures import ThreadPoolExecutor
    net = MLP2D(MLPConfig())
    with torch.no_grad():
        net.emb[-1].weight.normal_(0, 0.1)
    model = EpsModel(net)
    inputs = [(torch.randn(500 + 100 * (k % 3), 2, generator=torch.Generator().manual_seed(k)), 0.05 + 0.1 * (k % 9))
              for k in range(24)]
    alone = [model(x, ab) for x, ab in inputs]
    with ThreadPoolExecutor(4) as pool:
        for _ in range(5):
            together = list(pool.map(lambda args: model(*args), inputs))
            assert all(torch.equal(a, b) for a, b in zip(alone, together))
