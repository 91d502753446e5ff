"""Kernel ops, one module per op family (differentiable where marked); see :mod:`pyaae.reference`."""
from .fused_linear import fused_linear
from .fused_mlp import fused_mlp
from .parzen import parzen_log_likelihood

__all__ = ["fused_linear", "fused_mlp", "parzen_log_likelihood"]
