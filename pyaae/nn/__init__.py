"""nn.Modules built from the fused kernels."""
from .fused_linear import FusedLinear
from .mlp import FusedMLP

__all__ = ["FusedLinear", "FusedMLP"]
