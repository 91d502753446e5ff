"""Builds pyaae._C with CMake. Build switches are environment variables (docs/internals.md):
PYAAE_CUDA=auto|0|1, PYAAE_CUDA_ARCHS, PYAAE_BUILD_EMU=1, CMAKE_BUILD_PARALLEL_LEVEL."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent


class CMakeExtension(Extension):
    def __init__(self, name: str) -> None:
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    """One CMake build produces every extension module (pyaae._C, and pyaae.emu when asked for)."""

    def build_extensions(self) -> None:
        ext = self.extensions[0]
        extdir = Path(self.get_ext_fullpath(ext.name)).resolve().parent
        cuda_mode = os.environ.get("PYAAE_CUDA", "auto").strip().lower() or "auto"
        if cuda_mode not in ("auto", "0", "1"):
            raise SystemExit(f"PYAAE_CUDA must be auto, 0 or 1, got {cuda_mode!r}")
        try:
            self._cmake(ext, extdir, cuda_mode)
        except subprocess.CalledProcessError:
            if cuda_mode != "auto":
                raise
            # An optional CUDA build that fails must not cost the user the CPU kernels.
            print("pyaae: the CUDA build failed; building the CPU kernels only", file=sys.stderr)
            self._cmake(ext, extdir, "0", reason="the CUDA build failed at install time (PYAAE_CUDA=auto)")

    def _cmake(self, ext: Extension, extdir: Path, cuda_mode: str, reason: str = "") -> None:
        import pybind11

        build_temp = Path(self.build_temp).resolve() / f"{ext.name}-cuda{cuda_mode}"
        build_temp.mkdir(parents=True, exist_ok=True)
        config = "Debug" if self.debug else os.environ.get("PYAAE_BUILD_TYPE", "Release")
        args = [
            f"-DCMAKE_LIBRARY_OUTPUT_DIRECTORY={extdir}{os.sep}",
            f"-DPython_EXECUTABLE={sys.executable}",
            f"-Dpybind11_DIR={pybind11.get_cmake_dir()}",
            f"-DCMAKE_BUILD_TYPE={config}",
            f"-DPYAAE_CUDA={cuda_mode}",
            f"-DPYAAE_BUILD_EMU={os.environ.get('PYAAE_BUILD_EMU', '0')}",
        ]
        if reason:
            args.append(f"-DPYAAE_CUDA_SKIP_REASON_OVERRIDE={reason}")
        if os.environ.get("PYAAE_CUDA_ARCHS"):
            args.append(f"-DPYAAE_CUDA_ARCHS={os.environ['PYAAE_CUDA_ARCHS']}")
        if shutil.which("ninja"):
            args.append("-GNinja")
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL") or str(os.cpu_count() or 1)
        subprocess.run(["cmake", str(ROOT), *args], cwd=build_temp, check=True)
        subprocess.run(["cmake", "--build", ".", "--config", config, "--parallel", jobs],
                       cwd=build_temp, check=True)


EXTENSIONS = [CMakeExtension("pyaae._C")]
if os.environ.get("PYAAE_BUILD_EMU", "0") == "1":
    EXTENSIONS.append(CMakeExtension("pyaae.emu"))

setup(ext_modules=EXTENSIONS, cmdclass={"build_ext": CMakeBuild})
