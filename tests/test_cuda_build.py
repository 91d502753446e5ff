"""Compile checks of the CUDA kernels, where nvcc is installed: real code for sm_80 and sm_90 with
warnings as errors, and no kernel may spill registers to local memory (ptxas -v). The table of
registers, shared memory and spills: ``python tools/cuda_resources.py``."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "cuda_resources", Path(__file__).resolve().parent.parent / "tools" / "cuda_resources.py")
cuda_resources = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = cuda_resources  # dataclasses look their module up there
_spec.loader.exec_module(cuda_resources)

NVCC = cuda_resources.find_nvcc()
pytestmark = pytest.mark.skipif(NVCC is None, reason="nvcc not found: CUDA sources cannot be compiled here")


@pytest.mark.parametrize("arch", cuda_resources.ARCHS)
@pytest.mark.parametrize("source", cuda_resources.SOURCES, ids=lambda p: p.name)
def test_kernels_compile_without_warnings_or_spills(source: Path, arch: str) -> None:
    report = cuda_resources.compile_report(NVCC, source, arch)
    assert report.returncode == 0, report.log
    assert report.kernels, f"ptxas -v printed no resource usage:\n{report.log}"
    spilling = [k.kernel for k in report.kernels if k.spill_bytes]
    assert not spilling, f"register spills in {source.name} for {arch}: {spilling}"
