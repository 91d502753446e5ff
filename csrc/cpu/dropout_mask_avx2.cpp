// AVX2 dropout factors: Philox4x32-10 on 8 counters, so 32 columns of a row per call, the words of
// pyaae/dropout.h bit for bit. Compiled with -mavx2 -mfma; called only after CPUID confirms them.
#include <immintrin.h>

#include <algorithm>

#include "dropout_mask.h"
#include "philox_avx2.h"

namespace pyaae::cpu {

void dropout_row_avx2(const Dropout& d, int64_t row, int64_t c0, int64_t c1, float* factors) {
  const float scale = dropout_scale(d);
  const __m256 p = _mm256_set1_ps(d.p), kept = _mm256_set1_ps(scale), unit = _mm256_set1_ps(0x1.0p-24f);
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i c1v = _mm256_set1_epi32(static_cast<int>(static_cast<uint32_t>(row)));
  const __m256i c2v = _mm256_set1_epi32(static_cast<int>(d.layer));
  const __m256i c3v = _mm256_set1_epi32(static_cast<int>(d.step));
  const uint32_t k0 = static_cast<uint32_t>(d.seed), k1 = static_cast<uint32_t>(d.seed >> 32) ^ kDropoutKeyTag;
  alignas(32) float block[4][8];
  for (int64_t first = c0 >> 2; 4 * first < c1; first += 8) {
    // Lane j holds block first + j: columns 4 (first + j) + k come from word k.
    const __m256i c0v = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(static_cast<uint32_t>(first))), lanes);
    const Words8 words = philox8(c0v, c1v, c2v, c3v, k0, k1);
    for (int k = 0; k < 4; ++k) {
      const __m256 u = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(words.w[k], 8)), unit);
      _mm256_store_ps(block[k], _mm256_and_ps(_mm256_cmp_ps(u, p, _CMP_GE_OQ), kept));
    }
    const int64_t lo = std::max(c0, 4 * first), hi = std::min(c1, 4 * (first + 8));
    for (int64_t col = lo; col < hi; ++col) factors[col - c0] = block[col & 3][(col >> 2) - first];
  }
}

}  // namespace pyaae::cpu
