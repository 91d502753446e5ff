"""Categorical prior on one-hot codes (the semi-supervised and clustering AAEs' y)."""
from __future__ import annotations

from typing import Optional, Tuple

import torch

from .base import Prior, check_weights, weights_cdf


class Categorical(Prior):
    """One-hot vectors of ``len(probs)`` categories, category k with probability probs[k]."""

    kernel_kind = "categorical"

    def __init__(self, probs) -> None:
        self.probs = check_weights(probs, "probs")
        self.dim = self.num_classes = self.probs.shape[0]

    def _kernel_params(self) -> dict:
        return {"cdf": weights_cdf(self.probs)}

    def _sample_reference(self, n: int, labels: Optional[torch.Tensor],
                          generator: torch.Generator) -> Tuple[torch.Tensor, torch.Tensor]:
        index = torch.multinomial(self.probs, n, replacement=True, generator=generator) if n else \
            torch.empty(0, dtype=torch.int64)
        return torch.nn.functional.one_hot(index, self.dim).to(torch.float64), index

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        z = self._check_z(z)
        one_hot = ((z == 0) | (z == 1)).all(1) & (z.sum(1) == 1)
        log_probs = torch.log(self.probs.to(z))[z.argmax(1)]
        return torch.where(one_hot, log_probs, torch.full_like(log_probs, -float("inf")))

    def to_config(self) -> dict:
        return {"kind": "categorical", "probs": self.probs.tolist()}

    def __repr__(self) -> str:
        return f"Categorical(probs={self.probs.tolist()})"
