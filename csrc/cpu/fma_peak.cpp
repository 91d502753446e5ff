#include <algorithm>
#include <atomic>
#include <chrono>
#include <vector>

#include "fma_peak.h"
#include "pyaae/cpu_features.h"
#include "pyaae/diagnostics.h"
#include "parallel.h"

namespace pyaae {
namespace cpu {

float fma_loop_generic(int64_t iterations, double* flops) {
  constexpr int kChains = 16;
  float acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = 0.001f * static_cast<float>(i);
  for (int64_t it = 0; it < iterations; ++it) {
    for (int i = 0; i < kChains; ++i) acc[i] = acc[i] * 0.999999f + 1e-7f;
  }
  float sum = 0.0f;
  for (int i = 0; i < kChains; ++i) sum += acc[i];
  *flops = 2.0 * kChains * static_cast<double>(iterations);
  return sum;
}

}  // namespace cpu

namespace {

float run_fma_loop(int64_t iterations, double* flops) {
#if defined(PYAAE_HAVE_AVX2)
  if (current_simd_level() == SimdLevel::Avx2) return cpu::fma_loop_avx2(iterations, flops);
#endif
  return cpu::fma_loop_generic(iterations, flops);
}

}  // namespace

double fma_peak_gflops(int num_threads, double seconds) {
  using clock = std::chrono::steady_clock;
  num_threads = std::max(1, num_threads);
  // Calibrate on one thread, then time every thread running the same count together.
  int64_t iterations = 1 << 16;
  double flops = 0.0;
  std::atomic<float> sink{0.0f};
  for (;;) {
    const auto start = clock::now();
    sink.store(run_fma_loop(iterations, &flops));
    const double elapsed = std::chrono::duration<double>(clock::now() - start).count();
    if (elapsed > 0.02 || iterations > (int64_t{1} << 40)) {
      iterations = std::max<int64_t>(1, static_cast<int64_t>(iterations * seconds / elapsed));
      break;
    }
    iterations *= 4;
  }
  std::vector<double> thread_flops(static_cast<size_t>(num_threads), 0.0);
  auto task = [&](int t) { sink.store(run_fma_loop(iterations, &thread_flops[static_cast<size_t>(t)])); };
  const auto start = clock::now();
  cpu::parallel_for(num_threads, task);
  const double elapsed = std::chrono::duration<double>(clock::now() - start).count();
  double total = 0.0;
  for (double f : thread_flops) total += f;
  return total / elapsed * 1e-9;
}

}  // namespace pyaae
