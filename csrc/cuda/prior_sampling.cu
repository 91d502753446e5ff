// CUDA prior sampling: one thread per sample (grid-stride), the same per-sample code as the CPU.
#include <algorithm>

#include "pyaae/cuda_launch.h"
#include "pyaae/prior_sampling.h"

namespace pyaae {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 65535;

__global__ void __launch_bounds__(kThreads) sample_prior_kernel(PriorSampling p) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < p.n; i += stride) {
    sample_prior(p, i);
  }
}

}  // namespace

void sample_prior_cuda(const PriorSampling& p, void* stream) {
  if (p.n == 0) return;
  const int64_t blocks = std::min<int64_t>(kMaxBlocks, (p.n + kThreads - 1) / kThreads);
  PYAAE_LAUNCH(&sample_prior_kernel, dim3(static_cast<unsigned>(blocks)), dim3(kThreads), 0,
               static_cast<cudaStream_t>(stream), p);
  check_launch("prior sampling kernel");
}

}  // namespace pyaae
