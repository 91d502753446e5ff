"""Where this process stands in torch.distributed's default process group (if any)."""
from __future__ import annotations

import contextlib
import datetime
import os
import time
from typing import Iterator, List, Tuple

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


def all_ranks_agree(flag: bool) -> bool:
    """Whether ``flag`` holds on every rank (one collective; the flag itself outside a group)."""
    _, world = rank_and_world()
    if world == 1:
        return flag
    value = torch.tensor([0.0 if flag else 1.0], device=collective_device())
    torch.distributed.all_reduce(value, op=torch.distributed.ReduceOp.MAX)
    return bool(value.item() == 0.0)


def any_rank(flag: bool) -> bool:
    """Whether ``flag`` holds on some rank."""
    return not all_ranks_agree(not flag)


def sum_over_ranks(values: torch.Tensor) -> torch.Tensor:
    """The elementwise sum of ``values`` over the ranks (``values`` itself outside a group)."""
    _, world = rank_and_world()
    if world == 1:
        return values
    summed = values.to(collective_device())
    torch.distributed.all_reduce(summed)
    return summed.to(values.device)


def gather_to_all(value: torch.Tensor) -> List[torch.Tensor]:
    """Every rank's ``value`` (same shape and dtype on all ranks), in rank order, on every rank."""
    _, world = rank_and_world()
    if world == 1:
        return [value]
    local = value.to(collective_device())
    parts = [torch.empty_like(local) for _ in range(world)]
    torch.distributed.all_gather(parts, local)
    return [part.to(value.device) for part in parts]


def barrier() -> None:
    """Wait for every rank (nothing outside a group)."""
    if rank_and_world()[1] > 1:
        torch.distributed.barrier()


# Long enough for a descheduled worker thread on a loaded machine to run again (time slices are
# milliseconds); the CLI pays it once per run.
_SETTLE_SECONDS = 0.25


def finish_collectives() -> None:
    """Before a rank leaves the default group for good: wait for every rank, then give gloo's
    worker threads time to free the finished collectives.

    Under torch 2.13 DistributedDataParallel keeps the gloo group alive past
    ``destroy_process_group``, so its worker threads outlive it and free the last collectives'
    tensors in their own time (their Python objects with them). A worker that does so once the
    interpreter has begun to shut down cannot take the GIL and the process aborts (SIGABRT,
    "terminate called without an active exception"): one torchrun run in 30-60 under CPU load,
    a worker found in ``~AsyncBarrierWork`` -> ``THPVariable_dealloc`` -> ``take_gil`` in the core.
    The pause, which releases the GIL, lets them finish first.
    """
    if rank_and_world()[1] > 1:
        torch.distributed.barrier()
        time.sleep(_SETTLE_SECONDS)


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
        # Skipped when the body raised, so that a failing rank does not wait out the timeout for
        # peers that will never arrive.
        finish_collectives()
    finally:
        torch.distributed.destroy_process_group()
