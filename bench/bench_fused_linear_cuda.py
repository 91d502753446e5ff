"""CUDA fused linear layers against PyTorch (cuBLAS addmm + activation) at the paper's shapes, batch
100, 1000 and 10000, forward + backward; skipped where no GPU runs the CUDA kernels. Each call ends
with a device synchronize so the host timer sees the GPU's work; interleaved like the CPU benchmarks
(bench/conftest.py)."""
from __future__ import annotations

from typing import Callable

import pytest
import torch

import pyaae
from bench_fused_linear import (BATCHES, LAYERS, TORCH_ACTIVATIONS, Layer, forward_backward, gflop, layer_id,
                                layer_tensors)

REASON = pyaae.build_info()["ops"]["fused_linear"]["reasons"].get("kernels-cuda")
pytestmark = pytest.mark.skipif(REASON is not None or not torch.cuda.is_available(),
                                reason=f"no CUDA kernels here: {REASON}")


def _synchronized(fn: Callable[[], None]) -> Callable[[], None]:
    def run() -> None:
        fn()
        torch.cuda.synchronize()
    return run


@pytest.mark.parametrize("batch", BATCHES + [10000])
@pytest.mark.parametrize("layer", LAYERS, ids=layer_id)
def bench_cuda_fused_linear(versus_torch, layer: Layer, batch: int) -> None:
    torch.backends.cuda.matmul.allow_tf32 = False  # compare float32 with float32
    x, w, b, g = layer_tensors(layer, batch, device="cuda")
    leaves = [x, w, b]
    act = TORCH_ACTIVATIONS[layer.activation]
    ours = _synchronized(forward_backward(
        lambda: pyaae.ops.fused_linear(x, w, b, layer.activation, backend="kernels"), g, leaves))
    theirs = _synchronized(forward_backward(lambda: act(torch.addmm(b, x, w.t())), g, leaves))
    versus_torch(f"CUDA {layer.n_in}->{layer.n_out} {layer.activation}, batch {batch}",
                 gflop(batch, layer.n_in, layer.n_out, layer.input_grad), ours, theirs, 1.0)
