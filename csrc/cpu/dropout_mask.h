// The dropout factors of a row of a layer's output (pyaae/dropout.h), on one of the SIMD back ends:
// the mask pass is a Philox block per four elements, as much work as the layer's bias and activation.
#pragma once

#include <cstdint>

#include "pyaae/dropout.h"

namespace pyaae::cpu {

// factors[j] for column c0 + j, j < c1 - c0, of `row`: 0 where dropped, 1 / (1 - p) where kept.
using DropoutRowFn = void (*)(const Dropout& d, int64_t row, int64_t c0, int64_t c1, float* factors);

void dropout_row_generic(const Dropout& d, int64_t row, int64_t c0, int64_t c1, float* factors);
#if defined(PYAAE_HAVE_AVX2)
void dropout_row_avx2(const Dropout& d, int64_t row, int64_t c0, int64_t c1, float* factors);
#endif

}  // namespace pyaae::cpu
