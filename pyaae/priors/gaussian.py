"""Gaussian prior with a diagonal covariance."""
from __future__ import annotations

import math
from typing import Optional, Sequence, Tuple, Union

import torch

from .base import Prior, as_float_tensor, check_positive_int, check_scale

Scalars = Union[float, Sequence[float], torch.Tensor]


class Gaussian(Prior):
    """N(mean, diag(std^2)) in ``dim`` dimensions (the paper's likelihood experiment: std 5 in 8-D)."""

    kernel_kind = "gaussian"

    def __init__(self, dim: int, mean: Scalars = 0.0, std: Scalars = 1.0) -> None:
        dim = check_positive_int(dim, "dim")
        self.dim = dim
        self.mean = as_float_tensor(mean, "mean", (dim,))
        self.std = check_scale(as_float_tensor(std, "std", (dim,)), "std")

    def _kernel_params(self) -> dict:
        return {"loc": self.mean, "scale": self.std}

    def _sample_reference(self, n: int, labels: Optional[torch.Tensor],
                          generator: torch.Generator) -> Tuple[torch.Tensor, torch.Tensor]:
        z = torch.randn(n, self.dim, generator=generator, dtype=torch.float64)
        return self.mean + self.std * z, torch.full((n,), -1, dtype=torch.int64)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        z = self._check_z(z)
        mean, std = self.mean.to(z), self.std.to(z)
        return (-0.5 * ((z - mean) / std) ** 2 - torch.log(std) - 0.5 * math.log(2 * math.pi)).sum(1)

    def to_config(self) -> dict:
        return {"kind": "gaussian", "dim": self.dim, "mean": self.mean.tolist(), "std": self.std.tolist()}

    def __repr__(self) -> str:
        return f"Gaussian(dim={self.dim}, mean={self.mean.tolist()}, std={self.std.tolist()})"
