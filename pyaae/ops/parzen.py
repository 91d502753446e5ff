"""Parzen-window log-likelihood over the kernels: checks, backend choice, chunks over test points."""
from __future__ import annotations

from typing import Callable, Optional

import torch

from .. import reference
from .._checks import check_parzen_args
from .._dispatch import kernel_module
from .._threads import get_num_threads
from ._arrays import KernelCall

ProgressFn = Callable[[int, int], None]


def parzen_log_likelihood(
    x: object,
    samples: object,
    sigmas: object,
    backend: str = "auto",
    *,
    batch_size: Optional[int] = None,
    progress: Optional[ProgressFn] = None,
) -> torch.Tensor:
    """Log-likelihood of each test point under a Parzen window (isotropic Gaussian kernel density) on
    ``samples``, for every bandwidth at once::

        ll[n, k] = logsumexp_m(-|x_n - s_m|^2 / (2 sigma_k^2)) - log M - (D/2) log(2 pi sigma_k^2)

    Args:
        x: test points ``[N, D]``: a torch tensor (CPU or CUDA), a NumPy array, or a CUDA array
            (CuPy, via ``__cuda_array_interface__``).
        samples: ``[M, D]``, same kinds, on x's device.
        sigmas: a bandwidth or ``[K]`` of them (number, sequence, array or tensor), each in [1e-18, 1e18]
            for float32 data (in [1e-150, 1e150] for float64), where the log-likelihood is defined.
        backend: "auto" (the kernels where built for this device and dtype, else the reference),
            "kernels" (an error where they cannot run), "reference" (pure PyTorch) or "emu" (the CUDA
            kernel on CPU tensors under emulation; slow, for tests).
        batch_size: test points per kernel call (default: all at once); with ``progress``, the
            granularity of its reports.
        progress: called as ``progress(done, N)`` after each batch of test points.

    Returns:
        ``[N, K]`` on x's device. float32 and float16/bfloat16 inputs are computed in float32 (by the
        kernels); float64 inputs stay float64, which the kernels do not take, so ``auto`` runs the
        reference on them and ``kernels`` refuses them. Integer and boolean inputs raise TypeError.

    Not differentiable: an evaluation metric; the result carries no gradient. Raises ValueError for an
    empty x, samples or sigmas, mismatched feature counts, NaN or Inf in the data, or a bandwidth
    outside that range (checking the data reads it once; on CUDA that synchronizes).
    """
    x, samples, s = check_parzen_args(x, samples, sigmas)
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"batch_size must be a positive integer or None, got {batch_size!r}")
    kernels = kernel_module(backend, x.device, x.dtype)
    n = x.shape[0]
    step = batch_size or n
    if kernels is None:
        out = torch.empty(n, s.numel(), dtype=x.dtype, device=x.device)
    else:
        out = torch.empty(n, s.numel(), dtype=torch.float32, device=x.device)
        x, samples = x.contiguous(), samples.contiguous()
        sigma32 = s.to(x.device, torch.float32)
        call = KernelCall(kernels, x.device)
    for i in range(0, n, step):
        if kernels is None:
            out[i:i + step] = reference.parzen_log_likelihood(x[i:i + step], samples, s)
        else:
            call("parzen_log_likelihood", x[i:i + step], samples, sigma32, out[i:i + step], get_num_threads())
        if progress is not None:
            progress(min(i + step, n), n)
    return out
