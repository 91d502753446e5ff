"""Argument checks shared by pyaae.ops and pyaae.reference: errors that name the argument."""
from __future__ import annotations

from typing import Optional, Sequence

import torch


def check_input(x: torch.Tensor) -> None:
    """Raise unless x is a floating-point tensor with a features dimension."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"x must be a floating-point tensor, got {x.dtype}")
    if x.dim() < 1:
        raise ValueError("x must have at least 1 dimension (features last), got a 0-D tensor")


def check_layer(x: torch.Tensor, in_features: int, weight: torch.Tensor, bias: Optional[torch.Tensor],
                weight_name: str = "weight", bias_name: str = "bias", source: str = "x") -> None:
    """Raise unless weight [out, in_features] and bias [out] or None match x's dtype and device."""
    if not isinstance(weight, torch.Tensor):
        raise TypeError(f"{weight_name} must be a torch.Tensor, got {type(weight).__name__}")
    if weight.dim() != 2:
        raise ValueError(f"{weight_name} must be 2-D [out_features, in_features], got shape {tuple(weight.shape)}")
    if weight.shape[1] != in_features:
        raise ValueError(f"{weight_name} has {weight.shape[1]} input features but {source} has {in_features}")
    if weight.dtype != x.dtype:
        raise TypeError(f"{weight_name} dtype {weight.dtype} does not match x dtype {x.dtype}")
    if weight.device != x.device:
        raise ValueError(f"{weight_name} is on {weight.device} but x is on {x.device}")
    if bias is None:
        return
    if not isinstance(bias, torch.Tensor):
        raise TypeError(f"{bias_name} must be a torch.Tensor or None, got {type(bias).__name__}")
    if bias.shape != (weight.shape[0],):
        raise ValueError(f"{bias_name} must have shape ({weight.shape[0]},), got {tuple(bias.shape)}")
    if bias.dtype != x.dtype:
        raise TypeError(f"{bias_name} dtype {bias.dtype} does not match x dtype {x.dtype}")
    if bias.device != x.device:
        raise ValueError(f"{bias_name} is on {bias.device} but x is on {x.device}")


def check_linear_args(x: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor]) -> None:
    """Raise TypeError/ValueError unless x [..., in], weight [out, in], bias [out] or None agree."""
    check_input(x)
    check_layer(x, x.shape[-1], weight, bias)


def check_mlp_args(x: torch.Tensor, weights: Sequence[torch.Tensor], biases: Sequence[Optional[torch.Tensor]],
                   activations: Sequence[str]) -> None:
    """Raise unless the layers chain: weights[i] [out_i, in_i] with in_0 = x's features, in_i = out_(i-1)."""
    check_input(x)
    if len(weights) == 0:
        raise ValueError("weights must hold at least one layer")
    if len(biases) != len(weights) or len(activations) != len(weights):
        raise ValueError(f"weights, biases and activations must have the same length, got "
                         f"{len(weights)}, {len(biases)} and {len(activations)}")
    in_features, source = x.shape[-1], "x"
    for i, (w, b) in enumerate(zip(weights, biases)):
        check_layer(x, in_features, w, b, f"weights[{i}]", f"biases[{i}]", source)
        in_features, source = w.shape[0], f"the output of weights[{i}]"
