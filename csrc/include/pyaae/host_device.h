// Marks per-element functions that compile for both the CPU kernels and the CUDA kernels.
// They are static: each translation unit keeps its own copy, so the copy a -mavx2 -mfma unit
// compiles can never be the one the linker hands to the portable path (one-definition merging).
#pragma once

#if defined(__CUDACC__)
#define PYAAE_HOST_DEVICE static __host__ __device__ __forceinline__
#else
#define PYAAE_HOST_DEVICE static inline
#endif
