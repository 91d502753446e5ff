"""The TF32 tensor-core path of the CUDA kernels (allow_tf32=True), through the emulation build.

Its own tolerance: each product's inputs are rounded to 10-bit mantissas (relative error <= 2^-11
each), then accumulated in float32, so an element of A B may be off by
    2 (2^-10 + k 2^-24) (|A| |B|)
(twice the first-order bound). Every activation is 1-Lipschitz, so outputs get the same bound. The
gradients are held to it against a float64 product of the same G = grad_y * act'(y) the kernel
formed from its own output; the bias gradient is summed in full float32 and held to 1e-5.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from _oracle import make_case, seed_of
from conftest import needs_emu

from pyaae._activations import ACTIVATION_CODES, apply_activation

pytestmark = needs_emu
# The last two split k (grad_x and grad_weight; the forward pass) under the emulator's 4 SMs.
SHAPES = [(3, 65, 64), (65, 17, 63), (64, 64, 65), (1, 129, 130), (257, 9, 260), (5, 300, 68)]


def _bound(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return 2 * (2.0**-10 + a.shape[1] * 2.0**-24) * (a.abs() @ b.abs()) + 1e-30


def _activation_grad(y: torch.Tensor, activation: str) -> torch.Tensor:
    return {"identity": torch.ones_like(y), "relu": (y > 0).to(y.dtype), "leaky_relu": torch.where(y > 0, 1.0, 0.2),
            "sigmoid": y * (1 - y), "tanh": 1 - y * y}[activation]


def _run(case, activation: str, allow_tf32: bool):
    import pyaae.emu as emu

    x, w, b, g = (case[k].numpy() for k in ("x", "weight", "bias", "grad"))
    code = ACTIVATION_CODES[activation]
    options = {"workspace": np.empty(emu.linear_workspace_floats(x.shape[0], x.shape[1], w.shape[0], True), np.float32),
               "allow_tf32": allow_tf32}
    y = np.full((x.shape[0], w.shape[0]), np.nan, np.float32)
    emu.linear_forward(x, w, b, y, code, 0.2, 1, **options)
    gx, gw, gb = np.full(x.shape, np.nan, np.float32), np.full(w.shape, np.nan, np.float32), np.full(b.shape, np.nan, np.float32)
    emu.linear_backward(g, y, x, w, gx, gw, gb, code, 0.2, 1, **options)
    return (torch.from_numpy(t) for t in (y, gx, gw, gb))


@pytest.mark.parametrize("activation", list(ACTIVATION_CODES))
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_tf32_within_its_bound(activation: str, shape) -> None:
    case = make_case(seed_of("tf32", activation, shape), *shape)
    y, gx, gw, gb = _run(case, activation, allow_tf32=True)
    x, w, b, g = (case[k].double() for k in ("x", "weight", "bias", "grad"))
    pre = x @ w.t() + b
    assert (y.double() - apply_activation(pre, activation, 0.2)).abs().le(_bound(x, w.t()) + 2.0**-23 * pre.abs()).all()
    grad_pre = g * _activation_grad(y.double(), activation)  # the G the kernel formed
    assert (gx.double() - grad_pre @ w).abs().le(_bound(grad_pre, w)).all()
    assert (gw.double() - grad_pre.t() @ x).abs().le(_bound(grad_pre.t(), x)).all()
    torch.testing.assert_close(gb.double(), grad_pre.sum(0), rtol=1e-5, atol=1e-5)


def test_tf32_flag_switches_the_arithmetic() -> None:
    """The flag is not ignored: TF32 products differ from float32 ones, and float32 is closer."""
    case = make_case(seed_of("tf32-switch"), 64, 64, 65)
    exact = case["x"].double() @ case["weight"].double().t() + case["bias"].double()
    y32, *_ = _run(case, "identity", allow_tf32=False)
    y_tf32, *_ = _run(case, "identity", allow_tf32=True)
    assert not torch.equal(y32, y_tf32)
    assert (y32.double() - exact).abs().max() < (y_tf32.double() - exact).abs().max()


def test_cpu_kernels_ignore_the_flag() -> None:
    """allow_tf32 is a CUDA option: the CPU kernels multiply in float32 either way."""
    import pyaae

    case = make_case(seed_of("tf32-cpu"), 8, 16, 4)
    args = (case["x"], case["weight"], case["bias"], "tanh")
    assert torch.equal(pyaae.ops.fused_linear(*args, backend="kernels", allow_tf32=True),
                       pyaae.ops.fused_linear(*args, backend="kernels"))
