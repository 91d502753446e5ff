// CPU prior sampling: samples split over threads in contiguous ranges, 8 at a time on the AVX2
// path; each sample's values come from its own Philox counters, so the result does not depend on
// the split.
#include "pyaae/prior_sampling.h"

#include <algorithm>

#include "parallel.h"
#include "prior_sampling_simd.h"
#include "pyaae/cpu_features.h"

namespace pyaae {

void sample_prior_cpu(const PriorSampling& p, int num_threads) {
  constexpr int64_t kMinSamplesPerThread = 4096;
  const int threads = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(num_threads, p.n / kMinSamplesPerThread)));
#if defined(PYAAE_HAVE_AVX2)
  const bool avx2 = current_simd_level() == SimdLevel::Avx2;
#endif
  auto task = [&](int t) {
    // Split points are multiples of 8, so that the AVX2 path's groups of 8 are the same for any split.
    const int64_t groups = (p.n + 7) / 8;
    const int64_t begin = std::min(p.n, groups * t / threads * 8);
    const int64_t end = std::min(p.n, groups * (t + 1) / threads * 8);
#if defined(PYAAE_HAVE_AVX2)
    if (avx2 && cpu::sample_prior_range_avx2(p, begin, end)) return;
#endif
    for (int64_t i = begin; i < end; ++i) sample_prior(p, i);
  };
  cpu::parallel_for(threads, task);
}

}  // namespace pyaae
