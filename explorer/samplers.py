"""Reverse-time samplers as generators that yield every step.

One loop (`_run`) drives a step function per sampler; it checks every new state for
divergence (a non-finite value or a runaway norm) and, if it finds one, yields a last step
marked `diverged` with a message naming the step, then stops. Nothing raises mid-run.

- DDPM ancestral (Ho et al. 2020, Algorithm 2 / eq. 11):
  x_{t−1} = (x_t − β_t/√(1−ᾱ_t) ε̂) / √α_t + σ_t z,  σ_t² = β̃_t (default) or β_t.
- DDIM (Song, Meng & Ermon 2021, eq. 12), on a possibly respaced grid τ:
  x_{τ'} = √ᾱ_{τ'} x̂_0 + √(1−ᾱ_{τ'}−σ²) ε̂ + σ z,  σ = η √((1−ᾱ_{τ'})/(1−ᾱ_τ)) √(1−ᾱ_τ/ᾱ_{τ'}).
- Annealed Langevin in the source text's form x ← x + α_t s_t(x) + √(2α_t) ζ, with
  s_t = −ε̂/√(1−ᾱ_t), n_corrector steps at each noise level t = T..1 (Song & Ermon 2019).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real
from typing import Callable, Collection, Iterable, Iterator, Mapping

import torch

from .checks import whole_number
from .forward import q_sample
from .schedules import NoiseSchedule, respaced_timesteps
from .scores import tweedie_x0

CLIP_2D = 2.5  # a network's x̂_0 is clipped to ±2.5 on the 2D sets, which live in [−2, 2]²
CLIP_DIGITS = 1.0  # digits live in [−1, 1]
DIVERGENCE_FACTOR = 50.0  # runaway: |x| beyond 50 × (1 + max|x_T|); data live within a few units
NCSN_EPSILON = 2e-5  # ε in Song & Ermon 2019 (NCSN), α_t = ε (1−ᾱ_t)/(1−ᾱ_1)
SNR_DEFAULT = 0.16  # r in Song et al. 2021 (score SDE), Algorithm 5, for CIFAR-10 VP
STEP_RULES = ("ncsn", "snr")
MAX_CORRECTOR = 1000  # Langevin steps per noise level
MAX_LANGEVIN_STEPS = 100_000  # Langevin steps at one noise level


@dataclass
class Step:
    """One yielded state: x at time t (x_t) and the model's estimate of x_0 from it."""

    t: int
    x: torch.Tensor
    pred_x0: torch.Tensor
    diverged: bool = False
    message: str = ""


MORE_STEPS = "Try more steps (a smaller β per step)."
SMALLER_ALPHA = "Try a smaller step size α; more steps at the same α do not help."


def _run(step_fn: Callable, pairs: list[tuple[int, int]], x_T: torch.Tensor, factor: float,
         name_step: Callable[[int, int], str] = lambda t, t_next: f"step t = {t} → {t_next}",
         advice: str = MORE_STEPS) -> Iterator[Step]:
    """Drive step_fn(x, t, t_next) -> (x_next, pred_x0) over (t, t_next) pairs; advice ends a divergence message."""
    x = x_T
    limit = factor * (1.0 + float(x_T.abs().max()))
    for t, t_next in pairs:
        x, pred_x0 = step_fn(x, t, t_next)
        peak = float(x.abs().max()) if x.numel() else 0.0  # NaN propagates through max
        if not math.isfinite(peak) or peak > limit:
            why = "non-finite values (NaN or inf)" if not math.isfinite(peak) else \
                f"|x| reached {peak:.3g}, beyond {limit:g}"
            yield Step(t_next, x, pred_x0, diverged=True,
                       message=f"Diverged at {name_step(t, t_next)}: {why}. "
                               f"{advice}")
            return
        yield Step(t_next, x, pred_x0)


def _check_x(x_T: torch.Tensor) -> None:
    if not isinstance(x_T, torch.Tensor) or not x_T.is_floating_point():
        raise ValueError("x_T must be a floating-point tensor.")
    if not torch.isfinite(x_T).all():
        raise ValueError("x_T contains NaN or inf; start from finite values (e.g. N(0, I) noise).")


def _check_clip(clip_x0) -> None:
    if clip_x0 is not None and (isinstance(clip_x0, bool) or not isinstance(clip_x0, Real) or not clip_x0 > 0):
        raise ValueError(f"clip_x0 must be a positive number or None; got {clip_x0!r}.")


def _noise(x: torch.Tensor, generator) -> torch.Tensor:
    return torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)


def _ddpm_step(eps_model: Callable, s: NoiseSchedule, generator, variance: str, clip_x0: float | None):
    """The DDPM update x_t → x_{t−1} as a step function for _run."""
    betas = s.betas.tolist()
    ab = s.alphas_cumprod.tolist()
    coef1, coef2 = s.posterior_mean_coef1.tolist(), s.posterior_mean_coef2.tolist()
    sigma = (s.posterior_variance if variance == "posterior" else s.betas).sqrt().tolist()
    # β_t/√(1−ᾱ_t) from the schedule's 1 − ᾱ_t, computed without cancellation: 1.0 − ᾱ_t in floats is 0
    # where β_t is below 1e-16 (e.g. the geometric schedule's first steps), and β_t/0 would fail
    eps_coef = torch.where(s.betas > 0, s.betas / s.sqrt_one_minus_alphas_cumprod.clamp_min(1e-300),
                           torch.zeros_like(s.betas)).tolist()

    def step(x, t, _):
        eps = eps_model(x, ab[t])
        x0 = tweedie_x0(x, eps, ab[t])
        if clip_x0 is None:
            # 1. mean of p(x_{t−1} | x_t): (x_t − β_t/√(1−ᾱ_t) ε̂) / √α_t (DDPM eq. 11)
            mean = (x - eps_coef[t] * eps) * (1.0 / math.sqrt(1.0 - betas[t]))
        else:
            # 1'. the same mean through the clipped x̂_0: coef1 x̂_0 + coef2 x_t (DDPM eq. 7)
            x0 = x0.clamp(-clip_x0, clip_x0)
            mean = coef1[t] * x0 + coef2[t] * x
        # 2. add σ_t z, except on the last step (DDPM Algorithm 2: z = 0 when t = 1)
        if t > 1:
            mean.add_(_noise(x, generator), alpha=sigma[t])
        return mean, x0

    return step


def ddpm_sample(eps_model: Callable, s: NoiseSchedule, x_T: torch.Tensor,
                generator: torch.Generator | None = None, variance: str = "posterior",
                clip_x0: float | None = None, t_start: int | None = None,
                divergence_factor: float = DIVERGENCE_FACTOR) -> Iterator[Step]:
    """Ancestral sampling of p(x_{t−1} | x_t) for t = T..1; yields x_{T−1}, ..., x_0.

    clip_x0 = c clamps x̂_0 to [−c, c] and takes the mean from the posterior q(x_{t−1} | x_t, x̂_0)
    (DDPM eq. 7), as DDPM does for images: it tames steps with β_t near 1, where dividing by
    √α_t amplifies any error in ε̂. t_start = t₀ < T starts from x_T given as an x_{t₀}
    (e.g. a real image noised to t₀: a variation of it) and runs t = t₀..1.
    """
    _check_x(x_T)
    t_start = s.T if t_start is None else whole_number(t_start, "t_start", 1, s.T, hi_name=f"T = {s.T}")
    if variance not in ("posterior", "beta"):
        raise ValueError(f"variance must be 'posterior' (σ_t² = β̃_t) or 'beta' (σ_t² = β_t); "
                         f"got {variance!r}.")
    _check_clip(clip_x0)
    step = _ddpm_step(eps_model, s, generator, variance, clip_x0)
    yield from _run(step, [(t, t - 1) for t in range(t_start, 0, -1)], x_T, divergence_factor)


def inpaint_sample(eps_model: Callable, s: NoiseSchedule, x_known: torch.Tensor, known: torch.Tensor,
                   x_T: torch.Tensor, generator: torch.Generator | None = None,
                   clip_x0: float | None = None) -> Iterator[Step]:
    """Inpainting by replacement: DDPM on the unknown pixels, the known ones re-noised from the original.

    After each step to t−1, the pixels where `known` is True are replaced by a fresh draw of
    q(x_{t−1} | x_0 = x_known) (DDPM eq. 4), so the sampler only has to fill in the rest in a way
    that fits them. At t = 0 the known pixels equal x_known exactly.
    """
    _check_x(x_T)
    if x_known.shape != x_T.shape:
        raise ValueError(f"x_known has shape {tuple(x_known.shape)}; x_T has {tuple(x_T.shape)}.")
    _check_clip(clip_x0)
    known = torch.as_tensor(known, dtype=torch.bool, device=x_T.device).expand_as(x_T)
    ddpm = _ddpm_step(eps_model, s, generator, "posterior", clip_x0)

    def step(x, t, t_next):
        x_next, x0 = ddpm(x, t, t_next)
        return torch.where(known, q_sample(x_known, t_next, s, generator=generator), x_next), x0

    start = torch.where(known, q_sample(x_known, s.T, s, generator=generator), x_T)
    yield from _run(step, [(t, t - 1) for t in range(s.T, 0, -1)], start, DIVERGENCE_FACTOR)

def ddim_sample(eps_model: Callable, s: NoiseSchedule, x_T: torch.Tensor, eta: float = 0.0,
                generator: torch.Generator | None = None, n_steps: int | None = None,
                clip_x0: float | None = None,
                divergence_factor: float = DIVERGENCE_FACTOR) -> Iterator[Step]:
    """DDIM (eq. 12) from τ_S = T to τ_0 = 0 in n_steps steps (default T); η = 1 ≈ DDPM.

    clip_x0 = c clamps x̂_0 to [−c, c] and re-derives ε̂ from it, so both terms of eq. 12 agree.
    """
    _check_x(x_T)
    _check_clip(clip_x0)
    if isinstance(eta, bool) or not isinstance(eta, Real) or not 0.0 <= float(eta) <= 1.0 \
            or math.isnan(eta):
        raise ValueError(f"η must be a number in [0, 1] (0: deterministic DDIM, 1: DDPM-like); got {eta!r}.")
    taus = respaced_timesteps(s.T, n_steps)
    ab = s.alphas_cumprod.tolist()
    log_ab = s.log_alphas_cumprod.tolist()  # ᾱ_τ/ᾱ_τ' in log space: finite even where ᾱ underflows to 0

    def step(x, t, t_next):
        eps = eps_model(x, ab[t])
        x0 = tweedie_x0(x, eps, ab[t])
        a, a_next = ab[t], ab[t_next]
        if clip_x0 is not None:
            x0 = x0.clamp(-clip_x0, clip_x0)
            eps = (x - math.sqrt(a) * x0) / math.sqrt(max(1.0 - a, 1e-12))
        ratio = math.exp(log_ab[t] - log_ab[t_next])  # ᾱ_τ / ᾱ_τ' ≤ 1
        sig = eta * math.sqrt(max((1 - a_next) / (1 - a) * (1 - ratio), 0.0)) if a < 1 else 0.0
        out = math.sqrt(a_next) * x0 + math.sqrt(max(1 - a_next - sig ** 2, 0.0)) * eps
        if sig > 0 and t_next > 0:
            out.add_(_noise(x, generator), alpha=sig)
        return out, x0

    yield from _run(step, list(zip(taus[:-1], taus[1:])), x_T, divergence_factor)


def _check_positive(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not value > 0 or not math.isfinite(value):
        raise ValueError(f"{what} must be a positive number; got {value!r}.")
    return float(value)


def langevin_step_sizes(s: NoiseSchedule, step_size, epsilon: float = NCSN_EPSILON) -> list | str:
    """α_t for t = 0..T (index t) from a constant, a callable t -> α_t or a named rule.

    "ncsn": α_t = ε (1−ᾱ_t)/(1−ᾱ_1) (Song & Ermon 2019).
    "snr": computed from the score's norm at each step (Song et al. 2021, Alg. 5); returned
    as the string "snr" because it depends on x.
    """
    if isinstance(step_size, str):
        if step_size not in STEP_RULES:
            raise ValueError(f"Unknown step-size rule {step_size!r}; use a number, a function of t, "
                             f"or one of {', '.join(STEP_RULES)}.")
        if step_size == "snr":
            return "snr"
        eps = _check_positive(epsilon, "The NCSN rule's ε")
        one_minus = (s.sqrt_one_minus_alphas_cumprod ** 2).tolist()  # 1 − ᾱ_t without cancellation
        return [0.0] + [eps * one_minus[t] / one_minus[1] for t in range(1, s.T + 1)]
    if callable(step_size):
        sizes = [0.0] + [step_size(t) for t in range(1, s.T + 1)]
    else:
        sizes = [0.0] + [step_size] * s.T
    return [0.0] + [_check_step(a, f" at t = {t}") for t, a in enumerate(sizes[1:], start=1)]


def ncsn_stable_epsilon(s: NoiseSchedule) -> float:
    """2(1 − ᾱ_1): below it, the NCSN rule's α_t = ε(1−ᾱ_t)/(1−ᾱ_1) stays under 2(1 − ᾱ_t) at every level t,
    and every bump of q_t has a variance of at least 1 − ᾱ_t, so no level exceeds the one-Gaussian limit 2v."""
    return 2.0 * float(s.sqrt_one_minus_alphas_cumprod[1]) ** 2


def _check_step(a, where: str = "") -> float:
    """a as a float if it is a usable Langevin step size α > 0; ValueError otherwise."""
    if isinstance(a, bool) or not isinstance(a, Real) or math.isnan(a) or not 0 < a < math.inf:
        raise ValueError(f"The Langevin step size α must be a positive number; {where.strip() or 'it'} is {a!r}.")
    return float(a)


def langevin_sample(eps_model: Callable, s: NoiseSchedule, x_T: torch.Tensor, step_size,
                    n_corrector: int = 1, generator: torch.Generator | None = None,
                    epsilon: float = NCSN_EPSILON, r: float = SNR_DEFAULT,
                    divergence_factor: float = DIVERGENCE_FACTOR) -> Iterator[Step]:
    """Annealed Langevin: at each level t = T..1, n_corrector steps x ← x + α_t s_t(x) + √(2α_t) ζ.

    step_size: a constant α, a callable t -> α_t, "ncsn" (α_t = ε (1−ᾱ_t)/(1−ᾱ_1), ε = epsilon)
    or "snr" (α_t from the signal-to-noise ratio r, Song et al. 2021, Algorithm 5).
    Following the source text's x_{t−1} = x_t + α_t s_t(x_t) + √(2α_t) ζ, the state after
    level t is yielded as step t − 1, so the run ends at t = 0 like the other samplers.
    """
    _check_x(x_T)
    n_corrector = whole_number(n_corrector, "The number of Langevin steps per noise level", 1, MAX_CORRECTOR)
    sizes = langevin_step_sizes(s, step_size, epsilon)
    r = _check_positive(r, "The signal-to-noise ratio r")
    ab = s.alphas_cumprod.tolist()
    alphas = s.alphas.tolist()

    def step(x, t, _):
        noise_std = math.sqrt(max(1.0 - ab[t], 1e-12))
        for _k in range(n_corrector):
            eps = eps_model(x, ab[t])
            score = eps * (-1.0 / noise_std)  # s_t(x) = −ε̂/√(1−ᾱ_t)
            z = _noise(x, generator)
            if sizes == "snr":  # α = 2 α_t (r ‖z‖ / ‖s‖)² (Song et al. 2021, Algorithm 5)
                flat = lambda v: v.reshape(v.shape[0], -1).norm(dim=1).mean()
                a = float(2 * alphas[t] * (r * flat(z) / flat(score).clamp_min(1e-12)) ** 2)
            else:
                a = sizes[t]
            x = x + a * score + math.sqrt(2 * a) * z
        return x, tweedie_x0(x, eps_model(x, ab[t]), ab[t])  # x̂_0 from the state reached

    yield from _run(step, [(t, t - 1) for t in range(s.T, 0, -1)], x_T, divergence_factor, advice=SMALLER_ALPHA)


def langevin_fixed(eps_model: Callable, alpha_bar: float, x_init: torch.Tensor, step_size: float,
                   n_steps: int, generator: torch.Generator | None = None,
                   divergence_factor: float = DIVERGENCE_FACTOR) -> Iterator[Step]:
    """Langevin at one noise level: n_steps of x ← x + α s(x) + √(2α) ζ, s = −ε̂/√(1−ᾱ).

    Its stationary law is q_ᾱ for small α; too large an α (beyond about twice the narrowest
    variance of q_ᾱ) makes the iteration explode, which is detected and reported.
    Yields after each iteration k = 1..n_steps (Step.t holds k).
    """
    _check_x(x_init)
    n_steps = whole_number(n_steps, "The number of Langevin steps", 1, MAX_LANGEVIN_STEPS)
    if isinstance(alpha_bar, bool) or not isinstance(alpha_bar, Real) or not 0.0 < float(alpha_bar) < 1.0:
        raise ValueError(f"ᾱ must lie strictly between 0 and 1 for a noise level; got {alpha_bar!r}.")
    a = _check_step(step_size)
    noise_std = math.sqrt(1.0 - alpha_bar)

    def step(x, k, _):
        eps = eps_model(x, alpha_bar)
        x_new = x + (-a / noise_std) * eps + math.sqrt(2 * a) * _noise(x, generator)
        return x_new, tweedie_x0(x, eps, alpha_bar)

    yield from _run(step, [(k, k + 1) for k in range(n_steps)], x_init, divergence_factor,
                    name_step=lambda k, k_next: f"Langevin step {k_next} of {n_steps}", advice=SMALLER_ALPHA)


@dataclass(frozen=True)
class Run:
    """The states a sampler went through: xs[i] is x at times[i], x0s[i] the x̂_0 made on the step to it.

    last is the sampler's last step: the sample, or the state where it diverged.
    """

    times: list[int]
    xs: torch.Tensor  # (K, *x.shape)
    x0s: torch.Tensor  # (K, *x.shape)
    last: Step

    @property
    def diverged(self) -> bool:
        return self.last.diverged

    @property
    def message(self) -> str:
        return self.last.message


def record(steps: Iterable[Step], start: tuple[int, torch.Tensor] | None = None,
           keep: int | Collection[int] = 1, progress: Callable[[int], None] | None = None) -> Run:
    """Run a sampler to its end and keep the states asked for; the last step is always kept.

    start = (t, x) puts the starting state first (its x̂_0 is x itself: no guess yet).
    keep = k keeps every k-th step (1: all; 0: the last only); a collection of times keeps the
    steps whose t is in it. progress(i) is called after the i-th step.
    """
    every = keep if isinstance(keep, int) else None
    at = None if every is not None else frozenset(int(t) for t in keep)
    times, xs, x0s = [], [], []
    if start is not None:
        times.append(int(start[0])), xs.append(start[1]), x0s.append(start[1])
    last, kept = None, False
    for i, last in enumerate(steps, start=1):
        kept = (last.t in at) if at is not None else (every > 0 and i % every == 0)
        if kept:
            times.append(last.t), xs.append(last.x), x0s.append(last.pred_x0)
        if progress is not None:
            progress(i)
    if last is None:
        raise ValueError("The sampler yielded no steps.")
    if not kept:
        times.append(last.t), xs.append(last.x), x0s.append(last.pred_x0)
    return Run(times, torch.stack(xs), torch.stack(x0s), last)


def run_to_end(steps: Iterable[Step]) -> Step:
    """Exhaust a sampler and return its last step (the sample, or where it diverged)."""
    return record(steps, keep=0).last


# --- the registry every page goes through ------------------------------------------------

@dataclass(frozen=True)
class SamplerEntry:
    """A sampler as the app offers it: function(eps_model, s, x_T, generator=..., **options)."""

    function: Callable[..., Iterator[Step]]
    label: str  # its name in the app
    options: tuple[str, ...]  # the keyword options the app may pass
    steps: Callable[[int, Mapping], int]  # steps a run yields on a schedule of T steps, given the options
    evaluations: Callable[[int, Mapping], int]  # network evaluations for a run of n steps, given the options
    describe: Callable[[Mapping], str]  # a short label with the options' values

    def kwargs(self, options: Mapping) -> dict:
        """The options this sampler takes, ValueError for any other."""
        unknown = set(options) - set(self.options)
        if unknown:
            raise ValueError(f"{self.label} takes {', '.join(self.options)}; not {', '.join(sorted(unknown))}.")
        return dict(options)


def _describe_langevin(o: Mapping) -> str:
    size = o.get("step_size", "ncsn")
    if size == "ncsn":
        rule = f"ncsn rule, {o.get('epsilon', NCSN_EPSILON):g}"
    elif size == "snr":
        rule = f"snr rule, {o.get('r', SNR_DEFAULT):g}"
    else:
        rule = f"α = {size:g}"
    return f"Langevin ({rule}, {o.get('n_corrector', 1)} per level)"


SAMPLERS: dict[str, SamplerEntry] = {
    "ddpm": SamplerEntry(
        ddpm_sample, "DDPM (ancestral)", ("variance", "clip_x0"),
        steps=lambda T, o: T, evaluations=lambda n, o: n,
        describe=lambda o: f"DDPM (σ² = {'β' if o.get('variance') == 'beta' else 'β̃'})"),
    "ddim": SamplerEntry(
        ddim_sample, "DDIM", ("eta", "n_steps", "clip_x0"),
        steps=lambda T, o: len(respaced_timesteps(T, o.get("n_steps"))) - 1, evaluations=lambda n, o: n,
        describe=lambda o: f"DDIM (η = {o.get('eta', 0.0):g}, {o.get('n_steps') or 'T'} steps)"),
    "langevin": SamplerEntry(
        langevin_sample, "Annealed Langevin", ("step_size", "epsilon", "r", "n_corrector"),
        steps=lambda T, o: T,
        evaluations=lambda n, o: n * (o.get("n_corrector", 1) + 1),  # + 1: x̂_0 from the state reached
        describe=_describe_langevin),
}
