"""Philox4x32-10 and Box-Muller in numba, with the counter layout of csrc/include/pyaae/philox.h,
and the parallel per-sample driver of NumbaPrior."""
from __future__ import annotations

import math
from typing import Callable

import numba
import numpy as np

_MASK = np.uint64(0xFFFFFFFF)


@numba.njit(inline="always")
def philox_block(seed: np.uint64, offset: np.uint64, sample: np.uint64, block: np.uint64):
    """The four words of counter (lo(sample), hi(sample), block, offset) under key (lo(seed), hi(seed))."""
    c0, c1, c2, c3 = sample & _MASK, sample >> np.uint64(32), block & _MASK, offset & _MASK
    k0, k1 = seed & _MASK, seed >> np.uint64(32)
    for r in range(10):
        if r > 0:
            k0 = (k0 + np.uint64(0x9E3779B9)) & _MASK
            k1 = (k1 + np.uint64(0xBB67AE85)) & _MASK
        p0 = np.uint64(0xD2511F53) * c0
        p1 = np.uint64(0xCD9E8D57) * c2
        c0, c1, c2, c3 = ((p1 >> np.uint64(32)) ^ c1 ^ k0) & _MASK, p1 & _MASK, \
            ((p0 >> np.uint64(32)) ^ c3 ^ k1) & _MASK, p0 & _MASK
    return c0, c1, c2, c3


@numba.njit(inline="always")
def _word(seed, offset, sample, j):
    words = philox_block(seed, offset, sample, np.uint64(j // 4))
    return words[j % 4]


def build_sampler(transform: Callable, dim: int, num_uniforms: int, num_normals: int) -> Callable:
    """A function (n, seed, offset) -> float64 array [n, dim] running ``transform`` per sample."""
    jitted = transform if hasattr(transform, "py_func") else numba.njit(transform)
    pairs = (num_normals + 1) // 2

    @numba.njit(parallel=True)
    def run(n, seed, offset):
        out = np.empty((n, dim))
        s, o = np.uint64(seed), np.uint64(offset)
        for i in numba.prange(n):
            u = np.empty(num_uniforms)
            z = np.empty(2 * pairs)
            sample = np.uint64(i)
            for j in range(num_uniforms):
                u[j] = float(_word(s, o, sample, j) >> np.uint64(8)) * 2.0**-24
            for m in range(pairs):
                a = _word(s, o, sample, num_uniforms + 2 * m)
                b = _word(s, o, sample, num_uniforms + 2 * m + 1)
                radius = math.sqrt(-2.0 * math.log((float(a >> np.uint64(8)) + 1.0) * 2.0**-24))
                angle = 2.0 * math.pi * float(b >> np.uint64(8)) * 2.0**-24
                z[2 * m] = radius * math.cos(angle)
                z[2 * m + 1] = radius * math.sin(angle)
            jitted(u, z[:num_normals], out[i])
        return out

    return run
