// Marks per-element functions that compile for both the CPU kernels and the CUDA kernels.
#pragma once

#if defined(__CUDACC__)
#define PYAAE_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define PYAAE_HOST_DEVICE inline
#endif
