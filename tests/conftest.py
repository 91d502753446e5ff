"""Shared fixtures: every kernel back end this build can run, and thread counts."""
from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Iterator

import pytest

import pyaae

SIMD_LEVELS = (importlib.import_module("pyaae._C").supported_simd_levels()
               if pyaae.build_info()["extension_loaded"] else [])
EMU_MISSING = pyaae.build_info()["ops"]["fused_linear"]["reasons"].get("emu")
# Skips, with the reason, what needs the emulated CUDA kernels where pyaae.emu was not built.
needs_emu = pytest.mark.skipif(EMU_MISSING is not None, reason=f"pyaae.emu not available: {EMU_MISSING}")


# The original MNIST IDX files (../shared/data/mnist beside the checkout, or $PYAAE_MNIST_DIR).
MNIST_DIR = Path(os.environ.get("PYAAE_MNIST_DIR", Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"))
needs_mnist = pytest.mark.skipif(not (MNIST_DIR / "train-images-idx3-ubyte.gz").exists(),
                                 reason=f"MNIST IDX files not found in {MNIST_DIR} (set PYAAE_MNIST_DIR)")


def _kernel_backends() -> list:
    """(backend argument, SIMD level or None) for each kernel implementation built here."""
    params = [pytest.param(("kernels", level), id=f"cpu-{level}") for level in SIMD_LEVELS]
    params.append(pytest.param(("emu", None), id="cuda-emu", marks=needs_emu))
    return params


@pytest.fixture(params=_kernel_backends())
def kernel_backend(request) -> Iterator[str]:
    """The backend argument of one kernel implementation: the CPU kernels at each SIMD level, and
    the CUDA kernels under emulation. The SIMD level is restored afterwards."""
    backend, level = request.param
    if level is not None:
        pyaae.set_simd_level(level)
    try:
        yield backend
    finally:
        if level is not None:
            pyaae.set_simd_level("auto")


@pytest.fixture(params=[1, 2], ids=["threads1", "threads2"])
def num_threads(request) -> Iterator[int]:
    """Run the CPU kernels on 1 and on 2 threads."""
    pyaae.set_num_threads(request.param)
    try:
        yield request.param
    finally:
        pyaae.set_num_threads(None)


@pytest.fixture(params=SIMD_LEVELS)
def simd_level(request) -> Iterator[str]:
    """Run the CPU kernels at each SIMD level this build and processor support."""
    pyaae.set_simd_level(request.param)
    try:
        yield request.param
    finally:
        pyaae.set_simd_level("auto")


def kernel_module(backend: str):
    """The compiled module behind a kernel backend name."""
    return importlib.import_module("pyaae.emu" if backend == "emu" else "pyaae._C")
