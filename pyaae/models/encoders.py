"""The three encoders of the paper: q(z|x) deterministic, Gaussian posterior, universal approximator."""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from ..nn import FusedLinear, FusedMLP

ENCODERS = ("deterministic", "gaussian", "universal")


class DeterministicEncoder(nn.Module):
    """z = f(x): q(z|x) is a point mass."""

    def __init__(self, input_dim: int, latent_dim: int, hidden: Sequence[int], backend: str = "auto") -> None:
        super().__init__()
        self.net = FusedMLP([input_dim, *hidden, latent_dim], backend=backend)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class GaussianEncoder(nn.Module):
    """z ~ N(mu(x), diag(exp(logvar(x)))) by reparameterization while training; mu(x) in eval mode."""

    def __init__(self, input_dim: int, latent_dim: int, hidden: Sequence[int], backend: str = "auto") -> None:
        super().__init__()
        if not hidden:
            raise ValueError("the gaussian encoder needs at least one hidden layer (its heads share it)")
        self.trunk = FusedMLP([input_dim, *hidden], out_activation="relu", backend=backend)
        self.mean = FusedLinear(hidden[-1], latent_dim, backend=backend)
        self.log_var = FusedLinear(hidden[-1], latent_dim, backend=backend)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.trunk(x)
        mean = self.mean(h)
        if not self.training:
            return mean
        return mean + torch.exp(0.5 * self.log_var(h)) * torch.randn_like(mean)


class UniversalEncoder(nn.Module):
    """z = f(x, eta) with eta ~ N(0, I) concatenated to the input: q(z|x) = delta(z - f(x, eta))."""

    def __init__(self, input_dim: int, latent_dim: int, hidden: Sequence[int], noise_dim: int,
                 backend: str = "auto") -> None:
        super().__init__()
        if isinstance(noise_dim, bool) or not isinstance(noise_dim, int) or noise_dim < 1:
            raise ValueError(f"noise_dim must be a positive integer, got {noise_dim!r}")
        self.noise_dim = noise_dim
        self.net = FusedMLP([input_dim + noise_dim, *hidden, latent_dim], backend=backend)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        eta = torch.randn(x.shape[0], self.noise_dim, dtype=x.dtype, device=x.device)
        return self.net(torch.cat([x, eta], 1))


def make_encoder(kind: str, input_dim: int, latent_dim: int, hidden: Sequence[int], noise_dim: int,
                 backend: str) -> nn.Module:
    """The encoder named ``kind`` (one of ENCODERS)."""
    if kind == "deterministic":
        return DeterministicEncoder(input_dim, latent_dim, hidden, backend)
    if kind == "gaussian":
        return GaussianEncoder(input_dim, latent_dim, hidden, backend)
    if kind == "universal":
        return UniversalEncoder(input_dim, latent_dim, hidden, noise_dim, backend)
    raise ValueError(f"encoder must be one of {', '.join(ENCODERS)}; got {kind!r}")
