"""Compile checks of the CUDA kernels, where nvcc is installed: real code for sm_80 and sm_90 with
warnings as errors, and no kernel may spill registers to local memory (ptxas -v)."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NVCC = shutil.which("nvcc") or (str(Path("/usr/local/cuda/bin/nvcc")) if Path("/usr/local/cuda/bin/nvcc").exists() else None)
SOURCES = sorted((ROOT / "csrc" / "cuda").glob("*.cu"))

pytestmark = pytest.mark.skipif(NVCC is None, reason="nvcc not found: CUDA sources cannot be compiled here")


@pytest.mark.parametrize("arch", ["sm_80", "sm_90"])
@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_kernels_compile_without_warnings_or_spills(source: Path, arch: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [NVCC, "-std=c++17", f"-arch={arch}", "-O3", "-Xptxas", "-v", "--Werror", "all-warnings",
         "-I", str(ROOT / "csrc" / "include"), "-c", str(source), "-o", str(tmp_path / "kernel.o")],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    report = result.stderr
    # One "Compiling entry function" and one resource line per kernel; print them for the log.
    print(f"{source.name} {arch}:\n" + "\n".join(l for l in report.splitlines() if "ptxas info" in l or "spill" in l))
    spills = [int(n) for n in re.findall(r"(\d+) bytes spill (?:stores|loads)", report)]
    assert spills, "ptxas -v printed no resource usage"
    assert max(spills) == 0, f"register spills in {source.name} for {arch}:\n{report}"
