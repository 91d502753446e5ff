"""Activation names accepted by the fused layers, their checks, and their PyTorch forms."""
from __future__ import annotations

import math
from typing import Callable, Dict

import torch
import torch.nn.functional as F

ACTIVATIONS = ("identity", "relu", "leaky_relu", "sigmoid", "tanh")
# The kernels' codes for them (pyaae::Activation in csrc/include/pyaae/activation.h).
ACTIVATION_CODES = {name: code for code, name in enumerate(ACTIVATIONS)}

_TORCH_FORMS: Dict[str, Callable[[torch.Tensor, float], torch.Tensor]] = {
    "identity": lambda t, slope: t,
    "relu": lambda t, slope: torch.relu(t),
    "leaky_relu": lambda t, slope: F.leaky_relu(t, slope),
    "sigmoid": lambda t, slope: torch.sigmoid(t),
    "tanh": lambda t, slope: torch.tanh(t),
}


_FLOAT32_MAX = 3.4028234663852886e38


def check_activation(activation: str, negative_slope: float) -> None:
    """Raise ValueError unless ``activation`` is a known name and ``negative_slope`` is usable."""
    if activation not in _TORCH_FORMS:
        raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}; got {activation!r}")
    if isinstance(negative_slope, bool) or not isinstance(negative_slope, (int, float)):
        raise TypeError(f"negative_slope must be a number, got {type(negative_slope).__name__}")
    # The backward pass reads the sign of the pre-activation off the output, which needs slope >= 0.
    if not math.isfinite(negative_slope) or not 0 <= negative_slope <= _FLOAT32_MAX:
        raise ValueError(f"negative_slope must be a finite number >= 0 that float32 can hold, got {negative_slope!r}")


def apply_activation(t: torch.Tensor, activation: str, negative_slope: float) -> torch.Tensor:
    """``activation`` applied to ``t`` with PyTorch's own functions."""
    return _TORCH_FORMS[activation](t, negative_slope)


def torch_activation_module(activation: str, negative_slope: float) -> torch.nn.Module:
    """The torch.nn module computing ``activation``."""
    modules = {
        "identity": torch.nn.Identity,
        "relu": torch.nn.ReLU,
        "leaky_relu": lambda: torch.nn.LeakyReLU(negative_slope),
        "sigmoid": torch.nn.Sigmoid,
        "tanh": torch.nn.Tanh,
    }
    return modules[activation]()
