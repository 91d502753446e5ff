"""Differentiable ops over the kernels, one module per op family; see :mod:`pyaae.reference`."""
from .fused_linear import fused_linear
from .fused_mlp import fused_mlp

__all__ = ["fused_linear", "fused_mlp"]
