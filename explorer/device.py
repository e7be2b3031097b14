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


def describe_device(device: torch.device | None = None) -> str:
    """A human label such as 'cuda (NVIDIA H100)' or 'cpu (2 threads)'."""
    device = device or pick_device()
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        return f"cpu ({torch.get_num_threads()} threads)"
    return device.type
