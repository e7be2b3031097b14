"""Parity with diffusers where both define the same thing: β schedules and a DDIM η = 0 trajectory.

Index translation: diffusers counts timesteps k = 0..T−1 where we count t = 1..T, so its
alphas_cumprod[k] is our ᾱ_{k+1}, and its final "previous" ᾱ (set_alpha_to_one) is our ᾱ_0 = 1.
"""
import pytest
import torch

from explorer.data.datasets import eight_gaussians_mixture
from explorer.diffusion.samplers import ddim_sample, record
from explorer.diffusion.schedules import make_schedule

diffusers = pytest.importorskip("diffusers")


def test_linear_betas_match_diffusers():
    ours = make_schedule("linear", 1000, beta_start=1e-4, beta_end=0.02)
    theirs = diffusers.DDPMScheduler(num_train_timesteps=1000, beta_start=1e-4, beta_end=0.02,
                                     beta_schedule="linear")
    # diffusers builds betas in float32: agreement to float32 rounding
    assert torch.allclose(ours.betas[1:].float(), theirs.betas, rtol=0, atol=1e-8)
    assert torch.allclose(ours.alphas_cumprod[1:].float(), theirs.alphas_cumprod, rtol=1e-5, atol=0)


@pytest.mark.parametrize("T", [50, 1000])
def test_cosine_betas_match_diffusers_squaredcos_cap_v2(T):
    ours = make_schedule("cosine", T)  # Nichol & Dhariwal eq. 17, s = 0.008, β clipped at 0.999
    theirs = diffusers.DDPMScheduler(num_train_timesteps=T, beta_schedule="squaredcos_cap_v2")
    assert torch.allclose(ours.betas[1:].float(), theirs.betas, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("n_steps", [1000, 50])
def test_ddim_eta0_trajectory_and_x0_match_diffusers(n_steps):
    """The same ε model driven by our ddim_sample and by diffusers' DDIMScheduler (η = 0, no clipping,
    'trailing' spacing, which puts its respaced steps where ours are: T, T − T/n, …, T/n → 0)."""
    T = 1000
    s = make_schedule("linear", T)
    gm = eight_gaussians_mixture()
    eps_model = lambda x, ab: gm.eps(x, ab)
    x_T = torch.randn(500, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)

    ours = record(ddim_sample(eps_model, s, x_T, eta=0.0, n_steps=n_steps))
    sched = diffusers.DDIMScheduler(num_train_timesteps=T, beta_schedule="linear", beta_start=1e-4, beta_end=0.02,
                                    clip_sample=False, set_alpha_to_one=True, timestep_spacing="trailing")
    sched.set_timesteps(n_steps)
    # their update with our float64 ᾱ (their own float32 ᾱ agrees to 1e-5, checked next), so what is
    # compared is the DDIM update itself, to float64 rounding
    sched.alphas_cumprod = ours_alphas = s.alphas_cumprod[1:].clone()
    assert torch.allclose(ours_alphas.float(), diffusers.DDIMScheduler(
        num_train_timesteps=T, beta_schedule="linear", beta_start=1e-4, beta_end=0.02).alphas_cumprod, rtol=1e-5)
    x, xs, x0s, times = x_T, [], [], []
    for k in sched.timesteps.tolist():
        out = sched.step(eps_model(x, float(ours_alphas[k])), k, x, eta=0.0)
        x = out.prev_sample
        xs.append(x), x0s.append(out.pred_original_sample), times.append(k)  # k is our t = k + 1
    assert [k + 1 for k in times] == [t for t in range(T, 0, -T // n_steps)]
    assert ours.times == [k + 1 - T // n_steps for k in times]
    assert torch.allclose(ours.xs, torch.stack(xs), rtol=1e-9, atol=1e-9)
    assert torch.allclose(ours.x0s, torch.stack(x0s), rtol=1e-9, atol=1e-9)
