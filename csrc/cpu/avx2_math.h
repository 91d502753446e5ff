// AVX2+FMA versions of the activations for the GEMM epilogue (8 floats at a time). exp follows
// Cephes' expf (range reduction by ln 2, degree-5 polynomial, about 1 ulp); tanh uses Cephes'
// odd polynomial near 0, where 1 - 2 / (exp(2x) + 1) would lose relative accuracy. Every clamp puts
// x second in min/max so that a NaN passes through, as it does in PyTorch. Only for sources
// compiled with -mavx2 -mfma.
#pragma once

#include <immintrin.h>

#include <cmath>

#include "pyaae/activation.h"

namespace pyaae::cpu::avx2 {

inline __m256 exp_ps(__m256 x) {
  // Past the clamps the result is what expf gives: +inf above, 0 below (so sigmoid(-inf) is 0).
  const __m256 overflow = _mm256_cmp_ps(x, _mm256_set1_ps(88.7228391f), _CMP_GT_OQ);
  const __m256 underflow = _mm256_cmp_ps(x, _mm256_set1_ps(-103.972084f), _CMP_LT_OQ);
  x = _mm256_min_ps(_mm256_set1_ps(88.3762626647949f), x);
  x = _mm256_max_ps(_mm256_set1_ps(-87.3365447504f), x);
  __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  x = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  x = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), x);
  __m256 y = _mm256_set1_ps(1.9875691500E-4f);
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.3981999507E-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(8.3334519073E-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(4.1665795894E-2f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.6666665459E-1f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(5.0000001201E-1f));
  y = _mm256_fmadd_ps(y, _mm256_mul_ps(x, x), _mm256_add_ps(x, _mm256_set1_ps(1.0f)));
  const __m256i pow2n = _mm256_slli_epi32(
      _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  y = _mm256_mul_ps(y, _mm256_castsi256_ps(pow2n));
  y = _mm256_blendv_ps(y, _mm256_set1_ps(INFINITY), overflow);
  return _mm256_andnot_ps(underflow, y);
}

inline __m256 sigmoid_ps(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  return _mm256_div_ps(one, _mm256_add_ps(one, exp_ps(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}

inline __m256 tanh_ps(__m256 x) {
  const __m256 sign = _mm256_and_ps(x, _mm256_set1_ps(-0.0f));
  const __m256 ax = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
  const __m256 z = _mm256_mul_ps(x, x);
  __m256 small = _mm256_set1_ps(-5.70498872745E-3f);
  small = _mm256_fmadd_ps(small, z, _mm256_set1_ps(2.06390887954E-2f));
  small = _mm256_fmadd_ps(small, z, _mm256_set1_ps(-5.37397155531E-2f));
  small = _mm256_fmadd_ps(small, z, _mm256_set1_ps(1.33314422036E-1f));
  small = _mm256_fmadd_ps(small, z, _mm256_set1_ps(-3.33332819422E-1f));
  small = _mm256_fmadd_ps(_mm256_mul_ps(small, z), x, x);
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 e = exp_ps(_mm256_add_ps(ax, ax));
  __m256 large = _mm256_sub_ps(one, _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e, one)));
  large = _mm256_or_ps(large, sign);
  const __m256 use_small = _mm256_cmp_ps(ax, _mm256_set1_ps(0.625f), _CMP_LT_OQ);
  // NaN compares false and takes the large branch, whose arithmetic keeps it NaN.
  return _mm256_blendv_ps(large, small, use_small);
}

template <Activation A>
inline __m256 activate_ps(__m256 x, __m256 negative_slope) {
  if constexpr (A == Activation::Identity) {
    return x;
  } else if constexpr (A == Activation::ReLU) {
    return _mm256_max_ps(_mm256_setzero_ps(), x);
  } else if constexpr (A == Activation::LeakyReLU) {
    const __m256 positive = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GT_OQ);
    return _mm256_blendv_ps(_mm256_mul_ps(x, negative_slope), x, positive);
  } else if constexpr (A == Activation::Sigmoid) {
    return sigmoid_ps(x);
  } else {
    return tanh_ps(x);
  }
}

// activation_grad_from_output (pyaae/activation.h), 8 outputs at a time.
template <Activation A>
inline __m256 activation_grad_ps(__m256 y, __m256 negative_slope) {
  const __m256 one = _mm256_set1_ps(1.0f);
  if constexpr (A == Activation::Identity) {
    return one;
  } else if constexpr (A == Activation::ReLU) {
    return _mm256_and_ps(_mm256_cmp_ps(y, _mm256_setzero_ps(), _CMP_NLE_UQ), one);
  } else if constexpr (A == Activation::LeakyReLU) {
    return _mm256_blendv_ps(negative_slope, one, _mm256_cmp_ps(y, _mm256_setzero_ps(), _CMP_GT_OQ));
  } else if constexpr (A == Activation::Sigmoid) {
    return _mm256_mul_ps(y, _mm256_sub_ps(one, y));
  } else {
    return _mm256_fnmadd_ps(y, y, one);
  }
}

}  // namespace pyaae::cpu::avx2
