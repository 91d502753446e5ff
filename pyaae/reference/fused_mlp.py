"""Pure-PyTorch stack of fused layers: the oracle of pyaae.ops.fused_mlp."""
from __future__ import annotations

from typing import Optional, Sequence

import torch

from .._activations import check_activation
from .._checks import check_mlp_args
from .fused_linear import fused_linear


def fused_mlp(
    x: torch.Tensor,
    weights: Sequence[torch.Tensor],
    biases: Sequence[Optional[torch.Tensor]],
    activations: Sequence[str],
    negative_slope: float = 0.2,
) -> torch.Tensor:
    """``fused_linear`` applied layer after layer: layer i uses weights[i], biases[i], activations[i]."""
    check_mlp_args(x, weights, biases, activations)
    for activation in activations:
        check_activation(activation, negative_slope)
    for w, b, activation in zip(weights, biases, activations):
        x = fused_linear(x, w, b, activation, negative_slope)
    return x
