"""Pure-PyTorch stack of fused layers: the oracle of pyaae.ops.fused_mlp."""
from __future__ import annotations

from typing import Optional, Sequence, Union

import torch

from .._activations import check_activation
from .._checks import check_mlp_args
from .._dropout import check_key, per_layer
from .fused_linear import fused_linear


def fused_mlp(
    x: torch.Tensor,
    weights: Sequence[torch.Tensor],
    biases: Sequence[Optional[torch.Tensor]],
    activations: Sequence[str],
    negative_slope: float = 0.2,
    *,
    dropout: Union[float, Sequence[float]] = 0.0,
    dropout_seed: int = 0,
    dropout_step: int = 0,
    dropout_layer: int = 0,
) -> torch.Tensor:
    """``fused_linear`` applied layer after layer: layer i uses weights[i], biases[i], activations[i],
    and dropout on its output as :func:`pyaae.ops.fused_mlp` (mask layer word dropout_layer + i)."""
    check_mlp_args(x, weights, biases, activations)
    for activation in activations:
        check_activation(activation, negative_slope)
    probabilities = per_layer(dropout, len(weights))
    check_key(dropout_seed, dropout_step, dropout_layer + len(weights) - 1)
    for i, (w, b, activation) in enumerate(zip(weights, biases, activations)):
        x = fused_linear(x, w, b, activation, negative_slope, dropout=probabilities[i], dropout_seed=dropout_seed,
                         dropout_step=dropout_step, dropout_layer=dropout_layer + i)
    return x
