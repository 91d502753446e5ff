"""The prior-sampling kernels agree with each other: the AVX2 path, the portable path and the CUDA
kernel (through the emulator) draw the same Philox words, so indices and uniforms are identical and
the floats (through different log/sin/cos) agree within 2^-17 x max(1, |value|), as docs/internals.md states."""
from __future__ import annotations

import pytest
import torch
from conftest import SIMD_LEVELS, needs_emu

import pyaae

PRIORS = {
    "gaussian": lambda: pyaae.priors.Gaussian(11, mean=[0.5] * 11, std=[2.0] * 11),
    "mixture": lambda: pyaae.priors.GaussianMixture.paper_preset(),
    "mixture-5d": lambda: pyaae.priors.GaussianMixture(torch.randn(4, 5, generator=torch.Generator().manual_seed(0)),
                                                       torch.eye(5).expand(4, 5, 5) * 0.3, [0.1, 0.2, 0.3, 0.4]),
    "swiss_roll": lambda: pyaae.priors.SwissRoll(10, noise_std=0.05),
    "uniform": lambda: pyaae.priors.Uniform(3, low=-1.0, high=[1.0, 2.0, 3.0]),
    "categorical": lambda: pyaae.priors.Categorical([0.1, 0.6, 0.3]),
}
TOLERANCE = 2.0**-17


def _draw(prior, backend: str, level: str, n: int, labels=None):
    pyaae.set_simd_level(level)
    try:
        return prior.sample(n, labels=labels, seed=2026, offset=5, backend=backend, return_index=True)
    finally:
        pyaae.set_simd_level("auto")


def _assert_agree(a, b) -> None:
    (x, i), (y, j) = a, b
    assert torch.equal(i, j), "component / segment / category indices differ"
    bound = TOLERANCE * torch.clamp(torch.maximum(x.abs(), y.abs()), min=1.0)
    assert ((x - y).abs() <= bound).all(), f"max difference {(x - y).abs().max().item():.3g}"


@pytest.mark.skipif("avx2" not in SIMD_LEVELS, reason="no AVX2 on this machine")
@pytest.mark.parametrize("name", list(PRIORS))
def test_avx2_and_portable_paths_agree(name: str) -> None:
    prior = PRIORS[name]()
    n = 20011  # not a multiple of 8: the vector loop's scalar tail runs too
    labels = torch.randint(-1, prior.num_classes, (n,)) if name in ("mixture", "swiss_roll") else None
    _assert_agree(_draw(prior, "kernels", "avx2", n, labels), _draw(prior, "kernels", "generic", n, labels))


@needs_emu
@pytest.mark.parametrize("name", list(PRIORS))
def test_cpu_and_emulated_cuda_kernels_agree(name: str) -> None:
    prior = PRIORS[name]()
    cpu = _draw(prior, "kernels", SIMD_LEVELS[-1], 1500)
    emulated = _draw(prior, "emu", SIMD_LEVELS[-1], 1500)
    _assert_agree(cpu, emulated)


@needs_emu
def test_cpu_and_emulated_cuda_kernels_draw_identical_words() -> None:
    """On the unit box a sample is its word's top 24 bits times 2^-24, exactly: the CPU (every SIMD
    level) and the emulated CUDA kernel must agree bit for bit."""
    unit_box = pyaae.priors.Uniform(5)
    emulated = _draw(unit_box, "emu", SIMD_LEVELS[-1], 1500)[0]
    for level in SIMD_LEVELS:
        assert torch.equal(_draw(unit_box, "kernels", level, 1500)[0], emulated), level
