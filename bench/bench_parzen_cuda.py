"""Parzen log-likelihood on a GPU: the CUDA kernel against the same two PyTorch versions as
bench_parzen.py (per-sigma "usual" and "single pass", cuBLAS distances, TF32 off), N = M = 10,000.
Each call ends with a device synchronize; skipped where no GPU runs the CUDA kernels."""
from __future__ import annotations

from typing import Callable

import pytest
import torch

import pyaae
from bench_parzen import ONE, SWEEP, M, _data, torch_single_pass, torch_usual

REASON = pyaae.build_info()["ops"]["parzen"]["reasons"].get("kernels-cuda")
pytestmark = pytest.mark.skipif(REASON is not None or not torch.cuda.is_available(),
                                reason=f"no CUDA kernels here: {REASON}")


def _synchronized(fn: Callable[[], torch.Tensor]) -> Callable[[], torch.Tensor]:
    def run() -> torch.Tensor:
        out = fn()
        torch.cuda.synchronize()
        return out
    return run


CASES = [
    ("CUDA D=784, 1 sigma vs single pass", 784, ONE, torch_single_pass, 1.0),
    ("CUDA D=784, 10 sigmas vs single pass", 784, SWEEP, torch_single_pass, 1.0),
    ("CUDA D=784, 10 sigmas vs usual", 784, SWEEP, torch_usual, 15.0),
    ("CUDA D=8, 10 sigmas vs single pass", 8, SWEEP, torch_single_pass, 1.0),
]


@pytest.mark.parametrize("case, dim, sigmas, version, target", CASES, ids=[c[0] for c in CASES])
def bench_parzen_cuda(versus_torch, case: str, dim: int, sigmas: torch.Tensor, version, target: float) -> None:
    torch.backends.cuda.matmul.allow_tf32 = False
    x, s = (t.cuda() for t in _data(M, dim))
    ours = _synchronized(lambda: pyaae.ops.parzen_log_likelihood(x, s, sigmas, backend="kernels"))
    theirs = _synchronized(version(x, s, sigmas))
    torch.testing.assert_close(ours(), theirs(), rtol=1e-4, atol=1e-2)
    versus_torch(case, 2 * M * M * dim * 1e-9, ours, theirs, target)
