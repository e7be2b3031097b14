"""The mathematics of diffusion, in plain torch: noise schedules (schedules), the forward chain and its closed form
(forward), exact scores of Gaussian mixtures and finite sets (scores), the one step loop every sampler runs (steps),
the ancestral and deterministic samplers with their registry SAMPLERS (samplers, solvers), annealed Langevin
dynamics (langevin), classifier-free guidance (guidance), and flows: the interpolant, its samplers, inversion and
likelihood through the ODE (flows).

No streamlit, plotly, matplotlib or PIL here: a student can read and run it alone.

Imports from explorer: common.
"""
