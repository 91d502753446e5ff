// SIMD back ends of CPU prior sampling (pyaae/prior_sampling.h): samples [begin, end).
#pragma once

#include <cstdint>

#include "pyaae/prior_sampling.h"

namespace pyaae::cpu {

#if defined(PYAAE_HAVE_AVX2)
void sample_prior_range_avx2(const PriorSampling& p, int64_t begin, int64_t end);
#endif

}  // namespace pyaae::cpu
