"""Pure-PyTorch reference implementations, name for name with :mod:`pyaae.ops`."""
from .fused_linear import fused_linear

__all__ = ["fused_linear"]
