"""FusedLinear and FusedMLP behave like PyTorch modules: state_dicts load across backends and into
stacks of nn.Linear, to_torch() is the same function, optimizer steps agree."""
from __future__ import annotations

import pytest
import torch
from torch import nn

import pyaae
from pyaae.nn import FusedLinear, FusedMLP


def _grads(module: nn.Module):
    return [p.grad.clone() for p in module.parameters()]


def test_fused_linear_state_dict_is_nn_linear() -> None:
    torch.manual_seed(0)
    fused = FusedLinear(7, 4, activation="tanh")
    linear = nn.Linear(7, 4)
    linear.load_state_dict(fused.state_dict())
    x = torch.randn(3, 7)
    torch.testing.assert_close(fused(x), torch.tanh(linear(x)))
    fused.load_state_dict(nn.Linear(7, 4).state_dict())  # and back


@pytest.mark.parametrize("backend", ["kernels", "emu"])
def test_mlp_state_dict_across_backends(backend: str) -> None:
    if backend == "emu" and pyaae.build_info()["ops"]["fused_mlp"]["reasons"].get("emu"):
        pytest.skip("pyaae.emu not built")
    torch.manual_seed(0)
    ref = FusedMLP([20, 16, 8, 3], out_activation="sigmoid", backend="reference")
    other = FusedMLP([20, 16, 8, 3], out_activation="sigmoid", backend=backend)
    other.load_state_dict(ref.state_dict())
    x = torch.randn(10, 20)
    torch.testing.assert_close(other(x), ref(x))
    other(x).sum().backward()
    ref(x).sum().backward()
    for g, h in zip(_grads(other), _grads(ref)):
        torch.testing.assert_close(g, h, rtol=1e-4, atol=1e-5)


def test_mlp_state_dict_loads_into_stack_of_linear_layers() -> None:
    mlp = FusedMLP([6, 5, 4], activation="relu")
    stack = nn.Sequential(nn.Linear(6, 5), nn.Linear(5, 4))
    stack.load_state_dict(mlp.state_dict())
    mlp.load_state_dict(stack.state_dict())
    x = torch.randn(3, 6)
    torch.testing.assert_close(mlp(x), stack[1](torch.relu(stack[0](x))))


@pytest.mark.parametrize("bias", [True, False])
def test_to_torch_is_the_same_function_and_gradients(bias: bool) -> None:
    torch.manual_seed(1)
    mlp = FusedMLP([12, 9, 7, 2], activation="leaky_relu", out_activation="tanh", bias=bias, negative_slope=0.1)
    twin = mlp.to_torch()
    x = torch.randn(5, 12, requires_grad=True)
    x_twin = x.detach().clone().requires_grad_()
    y, y_twin = mlp(x), twin(x_twin)
    torch.testing.assert_close(y, y_twin)
    g = torch.randn_like(y)
    y.backward(g)
    y_twin.backward(g)
    torch.testing.assert_close(x.grad, x_twin.grad, rtol=1e-4, atol=1e-6)
    twin_params = [p for p in twin.parameters()]
    for p, q in zip(mlp.parameters(), twin_params):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-4, atol=1e-6)


def test_frozen_lower_layers_get_no_gradient() -> None:
    mlp = FusedMLP([8, 6, 4, 2])
    for p in mlp[0].parameters():
        p.requires_grad_(False)
    mlp(torch.randn(3, 8)).sum().backward()
    assert mlp[0].weight.grad is None and mlp[1].weight.grad is not None


def test_backend_property_switches_every_layer() -> None:
    mlp = FusedMLP([4, 3, 2])
    mlp.backend = "reference"
    assert all(layer.backend == "reference" for layer in mlp)
    with pytest.raises(ValueError, match="backend must be one of"):
        mlp.backend = "gpu"


def test_optimizer_steps_agree_across_backends() -> None:
    torch.manual_seed(2)
    fused = FusedMLP([10, 8, 1], backend="kernels")
    ref = FusedMLP([10, 8, 1], backend="reference")
    ref.load_state_dict(fused.state_dict())
    opts = [torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9) for m in (fused, ref)]
    x, target = torch.randn(32, 10), torch.randn(32, 1)
    for _ in range(5):
        for m, opt in zip((fused, ref), opts):
            opt.zero_grad()
            ((m(x) - target) ** 2).mean().backward()
            opt.step()
    for p, q in zip(fused.parameters(), ref.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-5)


def test_float64_module_falls_back_to_reference() -> None:
    mlp = FusedMLP([4, 3]).to(torch.float64)
    x = torch.randn(2, 4, dtype=torch.float64)
    assert mlp(x).dtype == torch.float64


def test_bad_sizes() -> None:
    with pytest.raises(ValueError, match="sizes must list at least"):
        FusedMLP([4])
    with pytest.raises(ValueError, match="in_features must be a non-negative integer"):
        FusedLinear(-1, 3)
    with pytest.raises(ValueError, match="activation must be one of"):
        FusedMLP([4, 3], activation="swish")


def test_fused_mlp_op_checks_the_chain() -> None:
    x = torch.randn(2, 4)
    with pytest.raises(ValueError, match=r"weights\[1\] has 5 input features but the output of weights\[0\] has 3"):
        pyaae.ops.fused_mlp(x, [torch.randn(3, 4), torch.randn(2, 5)], [None, None], ["relu", "identity"])
