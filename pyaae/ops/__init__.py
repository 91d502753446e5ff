"""Differentiable ops over the kernels, one module per op family; see :mod:`pyaae.reference`."""
from .fused_linear import fused_linear

__all__ = ["fused_linear"]
