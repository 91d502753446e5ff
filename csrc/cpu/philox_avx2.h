// Philox4x32-10 on 8 counters at once with AVX2 (two 32x32 -> 64-bit multiplies per round, even and
// odd lanes): the words of pyaae/philox.h bit for bit. Included only by sources compiled with -mavx2.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace pyaae::cpu {

struct Words8 {
  __m256i w[4];
};

// 32x32 -> 64-bit products of 8 lanes: (hi, lo) halves, lane order preserved.
inline void mulhilo8(__m256i a, uint32_t m, __m256i* hi, __m256i* lo) {
  const __m256i mul = _mm256_set1_epi32(static_cast<int>(m));
  const __m256i even = _mm256_mul_epu32(a, mul);                        // lanes 0,2,4,6 -> 64-bit
  const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), mul);  // lanes 1,3,5,7 -> 64-bit
  *lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
  *hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
}

// Philox4x32-10 of the 8 counters (c0[j], c1[j], c2[j], c3[j]) under the key (k0, k1).
inline Words8 philox8(__m256i c0, __m256i c1, __m256i c2, __m256i c3, uint32_t k0, uint32_t k1) {
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    __m256i hi0, lo0, hi1, lo1;
    mulhilo8(c0, 0xD2511F53u, &hi0, &lo0);
    mulhilo8(c2, 0xCD9E8D57u, &hi1, &lo1);
    const __m256i n0 = _mm256_xor_si256(_mm256_xor_si256(hi1, c1), _mm256_set1_epi32(static_cast<int>(k0)));
    const __m256i n2 = _mm256_xor_si256(_mm256_xor_si256(hi0, c3), _mm256_set1_epi32(static_cast<int>(k1)));
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
  }
  return {{c0, c1, c2, c3}};
}

}  // namespace pyaae::cpu
