// Sampling of every prior in the paper, one sample at a time, one definition for the CPU and CUDA
// kernels (pyaae/philox.h gives each sample its own random words). Callers validate parameters.
#pragma once

#include <cstdint>

#include "pyaae/host_device.h"
#include "pyaae/philox.h"

namespace pyaae {

enum class PriorKind : int { Gaussian = 0, Mixture = 1, SwissRoll = 2, Uniform = 3, Categorical = 4 };

// Mixture components are drawn through a dense Cholesky factor held in registers: dimension cap.
constexpr int64_t kMaxMixtureDim = 64;

struct PriorSampling {
  PriorKind kind = PriorKind::Gaussian;
  int64_t n = 0;    // samples
  int64_t dim = 0;  // columns of out (for Categorical: the number of categories, one-hot)
  // Gaussian: mean [dim], std [dim]. Uniform: low [dim], high [dim]. Mixture: means [K, dim],
  // cholesky [K, dim, dim] (lower-triangular factors of the covariances).
  const float* loc = nullptr;
  const float* scale = nullptr;
  // Mixture, Categorical, SwissRoll: cumulative weights of the K components / categories / segments.
  const float* cdf = nullptr;
  int64_t components = 0;
  float noise_std = 0.0f;          // SwissRoll: Gaussian noise added to each point
  const int64_t* labels = nullptr;  // [n] or null: component/segment per sample, -1 draws from all
  float* out = nullptr;             // [n, dim]
  int64_t* index = nullptr;         // [n] or null: the component / segment / category drawn
  uint64_t seed = 0;
  uint32_t offset = 0;
};

// The component u falls in: the first k with u < cdf[k] (the last one when rounding leaves u above).
PYAAE_HOST_DEVICE int64_t pick_component(const float* cdf, int64_t count, float u) {
  for (int64_t k = 0; k + 1 < count; ++k) {
    if (u < cdf[k]) return k;
  }
  return count - 1;
}

PYAAE_HOST_DEVICE int64_t label_or_draw(const PriorSampling& p, int64_t i, uint32_t word) {
  const int64_t label = p.labels != nullptr ? p.labels[i] : -1;
  return label >= 0 ? label : pick_component(p.cdf, p.components, uniform_float(word));
}

// Standard normals z[0, count) of sample i, from blocks first_block, first_block + 1, ...
PYAAE_HOST_DEVICE void normals(const PriorSampling& p, int64_t i, uint32_t first_block, int64_t count, float* z) {
  for (int64_t d = 0; d < count; d += 4) {
    const PhiloxWords r = philox_block(p.seed, p.offset, static_cast<uint64_t>(i), first_block + static_cast<uint32_t>(d / 4));
    float v[4];
    box_muller(r.w[0], r.w[1], &v[0], &v[1]);
    box_muller(r.w[2], r.w[3], &v[2], &v[3]);
    for (int t = 0; t < 4 && d + t < count; ++t) z[d + t] = v[t];
  }
}

PYAAE_HOST_DEVICE void sample_prior(const PriorSampling& p, int64_t i) {
  float* out = p.out + i * p.dim;
  switch (p.kind) {
    case PriorKind::Gaussian: {
      for (int64_t d = 0; d < p.dim; d += 4) {
        float z[4];
        normals(p, i, static_cast<uint32_t>(d / 4), 4, z);
        for (int t = 0; t < 4 && d + t < p.dim; ++t) out[d + t] = p.loc[d + t] + p.scale[d + t] * z[t];
      }
      break;
    }
    case PriorKind::Uniform: {
      for (int64_t d = 0; d < p.dim; d += 4) {
        const PhiloxWords r = philox_block(p.seed, p.offset, static_cast<uint64_t>(i), static_cast<uint32_t>(d / 4));
        for (int t = 0; t < 4 && d + t < p.dim; ++t) {
          const float low = p.loc[d + t], high = p.scale[d + t];
          const float v = low + (high - low) * uniform_float(r.w[t]);
          out[d + t] = v < high ? v : nextafterf(high, low);  // rounding must not reach high: [low, high)
        }
      }
      break;
    }
    case PriorKind::Mixture: {
      // Block 0: word 0 picks the component; blocks 1.. give the normals.
      const PhiloxWords r = philox_block(p.seed, p.offset, static_cast<uint64_t>(i), 0);
      const int64_t k = label_or_draw(p, i, r.w[0]);
      float z[kMaxMixtureDim];
      normals(p, i, 1, p.dim, z);
      const float* mean = p.loc + k * p.dim;
      const float* chol = p.scale + k * p.dim * p.dim;
      for (int64_t row = 0; row < p.dim; ++row) {
        float v = mean[row];
        for (int64_t col = 0; col <= row; ++col) v += chol[row * p.dim + col] * z[col];
        out[row] = v;
      }
      if (p.index != nullptr) p.index[i] = k;
      break;
    }
    case PriorKind::SwissRoll: {
      // The paper's roll: segment s of S covers arc parameter u in [s/S, (s+1)/S); the point is
      // (r cos t, r sin t) with r = 3 sqrt(u), t = 4 pi sqrt(u).
      const PhiloxWords r = philox_block(p.seed, p.offset, static_cast<uint64_t>(i), 0);
      const int64_t s = label_or_draw(p, i, r.w[0]);
      const float u = (static_cast<float>(s) + uniform_float(r.w[1])) / static_cast<float>(p.components);
      const float root = sqrtf(u);
      const float angle = 12.5663706143591729539f * root;
      float n0 = 0.0f, n1 = 0.0f;
      if (p.noise_std > 0.0f) box_muller(r.w[2], r.w[3], &n0, &n1);
      out[0] = 3.0f * root * cosf(angle) + p.noise_std * n0;
      out[1] = 3.0f * root * sinf(angle) + p.noise_std * n1;
      if (p.index != nullptr) p.index[i] = s;
      break;
    }
    case PriorKind::Categorical: {
      const PhiloxWords r = philox_block(p.seed, p.offset, static_cast<uint64_t>(i), 0);
      const int64_t k = pick_component(p.cdf, p.components, uniform_float(r.w[0]));
      for (int64_t d = 0; d < p.dim; ++d) out[d] = d == k ? 1.0f : 0.0f;
      if (p.index != nullptr) p.index[i] = k;
      break;
    }
  }
}

void sample_prior_cpu(const PriorSampling& p, int num_threads);
void sample_prior_cuda(const PriorSampling& p, void* stream);

}  // namespace pyaae
