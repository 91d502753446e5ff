"""Where this process stands in torch.distributed's default process group (if any)."""
from __future__ import annotations

import contextlib
import datetime
import os
from typing import Iterator, Tuple

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


@contextlib.contextmanager
def process_group_from_environment(device: str, timeout_seconds: float) -> Iterator[str]:
    """For the CLI under torchrun (WORLD_SIZE > 1 in the environment): the default process group
    for the duration, nccl for a CUDA device, gloo otherwise. Yields the device this rank runs on
    (for CUDA, the local rank's GPU); outside torchrun, ``device`` unchanged and no group."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or torch.distributed.is_initialized():
        yield device
        return
    cuda = torch.device(device).type == "cuda"
    if cuda:
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        device = f"cuda:{local}"
    torch.distributed.init_process_group("nccl" if cuda else "gloo",
                                         timeout=datetime.timedelta(seconds=timeout_seconds))
    try:
        yield device
    finally:
        torch.distributed.destroy_process_group()
