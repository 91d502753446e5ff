"""Uniform prior on a box."""
from __future__ import annotations

from typing import Optional, Sequence, Tuple, Union

import torch

from .base import Prior, as_float_tensor, check_positive_int

Scalars = Union[float, Sequence[float], torch.Tensor]


class Uniform(Prior):
    """Uniform on the box [low, high) in ``dim`` dimensions."""

    kernel_kind = "uniform"

    def __init__(self, dim: int, low: Scalars = 0.0, high: Scalars = 1.0) -> None:
        dim = check_positive_int(dim, "dim")
        self.dim = dim
        self.low = as_float_tensor(low, "low", (dim,))
        self.high = as_float_tensor(high, "high", (dim,))
        if (self.high <= self.low).any():
            raise ValueError("high must be greater than low in every dimension")
        if (self.high.float() <= self.low.float()).any():
            raise ValueError("high must be greater than low in every dimension in float32, the samples' dtype "
                             f"(low {self.low.tolist()} and high {self.high.tolist()} round to the same float32)")

    def _kernel_params(self) -> dict:
        return {"loc": self.low, "scale": self.high}

    def _sample_reference(self, n: int, labels: Optional[torch.Tensor],
                          generator: torch.Generator) -> Tuple[torch.Tensor, torch.Tensor]:
        u = torch.rand(n, self.dim, generator=generator, dtype=torch.float64)
        samples = (self.low + (self.high - self.low) * u).to(torch.float32)
        # float32 rounding can reach high: keep the box half-open, as the kernels do.
        below_high = torch.nextafter(self.high.float(), self.low.float())
        return torch.minimum(samples, below_high), torch.full((n,), -1, dtype=torch.int64)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        z = self._check_z(z)
        low, high = self.low.to(z), self.high.to(z)
        inside = ((z >= low) & (z < high)).all(1)
        density = -torch.log(high - low).sum()
        return torch.where(inside, density, torch.full_like(density, -float("inf")))

    def to_config(self) -> dict:
        return {"kind": "uniform", "dim": self.dim, "low": self.low.tolist(), "high": self.high.tolist()}

    def __repr__(self) -> str:
        return f"Uniform(dim={self.dim}, low={self.low.tolist()}, high={self.high.tolist()})"
