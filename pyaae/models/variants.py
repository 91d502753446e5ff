"""The one table of the training variants (paper sections 2-7) and what each does with labels; the
trainer, the models, the plots and the CLI read it instead of comparing variant names."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Tuple


@dataclass(frozen=True)
class Variant:
    """How one variant trains.

    Attributes:
        name: the variant's name (TrainConfig.variant, the model's config["variant"]).
        categorical: the model family: CategoricalAAE (a categorical code y beside the style z) or AAE.
        labels: where labels go: None (no labels), "discriminator" (one-hot beside the code, with an
            "unlabeled" slot), "decoder" (one-hot beside the code), "classifier" (a classification
            phase on the labelled examples), or "classifier_when_given" (a classification phase when
            num_labeled is given, none otherwise).
        categories: default number of categories (labelled, unlabelled) for the categorical variants.
        input_noise: default std of the noise on the encoder's input.
        discriminator_noise: default std of the noise on the discriminators' inputs.
        latent_dim: the default code dimension of the "gaussian" prior.
        reduced: the decoder sees the 2-D representation W_C y + z (learned cluster heads).
    """

    name: str
    categorical: bool
    labels: Optional[str]
    categories: Tuple[Optional[int], Optional[int]] = (None, None)
    input_noise: float = 0.0
    discriminator_noise: float = 0.0
    latent_dim: int = 8
    reduced: bool = False

    def labelled(self, num_labeled: Optional[int]) -> bool:
        """Whether training has a classification phase (num_labeled: the configuration's)."""
        return self.labels == "classifier" or (self.labels == "classifier_when_given" and num_labeled is not None)

    def uses_labels(self, num_labeled: Optional[int]) -> bool:
        """Whether training reads labels at all."""
        return self.labels in ("discriminator", "decoder") or self.labelled(num_labeled)

    def default_categories(self, num_labeled: Optional[int]) -> Optional[int]:
        """The default number of categories of the categorical code."""
        labelled, unlabelled = self.categories
        return labelled if self.labelled(num_labeled) else unlabelled


# Noise 0.3 on the encoder's input in the categorical variants and on the discriminators' inputs in the
# semi-supervised one: the paper's semi-supervised recipe (docs/training.md has the measurements).
TABLE: Dict[str, Variant] = {v.name: v for v in (
    Variant("unsupervised", categorical=False, labels=None),
    Variant("label_regularized", categorical=False, labels="discriminator"),
    Variant("supervised", categorical=False, labels="decoder"),
    Variant("semi_supervised", categorical=True, labels="classifier", categories=(10, 10), input_noise=0.3,
            discriminator_noise=0.3),
    Variant("clustering", categorical=True, labels=None, categories=(16, 16), input_noise=0.3),
    Variant("dim_reduction", categorical=True, labels="classifier_when_given", categories=(10, 20),
            input_noise=0.3, latent_dim=2, reduced=True),
)}
VARIANTS = tuple(name for name, v in TABLE.items() if not v.categorical)
CATEGORICAL_VARIANTS = tuple(name for name, v in TABLE.items() if v.categorical)


def get_variant(name: str) -> Variant:
    """The table's entry for ``name``; ValueError listing the variants otherwise."""
    if name not in TABLE:
        raise ValueError(f"variant must be one of {', '.join(TABLE)}; got {name!r}")
    return TABLE[name]
