"""How many threads the CPU kernels use: PyTorch's setting unless pyaae.set_num_threads chose one."""
from __future__ import annotations

from typing import Optional

import torch

_num_threads: Optional[int] = None


def set_num_threads(num_threads: Optional[int]) -> None:
    """Use ``num_threads`` threads in the CPU kernels; ``None`` follows ``torch.get_num_threads()``."""
    global _num_threads
    if num_threads is not None:
        if isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 1:
            raise ValueError(f"num_threads must be a positive integer or None, got {num_threads!r}")
    _num_threads = num_threads


def get_num_threads() -> int:
    """Threads the CPU kernels use for the next call."""
    return _num_threads if _num_threads is not None else torch.get_num_threads()
