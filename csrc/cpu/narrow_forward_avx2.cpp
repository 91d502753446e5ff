// AVX2+FMA narrow forward pass (see narrow_forward.h): RB input rows at a time against all O weight
// rows, RB x O accumulators of 8 lanes, so that every weight load serves RB rows and at least four
// FMA chains are in flight. The last partial 8-element chunk of each row is read with a masked load.
// Compiled with -mavx2 -mfma; called only after CPUID confirms them.
#include <immintrin.h>

#include "narrow_forward.h"

namespace pyaae::cpu {
namespace {

// ((0+4)+(2+6))+((1+5)+(3+7)), the order the portable back end adds its lanes in.
inline float lane_sum(__m256 v) {
  const __m128 half = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));  // l, l+4
  const __m128 quarter = _mm_add_ps(half, _mm_movehl_ps(half, half));                      // (0,2), (1,3)
  return _mm_cvtss_f32(_mm_add_ss(quarter, _mm_shuffle_ps(quarter, quarter, 0x55)));
}

template <Activation A, int O, int RB>
void block(const LinearForwardArgs& f, int64_t i, __m256i tail_mask) {
  const int64_t k = f.in_features;
  const float* x = f.x + i * k;
  __m256 acc[RB][O];
  for (int r = 0; r < RB; ++r) {
    for (int o = 0; o < O; ++o) acc[r][o] = _mm256_setzero_ps();
  }
  int64_t p = 0;
  for (; p + 8 <= k; p += 8) {
    __m256 xv[RB];
    for (int r = 0; r < RB; ++r) xv[r] = _mm256_loadu_ps(x + r * k + p);
    for (int o = 0; o < O; ++o) {
      const __m256 wv = _mm256_loadu_ps(f.weight + o * k + p);
      for (int r = 0; r < RB; ++r) acc[r][o] = _mm256_fmadd_ps(xv[r], wv, acc[r][o]);
    }
  }
  if (p < k) {
    __m256 xv[RB];
    for (int r = 0; r < RB; ++r) xv[r] = _mm256_maskload_ps(x + r * k + p, tail_mask);
    for (int o = 0; o < O; ++o) {
      const __m256 wv = _mm256_maskload_ps(f.weight + o * k + p, tail_mask);
      for (int r = 0; r < RB; ++r) acc[r][o] = _mm256_fmadd_ps(xv[r], wv, acc[r][o]);
    }
  }
  for (int r = 0; r < RB; ++r) {
    float* y = f.y + (i + r) * O;
    for (int o = 0; o < O; ++o) {
      y[o] = activate<A>(lane_sum(acc[r][o]) + (f.bias != nullptr ? f.bias[o] : 0.0f), f.negative_slope);
    }
  }
}

template <Activation A, int O>
void rows(const LinearForwardArgs& f, int64_t row0, int64_t row1) {
  // Enough rows per block for four accumulators or more, few enough that accumulators, inputs and
  // a weight vector fit the 16 registers.
  constexpr int RB = O == 1 ? 4 : O == 2 ? 4 : O <= 4 ? 2 : 1;
  const int tail = static_cast<int>(f.in_features % 8);
  const __m256i tail_mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(tail), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  int64_t i = row0;
  for (; i + RB <= row1; i += RB) block<A, O, RB>(f, i, tail_mask);
  for (; i < row1; ++i) block<A, O, 1>(f, i, tail_mask);
}

template <Activation A>
void rows_of_width(const LinearForwardArgs& f, int64_t row0, int64_t row1) {
  switch (f.out_features) {
    case 1: return rows<A, 1>(f, row0, row1);
    case 2: return rows<A, 2>(f, row0, row1);
    case 3: return rows<A, 3>(f, row0, row1);
    case 4: return rows<A, 4>(f, row0, row1);
    case 5: return rows<A, 5>(f, row0, row1);
    case 6: return rows<A, 6>(f, row0, row1);
    case 7: return rows<A, 7>(f, row0, row1);
    default: return rows<A, 8>(f, row0, row1);
  }
}

void narrow_forward(const LinearForwardArgs& f, int64_t row0, int64_t row1) {
  dispatch_activation(f.activation, [&](auto a) { rows_of_width<decltype(a)::value>(f, row0, row1); });
}

}  // namespace

NarrowForwardFn narrow_forward_avx2() { return narrow_forward; }

}  // namespace pyaae::cpu
