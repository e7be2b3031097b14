"""Class-conditional 2D networks for classifier-free guidance (Ho & Salimans 2022).

CondMLP2D is MLP2D with a label embedding added to the noise-level embedding that drives FiLM; label
n_classes is the null label ("no class"), which training uses for a share p_uncond of its examples
(condition dropout), so one network is both ε_c and ε_u. CondEpsModel calls it model(x_t, ᾱ, label)
with label an int, a tensor of one label per point, or None (unconditional). guided_eps evaluates the
conditional and the unconditional branch of a guided step in ONE batched call.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from .models import ARCHITECTURES, LOG_SNR_RANGE, EpsModel, MLP2D, MLPConfig, log_snr_embedding


@dataclass(frozen=True)
class CondMLPConfig(MLPConfig):
    n_classes: int = 8
    p_uncond: float = 0.1  # condition dropout used in training (recorded with the weights)


class CondMLP2D(MLP2D):
    kind = "mlp2d_cond"

    def __init__(self, config: CondMLPConfig = CondMLPConfig()):
        super().__init__(config)
        self.label_emb = nn.Embedding(config.n_classes + 1, config.emb_dim)
        nn.init.normal_(self.label_emb.weight, std=0.1)

    @property
    def null(self) -> int:
        return self.config.n_classes

    def film_cond(self, log_snr: torch.Tensor, label: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        cfg = self.config
        e = log_snr_embedding(log_snr, cfg.emb_dim) + self.label_emb(label)
        film = self.emb(e).view(-1, cfg.n_layers, 2, cfg.hidden)
        return film[:, :, 0] + 1, film[:, :, 1]

    def forward(self, x: torch.Tensor, log_snr: torch.Tensor, label: torch.Tensor | None = None) -> torch.Tensor:
        if label is None:
            label = torch.full((len(x),), self.null, dtype=torch.long, device=x.device)
        scale, shift = self.film_cond(log_snr, label)
        freqs2, phase = self._fourier_consts()
        h = self.inp(torch.cat([x, torch.addmm(phase, x, freqs2).sin()], dim=1))
        for i, layer in enumerate(self.layers):
            h = h + torch.relu(torch.addcmul(shift[:, i], h, scale[:, i])) @ layer.weight.t()
        return self.out(torch.relu(h))

    @torch.inference_mode()
    def at_level_labels(self, x: torch.Tensor, log_snr: float, label: torch.Tensor) -> torch.Tensor:
        """forward() for a batch at one noise level: the FiLM of every label at this level is computed once
        (n_classes + 1 rows, cached), and the points run label by label through MLP2D's fast path."""
        self._fast_consts()
        levels = self.__dict__.setdefault("_cond_levels", {})
        key = (log_snr, self._consts_key)
        film = levels.get(key)
        if film is None:
            if len(levels) >= 4096:
                levels.clear()
            labels = torch.arange(self.null + 1, device=x.device)
            film = levels[key] = self.film_cond(torch.full((len(labels),), log_snr, dtype=x.dtype, device=x.device),
                                                labels)
        order = None if bool((label[1:] >= label[:-1]).all()) else torch.argsort(label, stable=True)
        xs, ls = (x, label) if order is None else (x[order], label[order])
        values, counts = torch.unique_consecutive(ls, return_counts=True)
        parts, start = [], 0
        for value, count in zip(values.tolist(), counts.tolist()):
            parts.append(self._with_film(xs[start:start + count], film[0][value], film[1][value]))
            start += count
        out = torch.cat(parts)
        if order is not None:
            out = torch.empty_like(out).index_copy_(0, order, out)
        return out


ARCHITECTURES[CondMLP2D.kind] = (CondMLP2D, CondMLPConfig)


def _log_snr(alpha_bar: float) -> float:
    ab = min(max(alpha_bar, 1e-30), 1 - 1e-15)
    return min(max(math.log(ab) - math.log1p(-ab), LOG_SNR_RANGE[0]), LOG_SNR_RANGE[1])


class CondEpsModel(EpsModel):
    """model(x_t, ᾱ, label=None) -> ε̂: label an int, a tensor (one per point) or None (unconditional)."""

    @property
    def n_classes(self) -> int:
        return self.net.config.n_classes

    def labels(self, label, n: int, device) -> torch.Tensor:
        if label is None:
            return torch.full((n,), self.net.null, dtype=torch.long, device=device)
        if isinstance(label, torch.Tensor):
            return label.to(device=device, dtype=torch.long).expand(n) if label.ndim == 0 else label.to(device)
        if isinstance(label, bool) or not 0 <= int(label) < self.n_classes:
            raise ValueError(f"Unknown class {label!r}; this network knows classes 0 … {self.n_classes - 1}.")
        return torch.full((n,), int(label), dtype=torch.long, device=device)

    def __call__(self, x_t: torch.Tensor, alpha_bar, label=None) -> torch.Tensor:
        labels = self.labels(label, len(x_t), x_t.device)
        if isinstance(alpha_bar, float):
            return self.net.at_level_labels(x_t, _log_snr(alpha_bar), labels)
        ab = torch.as_tensor(alpha_bar, dtype=torch.float64)
        log_snr = (torch.log(ab.clamp_min(1e-30)) - torch.log1p(-ab.clamp_max(1 - 1e-15)))
        log_snr = log_snr.clamp(*LOG_SNR_RANGE).to(x_t.device, x_t.dtype).reshape(-1)
        with torch.no_grad():
            return self.net(x_t, log_snr.expand(len(x_t)) if log_snr.numel() == 1 else log_snr, labels)

    def with_label(self, label):
        """The ε model (x, ᾱ) -> ε̂ of one class (or None): what the samplers call."""
        return lambda x, alpha_bar: self(x, alpha_bar, label)


def guided_eps(model: CondEpsModel, labels, scale: float, interval: tuple[float, float] | None = None):
    """(x, ᾱ) -> ε_u + scale·(ε_c − ε_u) with ε_c and ε_u from ONE network call on [x; x] with [labels; null].
    interval = (lo, hi) in ᾱ: guide only there, the conditional branch alone elsewhere (as cfg_eps_model)."""
    def guided(x: torch.Tensor, alpha_bar):
        n = len(x)
        lab = model.labels(labels, n, x.device)
        if scale == 1.0 or interval is not None and isinstance(alpha_bar, float) \
                and not interval[0] <= alpha_bar <= interval[1]:
            return model(x, alpha_bar, lab)
        both = model(torch.cat([x, x]), alpha_bar, torch.cat([lab, model.labels(None, n, x.device)]))
        e_c, e_u = both[:n], both[n:]
        return e_u + scale * (e_c - e_u)
    return guided
