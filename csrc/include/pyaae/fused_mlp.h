// A stack of fused linear layers run in one call: x -> act_0(x W_0^T + b_0) -> ... Running the
// whole stack at once lets the backward pass keep the hidden-layer gradients in cached workspaces
// and lets the caller pay one framework round trip per pass instead of one per layer.
#pragma once

#include <cstdint>
#include <vector>

#include "pyaae/activation.h"
#include "pyaae/fused_linear.h"

namespace pyaae {

struct MlpLayer {
  const float* weight = nullptr;  // [out, in]
  const float* bias = nullptr;    // [out] or null
  int64_t in_features = 0, out_features = 0;
  Activation activation = Activation::Identity;
  float dropout = 0.0f;  // probability, applied to this layer's output
};

struct MlpForwardArgs {
  const float* x = nullptr;  // [batch, layers[0].in_features]
  int64_t batch = 0;
  std::vector<MlpLayer> layers;
  std::vector<float*> outputs;  // outputs[i]: [batch, layers[i].out_features], saved for backward
  float negative_slope = 0.0f;
  int num_threads = 1;
  void* stream = nullptr;
  bool allow_tf32 = false;
  float* workspace = nullptr;  // CUDA split-K workspace, shared by the layers' passes (run in turn)
  int64_t workspace_floats = 0;
  uint64_t dropout_seed = 0;  // layer i's mask is keyed by (dropout_seed, dropout_step, dropout_layer + i)
  uint32_t dropout_step = 0;
  uint32_t dropout_layer = 0;
};

// Gradients of every layer from grad_y (of the last output) and the outputs saved by the forward
// pass. A null grad_weights[i] / grad_biases[i] / grad_x is neither computed nor written; hidden
// gradients are computed only as far down as something below needs them.
struct MlpBackwardArgs {
  const float* grad_y = nullptr;
  const float* x = nullptr;
  int64_t batch = 0;
  std::vector<MlpLayer> layers;
  std::vector<const float*> outputs;
  std::vector<float*> grad_weights, grad_biases;
  float* grad_x = nullptr;
  float negative_slope = 0.0f;
  int num_threads = 1;
  void* stream = nullptr;
  bool allow_tf32 = false;
  float* workspace = nullptr;  // CUDA split-K workspace, shared by the layers' passes (run in turn)
  int64_t workspace_floats = 0;
  uint64_t dropout_seed = 0;
  uint32_t dropout_step = 0;
  uint32_t dropout_layer = 0;
  // [batch, widest layer with dropout], when any layer has dropout: shared by the layers, run in turn.
  float* dropout_scratch = nullptr;
};

// One layer's pass on some back end (the CPU kernels, or the CUDA kernels under emulation).
using LinearForwardFn = void (*)(const LinearForwardArgs&);
using LinearBackwardFn = void (*)(const LinearBackwardArgs&);

// The stack's passes, layer by layer, with the given back end. Stacks of more than one layer keep
// their hidden gradients in host workspaces, so they need a back end that runs on host memory.
void mlp_forward(const MlpForwardArgs& args, LinearForwardFn layer_forward);
void mlp_backward(const MlpBackwardArgs& args, LinearBackwardFn layer_backward);

}  // namespace pyaae
