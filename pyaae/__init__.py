"""pyaae: Adversarial Autoencoders (Makhzani et al., 2015) on hand-written C++/CUDA kernels.

Subpackages: :mod:`pyaae.ops` (differentiable kernel ops), :mod:`pyaae.reference` (their pure-PyTorch
oracle), :mod:`pyaae.nn` (modules built from fused layers), :mod:`pyaae.priors` (priors on the codes),
:mod:`pyaae.data` (MNIST and synthetic data), :mod:`pyaae.models` (the AAE), :mod:`pyaae.eval` (the
Parzen log-likelihood estimate), :mod:`pyaae.viz` (plots) and :func:`pyaae.train`.
"""
from . import data, eval, models, nn, ops, priors, reference, viz
from ._build_info import build_info
from ._simd import get_simd_level, set_simd_level
from ._threads import get_num_threads, set_num_threads
from ._version import __version__
from .training import TrainConfig, TrainResult, train

__all__ = [
    "__version__",
    "TrainConfig",
    "TrainResult",
    "build_info",
    "data",
    "eval",
    "get_num_threads",
    "get_simd_level",
    "models",
    "nn",
    "ops",
    "priors",
    "reference",
    "set_num_threads",
    "set_simd_level",
    "train",
    "viz",
]
