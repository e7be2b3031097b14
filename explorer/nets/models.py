"""Noise-level-conditioned networks: an MLP for 2D points and a small U-Net for 1×8×8 digits.

Both predict ε from (x_t, log-SNR), never from a step index, so one set of weights serves every
schedule and every T. `EpsModel` wraps a network into the library's eps-model interface
(x_t, alpha_bar) -> ε̂.
"""
from __future__ import annotations

import functools
import math
import threading
from dataclasses import asdict, dataclass

import torch
from torch import nn

# The trained noise levels, in log-SNR: from cosine's ᾱ_T ≈ 1e-9 up to β = 1e-5 at t = 1. Levels
# outside are clamped, which cannot matter: below, x_t is noise to within √ᾱ < 1e-4; above, data
# to within √(1−ᾱ) < 1e-3 (tests/test_models.py checks every schedule the sliders can make).
LOG_SNR_RANGE = (-20.0, 14.0)
FAST_CHUNK = 1024  # rows per piece of the fast path (MLP2D._chunked)


@dataclass(frozen=True)
class MLPConfig:
    hidden: int = 128  # width of every residual layer
    n_layers: int = 2  # residual layers
    n_fourier: int = 16  # random Fourier features of x (each gives a sin and a cos)
    fourier_scale: float = 1.0  # std of their frequencies, for data in [−2, 2]²
    emb_dim: int = 64  # sinusoidal embedding of the log-SNR
    seed: int = 0  # draws the Fourier frequencies (also saved with the weights)


@dataclass(frozen=True)
class UNetConfig:
    channels: int = 32  # at 8×8; doubled at 4×4 and 2×2
    emb_dim: int = 64


@functools.lru_cache(maxsize=16)
def _embedding_freqs(dim: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    return torch.exp(torch.linspace(0, math.log(200.0), dim // 2, dtype=torch.float64)).to(device, dtype)


def log_snr_embedding(log_snr: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal features of the log-SNR (scaled to about [−1, 1]); (N,) -> (N, dim)."""
    lo, hi = LOG_SNR_RANGE
    u = (log_snr - lo) / (hi - lo) * 2 - 1
    arg = u[:, None] * _embedding_freqs(dim, u.device, u.dtype)[None, :]
    return torch.cat([arg.sin(), arg.cos()], dim=1)


def _product_dtype(like: torch.Tensor) -> torch.dtype:
    """bfloat16 for the hidden products where the CPU multiplies it natively, else like's dtype."""
    if like.device.type != "cpu" or like.dtype != torch.float32:
        return like.dtype
    native = [getattr(torch.cpu, name, lambda: False) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    return torch.bfloat16 if any(f() for f in native) else like.dtype


class MLP2D(nn.Module):
    """ε̂(x_t, log-SNR) for 2D points: Fourier features → residual MLP conditioned on the noise.

    Each residual layer is h ← h + W_l relu((1 + a_l) ⊙ h + b_l), where the scale a_l and
    shift b_l come from the noise level (FiLM). One matrix product per layer, no normalisation:
    sampling calls the network a thousand times, so every elementwise pass over the batch counts.
    """

    kind = "mlp2d"
    bf16_products = True  # at_level may use bfloat16 products where the CPU has them; False: float32 only

    def __init__(self, config: MLPConfig = MLPConfig()):
        super().__init__()
        self.config = config
        h, e, n = config.hidden, config.emb_dim, config.n_layers
        g = torch.Generator().manual_seed(config.seed)
        self.register_buffer("freqs", torch.randn(2, config.n_fourier, generator=g) * config.fourier_scale)
        self.inp = nn.Linear(2 + 2 * config.n_fourier, h)
        self.emb = nn.Sequential(nn.Linear(e, e), nn.SiLU(), nn.Linear(e, 2 * n * h))
        self.layers = nn.ModuleList(nn.Linear(h, h, bias=False) for _ in range(n))
        self.out = nn.Linear(h, 2)
        nn.init.zeros_(self.emb[-1].weight)  # start as a plain residual MLP; the noise level is learnt in
        for layer in self.layers:
            layer.weight.data.mul_(0.5)

    def film(self, log_snr: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """1 + FiLM scale and the shift for every layer at once: (N, n_layers, hidden) each."""
        cfg = self.config
        film = self.emb(log_snr_embedding(log_snr, cfg.emb_dim)).view(-1, cfg.n_layers, 2, cfg.hidden)
        return film[:, :, 0] + 1, film[:, :, 1]

    def forward(self, x: torch.Tensor, log_snr: torch.Tensor) -> torch.Tensor:
        return self.out(torch.relu(self.hidden(x, log_snr)))

    def hidden(self, x: torch.Tensor, log_snr: torch.Tensor) -> torch.Tensor:
        """The last hidden layer h (before the output layer's ReLU)."""
        scale, shift = self.film(log_snr)
        freqs2, phase = self._fourier_consts()
        h = self.inp(torch.cat([x, torch.addmm(phase, x, freqs2).sin()], dim=1))
        for i, layer in enumerate(self.layers):
            h = h + torch.relu(torch.addcmul(shift[:, i], h, scale[:, i])) @ layer.weight.t()
        return h

    def _fourier_consts(self) -> tuple[torch.Tensor, torch.Tensor]:
        """2π [f, f] and phases [0, π/2] (cos z = sin(z + π/2)), shape (2, 2k) and (2k,)."""
        k = self.config.n_fourier
        freqs2 = (2 * math.pi) * torch.cat([self.freqs, self.freqs], dim=1)
        return freqs2, torch.cat([freqs2.new_zeros(k), freqs2.new_full((k,), math.pi / 2)])

    def _weights_key(self) -> tuple:
        """Changes whenever a weight is updated in place, moved or converted."""
        if "_param_list" not in self.__dict__:  # Parameter objects survive .to() and load_state_dict
            self._param_list = list(self.parameters())
        return (self.bf16_products,
                *((p.data_ptr(), p._version, p.dtype) for p in (*self._param_list, self.freqs)))

    def _scratch(self, shape: torch.Size, dtype: torch.dtype, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """Two reusable bfloat16 buffers per thread and batch shape. Allocating them afresh on every
        call made the allocator hand pages back and fault them in again: on this VM that slowed
        the bfloat16 path by up to 2× and made it slower than float32."""
        bufs = self.__dict__.setdefault("_scratch_bufs", {})
        key = (threading.get_ident(), tuple(shape), dtype, device)
        pair = bufs.get(key)
        if pair is None:
            if len(bufs) >= 16:
                bufs.clear()
            pair = bufs[key] = (torch.empty(shape, dtype=dtype, device=device),
                                torch.empty(shape, dtype=dtype, device=device))
        return pair

    @torch.inference_mode()
    def at_level(self, x: torch.Tensor, log_snr: float) -> torch.Tensor:
        """forward() for a batch that shares one noise level, as the samplers call it.

        The same maths with the per-call work cut to the batch-sized operations: the FiLM
        vectors of each level and the rearranged weights are computed once and kept until the
        weights change (training updates them in place; the key follows their versions). On a
        CPU with native bfloat16 dot products the residual layers' products run in bfloat16
        (twice the speed; the residual stream stays float32): ε̂ moves by ≈ 7e-4 of its size,
        under a tenth of the network's own error against the exact ε (tests/test_pretrained.py).
        """
        self._fast_consts()
        return self._chunked(lambda part: self._out(self._hidden(part, *self._level_film(log_snr))), x)

    def _level_film(self, log_snr: float) -> tuple[torch.Tensor, torch.Tensor]:
        """The FiLM (scale, shift) of one level, (n_layers, hidden) each, kept until the weights change."""
        levels = self._levels  # shared by the sessions that use a cached model: no check-then-read
        film = levels.get(log_snr)
        if film is None:
            if len(levels) >= 8192:  # ≈ 2 KB a level: at most 16 MB however many schedules are tried
                levels.clear()
            scale, shift = self.film(torch.full((1,), log_snr, dtype=self._consts[0].dtype,
                                                device=self._consts[0].device))
            film = levels[log_snr] = (scale[0], shift[0])
        return film

    @staticmethod
    def _chunked(f, x: torch.Tensor, *more: torch.Tensor) -> torch.Tensor:
        """f(x, *more) in pieces of FAST_CHUNK rows: past a few thousand rows the hidden activations outgrow the
        allocator's reuse and every call faulted fresh pages in (4,000 rows cost 0.94 µs a row against 0.54)."""
        if len(x) <= FAST_CHUNK or x.device.type != "cpu":
            return f(x, *more)
        return torch.cat([f(*parts) for parts in zip(*(t.split(FAST_CHUNK) for t in (x, *more)))])

    def _fast_consts(self) -> tuple:
        """The rearranged weights of the fast path, rebuilt when the weights change (see at_level)."""
        key = self._weights_key()
        if getattr(self, "_consts_key", None) != key:
            freqs2, phase = self._fourier_consts()
            # [x, sin(2π x·f + φ)] as one product: identity columns carry x through
            lift = torch.cat([torch.eye(2, dtype=freqs2.dtype, device=freqs2.device), freqs2], dim=1)
            lift_bias = torch.cat([phase.new_zeros(2), phase])
            hidden = _product_dtype(freqs2) if self.bf16_products else freqs2.dtype
            self._consts = (lift.contiguous(), lift_bias, self.inp.weight.t().contiguous(), self.inp.bias,
                            [layer.weight.t().to(hidden).contiguous() for layer in self.layers],
                            self.out.weight.contiguous(), self.out.bias)
            self._levels, self._consts_key = {}, key
        return self._consts

    def _hidden(self, x: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
        """The last hidden layer h for a batch sharing one FiLM (scale, shift: (n_layers, hidden)), fast weights."""
        lift, lift_bias, w_in, b_in, ws, _, _ = self._consts
        z = torch.addmm(lift_bias, x, lift)
        z[:, 2:].sin_()
        h = torch.addmm(b_in, z, w_in)
        for i, w in enumerate(ws):
            if w.dtype == h.dtype:
                h = torch.addmm(h, torch.addcmul(shift[i], h, scale[i]).relu_(), w)
            else:  # FiLM written straight into the bfloat16 operand, product into its own buffer
                a, prod = self._scratch(h.shape, w.dtype, h.device)
                torch.addcmul(shift[i], h, scale[i], out=a).relu_()
                h.add_(torch.mm(a, w, out=prod))
        return h

    def _out(self, h: torch.Tensor) -> torch.Tensor:
        """ε̂ from the last hidden layer (relu'd in place). linear() with the (2, hidden) weight: addmm with its
        (hidden, 2) transpose took 4.5× as long."""
        return nn.functional.linear(h.relu_(), self._consts[5], self._consts[6])


class _ConvBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, emb_dim: int):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(c_in, c_out, 3, padding=1), nn.Conv2d(c_out, c_out, 3, padding=1)
        self.norm1, self.norm2 = nn.GroupNorm(8, c_out), nn.GroupNorm(8, c_out)
        self.emb = nn.Linear(emb_dim, c_out)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x, e):
        h = nn.functional.silu(self.norm1(self.conv1(x)) + self.emb(e)[:, :, None, None])
        return self.skip(x) + nn.functional.silu(self.norm2(self.conv2(h)))


class UNet8(nn.Module):
    """ε̂(x_t, log-SNR) for 1×8×8 images: 8×8 → 4×4 → 2×2 and back, with skip connections."""

    kind = "unet8"

    def __init__(self, config: UNetConfig = UNetConfig()):
        super().__init__()
        self.config = config
        c, e = config.channels, config.emb_dim
        self.emb = nn.Sequential(nn.Linear(e, e), nn.SiLU(), nn.Linear(e, e))
        self.inp = nn.Conv2d(1, c, 3, padding=1)
        self.down1, self.down2 = _ConvBlock(c, c, e), _ConvBlock(c, 2 * c, e)
        self.mid = _ConvBlock(2 * c, 2 * c, e)
        self.up2, self.up1 = _ConvBlock(4 * c, c, e), _ConvBlock(2 * c, c, e)
        self.out = nn.Conv2d(c, 1, 3, padding=1)

    def forward(self, x: torch.Tensor, log_snr: torch.Tensor) -> torch.Tensor:
        e = self.emb(log_snr_embedding(log_snr, self.config.emb_dim))
        h8 = self.down1(self.inp(x), e)  # (N, c, 8, 8)
        h4 = self.down2(nn.functional.avg_pool2d(h8, 2), e)  # (N, 2c, 4, 4)
        h2 = self.mid(nn.functional.avg_pool2d(h4, 2), e)  # (N, 2c, 2, 2)
        u4 = self.up2(torch.cat([nn.functional.interpolate(h2, scale_factor=2), h4], 1), e)  # (N, c, 4, 4)
        u8 = self.up1(torch.cat([nn.functional.interpolate(u4, scale_factor=2), h8], 1), e)  # (N, c, 8, 8)
        return self.out(u8)


ARCHITECTURES = {MLP2D.kind: (MLP2D, MLPConfig), UNet8.kind: (UNet8, UNetConfig)}


def build(kind: str, config: dict) -> nn.Module:
    """Rebuild a network from its kind and config dict (as stored next to the weights)."""
    if kind not in ARCHITECTURES:
        raise ValueError(f"Unknown network kind {kind!r}; known: {', '.join(ARCHITECTURES)}.")
    cls, cfg_cls = ARCHITECTURES[kind]
    try:
        return cls(cfg_cls(**config))
    except TypeError as err:
        raise ValueError(f"Bad config for a {kind} network: {err}.") from err


def config_dict(net: nn.Module) -> dict:
    return asdict(net.config)


class EpsModel:
    """The eps-model interface around a network: (x_t, alpha_bar) -> ε̂, conditioned on log-SNR."""

    def __init__(self, net: nn.Module):
        self.net = net.eval()

    def __call__(self, x_t: torch.Tensor, alpha_bar) -> torch.Tensor:
        if x_t.requires_grad and torch.is_grad_enabled():  # differentiated through (the ODE likelihood's divergence)
            return differentiable(self.net, x_t, _log_snr_tensor(alpha_bar))
        if isinstance(alpha_bar, float):  # the samplers' case: one shared level, no tensor maths
            ab = min(max(alpha_bar, 1e-30), 1 - 1e-15)
            log_snr = min(max(math.log(ab) - math.log1p(-ab), LOG_SNR_RANGE[0]), LOG_SNR_RANGE[1])
            if hasattr(self.net, "at_level"):
                return self.net.at_level(x_t, log_snr)
            with torch.inference_mode():
                return self.net(x_t, torch.full((1,), log_snr, device=x_t.device, dtype=x_t.dtype))
        with torch.no_grad():  # one shared level is embedded once, shape (1,), and broadcast over the batch
            return self.net(x_t, _log_snr_tensor(alpha_bar).to(x_t.device, x_t.dtype))

    def to(self, device) -> "EpsModel":
        self.net.to(device)
        return self


def _log_snr_tensor(alpha_bar) -> torch.Tensor:
    ab = torch.as_tensor(alpha_bar, dtype=torch.float64)
    log_snr = (torch.log(ab.clamp_min(1e-30)) - torch.log1p(-ab.clamp_max(1 - 1e-15))).clamp(*LOG_SNR_RANGE)
    return log_snr.reshape(1) if log_snr.ndim == 0 else log_snr


def differentiable(net: nn.Module, x: torch.Tensor, log_snr: torch.Tensor) -> torch.Tensor:
    """net(x, log-SNR) with autograd through x, in the network's dtype and back in x's."""
    dtype = net.out.weight.dtype
    return net(x.to(dtype), log_snr.to(x.device, dtype)).to(x.dtype)
