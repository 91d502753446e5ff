"""Training inside a torch.distributed process group (torchrun; gloo on CPU, nccl on GPU).

Every rank holds the whole dataset and draws the same shuffle; each minibatch of ``batch_size``
rows is split into one contiguous shard per rank (the distributed sampler). Losses are scaled so
that DistributedDataParallel's gradient average equals the gradient of the whole minibatch's loss,
and prior samples are drawn for the whole minibatch from the step's Philox stream, each rank
keeping its rows: N ranks with batch_size/N rows each follow the one-process run with batch_size.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Callable, Iterator, List, Optional, Tuple, TypeVar

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from .._process_group import rank_and_world

T = TypeVar("T")
# Ranks after 0 reseed PyTorch's generator (input and discriminator noise, encoder noise) with the
# seed plus this times the rank, so that their noise differs from rank 0's (which keeps the
# one-process stream).
RANK_SEED_STRIDE = 0x9E3779B1


class DistributedTrainingError(RuntimeError):
    """A collective operation failed: another rank died or timed out."""


@dataclass(frozen=True)
class Shard:
    """This rank's rows [lo, hi) of a minibatch of ``total`` rows split over ``world`` ranks (the
    first total % world ranks take one row more)."""

    rank: int
    world: int
    total: int

    @classmethod
    def of(cls, total: int) -> "Shard":
        """This process's shard of a minibatch of ``total`` rows."""
        rank, world = rank_and_world()
        return cls(rank, world, total)

    @property
    def bounds(self) -> Tuple[int, int]:
        base, extra = divmod(self.total, self.world)
        lo = self.rank * base + min(self.rank, extra)
        return lo, lo + base + (self.rank < extra)

    def take(self, rows: T) -> T:
        """This rank's rows of a tensor (or None) holding the whole minibatch."""
        if rows is None:
            return rows
        lo, hi = self.bounds
        return rows[lo:hi]

    def per_row(self, total_sum: torch.Tensor) -> torch.Tensor:
        """A loss summed over this rank's rows as its share of the minibatch's mean per row, times the
        world size: DistributedDataParallel averages the ranks' gradients, so the update is the whole
        minibatch's however unevenly it is split."""
        # Divided (not multiplied by a reciprocal): one process rounds exactly as sum / n.
        return total_sum / (self.total / self.world)

    def mean(self, loss: Callable[..., torch.Tensor], *args: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
        """``scale`` times the mean ``loss(*args, reduction="mean")`` over this rank's rows (the same
        number of terms per row) as its share of the minibatch's, times the world size (see
        ``per_row``)."""
        lo, hi = self.bounds
        if hi == lo:
            return loss(*args, reduction="sum")  # zero, and still a node of the graph for DDP's backward pass
        # One process: the plain mean times scale, rounded exactly as without a shard.
        return loss(*args, reduction="mean") * (scale * ((hi - lo) * self.world / self.total))


def seed_rank_generator(seed: int) -> None:
    """Give ranks after 0 their own PyTorch random stream (input and encoder noise); rank 0 keeps
    the one started by ``torch.manual_seed(seed)``."""
    rank, world = rank_and_world()
    if world > 1 and rank > 0:
        torch.manual_seed((seed + RANK_SEED_STRIDE * rank) % 2**63)


@contextlib.contextmanager
def data_parallel(model: nn.Module, device: torch.device) -> Iterator[None]:
    """Inside a process group of several ranks: the model's networks (its direct submodules with
    parameters) wrapped in DistributedDataParallel for the duration, and gradients of parameters
    outside any network (the dim_reduction heads) averaged after each backward pass.

    The wrappers shadow the networks as instance attributes, so ``model.encoder(...)`` runs the DDP
    wrapper while ``model.state_dict()``, ``parameters()`` and ``save()`` see the model unchanged.
    """
    _, world = rank_and_world()
    if world == 1:
        yield
        return
    if dist.get_backend() == "nccl" and device.type != "cuda":
        raise ValueError(f"device is {str(device)!r} but the process group runs nccl, which moves CUDA tensors "
                         "only: train with device='cuda', or start the group with gloo to train on the CPU")
    device_ids = [device.index if device.index is not None else torch.cuda.current_device()] \
        if device.type == "cuda" else None
    wrapped: List[str] = []
    hooks = []
    try:
        for name, child in model.named_children():
            if any(p.requires_grad for p in child.parameters()):
                # Every parameter takes part in each forward pass that expects a gradient (see no_sync).
                model.__dict__[name] = DistributedDataParallel(child, device_ids=device_ids)
                wrapped.append(name)
        for parameter in model._parameters.values():
            if parameter is not None and parameter.requires_grad:
                dist.broadcast(parameter.data, 0)
                hooks.append(parameter.register_post_accumulate_grad_hook(_average_gradient))
        yield
    finally:
        for name in wrapped:
            del model.__dict__[name]
        for hook in hooks:
            hook.remove()


def _average_gradient(parameter: torch.Tensor) -> None:
    dist.all_reduce(parameter.grad)
    parameter.grad /= dist.get_world_size()


def no_sync(network: nn.Module) -> contextlib.AbstractContextManager:
    """For a forward pass whose parameters get no gradient (the discriminator while the encoder
    learns to fool it): DDP must not wait for gradients that never come."""
    return network.no_sync() if isinstance(network, DistributedDataParallel) else contextlib.nullcontext()


def collective_failure(exc: BaseException) -> Optional[DistributedTrainingError]:
    """A clear error for an exception raised by a failed collective (a peer died or timed out), or
    None when ``exc`` is something else or this process is not in a group."""
    rank, world = rank_and_world()
    if world == 1 or not _is_collective_error(exc):
        return None
    return DistributedTrainingError(
        f"rank {rank} of {world}: a collective operation failed, so another rank has died or stopped answering "
        f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); restart every rank, with "
        "resume=True (--resume) to continue from the last checkpoint")


def _is_collective_error(exc: BaseException) -> bool:
    if isinstance(exc, dist.DistError):
        return True
    # gloo reports a lost or silent peer as a plain RuntimeError from its transport, e.g. "Connection
    # reset by peer" (with a third_party/gloo path) or "Application timeout caused pair closure".
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and any(s in text for s in ("gloo", "nccl", "connection", "timeout",
                                                                     "timed out", "pair closure"))


@contextlib.contextmanager
def collective_failures_reported() -> Iterator[None]:
    """Inside: an exception from a failed collective surfaces as a DistributedTrainingError."""
    try:
        yield
    except DistributedTrainingError:
        raise
    except RuntimeError as exc:
        failure = collective_failure(exc)
        if failure is None:
            raise
        raise failure from exc
