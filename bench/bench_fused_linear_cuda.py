"""CUDA fused linear layers against PyTorch (cuBLAS addmm + activation) at the paper's shapes, batch
100, 1000 and 10000, forward + backward; skipped where no GPU runs the CUDA kernels. Each call ends
with a device synchronize so the host timer sees the GPU's work; interleaved like the CPU benchmarks
(bench/conftest.py)."""
from __future__ import annotations

import pytest
import torch

import pyaae
from bench_fused_linear import LAYERS, TORCH_ACTIVATIONS

REASON = pyaae.build_info()["ops"]["fused_linear"]["reasons"].get("kernels-cuda")
pytestmark = pytest.mark.skipif(REASON is not None or not torch.cuda.is_available(),
                                reason=f"no CUDA kernels here: {REASON}")


def _synchronized(fn):
    def run() -> None:
        fn()
        torch.cuda.synchronize()
    return run


@pytest.mark.parametrize("batch", [100, 1000, 10000])
@pytest.mark.parametrize("layer", LAYERS, ids=lambda layer: "-".join(map(str, layer[:3])))
def bench_cuda_fused_linear_forward_backward(versus_torch, layer, batch: int) -> None:
    n_in, n_out, activation, input_grad, _ = layer
    torch.backends.cuda.matmul.allow_tf32 = False  # compare float32 with float32
    torch.manual_seed(0)
    x = torch.rand(batch, n_in, device="cuda", requires_grad=input_grad)
    w = (torch.randn(n_out, n_in, device="cuda") / n_in**0.5).requires_grad_()
    b = torch.zeros(n_out, device="cuda", requires_grad=True)
    g = torch.randn(batch, n_out, device="cuda")
    act = TORCH_ACTIVATIONS[activation]
    ours = _synchronized(lambda: pyaae.ops.fused_linear(x, w, b, activation, backend="kernels").backward(g))
    theirs = _synchronized(lambda: act(torch.addmm(b, x, w.t())).backward(g))
    gflop = 2 * batch * n_in * n_out * (3 if input_grad else 2) * 1e-9
    versus_torch(f"CUDA {n_in}->{n_out} {activation}, batch {batch}", gflop, ours, theirs, 1.0)
