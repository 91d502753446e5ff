#!/usr/bin/env bash
# Builds pyaae.emu with ThreadSanitizer and runs the emulated CUDA kernels under it. Needs the
# README's environment (cmake, ninja, pybind11, numpy). Prints TSan's reports; exits non-zero on any.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$(mktemp -d)}"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPYAAE_CUDA=0 -DPYAAE_BUILD_EMU=1 \
  -DCMAKE_CXX_FLAGS="-fsanitize=thread -O1 -g" -DCMAKE_MODULE_LINKER_FLAGS="-fsanitize=thread" \
  -Dpybind11_DIR="$(python -c 'import pybind11; print(pybind11.get_cmake_dir())')" \
  -DPython_EXECUTABLE="$(command -v python)" -DCMAKE_LIBRARY_OUTPUT_DIRECTORY="$build/pkg" > /dev/null
cmake --build "$build" --target emu > /dev/null
log="$build/tsan.log"
OPENBLAS_NUM_THREADS=1 TSAN_OPTIONS="halt_on_error=0" LD_PRELOAD="$(gcc -print-file-name=libtsan.so)" \
  python "$root/tools/tsan_emu_check.py" "$build/pkg" 2>&1 | tee "$log"
! grep -q "WARNING: ThreadSanitizer" "$log"
