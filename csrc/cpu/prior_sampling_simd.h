// SIMD back ends of CPU prior sampling (pyaae/prior_sampling.h): samples [begin, end).
#pragma once

#include <cstdint>

#include "pyaae/prior_sampling.h"

namespace pyaae::cpu {

#if defined(PYAAE_HAVE_AVX2)
// Samples whole groups of 8 from begin on and returns where it stopped; the portable code does
// the rest, so that no scalar sample is computed with the AVX2 unit's floating-point contraction.
int64_t sample_prior_groups_avx2(const PriorSampling& p, int64_t begin, int64_t end);
#endif

}  // namespace pyaae::cpu
