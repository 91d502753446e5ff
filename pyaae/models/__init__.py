"""AAE models built from fused layers: encoders, the AAE and its checkpoints."""
from .aae import AAE
from .categorical_aae import CategoricalAAE
from .checkpoint import load_checkpoint, save_checkpoint
from .encoders import ENCODERS, DeterministicEncoder, GaussianEncoder, UniversalEncoder
from .loading import load_model
from .variants import CATEGORICAL_VARIANTS, VARIANTS, Variant, get_variant

__all__ = ["AAE", "VARIANTS", "CategoricalAAE", "CATEGORICAL_VARIANTS", "ENCODERS", "DeterministicEncoder",
           "GaussianEncoder", "UniversalEncoder", "save_checkpoint", "load_checkpoint", "load_model", "Variant",
           "get_variant"]
