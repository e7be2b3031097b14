"""Pick the fastest available torch device: cuda, then Apple's mps, else the CPU."""
from __future__ import annotations

import torch


def pick_device() -> torch.device:
    """cuda if a GPU is visible, then mps, else cpu."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def device_of(model, default: torch.device) -> torch.device:
    """Where a model computes: a network where its weights are; an exact score wherever its input is (default)."""
    net = getattr(model, "net", model)
    params = getattr(net, "parameters", None)
    if callable(params):
        first = next(iter(params()), None)
        if first is not None:
            return first.device
    return default


def from_anywhere(model):
    """The ε model as one that takes and returns tensors on any device: a network on the GPU is handed its
    input there and gives its output back where the input was. Exact scores follow their input already."""
    device = device_of(model, None)
    if device is None:
        return model

    def eps(x: torch.Tensor, alpha_bar) -> torch.Tensor:
        return model(x.to(device), alpha_bar).to(x.device)
    return eps


def describe_device(device: torch.device | None = None) -> str:
    """A human label such as 'cuda (NVIDIA H100)' or 'cpu (2 threads)'."""
    device = device or pick_device()
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        n = torch.get_num_threads()
        return f"cpu ({n} thread{'s' if n != 1 else ''})"
    return device.type
