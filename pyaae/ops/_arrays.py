"""Zero-copy NumPy views of CPU tensors, the form in which tensors cross into the kernels."""
from __future__ import annotations

from typing import Optional

import numpy as np
import torch


def as_array(t: Optional[torch.Tensor]) -> Optional[np.ndarray]:
    """A NumPy view sharing t's memory (None stays None)."""
    return None if t is None else t.detach().numpy()
