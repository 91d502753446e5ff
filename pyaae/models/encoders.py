"""The three encoders of the paper: q(z|x) deterministic, Gaussian posterior, universal approximator."""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from ..nn import FusedLinear, FusedMLP

ENCODERS = ("deterministic", "gaussian", "universal")


class DeterministicEncoder(nn.Module):
    """z = f(x): q(z|x) is a point mass. ``dropout`` and ``hidden_noise``: on every hidden layer's
    output while training."""

    def __init__(self, input_dim: int, latent_dim: int, hidden: Sequence[int], backend: str = "auto",
                 dropout: float = 0.0, hidden_noise: float = 0.0) -> None:
        super().__init__()
        self.net = FusedMLP([input_dim, *hidden, latent_dim], backend=backend, dropout=dropout,
                            hidden_noise=hidden_noise)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class GaussianEncoder(nn.Module):
    """z ~ N(mu(x), diag(noise_scale^2 exp(logvar(x)))) by reparameterization while training; mu(x)
    in eval mode.

    ``noise_scale`` multiplies the posterior's standard deviation exp(logvar / 2). At 1 it is the
    paper's Gaussian posterior. At the prior's standard deviation (5 for the paper's N(0, 5^2 I)) the
    noise starts, with logvar near 0, as wide as the prior itself, so the decoder learns from the
    start to map the prior's whole volume to images; this is the encoder of public code that reaches
    the paper's Parzen estimate (docs/reproducing.md). ``dropout`` and ``hidden_noise``: on every
    hidden layer's output (the trunk's) while training."""

    def __init__(self, input_dim: int, latent_dim: int, hidden: Sequence[int], backend: str = "auto",
                 dropout: float = 0.0, noise_scale: float = 1.0, hidden_noise: float = 0.0) -> None:
        super().__init__()
        if not hidden:
            raise ValueError("the gaussian encoder needs at least one hidden layer (its heads share it)")
        if isinstance(noise_scale, bool) or not isinstance(noise_scale, (int, float)) or not 0 < noise_scale < 1e30:
            raise ValueError(f"noise_scale must be a positive finite number, got {noise_scale!r}")
        self.noise_scale = float(noise_scale)
        self.trunk = FusedMLP([input_dim, *hidden], out_activation="relu", backend=backend, dropout=dropout,
                              out_dropout=dropout, hidden_noise=hidden_noise, out_noise=hidden_noise)
        self.mean = FusedLinear(hidden[-1], latent_dim, backend=backend)
        self.log_var = FusedLinear(hidden[-1], latent_dim, backend=backend)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.trunk(x)
        mean = self.mean(h)
        if not self.training:
            return mean
        return mean + self.noise_scale * torch.exp(0.5 * self.log_var(h)) * torch.randn_like(mean)


class UniversalEncoder(nn.Module):
    """z = f(x, eta) with eta ~ N(0, I) concatenated to the input: q(z|x) = delta(z - f(x, eta))."""

    def __init__(self, input_dim: int, latent_dim: int, hidden: Sequence[int], noise_dim: int,
                 backend: str = "auto", dropout: float = 0.0, hidden_noise: float = 0.0) -> None:
        super().__init__()
        if isinstance(noise_dim, bool) or not isinstance(noise_dim, int) or noise_dim < 1:
            raise ValueError(f"noise_dim must be a positive integer, got {noise_dim!r}")
        self.noise_dim = noise_dim
        self.net = FusedMLP([input_dim + noise_dim, *hidden, latent_dim], backend=backend, dropout=dropout,
                            hidden_noise=hidden_noise)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        eta = torch.randn(x.shape[0], self.noise_dim, dtype=x.dtype, device=x.device)
        return self.net(torch.cat([x, eta], 1))


def make_encoder(kind: str, input_dim: int, latent_dim: int, hidden: Sequence[int], noise_dim: int,
                 backend: str, dropout: float = 0.0, noise_scale: float = 1.0,
                 hidden_noise: float = 0.0) -> nn.Module:
    """The encoder named ``kind`` (one of ENCODERS); ``noise_scale`` applies to the gaussian encoder
    only (1 for the others)."""
    if kind != "gaussian" and noise_scale != 1.0:
        raise ValueError(f"encoder_noise_scale applies to the gaussian encoder only, not {kind!r}")
    if kind == "deterministic":
        return DeterministicEncoder(input_dim, latent_dim, hidden, backend, dropout, hidden_noise)
    if kind == "gaussian":
        return GaussianEncoder(input_dim, latent_dim, hidden, backend, dropout, noise_scale, hidden_noise)
    if kind == "universal":
        return UniversalEncoder(input_dim, latent_dim, hidden, noise_dim, backend, dropout, hidden_noise)
    raise ValueError(f"encoder must be one of {', '.join(ENCODERS)}; got {kind!r}")
