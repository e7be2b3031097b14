"""Weights as safetensors + a JSON file of config and metadata. No pickle: loading runs no code.

A checkpoint NAME is two files, NAME.safetensors (tensors) and NAME.json:
{"version": 1, "kind": "mlp2d", "config": {...}, "dataset": ..., "training_steps": ...,
 "seed": ..., "training_time_s": ..., "metrics": {...}}
"""
from __future__ import annotations

import json
from pathlib import Path

from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .cond_models import CondEpsModel
from .models import EpsModel, build, config_dict
from .unet28 import CondImageEpsModel
from .velocity import VelocityModel

FORMAT_VERSION = 1
PRETRAINED_DIR = Path(__file__).resolve().parents[2] / "pretrained"


class CheckpointError(ValueError):
    """A checkpoint file is missing, corrupt or does not match its config; the message names it."""


def save(net, path: str | Path, **metadata) -> tuple[Path, Path]:
    """Write path.safetensors and path.json; returns both paths."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    weights, meta = path.with_suffix(".safetensors"), path.with_suffix(".json")
    save_file({k: v.detach().contiguous().cpu() for k, v in net.state_dict().items()}, str(weights))
    meta.write_text(json.dumps({"version": FORMAT_VERSION, "kind": net.kind, "config": config_dict(net),
                                **metadata}, indent=2))
    return weights, meta


def load(path: str | Path) -> tuple[EpsModel, dict]:
    """Read a checkpoint; returns (eps_model, metadata). Raises CheckpointError naming the file."""
    path = Path(path)
    weights, meta_path = path.with_suffix(".safetensors"), path.with_suffix(".json")
    for f in (meta_path, weights):
        if not f.is_file():
            raise CheckpointError(f"{f}: file not found.")
    try:
        meta = json.loads(meta_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{meta_path}: not valid JSON ({err}).") from err
    if not isinstance(meta, dict) or meta.get("version") != FORMAT_VERSION or "kind" not in meta:
        raise CheckpointError(f"{meta_path}: expected a version-{FORMAT_VERSION} checkpoint with a 'kind'.")
    try:
        net = build(meta["kind"], meta.get("config", {}))
    except ValueError as err:
        raise CheckpointError(f"{meta_path}: {err}") from err
    try:
        state = load_file(str(weights))
    except (SafetensorError, OSError, ValueError) as err:
        raise CheckpointError(f"{weights}: not a readable safetensors file ({err}).") from err
    expected = net.state_dict()
    missing, extra = set(expected) - set(state), set(state) - set(expected)
    if missing or extra:
        raise CheckpointError(f"{weights}: tensors do not match the {meta['kind']} config in {meta_path.name} "
                              f"(missing {sorted(missing)[:3]}, unexpected {sorted(extra)[:3]}).")
    for k, v in expected.items():
        if state[k].shape != v.shape:
            raise CheckpointError(f"{weights}: tensor {k!r} has shape {tuple(state[k].shape)}, the config "
                                  f"in {meta_path.name} needs {tuple(v.shape)}.")
    net.load_state_dict(state)
    if meta.get("objective", "eps") == "flow":  # a velocity network (flow matching): (x_τ, τ) -> v̂
        return VelocityModel(net), meta
    wrapper = {"mlp2d_cond": CondEpsModel, "unet28_cond": CondImageEpsModel}.get(meta["kind"], EpsModel)
    return wrapper(net), meta


def load_pretrained(name: str) -> tuple[EpsModel, dict]:
    """The shipped model `name` from pretrained/: a TOY_2D name or 'digits' (eps models), NAME_cond (class-conditional)
    or NAME_flow (a VelocityModel trained by flow matching)."""
    return load(PRETRAINED_DIR / name)
