// Forward pass of layers at most kNarrowMaxOut outputs wide (the encoder's code layer, a
// discriminator's logit): one dot product of each input row with each weight row. The GEMM path
// would pack the whole input into register panels and fill at most half of each 16-wide tile;
// here every input row is read once, straight from memory, against weight rows that stay in L1.
#pragma once

#include <cstdint>

#include "pyaae/fused_linear.h"

namespace pyaae::cpu {

constexpr int64_t kNarrowMaxOut = 8;

// Writes rows [row0, row1) of y. Requires 1 <= out_features <= kNarrowMaxOut and in_features >= 1.
// Each dot product is summed in 8 lanes (element p in lane p % 8), the lanes then added pairwise
// ((0+4)+(2+6))+((1+5)+(3+7)), so that the back ends differ only by the AVX2 path's fused
// multiply-adds.
using NarrowForwardFn = void (*)(const LinearForwardArgs& f, int64_t row0, int64_t row1);

NarrowForwardFn narrow_forward_generic();
#if defined(PYAAE_HAVE_AVX2)
NarrowForwardFn narrow_forward_avx2();
#endif

}  // namespace pyaae::cpu
