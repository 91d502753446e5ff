"""Pure-PyTorch fused linear layer: the oracle the kernels are checked against."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F

from .._activations import apply_activation, check_activation
from .._checks import check_linear_args
from .._dropout import check_key, check_probability
from .dropout import dropout_factors


def fused_linear(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: Optional[torch.Tensor] = None,
    activation: str = "relu",
    negative_slope: float = 0.2,
    *,
    dropout: float = 0.0,
    dropout_seed: int = 0,
    dropout_step: int = 0,
    dropout_layer: int = 0,
) -> torch.Tensor:
    """``dropout(activation(x @ weight.T + bias))`` with PyTorch operations, differentiable by autograd.

    Args:
        x: input ``[..., in_features]``.
        weight: ``[out_features, in_features]`` (nn.Linear layout).
        bias: ``[out_features]`` or None.
        activation: one of "identity", "relu", "leaky_relu", "sigmoid", "tanh".
        negative_slope: slope of leaky_relu for negative inputs (>= 0).
        dropout, dropout_seed, dropout_step, dropout_layer: the probability of zeroing an output
            element (kept ones are scaled by 1 / (1 - p)) and the key of the mask, which is the
            kernels' bit for bit (see :func:`pyaae.ops.fused_linear`).
    """
    check_linear_args(x, weight, bias)
    check_activation(activation, negative_slope)
    dropout = check_probability(dropout)
    check_key(dropout_seed, dropout_step, dropout_layer)
    y = apply_activation(F.linear(x, weight, bias), activation, negative_slope)
    if dropout == 0:
        return y
    rows = y.numel() // y.shape[-1] if y.shape[-1] else 0
    factors = dropout_factors(rows, y.shape[-1], dropout, dropout_seed, dropout_step, dropout_layer, y.device)
    return y * factors.to(y.dtype).reshape(y.shape)
