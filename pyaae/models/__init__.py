"""AAE models built from fused layers: encoders, the AAE and its checkpoints."""
from .aae import AAE, VARIANTS
from .categorical_aae import CATEGORICAL_VARIANTS, CategoricalAAE
from .checkpoint import load_checkpoint, save_checkpoint
from .encoders import ENCODERS, DeterministicEncoder, GaussianEncoder, UniversalEncoder
from .loading import load_model

__all__ = ["AAE", "VARIANTS", "CategoricalAAE", "CATEGORICAL_VARIANTS", "ENCODERS", "DeterministicEncoder",
           "GaussianEncoder", "UniversalEncoder", "save_checkpoint", "load_checkpoint", "load_model"]
