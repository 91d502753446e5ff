"""Prior sampling: 10^7 samples of each prior, pyaae's Philox kernels against PyTorch and NumPy.

pyaae: ``prior.sample(10**7, seed=..., backend="kernels")`` (a new float32 tensor per call, as a
training loop gets it). PyTorch: the same distribution written with ``torch.randn``/``torch.rand``/
``torch.randint`` and tensor transforms, in the fastest of the natural forms we tried (each noted at
its function), also allocating its result per call. NumPy: the same with ``np.random.default_rng``
(PCG64, one thread: NumPy's generators do not use threads), float32 where NumPy offers it.

Where the prior has equal weights (the paper's mixture, the swiss roll's segments, the categorical
prior), the PyTorch and NumPy versions draw the component with randint/integers, cheaper than the
general multinomial/choice that pyaae's kernel implements; that favours them. None of the three
sides returns the component index (pyaae's kernel writes it anyway).

Each case runs twice: against PyTorch ("vs PyTorch", the ratio the issue's targets are about) and
against NumPy ("vs NumPy", target 1.0: informational), both interleaved call by call with pyaae as
bench/conftest.py describes, in the same session. The summary table's "GFLOP/s" columns hold
millions of samples per second for these cases (``gflop`` = samples x 1e-6, so that its one
decimal shows something); docs/benchmarks.md lists the milliseconds per 10^7 samples.

Targets (issue): >= 3x PyTorch for the mixture and the swiss roll, >= 1.5x for the 8-D Gaussian;
the uniform and categorical priors have none (1.0 here).
"""
from __future__ import annotations

import math
from typing import Callable, NamedTuple

import numpy as np
import pytest
import torch

from pyaae.priors import Categorical, Gaussian, GaussianMixture, Prior, SwissRoll, Uniform

N = 10**7
MSAMPLES = N * 1e-6  # the "gflop" of one call: the table then reads in millions of samples per second
SEED = 2015  # the paper's year; any seed costs the same


class Case(NamedTuple):
    name: str
    prior: Callable[[], Prior]
    torch_sampler: Callable[[Prior], Callable[[], object]]
    numpy_sampler: Callable[[Prior], Callable[[], object]]
    target: float  # ratio asked for against PyTorch


# -- PyTorch -------------------------------------------------------------------------------------


def torch_gaussian(prior: Gaussian) -> Callable[[], torch.Tensor]:
    mean, std = prior.mean.float(), prior.std.float()
    return lambda: torch.randn(N, prior.dim).mul_(std).add_(mean)


def torch_mixture(prior: GaussianMixture) -> Callable[[], torch.Tensor]:
    """Equal weights: randint (torch.multinomial alone costs ~0.3 s per 10^7); einsum over the
    gathered Cholesky factors (faster here than bmm or a broadcast product)."""
    means, chol = prior.means.float(), prior.cholesky.float()
    assert torch.allclose(prior.weights, prior.weights[0].expand_as(prior.weights))

    def run() -> torch.Tensor:
        k = torch.randint(0, prior.num_classes, (N,))
        return means[k] + torch.einsum("nij,nj->ni", chol[k], torch.randn(N, prior.dim))

    return run


def torch_swiss_roll(prior: SwissRoll) -> Callable[[], torch.Tensor]:
    """Equal segments, no noise: u uniform on [0, 1) directly."""
    assert prior.noise_std == 0.0

    def run() -> torch.Tensor:
        root = torch.rand(N).sqrt_()
        angle = root * (4 * math.pi)
        root.mul_(3.0)
        return torch.stack((root * torch.cos(angle), root * torch.sin(angle)), 1)

    return run


def torch_uniform(prior: Uniform) -> Callable[[], torch.Tensor]:
    low, width = prior.low.float(), (prior.high - prior.low).float()
    return lambda: torch.rand(N, prior.dim).mul_(width).add_(low)


def torch_categorical(prior: Categorical) -> Callable[[], torch.Tensor]:
    """Equal probabilities: randint, then a one-hot by scatter (F.one_hot makes int64 first)."""
    assert torch.allclose(prior.probs, prior.probs[0].expand_as(prior.probs))
    return lambda: torch.zeros(N, prior.dim).scatter_(1, torch.randint(0, prior.dim, (N, 1)), 1.0)


# -- NumPy ---------------------------------------------------------------------------------------


def numpy_gaussian(prior: Gaussian) -> Callable[[], np.ndarray]:
    rng = np.random.default_rng(SEED)
    mean, std = prior.mean.float().numpy(), prior.std.float().numpy()

    def run() -> np.ndarray:
        z = rng.standard_normal((N, prior.dim), dtype=np.float32)
        z *= std
        z += mean
        return z

    return run


def numpy_mixture(prior: GaussianMixture) -> Callable[[], np.ndarray]:
    rng = np.random.default_rng(SEED)
    means, chol = prior.means.float().numpy(), prior.cholesky.float().numpy()

    def run() -> np.ndarray:
        k = rng.integers(0, prior.num_classes, N)
        z = rng.standard_normal((N, prior.dim), dtype=np.float32)
        return means[k] + np.einsum("nij,nj->ni", chol[k], z)

    return run


def numpy_swiss_roll(prior: SwissRoll) -> Callable[[], np.ndarray]:
    rng = np.random.default_rng(SEED)

    def run() -> np.ndarray:
        root = np.sqrt(rng.random(N, dtype=np.float32))
        angle = root * np.float32(4 * math.pi)
        root *= np.float32(3.0)
        return np.stack((root * np.cos(angle), root * np.sin(angle)), 1)

    return run


def numpy_uniform(prior: Uniform) -> Callable[[], np.ndarray]:
    rng = np.random.default_rng(SEED)
    low, width = prior.low.float().numpy(), (prior.high - prior.low).float().numpy()

    def run() -> np.ndarray:
        u = rng.random((N, prior.dim), dtype=np.float32)
        u *= width
        u += low
        return u

    return run


def numpy_categorical(prior: Categorical) -> Callable[[], np.ndarray]:
    rng = np.random.default_rng(SEED)

    def run() -> np.ndarray:
        out = np.zeros((N, prior.dim), dtype=np.float32)
        out[np.arange(N), rng.integers(0, prior.dim, N)] = 1.0
        return out

    return run


# The paper's priors: the 8-D Gaussian of the likelihood experiment (std 5), the 10-component
# mixture, the 10-segment swiss roll; an 8-D box and 10 categories (the semi-supervised AAE's y).
CASES = [
    Case("gaussian 8-D", lambda: Gaussian(8, std=5.0), torch_gaussian, numpy_gaussian, 1.5),
    Case("mixture paper, 2-D", GaussianMixture.paper_preset, torch_mixture, numpy_mixture, 3.0),
    Case("swiss roll, 2-D", lambda: SwissRoll(num_segments=10), torch_swiss_roll, numpy_swiss_roll, 3.0),
    Case("uniform 8-D", lambda: Uniform(8, low=-2.0, high=2.0), torch_uniform, numpy_uniform, 1.0),
    Case("categorical 10", lambda: Categorical([0.1] * 10), torch_categorical, numpy_categorical, 1.0),
]


def pyaae_sampler(prior: Prior) -> Callable[[], torch.Tensor]:
    return lambda: prior.sample(N, seed=SEED, backend="kernels")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name.split(",")[0].replace(" ", "-"))
def bench_prior_vs_torch(versus_torch, case: Case) -> None:
    prior = case.prior()
    versus_torch(f"{case.name}, 10^7 vs PyTorch", MSAMPLES, pyaae_sampler(prior), case.torch_sampler(prior),
                 case.target)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name.split(",")[0].replace(" ", "-"))
def bench_prior_vs_numpy(versus_torch, case: Case) -> None:
    """The same interleaving, NumPy in the place of PyTorch (the table's PyTorch column is NumPy's)."""
    prior = case.prior()
    versus_torch(f"{case.name}, 10^7 vs NumPy", MSAMPLES, pyaae_sampler(prior), case.numpy_sampler(prior), 1.0)
