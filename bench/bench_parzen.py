"""Parzen log-likelihood, CPU: pyaae's kernel against two PyTorch versions, interleaved call by call
(bench/conftest.py).

- "usual": what Parzen evaluation code usually does (the GAN/AAE papers' scripts): for each sigma,
  for each batch of test points, distances in the GEMM form, then logsumexp. Distances are
  recomputed for every sigma. N = M = 10,000, as in the issue (about 26 s per call here, so this
  case alone takes a few minutes).
- "single pass": the best PyTorch we wrote: distances once per batch of test points (one addmm),
  then a logsumexp per sigma on those same distances.

Both use batches of 1,000 test points (a [1000, 10000] distance matrix, 40 MB). Data: uniform on
[0, 1]^D (MNIST-like pixel values; distances of tens at D = 784). GFLOP = 2 N M D (the distances).

Targets (issue): >= 15x "usual" on the 10-sigma sweep; >= 1x "single pass"; the sweep of 10 sigmas
at most 1.3x the time of one sigma (read from the two "single pass" rows' pyaae columns).
"""
from __future__ import annotations

import math
from typing import Callable

import pytest
import torch

import pyaae

M = 10_000
SWEEP = torch.logspace(-1, 0, 10)
ONE = torch.tensor([0.5])
BATCH = 1000


def _data(n: int, dim: int):
    g = torch.Generator().manual_seed(dim)
    return torch.rand(n, dim, generator=g), torch.rand(M, dim, generator=g)


def _normalizer(sigmas: torch.Tensor, dim: int) -> torch.Tensor:
    return -math.log(M) - 0.5 * dim * torch.log(2 * math.pi * sigmas**2)


def torch_usual(x: torch.Tensor, s: torch.Tensor, sigmas: torch.Tensor) -> Callable[[], torch.Tensor]:
    def run() -> torch.Tensor:
        out = torch.empty(x.shape[0], sigmas.numel(), device=x.device)
        for k, sigma in enumerate(sigmas.tolist()):
            for i in range(0, x.shape[0], BATCH):
                xb = x[i:i + BATCH]
                d = xb.square().sum(1, keepdim=True) + s.square().sum(1) - 2 * xb @ s.T
                out[i:i + BATCH, k] = torch.logsumexp(-d / (2 * sigma**2), 1)
        return out + _normalizer(sigmas, x.shape[1]).to(x.device)

    return run


def torch_single_pass(x: torch.Tensor, s: torch.Tensor, sigmas: torch.Tensor) -> Callable[[], torch.Tensor]:
    neg_a = (-0.5 / sigmas**2).tolist()
    s_norms = s.square().sum(1)
    s_t = s.T.contiguous()

    def run() -> torch.Tensor:
        out = torch.empty(x.shape[0], sigmas.numel(), device=x.device)
        for i in range(0, x.shape[0], BATCH):
            xb = x[i:i + BATCH]
            d = torch.addmm(s_norms, xb, s_t, alpha=-2).add_(xb.square().sum(1, keepdim=True)).clamp_min_(0)
            for k, a in enumerate(neg_a):
                out[i:i + BATCH, k] = torch.logsumexp(d * a, 1)
        return out + _normalizer(sigmas, x.shape[1]).to(x.device)

    return run


def _ours(x: torch.Tensor, s: torch.Tensor, sigmas: torch.Tensor) -> Callable[[], torch.Tensor]:
    return lambda: pyaae.ops.parzen_log_likelihood(x, s, sigmas, backend="kernels")


CASES = [
    # (case, N, D, sigmas, PyTorch version, target)
    ("D=784, 1 sigma vs single pass", 10_000, 784, ONE, torch_single_pass, 1.0),
    ("D=784, 10 sigmas vs single pass", 10_000, 784, SWEEP, torch_single_pass, 1.0),
    ("D=784, 10 sigmas vs usual", 10_000, 784, SWEEP, torch_usual, 15.0),
    ("D=8, 1 sigma vs single pass", 10_000, 8, ONE, torch_single_pass, 1.0),
    ("D=8, 10 sigmas vs single pass", 10_000, 8, SWEEP, torch_single_pass, 1.0),
]


@pytest.mark.parametrize("case, n, dim, sigmas, version, target", CASES, ids=[c[0] for c in CASES])
def bench_parzen(versus_torch, case: str, n: int, dim: int, sigmas: torch.Tensor, version, target: float) -> None:
    x, s = _data(n, dim)
    ours, theirs = _ours(x, s, sigmas), version(x, s, sigmas)
    torch.testing.assert_close(ours(), theirs(), rtol=1e-4, atol=1e-2)
    versus_torch(case, 2 * n * M * dim * 1e-9, ours, theirs, target)
