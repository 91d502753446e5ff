// Fused linear layer y = act(x W^T + b) in nn.Linear layout: x [batch, in], W [out, in], b [out].
// Arrays are C-contiguous float32; callers (the binding) validate them and allocate every output.
#pragma once

#include <cstdint>

#include "pyaae/activation.h"
#include "pyaae/dropout.h"

namespace pyaae {

struct LinearForwardArgs {
  const float* x = nullptr;     // [batch, in]
  const float* weight = nullptr;  // [out, in]
  const float* bias = nullptr;  // [out] or null
  float* y = nullptr;           // [batch, out]
  int64_t batch = 0, in_features = 0, out_features = 0;
  Activation activation = Activation::Identity;
  float negative_slope = 0.0f;
  int num_threads = 1;   // CPU kernels
  void* stream = nullptr;  // CUDA kernels: the cudaStream_t to launch on (null: the default stream)
  bool allow_tf32 = false;  // CUDA kernels: multiply on TF32 tensor cores (inputs rounded to 10-bit mantissas)
  // CUDA kernels: room for split-K partial sums (linear_workspace_floats_cuda floats); null or too
  // small: no split.
  float* workspace = nullptr;
  int64_t workspace_floats = 0;
  Dropout dropout;  // applied to y after the activation (pyaae/dropout.h)
};

// Gradients of a loss through y = act(x W^T + b), given dL/dy and the saved output y. Any of
// grad_x, grad_weight, grad_bias may be null and is then neither computed nor written.
struct LinearBackwardArgs {
  const float* grad_y = nullptr;  // [batch, out]
  const float* y = nullptr;       // [batch, out]; unused for the identity activation
  const float* x = nullptr;       // [batch, in]
  const float* weight = nullptr;  // [out, in]
  float* grad_x = nullptr;        // [batch, in]
  float* grad_weight = nullptr;   // [out, in]
  float* grad_bias = nullptr;     // [out]
  int64_t batch = 0, in_features = 0, out_features = 0;
  Activation activation = Activation::Identity;
  float negative_slope = 0.0f;
  int num_threads = 1;
  void* stream = nullptr;
  bool allow_tf32 = false;
  float* workspace = nullptr;  // as in LinearForwardArgs; shared by the pass's GEMMs, run in turn
  int64_t workspace_floats = 0;
  Dropout dropout;  // the forward pass's, whose mask is drawn again here
  // [batch, out], needed when dropout is active: receives G = dL/d(pre-activation), which both GEMMs
  // then read as their A operand.
  float* dropout_scratch = nullptr;
};

void linear_forward_cpu(const LinearForwardArgs& args);
void linear_backward_cpu(const LinearBackwardArgs& args);

}  // namespace pyaae
