"""Mixture of Gaussians, with the paper's 10 components around a circle as a preset."""
from __future__ import annotations

import math
from typing import Optional, Tuple

import torch

from .base import Prior, as_float_tensor, check_weights, weights_cdf


class GaussianMixture(Prior):
    """sum_k weights[k] N(means[k], covariances[k]); labels select component k (-1: any).

    Attributes: ``means`` [K, dim], ``covariances`` [K, dim, dim], ``weights`` [K], ``num_classes`` K.
    """

    kernel_kind = "mixture"
    MAX_DIM = 64  # the kernel holds a component's Cholesky factor in registers

    def __init__(self, means, covariances, weights=None) -> None:
        self.means = as_float_tensor(means, "means")
        if self.means.dim() != 2 or self.means.shape[0] == 0 or self.means.shape[1] == 0:
            raise ValueError(f"means must be [K, dim] with K >= 1 and dim >= 1, got {tuple(self.means.shape)}")
        k, dim = self.means.shape
        if dim > self.MAX_DIM:
            raise ValueError(f"the mixture's dimension is at most {self.MAX_DIM}, got {dim}")
        self.dim, self.num_classes = dim, k
        self.covariances = as_float_tensor(covariances, "covariances", (k, dim, dim))
        if not torch.allclose(self.covariances, self.covariances.transpose(1, 2)):
            raise ValueError("covariances must be symmetric")
        try:
            self.cholesky = torch.linalg.cholesky(self.covariances)
        except RuntimeError as exc:
            raise ValueError("covariances must be positive definite") from exc
        self.weights = check_weights(torch.full((k,), 1.0 / k) if weights is None else weights, "weights")
        if self.weights.shape != (k,):
            raise ValueError(f"weights must have {k} entries, one per component, got {self.weights.shape[0]}")

    @classmethod
    def paper_preset(cls, num_components: int = 10, radius: float = 1.4, radial_std: float = 0.5,
                     tangential_std: float = 0.05) -> "GaussianMixture":
        """The paper's 2-D mixture (its Fig. 4): ``num_components`` elongated Gaussians evenly around a
        circle, component k at angle 2 pi k / K, with std ``radial_std`` along the radius and
        ``tangential_std`` across it, equal weights."""
        angles = torch.arange(num_components, dtype=torch.float64) * (2 * math.pi / num_components)
        directions = torch.stack([torch.cos(angles), torch.sin(angles)], 1)
        rotations = torch.stack([directions, torch.stack([-directions[:, 1], directions[:, 0]], 1)], 2)
        spread = torch.diag(torch.tensor([radial_std**2, tangential_std**2], dtype=torch.float64))
        return cls(radius * directions, rotations @ spread @ rotations.transpose(1, 2))

    def _kernel_params(self) -> dict:
        return {"loc": self.means, "scale": self.cholesky, "cdf": weights_cdf(self.weights)}

    def _sample_reference(self, n: int, labels: Optional[torch.Tensor],
                          generator: torch.Generator) -> Tuple[torch.Tensor, torch.Tensor]:
        drawn = torch.multinomial(self.weights, n, replacement=True, generator=generator) if n else \
            torch.empty(0, dtype=torch.int64)
        index = drawn if labels is None else torch.where(labels >= 0, labels, drawn)
        z = torch.randn(n, self.dim, 1, generator=generator, dtype=torch.float64)
        return self.means[index] + (self.cholesky[index] @ z).squeeze(-1), index

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        z = self._check_z(z)
        components = torch.distributions.MultivariateNormal(self.means.to(z), scale_tril=self.cholesky.to(z))
        per_component = components.log_prob(z.unsqueeze(1)) + torch.log(self.weights.to(z))
        return torch.logsumexp(per_component, 1)

    def to_config(self) -> dict:
        return {"kind": "mixture", "means": self.means.tolist(), "covariances": self.covariances.tolist(),
                "weights": self.weights.tolist()}

    def __repr__(self) -> str:
        return f"GaussianMixture(K={self.num_classes}, dim={self.dim})"
