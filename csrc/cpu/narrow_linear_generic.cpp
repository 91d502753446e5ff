// Portable narrow-layer kernels (see narrow_linear.h): plain C++ loops the compiler vectorizes for
// the baseline ISA.
#include <algorithm>

#include "narrow_linear.h"

namespace pyaae::cpu {
namespace {

template <Activation A>
void forward_rows(const LinearForwardArgs& f, int64_t row0, int64_t row1) {
  const int64_t k = f.in_features, n = f.out_features;
  for (int64_t i = row0; i < row1; ++i) {
    const float* x = f.x + i * k;
    for (int64_t o = 0; o < n; ++o) {
      const float* w = f.weight + o * k;
      float lane[8] = {};
      int64_t p = 0;
      for (; p + 8 <= k; p += 8) {
        for (int l = 0; l < 8; ++l) lane[l] += x[p + l] * w[p + l];
      }
      for (int l = 0; p + l < k; ++l) lane[l] += x[p + l] * w[p + l];
      const float sum = ((lane[0] + lane[4]) + (lane[2] + lane[6])) + ((lane[1] + lane[5]) + (lane[3] + lane[7]));
      f.y[i * n + o] = activate<A>(sum + (f.bias != nullptr ? f.bias[o] : 0.0f), f.negative_slope);
    }
  }
}

void forward(const LinearForwardArgs& f, int64_t row0, int64_t row1) {
  dispatch_activation(f.activation, [&](auto a) { forward_rows<decltype(a)::value>(f, row0, row1); });
}

void grad_x(const LinearBackwardArgs& g, const float* gy, int64_t row0, int64_t row1) {
  const int64_t k = g.in_features, n = g.out_features;
  for (int64_t i = row0; i < row1; ++i) {
    float* out = g.grad_x + i * k;
    const float* gi = gy + i * n;
    for (int64_t c = 0; c < k; ++c) out[c] = gi[0] * g.weight[c];
    for (int64_t o = 1; o < n; ++o) {
      const float* w = g.weight + o * k;
      for (int64_t c = 0; c < k; ++c) out[c] += gi[o] * w[c];
    }
  }
}

void grad_weight(const LinearBackwardArgs& g, const float* gy, int64_t col0, int64_t col1) {
  // Column blocks small enough that the block's sums of every output stay in L1.
  constexpr int64_t kBlock = 64;
  const int64_t k = g.in_features, n = g.out_features;
  for (int64_t c0 = col0; c0 < col1; c0 += kBlock) {
    const int64_t width = std::min(kBlock, col1 - c0);
    float acc[kNarrowMaxOut][kBlock] = {};
    for (int64_t i = 0; i < g.batch; ++i) {
      const float* x = g.x + i * k + c0;
      for (int64_t o = 0; o < n; ++o) {
        const float go = gy[i * n + o];
        for (int64_t c = 0; c < width; ++c) acc[o][c] += go * x[c];
      }
    }
    for (int64_t o = 0; o < n; ++o) std::copy(acc[o], acc[o] + width, g.grad_weight + o * k + c0);
  }
}

}  // namespace

NarrowKernels narrow_kernels_generic() { return {forward, grad_x, grad_weight}; }

}  // namespace pyaae::cpu
