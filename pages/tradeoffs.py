"""Trade-offs: quality and diversity over T × β, every solver against its cost, exact beside learned."""
import time

import numpy as np
import streamlit as st

from explorer.draw import tradeoff_figures as tf
from explorer.measure import tradeoffs as tr
from explorer.diffusion.schedules import DEFAULT_PARAMS
from explorer.ui import controls, layout, sources, state
from explorer.ui.views import fields, tradeoff_runs as trr
from explorer.ui.settings import ScheduleChoice, score_name

SECTIONS = {"map": "The T × β map", "cost": "Quality against cost", "alpha": "Langevin's α"}
METRICS = {"precision": "precision (quality)", "recall": "recall (diversity)", "sw": "SW to the data"}
SAMPLER_NAMES = {"ddpm": "DDPM (σ² = β̃)", "ddim": "DDIM η = 0", "heun": "Heun (EDM)", "dpm": "DPM-Solver++(2M)"}

layout.header(
    "Trade-offs",
    "The source text's advice is about T and β: more steps for more variation, a gentler schedule for diversity. "
    "Here every claim is a measurement: **precision** (share of samples inside the data's k-nearest-neighbour "
    "manifold: quality), **recall** (share of the data inside the samples' manifold: diversity) and the sliced "
    "Wasserstein distance, for every cell of a T × β map, for every solver against its number of network "
    "evaluations, and for Langevin's step size — with the exact score beside the pretrained network.")

st.sidebar.header("Data")
# 128 runs per map: 2,000 points keep a full map near a minute on two CPU cores (5,000 took over two)
data = controls.data_controls(default="eight_gaussians", n_default=1000, n_max=2000)
st.sidebar.header("Schedule and sampler")
kind = state.choice("Schedule kind", "kind", list(tr.MAP_BETA), "linear", where=st.sidebar,
                    help="The map's β axis is this kind's β knob: β for constant and geometric, β_end for linear and "
                         "sigmoid (β_start = 0.0001). The cosine schedule has no β knob.")
beta_name = "β" if tr.BETA_KNOB[kind] == "beta" else "β_end"
sampler = state.choice("Sampler for the map", "sampler", list(trr.MAP_SAMPLERS), "ddpm", where=st.sidebar,
                       widget="radio", format_func=SAMPLER_NAMES.get,
                       help="Every sampler here uses all T levels of each cell's schedule.")
scores = [s for s in ("exact", "pretrained") if s in sources.score_options(data)]
if len(scores) == 1:
    st.sidebar.caption("No pretrained network for this data set: the exact score only.")
section = state.choice("Show", "view", list(SECTIONS), "map", widget="radio", horizontal=True,
                       format_func=SECTIONS.get, label_visibility="collapsed")
floor = trr.floor(data)


def score_title(score: str) -> str:
    return "Exact score" if score == "exact" else "Pretrained network"


# --- the map ---------------------------------------------------------------------------------------------------
def the_map() -> None:
    metric = state.choice("Colour by", "metric", list(METRICS), "precision", widget="radio", horizontal=True,
                          format_func=METRICS.get)
    Ts, betas = tr.MAP_T, tr.MAP_BETA[kind]
    shape = (len(Ts), len(betas))
    cells = {sc: {m: np.full(shape, np.nan) for m in ("precision", "recall", "sw")} for sc in scores}
    diverged = {sc: np.zeros(shape, dtype=bool) for sc in scores}
    slots = {sc: col.empty() for sc, col in zip(scores, st.columns(len(scores), gap="medium"))}
    status = st.empty()

    def draw(final: bool = False) -> None:
        for sc in scores:
            fig = tf.heat_map(Ts, betas, cells[sc][metric], diverged[sc], metric,
                              f"{score_title(sc)}: {METRICS[metric]}", f"{beta_name} ({kind})")
            layout.chart(slots[sc], fig, width="stretch", key=f"map_{sc}" if final else None)

    done, total, last_draw = 0, len(Ts) * len(betas) * len(scores), time.perf_counter()
    with layout.friendly_errors("compute the map"):
        for i, T in enumerate(Ts):
            for sc in scores:
                for j, b in enumerate(betas):
                    cell = trr.map_cell(data, kind, T, b, sampler, sc)
                    for m in ("precision", "recall", "sw"):
                        cells[sc][m][i, j] = cell[m]
                    diverged[sc][i, j] = cell["diverged"]
                    done += 1
            if time.perf_counter() - last_draw > 0.4 and done < total:  # cells fill in as they are computed
                draw()
                status.progress(done / total, text=f"Computed {done} of {total} cells…")
                last_draw = time.perf_counter()
    status.empty()
    draw(final=True)
    st.caption(f"Each cell: {SAMPLER_NAMES[sampler]} from the same x_T ({data.n:,} points, seed {data.seed}) on "
               f"{kind}(T, {beta_name}), judged against a {data.n:,}-point data sample. Two independent data samples "
               f"score precision {floor['precision']:.2f}, recall {floor['recall']:.2f}, SW {floor['sw']:.3f}. "
               "✕: the run diverged.")
    st.subheader("The text's claims, answered from the map")
    for sc in scores:
        lines = tr.verdicts(Ts, betas, np.where(diverged[sc], np.nan, cells[sc]["precision"]),
                            np.where(diverged[sc], np.nan, cells[sc]["recall"]))
        for line in lines:
            st.markdown(f"- **{score_title(sc)}.** {line}")
    st.subheader("Open one cell on the reverse page")
    c1, c2, c3, c4 = st.columns([1, 1, 1, 2], vertical_alignment="bottom")
    T_pick = c1.selectbox("T", Ts, index=len(Ts) // 2, key="cell_T")
    b_pick = c2.selectbox(beta_name, betas, index=len(betas) // 2, key="cell_beta", format_func=lambda b: f"{b:g}")
    sc_pick = c3.selectbox("Score", scores, key="cell_score", format_func=score_name)
    cell = trr.map_cell(data, kind, T_pick, b_pick, sampler, sc_pick)
    query = {"data": data.name, "n": data.n, "seed": data.seed, "kind": kind, "T": T_pick,
             tr.BETA_KNOB[kind]: b_pick, "sampler": "ddim" if sampler == "ddim" else sampler, "score": sc_pick}
    if sampler in ("ddim", "heun", "dpm"):
        query["steps"] = T_pick
    if sampler == "ddim":
        query["eta"] = 0.0
    c4.page_link(str(layout.PAGES_DIR / "reverse.py"), label=f"Open T = {T_pick}, {beta_name} = {b_pick:g} on the "
                 "reverse page", icon=":material/open_in_new:", query_params={k: str(v) for k, v in query.items()})
    st.caption(f"This cell: precision {cell['precision']:.3f}, recall {cell['recall']:.3f}, SW "
               + ("— (diverged)" if cell["diverged"] else f"{cell['sw']:.4f}") + f", ᾱ_T = {cell['alpha_bar_T']:.3g}"
               + (f"; modes covered {cell['covered']:.0%} (a component counts when it receives at least a quarter "
                  f"of its weight), weight error {cell['weight_error']:.3f} (½ Σ |share − weight|). " if "covered" in cell
                  else ". ") +
               "The reverse page reruns the very same run (the same x_T and noise) and shows its SW.")


# --- quality against cost --------------------------------------------------------------------------------------
def the_cost() -> None:
    st.markdown(f"Every solver from the same x_T on {kind}, T = {trr.COST_T:,} (its default β), given 5 to 1,000 network "
                "evaluations (NFE). With the exact score (solid) no network error enters: the deterministic solvers' "
                "curves (DDIM η = 0, Heun, DPM-Solver++) show their discretisation error; DDPM, DDIM η = 1 and "
                "predictor–corrector also draw fresh noise at every step, which their curves carry too; annealed "
                "Langevin does not discretise the reverse equation at all, so its error comes from its Langevin steps, "
                "not from a step size of an equation. With the network (dashed) the network's error is added — the "
                "gap between them. DDPM, annealed "
                "Langevin and predictor–corrector visit fewer levels of the same schedule (respaced); Heun, annealed "
                "Langevin and predictor–corrector spend two evaluations a level.")
    metric = state.choice("Measure", "cost_metric", list(METRICS), "precision", widget="radio", horizontal=True,
                          format_func=METRICS.get)
    slot, status = st.empty(), st.empty()
    curves: dict[str, dict] = {}
    total, done = len(tr.SOLVERS) * len(scores) * len(tr.COST_NFE), 0
    with layout.friendly_errors("run the solvers"):
        for solver in tr.SOLVERS:
            for sc in scores:
                pts = [trr.cost_point(data, kind, solver, n, sc) for n in tr.COST_NFE]
                curves[f"{solver}|{sc}"] = {m: [p[m] for p in pts] for m in ("nfe", "precision", "recall", "sw")}
                done += len(pts)
            if done < total:
                layout.chart(slot, tf.cost_curves(curves, tr.SOLVER_LABELS, metric, floor[metric]), width="stretch")
                status.progress(done / total, text=f"Ran {done} of {total} solver runs…")
    status.empty()
    layout.chart(slot, tf.cost_curves(curves, tr.SOLVER_LABELS, metric, floor[metric]), width="stretch", key="cost")
    for sc in scores:
        need = []
        for solver in tr.SOLVERS:
            c = curves[f"{solver}|{sc}"]
            hit = [n for n, p in zip(c["nfe"], c["precision"]) if p >= 0.9]
            need.append(f"{tr.SOLVER_LABELS[solver]}: {hit[0]}" if hit else f"{tr.SOLVER_LABELS[solver]}: not within 1,000")
        st.markdown(f"- **{score_title(sc)}**: fewest evaluations measured to reach precision 0.9 — " + "; ".join(need) + ".")


# --- Langevin's α ----------------------------------------------------------------------------------------------
def the_alpha() -> None:
    sched = ScheduleChoice(kind, trr.COST_T, tuple(DEFAULT_PARAMS[kind].items()))
    c1, c2, c3 = st.columns(3)
    t = state.slider("t (noise level)", "score_t", 1, sched.T, 100, where=c1)
    n_steps = state.slider("Langevin steps", "n_steps", 10, 2000, 300, step=10, where=c2)
    sc = state.choice("Score", "alpha_score", scores, "exact", where=c3, widget="radio", horizontal=True,
                      format_func=score_name)
    alphas = np.array(controls.ALPHA_GRID)
    with layout.friendly_errors("run Langevin"), st.spinner("Running Langevin at every α…"):
        pts = [trr.alpha_point(data, sched, t, float(a), int(n_steps), sc) for a in alphas]
    sw, prec = np.array([p["sw"] for p in pts]), np.array([p["precision"] for p in pts])
    div = np.array([p["diverged"] for p in pts])
    limit = pts[0]["limit"]
    layout.chart(st, tf.alpha_curve(alphas, sw, prec, div, limit, trr.q_t_floor(data, sched, t, fields.LANGEVIN_PARTICLES)),
                    width="stretch", key="alpha")
    stable = alphas[~div]
    words = [f"At t = {t} on {sched.label()}, the stability limit of q_t's narrowest bump is 2v = {limit:.3g}."]
    if len(stable):
        best = int(np.nanargmin(np.where(div, np.inf, sw)))
        words.append(f"The largest α that stayed finite for {n_steps} steps is {stable.max():g} "
                     f"({stable.max() / limit:.2g} × the limit); the closest to q_t is α = {alphas[best]:g} "
                     f"(SW {sw[best]:.3f}).")
    if div.any():
        words.append(f"The smallest α that diverged is {alphas[div].min():g} ({alphas[div].min() / limit:.2g} × the "
                     "limit).")
    else:
        words.append("No α on the grid diverged.")
    if not div[0]:
        words.append(f"The smallest α, {alphas[0]:g}, ends {sw[0]:.3f} from q_t after {n_steps} steps.")
    st.caption(" ".join(words))


{"map": the_map, "cost": the_cost, "alpha": the_alpha}[section or "map"]()

layout.footer()
