// CPU prior sampling: samples split over threads in contiguous ranges; each sample's values come
// from its own Philox counters, so the result does not depend on the split.
#include "pyaae/prior_sampling.h"

#include <algorithm>

#include "parallel.h"

namespace pyaae {

void sample_prior_cpu(const PriorSampling& p, int num_threads) {
  constexpr int64_t kMinSamplesPerThread = 4096;
  const int threads = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(num_threads, p.n / kMinSamplesPerThread)));
  auto task = [&](int t) {
    const int64_t begin = p.n * t / threads, end = p.n * (t + 1) / threads;
    for (int64_t i = begin; i < end; ++i) sample_prior(p, i);
  };
  cpu::parallel_for(threads, task);
}

}  // namespace pyaae
