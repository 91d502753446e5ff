"""The float64 oracle and the accuracy rule every kernel is held to.

Rule (after flash-attention's tests): the kernel's max-abs error against a float64 computation of
the same function must be at most twice PyTorch's own float32 error on the same inputs, plus a
floor of 1e-6 x max(1, max|reference|) for the cases where PyTorch happens to be exact (a handful
of terms summed in the same order) and any other order of summation is off by an ulp.
"""
from __future__ import annotations

import zlib
from typing import Dict, Hashable, Optional

import torch

import pyaae


def seed_of(*key: Hashable) -> int:
    """A stable seed from a case's identity (shape, activation, ...), so that a failure reproduces."""
    return zlib.crc32(repr(key).encode())


def make_case(seed: int, batch: int, n_in: int, n_out: int, bias: bool = True) -> Dict[str, Optional[torch.Tensor]]:
    """Fresh random inputs for one case, reproducible from its seed. Weights are scaled like
    nn.Linear's so that pre-activations stay O(1) and every activation works in its interesting range."""
    g = torch.Generator().manual_seed(seed)
    scale = 1.0 / max(1, n_in) ** 0.5
    case = {
        "x": torch.randn(batch, n_in, generator=g),
        "weight": torch.randn(n_out, n_in, generator=g) * scale * 1.5,
        "bias": torch.randn(n_out, generator=g) * 0.5 if bias else None,
        "grad": torch.randn(batch, n_out, generator=g),
    }
    # At relu's kink a float32 pre-activation of either sign is as right as the other, and the
    # gradient jumps by the whole upstream value: give such elements no upstream gradient.
    pre = case["x"].double() @ case["weight"].double().t()
    if bias:
        pre += case["bias"].double()
    case["grad"][pre.abs() < 1e-4] = 0.0
    return case


def forward_backward(case: Dict[str, Optional[torch.Tensor]], activation: str, dtype: torch.dtype,
                     backend: str, negative_slope: float = 0.2) -> Dict[str, torch.Tensor]:
    """Output and every gradient of fused_linear on a copy of the case in ``dtype``."""
    x, w = (case[k].to(dtype, copy=True).requires_grad_() for k in ("x", "weight"))
    b = None if case["bias"] is None else case["bias"].to(dtype, copy=True).requires_grad_()
    y = pyaae.ops.fused_linear(x, w, b, activation, negative_slope, backend=backend)
    y.backward(case["grad"].to(dtype))
    out = {"y": y.detach(), "grad_x": x.grad, "grad_weight": w.grad}
    if b is not None:
        out["grad_bias"] = b.grad
    return out


def max_error(value: torch.Tensor, reference: torch.Tensor) -> float:
    """Largest absolute difference, in float64 (0 for empty tensors)."""
    if value.numel() == 0:
        return 0.0
    return (value.double() - reference).abs().max().item()


def assert_accurate(name: str, kernel: torch.Tensor, torch32: torch.Tensor, reference: torch.Tensor) -> None:
    """The rule above, with a message that shows both errors."""
    assert kernel.shape == reference.shape, f"{name}: shape {tuple(kernel.shape)} != {tuple(reference.shape)}"
    assert not torch.isnan(kernel).any(), f"{name}: NaN in the kernel's result"
    floor = 1e-6 * max(1.0, reference.abs().max().item() if reference.numel() else 0.0)
    ours, theirs = max_error(kernel, reference), max_error(torch32, reference)
    assert ours <= 2 * theirs + floor, f"{name}: kernel error {ours:.3g} > 2 x PyTorch float32 error {theirs:.3g} + {floor:.1g}"


def check_against_oracle(case: Dict[str, Optional[torch.Tensor]], activation: str, backend: str,
                         negative_slope: float = 0.2) -> None:
    """Output and every gradient of ``backend`` held to the rule above, against PyTorch float32 and
    the float64 oracle on the same case."""
    ours = forward_backward(case, activation, torch.float32, backend, negative_slope)
    torch32 = forward_backward(case, activation, torch.float32, "reference", negative_slope)
    oracle = forward_backward(case, activation, torch.float64, "reference", negative_slope)
    assert ours.keys() == oracle.keys()
    for name in oracle:
        assert_accurate(name, ours[name], torch32[name], oracle[name])


def assert_same_nonfinite(name: str, value: torch.Tensor, reference: torch.Tensor) -> None:
    """NaN, +Inf and -Inf at exactly the positions where ``reference`` has them."""
    for what, mask in (("NaN", torch.isnan), ("+Inf", lambda t: t == float("inf")),
                       ("-Inf", lambda t: t == -float("inf"))):
        ours, theirs = mask(value), mask(reference)
        assert torch.equal(ours, theirs), (f"{name}: {what} at {ours.sum().item()} positions, PyTorch has "
                                           f"{theirs.sum().item()}; first differing index "
                                           f"{tuple((ours != theirs).nonzero()[0].tolist())}")
