#include <immintrin.h>

#include "fma_peak.h"

namespace pyaae::cpu {

float fma_loop_avx2(int64_t iterations, double* flops) {
  // 12 independent chains: enough to hide a 4-5 cycle FMA latency on two FMA ports.
  constexpr int kChains = 12;
  __m256 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm256_set1_ps(0.001f * static_cast<float>(i));
  const __m256 mul = _mm256_set1_ps(0.999999f), add = _mm256_set1_ps(1e-7f);
  for (int64_t it = 0; it < iterations; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < kChains; ++i) acc[i] = _mm256_fmadd_ps(acc[i], mul, add);
  }
  __m256 sum = acc[0];
  for (int i = 1; i < kChains; ++i) sum = _mm256_add_ps(sum, acc[i]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, sum);
  *flops = 2.0 * 8.0 * kChains * static_cast<double>(iterations);
  return lanes[0] + lanes[7];
}

}  // namespace pyaae::cpu
