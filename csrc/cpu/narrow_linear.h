// Layers at most kNarrowMaxOut outputs wide (the encoder's code layer, a discriminator's logit),
// computed without the GEMM: the GEMM path would pack the whole wide operand into register panels
// only to fill at most half of each 16-wide tile. Here the wide operand (x, grad_x) is streamed once
// while the narrow one (W's rows, a row of G = grad_y * act'(y)) stays in L1 or in registers.
#pragma once

#include <cstdint>

#include "pyaae/fused_linear.h"

namespace pyaae::cpu {

constexpr int64_t kNarrowMaxOut = 8;

// Every function requires 1 <= out_features <= kNarrowMaxOut and in_features >= 1, and writes only
// the rows or columns it is given.
struct NarrowKernels {
  // Rows [row0, row1) of y. Each dot product is summed in 8 lanes (element p in lane p % 8), the
  // lanes then added pairwise ((0+4)+(2+6))+((1+5)+(3+7)), so that the back ends differ only by
  // the AVX2 path's fused multiply-adds.
  void (*forward)(const LinearForwardArgs& f, int64_t row0, int64_t row1);
  // Rows [row0, row1) of grad_x = G W, G [batch, out] given (the products added in order of o).
  void (*grad_x)(const LinearBackwardArgs& g, const float* gy, int64_t row0, int64_t row1);
  // Columns [col0, col1) of grad_weight = G^T x (the products added in order of the batch).
  void (*grad_weight)(const LinearBackwardArgs& g, const float* gy, int64_t col0, int64_t col1);
};

NarrowKernels narrow_kernels_generic();
#if defined(PYAAE_HAVE_AVX2)
NarrowKernels narrow_kernels_avx2();
#endif

}  // namespace pyaae::cpu
