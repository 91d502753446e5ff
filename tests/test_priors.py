"""pyaae.priors: every prior's distribution on each backend, label conditioning, reproducibility and
bad input.

Statistics are checked on 10^6 samples for the CPU kernels and the PyTorch reference, and on 2000
for the CUDA kernels under emulation (one OS thread per CUDA thread); the tests are the same, their
power grows with n. (Bit-level agreement of the kernels with Philox4x32-10 and with each other:
tests/test_philox.py.) Without SciPy, the p-values are computed here:

- moments: each first and second raw moment E[x_j], E[x_j x_k] as a z-score against its standard
  error estimated from the samples; |z| < Z_MAX (5: a false alarm in ~1 of 10^6 statistics);
- Kolmogorov-Smirnov: the asymptotic Kolmogorov distribution with Stephens' finite-n correction;
- chi-square: the regularized upper incomplete gamma function (torch.special.gammaincc);
both with the significance level ALPHA. Seeds are fixed, so every outcome is reproducible.
"""
from __future__ import annotations

import math
from typing import Callable, List, Sequence, Tuple

import numpy as np
import pytest
import torch
from _oracle import seed_of
from conftest import needs_emu

import pyaae
from pyaae.priors import CallablePrior, Categorical, Gaussian, GaussianMixture, NumbaPrior, Prior, SwissRoll, Uniform

Z_MAX = 5.0
ALPHA = 1e-4
N_LARGE = 10**6
N_EMU = 2000

BACKENDS = [pytest.param(("kernels", N_LARGE), id="kernels"), pytest.param(("reference", N_LARGE), id="reference"),
            pytest.param(("emu", N_EMU), id="emu", marks=needs_emu)]


@pytest.fixture(params=BACKENDS)
def backend_n(request) -> Tuple[str, int]:
    """(backend, number of samples to draw on it)."""
    return request.param


# ---------------------------------------------------------------------------------------------
# Statistics


def moment_z_scores(x: torch.Tensor, mean: torch.Tensor, cov: torch.Tensor) -> torch.Tensor:
    """z-scores of the sample's E[x_j] and E[x_j x_k] (j <= k) against the values that ``mean`` and
    ``cov`` give them, each over its standard error estimated from the same samples (as matrix
    products: no [n, dim^2] temporaries)."""
    x, mean, cov = x.double(), mean.double(), cov.double()
    n = x.shape[0]
    rows, cols = torch.triu_indices(x.shape[1], x.shape[1])
    second = (x.t() @ x / n)[rows, cols]
    fourth = ((x * x).t() @ (x * x) / n)[rows, cols]
    values = torch.cat([x.mean(0), second])
    variances = torch.cat([x.var(0), (fourth - second**2) * n / (n - 1)])
    expected = torch.cat([mean, (cov + torch.outer(mean, mean))[rows, cols]])
    return (values - expected) / (variances / n).sqrt().clamp_min(1e-300)


def assert_moments(name: str, x: torch.Tensor, mean: torch.Tensor, cov: torch.Tensor) -> None:
    z = moment_z_scores(x, mean, cov)
    assert z.abs().max() < Z_MAX, (f"{name}: moment z-score {z.abs().max():.1f} >= {Z_MAX} (n={x.shape[0]}); "
                                   f"mean {x.double().mean(0).tolist()} vs {mean.tolist()}")


def kolmogorov_pvalue(d: float, n_effective: float) -> float:
    """P(D > d) for the KS statistic of n_effective samples (asymptotic, Stephens' correction)."""
    lam = (math.sqrt(n_effective) + 0.12 + 0.11 / math.sqrt(n_effective)) * d
    if lam < 0.3:
        return 1.0
    return min(1.0, max(0.0, 2 * sum((-1) ** (k - 1) * math.exp(-2 * k * k * lam * lam) for k in range(1, 101))))


def ks_pvalue(x: torch.Tensor, cdf: Callable[[torch.Tensor], torch.Tensor]) -> float:
    """One-sample KS test of x (1-D) against ``cdf``."""
    x, _ = x.double().sort()
    n = x.shape[0]
    f = cdf(x)
    steps = torch.arange(n + 1, dtype=torch.float64) / n
    d = max((steps[1:] - f).max().item(), (f - steps[:-1]).max().item())
    return kolmogorov_pvalue(d, n)


def ks_2samp_pvalue(a: torch.Tensor, b: torch.Tensor) -> float:
    """Two-sample KS test of a and b (1-D)."""
    a, b = a.double().sort()[0], b.double().sort()[0]
    both = torch.cat([a, b])
    fa = torch.searchsorted(a, both, right=True).double() / a.shape[0]
    fb = torch.searchsorted(b, both, right=True).double() / b.shape[0]
    return kolmogorov_pvalue((fa - fb).abs().max().item(), a.shape[0] * b.shape[0] / (a.shape[0] + b.shape[0]))


def chi_square_pvalue(index: torch.Tensor, probs: torch.Tensor) -> float:
    """Chi-square goodness of fit of the counts of index against probs; categories of probability 0
    must never occur."""
    probs = torch.as_tensor(probs, dtype=torch.float64)
    counts = torch.bincount(index, minlength=probs.shape[0]).double()
    assert counts.shape[0] == probs.shape[0], f"index {index.max().item()} out of range"
    assert (counts[probs == 0] == 0).all(), "a category of probability 0 was drawn"
    expected = probs[probs > 0] * index.shape[0]
    stat = ((counts[probs > 0] - expected) ** 2 / expected).sum()
    df = torch.tensor(float((probs > 0).sum().item() - 1), dtype=torch.float64)
    if df == 0:
        return 1.0
    return torch.special.gammaincc(df / 2, stat / 2).item()


def normal_cdf(mean: float, std: float) -> Callable[[torch.Tensor], torch.Tensor]:
    return lambda x: torch.special.ndtr((x - mean) / std)


def mixture_moments(prior: GaussianMixture) -> Tuple[torch.Tensor, torch.Tensor]:
    """Mean and covariance of the whole mixture."""
    w, mu = prior.weights, prior.means
    mean = w @ mu
    second = (w[:, None, None] * (prior.covariances + mu[:, :, None] * mu[:, None, :])).sum(0)
    return mean, second - torch.outer(mean, mean)


def draw(prior: Prior, backend: str, n: int, key: Sequence, **kwargs):
    """prior.sample on ``backend`` with a seed derived from the test's key."""
    return prior.sample(n, seed=seed_of(*key), backend=backend, **kwargs)


# ---------------------------------------------------------------------------------------------
# Gaussian and uniform


@pytest.mark.parametrize("dim", [1, 8, 13])
def test_gaussian_moments(backend_n, dim: int) -> None:
    backend, n = backend_n
    mean = torch.linspace(-3.0, 4.0, dim, dtype=torch.float64)
    std = torch.linspace(0.5, 5.0, dim, dtype=torch.float64)
    x = draw(Gaussian(dim, mean=mean, std=std), backend, n, ("gaussian", dim, backend))
    assert x.shape == (n, dim) and x.dtype == torch.float32
    assert_moments("gaussian", x, mean, torch.diag(std**2))


def test_gaussian_marginals_ks(backend_n) -> None:
    """Each marginal of N(mean, diag(std^2)) in 5-D passes a KS test against the normal CDF (the
    paper's 8-D std-5 prior checked in test_gaussian_moments)."""
    backend, n = backend_n
    mean, std = [0.0, 1.0, -2.0, 0.5, 10.0], [1.0, 5.0, 0.1, 2.0, 3.0]
    x = draw(Gaussian(5, mean=mean, std=std), backend, n, ("gaussian-ks", backend))
    for d in range(5):
        p = ks_pvalue(x[:, d], normal_cdf(mean[d], std[d]))
        assert p > ALPHA, f"marginal {d}: KS p = {p:.2g}"


def test_ks_detects_a_wrong_distribution() -> None:
    """The KS and chi-square helpers have power: a Student-t with 30 degrees of freedom, a slightly
    wider normal and a 1% weight error fail on 10^6 samples."""
    g = torch.Generator().manual_seed(0)
    z = torch.randn(N_LARGE, generator=g, dtype=torch.float64)
    assert ks_pvalue(z, normal_cdf(0.0, 1.0)) > ALPHA
    assert ks_pvalue(z * 1.01, normal_cdf(0.0, 1.0)) < ALPHA
    t30 = torch.distributions.StudentT(30.0).sample((N_LARGE,))
    assert ks_pvalue(t30, normal_cdf(0.0, 1.0)) < ALPHA
    index = torch.multinomial(torch.tensor([0.26, 0.24, 0.5]), N_LARGE, replacement=True, generator=g)
    assert chi_square_pvalue(index, torch.tensor([0.26, 0.24, 0.5])) > ALPHA
    assert chi_square_pvalue(index, torch.tensor([0.25, 0.25, 0.5])) < ALPHA


def test_uniform_moments_and_ks(backend_n) -> None:
    backend, n = backend_n
    low, high = torch.tensor([0.0, -1.0, 2.0, -5.0, 0.25], dtype=torch.float64), \
        torch.tensor([1.0, 1.0, 3.0, 5.0, 0.5], dtype=torch.float64)
    x = draw(Uniform(5, low=low, high=high), backend, n, ("uniform", backend))
    assert ((x >= low.float()) & (x <= high.float())).all()
    assert_moments("uniform", x, (low + high) / 2, torch.diag((high - low) ** 2 / 12))
    for d in range(5):
        p = ks_pvalue(x[:, d], lambda v, lo=low[d], hi=high[d]: ((v - lo) / (hi - lo)).clamp(0, 1))
        assert p > ALPHA, f"marginal {d}: KS p = {p:.2g}"


def test_uniform_samples_stay_below_high() -> None:
    prior = Uniform(1, low=2.0, high=3.0)
    x = prior.sample(4_826_272, seed=0, backend="kernels")  # sample 4826271 has u = 1 - 2^-23
    assert torch.isfinite(prior.log_prob(x[-1:])).all(), f"log_prob({x[-1].item()}) = -inf"
    assert x.max() < 3.0


# ---------------------------------------------------------------------------------------------
# Mixtures


def mixture_3d() -> GaussianMixture:
    """Three 3-D components with full covariances and uneven weights."""
    covariances = [np.eye(3), [[2.0, 0.5, 0.3], [0.5, 1.0, 0.2], [0.3, 0.2, 0.5]],
                   [[0.04, -0.03, 0.0], [-0.03, 1.0, 0.4], [0.0, 0.4, 2.0]]]
    return GaussianMixture([[0.0, 0.0, 0.0], [3.0, -1.0, 2.0], [-4.0, 5.0, 0.5]], np.array(covariances),
                           weights=[0.2, 0.5, 0.3])


def mixture_6d() -> GaussianMixture:
    """Five 6-D components with random full covariances, one of weight 0."""
    g = torch.Generator().manual_seed(6)
    a = torch.randn(5, 6, 6, generator=g, dtype=torch.float64)
    covariances = a @ a.transpose(1, 2) / 6 + 0.1 * torch.eye(6, dtype=torch.float64)
    return GaussianMixture(torch.randn(5, 6, generator=g, dtype=torch.float64) * 3, covariances,
                           weights=[0.1, 0.4, 0.0, 0.3, 0.2])


def assert_mixture_samples(name: str, prior: GaussianMixture, x: torch.Tensor, index: torch.Tensor) -> None:
    """Whole-mixture moments, component counts by chi-square, and each component's own moments."""
    assert x.shape == (index.shape[0], prior.dim) and index.dtype == torch.int64
    mean, cov = mixture_moments(prior)
    assert_moments(name, x, mean, cov)
    p = chi_square_pvalue(index, prior.weights)
    assert p > ALPHA, f"{name}: component counts chi-square p = {p:.2g}"
    for k in range(prior.num_classes):
        if (index == k).sum() > 1:
            assert_moments(f"{name} component {k}", x[index == k], prior.means[k], prior.covariances[k])


@pytest.mark.parametrize("make", [mixture_3d, mixture_6d, GaussianMixture.paper_preset],
                         ids=["3d", "6d", "paper"])
def test_mixture_moments_and_weights(backend_n, make) -> None:
    backend, n = backend_n
    prior = make()
    x, index = draw(prior, backend, n, ("mixture", make.__name__, backend), return_index=True)
    assert_mixture_samples(make.__name__, prior, x, index)


def test_paper_preset_parameters() -> None:
    """10 equal components at radius 1.4, angle 2 pi k / 10, std 0.5 along the radius and 0.05 across."""
    prior = GaussianMixture.paper_preset()
    assert (prior.num_classes, prior.dim) == (10, 2)
    assert prior.means.shape == (10, 2) and prior.weights.shape == (10,) and prior.covariances.shape == (10, 2, 2)
    torch.testing.assert_close(prior.weights, torch.full((10,), 0.1, dtype=torch.float64))
    angles = torch.arange(10, dtype=torch.float64) * 2 * math.pi / 10
    radial = torch.stack([torch.cos(angles), torch.sin(angles)], 1)
    torch.testing.assert_close(prior.means, 1.4 * radial)
    along = torch.einsum("ki,kij,kj->k", radial, prior.covariances, radial)
    tangential = torch.stack([-radial[:, 1], radial[:, 0]], 1)
    across = torch.einsum("ki,kij,kj->k", tangential, prior.covariances, tangential)
    torch.testing.assert_close(along, torch.full((10,), 0.25, dtype=torch.float64))
    torch.testing.assert_close(across, torch.full((10,), 0.05**2, dtype=torch.float64))


def test_mixture_labels_select_components(backend_n) -> None:
    """A label k >= 0 draws from component k (index k, its moments); -1 draws from the whole mixture
    (counts by the weights)."""
    backend, n = backend_n
    prior = mixture_3d()
    labels = torch.randint(-1, 3, (n,), generator=torch.Generator().manual_seed(1))
    x, index = draw(prior, backend, n, ("mixture-labels", backend), labels=labels, return_index=True)
    labeled = labels >= 0
    assert torch.equal(index[labeled], labels[labeled])
    for k in range(3):
        assert_moments(f"label {k}", x[labels == k], prior.means[k], prior.covariances[k])
    p = chi_square_pvalue(index[~labeled], prior.weights)
    assert p > ALPHA, f"unlabeled samples: component counts chi-square p = {p:.2g}"


def test_mixture_labels_accept_integer_arrays() -> None:
    prior = GaussianMixture.paper_preset()
    expected = prior.sample(4, labels=torch.tensor([3, -1, 9, 0]), seed=1, return_index=True)
    same = [3, -1, 9, 0]
    for labels in (same, np.array(same, dtype=np.int32), torch.tensor(same, dtype=torch.int16)):
        x, index = prior.sample(4, labels=labels, seed=1, return_index=True)
        assert torch.equal(x, expected[0]) and torch.equal(index, expected[1])


def test_mixture_log_prob() -> None:
    """log_prob against a direct float64 evaluation, and the paper's density integrates to 1."""
    prior = mixture_3d()
    z = torch.randn(50, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64) * 3
    direct = []
    for k in range(3):
        cov = prior.covariances[k]
        diff = z - prior.means[k]
        maha = (diff @ torch.linalg.inv(cov) * diff).sum(1)
        direct.append(math.log(prior.weights[k]) - 0.5 * (maha + torch.logdet(cov) + 3 * math.log(2 * math.pi)))
    torch.testing.assert_close(prior.log_prob(z), torch.logsumexp(torch.stack(direct, 1), 1))
    paper = GaussianMixture.paper_preset()
    grid = torch.linspace(-4.0, 4.0, 401, dtype=torch.float64)
    points = torch.cartesian_prod(grid, grid)
    mass = paper.log_prob(points).exp().sum().item() * (grid[1] - grid[0]).item() ** 2
    assert abs(mass - 1.0) < 1e-3, f"the density integrates to {mass}"


# ---------------------------------------------------------------------------------------------
# Swiss roll


def roll_parameter(x: torch.Tensor) -> torch.Tensor:
    """The arc parameter u of points on the roll: radius 3 sqrt(u)."""
    return (x.double().norm(dim=1) / 3) ** 2


def assert_on_roll(x: torch.Tensor, index: torch.Tensor, segments: int) -> torch.Tensor:
    """Points lie on the roll (the point of their own arc parameter), and in their segment; returns u."""
    u = roll_parameter(x)
    assert (u <= 1 + 1e-6).all()
    off_curve = (SwissRoll.point(u) - x.double()).norm(dim=1)
    assert off_curve.max() < 2e-5, f"a point is {off_curve.max():.2g} off the roll at u={u[off_curve.argmax()]:.6f}"
    # A point within float32 rounding of a segment's end may sit on the boundary.
    slack = 1e-5
    assert ((index >= 0) & (index < segments)).all()
    inside = (u >= index / segments - slack) & (u <= (index + 1) / segments + slack)
    assert inside.all(), f"{(~inside).sum().item()} points outside their segment"
    return u


def test_swiss_roll_geometry(backend_n) -> None:
    """Without noise: every point on the roll in its segment; u uniform on [0, 1) (KS); segments equally
    likely (chi-square)."""
    backend, n = backend_n
    x, index = draw(SwissRoll(num_segments=10), backend, n, ("roll", backend), return_index=True)
    assert x.shape == (n, 2)
    u = assert_on_roll(x, index, 10)
    p = ks_pvalue(u, lambda v: v.clamp(0, 1))
    assert p > ALPHA, f"arc parameter KS p = {p:.2g}"
    p = chi_square_pvalue(index, torch.full((10,), 0.1))
    assert p > ALPHA, f"segment counts chi-square p = {p:.2g}"


def test_swiss_roll_labels_select_segments(backend_n) -> None:
    backend, n = backend_n
    labels = torch.randint(-1, 7, (n,), generator=torch.Generator().manual_seed(3))
    x, index = draw(SwissRoll(num_segments=7), backend, n, ("roll-labels", backend), labels=labels, return_index=True)
    labeled = labels >= 0
    assert torch.equal(index[labeled], labels[labeled])
    u = assert_on_roll(x, index, 7)
    # Within its segment, u is uniform.
    within = u[labeled] * 7 - labels[labeled]
    p = ks_pvalue(within, lambda v: v.clamp(0, 1))
    assert p > ALPHA, f"position within the labeled segment: KS p = {p:.2g}"
    p = chi_square_pvalue(index[~labeled], torch.full((7,), 1 / 7))
    assert p > ALPHA, f"unlabeled segment counts chi-square p = {p:.2g}"


def test_swiss_roll_noise_kernels_match_reference() -> None:
    """With noise_std 0.3 (the points leave the roll): both coordinates and the radius of the kernels'
    samples and the reference's pass a two-sample KS test, and the noise has the asked spread
    across a labeled thin segment's mean."""
    prior = SwissRoll(num_segments=10, noise_std=0.3)
    n = 300_000
    ours = prior.sample(n, seed=11, backend="kernels")
    theirs = prior.sample(n, seed=11, backend="reference")
    for name, a, b in (("x", ours[:, 0], theirs[:, 0]), ("y", ours[:, 1], theirs[:, 1]),
                       ("radius", ours.norm(dim=1), theirs.norm(dim=1))):
        p = ks_2samp_pvalue(a, b)
        assert p > ALPHA, f"{name}: two-sample KS p = {p:.2g}"
    # Segment 9 of 1000 sits at u ~ 0.0095: the roll moves < 0.002 across it, so the samples are
    # (nearly) N(point, 0.3^2 I).
    thin = SwissRoll(num_segments=1000, noise_std=0.3)
    for backend in ("kernels", "reference"):
        x = thin.sample(N_LARGE, labels=torch.full((N_LARGE,), 9), seed=12, backend=backend).double()
        centre = SwissRoll.point(torch.tensor([9.5 / 1000], dtype=torch.float64))[0]
        torch.testing.assert_close(x.mean(0), centre, atol=3e-3, rtol=0)
        torch.testing.assert_close(x.std(0), torch.full((2,), 0.3, dtype=torch.float64), atol=2e-3, rtol=0)


# ---------------------------------------------------------------------------------------------
# Categorical


def test_categorical(backend_n) -> None:
    """One-hot rows, index at the 1, counts by probs (chi-square; a probability-0 category never)."""
    backend, n = backend_n
    probs = [0.05, 0.0, 0.15, 0.3, 0.5]
    prior = Categorical(probs)
    assert prior.dim == prior.num_classes == 5
    x, index = draw(prior, backend, n, ("categorical", backend), return_index=True)
    assert x.shape == (n, 5) and x.dtype == torch.float32
    assert torch.equal(x, torch.nn.functional.one_hot(index, 5).float())
    p = chi_square_pvalue(index, torch.tensor(probs))
    assert p > ALPHA, f"category counts chi-square p = {p:.2g}"


def test_categorical_log_prob() -> None:
    prior = Categorical([0.25, 0.75])
    z = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [1.0, 1.0]])
    expected = torch.tensor([math.log(0.25), math.log(0.75), -math.inf, -math.inf])
    torch.testing.assert_close(prior.log_prob(z), expected)


# ---------------------------------------------------------------------------------------------
# log_prob of the others


def test_gaussian_and_uniform_log_prob() -> None:
    z = torch.randn(20, 3, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    mean, std = torch.tensor([0.0, 1.0, -1.0], dtype=torch.float64), torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64)
    expected = torch.distributions.Normal(mean, std).log_prob(z).sum(1)
    torch.testing.assert_close(Gaussian(3, mean=mean, std=std).log_prob(z), expected)
    box = Uniform(3, low=-1.0, high=[1.0, 2.0, 3.0])
    inside = ((z >= -1) & (z < torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64))).all(1)
    assert inside.any() and (~inside).any()
    expected = torch.where(inside, torch.tensor(-math.log(2 * 3 * 4), dtype=torch.float64),
                           torch.tensor(-math.inf, dtype=torch.float64))
    torch.testing.assert_close(box.log_prob(z), expected)


@pytest.mark.parametrize("prior", [SwissRoll(), CallablePrior(lambda n, g: torch.randn(n, 2, generator=g), 2)],
                         ids=["swiss_roll", "callable"])
def test_intractable_log_prob_raises(prior: Prior) -> None:
    with pytest.raises(NotImplementedError, match="no tractable density"):
        prior.log_prob(torch.zeros(3, 2))


# ---------------------------------------------------------------------------------------------
# Reproducibility: seed, offset, thread count


def all_priors() -> List[Tuple[str, Prior]]:
    return [("gaussian", Gaussian(5, mean=1.0, std=2.0)), ("mixture", GaussianMixture.paper_preset()),
            ("swiss_roll", SwissRoll(noise_std=0.05)), ("uniform", Uniform(3, low=-1.0, high=2.0)),
            ("categorical", Categorical([0.2, 0.3, 0.5]))]


PRIORS = [pytest.param(prior, id=name) for name, prior in all_priors()]


@pytest.mark.parametrize("prior", PRIORS)
def test_same_seed_same_samples_other_offset_others(backend_n, prior: Prior) -> None:
    backend, _ = backend_n
    n = 3000 if backend != "emu" else 500
    first, first_index = prior.sample(n, seed=42, offset=5, backend=backend, return_index=True)
    again, again_index = prior.sample(n, seed=42, offset=5, backend=backend, return_index=True)
    assert torch.equal(first, again) and torch.equal(first_index, again_index)
    limit = 0.45 if isinstance(prior, Categorical) else 1e-3  # one-hot rows repeat by chance
    for change in ({"seed": 42, "offset": 6}, {"seed": 43, "offset": 5}):
        other = prior.sample(n, backend=backend, **change)
        same_rows = (other == first).all(1).double().mean().item()
        assert same_rows < limit, f"{change}: {same_rows:.1%} of the rows unchanged"


@pytest.mark.parametrize("backend", ["kernels", "reference"])
def test_seed_none_follows_torch_manual_seed(backend: str) -> None:
    prior = Gaussian(3)
    torch.manual_seed(123)
    a = prior.sample(10, backend=backend)
    torch.manual_seed(123)
    b = prior.sample(10, backend=backend)
    c = prior.sample(10, backend=backend)
    assert torch.equal(a, b) and not torch.equal(b, c)


def test_kernels_are_the_default_on_cpu() -> None:
    """backend='auto' runs the kernels where they are built (bitwise the same samples)."""
    prior = GaussianMixture.paper_preset()
    assert torch.equal(prior.sample(100, seed=9), prior.sample(100, seed=9, backend="kernels"))


@pytest.mark.parametrize("prior", PRIORS)
def test_thread_count_does_not_change_samples(prior: Prior) -> None:
    """pyaae.set_num_threads(1) and (2), n large enough to split (>= 4096 samples a thread) into two
    ranges of 8k + 7: bitwise the same samples and indices."""
    results = []
    for threads in (1, 2):
        pyaae.set_num_threads(threads)
        try:
            results.append(prior.sample(2 * (8 * 600 + 7), seed=7, backend="kernels", return_index=True))
        finally:
            pyaae.set_num_threads(None)
    assert torch.equal(results[0][0], results[1][0]) and torch.equal(results[0][1], results[1][1])


@pytest.mark.parametrize("prior", PRIORS)
def test_empty_and_index_outputs(prior: Prior) -> None:
    for backend in ("kernels", "reference"):
        x, index = prior.sample(0, seed=1, backend=backend, return_index=True)
        assert x.shape == (0, prior.dim) and x.dtype == torch.float32 and index.shape == (0,)
        x, index = prior.sample(7, seed=1, backend=backend, return_index=True)
        assert index.dtype == torch.int64 and index.shape == (7,)
        if prior.num_classes is None:
            assert (index == -1).all()
        else:
            assert ((index >= 0) & (index < prior.num_classes)).all()


# ---------------------------------------------------------------------------------------------
# User-defined priors


def test_callable_prior() -> None:
    """fn(n, generator) with the generator from (seed, offset): reproducible; the reference only."""
    prior = CallablePrior(lambda n, g: torch.rand(n, 2, generator=g) * torch.tensor([1.0, 10.0]), 2)
    a, b = prior.sample(5, seed=3), prior.sample(5, seed=3)
    assert torch.equal(a, b) and a.dtype == torch.float32 and a.shape == (5, 2)
    assert not torch.equal(a, prior.sample(5, seed=3, offset=1))
    x = prior.sample(N_LARGE, seed=4)
    assert_moments("callable", x, torch.tensor([0.5, 5.0]), torch.diag(torch.tensor([1 / 12, 100 / 12])))
    with pytest.raises(RuntimeError, match="has no kernel"):
        prior.sample(5, backend="kernels")
    with pytest.raises(ValueError, match=r"fn returned shape \(5, 3\), expected \(5, 2\)"):
        CallablePrior(lambda n, g: torch.zeros(n, 3), 2).sample(5)
    with pytest.raises(TypeError, match="fn must be callable"):
        CallablePrior(3, 2)


def _copy_draws(u, z, out):
    """A NumbaPrior transform: the uniforms, then the normals."""
    for j in range(u.shape[0]):
        out[j] = u[j]
    for j in range(z.shape[0]):
        out[u.shape[0] + j] = z[j]


@pytest.fixture(scope="module")
def numba_prior() -> NumbaPrior:
    """One NumbaPrior compiled for the module (numba's compile takes seconds): 5 uniforms, 3 normals."""
    pytest.importorskip("numba")
    return NumbaPrior(_copy_draws, 8, num_uniforms=5, num_normals=3)


def test_numba_prior_draws_from_the_philox_stream(numba_prior: NumbaPrior) -> None:
    """The uniforms are the Uniform kernel's bitwise (the same words); the normals float64 Box-Muller
    of words 5..8, within one float32 rounding."""
    from test_philox import block_words, box_muller

    n, seed, offset = 20_000, 77, 3
    x = numba_prior.sample(n, seed=seed, offset=offset)
    assert x.shape == (n, 8) and x.dtype == torch.float32
    assert torch.equal(x[:, :5], Uniform(5).sample(n, seed=seed, offset=offset, backend="kernels"))
    words = np.concatenate([block_words(seed, offset, n, b) for b in range(3)], 1)
    z0, z1, _ = box_muller(words[:, 5], words[:, 6])
    z2, _, _ = box_muller(words[:, 7], words[:, 8])
    torch.testing.assert_close(x[:, 5:].double(), torch.from_numpy(np.stack([z0, z1, z2], 1)),
                               rtol=2**-24, atol=1e-12)


def test_numba_prior_moments_threads_and_reference(numba_prior: NumbaPrior) -> None:
    import numba

    mean = torch.tensor([0.5] * 5 + [0.0] * 3, dtype=torch.float64)
    cov = torch.diag(torch.tensor([1 / 12] * 5 + [1.0] * 3, dtype=torch.float64))
    assert_moments("numba", numba_prior.sample(N_LARGE, seed=8), mean, cov)
    assert_moments("numba reference", numba_prior.sample(N_EMU, seed=8, backend="reference"), mean, cov)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = numba_prior.sample(10_001, seed=9)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = numba_prior.sample(10_001, seed=9)
    finally:
        numba.set_num_threads(before)
    assert torch.equal(one, two)
    with pytest.raises(NotImplementedError, match="no tractable density"):
        numba_prior.log_prob(torch.zeros(2, 8))


# ---------------------------------------------------------------------------------------------
# Bad input: a clear exception naming the problem


@pytest.mark.parametrize("make, error, match", [
    (lambda: Gaussian(3, std=-1.0), ValueError, "std must be > 0"),
    (lambda: Gaussian(3, std=[1.0, -0.5, 1.0]), ValueError, "std must be > 0"),
    (lambda: Gaussian(3, mean=[0.0, 1.0]), ValueError, r"mean must have shape \(3,\)"),
    (lambda: Gaussian(2, mean=math.nan), ValueError, "mean must be finite"),
    (lambda: Gaussian(0), ValueError, "dim must be a positive integer"),
    (lambda: Gaussian(2.5), ValueError, "dim must be a positive integer"),
    (lambda: GaussianMixture(np.zeros((0, 2)), np.zeros((0, 2, 2))), ValueError, "K >= 1"),
    (lambda: GaussianMixture(np.zeros((2, 2)), np.stack([np.eye(2)] * 2), weights=[0.5, 0.6]), ValueError,
     "weights must sum to 1, got 1.1"),
    (lambda: GaussianMixture(np.zeros((2, 2)), np.stack([np.eye(2)] * 2), weights=[1.5, -0.5]), ValueError,
     "weights must be non-negative"),
    (lambda: GaussianMixture(np.zeros((2, 2)), np.stack([np.eye(2)] * 2), weights=[1.0]), ValueError,
     "weights must have 2 entries"),
    (lambda: GaussianMixture(np.zeros((2, 2)), np.stack([np.eye(2)] * 3)), ValueError, "covariances must have shape"),
    (lambda: GaussianMixture(np.zeros((1, 2)), [[[1.0, 0.5], [0.0, 1.0]]]), ValueError, "must be symmetric"),
    (lambda: GaussianMixture(np.zeros((1, 2)), [[[1.0, 2.0], [2.0, 1.0]]]), ValueError, "positive definite"),
    (lambda: GaussianMixture(np.zeros((1, 65)), np.eye(65)[None]), ValueError, "at most 64"),
    (lambda: SwissRoll(num_segments=0), ValueError, "num_segments must be a positive integer"),
    (lambda: SwissRoll(noise_std=-0.1), ValueError, "noise_std must be a finite number >= 0"),
    (lambda: Uniform(2, low=1.0, high=[2.0, 1.0]), ValueError, "high must be greater than low"),
    (lambda: Categorical([]), ValueError, "probs must be a non-empty"),
    (lambda: Categorical([0.5, 0.6]), ValueError, "probs must sum to 1"),
    (lambda: Categorical([[0.5, 0.5]]), ValueError, "probs must be a non-empty 1-D"),
], ids=["negative-std", "negative-std-entry", "mean-shape", "nan-mean", "dim-0", "dim-float", "k-0",
        "weights-sum", "weights-negative", "weights-count", "cov-count", "cov-asymmetric", "cov-indefinite",
        "mixture-dim-65", "segments-0", "noise-negative", "uniform-empty-box", "probs-empty", "probs-sum",
        "probs-2d"])
def test_bad_parameters(make: Callable[[], Prior], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize("make, match", [
    (lambda: Gaussian(2, std=1e39), r"std must lie within \+-1e\+30"),
    (lambda: Gaussian(2, mean=[0.0, -1e39]), r"mean must lie within \+-1e\+30 .* got 1e\+39"),
    (lambda: Gaussian(2, std=1e-50), "std must be > 0 in every dimension, and at least 1e-30"),
    (lambda: Uniform(2, low=-1e39, high=1e39), r"low must lie within \+-1e\+30"),
    (lambda: Uniform(1, low=1.0, high=1.0 + 1e-12), "high must be greater than low in every dimension in float32"),
    (lambda: SwissRoll(noise_std=1e39), "noise_std must be a finite number >= 0 and at most 1e\\+30"),
    (lambda: GaussianMixture([[1e39, 0.0]], np.eye(2)[None]), r"means must lie within \+-1e\+30"),
    (lambda: GaussianMixture(np.zeros((1, 2)), 1e61 * np.eye(2)[None]), r"covariances must lie within"),
], ids=["std", "mean", "tiny-std", "uniform-1e39", "uniform-float32-empty", "noise", "mixture-mean",
        "mixture-covariance"])
def test_parameters_float32_cannot_hold_are_refused(make: Callable[[], Prior], match: str) -> None:
    """Finite in float64 but not in float32, the samples' dtype: they sampled +-inf (Uniform(+-1e39)
    a constant) or collapsed onto the mean."""
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("backend", ["kernels", "reference"])
def test_parameters_at_the_bound_sample_finitely(backend: str) -> None:
    for prior in (Gaussian(2, mean=-1e30, std=1e30), Gaussian(2, std=1e-30), Uniform(2, low=-1e30, high=1e30),
                  SwissRoll(noise_std=1e30)):
        samples = prior.sample(4096, seed=1, backend=backend)
        assert torch.isfinite(samples).all(), prior
        assert samples.std(0).min() > 0, prior


@pytest.mark.parametrize("backend", ["auto", "kernels", "reference"])
def test_bad_sample_arguments(backend: str) -> None:
    mixture, gaussian = GaussianMixture.paper_preset(), Gaussian(2)
    cases = [
        (lambda: gaussian.sample(-1, backend=backend), ValueError, "n must be a non-negative integer, got -1"),
        (lambda: gaussian.sample(2.0, backend=backend), ValueError, "n must be a non-negative integer"),
        (lambda: mixture.sample(3, labels=[0, 10, 1], backend=backend), ValueError, r"labels must lie in \[-1, 10\)"),
        (lambda: mixture.sample(3, labels=[0, -2, 1], backend=backend), ValueError, r"labels must lie in \[-1, 10\)"),
        (lambda: mixture.sample(3, labels=[0.0, 1.0, 2.0], backend=backend), TypeError, "labels must be integers"),
        (lambda: mixture.sample(3, labels=[True, False, True], backend=backend), TypeError, "labels must be integers"),
        (lambda: mixture.sample(3, labels=[0, 1], backend=backend), ValueError, r"labels must have shape \(3,\)"),
        (lambda: SwissRoll().sample(2, labels=[10, 0], backend=backend), ValueError, "labels must lie in"),
        (lambda: gaussian.sample(2, labels=[0, 0], backend=backend), ValueError, "labels do not apply to Gaussian"),
        (lambda: Uniform(2).sample(2, labels=[0, 0], backend=backend), ValueError, "labels do not apply to Uniform"),
        (lambda: gaussian.sample(2, seed=-1, backend=backend), ValueError, "seed must be an integer in"),
        (lambda: gaussian.sample(2, seed=2**64, backend=backend), ValueError, "seed must be an integer in"),
        (lambda: gaussian.sample(2, seed=1.5, backend=backend), ValueError, "seed must be an integer in"),
        (lambda: gaussian.sample(2, offset=2**32, backend=backend), ValueError, "offset must be an integer in"),
        (lambda: gaussian.sample(2, offset=-1, backend=backend), ValueError, "offset must be an integer in"),
    ]
    for fn, error, match in cases:
        with pytest.raises(error, match=match):
            fn()


def test_bad_backend_and_device() -> None:
    with pytest.raises(ValueError, match="backend must be one of auto, kernels, reference, emu"):
        Gaussian(2).sample(2, backend="cuda")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="backend='kernels' cannot run here"):
            Gaussian(2).sample(2, device="cuda", backend="kernels")


def test_labels_do_not_apply_to_categorical() -> None:
    """Categorical has num_classes (its categories) but no label conditioning: labels are refused."""
    with pytest.raises(ValueError, match="labels do not apply to Categorical"):
        Categorical([0.5, 0.5]).sample(2, labels=[0, 1])


# ---------------------------------------------------------------------------------------------
# The binding under the priors: arrays it refuses by itself


def _raw(kind: str, out: np.ndarray, index=None, loc=None, scale=None, cdf=None, labels=None) -> None:
    import pyaae._C as kernels

    kernels.sample_prior(kernels.PRIOR_KINDS[kind], out, index, loc, scale, cdf, 0.0, labels, 0, 0, 1)


def test_binding_refuses_bad_arrays() -> None:
    f32 = lambda *shape: np.zeros(shape, dtype=np.float32)  # noqa: E731
    cdf = np.array([0.5, 1.0], dtype=np.float32)
    with pytest.raises(ValueError, match=r"labels\[1\] = 2 is outside \[-1, 2\)"):
        _raw("swiss_roll", f32(3, 2), cdf=cdf, labels=np.array([0, 2, 1]))
    with pytest.raises(TypeError, match="labels"):
        _raw("swiss_roll", f32(3, 2), cdf=cdf, labels=np.array([0, 1, 1], dtype=np.int32))
    with pytest.raises(TypeError, match="out"):
        _raw("gaussian", np.zeros((3, 2)), loc=f32(2), scale=f32(2))
    with pytest.raises(ValueError, match="loc"):
        _raw("gaussian", f32(3, 2), loc=f32(3), scale=f32(2))
    with pytest.raises(ValueError, match="labels apply to mixtures and the swiss roll only"):
        _raw("gaussian", f32(3, 2), loc=f32(2), scale=f32(2), labels=np.array([0, 0, 0]))


def test_binding_refuses_labels_for_categorical() -> None:
    out, index = np.zeros((4, 2), dtype=np.float32), np.zeros(4, dtype=np.int64)
    with pytest.raises(ValueError, match="labels apply to mixtures and the swiss roll only"):
        _raw("categorical", out, index=index, cdf=np.array([0.5, 1.0], dtype=np.float32), labels=np.ones(4, np.int64))
