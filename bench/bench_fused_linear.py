"""Fused linear layers against PyTorch at the paper's MNIST shapes, forward + backward.

pyaae: ``pyaae.ops.fused_linear(..., backend="kernels")`` (one autograd node, one kernel call per
pass). PyTorch: ``act(torch.addmm(b, x, W.t()))`` under autograd. Both compute the same gradients:
dW and db always, dX for every layer but the encoder's first (its input is the data). FLOPs:
2*B*I*O forward, 4*B*I*O backward (2*B*I*O without dX). The whole 784-1000-1000-8 encoder is
``pyaae.nn.FusedMLP`` against its ``to_torch()`` twin.
"""
from __future__ import annotations

import pytest
import torch

import pyaae

# (in, out, activation, input needs a gradient, target ratio): the paper's MNIST layers.
LAYERS = [
    (784, 1000, "relu", False, 1.2),
    (1000, 1000, "relu", True, 1.2),
    (1000, 8, "identity", True, 1.0),
    (8, 1000, "relu", True, 1.0),
    (1000, 784, "sigmoid", True, 1.2),
]
TORCH_ACTIVATIONS = {"relu": torch.relu, "identity": lambda t: t, "sigmoid": torch.sigmoid}


@pytest.mark.parametrize("batch", [100, 1000])
@pytest.mark.parametrize("layer", LAYERS, ids=lambda layer: "-".join(map(str, layer[:3])))
def bench_fused_linear_forward_backward(versus_torch, layer, batch: int) -> None:
    n_in, n_out, activation, input_grad, target = layer
    torch.manual_seed(0)
    x = torch.rand(batch, n_in, requires_grad=input_grad)
    w = (torch.randn(n_out, n_in) / n_in**0.5).requires_grad_()
    b = torch.zeros(n_out, requires_grad=True)
    g = torch.randn(batch, n_out)
    act = TORCH_ACTIVATIONS[activation]

    def ours() -> None:
        pyaae.ops.fused_linear(x, w, b, activation, backend="kernels").backward(g)

    def theirs() -> None:
        act(torch.addmm(b, x, w.t())).backward(g)

    gflop = 2 * batch * n_in * n_out * (3 if input_grad else 2) * 1e-9
    versus_torch(f"{n_in}->{n_out} {activation}, batch {batch}", gflop, ours, theirs, target)


@pytest.mark.parametrize("batch", [100, 1000])
def bench_mlp_784_1000_1000_8(versus_torch, batch: int) -> None:
    torch.manual_seed(0)
    sizes = [784, 1000, 1000, 8]
    mlp = pyaae.nn.FusedMLP(sizes, backend="kernels")
    twin = mlp.to_torch()
    x, g = torch.rand(batch, 784), torch.randn(batch, 8)

    def ours() -> None:
        mlp(x).backward(g)

    def theirs() -> None:
        twin(x).backward(g)

    flops = sum(2 * batch * i * o * 3 for i, o in zip(sizes[:-1], sizes[1:])) - 2 * batch * 784 * 1000
    versus_torch(f"MLP 784-1000-1000-8, batch {batch}", flops * 1e-9, ours, theirs, 1.3, rounds=20)
