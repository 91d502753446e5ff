"""Every fused linear kernel against a float64 oracle: forward and each gradient, every activation,
shapes from 1 to 1000 wide (and past the cache blocks), on each SIMD path, both thread counts, and
the CUDA kernels under emulation; outputs poisoned with NaN so unwritten elements fail; gradcheck;
bitwise determinism. Tolerance rule: tests/_oracle.py."""
from __future__ import annotations

from types import ModuleType
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import pytest
import torch
from _oracle import assert_accurate, check_against_oracle, forward_backward, make_case, seed_of
from conftest import kernel_module, needs_emu

import pyaae
from pyaae._activations import ACTIVATION_CODES

ACTIVATIONS = ["identity", "relu", "leaky_relu", "sigmoid", "tanh"]
Shape = Tuple[int, int, int]

# (batch, in, out): every size of {1, 3, 7, 8, 17, 100, 784, 1000} on each axis, batch in
# {1, 2, 7, 100, 512}, and the paper's MNIST layers at batch 100.
CPU_SHAPES: List[Shape] = [
    (1, 1, 1), (1, 3, 7), (2, 7, 3), (7, 8, 17), (100, 17, 100), (512, 100, 8), (7, 784, 3),
    (2, 1000, 1), (100, 1, 1000), (512, 17, 784), (1, 1000, 1000), (7, 3, 100), (100, 8, 8),
    (2, 100, 784), (512, 784, 17), (1, 17, 3), (100, 7, 1), (7, 1000, 8), (512, 3, 1), (2, 8, 1000),
    (100, 784, 1000), (100, 1000, 1000), (100, 1000, 8), (100, 8, 1000), (100, 1000, 784),
]
# Wider than the column block of both SIMD back ends (NC = 2048 generic, 4080 AVX2): the GEMM's
# outer column loop runs twice, in the forward pass (out = 4100) and in the weight gradient (in =
# 4100, where the bias gradient must be summed in the first column block only).
BLOCKING_SHAPES: List[Shape] = [(3, 5, 4100), (4, 4100, 6)]
# The emulator runs one OS thread per CUDA thread: shapes small enough to be quick that still hit
# every edge of the tiles (1, one short of a tile, exactly a tile, one over, two tiles). It plans
# launches as for a 4-SM GPU, so these also reach every tile and split-K (GEMMs are forward
# m x n x k = batch x out x in, grad_x batch x in x out, grad_weight out x in x batch):
#   (257, 9, 260)  forward on 128 x 128 tiles (k = 9: a partial 8-deep slice, odd strides: scalar
#                  loads); grad_x and grad_weight on 64 x 16 tiles split in two along k (bias fused)
#   (5, 300, 68)   forward on 16 x 64 tiles split along k, float4 loads; grad_weight on 64 x 64 tiles
#                  with float2 loads along n
#   (300, 20, 12)  forward on 64 x 16 tiles; grad_weight on 16 x 64 tiles split along k
#   (40, 33, 36)   64 x 64 tiles, odd in (scalar loads of x and W) with float4 loads of grad_y
EMU_SHAPES: List[Shape] = [(1, 1, 1), (3, 65, 64), (65, 17, 63), (64, 64, 65), (130, 7, 1), (1, 129, 130),
                           (2, 16, 17), (257, 9, 260), (5, 300, 68), (300, 20, 12), (40, 33, 36)]
# Two threads only split passes of >= 0.5 MFLOP: the first shape splits columns, the second and third
# rows (in some passes), the fourth is small enough to stay on one thread whatever is asked; the last
# is narrow (out <= 8) and splits its rows and its weight gradient's columns (1003: a ragged chunk).
THREAD_SHAPES: List[Shape] = [(100, 784, 1000), (512, 100, 8), (512, 17, 784), (7, 17, 100), (300, 1003, 5)]
# Raw calls with NaN-filled outputs: edge tiles in both directions, depth past one KC = 256 block
# in the forward pass (13 x 300 x 21) and in the weight gradient (batch 300), rows past one MC block;
# narrow layers (out <= 8: the narrow kernels) with rows and columns off their blocks.
POISON_SHAPES: List[Shape] = [(101, 33, 47), (13, 300, 21), (300, 21, 13), (29, 300, 5), (13, 37, 2)]
EMU_POISON_SHAPES: List[Shape] = [(65, 17, 63), (257, 9, 260), (5, 300, 68)]


def _shape_id(shape: Shape) -> str:
    return "x".join(map(str, shape))


def _run_table(backend: str, shapes: Sequence[Shape], activation: str, index: int) -> None:
    batch, n_in, n_out = shapes[index]
    with_bias = index % 3 != 2  # a third of the cases run without bias
    case = make_case(seed_of(backend, activation, index), batch, n_in, n_out, bias=with_bias)
    check_against_oracle(case, activation, backend)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("index", range(len(CPU_SHAPES)), ids=lambda i: _shape_id(CPU_SHAPES[i]))
def test_cpu_kernels_match_float64_oracle(simd_level: str, activation: str, index: int) -> None:
    """Forward, grad_x, grad_weight (and grad_bias) within twice PyTorch's float32 error."""
    _run_table("kernels", CPU_SHAPES, activation, index)


@pytest.mark.parametrize("activation", ["identity", "sigmoid"])
@pytest.mark.parametrize("shape", BLOCKING_SHAPES, ids=_shape_id)
def test_cpu_kernels_past_the_column_block(simd_level: str, activation: str, shape: Shape) -> None:
    """Guards the GEMM's outer column loop and the bias gradient's first-block-only sums."""
    check_against_oracle(make_case(seed_of("blocking", activation, shape), *shape), activation, "kernels")


def _activation_inputs() -> torch.Tensor:
    """Magnitudes from 1e-8 to 100, log-uniform, of both signs, then the branch points, the ends of
    float's range and the specials."""
    g = torch.Generator().manual_seed(7)
    magnitudes = torch.empty(20000, dtype=torch.float64).uniform_(np.log(1e-8), np.log(100.0), generator=g).exp()
    signs = torch.where(torch.rand(20000, generator=g) < 0.5, -1.0, 1.0)
    edges = [0.0, 0.05, -0.05, 0.625, -0.625, 9.1, -90.0, -104.0, 1e-45, 1e38, -1e38, np.inf, -np.inf, np.nan]
    return torch.cat([magnitudes * signs, torch.tensor(edges, dtype=torch.float64)]).float()


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
@pytest.mark.parametrize("width", [5, 48])
def test_cpu_activations_round_once(simd_level: str, activation: str, width: int) -> None:
    """The CPU kernels' sigmoid and tanh are evaluated in double and rounded once: within half an ulp
    (plus 1e-3 for the double evaluation) of the float64 value, where PyTorch's own float32 functions
    err by up to 2.2 and 0.51 ulp. One input column times a weight of ones leaves every input exact in
    each output column, so only the activation errs; width 48 takes the SIMD GEMM's epilogue, width 5
    the narrow layers' scalar one."""
    x = _activation_inputs()[:, None]
    y = pyaae.ops.fused_linear(x, torch.ones(width, 1), torch.zeros(width), activation, backend="kernels")
    oracle = getattr(torch, activation)(x.double()).expand(-1, width)
    assert torch.equal(y.isnan(), oracle.isnan())
    finite = ~oracle.isnan()
    ulp = torch.from_numpy(np.spacing(oracle[finite].abs().float().numpy())).double()
    err = ((y[finite].double() - oracle[finite]).abs() / ulp).max().item()
    assert err <= 0.501, f"{activation} off by {err:.3f} ulp"


@needs_emu
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("index", range(len(EMU_SHAPES)), ids=lambda i: _shape_id(EMU_SHAPES[i]))
def test_emulated_cuda_kernels_match_float64_oracle(activation: str, index: int) -> None:
    """The CUDA kernels (run by the SIMT emulator) held to the same rule as the CPU kernels."""
    _run_table("emu", EMU_SHAPES, activation, index)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("shape", THREAD_SHAPES, ids=_shape_id)
def test_thread_counts_match_oracle(simd_level: str, num_threads: int, activation: str, shape: Shape) -> None:
    """Splitting the work over threads (by rows or by columns) keeps every output right."""
    case = make_case(seed_of("threads", activation, shape), *shape, bias=activation == "relu")
    check_against_oracle(case, activation, "kernels")


# Outputs are views into NaN-filled buffers with a guard band of this many floats on either side.
_GUARD = 64


def _poisoned(shape: Tuple[int, ...]) -> Tuple[np.ndarray, np.ndarray]:
    """(buffer, output): a C-contiguous NaN-filled output inside a buffer whose guard bands hold 7."""
    size = int(np.prod(shape))
    buffer = np.full(size + 2 * _GUARD, 7.0, np.float32)
    buffer[_GUARD:_GUARD + size] = np.nan
    return buffer, buffer[_GUARD:_GUARD + size].reshape(shape)


def _assert_written_in_bounds(name: str, buffer: np.ndarray, out: np.ndarray) -> None:
    assert not np.isnan(out).any(), f"{name}: {int(np.isnan(out).sum())} elements never written (still NaN)"
    assert (buffer[:_GUARD] == 7.0).all() and (buffer[-_GUARD:] == 7.0).all(), f"{name}: written out of bounds"


def _workspace_option(kernels: ModuleType, batch: int, n_in: int, n_out: int) -> Dict[str, np.ndarray]:
    """The split-K workspace, for the kernel modules that take one (pyaae.emu)."""
    query = getattr(kernels, "linear_workspace_floats", None)
    return {} if query is None else {"workspace": np.empty(query(batch, n_in, n_out), np.float32)}


def _raw_pass(kernels: ModuleType, case: Dict[str, Optional[torch.Tensor]], activation: str,
              wanted: Sequence[str], num_threads: int) -> Dict[str, torch.Tensor]:
    """linear_forward and linear_backward called directly, every output poisoned; only the gradients
    in ``wanted`` are asked for (the others are passed as None). Returns y and those gradients."""
    x, w, g = (case[k].numpy() for k in ("x", "weight", "grad"))
    b = None if case["bias"] is None else case["bias"].numpy()
    code = ACTIVATION_CODES[activation]
    batch, n_in, n_out = x.shape[0], x.shape[1], w.shape[0]
    shapes = {"y": (batch, n_out), "grad_x": (batch, n_in), "grad_weight": (n_out, n_in), "grad_bias": (n_out,)}
    arrays = {name: _poisoned(shapes[name]) for name in ("y", *wanted)}
    y = arrays["y"][1]
    options = _workspace_option(kernels, batch, n_in, n_out)
    kernels.linear_forward(x, w, b, y, code, 0.2, num_threads, **options)
    grads = [arrays[name][1] if name in arrays else None for name in ("grad_x", "grad_weight", "grad_bias")]
    kernels.linear_backward(g, y, x, w, *grads, code, 0.2, num_threads, **options)
    for name, (buffer, out) in arrays.items():
        _assert_written_in_bounds(name, buffer, out)
    return {name: torch.from_numpy(out.copy()) for name, (_, out) in arrays.items()}


def _check_raw(kernels: ModuleType, shape: Shape, activation: str, wanted: Sequence[str], num_threads: int) -> None:
    case = make_case(seed_of("poison", shape, activation), *shape)
    ours = _raw_pass(kernels, case, activation, wanted, num_threads)
    torch32 = forward_backward(case, activation, torch.float32, "reference")
    oracle = forward_backward(case, activation, torch.float64, "reference")
    for name, value in ours.items():
        assert_accurate(name, value, torch32[name], oracle[name])


ALL_GRADS = ("grad_x", "grad_weight", "grad_bias")


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("shape", POISON_SHAPES, ids=_shape_id)
def test_every_output_element_written(simd_level: str, activation: str, shape: Shape) -> None:
    """Raw kernels on NaN-filled outputs: every element written, none outside, every value right."""
    _check_raw(pyaae._C, shape, activation, ALL_GRADS, num_threads=2)


@needs_emu
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("shape", EMU_POISON_SHAPES, ids=_shape_id)
def test_every_output_element_written_emulated_cuda(activation: str, shape: Shape) -> None:
    """The same for the CUDA kernels under emulation."""
    _check_raw(kernel_module("emu"), shape, activation, ALL_GRADS, num_threads=1)


# Each subset of gradients takes a different route: grad_bias alone is its own reduction, with
# grad_weight it is summed inside the weight-gradient GEMM.
GRAD_SUBSETS = [("grad_x",), ("grad_weight",), ("grad_bias",), ("grad_weight", "grad_bias"), ("grad_x", "grad_bias")]


@pytest.mark.parametrize("wanted", GRAD_SUBSETS, ids="+".join)
def test_subsets_of_gradients_written(kernel_backend: str, wanted: Tuple[str, ...]) -> None:
    """Gradients passed as None are skipped; the ones asked for are complete and right."""
    _check_raw(kernel_module(kernel_backend), (65, 17, 63), "sigmoid", wanted, num_threads=2)


# (x requires grad, weight requires grad, bias: None / frozen / trainable)
NEEDS_GRAD = [(False, True, "none"), (True, False, "frozen"), (False, False, "trainable"),
              (True, True, "none"), (False, True, "trainable"), (True, True, "trainable")]


@pytest.mark.parametrize("x_grad,w_grad,bias", NEEDS_GRAD,
                         ids=lambda v: str(v) if isinstance(v, str) else ("grad" if v else "nograd"))
def test_backward_computes_only_needed_gradients(monkeypatch: pytest.MonkeyPatch, x_grad: bool, w_grad: bool,
                                                 bias: str) -> None:
    """The kernel is asked only for the gradients autograd needs (None for the others), and those
    it returns are right."""
    calls: List[tuple] = []
    real = pyaae._C.linear_backward

    def spy(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(pyaae._C, "linear_backward", spy)
    case = make_case(seed_of("needs-grad", x_grad, w_grad, bias), 9, 13, 5, bias=bias != "none")
    x = case["x"].clone().requires_grad_(x_grad)
    w = case["weight"].clone().requires_grad_(w_grad)
    b = None if bias == "none" else case["bias"].clone().requires_grad_(bias == "trainable")
    pyaae.ops.fused_linear(x, w, b, "tanh", backend="kernels").backward(case["grad"])
    assert len(calls) == 1
    asked = {name: calls[0][4 + i] is not None for i, name in enumerate(ALL_GRADS)}
    assert asked == {"grad_x": x_grad, "grad_weight": w_grad, "grad_bias": bias == "trainable"}

    torch32 = forward_backward(case, "tanh", torch.float32, "reference")
    oracle = forward_backward(case, "tanh", torch.float64, "reference")
    for name, tensor, wanted in (("grad_x", x, x_grad), ("grad_weight", w, w_grad), ("grad_bias", b, bias == "trainable")):
        if tensor is None:
            continue
        if wanted:
            assert_accurate(name, tensor.grad, torch32[name], oracle[name])
        else:
            assert tensor.grad is None, f"{name} was formed though not needed"


@pytest.mark.parametrize("activation", ["identity", "sigmoid", "tanh"])
def test_gradcheck_kernels_float32(kernel_backend: str, activation: str) -> None:
    """Finite differences against the float32 kernels. With eps = 1e-3 on O(1) inputs each
    difference quotient carries ~ulp(1) / eps ~ 1e-4 relative rounding noise (and the kernels'
    own summation error over eps), so atol = rtol = 1e-2: loose enough for float32 noise, tight
    enough that a wrong or transposed gradient (an O(1) error) fails. The exact check is the
    float64 oracle above; relu and leaky_relu are left out for their kink."""
    case = make_case(seed_of("gradcheck", kernel_backend, activation), 4, 5, 3)
    inputs = tuple(case[k].clone().requires_grad_() for k in ("x", "weight", "bias"))
    fn = lambda x, w, b: pyaae.ops.fused_linear(x, w, b, activation, backend=kernel_backend)  # noqa: E731
    with pytest.warns(UserWarning, match="double precision"):
        assert torch.autograd.gradcheck(fn, inputs, eps=1e-3, atol=1e-2, rtol=1e-2)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_gradcheck_reference_float64(activation: str) -> None:
    """The oracle itself, by gradcheck's default float64 tolerances. (A random pre-activation within
    gradcheck's eps = 1e-6 of relu's kink is too unlikely to matter at these sizes.)"""
    case = make_case(seed_of("gradcheck64", activation), 4, 5, 3)
    inputs = tuple(case[k].double().requires_grad_() for k in ("x", "weight", "bias"))
    fn = lambda x, w, b: pyaae.reference.fused_linear(x, w, b, activation)  # noqa: E731
    assert torch.autograd.gradcheck(fn, inputs)


def _run_with_threads(case: Dict[str, Optional[torch.Tensor]], activation: str, backend: str,
                      threads: int) -> Dict[str, torch.Tensor]:
    pyaae.set_num_threads(threads)
    try:
        return forward_backward(case, activation, torch.float32, backend)
    finally:
        pyaae.set_num_threads(None)


def _assert_bitwise_equal(runs: List[Dict[str, torch.Tensor]]) -> None:
    for other in runs[1:]:
        for name, value in runs[0].items():
            assert torch.equal(value, other[name]), f"{name} differs between runs"


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
@pytest.mark.parametrize("shape", [(100, 784, 1000), (512, 100, 8)], ids=_shape_id)
def test_deterministic_across_calls_and_thread_counts(simd_level: str, activation: str, shape: Shape) -> None:
    """Same inputs give bitwise the same output and gradients (bias included), on 1 or 2 threads:
    the threads split whole register tiles, never a sum."""
    case = make_case(seed_of("determinism", activation, shape), *shape)
    _assert_bitwise_equal([_run_with_threads(case, activation, "kernels", t) for t in (1, 2, 2, 1)])


@needs_emu
@pytest.mark.parametrize("shape", [(65, 17, 63), (257, 9, 260)], ids=_shape_id)
def test_emulated_cuda_deterministic_across_calls(shape: Shape) -> None:
    """Each output of the CUDA kernels is summed by one thread in a fixed order, and split-K slices
    (the second shape) are added in a fixed order: bitwise repeatable."""
    case = make_case(seed_of("determinism-emu", shape), *shape)
    _assert_bitwise_equal([_run_with_threads(case, "tanh", "emu", 1) for _ in range(2)])


def _misaligned(a: np.ndarray) -> np.ndarray:
    """A C-contiguous copy of a whose data starts 4 bytes past a 16-byte boundary."""
    buffer = np.empty(a.size + 4, np.float32)
    start = (-buffer.ctypes.data // 4) % 4 + 1
    out = buffer[start:start + a.size].reshape(a.shape)
    out[...] = a
    return out


@needs_emu
def test_emulated_cuda_misaligned_arrays() -> None:
    """Strides that allow float4 loads but pointers that do not: the scalar loads and stores give
    bitwise the same results as the vector ones."""
    kernels = kernel_module("emu")
    batch, n_in, n_out = 40, 36, 68
    case = make_case(seed_of("misaligned"), batch, n_in, n_out)
    inputs = [case[k].numpy() for k in ("x", "weight", "bias", "grad")]
    code = ACTIVATION_CODES["sigmoid"]
    results = []
    for place in (lambda a: a.copy(), _misaligned):
        x, w, b, g = (place(a) for a in inputs)
        shapes = ((batch, n_out), (batch, n_in), (n_out, n_in), (n_out,))
        outs = [place(np.zeros(shape, np.float32)) for shape in shapes]
        options = _workspace_option(kernels, batch, n_in, n_out)
        kernels.linear_forward(x, w, b, outs[0], code, 0.2, 1, **options)
        kernels.linear_backward(g, outs[0], x, w, *outs[1:], code, 0.2, 1, **options)
        results.append([o.copy() for o in outs])
    for aligned, misaligned in zip(*results):
        np.testing.assert_array_equal(aligned, misaligned)


def test_every_emulator_test_skips_without_it() -> None:
    """Every test of pyaae.emu carries needs_emu, so that it skips where the emulator was not built;
    a mark on a helper function does nothing, so no helper carries one."""
    for name, value in globals().items():
        if not callable(value) or getattr(value, "__module__", None) != __name__:
            continue
        marks = getattr(value, "pytestmark", [])
        if name.startswith("test_emulated"):
            assert needs_emu.mark in marks, f"{name} runs pyaae.emu but does not carry needs_emu"
        elif not name.startswith("test_"):
            assert not marks, f"{name} is a helper: pytest ignores its marks"
