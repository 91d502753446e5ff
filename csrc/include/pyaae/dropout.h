// Dropout on a fused layer's output, one definition for the CPU and the CUDA kernels.
//
// Element (row, col) of the layer's output is kept when the 24-bit uniform of its Philox word is
// >= p, and then scaled by 1 / (1 - p) (inverted dropout: nothing to undo at evaluation). The word is
// word col % 4 of Philox4x32-10 of the counter (col / 4, row, layer, step) under the key
// (lo(seed), hi(seed) ^ kDropoutKeyTag): a mask depends only on (seed, step, layer, row, col), never on
// threads, tiles or launches, so the backward pass regenerates it instead of storing it, and
// pyaae.reference draws the same one. The tag keeps the masks' stream apart from the prior samples'
// (counter (sample, block, offset) under the plain seed) when both use one seed.
#pragma once

#include <cstdint>

#include "pyaae/activation.h"
#include "pyaae/host_device.h"
#include "pyaae/philox.h"

namespace pyaae {

constexpr uint32_t kDropoutKeyTag = 0xD5A0C0DEu;

struct Dropout {
  float p = 0.0f;  // probability of dropping an element, in [0, 1); 0: off
  uint64_t seed = 0;
  uint32_t step = 0;
  uint32_t layer = 0;
};

PYAAE_HOST_DEVICE bool dropout_active(const Dropout& d) { return d.p > 0.0f; }

// The factor kept elements are multiplied by (rounded once, as the reference computes it).
PYAAE_HOST_DEVICE float dropout_scale(const Dropout& d) { return 1.0f / (1.0f - d.p); }

// The four words that decide columns 4 * (col / 4) .. + 3 of `row`.
PYAAE_HOST_DEVICE PhiloxWords dropout_words(const Dropout& d, int64_t row, int64_t col) {
  const PhiloxWords ctr = {{static_cast<uint32_t>(col >> 2), static_cast<uint32_t>(row), d.layer, d.step}};
  return philox4x32_10(ctr, static_cast<uint32_t>(d.seed), static_cast<uint32_t>(d.seed >> 32) ^ kDropoutKeyTag);
}

// 0 for a dropped element, `scale` for a kept one, from the element's word.
PYAAE_HOST_DEVICE float dropout_factor(uint32_t word, float p, float scale) {
  return uniform_float(word) >= p ? scale : 0.0f;
}

// The factor of element (row, col) alone (one Philox block per call: for the CUDA threads, which
// own single elements; loops over a row use dropout_words once per four columns).
PYAAE_HOST_DEVICE float dropout_factor_at(const Dropout& d, int64_t row, int64_t col) {
  return dropout_factor(dropout_words(d, row, col).w[col & 3], d.p, dropout_scale(d));
}

// The gradient through dropout and the activation, from dL/dy and the saved (dropped) output y:
// factor * act'(y / scale). ReLU's and leaky ReLU's act' depends on the sign only, which the positive
// scale keeps; sigmoid's and tanh's take the output before the scale back (y * (1 - p), within an ulp
// or two of it). A dropped element passes grad_y * 0, so NaN stays NaN, as with PyTorch's dropout.
template <Activation A>
PYAAE_HOST_DEVICE float dropout_grad(float grad_y, float y, float factor, float p, float negative_slope) {
  float v = grad_y * factor;
  if constexpr (A == Activation::Sigmoid || A == Activation::Tanh) {
    v *= activation_grad_from_output<A>(y * (1.0f - p), negative_slope);
  } else if constexpr (A != Activation::Identity) {
    v *= activation_grad_from_output<A>(y, negative_slope);
  }
  return v;
}

}  // namespace pyaae
