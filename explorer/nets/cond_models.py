"""Class-conditional 2D networks for classifier-free guidance (Ho & Salimans 2022).

CondMLP2D is ε̂(x_t, log-SNR, label) = ε_u + δ_label: an MLP2D gives ε_u, the unconditional prediction, and a
small class head reads its last hidden layer, FiLM-modulated by the label's embedding and the noise level,
and adds the class's correction δ_c = ε_c − ε_u. Label n_classes is the null label ("no class", δ = 0), which
training uses for a share p_uncond of its examples (condition dropout), so one network is both ε_c and ε_u.
Guidance ε_u + w(ε_c − ε_u) is then ε_u + w·δ_c: one pass of the network gives both branches of a guided step,
and guiding costs the head's share more than not guiding (bench/guidance.py), not a second network pass.
CondEpsModel calls it model(x_t, ᾱ, label) with label an int, a tensor of one label per point, or None.
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
    p_uncond: float = 0.2  # condition dropout used in training (recorded with the weights)
    head: int = 64  # width of the class head


class CondMLP2D(MLP2D):
    kind = "mlp2d_cond"

    def __init__(self, config: CondMLPConfig = CondMLPConfig()):
        super().__init__(config)
        h, e, k = config.hidden, config.emb_dim, config.head
        self.label_emb = nn.Embedding(config.n_classes, e)
        nn.init.normal_(self.label_emb.weight, std=0.1)
        self.head_emb = nn.Sequential(nn.Linear(e, e), nn.SiLU(), nn.Linear(e, 2 * h))
        self.head_in, self.head_out = nn.Linear(h, k), nn.Linear(k, 2)
        nn.init.zeros_(self.head_out.weight), nn.init.zeros_(self.head_out.bias)  # start with δ = 0: ε_c = ε_u

    @property
    def null(self) -> int:
        return self.config.n_classes

    def head_film(self, log_snr: torch.Tensor, label: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """1 + the class head's FiLM scale, and its shift: (N, hidden) each, for labels < n_classes."""
        e = log_snr_embedding(log_snr, self.config.emb_dim) + self.label_emb(label)
        film = self.head_emb(e)
        return film[:, :self.config.hidden] + 1, film[:, self.config.hidden:]

    def branches(self, x: torch.Tensor, log_snr: torch.Tensor, label: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(ε_u, δ): the unconditional prediction and each point's class correction (0 for the null label)."""
        h = self.hidden(x, log_snr)
        real = label != self.null
        scale, shift = self.head_film(log_snr, torch.where(real, label, 0))
        delta = self.head_out(torch.relu(self.head_in(torch.relu(torch.addcmul(shift, h, scale)))))
        return self.out(torch.relu(h)), delta * real[:, None]

    def forward(self, x: torch.Tensor, log_snr: torch.Tensor, label: torch.Tensor | None = None) -> torch.Tensor:
        if label is None:
            return super().forward(x, log_snr)
        eps_u, delta = self.branches(x, log_snr, label)
        return eps_u + delta

    def _head_consts(self) -> tuple:
        """The class head's weights for the fast path (bfloat16 products where MLP2D uses them)."""
        key = self._consts_key
        if getattr(self, "_head_key", None) != key:
            dtype = self._consts[4][0].dtype if self._consts[4] else self.head_in.weight.dtype
            self._head = (self.head_in.weight.t().to(dtype).contiguous(), self.head_in.bias.to(dtype),
                          self.head_out.weight.contiguous(), self.head_out.bias)
            self._head_levels, self._head_key = {}, key
        return self._head

    def _label_films(self, log_snr: float) -> tuple[torch.Tensor, torch.Tensor]:
        """The head's FiLM for every class at one level: (n_classes, hidden) each, kept until the weights change."""
        levels = self._head_levels
        film = levels.get(log_snr)
        if film is None:
            if len(levels) >= 4096:
                levels.clear()
            labels = torch.arange(self.config.n_classes, device=self._consts[0].device)
            film = levels[log_snr] = self.head_film(
                torch.full((len(labels),), log_snr, dtype=self._consts[0].dtype, device=labels.device), labels)
        return film

    @torch.inference_mode()
    def at_level_branches(self, x: torch.Tensor, log_snr: float, label: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(ε_u, δ = ε_c − ε_u) for a batch at one noise level from ONE pass of the network: the trunk runs once
        for all points, the class head with each point's label (its FiLM gathered per row; δ = 0 for the null
        label). In pieces of FAST_CHUNK rows, as MLP2D.at_level."""
        self._fast_consts()
        w_in, b_in, w_out, b_out = self._head_consts()
        film_u, (scales, shifts) = self._level_film(log_snr), self._label_films(log_snr)
        real = label != self.null
        n_real = int(real.sum())

        def parts(xs: torch.Tensor, ls: torch.Tensor, rs: torch.Tensor) -> torch.Tensor:
            h = self._hidden(xs, *film_u)
            if n_real == 0:
                return torch.cat([self._out(h), torch.zeros_like(h[:, :2])], dim=1)
            a = self._scratch(h.shape, w_in.dtype, h.device)[0]  # the trunk is done with it
            idx = ls.clamp(max=self.null - 1)
            torch.addcmul(shifts.index_select(0, idx), h, scales.index_select(0, idx), out=a).relu_()
            delta = nn.functional.linear(torch.addmm(b_in, a, w_in).relu_().to(h.dtype), w_out, b_out)
            if n_real < len(label):
                delta.mul_(rs[:, None])
            return torch.cat([self._out(h), delta], dim=1)

        both = self._chunked(parts, x, label, real)
        return both[:, :2], both[:, 2:]

    def at_level_labels(self, x: torch.Tensor, log_snr: float, label: torch.Tensor) -> torch.Tensor:
        """forward() for a batch at one noise level: ε_u + δ of each point's label."""
        eps_u, delta = self.at_level_branches(x, log_snr, label)
        return eps_u + delta


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
            if label.is_floating_point() or label.ndim > 1 or (label.ndim == 1 and len(label) != n):
                raise ValueError(f"Labels must be one integer or one per point ({n}); got {label.dtype} of shape "
                                 f"{tuple(label.shape)}.")
            if label.numel() and not bool(((label >= 0) & (label <= self.net.null)).all()):
                raise ValueError(f"Unknown class in the labels; this network knows classes 0 … {self.n_classes - 1} "
                                 f"and {self.net.null} for no class.")
            return label.to(device=device, dtype=torch.long).expand(n) if label.ndim == 0 else label.to(device)
        if isinstance(label, bool) or not 0 <= int(label) < self.n_classes:
            raise ValueError(f"Unknown class {label!r}; this network knows classes 0 … {self.n_classes - 1}.")
        return torch.full((n,), int(label), dtype=torch.long, device=device)

    def __call__(self, x_t: torch.Tensor, alpha_bar, label=None) -> torch.Tensor:
        eps_u, delta = self.branches(x_t, alpha_bar, label)
        return eps_u + delta

    def branches(self, x_t: torch.Tensor, alpha_bar, label=None) -> tuple[torch.Tensor, torch.Tensor]:
        """(ε_u, ε_c − ε_u) of each point's label from one pass of the network (δ = 0 where the label is None)."""
        labels = self.labels(label, len(x_t), x_t.device)
        if isinstance(alpha_bar, float):
            return self.net.at_level_branches(x_t, _log_snr(alpha_bar), labels)
        ab = torch.as_tensor(alpha_bar, dtype=torch.float64)
        log_snr = (torch.log(ab.clamp_min(1e-30)) - torch.log1p(-ab.clamp_max(1 - 1e-15)))
        log_snr = log_snr.clamp(*LOG_SNR_RANGE).to(x_t.device, x_t.dtype).reshape(-1)
        log_snr = log_snr.expand(len(x_t)) if log_snr.numel() == 1 else log_snr
        with torch.no_grad():
            return self.net.branches(x_t, log_snr, labels)

    def with_label(self, label):
        """The ε model (x, ᾱ) -> ε̂ of one class (or None): what the samplers call."""
        return lambda x, alpha_bar: self(x, alpha_bar, label)


def guided_eps(model: CondEpsModel, labels, scale: float, interval: tuple[float, float] | None = None):
    """(x, ᾱ) -> ε_u + scale·(ε_c − ε_u), both branches from ONE pass of the network (CondEpsModel.branches: the
    class head gives ε_c − ε_u directly). interval = (lo, hi) in ᾱ: guide only there, the conditional branch
    alone elsewhere (as cfg_eps_model)."""
    def guided(x: torch.Tensor, alpha_bar):
        eps_u, delta = model.branches(x, alpha_bar, labels)
        if scale != 1.0 and (interval is None or not isinstance(alpha_bar, float)
                             or interval[0] <= alpha_bar <= interval[1]):
            return torch.add(eps_u, delta, alpha=scale)
        return eps_u + delta
    return guided
