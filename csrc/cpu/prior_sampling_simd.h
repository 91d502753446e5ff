// SIMD back ends of CPU prior sampling (pyaae/prior_sampling.h): samples [begin, end).
#pragma once

#include <cstdint>

#include "pyaae/prior_sampling.h"

namespace pyaae::cpu {

#if defined(PYAAE_HAVE_AVX2)
// Samples [begin, end) in groups of 8 (begin a multiple of 8; the last group may be partial) and
// returns true, or returns false for a kind it leaves to the portable code (categorical).
bool sample_prior_range_avx2(const PriorSampling& p, int64_t begin, int64_t end);
#endif

}  // namespace pyaae::cpu
