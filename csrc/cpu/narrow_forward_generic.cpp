// Portable narrow forward pass: 8 float lanes per dot product in plain C++ (see narrow_forward.h).
#include "narrow_forward.h"

namespace pyaae::cpu {
namespace {

template <Activation A>
void rows(const LinearForwardArgs& f, int64_t row0, int64_t row1) {
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

void narrow_forward(const LinearForwardArgs& f, int64_t row0, int64_t row1) {
  dispatch_activation(f.activation, [&](auto a) { rows<decltype(a)::value>(f, row0, row1); });
}

}  // namespace

NarrowForwardFn narrow_forward_generic() { return narrow_forward; }

}  // namespace pyaae::cpu
