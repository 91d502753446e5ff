"""Where this process stands in torch.distributed's default process group (if any)."""
from __future__ import annotations

from typing import Tuple

import torch


def rank_and_world() -> Tuple[int, int]:
    """(rank, world size) of the default torch.distributed process group, (0, 1) outside one."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def collective_device() -> torch.device:
    """The device the default group's collectives take tensors on: the current CUDA device under
    nccl, the CPU otherwise (gloo)."""
    if torch.distributed.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")
