"""Small synthetic labelled data sets with MNIST's shapes, for quick runs and tests."""
from __future__ import annotations

from typing import Tuple

import torch

SYNTHETIC = ("blobs",)


SPLITS = ("train", "validation", "test")


def blobs(n: int = 5000, *, split: str = "train", num_classes: int = 10, dim: int = 784, noise: float = 0.15,
          seed: int = 0) -> Tuple[torch.Tensor, torch.Tensor]:
    """``n`` images [n, dim] in [0, 1] and labels int64 [n]: each class is a random binary template
    (about a fifth of its pixels on, like a digit's strokes) plus clipped Gaussian pixel noise, so the
    classes are well separated but no two images are equal. ``seed`` fixes the templates (the task),
    ``split`` the draws: the splits of one seed are disjoint samples of the same classes."""
    for name, value in (("n", n), ("num_classes", num_classes), ("dim", dim)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if not noise >= 0:
        raise ValueError(f"noise must be >= 0, got {noise!r}")
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}; got {split!r}")
    templates = (torch.rand(num_classes, dim, generator=torch.Generator().manual_seed(seed)) < 0.2).float()
    generator = torch.Generator().manual_seed(seed * len(SPLITS) + SPLITS.index(split) + 1)
    labels = torch.randint(0, num_classes, (n,), generator=generator)
    images = templates[labels] + noise * torch.randn(n, dim, generator=generator)
    return images.clamp_(0.0, 1.0), labels
