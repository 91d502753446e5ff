"""A stack of fused linear layers in one autograd node: one kernel call for the forward pass and one
for the backward pass of the whole stack, instead of one framework round trip per layer."""
from __future__ import annotations

from types import ModuleType
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import torch
from torch.autograd.function import once_differentiable

from .. import reference
from .._activations import ACTIVATION_CODES, check_activation
from .._checks import check_mlp_args
from .._dropout import check_key, per_layer
from .._dispatch import kernel_module
from .._threads import get_num_threads
from ._arrays import KernelCall, as_matrix, needs_graph, restore_leading
from .fused_linear import fused_linear


def _mlp_forward(kernels: ModuleType, x: torch.Tensor, codes: List[int], negative_slope: float, allow_tf32: bool,
                 dropout: Dict[str, Any], weights: Sequence[torch.Tensor],
                 biases: Sequence[Optional[torch.Tensor]]) -> List[torch.Tensor]:
    """Every layer's output by the kernels, outside autograd."""
    outputs = [torch.empty(x.shape[0], w.shape[0], dtype=x.dtype) for w in weights]
    call = KernelCall(kernels, x.device, allow_tf32=allow_tf32, **dropout)
    call("mlp_forward", x, list(weights), list(biases), outputs, codes, negative_slope, get_num_threads())
    return outputs


class _FusedMLPFunction(torch.autograd.Function):
    """Inputs: the kernel module, x, activation codes, negative_slope, allow_tf32, the dropout keywords,
    then weights[0..n) and biases[0..n) (None allowed)."""

    @staticmethod
    def forward(ctx, kernels: ModuleType, x: torch.Tensor, codes: List[int], negative_slope: float,
                allow_tf32: bool, dropout: Dict[str, Any], *params: Optional[torch.Tensor]) -> torch.Tensor:
        n = len(codes)
        weights, biases = params[:n], params[n:]
        outputs = _mlp_forward(kernels, x, codes, negative_slope, allow_tf32, dropout, weights, biases)
        ctx.save_for_backward(x, *weights, *outputs)
        ctx.kernels, ctx.codes, ctx.negative_slope, ctx.allow_tf32 = kernels, codes, negative_slope, allow_tf32
        ctx.dropout = dropout
        ctx.has_bias = [b is not None for b in biases]
        return outputs[-1]

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_y: torch.Tensor) -> Tuple[Optional[torch.Tensor], ...]:
        n = len(ctx.codes)
        saved = ctx.saved_tensors
        x, weights, outputs = saved[0], saved[1:1 + n], saved[1 + n:]
        need = ctx.needs_input_grad
        grad_x = torch.empty_like(x) if need[1] else None
        grad_w = [torch.empty_like(w) if need[6 + i] else None for i, w in enumerate(weights)]
        grad_b = [torch.empty(w.shape[0], dtype=w.dtype) if need[6 + n + i] and ctx.has_bias[i] else None
                  for i, w in enumerate(weights)]
        call = KernelCall(ctx.kernels, x.device, allow_tf32=ctx.allow_tf32, **ctx.dropout)
        if ctx.dropout:
            widest = max(out.shape[1] for out, p in zip(outputs, ctx.dropout["dropout"]) if p > 0)
            call.options["dropout_scratch"] = x.new_empty(x.shape[0] * widest)
        call("mlp_backward", grad_y.contiguous(), x, list(weights), [None] * n, list(outputs), grad_w, grad_b, grad_x,
             ctx.codes, ctx.negative_slope, get_num_threads())
        return (None, grad_x, None, None, None, None, *grad_w, *grad_b)


def fused_mlp(
    x: torch.Tensor,
    weights: Sequence[torch.Tensor],
    biases: Sequence[Optional[torch.Tensor]],
    activations: Sequence[str],
    negative_slope: float = 0.2,
    *,
    backend: str = "auto",
    allow_tf32: bool = False,
    dropout: Union[float, Sequence[float]] = 0.0,
    dropout_seed: int = 0,
    dropout_step: int = 0,
    dropout_layer: int = 0,
) -> torch.Tensor:
    """Layer i computes ``activations[i](h @ weights[i].T + biases[i])`` on the previous layer's output h,
    then dropout on it.

    Args:
        x: input ``[..., in_features]``; leading dimensions are flattened as in ``F.linear``.
        weights: ``[out_i, in_i]`` per layer, chained (in_0 = x's features, in_i = out_(i-1)).
        biases: ``[out_i]`` or None per layer.
        activations: per layer, one of "identity", "relu", "leaky_relu", "sigmoid", "tanh".
        negative_slope: slope of leaky_relu for negative inputs (>= 0), shared by all layers.
        backend: "auto", "kernels", "reference" or "emu", as in :func:`pyaae.ops.fused_linear`.
        allow_tf32: TF32 tensor cores for the CUDA kernels, as in :func:`pyaae.ops.fused_linear`.
        dropout: a probability for every layer's output but the last (the hidden layers), or one per
            layer; as in :func:`pyaae.ops.fused_linear`, with layer i's mask keyed by (dropout_seed,
            dropout_step, dropout_layer + i).

    With the kernels the whole stack is one autograd node: one kernel call forward, one backward.
    """
    check_mlp_args(x, weights, biases, activations)
    for activation in activations:
        check_activation(activation, negative_slope)
    probabilities = per_layer(dropout, len(weights))
    check_key(dropout_seed, dropout_step, dropout_layer + len(weights) - 1)
    key = {"dropout_seed": dropout_seed, "dropout_step": dropout_step}
    kernels = kernel_module(backend, x.device, x.dtype)
    if kernels is None:
        return reference.fused_mlp(x, weights, biases, activations, negative_slope, dropout=probabilities,
                                   dropout_layer=dropout_layer, **key)
    if x.device.type == "cuda":
        # On the GPU a stack runs layer by layer (its backward keeps hidden gradients on the host).
        for i, (w, b, activation) in enumerate(zip(weights, biases, activations)):
            x = fused_linear(x, w, b, activation, negative_slope, backend=backend, allow_tf32=allow_tf32,
                             dropout=probabilities[i], dropout_layer=dropout_layer + i, **key)
        return x
    codes = [ACTIVATION_CODES[a] for a in activations]
    weights = [w.contiguous() for w in weights]
    biases = [None if b is None else b.contiguous() for b in biases]
    options = {"dropout": probabilities, "dropout_layer": dropout_layer, **key} if any(probabilities) else {}
    if needs_graph(x, *weights, *biases):
        y = _FusedMLPFunction.apply(kernels, as_matrix(x), codes, float(negative_slope), bool(allow_tf32), options,
                                    *weights, *biases)
    else:
        y = _mlp_forward(kernels, as_matrix(x), codes, float(negative_slope), bool(allow_tf32), options, weights,
                         biases)[-1]
    return restore_leading(y, x)
