"""How tensors cross into the kernels: C-contiguous matrices, viewed as NumPy arrays without copies."""
from __future__ import annotations

from typing import Optional

import numpy as np
import torch


def as_array(t: Optional[torch.Tensor]) -> Optional[np.ndarray]:
    """A NumPy view sharing t's memory (None stays None)."""
    return None if t is None else t.detach().numpy()


# reshape() costs an autograd view per call, so 2-D inputs (the common case) pass straight through.
def as_matrix(x: torch.Tensor) -> torch.Tensor:
    """x as a C-contiguous ``[rows, features]`` tensor, leading dimensions flattened as in F.linear."""
    return x.contiguous() if x.dim() == 2 else x.reshape(-1, x.shape[-1]).contiguous()


def restore_leading(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The ``[rows, out]`` result y with x's leading dimensions put back."""
    return y if x.dim() == 2 else y.reshape(*x.shape[:-1], y.shape[-1])
