// The GEMM at the heart of the fused layers: C = epilogue(op(A) B), computed a tile at a time by
// one of the SIMD back ends (gemm_avx2.cpp, gemm_generic.cpp).
#pragma once

#include <cstdint>

#include "pyaae/activation.h"

namespace pyaae::cpu {

// A [m, k] is read through strides; when a_grad_activation is not Identity, each element is
// multiplied by activation_grad_from_output(a_y[same offset]) as it is packed, which fuses the
// activation's backward into the GEMM's input. B [k, n] is read through strides. C [m, n] is
// row-major with leading dimension ldc; C = act(A B + bias[col]) where bias may be null.
struct GemmProblem {
  int64_t m = 0, n = 0, k = 0;
  const float* a = nullptr;
  const float* a_y = nullptr;
  int64_t a_row_stride = 0, a_col_stride = 0;
  Activation a_grad_activation = Activation::Identity;
  const float* b = nullptr;
  int64_t b_row_stride = 0, b_col_stride = 0;
  float* c = nullptr;
  int64_t ldc = 0;
  const float* bias = nullptr;
  Activation activation = Activation::Identity;
  float negative_slope = 0.0f;
  // When not null, row_sums[i] = sum over k of A[i, k] (after the fused gradient), accumulated
  // in double while A is packed: the bias gradient comes out of the same pass as the weight's.
  float* row_sums = nullptr;
};

// Computes rows [m0, m1) and columns [n0, n1) of C (and row_sums of rows [m0, m1) when n0 == 0).
// Requires k > 0.
using GemmTileFn = void (*)(const GemmProblem& p, int64_t m0, int64_t m1, int64_t n0, int64_t n1);

GemmTileFn gemm_tile_generic();
#if defined(PYAAE_HAVE_AVX2)
GemmTileFn gemm_tile_avx2();
#endif

}  // namespace pyaae::cpu
