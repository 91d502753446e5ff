"""Parzen log-likelihood: every kernel (CPU at each SIMD level, 1 and 2 threads; the CUDA kernel under
emulation) against the float64 reference on the same float32 inputs, hard cases for the GEMM form,
and bad input.

Tolerance: |ll - ll64| <= 1e-5 x scale per point, and the same for the mean over points, where scale
= max(|ll64|, |dmin| / (2 sigma^2), |log M + (D/2) log(2 pi sigma^2)|, 1). ll is the difference of
the last two terms plus a log-sum; where they cancel, ll64 can be near 0 while float32 arithmetic on
the terms can only be right relative to their size (a distance of 100 rounds to 1e-5 in float32).
So the bound is relative to the largest term ll is made of, a floor that only matters where ll
crosses 0.
"""
from __future__ import annotations

import math
from typing import Callable, Dict

import numpy as np
import pytest
import torch
from _oracle import seed_of
from conftest import kernel_module, needs_emu

import pyaae

SIGMAS = torch.logspace(-1, 0, 10)
RTOL = 1e-5


def _reference64(x: torch.Tensor, s: torch.Tensor, sigmas: torch.Tensor) -> torch.Tensor:
    return pyaae.reference.parzen_log_likelihood(x.double(), s.double(), sigmas.double())


def _scale(x: torch.Tensor, s: torch.Tensor, sigmas: torch.Tensor, ll64: torch.Tensor) -> torch.Tensor:
    sig = sigmas.double()
    dmin = torch.cdist(x.double(), s.double()).min(1).values.square()
    normalizer = math.log(s.shape[0]) + 0.5 * x.shape[1] * torch.log(2 * math.pi * sig**2)
    terms = torch.stack(torch.broadcast_tensors(ll64.abs(), dmin[:, None] / (2 * sig**2), normalizer.abs()[None, :]))
    return terms.amax(0).clamp_min(1.0)


def assert_parzen_accurate(ll: torch.Tensor, x: torch.Tensor, s: torch.Tensor, sigmas: torch.Tensor) -> None:
    ll64 = _reference64(x, s, sigmas)
    assert ll.shape == ll64.shape
    assert torch.isfinite(ll).all(), "non-finite (or unwritten) outputs"
    scale = _scale(x, s, sigmas, ll64)
    err = ((ll.double() - ll64).abs() / scale)
    worst = int(err.argmax())
    assert err.max() <= RTOL, (f"relative error {err.max().item():.3g} at {divmod(worst, ll.shape[1])}: "
                               f"{ll.flatten()[worst].item()} vs {ll64.flatten()[worst].item()}")
    mean_err = abs(ll.double().mean() - ll64.mean()) / scale.mean()
    assert mean_err <= RTOL, f"mean relative error {mean_err:.3g}"


def _raw(backend: str, x: torch.Tensor, s: torch.Tensor, sigmas: torch.Tensor, threads: int = 1) -> torch.Tensor:
    """The kernel itself, on an output poisoned with NaN."""
    out = torch.full((x.shape[0], sigmas.numel()), float("nan"))
    kernel_module(backend).parzen_log_likelihood(x.numpy(), s.numpy(), sigmas.float().numpy(), out.numpy(), threads)
    return out


def _data(seed: int, n: int, m: int, dim: int, kind: str = "normal") -> Dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    if kind == "pixels":  # MNIST-like: values in [0, 1], distances of tens
        s = torch.rand(m, dim, generator=g)
        x = torch.rand(n, dim, generator=g)
    else:
        s = torch.randn(m, dim, generator=g) * (0.3 / max(1, dim) ** 0.25)
        x = torch.randn(n, dim, generator=g) * (0.3 / max(1, dim) ** 0.25)
    if kind == "near_duplicates":  # every test point within 1e-4 of a sample: d ~ 1e-8 D
        x = s[torch.randint(0, m, (n,), generator=g)] + 1e-4 * torch.randn(n, dim, generator=g)
    elif kind == "far":  # one term dominates each sum by far
        x = x + 5.0 * torch.randn(n, dim, generator=g)
    elif kind == "offset":  # large norms: the GEMM form's cancellation case
        s, x = s + 1000.0, x + 1000.0
    elif kind == "offset_near":
        s = s + 1000.0
        x = s[torch.randint(0, m, (n,), generator=g)] + 1e-3 * torch.randn(n, dim, generator=g)
    return {"x": x.contiguous(), "s": s.contiguous()}


# (n, m, dim): direct path (dim <= 24) and GEMM form (dim > 24), edges of the 288/48-row blocks,
# the 256-column blocks, the GEMM's 6x16 / 4x8 register tiles and its 256-deep depth blocks.
CPU_SHAPES = [(1, 1, 1), (1, 300, 784), (300, 1, 784), (7, 19, 2), (53, 261, 8), (49, 257, 24), (50, 40, 25),
              (13, 300, 33), (290, 270, 64), (30, 513, 257), (61, 100, 784)]
KINDS = ["normal", "pixels", "near_duplicates", "far", "offset", "offset_near"]


@pytest.mark.parametrize("shape", CPU_SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_cpu_kernel_matches_float64(simd_level: str, shape) -> None:
    case = _data(seed_of("parzen", shape), *shape)
    assert_parzen_accurate(_raw("kernels", case["x"], case["s"], SIGMAS), case["x"], case["s"], SIGMAS)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dim", [3, 40, 784])
def test_cpu_kernel_hard_cases(simd_level: str, kind: str, dim: int) -> None:
    case = _data(seed_of("hard", kind, dim), 40, 300, dim, kind)
    sigmas = torch.tensor([0.01, 0.1, 0.3, 1.0, 10.0])
    assert_parzen_accurate(_raw("kernels", case["x"], case["s"], sigmas), case["x"], case["s"], sigmas)


@pytest.mark.parametrize("shape", [(300, 600, 8), (600, 300, 100)], ids=["direct", "gemm"])
def test_thread_counts_agree(simd_level: str, num_threads: int, shape) -> None:
    """Threads split test points, never a sum: 1 and 2 threads give bitwise the same result."""
    case = _data(seed_of("threads", shape), *shape)
    ours = _raw("kernels", case["x"], case["s"], SIGMAS, num_threads)
    assert_parzen_accurate(ours, case["x"], case["s"], SIGMAS)
    assert torch.equal(ours, _raw("kernels", case["x"], case["s"], SIGMAS, 1))


def test_bandwidth_order_and_duplicates_do_not_matter(simd_level: str) -> None:
    case = _data(1, 20, 100, 50)
    sigmas = torch.tensor([0.3, 2.0, 0.05, 0.3, 1.0])
    full = _raw("kernels", case["x"], case["s"], sigmas)
    for k, sigma in enumerate(sigmas):
        torch.testing.assert_close(full[:, k:k + 1], _raw("kernels", case["x"], case["s"], sigma.reshape(1)),
                                   rtol=1e-6, atol=1e-5)


# The emulated CUDA kernel: 64-point blocks, 64-sample steps split 4 x 16 per point, 32-deep
# coordinate stages, 16 bandwidths per launch. Small shapes cover each edge.
EMU_SHAPES = [(1, 1, 1), (65, 70, 33), (3, 5, 64), (64, 129, 2)]


@needs_emu
@pytest.mark.parametrize("shape", EMU_SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_emulated_cuda_kernel_matches_float64(shape) -> None:
    case = _data(seed_of("emu", shape), *shape)
    sigmas = torch.logspace(-1.5, 0.5, 17)  # two launches
    assert_parzen_accurate(_raw("emu", case["x"], case["s"], sigmas), case["x"], case["s"], sigmas)


@needs_emu
@pytest.mark.parametrize("kind", ["near_duplicates", "offset_near", "far"])
def test_emulated_cuda_kernel_hard_cases(kind: str) -> None:
    case = _data(seed_of("emu-hard", kind), 10, 70, 40, kind)
    sigmas = torch.tensor([0.01, 0.1, 1.0])
    assert_parzen_accurate(_raw("emu", case["x"], case["s"], sigmas), case["x"], case["s"], sigmas)


# ---------------------------------------------------------------------------------------------
# The op: backends, input kinds, chunks, progress


@pytest.mark.parametrize("backend", ["auto", "kernels", "reference"])
def test_op_backends_agree(backend: str) -> None:
    case = _data(3, 30, 80, 100)
    ll = pyaae.ops.parzen_log_likelihood(case["x"], case["s"], SIGMAS, backend=backend)
    assert ll.dtype == torch.float32 and ll.shape == (30, 10) and not ll.requires_grad
    assert_parzen_accurate(ll, case["x"], case["s"], SIGMAS)


def test_op_numpy_scalars_chunks_and_progress() -> None:
    case = _data(4, 25, 60, 12)
    calls = []
    ll = pyaae.ops.parzen_log_likelihood(case["x"].numpy(), case["s"].numpy(), 0.5, batch_size=10,
                                         progress=lambda done, total: calls.append((done, total)))
    assert calls == [(10, 25), (20, 25), (25, 25)]
    torch.testing.assert_close(ll, pyaae.ops.parzen_log_likelihood(case["x"], case["s"], [0.5]))


def test_op_float64_runs_the_reference_in_float64() -> None:
    case = _data(5, 6, 9, 4)
    ll = pyaae.ops.parzen_log_likelihood(case["x"].double(), case["s"], SIGMAS)
    assert ll.dtype == torch.float64
    torch.testing.assert_close(ll, _reference64(case["x"], case["s"], SIGMAS))
    with pytest.raises(RuntimeError, match="float32"):
        pyaae.ops.parzen_log_likelihood(case["x"].double(), case["s"], SIGMAS, backend="kernels")


def test_op_ignores_autograd_inputs() -> None:
    case = _data(6, 5, 7, 3)
    x = case["x"].requires_grad_()
    assert not pyaae.ops.parzen_log_likelihood(x, case["s"], 1.0).requires_grad


def test_reference_matches_direct_formula() -> None:
    """The reference against the formula written out in float64 with direct differences."""
    case = _data(7, 9, 11, 5, "offset")
    x, s = case["x"].double(), case["s"].double()
    d = (x[:, None, :] - s[None, :, :]).square().sum(-1)
    sig = SIGMAS.double()
    want = (torch.logsumexp(-d[:, :, None] / (2 * sig**2), 1) - math.log(11) - 2.5 * torch.log(2 * math.pi * sig**2))
    torch.testing.assert_close(_reference64(case["x"], case["s"], SIGMAS), want, rtol=1e-9, atol=1e-9)


# ---------------------------------------------------------------------------------------------
# Bad input: a clear exception naming the argument


BACKENDS_TO_CHECK = ["kernels", "reference"]
Call = Callable[..., torch.Tensor]


def _good():
    return torch.rand(4, 3), torch.rand(5, 3), torch.tensor([0.5, 1.0])


@pytest.mark.parametrize("backend", BACKENDS_TO_CHECK)
@pytest.mark.parametrize("mutate, error, match", [
    (lambda x, s, g: (x, torch.rand(5, 4), g), ValueError, "samples has 4 features"),
    (lambda x, s, g: (x[:0], s, g), ValueError, "x must hold at least one"),
    (lambda x, s, g: (x, s[:0], g), ValueError, "samples must hold at least one"),
    (lambda x, s, g: (x, s, g[:0]), ValueError, "sigmas must hold at least one"),
    (lambda x, s, g: (x, s, torch.tensor([0.5, 0.0])), ValueError, r"sigmas\[1\] = 0"),
    (lambda x, s, g: (x, s, torch.tensor([-1.0])), ValueError, r"sigmas\[0\] = -1"),
    (lambda x, s, g: (x, s, [float("nan")]), ValueError, r"sigmas\[0\] = nan"),
    (lambda x, s, g: (x, s, [float("inf")]), ValueError, r"sigmas\[0\] = inf"),
    (lambda x, s, g: (x, s, torch.ones(2, 2)), ValueError, "sigmas must be 1-D"),
    (lambda x, s, g: (x, s, "wide"), TypeError, "sigmas must be a number"),
    (lambda x, s, g: (torch.where(x > 0.5, float("nan"), x), s, g), ValueError, "x contains NaN"),
    (lambda x, s, g: (x, s.index_fill(0, torch.tensor([2]), float("inf")), g), ValueError, "samples contains NaN or Inf"),
    (lambda x, s, g: ((x * 10).long(), s, g), TypeError, "x must hold floating-point values"),
    (lambda x, s, g: (x, (s.numpy() * 10).astype(np.int32), g), TypeError, "samples must hold floating-point"),
    (lambda x, s, g: (x, s > 0.5, g), TypeError, "samples must hold floating-point"),
    (lambda x, s, g: (x[0], s, g), ValueError, "x must be 2-D"),
    (lambda x, s, g: (x, s[None], g), ValueError, "samples must be 2-D"),
    (lambda x, s, g: ([[1.0, 2.0, 3.0]], s, g), TypeError, "x must be a torch.Tensor, a NumPy array"),
])
def test_bad_input_raises(backend: str, mutate, error, match) -> None:
    with pytest.raises(error, match=match):
        pyaae.ops.parzen_log_likelihood(*mutate(*_good()), backend=backend)


EXTREME_BACKENDS = ["kernels", "reference", pytest.param("emu", marks=needs_emu)]


@pytest.mark.parametrize("backend", EXTREME_BACKENDS)
@pytest.mark.parametrize("sigma", [1e-30, 3e-20, 1e-19, 2e18, 1e23, 1e30])
def test_bandwidths_float32_cannot_compute_are_refused(backend: str, sigma: float) -> None:
    """Past [1e-18, 1e18] the float32 kernels' -1 / (2 sigma^2) overflows or vanishes and they
    returned NaN where float64 is finite."""
    x, s, _ = _good()
    with pytest.raises(ValueError, match=r"sigmas\[1\] = .* is outside \[1e-18, 1e\+18\]"):
        pyaae.ops.parzen_log_likelihood(x, s, [0.5, sigma], backend=backend)


@pytest.mark.parametrize("backend", EXTREME_BACKENDS)
def test_bandwidths_at_the_ends_of_the_range_are_defined(backend: str) -> None:
    x, s, _ = _good()
    s[0] = x[0]  # an exact duplicate: a zero distance, 0 * -1 / (2 sigma^2) at the smallest sigma
    ll = pyaae.ops.parzen_log_likelihood(x, s, [1e-18, 1e18], backend=backend)
    assert not ll.isnan().any()
    assert torch.isfinite(ll[:, 1]).all() and torch.isfinite(ll[0]).all()


def test_float64_bandwidth_range() -> None:
    x, s, _ = _good()
    assert torch.isfinite(pyaae.ops.parzen_log_likelihood(x.double(), s.double(), [1e-30, 1e30])).all()
    with pytest.raises(ValueError, match=r"sigmas\[0\] = 1e-200 is outside \[1e-150, 1e\+150\]"):
        pyaae.ops.parzen_log_likelihood(x.double(), s.double(), [1e-200])


def test_bad_backend_and_batch_size() -> None:
    with pytest.raises(ValueError, match="backend must be one of"):
        pyaae.ops.parzen_log_likelihood(*_good(), backend="gpu")
    with pytest.raises(ValueError, match="batch_size"):
        pyaae.ops.parzen_log_likelihood(*_good(), batch_size=0)


def test_binding_checks_raw_arrays() -> None:
    """The compiled function checks what Python would: no kernel sees a bad array."""
    x, s, g = (t.numpy() for t in _good())
    out = np.empty((4, 2), np.float32)
    f = pyaae._C.parzen_log_likelihood
    with pytest.raises(ValueError, match="samples has 2 columns"):
        f(x, s[:, :2].copy(), g, out, 1)
    with pytest.raises(ValueError, match="out has 3 columns, expected 2 to match sigmas"):
        f(x, s, g, np.empty((4, 3), np.float32), 1)
    with pytest.raises(ValueError, match=r"sigmas\[0\]"):
        f(x, s, np.array([-1.0, 1.0], np.float32), out, 1)
    with pytest.raises(ValueError, match="x must hold at least one"):
        f(x[:0], s, g, out[:0], 1)
    with pytest.raises(TypeError):
        f(x.astype(np.float64), s, g, out, 1)
    with pytest.raises(ValueError, match="must not overlap"):
        f(x, s, g, x.reshape(-1)[:8].reshape(4, 2), 1)


# ---------------------------------------------------------------------------------------------
# A GPU, where there is one


CUDA_REASON = pyaae.build_info()["ops"]["parzen"]["reasons"].get("kernels-cuda")


@pytest.mark.cuda
@pytest.mark.skipif(CUDA_REASON is not None or not torch.cuda.is_available(),
                    reason=f"no CUDA kernels here: {CUDA_REASON or 'no CUDA device'}")
@pytest.mark.parametrize("shape", [(1, 1, 1), (65, 70, 33), (1000, 3000, 784), (500, 2000, 8)])
def test_cuda_kernel_matches_float64(shape) -> None:
    case = _data(seed_of("cuda", shape), *shape)
    sigmas = torch.logspace(-1.5, 0.5, 17)
    ll = pyaae.ops.parzen_log_likelihood(case["x"].cuda(), case["s"].cuda(), sigmas, backend="kernels")
    assert ll.is_cuda
    assert_parzen_accurate(ll.cpu(), case["x"], case["s"], sigmas)


# ---------------------------------------------------------------------------------------------
# pyaae.eval.parzen: the protocol on top of the op


@pytest.mark.parametrize("progress", [False, True])
def test_eval_parzen_chooses_sigma_on_validation(progress: bool) -> None:
    g = torch.Generator().manual_seed(11)
    samples, x_valid, x_test = (torch.rand(n, 6, generator=g) for n in (200, 30, 40))
    result = pyaae.eval.parzen(samples, x_valid, x_test, batch_size=16, progress=progress)
    grid = torch.logspace(-1, 0, 10)
    valid = _reference64(x_valid, samples, grid).mean(0)
    assert result.sigma == pytest.approx(float(grid[int(valid.argmax())]))
    torch.testing.assert_close(result.validation, valid, rtol=1e-5, atol=1e-5)
    test = _reference64(x_test, samples, torch.tensor([result.sigma]))[:, 0]
    assert result.mean == pytest.approx(test.mean().item(), rel=1e-5)
    assert result.stderr == pytest.approx(test.std().item() / 40**0.5, rel=1e-4)


def test_parzen_model_draws_from_the_model() -> None:
    from pyaae.eval.parzen import model_samples, parzen_model

    model = pyaae.models.AAE(pyaae.priors.Gaussian(2), input_dim=16, hidden=(8,), init_std=0.5)
    x_valid, x_test = torch.rand(30, 16), torch.rand(40, 16)
    result = parzen_model(model, x_valid, x_test, num_samples=200, seed=3, progress=False)
    expected = pyaae.eval.parzen(model_samples(model, 200, seed=3), x_valid, x_test, progress=False)
    assert result.sigma == expected.sigma and result.mean == expected.mean
    with pytest.raises(ValueError, match="num_samples must be a positive integer"):
        parzen_model(model, x_valid, x_test, num_samples=0)


def test_eval_parzen_refuses_an_undefined_bandwidth() -> None:
    """sigmas=[1e-30, 0.2, 0.5] chose 1e-30 and reported a NaN mean: the argmax took NaN as the maximum."""
    g = torch.Generator().manual_seed(5)
    samples, x_valid, x_test = (torch.rand(n, 6, generator=g) for n in (50, 10, 10))
    with pytest.raises(ValueError, match=r"sigmas\[0\] = 1e-30 is outside"):
        pyaae.eval.parzen(samples, x_valid, x_test, [1e-30, 0.2, 0.5], progress=False)


def test_eval_parzen_never_chooses_a_non_finite_score(monkeypatch) -> None:
    import importlib

    protocol = importlib.import_module("pyaae.eval.parzen")  # the module, which the function of its name hides
    g = torch.Generator().manual_seed(5)
    samples, x_valid, x_test = (torch.rand(n, 6, generator=g) for n in (50, 10, 10))
    per_point = protocol._per_point

    def poisoned(x, samples, sigmas, *args):
        ll = per_point(x, samples, sigmas, *args)
        ll[:, sigmas == 0.1] = float("nan")
        return ll

    monkeypatch.setattr(protocol, "_per_point", poisoned)
    result = pyaae.eval.parzen(samples, x_valid, x_test, [0.1, 0.2, 0.5], progress=False)
    assert result.sigma in (0.2, 0.5) and math.isnan(result.validation[0]) and math.isfinite(result.mean)
    with pytest.raises(ValueError, match="no bandwidth in sigmas .* gives a finite validation log-likelihood"):
        pyaae.eval.parzen(samples, x_valid, x_test, [0.1], progress=False)
