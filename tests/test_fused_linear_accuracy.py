"""Every fused linear kernel against a float64 oracle: forward and each gradient, every activation,
shapes from 1 to 1000 wide, on each SIMD path, both thread counts, and the CUDA kernels under
emulation. Tolerance rule: tests/_oracle.py."""
from __future__ import annotations

import zlib

import pytest
import torch

import pyaae
from _oracle import assert_accurate, forward_backward, make_case
from conftest import kernel_module, needs_emu
from pyaae._activations import ACTIVATION_CODES

ACTIVATIONS = ["identity", "relu", "leaky_relu", "sigmoid", "tanh"]

# (batch, in, out): every size of {1, 3, 7, 8, 17, 100, 784, 1000} on each axis, batch in
# {1, 2, 7, 100, 512}, and the paper's MNIST layers at batch 100.
CPU_SHAPES = [
    (1, 1, 1), (1, 3, 7), (2, 7, 3), (7, 8, 17), (100, 17, 100), (512, 100, 8), (7, 784, 3),
    (2, 1000, 1), (100, 1, 1000), (512, 17, 784), (1, 1000, 1000), (7, 3, 100), (100, 8, 8),
    (2, 100, 784), (512, 784, 17), (1, 17, 3), (100, 7, 1), (7, 1000, 8), (512, 3, 1), (2, 8, 1000),
    (100, 784, 1000), (100, 1000, 1000), (100, 1000, 8), (100, 8, 1000), (100, 1000, 784),
]
# The emulator runs one OS thread per CUDA thread: shapes small enough to be quick that still hit
# every edge of the 64 x 64 x 16 tiles (1, one short of a tile, exactly a tile, one over, two tiles).
EMU_SHAPES = [(1, 1, 1), (3, 65, 64), (65, 17, 63), (64, 64, 65), (130, 7, 1), (1, 129, 130), (2, 16, 17)]


def _seed(*key) -> int:
    return zlib.crc32(repr(key).encode())


def _check(case, activation: str, backend: str) -> None:
    ours = forward_backward(case, activation, torch.float32, backend)
    torch32 = forward_backward(case, activation, torch.float32, "reference")
    oracle = forward_backward(case, activation, torch.float64, "reference")
    for name in oracle:
        assert_accurate(name, ours[name], torch32[name], oracle[name])


def _run_table(backend: str, shapes, activation: str, index: int) -> None:
    batch, n_in, n_out = shapes[index]
    with_bias = index % 3 != 2  # a third of the cases run without bias
    case = make_case(_seed(backend, activation, index), batch, n_in, n_out, bias=with_bias)
    _check(case, activation, backend)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("index", range(len(CPU_SHAPES)), ids=lambda i: "x".join(map(str, CPU_SHAPES[i])))
def test_cpu_kernels_match_float64_oracle(simd_level: str, activation: str, index: int) -> None:
    _run_table("kernels", CPU_SHAPES, activation, index)


@needs_emu
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("index", range(len(EMU_SHAPES)), ids=lambda i: "x".join(map(str, EMU_SHAPES[i])))
def test_emulated_cuda_kernels_match_float64_oracle(activation: str, index: int) -> None:
    _run_table("emu", EMU_SHAPES, activation, index)


@pytest.mark.parametrize("shape", [(100, 784, 1000), (7, 17, 100), (512, 100, 8)])
def test_thread_counts_match_oracle(num_threads: int, shape) -> None:
    case = make_case(_seed("threads", num_threads, shape), *shape)
    _check(case, "relu", "kernels")


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_output_element_written(kernel_backend: str, activation: str) -> None:
    """Outputs start as NaN; any element a kernel forgets to write fails."""
    kernels = kernel_module(kernel_backend)
    code = ACTIVATION_CODES[activation]
    batch, n_in, n_out = (65, 17, 63) if kernel_backend == "emu" else (101, 33, 47)
    case = make_case(_seed("poison", kernel_backend, activation), batch, n_in, n_out)
    x, w, b, g = (case[k].numpy() for k in ("x", "weight", "bias", "grad"))
    y = torch.full((batch, n_out), float("nan"))
    kernels.linear_forward(x, w, b, y.numpy(), code, 0.2, 2)
    gx, gw, gb = (torch.full(shape, float("nan")) for shape in ((batch, n_in), (n_out, n_in), (n_out,)))
    kernels.linear_backward(g, y.numpy(), x, w, gx.numpy(), gw.numpy(), gb.numpy(), code, 0.2, 2)
    for name, t in (("y", y), ("grad_x", gx), ("grad_weight", gw), ("grad_bias", gb)):
        assert not torch.isnan(t).any(), f"{name} has unwritten (NaN) elements"
    oracle = forward_backward(case, activation, torch.float64, "reference")
    torch.testing.assert_close(y.double(), oracle["y"], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(gb.double(), oracle["grad_bias"], rtol=1e-4, atol=1e-4)


def test_skipped_gradients_are_not_computed(kernel_backend: str) -> None:
    """x without requires_grad and bias=None: only grad_weight is formed, and it is right."""
    case = make_case(_seed("partial", kernel_backend), 9, 13, 5, bias=False)
    w = case["weight"].clone().requires_grad_()
    y = pyaae.ops.fused_linear(case["x"], w, None, "tanh", backend=kernel_backend)
    y.backward(case["grad"])
    w64 = case["weight"].double().requires_grad_()
    torch.tanh(case["x"].double() @ w64.t()).backward(case["grad"].double())
    torch.testing.assert_close(w.grad.double(), w64.grad, rtol=1e-4, atol=1e-5)


def test_bias_gradient_without_weight_gradient(kernel_backend: str) -> None:
    """grad_bias alone takes its own reduction path: it must still be right."""
    case = make_case(_seed("bias-only", kernel_backend), 33, 5, 7)
    b = case["bias"].clone().requires_grad_()
    y = pyaae.ops.fused_linear(case["x"], case["weight"], b, "sigmoid", backend=kernel_backend)
    y.backward(case["grad"])
    b64 = case["bias"].double().requires_grad_()
    torch.sigmoid(case["x"].double() @ case["weight"].double().t() + b64).backward(case["grad"].double())
    torch.testing.assert_close(b.grad.double(), b64.grad, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("activation", ["identity", "sigmoid", "tanh"])
def test_gradcheck_kernels_float32(kernel_backend: str, activation: str) -> None:
    """Finite differences in float32: eps 1e-3 on O(1) inputs leaves ~1e-4 relative rounding noise
    in each difference quotient, hence tolerances of 1e-2 (float64 gradcheck is below)."""
    case = make_case(_seed("gradcheck", kernel_backend, activation), 4, 5, 3)
    inputs = tuple(case[k].clone().requires_grad_() for k in ("x", "weight", "bias"))
    fn = lambda x, w, b: pyaae.ops.fused_linear(x, w, b, activation, backend=kernel_backend)  # noqa: E731
    with pytest.warns(UserWarning, match="double precision"):
        assert torch.autograd.gradcheck(fn, inputs, eps=1e-3, atol=1e-2, rtol=1e-2)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_gradcheck_reference_float64(activation: str) -> None:
    case = make_case(_seed("gradcheck64", activation), 4, 5, 3)
    # Keep pre-activations away from relu's kink, where finite differences are meaningless.
    inputs = tuple(case[k].double().requires_grad_() for k in ("x", "weight", "bias"))
    fn = lambda x, w, b: pyaae.reference.fused_linear(x, w, b, activation)  # noqa: E731
    assert torch.autograd.gradcheck(fn, inputs)


def test_deterministic_across_calls_and_thread_counts() -> None:
    """Same inputs give bitwise the same output and gradients, on 1 or 2 threads."""
    case = make_case(_seed("determinism"), 100, 784, 1000)
    results = []
    for threads in (1, 2, 2):
        pyaae.set_num_threads(threads)
        try:
            results.append(forward_backward(case, "relu", torch.float32, "kernels"))
        finally:
            pyaae.set_num_threads(None)
    for other in results[1:]:
        for name, value in results[0].items():
            assert torch.equal(value, other[name]), f"{name} differs between runs"
