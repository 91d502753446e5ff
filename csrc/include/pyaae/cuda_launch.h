// The one way CUDA kernels are launched: `<<<...>>>` under nvcc, the SIMT emulator's launch (defined by
// csrc/emu/simt.h, which the emulation build includes first) when a .cu source is compiled as C++ for
// pyaae.emu.
#pragma once

#if defined(PYAAE_CUDA_EMULATION)
// The emulation build includes csrc/emu/simt.h before any CUDA source, so the core never reaches into
// the emulator; it defines PYAAE_LAUNCH.
#if !defined(PYAAE_LAUNCH)
#error "under PYAAE_CUDA_EMULATION, include csrc/emu/simt.h before the CUDA sources"
#endif
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
