"""FusedLinear and FusedMLP behave like PyTorch modules: state_dicts load across backends and into
stacks of nn.Linear (and back), to_torch() is the same function with the same gradients, the
backend can be switched, optimizer steps agree, float64 falls back to the reference."""
from __future__ import annotations

from typing import Dict, List, Sequence

import pytest
import torch
from _oracle import assert_accurate, seed_of
from conftest import needs_emu
from torch import nn

import pyaae
from pyaae._activations import apply_activation
from pyaae.nn import FusedLinear, FusedMLP

MODULE_BACKENDS = ["kernels", "reference", pytest.param("emu", marks=needs_emu)]


def _grads(module: nn.Module) -> List[torch.Tensor]:
    return [p.grad.clone() for p in module.parameters()]


def _linears(module: nn.Module) -> List[nn.Linear]:
    return [m for m in module.modules() if isinstance(m, nn.Linear)]


def _assert_same_parameters(a: nn.Module, b: nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for key in sa:
        assert torch.equal(sa[key], sb[key]), key


# ---------------------------------------------------------------------------------------------
# FusedLinear


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("backend", MODULE_BACKENDS)
def test_fused_linear_state_dict_is_nn_linear(backend: str, bias: bool) -> None:
    """Same keys as nn.Linear; loading in either direction gives the same function."""
    torch.manual_seed(0)
    fused = FusedLinear(7, 4, bias=bias, activation="tanh", backend=backend)
    assert set(fused.state_dict()) == ({"weight", "bias"} if bias else {"weight"})
    linear = nn.Linear(7, 4, bias=bias)
    linear.load_state_dict(fused.state_dict())
    x = torch.randn(3, 7)
    torch.testing.assert_close(fused(x), torch.tanh(linear(x)))

    other = nn.Linear(7, 4, bias=bias)  # and back: nn.Linear's parameters into a FusedLinear
    fused.load_state_dict(other.state_dict())
    _assert_same_parameters(fused, other)
    torch.testing.assert_close(fused(x), torch.tanh(other(x)))


def test_fused_linear_initialized_like_nn_linear() -> None:
    """Same seed, same parameters as nn.Linear (Kaiming-uniform weight, uniform bias)."""
    torch.manual_seed(3)
    fused = FusedLinear(9, 5)
    torch.manual_seed(3)
    _assert_same_parameters(fused, nn.Linear(9, 5))


@pytest.mark.parametrize("source,target", [("kernels", "reference"), ("reference", "kernels")])
def test_fused_linear_state_dict_across_backends(source: str, target: str) -> None:
    """A state_dict saved under one backend runs under the other: same outputs and gradients."""
    torch.manual_seed(1)
    a = FusedLinear(33, 17, activation="leaky_relu", negative_slope=0.1, backend=source)
    b = FusedLinear(33, 17, activation="leaky_relu", negative_slope=0.1, backend=target)
    b.load_state_dict(a.state_dict())
    x = torch.randn(10, 33)
    ya, yb = a(x), b(x)
    torch.testing.assert_close(ya, yb)
    g = torch.randn_like(ya)
    ya.backward(g)
    yb.backward(g)
    for ga, gb in zip(_grads(a), _grads(b)):
        torch.testing.assert_close(ga, gb, rtol=1e-5, atol=1e-5)


def test_fused_linear_backend_switch() -> None:
    """Assigning .backend changes which path runs: bitwise the reference, then bitwise the kernels."""
    torch.manual_seed(2)
    layer = FusedLinear(20, 6, activation="sigmoid", backend="kernels")
    x = torch.randn(5, 20)
    kernels = pyaae.ops.fused_linear(x, layer.weight, layer.bias, "sigmoid", backend="kernels")
    reference = apply_activation(nn.functional.linear(x, layer.weight, layer.bias), "sigmoid", 0.2)
    assert torch.equal(layer(x), kernels)
    layer.backend = "reference"
    assert torch.equal(layer(x), reference)
    layer.backend = "kernels"
    assert torch.equal(layer(x), kernels)
    with pytest.raises(ValueError, match="backend must be one of"):
        layer.backend = "gpu"
    assert layer.backend == "kernels"


@pytest.mark.parametrize("kwargs,match", [
    ({"in_features": -1, "out_features": 3}, "in_features must be a non-negative integer"),
    ({"in_features": 3, "out_features": -2}, "out_features must be a non-negative integer"),
    ({"in_features": 2.5, "out_features": 3}, "in_features must be a non-negative integer"),
    ({"in_features": True, "out_features": 3}, "in_features must be a non-negative integer"),
    ({"in_features": 3, "out_features": "4"}, "out_features must be a non-negative integer"),
    ({"in_features": 3, "out_features": 4, "activation": "swish"}, "activation must be one of"),
    ({"in_features": 3, "out_features": 4, "negative_slope": -1.0}, "negative_slope must be a finite number"),
    ({"in_features": 3, "out_features": 4, "backend": "gpu"}, "backend must be one of"),
])
def test_fused_linear_bad_arguments(kwargs: Dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        FusedLinear(**kwargs)


def test_fused_linear_wrong_input_width() -> None:
    layer = FusedLinear(4, 2)
    with pytest.raises(ValueError, match="weight has 4 input features but x has 5"):
        layer(torch.randn(3, 5))


# ---------------------------------------------------------------------------------------------
# FusedMLP


@pytest.mark.parametrize("backend", ["kernels", pytest.param("emu", marks=needs_emu)])
def test_mlp_state_dict_across_backends(backend: str) -> None:
    """A reference MLP's state_dict loads into a kernel MLP: same outputs and gradients."""
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


@pytest.mark.parametrize("bias", [True, False])
def test_mlp_state_dict_loads_into_stack_of_linear_layers(bias: bool) -> None:
    """Keys "{i}.weight"/"{i}.bias" are those of nn.Sequential(nn.Linear, ...): both directions."""
    torch.manual_seed(4)
    mlp = FusedMLP([6, 5, 4, 2], activation="relu", out_activation="tanh", bias=bias)
    stack = nn.Sequential(nn.Linear(6, 5, bias=bias), nn.Linear(5, 4, bias=bias), nn.Linear(4, 2, bias=bias))
    stack.load_state_dict(mlp.state_dict())
    _assert_same_parameters(mlp, stack)
    x = torch.randn(3, 6)
    torch.testing.assert_close(mlp(x), torch.tanh(stack[2](torch.relu(stack[1](torch.relu(stack[0](x)))))))

    fresh = nn.Sequential(nn.Linear(6, 5, bias=bias), nn.Linear(5, 4, bias=bias), nn.Linear(4, 2, bias=bias))
    mlp.load_state_dict(fresh.state_dict())
    _assert_same_parameters(mlp, fresh)
    torch.testing.assert_close(mlp(x), torch.tanh(fresh[2](torch.relu(fresh[1](torch.relu(fresh[0](x)))))))


@pytest.mark.parametrize("backend", MODULE_BACKENDS)
@pytest.mark.parametrize("bias", [True, False])
def test_to_torch_is_the_same_function_and_gradients(backend: str, bias: bool) -> None:
    """to_torch() copies the parameters into nn.Linear + activation modules computing the same
    outputs, input gradient and parameter gradients."""
    torch.manual_seed(1)
    mlp = FusedMLP([12, 9, 7, 2], activation="leaky_relu", out_activation="tanh", bias=bias, negative_slope=0.1,
                   backend=backend)
    twin = mlp.to_torch()
    assert [type(m) for m in twin] == [nn.Linear, nn.LeakyReLU, nn.Linear, nn.LeakyReLU, nn.Linear, nn.Tanh]
    assert twin[1].negative_slope == 0.1
    x = torch.randn(5, 12, requires_grad=True)
    x_twin = x.detach().clone().requires_grad_()
    y, y_twin = mlp(x), twin(x_twin)
    torch.testing.assert_close(y, y_twin)
    g = torch.randn_like(y)
    y.backward(g)
    y_twin.backward(g)
    torch.testing.assert_close(x.grad, x_twin.grad, rtol=1e-4, atol=1e-6)
    for p, q in zip(mlp.parameters(), twin.parameters()):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-4, atol=1e-6)
    # Copies, not shared parameters.
    with torch.no_grad():
        twin[0].weight.add_(1.0)
    assert not torch.equal(twin[0].weight, mlp[0].weight)


def test_to_torch_without_activations() -> None:
    """identity layers add no activation modules; the out_activation default is identity."""
    mlp = FusedMLP([4, 3, 2], activation="identity")
    assert [type(m) for m in mlp.to_torch()] == [nn.Linear, nn.Linear]


def _mlp_oracle_case(seed: int, sizes: Sequence[int], batch: int) -> Dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {"x": torch.randn(batch, sizes[0], generator=g), "grad": torch.randn(batch, sizes[-1], generator=g)}


def _mlp_results(mlp: nn.Module, case: Dict[str, torch.Tensor], dtype: torch.dtype) -> Dict[str, torch.Tensor]:
    x = case["x"].to(dtype, copy=True).requires_grad_()
    y = mlp(x)
    y.backward(case["grad"].to(dtype))
    out = {"y": y.detach(), "grad_x": x.grad}
    for i, layer in enumerate(_linears(mlp) or list(mlp)):
        out[f"{i}.grad_weight"] = layer.weight.grad
        out[f"{i}.grad_bias"] = layer.bias.grad
    return out


def test_paper_encoder_matches_float64_oracle(simd_level: str) -> None:
    """The paper's MNIST encoder (784-1000-1000-8, batch 100) as one fused stack: output, input
    gradient and every layer's gradients within twice PyTorch's own float32 error (to_torch() in
    float32) against to_torch() in float64."""
    torch.manual_seed(seed_of("encoder") % 2**31)
    sizes = [784, 1000, 1000, 8]
    mlp = FusedMLP(sizes, activation="relu", backend="kernels")
    twin32 = mlp.to_torch()
    twin64 = mlp.to_torch().double()
    case = _mlp_oracle_case(seed_of("encoder-case"), sizes, 100)
    ours, torch32, oracle = (_mlp_results(m, case, d) for m, d in ((mlp, torch.float32), (twin32, torch.float32),
                                                                    (twin64, torch.float64)))
    assert ours.keys() == oracle.keys()
    for name in oracle:
        assert_accurate(name, ours[name], torch32[name], oracle[name])


# (which layers are frozen, whether x requires grad): the stack's backward stops at the lowest
# layer that needs anything, and skips parameter gradients of frozen layers in between.
FREEZING = [((0,), False), ((0, 1), False), ((1,), False), ((1,), True), ((0, 1, 2), True), ((), True)]


@pytest.mark.parametrize("frozen,x_grad", FREEZING, ids=lambda v: str(v))
def test_frozen_layers_and_input_gradient(frozen: Sequence[int], x_grad: bool) -> None:
    """Frozen layers get no gradient, the others (and x when asked) get PyTorch's."""
    torch.manual_seed(5)
    mlp = FusedMLP([8, 6, 5, 2], activation="tanh", backend="kernels")
    twin = mlp.to_torch()
    for i in frozen:
        for p in mlp[i].parameters():
            p.requires_grad_(False)
        for p in _linears(twin)[i].parameters():
            p.requires_grad_(False)
    x = torch.randn(3, 8)
    xs = [x.clone().requires_grad_(x_grad) for _ in range(2)]
    g = torch.randn(3, 2)
    mlp(xs[0]).backward(g)
    twin(xs[1]).backward(g)
    for i, (layer, linear) in enumerate(zip(mlp, _linears(twin))):
        for p, q in zip(layer.parameters(), linear.parameters()):
            if i in frozen:
                assert p.grad is None
            else:
                torch.testing.assert_close(p.grad, q.grad, rtol=1e-5, atol=1e-6)
    if x_grad:
        torch.testing.assert_close(xs[0].grad, xs[1].grad, rtol=1e-5, atol=1e-6)
    else:
        assert xs[0].grad is None


@pytest.mark.parametrize("x_shape", [(7,), (2, 3, 7)], ids=["1d", "3d"])
def test_mlp_other_input_ranks(x_shape: Sequence[int]) -> None:
    """Leading dimensions flatten and come back, as in nn.Linear."""
    torch.manual_seed(6)
    mlp = FusedMLP([7, 5, 3], backend="kernels")
    x = torch.randn(x_shape)
    y = mlp(x)
    assert y.shape == (*x_shape[:-1], 3)
    torch.testing.assert_close(y, mlp.to_torch()(x))


def test_backend_property_switches_every_layer() -> None:
    """The MLP's backend is every layer's; a bad value is refused and changes nothing."""
    torch.manual_seed(7)
    mlp = FusedMLP([4, 3, 2], backend="kernels")
    x = torch.randn(5, 4)
    y_kernels = mlp(x)
    mlp.backend = "reference"
    assert mlp.backend == "reference" and all(layer.backend == "reference" for layer in mlp)
    torch.testing.assert_close(mlp(x), y_kernels)
    with pytest.raises(ValueError, match="backend must be one of"):
        mlp.backend = "gpu"
    assert all(layer.backend == "reference" for layer in mlp)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_optimizer_steps_agree_across_backends(optimizer: str) -> None:
    """Five training steps under each backend from the same start end at the same weights."""
    torch.manual_seed(2)
    fused = FusedMLP([10, 8, 1], backend="kernels")
    ref = FusedMLP([10, 8, 1], backend="reference")
    ref.load_state_dict(fused.state_dict())
    make = {"sgd": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9), "adam": lambda p: torch.optim.Adam(p, lr=1e-2)}
    opts = [make[optimizer](m.parameters()) for m in (fused, ref)]
    x, target = torch.randn(32, 10), torch.randn(32, 1)
    before = [p.detach().clone() for p in fused.parameters()]
    for _ in range(5):
        for m, opt in zip((fused, ref), opts):
            opt.zero_grad()
            ((m(x) - target) ** 2).mean().backward()
            opt.step()
    assert all(not torch.equal(p, q) for p, q in zip(fused.parameters(), before))
    for p, q in zip(fused.parameters(), ref.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-5)


def test_float64_module_falls_back_to_reference() -> None:
    """.to(float64) runs the reference under auto (float64 values); 'kernels' refuses float64."""
    torch.manual_seed(8)
    mlp = FusedMLP([4, 3, 2], out_activation="sigmoid").to(torch.float64)
    x = torch.randn(2, 4, dtype=torch.float64)
    y = mlp(x)
    assert y.dtype == torch.float64
    torch.testing.assert_close(y, mlp.to_torch()(x), rtol=1e-12, atol=1e-12)
    layer = FusedLinear(4, 3, dtype=torch.float64)
    assert layer(x).dtype == torch.float64
    mlp.backend = "kernels"
    with pytest.raises(RuntimeError, match="float32"):
        mlp(x)


@pytest.mark.parametrize("sizes,match", [
    ([4], "sizes must list at least"),
    ([], "sizes must list at least"),
    ([4, -1], "in_features|out_features"),
    ([4, 2.5, 3], "in_features|out_features"),
])
def test_bad_sizes(sizes: List[object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        FusedMLP(sizes)


def test_bad_mlp_arguments() -> None:
    with pytest.raises(ValueError, match="activation must be one of"):
        FusedMLP([4, 3], activation="swish")
    with pytest.raises(ValueError, match="activation must be one of"):
        FusedMLP([4, 3, 2], out_activation="swish")
    with pytest.raises(ValueError, match="backend must be one of"):
        FusedMLP([4, 3], backend="gpu")


def test_fused_mlp_op_checks_the_chain() -> None:
    x = torch.randn(2, 4)
    with pytest.raises(ValueError, match=r"weights\[1\] has 5 input features but the output of weights\[0\] has 3"):
        pyaae.ops.fused_mlp(x, [torch.randn(3, 4), torch.randn(2, 5)], [None, None], ["relu", "identity"])
    with pytest.raises(ValueError, match="weights must hold at least one layer"):
        pyaae.ops.fused_mlp(x, [], [], [])
    with pytest.raises(ValueError, match=r"biases\[0\] must have shape \(3,\)"):
        pyaae.ops.fused_mlp(x, [torch.randn(3, 4)], [torch.randn(2)], ["relu"])


@pytest.mark.parametrize("module", [FusedLinear(30, 5, activation="tanh"), FusedMLP([30, 20, 5])],
                         ids=["linear", "mlp"])
def test_inference_skips_autograd_with_the_same_result(module: nn.Module) -> None:
    """Under no_grad, or with nothing requiring grad, the ops call the kernels directly: no autograd
    node, and bit for bit the output the graph-recording path gives."""
    x = torch.randn(7, 30)
    recorded = module(x)
    assert recorded.grad_fn is not None
    with torch.no_grad():
        direct = module(x)
    assert direct.grad_fn is None and not direct.requires_grad
    assert torch.equal(direct, recorded.detach())
    module.requires_grad_(False)
    try:
        frozen = module(x)
        assert frozen.grad_fn is None and torch.equal(frozen, recorded.detach())
        # An input that requires grad still gets its graph.
        x.requires_grad_(True)
        module(x).sum().backward()
        assert x.grad is not None and x.grad.abs().sum() > 0
    finally:
        module.requires_grad_(True)
