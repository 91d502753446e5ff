"""AAE models built from fused layers: encoders, the AAE and its checkpoints."""
from .aae import AAE, VARIANTS
from .checkpoint import load_checkpoint, save_checkpoint
from .encoders import ENCODERS, DeterministicEncoder, GaussianEncoder, UniversalEncoder

__all__ = ["AAE", "VARIANTS", "ENCODERS", "DeterministicEncoder", "GaussianEncoder", "UniversalEncoder",
           "save_checkpoint", "load_checkpoint"]
