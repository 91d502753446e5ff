"""Compiles every CUDA source for sm_80 and sm_90 with warnings as errors and prints each kernel's
registers, shared memory and spill bytes (ptxas -v); exits non-zero on a warning, an error or a spill.

    python tools/cuda_resources.py [--arch sm_80 --arch sm_90]

tests/test_cuda_build.py runs the same check.
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "csrc" / "cuda").glob("*.cu"))
ARCHS = ("sm_80", "sm_90")


def find_nvcc() -> Optional[str]:
    """nvcc on PATH or in /usr/local/cuda, else None."""
    default = Path("/usr/local/cuda/bin/nvcc")
    return shutil.which("nvcc") or (str(default) if default.exists() else None)


@dataclass
class KernelUsage:
    kernel: str
    registers: int
    shared_bytes: int
    spill_bytes: int


@dataclass
class Report:
    source: Path
    arch: str
    returncode: int
    log: str
    kernels: List[KernelUsage]

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and bool(self.kernels) and all(k.spill_bytes == 0 for k in self.kernels)


def compile_report(nvcc: str, source: Path, arch: str) -> Report:
    """Compile one source for one architecture and parse ptxas's per-kernel resource lines."""
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run(
            [nvcc, "-std=c++17", f"-arch={arch}", "-O3", "-Xptxas", "-v", "--Werror", "all-warnings",
             "-I", str(ROOT / "csrc" / "include"), "-c", str(source), "-o", str(Path(tmp) / "kernel.o")],
            capture_output=True, text=True, timeout=600)
    kernels = []
    # ptxas prints, per entry: "Compiling entry function '<mangled>'", then a spill line, then
    # "Used N registers, ... M bytes smem".
    for block in re.split(r"Compiling entry function '", result.stderr)[1:]:
        name = block.split("'", 1)[0]
        spills = sum(int(n) for n in re.findall(r"(\d+) bytes spill (?:stores|loads)", block))
        registers = re.search(r"Used (\d+) registers", block)
        smem = re.search(r"(\d+) bytes smem", block)
        kernels.append(KernelUsage(name, int(registers.group(1)) if registers else -1,
                                   int(smem.group(1)) if smem else 0, spills))
    return Report(source, arch, result.returncode, result.stderr, kernels)


def _demangle(names: List[str]) -> List[str]:
    if not shutil.which("c++filt"):
        return names
    out = subprocess.run(["c++filt"], input="\n".join(names), capture_output=True, text=True).stdout
    return [re.sub(r"\(anonymous namespace\)::|pyaae::", "", line)[:100] for line in out.splitlines()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", action="append", help="e.g. sm_80 (repeatable); default sm_80 and sm_90")
    args = parser.parse_args()
    nvcc = find_nvcc()
    if nvcc is None:
        print("nvcc not found: nothing to check")
        return 0
    failed = False
    for source in SOURCES:
        for arch in args.arch or ARCHS:
            report = compile_report(nvcc, source, arch)
            print(f"{source.name} {arch}: {'ok' if report.ok else 'FAILED'}")
            if report.returncode != 0:
                print(report.log)
            for usage, name in zip(report.kernels, _demangle([k.kernel for k in report.kernels])):
                print(f"  {usage.registers:4d} regs {usage.shared_bytes:6d} B smem {usage.spill_bytes:4d} B spill  {name}")
            failed |= not report.ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
