// AVX2+FMA versions of the activations for the GEMM epilogue (8 floats at a time). exp_ps follows
// Cephes' expf (range reduction by ln 2, degree-5 polynomial, about 1 ulp) and serves the Parzen
// kernel. The epilogue's sigmoid and tanh are computed in double and rounded once (0.50 ulp, as the
// scalar host path in pyaae/activation.h): in float, 1 - 2 / (exp(2x) + 1) was off by 1.3 ulp (torch's
// tanh: 0.51), which the gradient 1 - y^2 amplifies near saturation. Every clamp puts x second in
// min/max so that a NaN passes through, as it does in PyTorch. Only for sources compiled with
// -mavx2 -mfma.
#pragma once

#include <immintrin.h>

#include <cmath>

#include "pyaae/activation.h"

namespace pyaae::cpu::avx2 {

inline __m256 exp_ps(__m256 x) {
  // Past the clamps the result is what expf gives: +inf above, 0 below.
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

// exp in double, 4 at a time, for x clamped to [-708, 708] (the caller's results stay finite there):
// n = round(x / ln 2), r = x - n ln 2 in two parts (|r| <= 0.35), e^r by its Taylor series to degree
// 11 (truncation below 1e-14 relative, far under the float result's half ulp), times 2^n built in the
// exponent bits. NaN stays NaN.
inline __m256d exp_pd(__m256d x) {
  x = _mm256_min_pd(_mm256_set1_pd(708.0), x);
  x = _mm256_max_pd(_mm256_set1_pd(-708.0), x);
  const __m256d n = _mm256_round_pd(_mm256_mul_pd(x, _mm256_set1_pd(1.4426950408889634)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256d r = _mm256_fnmadd_pd(n, _mm256_set1_pd(6.93145751953125E-1), x);
  r = _mm256_fnmadd_pd(n, _mm256_set1_pd(1.42860682030941723212E-6), r);
  __m256d y = _mm256_set1_pd(1.0 / 39916800.0);
  constexpr double kInverseFactorials[] = {1.0 / 3628800.0, 1.0 / 362880.0, 1.0 / 40320.0, 1.0 / 5040.0,
                                           1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0};
  for (double c : kInverseFactorials) y = _mm256_fmadd_pd(y, r, _mm256_set1_pd(c));
  // n + 1.5 * 2^52 holds n in its low mantissa bits; subtracting the magic's bits leaves n as int64.
  const __m256d magic = _mm256_set1_pd(6755399441055744.0);
  const __m256i ni = _mm256_sub_epi64(_mm256_castpd_si256(_mm256_add_pd(n, magic)), _mm256_castpd_si256(magic));
  const __m256i pow2n = _mm256_slli_epi64(_mm256_add_epi64(ni, _mm256_set1_epi64x(1023)), 52);
  return _mm256_mul_pd(y, _mm256_castsi256_pd(pow2n));
}

// f applied to the 8 floats of x in double (two halves of 4), each result rounded once to float.
template <class F>
inline __m256 in_double(__m256 x, F f) {
  const __m128 lo = _mm256_cvtpd_ps(f(_mm256_cvtps_pd(_mm256_castps256_ps128(x))));
  const __m128 hi = _mm256_cvtpd_ps(f(_mm256_cvtps_pd(_mm256_extractf128_ps(x, 1))));
  return _mm256_insertf128_ps(_mm256_castps128_ps256(lo), hi, 1);
}

// 1 / (1 + e^-x): exp_pd's clamp keeps e^-x finite, so +inf gives 1 and -inf 3e-308, 0 in float.
inline __m256d sigmoid_pd(__m256d x) {
  const __m256d one = _mm256_set1_pd(1.0);
  return _mm256_div_pd(one, _mm256_add_pd(one, exp_pd(_mm256_sub_pd(_mm256_setzero_pd(), x))));
}

// tanh |x| = 1 - 2 / (e^2|x| + 1) with the sign put back; that loses relative accuracy near 0 (an
// absolute error of a few 1e-16), so below |x| = 0.05 the Taylor series to x^9 (next term under 1e-15
// relative) takes over. 2|x| is clamped at 40, where tanh is 1 in double; NaN takes the exp branch.
inline __m256d tanh_pd(__m256d x) {
  const __m256d sign_bit = _mm256_set1_pd(-0.0);
  const __m256d ax = _mm256_andnot_pd(sign_bit, x);
  const __m256d one = _mm256_set1_pd(1.0);
  const __m256d e = exp_pd(_mm256_min_pd(_mm256_set1_pd(40.0), _mm256_add_pd(ax, ax)));
  __m256d large = _mm256_sub_pd(one, _mm256_div_pd(_mm256_set1_pd(2.0), _mm256_add_pd(e, one)));
  large = _mm256_or_pd(large, _mm256_and_pd(x, sign_bit));
  const __m256d z = _mm256_mul_pd(x, x);
  __m256d small = _mm256_set1_pd(62.0 / 2835.0);
  small = _mm256_fmadd_pd(small, z, _mm256_set1_pd(-17.0 / 315.0));
  small = _mm256_fmadd_pd(small, z, _mm256_set1_pd(2.0 / 15.0));
  small = _mm256_fmadd_pd(small, z, _mm256_set1_pd(-1.0 / 3.0));
  small = _mm256_fmadd_pd(_mm256_mul_pd(small, z), x, x);
  return _mm256_blendv_pd(large, small, _mm256_cmp_pd(ax, _mm256_set1_pd(0.05), _CMP_LT_OQ));
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
    return in_double(x, sigmoid_pd);
  } else {
    return in_double(x, tanh_pd);
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
