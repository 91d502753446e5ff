// The one way CUDA kernels are launched: `<<<...>>>` under nvcc, the SIMT emulator
// (csrc/emu/simt.h) when a .cu source is compiled as C++ for pyaae.emu.
#pragma once

#if defined(PYAAE_CUDA_EMULATION)
#include "simt.h"
#else
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#define PYAAE_LAUNCH(kernel, grid, block, shared_bytes, stream, ...) \
  (kernel)<<<(grid), (block), (shared_bytes), (stream)>>>(__VA_ARGS__)
#endif

namespace pyaae {

// Raises std::runtime_error when the last launch failed (bad configuration, no kernel image for
// the device, ...). Does not synchronize: errors of the running kernel surface at the next sync.
inline void check_launch(const char* what) {
#if !defined(PYAAE_CUDA_EMULATION)
  const cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(err));
#else
  (void)what;
#endif
}

}  // namespace pyaae
