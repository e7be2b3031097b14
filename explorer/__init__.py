"""Diffusion Explorer: an interactive, visual explorer that teaches how diffusion models work.

The public API, importable from here (`from explorer import make_schedule, ddpm_sample`); the folders are for
readers, the root is for users:

    diffusion/  schedules, the forward chain, exact scores, samplers and ODE solvers, Langevin, guidance, flows
    nets/       networks conditioned on the noise level, training, pretrained checkpoints
    data/       toy 2D sets, labelled sets, the 8×8 digits, the 28×28 MNIST digits, pictures
    measure/    sliced Wasserstein, precision/recall, quality bars, trade-off maps
    draw/       figure builders, palette, diagram, handout
    lessons/    the lessons as data
    common/     argument checks, named random streams, the device
    classroom/  the class store: a teacher's lesson followed and answered by students, in SQLite or PostgreSQL
    ui/         Streamlit: the app's frame, settings, widgets ↔ URL, each page's runs and views

Names load on first use, so `import explorer` does not import torch: the app's title shows before torch has loaded.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

# name -> the module that defines it
_PUBLIC = {
    **dict.fromkeys(["make_schedule", "NoiseSchedule", "SCHEDULE_KINDS"], "explorer.diffusion.schedules"),
    **dict.fromkeys(["q_step", "q_sample", "forward_trajectory"], "explorer.diffusion.forward"),
    **dict.fromkeys(["GaussianMixture", "EmpiricalData"], "explorer.diffusion.scores"),
    **dict.fromkeys(["ddpm_sample", "ddim_sample", "langevin_sample", "heun_sample", "dpm_solver_sample", "ode_encode",
                     "SAMPLERS", "Step"], "explorer.diffusion.samplers"),
    **dict.fromkeys(["cfg_eps_model"], "explorer.diffusion.guidance"),
    **dict.fromkeys(["flow_sample", "ode_log_likelihood"], "explorer.diffusion.flows"),
    **dict.fromkeys(["toy_2d", "TOY_2D", "toy_2d_labelled", "LABELLED_2D", "digits", "mnist", "exact_eps_model"],
                    "explorer.data.datasets"),
    **dict.fromkeys(["sliced_wasserstein", "precision_recall"], "explorer.measure.metrics"),
    **dict.fromkeys(["load_pretrained"], "explorer.nets.checkpoints"),
    **dict.fromkeys(["pick_device"], "explorer.common.device"),
    **dict.fromkeys(["ClassStore"], "explorer.classroom.store"),
}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    """Load a public name from its module on first use (PEP 562) and keep it here."""
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'explorer' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # for editors and type checkers: the same names, imported eagerly
    from explorer.classroom.store import ClassStore
    from explorer.common.device import pick_device
    from explorer.data.datasets import LABELLED_2D, TOY_2D, digits, exact_eps_model, mnist, toy_2d, toy_2d_labelled
    from explorer.diffusion.flows import flow_sample, ode_log_likelihood
    from explorer.diffusion.forward import forward_trajectory, q_sample, q_step
    from explorer.diffusion.guidance import cfg_eps_model
    from explorer.diffusion.samplers import (SAMPLERS, Step, ddim_sample, ddpm_sample, dpm_solver_sample, heun_sample,
                                             langevin_sample, ode_encode)
    from explorer.diffusion.schedules import SCHEDULE_KINDS, NoiseSchedule, make_schedule
    from explorer.diffusion.scores import EmpiricalData, GaussianMixture
    from explorer.measure.metrics import precision_recall, sliced_wasserstein
    from explorer.nets.checkpoints import load_pretrained
