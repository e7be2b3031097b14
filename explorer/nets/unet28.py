"""A class-conditional U-Net for 1×28×28 digits (MNIST), for classifier-free guidance.

ε̂(x_t, log-SNR, label): 28×28 → 14×14 → 7×7 and back with additive skip connections (the coarser map is
projected by a 1×1 convolution, upsampled and added: cheaper than concatenating, so one call on 16 digits stays
within bench/images.py's budget on a 2-core CPU). Channels grow by config.mults toward the coarse maps, where they
cost little (a 7×7 map has 1/16 of the positions), and an optional self-attention over the 7×7 map lets every part
of the digit see every other in one step (a 3×3 convolution sees its neighbours only). Each block is told the noise level
(a sinusoidal log-SNR embedding, never a step index) plus the label's embedding. Label n_classes is the null label
("no class"), trained on a share p_uncond of the examples (condition dropout), so one network is both ε_c and ε_u:
CondImageEpsModel calls it model(x_t, ᾱ, label) with label an int, a tensor (one per image) or None.

Unlike the 2D networks' class head, a U-Net's class enters every block, so a guided step needs both branches:
CondImageEpsModel.branches runs the conditional and the null batch as one batch of twice the size.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .cond_models import CondEpsModel
from .models import ARCHITECTURES, _ConvBlock, log_snr_embedding


@dataclass(frozen=True)
class CondUNet28Config:
    channels: int = 16  # at 28×28; times mults[1] at 14×14 and mults[2] at 7×7
    emb_dim: int = 64
    n_classes: int = 10
    p_uncond: float = 0.15  # condition dropout used in training (recorded with the weights)
    mults: tuple = (1, 2, 4)  # channel multipliers at 28, 14 and 7 pixels a side
    attention: bool = False  # self-attention over the 7×7 map after the middle block (the whole digit at once)


class _SelfAttention(nn.Module):
    """x + attention over all positions of the map (4 heads); the output projection starts at zero, so a network that
    gains this block starts as the one without it."""

    def __init__(self, c: int, heads: int = 4):
        super().__init__()
        self.heads = heads
        self.norm, self.qkv, self.out = nn.GroupNorm(8, c), nn.Conv2d(c, 3 * c, 1), nn.Conv2d(c, c, 1)
        nn.init.zeros_(self.out.weight), nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(n, 3, self.heads, c // self.heads, h * w).transpose(-1, -2).unbind(1)
        a = nn.functional.scaled_dot_product_attention(q, k, v)  # (n, heads, h w, c / heads)
        return x + self.out(a.transpose(-1, -2).reshape(n, c, h, w))


class CondUNet28(nn.Module):
    kind = "unet28_cond"

    def __init__(self, config: CondUNet28Config = CondUNet28Config()):
        super().__init__()
        self.config = config
        e = config.emb_dim
        c, c2, c4 = (config.channels * m for m in config.mults)
        self.emb = nn.Sequential(nn.Linear(e, e), nn.SiLU(), nn.Linear(e, e))
        self.label_emb = nn.Embedding(config.n_classes + 1, e)  # the last row is the null label
        self.inp = nn.Conv2d(1, c, 3, padding=1)
        self.down1, self.down2 = _ConvBlock(c, c, e), _ConvBlock(c, c2, e)
        self.mid = _ConvBlock(c2, c4, e)
        self.attn = _SelfAttention(c4) if config.attention else nn.Identity()
        self.proj2, self.proj1 = nn.Conv2d(c4, c2, 1), nn.Conv2d(c2, c, 1)
        self.up2, self.up1 = _ConvBlock(c2, c2, e), _ConvBlock(c, c, e)
        self.out = nn.Conv2d(c, 1, 3, padding=1)

    @property
    def null(self) -> int:
        return self.config.n_classes

    def forward(self, x: torch.Tensor, log_snr: torch.Tensor, label: torch.Tensor | None = None) -> torch.Tensor:
        """x (N, 1, 28, 28), log_snr (N,) or (1,), label (N,) of 0 … n_classes (the null label) or None."""
        if label is None:
            label = torch.full((len(x),), self.null, dtype=torch.long, device=x.device)
        # the level's and the class's embeddings summed, then a SiLU: each block's bias depends on both together
        e = nn.functional.silu(self.emb(log_snr_embedding(log_snr, self.config.emb_dim)) + self.label_emb(label))
        h28 = self.down1(self.inp(x), e)
        h14 = self.down2(nn.functional.avg_pool2d(h28, 2), e)
        h7 = self.attn(self.mid(nn.functional.avg_pool2d(h14, 2), e))
        u14 = self.up2(nn.functional.interpolate(self.proj2(h7), scale_factor=2) + h14, e)
        u28 = self.up1(nn.functional.interpolate(self.proj1(u14), scale_factor=2) + h28, e)
        return self.out(u28)

    def branches(self, x: torch.Tensor, log_snr: torch.Tensor, label: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(ε_u, ε_c − ε_u) for each image's label (δ = 0 for the null label): the labelled and the null batch as
        one batch; an all-null batch runs once."""
        null = torch.full_like(label, self.null)
        real = label != self.null
        if not bool(real.any()):
            return self(x, log_snr, null), torch.zeros_like(x)
        level = log_snr.expand(len(x)) if log_snr.numel() == 1 else log_snr
        both = self(torch.cat([x, x]), torch.cat([level, level]), torch.cat([label, null]))
        eps_c, eps_u = both[:len(x)], both[len(x):]
        return eps_u, (eps_c - eps_u) * real.view(-1, 1, 1, 1)

    def at_level_branches(self, x: torch.Tensor, log_snr: float, label: torch.Tensor):
        with torch.inference_mode():
            return self.branches(x, torch.full((1,), log_snr, device=x.device, dtype=x.dtype), label)


class CondImageEpsModel(CondEpsModel):
    """model(x_t, ᾱ, label=None) -> ε̂ for digits: one pass for a single label or none, two (as one batch) for
    ε_u and ε_c − ε_u together (branches, what guided_eps calls)."""

    def __call__(self, x_t: torch.Tensor, alpha_bar, label=None) -> torch.Tensor:
        labels = self.labels(label, len(x_t), x_t.device)
        if isinstance(alpha_bar, float):
            from .cond_models import _log_snr
            with torch.inference_mode():
                return self.net(x_t, torch.full((1,), _log_snr(alpha_bar), device=x_t.device, dtype=x_t.dtype), labels)
        eps_u, delta = self.branches(x_t, alpha_bar, label)
        return eps_u + delta


ARCHITECTURES[CondUNet28.kind] = (CondUNet28, CondUNet28Config)
