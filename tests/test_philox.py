"""Philox4x32-10 and the kernels' random words, bit for bit.

An independent NumPy Philox4x32-10 (the oracle here) is checked against the published known-answer
vectors (Random123's kat_vectors), and then every kernel is checked against it: ``philox_block`` of
the CPU module, of the CUDA kernels under emulation and of NumbaPrior's numba version, and the words
behind ``sample_prior``'s outputs. The uniform prior on [0, 1) returns the 24-bit uniform of its word
exactly, so its samples must equal the oracle's bitwise; the component / segment / category index
is a pure function of a word too. Floats computed from the words (Box-Muller normals, the mixture's
affine map, the swiss roll's trigonometry) differ from a float64 computation on the same words by a
few ulps of float32, at most the tolerances stated below, on every SIMD level of the CPU kernels and
the emulated CUDA kernels; the CPU's portable path and the CUDA source compile to the same code on
the host, so those two agree bitwise.

Counter layout: sample i, block b of a draw under (seed, offset) is Philox4x32-10 of the counter
(lo(i), hi(i), b, offset) under the key (lo(seed), hi(seed)); a value depends on nothing else: not
on n, nor on the thread count, nor on the SIMD level, nor on CPU or CUDA.
"""
from __future__ import annotations

import importlib
from typing import Dict, Optional, Tuple

import numpy as np
import pytest
from conftest import SIMD_LEVELS, kernel_module, needs_emu

import pyaae

C = importlib.import_module("pyaae._C")
KINDS: Dict[str, int] = C.PRIOR_KINDS

# Stated tolerances, in float32 ulps at the scale of the value (see ulp_at): Box-Muller normals and
# the affine maps on them (the Gaussian and the mixture), and the swiss roll, whose angle 4 pi sqrt(u)
# multiplies the rounding of sqrt(u) by up to 4 pi. Measured at most ~7 and ~17 on 10^5 samples.
NORMAL_ULPS = 16
SWISS_ROLL_ULPS = 48

# Random123 kat_vectors, philox4x32 10 rounds: (counter words, key words, result words).
KNOWN_ANSWERS = [
    ((0x00000000, 0x00000000, 0x00000000, 0x00000000), (0x00000000, 0x00000000),
     (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF), (0xFFFFFFFF, 0xFFFFFFFF),
     (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]
KAT_IDS = ["zeros", "ones", "pi"]

# Sizes: 5 x 4096 + 13 samples make the CPU kernels split over up to 5 threads (at least 4096
# samples each) with a tail that is not a multiple of the AVX2 path's 8; the emulator runs one OS
# thread per CUDA thread, so it gets 2000 (eight 256-thread blocks, the last one partial).
N_CPU = 5 * 4096 + 13
N_EMU = 2000
SEED = 0x0123456789ABCDEF  # both key words non-zero
OFFSET = 0xC0FFEE

_MASK = np.uint64(0xFFFFFFFF)


# ---------------------------------------------------------------------------------------------
# The oracle: Philox4x32-10 on NumPy arrays (uint64 holding 32-bit words, so products do not wrap)


def philox4x32_10(counter, key) -> np.ndarray:
    """Philox4x32-10 of counters (4 arrays or ints, broadcast) under key (k0, k1): uint32 [..., 4]."""
    c0, c1, c2, c3 = np.broadcast_arrays(*(np.asarray(c, dtype=np.uint64) & _MASK for c in counter))
    k0, k1 = np.uint64(key[0]), np.uint64(key[1])
    for round_ in range(10):
        if round_ > 0:
            k0, k1 = (k0 + np.uint64(0x9E3779B9)) & _MASK, (k1 + np.uint64(0xBB67AE85)) & _MASK
        p0 = np.uint64(0xD2511F53) * c0
        p1 = np.uint64(0xCD9E8D57) * c2
        c0, c1, c2, c3 = (p1 >> np.uint64(32)) ^ c1 ^ k0, p1 & _MASK, (p0 >> np.uint64(32)) ^ c3 ^ k1, p0 & _MASK
    return np.stack([c0, c1, c2, c3], -1).astype(np.uint32)


def block_words(seed: int, offset: int, n: int, block: int) -> np.ndarray:
    """The words uint32 [n, 4] of block ``block`` of samples 0..n-1 (the kernels' counter layout)."""
    i = np.arange(n, dtype=np.uint64)
    return philox4x32_10((i, i >> np.uint64(32), block, offset), (seed & 0xFFFFFFFF, seed >> 32))


def uniform24(words: np.ndarray) -> np.ndarray:
    """The kernels' uniform in [0, 1): the word's top 24 bits / 2^24 (exact in float32 and float64)."""
    return (words >> np.uint32(8)).astype(np.float64) * 2.0**-24


def box_muller(a: np.ndarray, b: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """float64 Box-Muller of word pairs as the kernels do it: radius from (top24(a) + 1) / 2^24 in
    (0, 1], angle 2 pi top24(b) / 2^24. Returns (z0, z1, radius)."""
    radius = np.sqrt(-2.0 * np.log(((a >> np.uint32(8)).astype(np.float64) + 1.0) * 2.0**-24))
    angle = 2.0 * np.pi * uniform24(b)
    return radius * np.cos(angle), radius * np.sin(angle), radius


def normals(seed: int, offset: int, n: int, first_block: int, count: int) -> Tuple[np.ndarray, np.ndarray]:
    """Standard normals [n, count] of blocks first_block.. (two pairs a block) and the radius of each
    normal's pair, as the kernels lay them out."""
    zs, radii = [], []
    for block in range(first_block, first_block + (count + 3) // 4):
        w = block_words(seed, offset, n, block)
        z0, z1, r01 = box_muller(w[:, 0], w[:, 1])
        z2, z3, r23 = box_muller(w[:, 2], w[:, 3])
        zs += [z0, z1, z2, z3]
        radii += [r01, r01, r23, r23]
    return np.stack(zs[:count], 1), np.stack(radii[:count], 1)


def pick(cdf: np.ndarray, words: np.ndarray) -> np.ndarray:
    """The component of each word: the first k with uniform < cdf[k] (float32 comparison), else the last."""
    u = uniform24(words).astype(np.float32)
    return np.minimum(np.searchsorted(cdf.astype(np.float32)[:-1], u, side="right"), cdf.shape[0] - 1)


def ulp_at(scale: np.ndarray) -> np.ndarray:
    """The float32 ulp at max(|scale|, 1): errors are measured against the size of the terms that made
    a value (a normal near 0 from a large radius carries that radius's rounding)."""
    return np.spacing(np.maximum(np.abs(scale), 1.0).astype(np.float32)).astype(np.float64)


def assert_within_ulps(name: str, value: np.ndarray, reference: np.ndarray, scale: np.ndarray, ulps: float) -> None:
    err = np.abs(value.astype(np.float64) - reference) / ulp_at(scale)
    worst = np.unravel_index(np.argmax(err), err.shape)
    assert err.max() <= ulps, (f"{name}: {err.max():.1f} ulps > {ulps} at {tuple(int(i) for i in worst)}: "
                               f"{value[worst]!r} vs {reference[worst]!r}")


# ---------------------------------------------------------------------------------------------
# Calling the kernels directly


def sample(module, kind: str, n: int, dim: int, *, loc=None, scale=None, cdf=None, noise_std: float = 0.0,
           labels: Optional[np.ndarray] = None, seed: int = SEED, offset: int = OFFSET,
           num_threads: int = 1) -> Tuple[np.ndarray, np.ndarray]:
    """``sample_prior`` into outputs poisoned with NaN and -7 (so a skipped element fails), as float32
    parameters; returns (out [n, dim], index [n])."""
    as32 = lambda a: None if a is None else np.ascontiguousarray(a, dtype=np.float32)  # noqa: E731
    out = np.full((n, dim), np.nan, dtype=np.float32)
    index = np.full(n, -7, dtype=np.int64)
    module.sample_prior(KINDS[kind], out, index, as32(loc), as32(scale), as32(cdf), noise_std, labels, seed,
                        offset, num_threads)
    return out, index


def simd_modules():
    """(module, SIMD level or None) for each kernel implementation, as pytest params."""
    params = [pytest.param(("kernels", level), id=f"cpu-{level}") for level in SIMD_LEVELS]
    params.append(pytest.param(("emu", None), id="cuda-emu", marks=needs_emu))
    return params


@pytest.fixture(params=simd_modules())
def kernels(request):
    """(compiled module, n): the CPU kernels at each SIMD level (restored afterwards), and the CUDA
    kernels under emulation with the emulator's smaller n."""
    backend, level = request.param
    if level is not None:
        pyaae.set_simd_level(level)
    try:
        yield kernel_module(backend), N_EMU if backend == "emu" else N_CPU
    finally:
        if level is not None:
            pyaae.set_simd_level("auto")


# ---------------------------------------------------------------------------------------------
# Known answers


@pytest.mark.parametrize("counter, key, expected", KNOWN_ANSWERS, ids=KAT_IDS)
def test_oracle_known_answers(counter, key, expected) -> None:
    assert tuple(int(w) for w in philox4x32_10(counter, key)) == expected


@pytest.mark.parametrize("module_name", ["pyaae._C", pytest.param("pyaae.emu", marks=needs_emu)])
@pytest.mark.parametrize("counter, key, expected", KNOWN_ANSWERS, ids=KAT_IDS)
def test_philox_block_known_answers(module_name: str, counter, key, expected) -> None:
    """philox_block(seed, offset, sample, block) runs counter (lo(sample), hi(sample), block, offset)
    under key (lo(seed), hi(seed))."""
    module = importlib.import_module(module_name)
    seed = key[0] | key[1] << 32
    assert tuple(module.philox_block(seed, counter[3], counter[0] | counter[1] << 32, counter[2])) == expected


def test_numba_philox_known_answers() -> None:
    """NumbaPrior's Philox (pyaae/priors/_numba_philox.py) with the same counter layout."""
    pytest.importorskip("numba")
    philox_block = importlib.import_module("pyaae.priors._numba_philox").philox_block
    for counter, key, expected in KNOWN_ANSWERS:
        words = philox_block(np.uint64(key[0] | key[1] << 32), np.uint64(counter[3]),
                             np.uint64(counter[0] | counter[1] << 32), np.uint64(counter[2]))
        assert tuple(int(w) for w in words) == expected


def test_philox_block_matches_oracle_on_random_counters() -> None:
    """Every word of the counter matters and lands where the layout says (samples past 2^32 too)."""
    rng = np.random.default_rng(20240601)
    for _ in range(200):
        seed, sample_ = (int(v) for v in rng.integers(0, 2**64, size=2, dtype=np.uint64))
        offset, block = (int(v) for v in rng.integers(0, 2**32, size=2, dtype=np.uint64))
        expected = philox4x32_10((sample_ & 0xFFFFFFFF, sample_ >> 32, block, offset), (seed & 0xFFFFFFFF, seed >> 32))
        assert C.philox_block(seed, offset, sample_, block) == tuple(int(w) for w in expected)


def test_philox_block_rejects_words_past_32_bits() -> None:
    C.philox_block(2**64 - 1, 2**32 - 1, 2**64 - 1, 2**32 - 1)  # the largest of each: accepted
    with pytest.raises(ValueError, match="offset and block must be < 2\\*\\*32"):
        C.philox_block(0, 2**32, 0, 0)
    with pytest.raises(ValueError, match="offset and block must be < 2\\*\\*32"):
        C.philox_block(0, 0, 0, 2**32)


# ---------------------------------------------------------------------------------------------
# The words behind sample_prior


@pytest.mark.parametrize("dim", [1, 4, 7, 9])
def test_uniform_is_the_24_bit_uniform_of_its_word(kernels, dim: int) -> None:
    """Uniform on [0, 1): column d of sample i is top24(word d % 4 of block d // 4) / 2^24, bitwise,
    on every SIMD level and under emulated CUDA."""
    module, n = kernels
    out, _ = sample(module, "uniform", n, dim, loc=np.zeros(dim), scale=np.ones(dim), num_threads=2)
    expected = np.concatenate([uniform24(block_words(SEED, OFFSET, n, b)) for b in range((dim + 3) // 4)], 1)
    np.testing.assert_array_equal(out, expected[:, :dim])


@pytest.mark.parametrize("kind", ["categorical", "mixture", "swiss_roll"])
def test_index_is_the_component_of_word_0(kernels, kind: str) -> None:
    """Category, mixture component and swiss-roll segment come from word 0 of block 0 through the
    cumulative weights, bitwise (uneven weights, one of them zero: never drawn)."""
    module, n = kernels
    weights = np.array([0.1, 0.0, 0.25, 0.15, 0.5]) if kind != "swiss_roll" else np.full(10, 0.1)
    cdf = np.cumsum(weights)
    cdf[-1] = 1.0
    k, dim = len(weights), {"categorical": len(weights), "mixture": 2, "swiss_roll": 2}[kind]
    loc = scale = None
    if kind == "mixture":
        loc, scale = np.zeros((k, dim)), np.broadcast_to(np.eye(dim), (k, dim, dim))
    out, index = sample(module, kind, n, dim, loc=loc, scale=scale, cdf=cdf, num_threads=2)
    expected = pick(cdf, block_words(SEED, OFFSET, n, 0)[:, 0])
    np.testing.assert_array_equal(index, expected)
    assert kind == "swiss_roll" or not (index == 1).any()
    if kind == "categorical":
        np.testing.assert_array_equal(out, np.eye(k, dtype=np.float32)[expected])


def test_labels_override_word_0(kernels) -> None:
    """A label >= 0 is the index, whatever word 0 says; -1 leaves word 0's choice."""
    module, n = kernels
    cdf = np.linspace(0.1, 1.0, 10)
    labels = np.random.default_rng(5).integers(-1, 10, size=n).astype(np.int64)
    for kind, loc, scale in (("mixture", np.zeros((10, 2)), np.broadcast_to(np.eye(2), (10, 2, 2))),
                             ("swiss_roll", None, None)):
        _, index = sample(module, kind, n, 2, loc=loc, scale=scale, cdf=cdf, labels=labels, num_threads=2)
        drawn = pick(cdf, block_words(SEED, OFFSET, n, 0)[:, 0])
        np.testing.assert_array_equal(index, np.where(labels >= 0, labels, drawn), err_msg=kind)


def test_gaussian_normals_within_stated_ulps(kernels) -> None:
    """N(0, 1) in 7-D: column d of sample i is Box-Muller of words (0, 1) or (2, 3) of block d // 4,
    within NORMAL_ULPS of a float64 computation on the same words."""
    module, n = kernels
    dim = 7
    out, _ = sample(module, "gaussian", n, dim, loc=np.zeros(dim), scale=np.ones(dim), num_threads=2)
    z, radius = normals(SEED, OFFSET, n, 0, dim)
    assert_within_ulps("gaussian", out, z, radius, NORMAL_ULPS)


def test_gaussian_affine_within_stated_ulps(kernels) -> None:
    module, n = kernels
    mean, std = np.array([0.0, -3.0, 100.0, 0.5, 7.0]), np.array([1.0, 0.25, 5.0, 2.0, 1e-3])
    out, _ = sample(module, "gaussian", n, 5, loc=mean, scale=std, num_threads=2)
    z, radius = normals(SEED, OFFSET, n, 0, 5)
    mean32, std32 = mean.astype(np.float32).astype(np.float64), std.astype(np.float32).astype(np.float64)
    assert_within_ulps("gaussian", out, mean32 + std32 * z, np.abs(mean32) + std32 * radius, NORMAL_ULPS)


def test_mixture_within_stated_ulps(kernels) -> None:
    """mean_k + L_k z with the component k from word 0 of block 0 and z from blocks 1.. (3-D, full
    Cholesky factors, uneven weights)."""
    module, n = kernels
    means = np.array([[0.0, 0.0, 0.0], [3.0, -1.0, 2.0], [-20.0, 5.0, 0.5]])
    chol = np.linalg.cholesky(np.array([np.eye(3), [[2.0, 0.5, 0.3], [0.5, 1.0, 0.2], [0.3, 0.2, 0.5]],
                                        np.diag([0.01, 4.0, 1.0])])).astype(np.float32)
    cdf = np.array([0.2, 0.5, 1.0])
    out, index = sample(module, "mixture", n, 3, loc=means, scale=chol, cdf=cdf, num_threads=2)
    k = pick(cdf, block_words(SEED, OFFSET, n, 0)[:, 0])
    np.testing.assert_array_equal(index, k)
    z, radius = normals(SEED, OFFSET, n, 1, 3)
    chol64 = chol.astype(np.float64)
    expected = means[k] + np.einsum("nij,nj->ni", chol64[k], z)
    assert_within_ulps("mixture", out, expected, np.abs(means[k]) + np.einsum("nij,nj->ni", np.abs(chol64[k]), radius),
                       NORMAL_ULPS)


@pytest.mark.parametrize("noise_std", [0.0, 0.1])
def test_swiss_roll_within_stated_ulps(kernels, noise_std: float) -> None:
    """Segment s from word 0, arc parameter u = (s + top24(word 1) / 2^24) / S, point
    3 sqrt(u) (cos 4 pi sqrt(u), sin 4 pi sqrt(u)), noise from words 2 and 3."""
    module, n = kernels
    segments = 10
    cdf = np.arange(1, segments + 1) / segments
    out, index = sample(module, "swiss_roll", n, 2, cdf=cdf, noise_std=noise_std, num_threads=2)
    w = block_words(SEED, OFFSET, n, 0)
    np.testing.assert_array_equal(index, pick(cdf, w[:, 0]))
    root = np.sqrt((index + uniform24(w[:, 1])) / segments)
    z0, z1, radius = box_muller(w[:, 2], w[:, 3])
    expected = 3 * root[:, None] * np.stack([np.cos(4 * np.pi * root), np.sin(4 * np.pi * root)], 1)
    expected += noise_std * np.stack([z0, z1], 1)
    assert_within_ulps("swiss roll", out, expected, 3 + noise_std * radius[:, None], SWISS_ROLL_ULPS)


# ---------------------------------------------------------------------------------------------
# CPU against CUDA (emulated)

PARAMS = {
    "gaussian": dict(dim=5, loc=np.array([0.0, 1.0, -2.0, 3.0, 0.5]), scale=np.array([1.0, 2.0, 0.5, 5.0, 1.0])),
    "uniform": dict(dim=6, loc=np.zeros(6), scale=np.ones(6)),
    "mixture": dict(dim=2, loc=np.array([[1.4, 0.0], [0.0, 1.4], [-1.4, 0.0]]),
                    scale=np.array([[[0.5, 0.0], [0.0, 0.05]], [[0.05, 0.0], [0.0, 0.5]], [[0.5, 0.0], [0.0, 0.05]]]),
                    cdf=np.array([0.3, 0.6, 1.0])),
    "swiss_roll": dict(dim=2, cdf=np.arange(1, 11) / 10, noise_std=0.05),
    "categorical": dict(dim=4, cdf=np.array([0.1, 0.3, 0.6, 1.0])),
}
# How close the CPU and the CUDA kernels must be: exact where a value is a word's uniform or an
# index; otherwise both within the stated tolerance of float64, so within twice it of each other.
CROSS_ULPS = {"gaussian": 2 * NORMAL_ULPS, "mixture": 2 * NORMAL_ULPS, "swiss_roll": 2 * SWISS_ROLL_ULPS,
              "uniform": 0, "categorical": 0}


@needs_emu
@pytest.mark.parametrize("simd_level", SIMD_LEVELS)
@pytest.mark.parametrize("kind", list(PARAMS))
def test_cpu_and_emulated_cuda_agree(kind: str, simd_level: str) -> None:
    """Same words, so the same index and uniforms bitwise; floats within CROSS_ULPS (at the scale of
    the largest value of the prior's kind); the portable CPU path is bitwise the CUDA source."""
    params = dict(PARAMS[kind])
    dim = params.pop("dim")
    pyaae.set_simd_level(simd_level)
    try:
        cpu, cpu_index = sample(C, kind, N_EMU, dim, **params, num_threads=2)
    finally:
        pyaae.set_simd_level("auto")
    cuda, cuda_index = sample(kernel_module("emu"), kind, N_EMU, dim, **params)
    np.testing.assert_array_equal(cpu_index, cuda_index)
    if simd_level == "generic" or CROSS_ULPS[kind] == 0:
        np.testing.assert_array_equal(cpu, cuda)
    else:
        scale = np.full_like(cuda, np.abs(cuda).max(), dtype=np.float64)
        assert_within_ulps(kind, cpu, cuda.astype(np.float64), scale, CROSS_ULPS[kind])


# ---------------------------------------------------------------------------------------------
# What a value depends on: (seed, offset, sample, block) and nothing else


@pytest.mark.parametrize("simd_level", SIMD_LEVELS)
@pytest.mark.parametrize("kind", list(PARAMS))
def test_thread_count_does_not_change_samples(kind: str, simd_level: str) -> None:
    """1, 2, 3 and 5 threads (N_CPU splits into 5 ranges of >= 4096 samples): bitwise the same."""
    params = dict(PARAMS[kind])
    dim = params.pop("dim")
    pyaae.set_simd_level(simd_level)
    try:
        results = {t: sample(C, kind, N_CPU, dim, **params, num_threads=t) for t in (1, 2, 3, 5)}
    finally:
        pyaae.set_simd_level("auto")
    for threads, (out, index) in results.items():
        assert not np.isnan(out).any(), f"{threads} threads left elements unwritten"
        np.testing.assert_array_equal(out, results[1][0], err_msg=f"{threads} threads")
        np.testing.assert_array_equal(index, results[1][1], err_msg=f"{threads} threads")


@pytest.mark.parametrize("kind", list(PARAMS))
def test_prefix_does_not_depend_on_n(kernels, kind: str) -> None:
    """The first m samples of a draw of n are the draw of m (on every module): a sample's value is a
    function of its own counter."""
    module, n = kernels
    params = dict(PARAMS[kind])
    dim = params.pop("dim")
    full, full_index = sample(module, kind, n, dim, **params, num_threads=2)
    for m in (0, 1, 9, n // 3):
        part, part_index = sample(module, kind, m, dim, **params, num_threads=2)
        np.testing.assert_array_equal(part, full[:m])
        np.testing.assert_array_equal(part_index, full_index[:m])


@pytest.mark.parametrize("kind", list(PARAMS))
def test_same_seed_same_samples_other_seed_or_offset_others(kind: str) -> None:
    params = dict(PARAMS[kind])
    dim = params.pop("dim")
    n = 4096
    base, _ = sample(C, kind, n, dim, **params)
    np.testing.assert_array_equal(sample(C, kind, n, dim, **params)[0], base)
    for change in ({"seed": SEED + 1}, {"seed": SEED ^ 1 << 40}, {"offset": OFFSET + 1}, {"offset": 0}):
        other, _ = sample(C, kind, n, dim, **params, **change)
        rows_same = (other == base).all(1).mean()
        # A one-hot row of 4 categories repeats by chance (Σ p² = 0.34); continuous rows never do.
        limit = 0.45 if kind == "categorical" else 1e-3
        assert rows_same < limit, f"{change}: {rows_same:.1%} of rows unchanged"


def test_extreme_seed_and_offset_words() -> None:
    """The largest seed and offset are valid counters/keys, and match the oracle."""
    seed, offset = 2**64 - 1, 2**32 - 1
    out, _ = sample(C, "uniform", 64, 4, loc=np.zeros(4), scale=np.ones(4), seed=seed, offset=offset)
    np.testing.assert_array_equal(out, uniform24(block_words(seed, offset, 64, 0)))
    with pytest.raises(ValueError, match="offset must be < 2\\*\\*32"):
        sample(C, "uniform", 4, 4, loc=np.zeros(4), scale=np.ones(4), offset=2**32)
