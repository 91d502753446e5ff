"""Pure-PyTorch fused linear layer: the oracle the kernels are checked against."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F

from .._activations import apply_activation, check_activation
from .._checks import check_linear_args


def fused_linear(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: Optional[torch.Tensor] = None,
    activation: str = "relu",
    negative_slope: float = 0.2,
) -> torch.Tensor:
    """``activation(x @ weight.T + bias)`` with PyTorch operations, differentiable by autograd.

    Args:
        x: input ``[..., in_features]``.
        weight: ``[out_features, in_features]`` (nn.Linear layout).
        bias: ``[out_features]`` or None.
        activation: one of "identity", "relu", "leaky_relu", "sigmoid", "tanh".
        negative_slope: slope of leaky_relu for negative inputs (>= 0).
    """
    check_linear_args(x, weight, bias)
    check_activation(activation, negative_slope)
    return apply_activation(F.linear(x, weight, bias), activation, negative_slope)
