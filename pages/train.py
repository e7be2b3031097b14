"""Train your own: fit the 2D ε network live on a toy set, a typed word or your own CSV points."""
from pathlib import Path

import numpy as np
import streamlit as st
import torch

from explorer.draw import figures
from explorer.data.datasets import (CSV_MAX_BYTES, CSV_MAX_POINTS, CSV_MIN_POINTS, DEFAULT_WORD, TOY_2D, WORD_MAX_CHARS,
                                    check_word, points_from_csv, toy_2d)
from explorer.nets.models import LOG_SNR_RANGE, MLPConfig
from explorer.diffusion.schedules import make_schedule
from explorer.common.streams import STREAMS
from explorer.nets.training import FLOOR_DRAWS, TrainConfig, sample_log_snr
from explorer.ui import controls, layout, session, state, uploads
from explorer.ui.settings import YOURS
from explorer.ui.views.trainjob import SNAPSHOT_EVERY, SNAPSHOT_POINTS, SNAPSHOT_SCHEDULE, TrainJob

SHOWN = 1500  # data points drawn behind the samples
POLL_S = 0.8  # how often the page looks at a running job
HERE = Path(__file__).resolve().parent


@st.cache_data(max_entries=8, show_spinner=False)
def training_points(name: str, word: str) -> np.ndarray:
    return toy_2d(name, TrainConfig.n_data, seed=STREAMS["data"].seed(0), word=word).numpy()


layout.header(
    "Train your own",
    "Fit the explorer's 2D ε network — Fourier features of x, a noise-level embedding, residual layers of "
    f"{MLPConfig.hidden} — "
    "by denoising score matching: draw a data point x₀, a noise level ᾱ and noise ε, and teach the network to "
    "recover ε from √ᾱ x₀ + √(1−ᾱ) ε. Watch the loss fall and the samples take shape; stop whenever you like. "
    "The network is then offered as **your network** on the Reverse sampling and Score & Langevin pages.")

# --- what to train on ------------------------------------------------------------------------
st.sidebar.header("Data")
source = state.choice("Train on", "tr_source", ["builtin", "csv"], "builtin", where=st.sidebar, widget="radio",
                      format_func={"builtin": "a built-in set or a word", "csv": "your own points (CSV)"}.get)
points = None
if source == "builtin":
    name = state.choice("Data set", "tr_data", list(TOY_2D), "word", where=st.sidebar,
                        format_func=lambda k: controls.PRETTY.get(k, k))
    word = DEFAULT_WORD
    if name == "word":
        typed = state.text("Word", "tr_word", "HELLO", where=st.sidebar, max_chars=WORD_MAX_CHARS,
                           help=f"Up to {WORD_MAX_CHARS} characters.")
        try:
            word = check_word(typed)
        except ValueError as err:
            st.sidebar.error(f"{err} Using {DEFAULT_WORD!r} instead.")
    with layout.friendly_errors("draw this data set"):
        points = torch.from_numpy(training_points(name, word))
    dataset = name
    label = f"the word {word!r}" if name == "word" else controls.PRETTY.get(name, name)
else:
    upload = uploads.uploader("CSV file: two columns x, y (a header row is fine)",
                              f"CSV text, {CSV_MIN_POINTS}–{CSV_MAX_POINTS:,} points", CSV_MAX_BYTES, key="tr_upload",
                              where=st.sidebar, help="The points are shifted and scaled into the explorer's box.")
    dataset, word, label = YOURS, "", ""
    if upload is None:
        st.info("Choose a CSV file of points in the sidebar — or switch to a built-in set or a word.",
                icon=":material/upload_file:")
    else:
        try:
            points, note = points_from_csv(upload.getvalue())
            label = upload.name
            st.sidebar.success(note)
        except ValueError as err:
            st.error(f"Cannot use {upload.name}: {err}", icon=":material/error:")

st.sidebar.header("Training")
steps = state.slider("Optimiser steps", "tr_steps", 200, 10_000, 3000, step=100, where=st.sidebar,
                     help="One batch each; 3,000 is plenty for the built-in sets. The bar shows the pace on this server.")
seed = state.slider("Seed", "tr_seed", 0, 99, 0, where=st.sidebar, help="Same seed, same network.")


def start(cfg: TrainConfig, job_points, dataset: str, word: str, job_label: str) -> None:
    st.session_state["train_job"] = TrainJob(cfg, job_points, dataset, word, job_label).start()


def samples_figure(job: TrainJob | None, data_pts: np.ndarray):
    layers = [(data_pts[:SHOWN], figures.DATA, "training data")]
    title = "Training data"
    if job is not None and job.snapshots:
        step, x = job.snapshots[-1]
        kind, T = SNAPSHOT_SCHEDULE
        layers.append((np.clip(x, -figures.LIM, figures.LIM), figures.STATE, f"samples (DDPM, {kind} T = {T})"))
        title = f"Samples from the network after {step:,} steps"
    return figures.cloud_snapshot(layers, title, height=520)


job: TrainJob | None = st.session_state.get("train_job")
running = job is not None and job.running

c_start, c_note = st.columns([1, 3], vertical_alignment="center")
with c_start:
    label_now = label or "your points"
    # uploaded points train the network from scratch; the config's data set only names the recipe
    config = TrainConfig(dataset=dataset if dataset != YOURS else "two_moons", word=word, steps=int(steps),
                         seed=int(seed))
    st.button("▶ Start training", type="primary", disabled=running or points is None, width="stretch",
              on_click=start, args=(config, points, dataset, word, f"{label_now}, {steps:,} steps"), key="tr_start")
with c_note:
    if points is not None and not running:
        st.caption(f"Trains on {len(points):,} points of {label_now} for {steps:,} steps; samples are drawn every "
                   f"{SNAPSHOT_EVERY} steps. {session.TAB_ONLY}")


@st.fragment(run_every=POLL_S if running else None)
def live(points) -> None:
    """Progress, loss and samples of the current job (or the points it would train on); polls while it runs."""
    job: TrainJob | None = st.session_state.get("train_job")
    if job is None:
        if points is not None:
            left, right = st.columns([3, 2], gap="large")
            layout.chart(left, samples_figure(None, points.numpy()), width="stretch", key="tr_samples")
            right.markdown("**What you will see.** Press *Start training*: the loss curve appears here and, every "
                           f"{SNAPSHOT_EVERY} steps, {SNAPSHOT_POINTS:,} samples drawn with the network so far replace the "
                           "picture on the left — first a blurry cloud, then the shape of the data. "
                           "*Stop* ends training early and keeps the network as it is.")
        return
    if job.running:
        done = job.steps[-1] if job.steps else 0
        st.progress(done / job.config.steps, text=f"Training on {job.label}: step {done:,} of "
                                                  f"{job.config.steps:,}, {job.elapsed:.0f} s")
        st.button("■ Stop", on_click=job.stop, key="tr_stop", help="Stop now and keep the network trained so far.")
    elif job.status == "failed":
        st.error(f"Training failed: {job.error}")
    else:
        if job.registered_key is None:
            session.collect_finished_job()
            st.rerun()  # the whole page: polling stops, the sidebar and page links update
        how = "stopped early" if job.status == "stopped" else "finished"
        st.success(f"**Your network is ready** ({how} after {job.steps[-1] if job.steps else 0:,} steps, "
                   f"{job.elapsed:.1f} s). On the pages below pick **Score: your network**"
                   + (" with the data set **your points**." if job.dataset == YOURS else
                      f" with the data set **{controls.PRETTY.get(job.dataset, job.dataset)}**"
                      + (f" and the word **{job.word}**." if job.dataset == "word" else ".")),
                   icon=":material/check_circle:")
        mine = session.get(job.registered_key)
        if mine is None:
            st.warning("Your network is no longer in memory (many networks were trained since); train it again.")
        else:
            st.caption(session.TAB_ONLY)
            l1, l2 = st.columns(2)
            l1.page_link(str(HERE / "reverse.py"), label="Reverse sampling with your network", icon=":material/replay:",
                         query_params=session.link_params(mine))
            l2.page_link(str(HERE / "score.py"), label="Its score field next to the exact one",
                         icon=":material/explore:", query_params=session.link_params(mine))
    left, right = st.columns([3, 2], gap="large")
    with left:
        layout.chart(st, samples_figure(job, job.points.numpy()), width="stretch", key="tr_samples")
    with right:
        if job.steps:
            fig = figures.loss_curve(np.array(job.steps), np.array(job.losses), floor=job.floor)
            layout.chart(st, fig, width="stretch", key="tr_loss")
            m1, m2 = st.columns(2)
            m1.metric("Loss now", f"{job.losses[-1]:.4f}",
                      help="Per coordinate, averaged over the training noise levels. It cannot reach 0: at low "
                           "noise x_t hardly differs from x_0, so the small ε in it cannot be told apart from where "
                           "x_0 lies; even a predictor that memorised every training point keeps the loss shown "
                           "beside. At high noise x_t ≈ ε, and ε is easy to predict.")
            if job.floor is not None:
                m2.metric("Lowest possible", f"{job.floor:.4f}",
                          help="The expected loss of the best possible predictor of ε on these very training points "
                               "(their exact ε, which memorises them) at the same noise levels, estimated from "
                               f"{FLOOR_DRAWS:,} draws: in expectation no network goes below it (the dotted line); "
                               "a single batch's loss can.")
        else:
            st.caption("The loss curve appears after the first 50 steps.")


live(points)

@st.cache_data(show_spinner=False)
def noise_level_figure():
    """Where training puts its noise levels: 50,000 log-SNR draws of the training recipe."""
    draws = sample_log_snr(50_000, STREAMS["training_levels"].generator(), make_schedule("linear", 1000).log_snr[1:])
    return figures.noise_level_histogram(draws.numpy(), *LOG_SNR_RANGE)


how, chart = st.columns([3, 2], gap="large")
how.markdown(f"**How it works.** Each step draws {TrainConfig.batch} data points, a log-SNR level per point (half uniform over "
            "the explorer's whole range, half where a linear T = 1,000 schedule spends its steps) and fresh noise; "
            "AdamW with a cosine learning rate minimises ‖ε − ε̂‖². Samples come from the exponential moving "
            "average of the weights, as in DDPM. Because the network is conditioned on the noise level, not on a "
            "step index, the same weights serve every schedule and every T on the other pages.")
layout.chart(chart, noise_level_figure(), width="stretch", key="tr_levels")
layout.footer()
