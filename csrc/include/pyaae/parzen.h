// Parzen-window log-likelihood of test points under an isotropic Gaussian kernel density placed on
// samples, for several bandwidths in one pass:
//   out[n, k] = logsumexp_m(-|x_n - s_m|^2 / (2 sigma_k^2)) - log M - (D/2) log(2 pi sigma_k^2).
// Arrays are C-contiguous float32; callers (the binding) validate them: n, m, k >= 1, every sigma
// finite and > 0, out disjoint from the inputs.
#pragma once

#include <cmath>
#include <cstdint>

#include "pyaae/host_device.h"

namespace pyaae {

struct ParzenArgs {
  const float* x = nullptr;        // [n, dim] test points
  const float* samples = nullptr;  // [m, dim]
  const float* sigmas = nullptr;   // [k] bandwidths
  float* out = nullptr;            // [n, k]
  int64_t n = 0, m = 0, dim = 0, k = 0;
  int num_threads = 1;     // CPU kernels
  void* stream = nullptr;  // CUDA kernels: the cudaStream_t to launch on
};

// The constant part of one bandwidth's log-likelihood, -log M - (D/2) log(2 pi sigma^2), in double:
// it is subtracted from a large -dmin / (2 sigma^2) and must not add float32 rounding of its own.
PYAAE_HOST_DEVICE double parzen_log_normalizer(double sigma, int64_t m, int64_t dim) {
  return -log(static_cast<double>(m)) - 0.5 * static_cast<double>(dim) * log(6.283185307179586 * sigma * sigma);
}

void parzen_cpu(const ParzenArgs& args);
void parzen_cuda(const ParzenArgs& args);

}  // namespace pyaae
