"""Parzen-window log-likelihood in pure PyTorch: the oracle of the kernels (in float64) and the
fallback of ``pyaae.ops.parzen_log_likelihood``."""
from __future__ import annotations

import math
from typing import Optional

import torch

from .._checks import check_parzen_args

# Elements of the [chunk, M, K] exponent tensor per chunk of test points: about 128 MiB in float64.
_CHUNK_ELEMENTS = 1 << 24


def parzen_log_likelihood(x: object, samples: object, sigmas: object, *,
                          batch_size: Optional[int] = None) -> torch.Tensor:
    """``ll[n, k] = logsumexp_m(-|x_n - s_m|^2 / (2 sigma_k^2)) - log M - (D/2) log(2 pi sigma_k^2)``.

    x ``[N, D]`` and samples ``[M, D]`` (tensors or NumPy arrays), sigmas a number or ``[K]``. Computed
    in the promoted dtype of x and samples (float64 stays float64), ``batch_size`` test points at a
    time (default: as many as keep the exponents near 2^24 elements). Distances in the GEMM form on
    data centered on the samples' mean (the same distances, without the cancellation of large norms).
    Not differentiable: evaluation only.
    """
    x, samples, s = check_parzen_args(x, samples, sigmas)
    n, dim = x.shape
    m = samples.shape[0]
    sigma = s.to(x.device, x.dtype)
    neg_a = -0.5 / sigma**2
    normalizer = -math.log(m) - 0.5 * dim * torch.log(2 * math.pi * sigma**2)
    mean = samples.mean(0)
    xc, sc = x - mean, samples - mean
    x_norms, s_norms = xc.square().sum(1), sc.square().sum(1)
    step = batch_size or max(1, _CHUNK_ELEMENTS // (m * s.numel()))
    out = torch.empty(n, s.numel(), dtype=x.dtype, device=x.device)
    with torch.no_grad():
        for i in range(0, n, step):
            d = (x_norms[i:i + step, None] + s_norms[None, :] - 2 * xc[i:i + step] @ sc.T).clamp_min_(0)
            out[i:i + step] = torch.logsumexp(d[:, :, None] * neg_a, dim=1) + normalizer
    return out
