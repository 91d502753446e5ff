"""Choice of the CPU kernels' SIMD path (also set by the PYAAE_SIMD environment variable)."""
from __future__ import annotations

from ._extension import require_extension


def set_simd_level(level: str) -> None:
    """Use the 'generic' (portable C++) or 'avx2' (AVX2+FMA) CPU kernels, or 'auto' for the best one
    this processor supports. Raises ValueError for an unknown or unsupported level."""
    require_extension().set_simd_level(level)


def get_simd_level() -> str:
    """The SIMD path the CPU kernels use now: 'avx2' or 'generic'."""
    return require_extension().simd_level()
