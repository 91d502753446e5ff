"""Bad input to the fused layers: the correct result or a clear exception naming the argument,
never a crash, a hang or a silently wrong number."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import pyaae
from conftest import kernel_module

ops = pyaae.ops


def _args(batch: int = 4, n_in: int = 5, n_out: int = 3):
    torch.manual_seed(0)
    return torch.randn(batch, n_in), torch.randn(n_out, n_in), torch.randn(n_out)


def test_float64_auto_uses_reference_and_kernels_refuses() -> None:
    x, w, b = (t.double() for t in _args())
    torch.testing.assert_close(ops.fused_linear(x, w, b, "tanh"), torch.tanh(F.linear(x, w, b)))
    with pytest.raises(RuntimeError, match="float32"):
        ops.fused_linear(x, w, b, backend="kernels")


def test_integer_input_names_x() -> None:
    x, w, b = _args()
    with pytest.raises(TypeError, match="x must be a floating-point"):
        ops.fused_linear(x.long(), w, b)


def test_not_a_tensor_names_argument() -> None:
    x, w, b = _args()
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
    with pytest.raises(ValueError, match="weight must be 2-D"):
        ops.fused_linear(x, w[0], b, backend=backend)
    with pytest.raises(TypeError, match="weight dtype"):
        ops.fused_linear(x, w.double(), b, backend=backend)


def test_non_contiguous_views_give_correct_result(kernel_backend: str) -> None:
    x_strided = torch.randn(12, 16)[::2, ::2]   # strided rows and columns: [6, 8]
    w_transposed = torch.randn(8, 5).t()         # a transposed view
    b_strided = torch.randn(10)[::2]
    y = ops.fused_linear(x_strided, w_transposed, b_strided, "relu", backend=kernel_backend)
    torch.testing.assert_close(y, torch.relu(F.linear(x_strided, w_transposed, b_strided)))


def test_empty_batch(kernel_backend: str) -> None:
    _, w, b = _args()
    x = torch.empty(0, 5, requires_grad=True)
    w = w.clone().requires_grad_()
    b = b.clone().requires_grad_()
    y = ops.fused_linear(x, w, b, "sigmoid", backend=kernel_backend)
    assert y.shape == (0, 3)
    y.sum().backward()
    assert torch.equal(w.grad, torch.zeros_like(w)) and torch.equal(b.grad, torch.zeros_like(b))


def test_zero_input_features_give_activation_of_bias(kernel_backend: str) -> None:
    x, w, b = torch.randn(4, 0), torch.randn(3, 0), torch.randn(3)
    torch.testing.assert_close(ops.fused_linear(x, w, b, "tanh", backend=kernel_backend),
                               torch.tanh(b).expand(4, 3))


def test_one_dimensional_and_batched_inputs_follow_f_linear(kernel_backend: str) -> None:
    _, w, b = _args()
    for x in (torch.randn(5), torch.randn(2, 3, 5)):
        torch.testing.assert_close(ops.fused_linear(x, w, b, "identity", backend=kernel_backend), F.linear(x, w, b))


def test_zero_dimensional_input_is_rejected() -> None:
    _, w, b = _args()
    with pytest.raises(ValueError, match="x must have at least 1 dimension"):
        ops.fused_linear(torch.tensor(1.0), w, b)


@pytest.mark.parametrize("activation", ["identity", "relu", "leaky_relu", "sigmoid", "tanh"])
def test_nan_and_inf_propagate_like_pytorch(kernel_backend: str, activation: str) -> None:
    x, w, b = _args(6, 5, 3)
    x[1, 2] = float("nan")
    x[3, 0] = float("inf")
    x[4, 1] = -float("inf")
    y = ops.fused_linear(x, w, b, activation, backend=kernel_backend)
    ref = pyaae.reference.fused_linear(x, w, b, activation)
    assert torch.equal(torch.isnan(y), torch.isnan(ref))
    assert torch.equal(torch.isinf(y), torch.isinf(ref))
    finite = torch.isfinite(ref)
    torch.testing.assert_close(y[finite], ref[finite])


def test_unknown_activation_lists_accepted_names() -> None:
    x, w, b = _args()
    with pytest.raises(ValueError, match="activation must be one of identity, relu, leaky_relu, sigmoid, tanh"):
        ops.fused_linear(x, w, b, "gelu")


@pytest.mark.parametrize("slope", [-0.1, float("nan"), float("inf")])
def test_bad_negative_slope(slope: float) -> None:
    x, w, b = _args()
    with pytest.raises(ValueError, match="negative_slope"):
        ops.fused_linear(x, w, b, "leaky_relu", slope)


def test_unknown_backend() -> None:
    x, w, b = _args()
    with pytest.raises(ValueError, match="backend must be one of"):
        ops.fused_linear(x, w, b, backend="gpu")


def test_device_tensor_without_kernels_says_why() -> None:
    """A tensor on a device with no kernels: 'kernels' is an error with the reason."""
    x, w, b = (t.to("meta") for t in _args())
    with pytest.raises(RuntimeError, match="no meta kernels exist"):
        ops.fused_linear(x, w, b, backend="kernels")


@pytest.mark.parametrize("backend", ["kernels", "emu"])
def test_raw_kernel_argument_checks(backend: str) -> None:
    if backend == "emu" and pyaae.build_info()["ops"]["fused_linear"]["reasons"].get("emu"):
        pytest.skip("pyaae.emu not built")
    k = kernel_module(backend)
    x, w, b = (t.numpy() for t in _args())
    out = np.empty((4, 3), np.float32)
    with pytest.raises(TypeError, match="x must be float32"):
        k.linear_forward(x.astype(np.float64), w, b, out, 1, 0.2, 1)
    with pytest.raises(TypeError, match="weight must be an array"):
        k.linear_forward(x, [[1.0]], b, out, 1, 0.2, 1)
    with pytest.raises(ValueError, match="x must be 2-D"):
        k.linear_forward(x[0], w, b, out, 1, 0.2, 1)
    with pytest.raises(ValueError, match="weight must be C-contiguous"):
        k.linear_forward(x, np.asfortranarray(w), b, out, 1, 0.2, 1)
    with pytest.raises(ValueError, match="out has 2 rows, expected 4"):
        k.linear_forward(x, w, b, out[:2], 1, 0.2, 1)
    with pytest.raises(ValueError, match="out must not overlap x"):
        square = np.zeros((4, 5), np.float32)
        k.linear_forward(square, np.zeros((5, 5), np.float32), None, square, 1, 0.2, 1)
    with pytest.raises(ValueError, match="num_threads must be >= 1"):
        k.linear_forward(x, w, b, out, 1, 0.2, 0)
    with pytest.raises(ValueError, match="activation code 9 is unknown"):
        k.linear_forward(x, w, b, out, 9, 0.2, 1)
    with pytest.raises(ValueError, match="grad_weight has 2 columns"):
        k.linear_backward(out, out, x, w, None, np.empty((3, 2), np.float32), None, 1, 0.2, 1)
    with pytest.raises(ValueError, match="weights, biases, outputs and activations must have the same length"):
        k.mlp_forward(x, [w], [b, b], [out], [1], 0.2, 1)


def test_set_simd_level_rejects_unknown() -> None:
    with pytest.raises(ValueError, match="unknown SIMD level 'bogus'"):
        pyaae.set_simd_level("bogus")
    assert pyaae.get_simd_level() in ("avx2", "generic")


def test_set_num_threads_validates() -> None:
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="num_threads"):
            pyaae.set_num_threads(bad)


def _python(code: str, **env: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_pyaae_simd_environment_variable() -> None:
    assert _python("import pyaae; print(pyaae.get_simd_level())", PYAAE_SIMD="generic") == "generic"
    error = _python("import pyaae; print(pyaae.build_info()['extension_error'])", PYAAE_SIMD="bogus")
    assert "PYAAE_SIMD" in error
    # Import still works and the reference still runs.
    assert _python("import torch, pyaae; print(pyaae.ops.fused_linear(torch.ones(1, 1), torch.ones(1, 1)).item())",
                   PYAAE_SIMD="bogus") == "1.0"
