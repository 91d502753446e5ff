"""The Parzen-window log-likelihood estimate of a generative model (Breuleux et al. 2011; the
protocol of the GAN and AAE papers): a Gaussian kernel density on the model's samples, its bandwidth
chosen on validation data, the mean log-likelihood of the test data reported with its standard error."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional

import torch

from .._process_group import collective_device, gather_to_all, rank_and_world
from ..ops.parzen import parzen_log_likelihood


@dataclass(frozen=True)
class ParzenResult:
    """sigma: the bandwidth chosen on the validation set; mean and stderr: the test points' mean
    log-likelihood at that bandwidth and its standard error std / sqrt(N); validation: the
    validation points' mean log-likelihood for each of sigmas."""

    sigma: float
    mean: float
    stderr: float
    validation: torch.Tensor
    sigmas: torch.Tensor


def _progress_bar(enabled: bool, total: int) -> tuple:
    """(callback for parzen_log_likelihood, close) over a tqdm bar; no-ops when disabled."""
    if not enabled:
        return None, lambda: None
    from tqdm.auto import tqdm

    bar = tqdm(total=total, unit="points", desc="Parzen")
    done_before = [0]

    def update(done: int, _total: int) -> None:
        bar.update(done - done_before[0])
        done_before[0] = done

    def close() -> None:
        bar.close()

    def callback_for(offset: int) -> Callable[[int, int], None]:
        return lambda done, t: update(offset + done, t)

    return callback_for, close


def parzen(samples: object, x_valid: object, x_test: object, sigmas: Optional[object] = None, *,
           backend: str = "auto", batch_size: int = 1000, progress: bool = True) -> ParzenResult:
    """Parzen-window estimate of the test log-likelihood under a model that produced ``samples``.

    Args:
        samples: ``[M, D]`` samples of the model (the papers use M = 10,000).
        x_valid: ``[N_valid, D]`` validation data, on which the bandwidth is chosen (the one of the
            highest finite mean log-likelihood; a ValueError when none is finite).
        x_test: ``[N_test, D]`` test data, whose mean log-likelihood is reported.
        sigmas: candidate bandwidths; default ``torch.logspace(-1, 0, 10)`` (10 values in [0.1, 1]).
        backend: as in :func:`pyaae.ops.parzen_log_likelihood`.
        batch_size: test points per kernel call (the granularity of the progress bar).
        progress: show a tqdm progress bar.

    Every candidate bandwidth costs little more than one: the kernels compute each distance once.
    Inside a torch.distributed process group, every rank calls this with the same arguments; each
    evaluates its share of the points, and all get the same result as one process would (only rank 0
    shows the progress bar).
    """
    grid = torch.logspace(-1, 0, 10) if sigmas is None else torch.as_tensor(sigmas, dtype=torch.float64).reshape(-1)
    n_valid, n_test = len(x_valid), len(x_test)
    rank, world = rank_and_world()
    shown = _shard_size(n_valid, world) + _shard_size(n_test, world)
    callback_for, close = _progress_bar(progress and rank == 0, shown)
    try:
        valid = _per_point(x_valid, samples, grid, backend, batch_size, callback_for, 0)
        scores = valid.mean(0).cpu()
        best = _best_bandwidth(scores, grid)
        test = _per_point(x_test, samples, grid[best:best + 1], backend, batch_size, callback_for,
                          _shard_size(n_valid, world))[:, 0]
    finally:
        close()
    stderr = test.std().item() / math.sqrt(n_test) if n_test > 1 else float("nan")
    return ParzenResult(sigma=float(grid[best]), mean=test.mean().item(), stderr=stderr, validation=scores,
                        sigmas=grid.detach().cpu())


def _best_bandwidth(scores: torch.Tensor, grid: torch.Tensor) -> int:
    """The index of the highest finite validation score: a NaN would otherwise win the argmax."""
    finite = torch.isfinite(scores)
    if not bool(finite.any()):
        raise ValueError(f"no bandwidth in sigmas {grid.tolist()} gives a finite validation log-likelihood "
                         f"(scores {scores.tolist()}); choose bandwidths nearer the data's distances")
    return int(torch.where(finite, scores, torch.full_like(scores, -math.inf)).argmax())


def _shard_size(n: int, world: int) -> int:
    return -(-n // world)


def _per_point(x: object, samples: object, sigmas: torch.Tensor, backend: str, batch_size: int,
               callback_for: Optional[Callable], offset: int) -> torch.Tensor:
    """Per-point log-likelihoods [N, K] in float64: this process's rows, or with several ranks each
    rank's contiguous shard, gathered in rank order (so every rank holds all N rows)."""
    progress = callback_for(offset) if callback_for else None
    rank, world = rank_and_world()
    if world == 1:
        return parzen_log_likelihood(x, samples, sigmas, backend, batch_size=batch_size, progress=progress).double()
    n, shard = len(x), _shard_size(len(x), world)
    lo, hi = min(rank * shard, n), min((rank + 1) * shard, n)
    device = collective_device()
    padded = torch.zeros(shard, sigmas.numel(), dtype=torch.float64, device=device)
    if hi > lo:
        padded[:hi - lo] = parzen_log_likelihood(x[lo:hi], samples, sigmas, backend, batch_size=batch_size,
                                                 progress=progress).double().to(device)
    parts = gather_to_all(padded)
    return torch.cat([part[:max(0, min(n, (r + 1) * shard) - r * shard)] for r, part in enumerate(parts)])


@torch.no_grad()
def parzen_model(model: torch.nn.Module, x_valid: object, x_test: object, sigmas: Optional[object] = None, *,
                 num_samples: int = 10000, seed: int = 0, backend: str = "auto", batch_size: int = 1000,
                 progress: bool = True) -> ParzenResult:
    """:func:`parzen` on ``num_samples`` samples drawn from a trained model (the papers use 10,000),
    on the model's device."""
    samples = model_samples(model, num_samples, seed)
    device = samples.device
    return parzen(samples, torch.as_tensor(x_valid).to(device), torch.as_tensor(x_test).to(device), sigmas,
                  backend=backend, batch_size=batch_size, progress=progress)


@torch.no_grad()
def model_samples(model: torch.nn.Module, num_samples: int, seed: int = 0) -> torch.Tensor:
    """``model.sample`` in eval mode, float32 on the model's device; labelled models draw balanced
    classes (0, 1, ..., K-1, 0, ...)."""
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
        raise ValueError(f"num_samples must be a positive integer, got {num_samples!r}")
    return model.eval().sample(num_samples, labels=balanced_labels(model, num_samples), seed=seed).float()


def balanced_labels(model: torch.nn.Module, n: int) -> Optional[torch.Tensor]:
    """Labels 0, 1, ..., K-1, 0, ... (int64 [n]) for models that sample per class, None otherwise."""
    classes = model.config.get("num_labels")
    return None if classes is None else torch.arange(n) % classes
