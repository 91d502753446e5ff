"""Fused linear layer ``act(x @ W.T + b)``: checks, backend choice, and the autograd Function over
the C++ kernels."""
from __future__ import annotations

from types import ModuleType
from typing import Any, Dict, Optional, Tuple

import torch
from torch.autograd.function import once_differentiable

from .. import reference
from .._activations import ACTIVATION_CODES, check_activation
from .._checks import check_linear_args
from .._dropout import check_key, check_probability
from .._dispatch import kernel_module
from .._threads import get_num_threads
from ._arrays import KernelCall, as_matrix, needs_graph, restore_leading


def dropout_options(p: float, seed: int, step: int, layer: int) -> Dict[str, Any]:
    """The kernels' dropout keywords (none when p is 0, so that calls without dropout stay lean)."""
    return {"dropout": p, "dropout_seed": seed, "dropout_step": step, "dropout_layer": layer} if p > 0 else {}


def _linear_forward(kernels: ModuleType, x: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor],
                    code: int, negative_slope: float, allow_tf32: bool, dropout: Dict[str, Any]) -> torch.Tensor:
    """y = dropout(act(x W^T + b)) by the kernels, outside autograd."""
    y = torch.empty(x.shape[0], weight.shape[0], dtype=x.dtype, device=x.device)
    call = KernelCall(kernels, x.device, allow_tf32=allow_tf32, **dropout)
    # Each pass allocates its own workspace, so concurrent streams never share one.
    call.options["workspace"] = call.workspace(x.shape[0], weight.shape[1], weight.shape[0], x.device)
    call("linear_forward", x, weight, bias, y, code, negative_slope, get_num_threads())
    return y


class _FusedLinearFunction(torch.autograd.Function):
    """Forward and backward on a kernel module (pyaae._C or pyaae.emu); the backward needs only the
    saved output, not the pre-activation."""

    @staticmethod
    def forward(ctx, kernels: ModuleType, x: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor],
                code: int, negative_slope: float, allow_tf32: bool, dropout: Dict[str, Any]) -> torch.Tensor:
        y = _linear_forward(kernels, x, weight, bias, code, negative_slope, allow_tf32, dropout)
        ctx.save_for_backward(x, weight, y)
        ctx.kernels, ctx.code, ctx.negative_slope, ctx.has_bias = kernels, code, negative_slope, bias is not None
        ctx.allow_tf32, ctx.dropout = allow_tf32, dropout
        return y

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_y: torch.Tensor) -> Tuple[Optional[torch.Tensor], ...]:
        x, weight, y = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[1:4]
        grad_x = torch.empty_like(x) if need_x else None
        grad_w = torch.empty_like(weight) if need_w else None
        grad_b = weight.new_empty(weight.shape[0]) if need_b and ctx.has_bias else None
        call = KernelCall(ctx.kernels, x.device, allow_tf32=ctx.allow_tf32, **ctx.dropout)
        call.options["workspace"] = call.workspace(x.shape[0], weight.shape[1], weight.shape[0], x.device)
        if ctx.dropout:
            call.options["dropout_scratch"] = y.new_empty(y.numel())
        call("linear_backward", grad_y.contiguous(), y, x, weight, grad_x, grad_w, grad_b, ctx.code, ctx.negative_slope,
             get_num_threads())
        return None, grad_x, grad_w, grad_b, None, None, None, None


def fused_linear(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: Optional[torch.Tensor] = None,
    activation: str = "relu",
    negative_slope: float = 0.2,
    *,
    backend: str = "auto",
    allow_tf32: bool = False,
    dropout: float = 0.0,
    dropout_seed: int = 0,
    dropout_step: int = 0,
    dropout_layer: int = 0,
) -> torch.Tensor:
    """``dropout(activation(x @ weight.T + bias))`` in one pass, differentiable.

    Args:
        x: input ``[..., in_features]``; leading dimensions are flattened as in ``F.linear``.
        weight: ``[out_features, in_features]`` (nn.Linear layout).
        bias: ``[out_features]`` or None.
        activation: one of "identity", "relu", "leaky_relu", "sigmoid", "tanh".
        negative_slope: slope of leaky_relu for negative inputs (>= 0).
        backend: "auto" (the kernels where built for this device and dtype, else the reference),
            "kernels" (an error where they cannot run), "reference" (pure PyTorch) or "emu" (the
            CUDA kernels on CPU tensors under emulation; needs a PYAAE_BUILD_EMU=1 build).
        allow_tf32: let the CUDA kernels multiply on TF32 tensor cores (inputs of each product
            rounded to 10-bit mantissas, float32 accumulation); ignored by the CPU kernels and the
            reference, which always multiply in full precision.
        dropout: probability in [0, 1) of zeroing each output element; kept elements are scaled by
            1 / (1 - dropout), so nothing changes at evaluation. The mask is applied in the kernels'
            epilogue and drawn again in the backward pass, never stored.
        dropout_seed, dropout_step, dropout_layer: the mask's key: element (row, col) is decided by
            Philox4x32-10 of (dropout_seed, dropout_step, dropout_layer, row, col) alone, so it is the
            same on every thread count and backend, the reference included (bit for bit).

    Non-contiguous inputs are copied to contiguous ones first; NaN and Inf propagate as in PyTorch.
    """
    check_linear_args(x, weight, bias)
    check_activation(activation, negative_slope)
    dropout = check_probability(dropout)
    check_key(dropout_seed, dropout_step, dropout_layer)
    kernels = kernel_module(backend, x.device, x.dtype)
    if kernels is None:
        return reference.fused_linear(x, weight, bias, activation, negative_slope, dropout=dropout,
                                      dropout_seed=dropout_seed, dropout_step=dropout_step, dropout_layer=dropout_layer)
    args = (as_matrix(x), weight.contiguous(), None if bias is None else bias.contiguous(),
            ACTIVATION_CODES[activation], float(negative_slope), bool(allow_tf32),
            dropout_options(dropout, dropout_seed, dropout_step, dropout_layer))
    if needs_graph(x, weight, bias):
        return restore_leading(_FusedLinearFunction.apply(kernels, *args), x)
    return restore_leading(_linear_forward(kernels, *args), x)
