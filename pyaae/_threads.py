"""How many threads the CPU kernels use: PyTorch's setting unless pyaae.set_num_threads chose one."""
from __future__ import annotations

from typing import Optional

import torch

# Far above any core count, and within the C int the kernels take.
MAX_THREADS = 4096
_num_threads: Optional[int] = None


def set_num_threads(num_threads: Optional[int]) -> None:
    """Use ``num_threads`` threads in the CPU kernels; ``None`` follows ``torch.get_num_threads()``."""
    global _num_threads
    if num_threads is not None:
        if isinstance(num_threads, bool) or not isinstance(num_threads, int) or not 1 <= num_threads <= MAX_THREADS:
            raise ValueError(f"num_threads must be a positive integer or None (at most {MAX_THREADS}), "
                             f"got {num_threads!r}")
    _num_threads = num_threads


def get_num_threads() -> int:
    """Threads the CPU kernels use for the next call."""
    return _num_threads if _num_threads is not None else torch.get_num_threads()
