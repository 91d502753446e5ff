"""The paper's swiss roll, cut into segments that labels can select."""
from __future__ import annotations

import math
from typing import Optional, Tuple

import torch

from .base import MAX_PARAMETER, Prior, check_positive_int, weights_cdf


class SwissRoll(Prior):
    """2-D swiss roll: arc parameter u uniform in [0, 1), point (3 sqrt(u) cos(4 pi sqrt(u)),
    3 sqrt(u) sin(4 pi sqrt(u))), plus N(0, noise_std^2) noise. Segment s of ``num_segments`` is
    u in [s/S, (s+1)/S); a label selects its segment (-1: any)."""

    kernel_kind = "swiss_roll"
    dim = 2

    def __init__(self, num_segments: int = 10, noise_std: float = 0.0) -> None:
        num_segments = check_positive_int(num_segments, "num_segments")
        if not (isinstance(noise_std, (int, float)) and 0 <= noise_std <= MAX_PARAMETER):
            raise ValueError(f"noise_std must be a finite number >= 0 and at most {MAX_PARAMETER:g} (samples are "
                             f"float32), got {noise_std!r}")
        self.num_classes = num_segments
        self.noise_std = float(noise_std)

    @staticmethod
    def point(u: torch.Tensor) -> torch.Tensor:
        """The roll's point at arc parameter u (no noise)."""
        root = torch.sqrt(u)
        return torch.stack([3 * root * torch.cos(4 * math.pi * root), 3 * root * torch.sin(4 * math.pi * root)], -1)

    def _kernel_params(self) -> dict:
        weights = torch.full((self.num_classes,), 1.0 / self.num_classes, dtype=torch.float64)
        return {"cdf": weights_cdf(weights), "noise_std": self.noise_std}

    def _sample_reference(self, n: int, labels: Optional[torch.Tensor],
                          generator: torch.Generator) -> Tuple[torch.Tensor, torch.Tensor]:
        drawn = torch.randint(0, self.num_classes, (n,), generator=generator)
        segment = drawn if labels is None else torch.where(labels >= 0, labels, drawn)
        u = (segment + torch.rand(n, generator=generator, dtype=torch.float64)) / self.num_classes
        noise = torch.randn(n, 2, generator=generator, dtype=torch.float64) * self.noise_std
        return self.point(u) + noise, segment

    def to_config(self) -> dict:
        return {"kind": "swiss_roll", "num_segments": self.num_classes, "noise_std": self.noise_std}

    def __repr__(self) -> str:
        return f"SwissRoll(num_segments={self.num_classes}, noise_std={self.noise_std})"
