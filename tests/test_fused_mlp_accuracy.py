"""The stacked kernels (mlp_forward / mlp_backward: the CPU training path, one call per pass for a
whole network) held to the float64 oracle as the single-layer kernels are: every activation as the
hidden and as the output activation, narrow (out <= 8) and wide layers, tile edges, with and without
dropout, on each SIMD level and both thread counts and under the CUDA emulation (its stacks run layer by
layer on the host); raw calls on NaN-poisoned outputs and gradients. Tolerance rule: tests/_oracle.py."""
from __future__ import annotations

import math
from typing import Dict, List

import numpy as np
import pytest
import torch
from _oracle import assert_accurate, seed_of
from conftest import kernel_module

import pyaae
from pyaae._activations import ACTIVATION_CODES

ACTIVATIONS = ["identity", "relu", "leaky_relu", "sigmoid", "tanh"]
# (batch, sizes): a wide stack like the paper's (narrow code layer), tile edges, a narrow output, one layer.
STACKS = [(100, [784, 100, 8]), (13, [37, 300, 21, 5]), (101, [33, 47, 1]), (7, [8, 1000, 3]), (3, [5, 4])]
KEY = {"dropout_seed": 77, "dropout_step": 5, "dropout_layer": 2}


def _case(batch: int, sizes: List[int]) -> Dict[str, object]:
    g = torch.Generator().manual_seed(seed_of("stack", batch, tuple(sizes)))
    weights = [torch.randn(o, i, generator=g) * 1.5 / math.sqrt(i) for i, o in zip(sizes[:-1], sizes[1:])]
    biases = [torch.randn(o, generator=g) * 0.5 for o in sizes[1:]]
    return {"x": torch.randn(batch, sizes[0], generator=g), "weights": weights, "biases": biases,
            "grad": torch.randn(batch, sizes[-1], generator=g)}


def _run(case, activations: List[str], dtype: torch.dtype, backend: str, dropout) -> Dict[str, torch.Tensor]:
    x = case["x"].to(dtype, copy=True).requires_grad_()
    ws = [w.to(dtype, copy=True).requires_grad_() for w in case["weights"]]
    bs = [b.to(dtype, copy=True).requires_grad_() for b in case["biases"]]
    y = pyaae.ops.fused_mlp(x, ws, bs, activations, backend=backend, dropout=dropout, **KEY)
    y.backward(case["grad"].to(dtype))
    out = {"y": y.detach(), "grad_x": x.grad}
    out.update({f"grad_w{i}": w.grad for i, w in enumerate(ws)})
    out.update({f"grad_b{i}": b.grad for i, b in enumerate(bs)})
    return out


@pytest.mark.parametrize("dropout", [0.0, 0.25], ids=["plain", "dropout"])
@pytest.mark.parametrize("hidden, output", [(a, a) for a in ACTIVATIONS] + [("relu", "sigmoid")])
@pytest.mark.parametrize("stack", STACKS, ids=lambda s: "x".join(map(str, [s[0], *s[1]])))
def test_stacked_kernels_match_the_float64_oracle(kernel_backend, num_threads, stack, hidden, output, dropout) -> None:
    batch, sizes = stack
    if kernel_backend == "emu" and max(sizes) > 100:
        sizes = [min(s, 40) for s in sizes]  # the emulator runs a thread per CUDA thread: small stacks
    case = _case(batch, sizes)
    activations = [hidden] * (len(sizes) - 2) + [output]
    ours = _run(case, activations, torch.float32, kernel_backend, dropout)
    torch32 = _run(case, activations, torch.float32, "reference", dropout)
    oracle = _run(case, activations, torch.float64, "reference", dropout)
    for name in oracle:
        assert_accurate(name, ours[name], torch32[name], oracle[name])


@pytest.mark.parametrize("dropout", [[], [0.3, 0.3, 0.0]], ids=["plain", "dropout"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_stacked_kernels_write_every_output_and_gradient(kernel_backend, activation, dropout) -> None:
    module = kernel_module(kernel_backend)
    batch, sizes = 13, [37, 300, 21, 5]
    case = _case(batch, sizes)
    x = case["x"].numpy()
    ws = [w.numpy() for w in case["weights"]]
    bs = [b.numpy() for b in case["biases"]]
    codes = [ACTIVATION_CODES[activation]] * 3
    outputs = [np.full((batch, w.shape[0]), np.nan, np.float32) for w in ws]
    options = {"dropout": dropout, "dropout_seed": 3} if dropout else {}
    module.mlp_forward(x, ws, bs, outputs, codes, 0.2, 2, **options)
    assert all(np.isfinite(o).all() for o in outputs)
    gws = [np.full_like(w, np.nan) for w in ws]
    gbs = [np.full_like(b, np.nan) for b in bs]
    gx = np.full_like(x, np.nan)
    if dropout:
        options["dropout_scratch"] = np.full(batch * max(sizes[1:]), np.nan, np.float32)
    module.mlp_backward(case["grad"].numpy(), x, ws, bs, outputs, gws, gbs, gx, codes, 0.2, 2, **options)
    for name, a in [("grad_x", gx), *[(f"grad_w{i}", g) for i, g in enumerate(gws)],
                    *[(f"grad_b{i}", g) for i, g in enumerate(gbs)]]:
        assert np.isfinite(a).all(), name
