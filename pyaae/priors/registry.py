"""The one list of the built-in priors: the kinds a saved prior may name (``to_config``'s "kind"), and
the names a training configuration may give with how each is built from it. TrainConfig, the trainer,
the CLI and model loading read this table."""
from __future__ import annotations

from typing import Callable, Dict, Optional

from .base import Prior
from .categorical import Categorical
from .gaussian import Gaussian
from .mixture import GaussianMixture
from .swiss_roll import SwissRoll
from .uniform import Uniform

# Every kind a saved prior may name.
KINDS: Dict[str, type] = {"gaussian": Gaussian, "mixture": GaussianMixture, "swiss_roll": SwissRoll,
                          "uniform": Uniform, "categorical": Categorical}

# name -> builder(latent_dim or None, std of the gaussian prior, default dimension): the priors a
# training configuration may name. The mixture is the paper's 10 2-D Gaussians (its Fig. 4).
TRAINING_PRIORS: Dict[str, Callable[[Optional[int], float, int], Prior]] = {
    "gaussian": lambda dim, std, default_dim: Gaussian(dim or default_dim, std=std),
    "mixture": lambda dim, std, default_dim: GaussianMixture.paper_preset(),
    "swiss_roll": lambda dim, std, default_dim: SwissRoll(),
    "uniform": lambda dim, std, default_dim: Uniform(dim or 2, low=-1.0, high=1.0),
}
PRIOR_NAMES = tuple(TRAINING_PRIORS)


def prior_from_config(config: dict) -> Prior:
    """The prior that ``Prior.to_config()`` described."""
    if not isinstance(config, dict) or config.get("kind") not in KINDS:
        raise ValueError(f"not a prior configuration: {config!r}")
    params = {k: v for k, v in config.items() if k != "kind"}
    return KINDS[config["kind"]](**params)


def named_prior(name: str, latent_dim: Optional[int], std: float, default_dim: int) -> Prior:
    """The training prior ``name`` (one of PRIOR_NAMES) of dimension latent_dim (None: its own, or
    default_dim for the gaussian), checked against latent_dim."""
    if name not in TRAINING_PRIORS:
        raise ValueError(f"prior must be one of {', '.join(map(repr, PRIOR_NAMES))} or a pyaae.priors.Prior; "
                         f"got {name!r}")
    prior = TRAINING_PRIORS[name](latent_dim, std, default_dim)
    check_dimension(prior, latent_dim)
    return prior


def check_dimension(prior: Prior, latent_dim: Optional[int]) -> None:
    """ValueError unless latent_dim is None or the prior's dimension."""
    if latent_dim is not None and latent_dim != prior.dim:
        raise ValueError(f"latent_dim {latent_dim} does not match the prior {prior!r}, whose dimension is "
                         f"{prior.dim}")
