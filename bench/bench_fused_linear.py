"""Fused linear layers against PyTorch at the paper's MNIST shapes, forward + backward, on the CPU.

pyaae: ``pyaae.ops.fused_linear(x, W, b, activation, backend="kernels")``, one autograd node over one
kernel call per pass. PyTorch: ``act(torch.addmm(b, x, W.t()))`` under autograd. The whole
784-1000-1000-8 encoder is ``pyaae.nn.FusedMLP(..., backend="kernels")`` against its ``to_torch()`` twin.
Both sides run on ``torch.get_num_threads()`` threads (pyaae follows PyTorch's setting).

One call is a training step's work for the layer: forward, then ``y.backward(g)`` with a fixed random
upstream gradient ``g``, into gradients cleared first as ``optimizer.zero_grad()`` does (so neither
side pays for adding into the previous call's). Both sides compute the same gradients: dW and db
always, dX for every layer whose input comes from another layer (all but the encoder's first, whose
input is the data; the decoder's first, 8->1000, takes the code and passes its gradient back).

FLOPs per call: 2*B*I*O forward, 4*B*I*O backward (dX and dW), 2*B*I*O backward where dX is not
computed; bias and activation work is not counted. GFLOP/s = FLOPs / median seconds per call.

How the two sides are interleaved in one run, and the summary table: bench/conftest.py.
"""
from __future__ import annotations

from dataclasses import asdict
from typing import Callable, NamedTuple, Sequence, Tuple

import pytest
import torch

import pyaae


class Layer(NamedTuple):
    n_in: int
    n_out: int
    activation: str
    input_grad: bool  # does the layer's input need a gradient (dX)?
    target: float  # the ratio (PyTorch time / pyaae time) asked for


# The paper's MNIST layers: encoder 784-1000-1000-8, decoder 8-1000-1000-784 with a sigmoid output.
LAYERS = [
    Layer(784, 1000, "relu", False, 1.2),
    Layer(1000, 1000, "relu", True, 1.2),
    Layer(1000, 8, "identity", True, 1.0),
    Layer(8, 1000, "relu", True, 1.0),
    Layer(1000, 784, "sigmoid", True, 1.2),
]
BATCHES = [100, 1000]
MLP_SIZES = [784, 1000, 1000, 8]
MLP_TARGET = 1.3
TORCH_ACTIVATIONS = {"relu": torch.relu, "identity": lambda t: t, "sigmoid": torch.sigmoid}


def layer_id(layer: Layer) -> str:
    return f"{layer.n_in}-{layer.n_out}-{layer.activation}"


def gflop(batch: int, n_in: int, n_out: int, input_grad: bool) -> float:
    """Forward + backward GFLOP of one layer call (the convention in the module docstring)."""
    return 2 * batch * n_in * n_out * (3 if input_grad else 2) * 1e-9


def layer_tensors(layer: Layer, batch: int, device: str = "cpu") -> Tuple[torch.Tensor, ...]:
    """Input, weight, bias (leaves needing gradients as the layer's place in the network asks) and the
    upstream gradient, seeded."""
    torch.manual_seed(0)
    x = torch.rand(batch, layer.n_in, device=device, requires_grad=layer.input_grad)
    w = (torch.randn(layer.n_out, layer.n_in, device=device) / layer.n_in**0.5).requires_grad_()
    b = (0.1 * torch.randn(layer.n_out, device=device)).requires_grad_()
    g = torch.randn(batch, layer.n_out, device=device)
    return x, w, b, g


def forward_backward(forward: Callable[[], torch.Tensor], grad: torch.Tensor,
                     leaves: Sequence[torch.Tensor]) -> Callable[[], None]:
    """A call running ``forward()`` and then its backward of ``grad`` into cleared gradients."""

    def run() -> None:
        for leaf in leaves:
            leaf.grad = None
        forward().backward(grad)

    return run


def bench_ceilings(benchmark, ceilings) -> None:
    """The run's two ceilings in extra_info (measured once by the session fixture); the timed body is
    the torch.mm behind the second, so its statistics sit beside the cases'."""
    benchmark.extra_info.update(asdict(ceilings))
    a, b = torch.randn(ceilings.mm_size, ceilings.mm_size), torch.randn(ceilings.mm_size, ceilings.mm_size)
    benchmark.pedantic(torch.mm, args=(a, b), rounds=5, warmup_rounds=1)


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("layer", LAYERS, ids=layer_id)
def bench_fused_linear(versus_torch, layer: Layer, batch: int) -> None:
    x, w, b, g = layer_tensors(layer, batch)
    leaves = [x, w, b]
    act = TORCH_ACTIVATIONS[layer.activation]
    ours = forward_backward(lambda: pyaae.ops.fused_linear(x, w, b, layer.activation, backend="kernels"), g, leaves)
    theirs = forward_backward(lambda: act(torch.addmm(b, x, w.t())), g, leaves)
    versus_torch(f"{layer.n_in}->{layer.n_out} {layer.activation}, batch {batch}",
                 gflop(batch, layer.n_in, layer.n_out, layer.input_grad), ours, theirs, layer.target)


@pytest.mark.parametrize("batch", BATCHES)
def bench_mlp(versus_torch, batch: int) -> None:
    torch.manual_seed(0)
    mlp = pyaae.nn.FusedMLP(MLP_SIZES, backend="kernels")
    twin = mlp.to_torch()
    x, g = torch.rand(batch, MLP_SIZES[0]), torch.randn(batch, MLP_SIZES[-1])
    ours = forward_backward(lambda: mlp(x), g, list(mlp.parameters()))
    theirs = forward_backward(lambda: twin(x), g, list(twin.parameters()))
    layers = list(zip(MLP_SIZES[:-1], MLP_SIZES[1:]))
    work = sum(gflop(batch, n_in, n_out, input_grad=i > 0) for i, (n_in, n_out) in enumerate(layers))
    versus_torch(f"MLP {'-'.join(map(str, MLP_SIZES))}, batch {batch}", work, ours, theirs, MLP_TARGET)


@pytest.mark.parametrize("batch", [100])
def bench_mlp_dropout(versus_torch, batch: int) -> None:
    """The dropout recipe's encoder trunk (784-1200-1200, dropout 0.2 after both layers, training mode):
    pyaae's masks are drawn in the kernels' epilogue and again in the backward pass; PyTorch's twin
    runs nn.Dropout after each ReLU and keeps its masks."""
    torch.manual_seed(0)
    sizes = [784, 1200, 1200]
    mlp = pyaae.nn.FusedMLP(sizes, out_activation="relu", backend="kernels", dropout=0.2, out_dropout=0.2)
    twin = mlp.to_torch()
    x, g = torch.rand(batch, sizes[0]), torch.randn(batch, sizes[-1])
    ours = forward_backward(lambda: mlp(x), g, list(mlp.parameters()))
    theirs = forward_backward(lambda: twin(x), g, list(twin.parameters()))
    work = gflop(batch, 784, 1200, False) + gflop(batch, 1200, 1200, True)
    versus_torch(f"MLP 784-1200-1200 dropout 0.2, batch {batch}", work, ours, theirs, MLP_TARGET)
