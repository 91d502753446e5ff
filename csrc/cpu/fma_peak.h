// Register-only FMA loops, one per SIMD back end: `iterations` steps of independent chains.
// Each returns a value derived from every chain so the compiler cannot drop the work, and
// reports the float operations performed through flops.
#pragma once

#include <cstdint>

namespace pyaae::cpu {

float fma_loop_generic(int64_t iterations, double* flops);
#if defined(PYAAE_HAVE_AVX2)
float fma_loop_avx2(int64_t iterations, double* flops);
#endif

}  // namespace pyaae::cpu
