"""Bad input to the fused layers: the correct result or a clear exception naming the argument,
never a crash, a hang or a silently wrong number."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from types import ModuleType
from typing import Callable, Dict, Optional, Tuple

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from _oracle import assert_same_nonfinite, check_against_oracle, make_case, seed_of
from conftest import SIMD_LEVELS, kernel_module, needs_emu

import pyaae

ops = pyaae.ops
ACTIVATIONS = ["identity", "relu", "leaky_relu", "sigmoid", "tanh"]
Args = Tuple[torch.Tensor, torch.Tensor, torch.Tensor]


def _args(batch: int = 4, n_in: int = 5, n_out: int = 3) -> Args:
    torch.manual_seed(0)
    return torch.randn(batch, n_in), torch.randn(n_out, n_in), torch.randn(n_out)


def _leaves(*tensors: Optional[torch.Tensor]) -> Tuple[Optional[torch.Tensor], ...]:
    """Leaf tensors that require grad and keep the given strides (views stay non-contiguous)."""
    return tuple(None if t is None else t.detach().requires_grad_() for t in tensors)


def _output_and_grads(x: torch.Tensor, w: torch.Tensor, b: Optional[torch.Tensor], activation: str,
                      backend: str, seed: int = 0) -> Dict[str, Optional[torch.Tensor]]:
    """fused_linear's output and the gradients of x, w, b after a backward pass of a random upstream
    gradient (all inputs must be leaves that require grad)."""
    y = ops.fused_linear(x, w, b, activation, backend=backend)
    y.backward(torch.randn(y.shape, generator=torch.Generator().manual_seed(seed), dtype=y.dtype))
    return {"y": y.detach(), "grad_x": x.grad, "grad_weight": w.grad, "grad_bias": None if b is None else b.grad}


def _assert_close_results(ours: Dict[str, Optional[torch.Tensor]], theirs: Dict[str, Optional[torch.Tensor]],
                          exact: bool = False) -> None:
    for name, value in theirs.items():
        if value is None:
            assert ours[name] is None, name
            continue
        assert ours[name] is not None and ours[name].shape == value.shape, name
        if exact:
            assert torch.equal(ours[name], value), f"{name} differs"
        else:
            torch.testing.assert_close(ours[name], value, rtol=1e-5, atol=1e-5, msg=lambda m: f"{name}: {m}")


# ---------------------------------------------------------------------------------------------
# Tensors: dtype, shapes, layouts, devices


def test_float64_auto_uses_reference_and_kernels_refuses() -> None:
    """auto on float64 gives exactly the reference (output and gradients); 'kernels' says float32."""
    x, w, b = (t.double() for t in _args())
    ours = _output_and_grads(*_leaves(x, w, b), "tanh", "auto")
    _assert_close_results(ours, _output_and_grads(*_leaves(x, w, b), "tanh", "reference"), exact=True)
    torch.testing.assert_close(ours["y"], torch.tanh(F.linear(x, w, b)))
    with pytest.raises(RuntimeError, match="backend='kernels' cannot run here: .*float32"):
        ops.fused_linear(x, w, b, backend="kernels")


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_auto_uses_reference(dtype: torch.dtype) -> None:
    """Other float dtypes fall back to the reference under auto, and 'kernels' refuses them."""
    x, w, b = (t.to(dtype) for t in _args())
    y = ops.fused_linear(x, w, b, "sigmoid")
    assert y.dtype == dtype
    assert torch.equal(y, pyaae.reference.fused_linear(x, w, b, "sigmoid"))
    with pytest.raises(RuntimeError, match="float32"):
        ops.fused_linear(x, w, b, backend="kernels")


@pytest.mark.parametrize("backend", ["auto", "kernels", "reference"])
def test_integer_tensors_name_the_argument(backend: str) -> None:
    x, w, b = _args()
    with pytest.raises(TypeError, match="x must be a floating-point"):
        ops.fused_linear(x.long(), w, b, backend=backend)
    with pytest.raises(TypeError, match="weight dtype torch.int32 does not match x dtype"):
        ops.fused_linear(x, w.int(), b, backend=backend)
    with pytest.raises(TypeError, match="bias dtype torch.int64 does not match x dtype"):
        ops.fused_linear(x, w, b.long(), backend=backend)


def test_not_a_tensor_names_argument() -> None:
    x, w, b = _args()
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        ops.fused_linear(x.numpy(), w, b)
    with pytest.raises(TypeError, match="weight must be a torch.Tensor"):
        ops.fused_linear(x, w.numpy(), b)
    with pytest.raises(TypeError, match="bias must be a torch.Tensor or None"):
        ops.fused_linear(x, w, [1.0, 2.0, 3.0])


@pytest.mark.parametrize("backend", ["kernels", "reference"])
def test_mismatched_shapes_name_argument(backend: str) -> None:
    x, w, b = _args()
    with pytest.raises(ValueError, match="weight has 4 input features but x has 5"):
        ops.fused_linear(x, w[:, :4], b, backend=backend)
    with pytest.raises(ValueError, match=r"bias must have shape \(3,\)"):
        ops.fused_linear(x, w, b[:2], backend=backend)
    with pytest.raises(ValueError, match=r"bias must have shape \(3,\)"):
        ops.fused_linear(x, w, b[None], backend=backend)
    with pytest.raises(ValueError, match="weight must be 2-D"):
        ops.fused_linear(x, w[0], b, backend=backend)
    with pytest.raises(TypeError, match="weight dtype"):
        ops.fused_linear(x, w.double(), b, backend=backend)


# Non-contiguous layouts of (x, weight, bias), each built from fresh random data.
LAYOUTS: Dict[str, Callable[[], Tuple[torch.Tensor, torch.Tensor, Optional[torch.Tensor]]]] = {
    "x-transposed": lambda: (torch.randn(8, 6).t(), torch.randn(5, 8), torch.randn(5)),
    "x-strided": lambda: (torch.randn(12, 16)[::2, ::2], torch.randn(5, 8), torch.randn(5)),
    "x-offset-rows": lambda: (torch.randn(10, 8)[3:9, 1:], torch.randn(5, 7), torch.randn(5)),
    "x-expanded": lambda: (torch.randn(1, 8).expand(6, 8), torch.randn(5, 8), None),
    "x-3d-permuted": lambda: (torch.randn(8, 3, 2).permute(1, 2, 0), torch.randn(5, 8), torch.randn(5)),
    "weight-transposed": lambda: (torch.randn(6, 8), torch.randn(8, 5).t(), torch.randn(5)),
    "weight-strided": lambda: (torch.randn(6, 8), torch.randn(10, 8)[::2], torch.randn(5)),
    "bias-strided": lambda: (torch.randn(6, 8), torch.randn(5, 8), torch.randn(10)[::2]),
    "all": lambda: (torch.randn(16, 12)[::2, ::2].t(), torch.randn(8, 5).t(), torch.randn(15)[::3]),
}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_non_contiguous_views_give_correct_result(kernel_backend: str, layout: str) -> None:
    """Strided, transposed, offset and expanded views: bitwise the result (and gradients) of the
    same kernels on contiguous copies, and PyTorch's output and gradients (autograd through F.linear
    on the same views) within float32 rounding."""
    torch.manual_seed(seed_of("layout", layout) % 2**31)
    x, w, b = LAYOUTS[layout]()
    assert not (x.is_contiguous() and w.is_contiguous() and (b is None or b.is_contiguous()))
    ours = _output_and_grads(*_leaves(x, w, b), "relu", kernel_backend)
    contiguous = tuple(None if t is None else t.contiguous() for t in (x, w, b))
    _assert_close_results(ours, _output_and_grads(*_leaves(*contiguous), "relu", kernel_backend), exact=True)
    _assert_close_results(ours, _output_and_grads(*_leaves(x, w, b), "relu", "reference"))


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_empty_batch(kernel_backend: str, activation: str) -> None:
    """batch 0: output [0, out], grad_x [0, in], and zero (not unwritten) grad_weight and grad_bias."""
    _, w, b = _args()
    x, w, b = _leaves(torch.empty(0, 5), w, b)
    ours = _output_and_grads(x, w, b, activation, kernel_backend)
    assert ours["y"].shape == (0, 3) and ours["grad_x"].shape == (0, 5)
    assert torch.equal(ours["grad_weight"], torch.zeros_like(w)) and torch.equal(ours["grad_bias"], torch.zeros_like(b))


def test_no_output_features(kernel_backend: str) -> None:
    """out_features 0: output [batch, 0] and a zero input gradient."""
    x, w, b = _leaves(torch.randn(4, 5), torch.empty(0, 5), torch.empty(0))
    ours = _output_and_grads(x, w, b, "tanh", kernel_backend)
    assert ours["y"].shape == (4, 0)
    assert torch.equal(ours["grad_x"], torch.zeros(4, 5))


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_zero_input_features_give_activation_of_bias(kernel_backend: str, activation: str) -> None:
    """in_features 0: output act(bias) on every row, grad_bias summed over the batch."""
    x, w, b = torch.randn(4, 0), torch.randn(3, 0), torch.randn(3)
    ours = _output_and_grads(*_leaves(x, w, b), activation, kernel_backend)
    _assert_close_results(ours, _output_and_grads(*_leaves(x, w, b), activation, "reference"))


@pytest.mark.parametrize("x_shape", [(0,), (2, 4, 0)], ids=["1d", "3d"])
def test_zero_input_features_with_other_ranks(x_shape: Tuple[int, ...]) -> None:
    """F.linear accepts in_features 0 for any rank of x; so should the kernels' path."""
    x, w, b = torch.empty(x_shape), torch.randn(3, 0), torch.randn(3)
    torch.testing.assert_close(ops.fused_linear(x, w, b, "identity", backend="kernels"), F.linear(x, w, b))


@pytest.mark.parametrize("x_shape", [(5,), (2, 3, 5), (2, 1, 3, 5)], ids=["1d", "3d", "4d"])
def test_other_ranks_follow_f_linear(kernel_backend: str, x_shape: Tuple[int, ...]) -> None:
    """1-D and batched inputs: the shape and values of F.linear, and the reference's gradients."""
    _, w, b = _args()
    x = torch.randn(x_shape)
    ours = _output_and_grads(*_leaves(x, w, b), "leaky_relu", kernel_backend)
    assert ours["y"].shape == F.linear(x, w, b).shape
    _assert_close_results(ours, _output_and_grads(*_leaves(x, w, b), "leaky_relu", "reference"))


def test_zero_dimensional_input_is_rejected() -> None:
    _, w, b = _args()
    for backend in ("auto", "kernels", "reference"):
        with pytest.raises(ValueError, match="x must have at least 1 dimension"):
            ops.fused_linear(torch.tensor(1.0), w, b, backend=backend)


def _poisoned_args(poison: str) -> Args:
    """Inputs with one non-finite value (or one of each sign) in x, and a zero weight in its column
    so that 0 * inf appears in the sum."""
    x, w, b = _args(6, 5, 3)
    values = {"nan": [float("nan")], "inf": [float("inf")], "-inf": [-float("inf")],
              "both": [float("inf"), -float("inf")]}[poison]
    for j, value in enumerate(values):
        x[3, 1 + j] = value
    x[1, 2] = float("nan") if poison == "both" else x[1, 2]
    w[2, 1] = 0.0
    return x, w, b


@pytest.mark.parametrize("poison", ["nan", "inf", "-inf", "both"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_nan_and_inf_propagate_like_pytorch(kernel_backend: str, activation: str, poison: str) -> None:
    """NaN and +-Inf in x: NaN, +Inf and -Inf at exactly PyTorch's positions in the output, equal
    values elsewhere."""
    x, w, b = _poisoned_args(poison)
    y = ops.fused_linear(x, w, b, activation, backend=kernel_backend)
    ref = pyaae.reference.fused_linear(x, w, b, activation)
    assert_same_nonfinite("y", y, ref)
    finite = torch.isfinite(ref)
    torch.testing.assert_close(y[finite], ref[finite])


@pytest.mark.parametrize("poison", ["nan", "inf", "-inf"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_nan_and_inf_propagate_like_pytorch_in_gradients(kernel_backend: str, activation: str, poison: str) -> None:
    """The same for grad_x, grad_bias and grad_weight after a backward pass."""
    x, w, b = _poisoned_args(poison)
    ours = _output_and_grads(*_leaves(x, w, b), activation, kernel_backend)
    ref = _output_and_grads(*_leaves(x, w, b), activation, "reference")
    for name in ("grad_x", "grad_bias", "grad_weight"):
        assert_same_nonfinite(name, ours[name], ref[name])
        finite = torch.isfinite(ref[name])
        torch.testing.assert_close(ours[name][finite], ref[name][finite], msg=lambda m: f"{name}: {m}")


def test_device_tensor_without_kernels_says_why() -> None:
    """A tensor on a device with no kernels: auto runs the reference there, 'kernels' is an error
    with the reason."""
    x, w, b = (t.to("meta") for t in _args())
    assert ops.fused_linear(x, w, b).shape == (4, 3)
    with pytest.raises(RuntimeError, match="no meta kernels exist"):
        ops.fused_linear(x, w, b, backend="kernels")


def test_cuda_tensor_without_cuda_kernels_says_why() -> None:
    """Where PyTorch has a CUDA device but pyaae cannot use it, 'kernels' names the reason."""
    reason = pyaae.build_info()["ops"]["fused_linear"]["reasons"].get("kernels-cuda")
    if not torch.cuda.is_available() or reason is None:
        pytest.skip("needs a CUDA device that pyaae's CUDA kernels cannot use")
    x, w, b = (t.cuda() for t in _args())
    with pytest.raises(RuntimeError, match="backend='kernels' cannot run here"):
        ops.fused_linear(x, w, b, backend="kernels")


def test_mixed_devices_name_the_argument() -> None:
    x, w, b = _args()
    with pytest.raises(ValueError, match="weight is on meta but x is on cpu"):
        ops.fused_linear(x, w.to("meta"), b)
    with pytest.raises(ValueError, match="bias is on meta but x is on cpu"):
        ops.fused_linear(x, w, b.to("meta"))


# ---------------------------------------------------------------------------------------------
# Scalars: activation, negative_slope, backend


@pytest.mark.parametrize("op", ["ops", "reference", "module", "mlp"])
def test_unknown_activation_lists_accepted_names(op: str) -> None:
    x, w, b = _args()
    calls = {
        "ops": lambda: ops.fused_linear(x, w, b, "gelu"),
        "reference": lambda: pyaae.reference.fused_linear(x, w, b, "gelu"),
        "module": lambda: pyaae.nn.FusedLinear(5, 3, activation="gelu"),
        "mlp": lambda: ops.fused_mlp(x, [w], [b], ["gelu"]),
    }
    with pytest.raises(ValueError, match="activation must be one of identity, relu, leaky_relu, sigmoid, tanh; got 'gelu'"):
        calls[op]()


@pytest.mark.parametrize("backend", ["kernels", "reference"])
@pytest.mark.parametrize("slope", [-0.1, float("nan"), float("inf"), -float("inf")])
def test_bad_negative_slope(backend: str, slope: float) -> None:
    x, w, b = _args()
    with pytest.raises(ValueError, match="negative_slope must be a finite number >= 0"):
        ops.fused_linear(x, w, b, "leaky_relu", slope, backend=backend)


@pytest.mark.parametrize("slope", [True, "0.2", None])
def test_negative_slope_of_wrong_type(slope: object) -> None:
    x, w, b = _args()
    with pytest.raises(TypeError, match="negative_slope must be a number"):
        ops.fused_linear(x, w, b, "leaky_relu", slope)


@pytest.mark.parametrize("backend", ["kernels", "reference"])
def test_negative_slope_beyond_float32_is_rejected(backend: str) -> None:
    """A slope that is finite as a double but not as a float32 is a ValueError on every backend."""
    x, w, b = _args()
    with pytest.raises(ValueError, match="negative_slope"):
        ops.fused_linear(x, w, b, "leaky_relu", 1e300, backend=backend)


@pytest.mark.parametrize("slope", [0.0, 1.0, 3.0])
def test_unusual_but_valid_negative_slopes(simd_level: str, slope: float) -> None:
    """slope 0 (relu with a negative-side zero), 1 (identity) and > 1: gradients are read off the
    output's sign, which these keep."""
    case = make_case(seed_of("slope", slope), 37, 19, 23)
    check_against_oracle(case, "leaky_relu", "kernels", negative_slope=slope)


def test_unknown_backend() -> None:
    x, w, b = _args()
    with pytest.raises(ValueError, match="backend must be one of auto, kernels, reference, emu; got 'gpu'"):
        ops.fused_linear(x, w, b, backend="gpu")
    with pytest.raises(ValueError, match="backend must be one of"):
        ops.fused_mlp(x, [w], [b], ["relu"], backend="gpu")
    # Unhashable: checked before the remembered backend choice could trip over it.
    with pytest.raises(ValueError, match=r"backend must be one of auto, kernels, reference, emu; got \['kernels'\]"):
        ops.fused_linear(x, w, b, backend=["kernels"])


# ---------------------------------------------------------------------------------------------
# The raw kernels: every argument checked in the binding, by name


BACKENDS = ["kernels", pytest.param("emu", marks=needs_emu)]
FORWARD_ARGS = ("x", "weight", "bias", "out")
BACKWARD_ARGS = ("grad_out", "out", "x", "weight", "grad_x", "grad_weight", "grad_bias")
RAW_SHAPES = {"x": (4, 5), "weight": (3, 5), "bias": (3,), "out": (4, 3), "grad_out": (4, 3),
              "grad_x": (4, 5), "grad_weight": (3, 5), "grad_bias": (3,)}


def _raw_arrays() -> Dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {name: rng.standard_normal(shape).astype(np.float32) for name, shape in RAW_SHAPES.items()}


def _call(kernels: ModuleType, which: str, a: Dict[str, object], code: int = 1, slope: float = 0.2,
          threads: int = 1) -> None:
    if which == "forward":
        kernels.linear_forward(a["x"], a["weight"], a["bias"], a["out"], code, slope, threads)
    else:
        kernels.linear_backward(a["grad_out"], a["out"], a["x"], a["weight"], a["grad_x"], a["grad_weight"],
                                a["grad_bias"], code, slope, threads)


RAW_CASES = [("forward", name) for name in FORWARD_ARGS] + [("backward", name) for name in BACKWARD_ARGS]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("which,name", RAW_CASES, ids=[f"{w}-{n}" for w, n in RAW_CASES])
def test_raw_kernels_check_each_array(backend: str, which: str, name: str) -> None:
    """dtype, type, rank, contiguity and shape of every array argument, each error naming it."""
    kernels = kernel_module(backend)
    good = _raw_arrays()

    def bad(value: object, error: type, match: str) -> None:
        with pytest.raises(error, match=match):
            _call(kernels, which, {**good, name: value})

    array = good[name]
    bad(array.astype(np.float64), TypeError, f"^{name} must be float32")
    bad(array.astype(np.int32), TypeError, f"^{name} must be float32")
    bad(array.tolist(), TypeError, f"^{name} must be an array supporting the buffer protocol")
    bad(array[None], ValueError, f"^{name} must be {array.ndim}-D, got {array.ndim + 1}-D")
    wide = np.repeat(array, 2, axis=-1)
    bad(wide[..., ::2], ValueError, f"^{name} must be C-contiguous")
    if array.ndim == 2:
        bad(np.asfortranarray(np.repeat(array, 2, axis=0)[::2]), ValueError, f"^{name} must be C-contiguous")
    # Wrong extents, where this argument is the odd one out: x sets batch and in_features, and
    # weight's rows set out_features (a short weight is reported by the arrays that follow it).
    if name != "x":
        bad(np.ascontiguousarray(array[..., :-1]), ValueError, f"^{name} has")
    if array.ndim == 2 and name not in ("x", "weight"):
        bad(np.ascontiguousarray(array[:-1]), ValueError, f"^{name} has")


@pytest.mark.parametrize("backend", BACKENDS)
def test_raw_kernels_check_scalars(backend: str) -> None:
    """Activation code, negative_slope and num_threads are checked before any work."""
    kernels = kernel_module(backend)
    for which in ("forward", "backward"):
        a = _raw_arrays()
        for code in (-1, 5, 9):
            with pytest.raises(ValueError, match=f"activation code {code} is unknown"):
                _call(kernels, which, a, code=code)
        for slope in (-0.5, float("nan"), float("inf")):
            with pytest.raises(ValueError, match="negative_slope must be a finite number >= 0"):
                _call(kernels, which, a, code=2, slope=slope)
        for threads in (0, -3):
            with pytest.raises(ValueError, match=f"num_threads must be >= 1, got {threads}"):
                _call(kernels, which, a, threads=threads)


# (output, what it overlaps): a view of the second argument's memory passed as the first.
OVERLAPS = [("forward", "out", "x"), ("forward", "out", "weight"), ("forward", "out", "bias"),
            ("backward", "grad_x", "grad_out"), ("backward", "grad_x", "out"), ("backward", "grad_x", "x"),
            ("backward", "grad_weight", "weight"), ("backward", "grad_weight", "grad_x"),
            ("backward", "grad_bias", "grad_weight"), ("backward", "grad_bias", "out")]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("which,output,other", OVERLAPS, ids=[f"{o}-{t}" for _, o, t in OVERLAPS])
def test_raw_kernels_refuse_overlapping_outputs(backend: str, which: str, output: str, other: str) -> None:
    """An output sharing memory with an input (or another output) is refused, not half-overwritten."""
    kernels = kernel_module(backend)
    a: Dict[str, object] = _raw_arrays()
    shape = RAW_SHAPES[output]
    size = int(np.prod(shape))
    # One buffer holds both: `other` at its start, `output` starting inside it.
    buffer = np.zeros(a[other].size + size, np.float32)
    buffer[:a[other].size] = a[other].ravel()
    a[other] = buffer[:a[other].size].reshape(a[other].shape)
    a[output] = buffer[a[other].size - 1:a[other].size - 1 + size].reshape(shape)
    # Outputs are checked in turn against everything before them, so either may be named first.
    with pytest.raises(ValueError, match=f"({output} must not overlap {other}|{other} must not overlap {output})"):
        _call(kernels, which, a)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("which,name", [("forward", "out"), ("backward", "grad_x"), ("backward", "grad_weight"),
                                        ("backward", "grad_bias")])
def test_raw_kernels_refuse_read_only_outputs(backend: str, which: str, name: str) -> None:
    """A read-only output array is a ValueError, not a write into protected memory."""
    a = _raw_arrays()
    a[name].setflags(write=False)
    with pytest.raises(ValueError, match="read-only"):
        _call(kernel_module(backend), which, a)


def test_raw_read_only_output_error_names_the_argument() -> None:
    a = _raw_arrays()
    a["out"].setflags(write=False)
    with pytest.raises(ValueError, match="out"):
        _call(pyaae._C, "forward", a)


@pytest.mark.parametrize("backend", BACKENDS)
def test_raw_stack_checks(backend: str) -> None:
    """The stack functions check list lengths and chaining, naming the layer."""
    kernels = kernel_module(backend)
    a = _raw_arrays()
    x, w, b, out = a["x"], a["weight"], a["bias"], a["out"]
    with pytest.raises(ValueError, match="weights, biases, outputs and activations must have the same length"):
        kernels.mlp_forward(x, [w], [b, b], [out], [1], 0.2, 1)
    with pytest.raises(ValueError, match="a stack needs at least one layer"):
        kernels.mlp_forward(x, [], [], [], [], 0.2, 1)
    with pytest.raises(ValueError, match=r"weights\[1\] has 5 columns"):
        kernels.mlp_forward(x, [w, w], [b, b], [out, out.copy()], [1, 1], 0.2, 1)


def test_raw_kernels_accept_empty_outputs_and_none() -> None:
    """All gradients None: a no-op, not an error; empty arrays are fine."""
    a = _raw_arrays()
    pyaae._C.linear_backward(a["grad_out"], a["out"], a["x"], a["weight"], None, None, None, 1, 0.2, 1)
    empty = np.empty((0, 5), np.float32)
    pyaae._C.linear_forward(empty, a["weight"], a["bias"], np.empty((0, 3), np.float32), 1, 0.2, 1)


# ---------------------------------------------------------------------------------------------
# SIMD level, in this process and through the environment (thread settings: test_build_info.py)


def test_set_simd_level_rejects_unknown() -> None:
    before = pyaae.get_simd_level()
    with pytest.raises(ValueError, match="unknown SIMD level 'bogus'"):
        pyaae.set_simd_level("bogus")
    assert pyaae.get_simd_level() == before


def test_set_simd_level_rejects_unsupported() -> None:
    if "avx2" in SIMD_LEVELS:
        pytest.skip("this processor runs AVX2")
    with pytest.raises(ValueError):
        pyaae.set_simd_level("avx2")


def test_set_simd_level_auto_picks_the_best() -> None:
    pyaae.set_simd_level("generic")
    try:
        assert pyaae.get_simd_level() == "generic"
    finally:
        pyaae.set_simd_level("auto")
    assert pyaae.get_simd_level() == ("avx2" if "avx2" in SIMD_LEVELS else "generic") == pyaae.build_info()["simd"]


def _python(code: str, **env: str) -> Dict[str, object]:
    """Run ``code`` in a fresh interpreter with extra environment variables; it prints one JSON
    object. A timeout guards against hangs. It runs outside the checkout, so that ``import pyaae``
    finds the installed package rather than the source folder."""
    with tempfile.TemporaryDirectory() as cwd:
        result = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True,
                                text=True, timeout=120, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


_PROBE = """
import json, torch, pyaae
info = pyaae.build_info()
out = {"loaded": info["extension_loaded"], "error": info["extension_error"],
       "auto": pyaae.ops.fused_linear(torch.ones(1, 2), torch.ones(1, 2)).item()}
try:
    out["simd"] = pyaae.get_simd_level()
except RuntimeError as exc:
    out["simd"] = "RuntimeError: " + str(exc)
try:
    pyaae.ops.fused_linear(torch.ones(1, 2), torch.ones(1, 2), backend="kernels")
    out["kernels"] = "ran"
except RuntimeError as exc:
    out["kernels"] = "RuntimeError: " + str(exc)
print(json.dumps(out))
"""


def test_pyaae_simd_generic_forces_the_portable_path() -> None:
    out = _python(_PROBE, PYAAE_SIMD="generic")
    assert out == {"loaded": True, "error": "", "auto": 2.0, "simd": "generic", "kernels": "ran"}


def test_pyaae_simd_bogus_still_imports_and_says_why() -> None:
    """A bad PYAAE_SIMD leaves pyaae importable on the reference; the kernels' absence is explained."""
    out = _python(_PROBE, PYAAE_SIMD="bogus")
    assert out["loaded"] is False and "PYAAE_SIMD" in out["error"]
    assert out["auto"] == 2.0
    assert out["simd"].startswith("RuntimeError") and "PYAAE_SIMD" in out["simd"]
    assert out["kernels"].startswith("RuntimeError: backend='kernels' cannot run here") and "PYAAE_SIMD" in out["kernels"]


def test_fused_mlp_takes_lists_not_tensors() -> None:
    x, w = torch.randn(3, 4), torch.randn(5, 4)
    with pytest.raises(TypeError, match="weights must be a list with one entry per layer, got Tensor"):
        ops.fused_mlp(x, w, [None], ["relu"])
    with pytest.raises(TypeError, match="activations must be a list"):
        ops.fused_mlp(x, [w], [None], "relu")


def test_download_without_mirrors_names_them(tmp_path) -> None:
    with pytest.raises(ValueError, match="mirrors must be a non-empty list"):
        pyaae.data.load_mnist(tmp_path, download=True, mirrors=[])
