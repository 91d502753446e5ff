"""The Parzen-window log-likelihood estimate of a generative model (Breuleux et al. 2011; the
protocol of the GAN and AAE papers): a Gaussian kernel density on the model's samples, its bandwidth
chosen on validation data, the mean log-likelihood of the test data reported with its standard error."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional

import torch

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
        x_valid: ``[N_valid, D]`` validation data, on which the bandwidth is chosen.
        x_test: ``[N_test, D]`` test data, whose mean log-likelihood is reported.
        sigmas: candidate bandwidths; default ``torch.logspace(-1, 0, 10)`` (10 values in [0.1, 1]).
        backend: as in :func:`pyaae.ops.parzen_log_likelihood`.
        batch_size: test points per kernel call (the granularity of the progress bar).
        progress: show a tqdm progress bar.

    Every candidate bandwidth costs little more than one: the kernels compute each distance once.
    """
    grid = torch.logspace(-1, 0, 10) if sigmas is None else torch.as_tensor(sigmas, dtype=torch.float64).reshape(-1)
    n_valid, n_test = len(x_valid), len(x_test)
    callback_for, close = _progress_bar(progress, n_valid + n_test)
    try:
        valid = parzen_log_likelihood(x_valid, samples, grid, backend, batch_size=batch_size,
                                      progress=callback_for(0) if callback_for else None)
        scores = valid.double().mean(0).cpu()
        best = int(scores.argmax())
        test = parzen_log_likelihood(x_test, samples, grid[best:best + 1], backend, batch_size=batch_size,
                                     progress=callback_for(n_valid) if callback_for else None)[:, 0].double()
    finally:
        close()
    stderr = test.std().item() / math.sqrt(n_test) if n_test > 1 else float("nan")
    return ParzenResult(sigma=float(grid[best]), mean=test.mean().item(), stderr=stderr, validation=scores,
                        sigmas=grid.detach().cpu())
