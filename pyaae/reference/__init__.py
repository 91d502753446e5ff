"""Pure-PyTorch reference implementations, name for name with :mod:`pyaae.ops`."""
from .fused_linear import fused_linear
from .fused_mlp import fused_mlp

__all__ = ["fused_linear", "fused_mlp"]
