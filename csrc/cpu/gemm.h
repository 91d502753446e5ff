// The GEMM at the heart of the fused layers: C = epilogue(op(A) B), computed a tile at a time by
// one of the SIMD back ends (gemm_avx2.cpp, gemm_generic.cpp).
#pragma once

#include <cstdint>

#include "pyaae/gemm_problem.h"

namespace pyaae::cpu {

using pyaae::GemmProblem;

// Computes rows [m0, m1) and columns [n0, n1) of C (and row_sums of rows [m0, m1) when n0 == 0).
// Requires k > 0.
using GemmTileFn = void (*)(const GemmProblem& p, int64_t m0, int64_t m1, int64_t n0, int64_t n1);

GemmTileFn gemm_tile_generic();
#if defined(PYAAE_HAVE_AVX2)
GemmTileFn gemm_tile_avx2();
#endif

}  // namespace pyaae::cpu
