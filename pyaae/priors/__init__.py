"""Priors p(z) an AAE imposes on its codes: the paper's Gaussian, mixture of Gaussians, swiss roll,
and categorical priors, a uniform box, and user-defined ones. Every built-in prior samples on the
counter-based Philox kernels (CPU, CUDA, or CUDA under emulation) or on a pure-PyTorch reference."""
from .base import Prior
from .categorical import Categorical
from .gaussian import Gaussian
from .mixture import GaussianMixture
from .swiss_roll import SwissRoll
from .uniform import Uniform
from .registry import PRIOR_NAMES, named_prior, prior_from_config
from .user_defined import CallablePrior, NumbaPrior

__all__ = ["Prior", "prior_from_config", "Gaussian", "GaussianMixture", "SwissRoll", "Uniform", "Categorical",
           "CallablePrior", "NumbaPrior", "PRIOR_NAMES", "named_prior"]
