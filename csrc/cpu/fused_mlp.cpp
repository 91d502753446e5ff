#include "pyaae/fused_mlp.h"

#include <algorithm>

#include "aligned_buffer.h"

namespace pyaae {
namespace {

// The fields a layer's pass takes from the layer and the stack, alike for forward and backward.
template <class LayerArgs, class StackArgs>
void set_layer_fields(LayerArgs& args, const MlpLayer& layer, const StackArgs& stack, size_t index) {
  args.batch = stack.batch;
  args.in_features = layer.in_features;
  args.out_features = layer.out_features;
  args.activation = layer.activation;
  args.negative_slope = stack.negative_slope;
  args.num_threads = stack.num_threads;
  args.stream = stack.stream;
  args.allow_tf32 = stack.allow_tf32;
  args.workspace = stack.workspace;
  args.workspace_floats = stack.workspace_floats;
  args.dropout = Dropout{layer.dropout, stack.dropout_seed, stack.dropout_step,
                         stack.dropout_layer + static_cast<uint32_t>(index)};
}

}  // namespace

void mlp_forward(const MlpForwardArgs& f, LinearForwardFn layer_forward) {
  const float* input = f.x;
  for (size_t i = 0; i < f.layers.size(); ++i) {
    const MlpLayer& layer = f.layers[i];
    LinearForwardArgs args;
    args.x = input;
    args.weight = layer.weight;
    args.bias = layer.bias;
    args.y = f.outputs[i];
    set_layer_fields(args, layer, f, i);
    layer_forward(args);
    input = f.outputs[i];
  }
}

void mlp_backward(const MlpBackwardArgs& g, LinearBackwardFn layer_backward) {
  const int num_layers = static_cast<int>(g.layers.size());
  // The lowest layer whose parameters want a gradient.
  int lowest = num_layers;
  for (int i = 0; i < num_layers; ++i) {
    if (g.grad_weights[i] != nullptr || g.grad_biases[i] != nullptr) {
      lowest = i;
      break;
    }
  }
  // Hidden-layer gradients alternate between two cached buffers: layer i reads one, writes the other.
  thread_local cpu::AlignedBuffer ping, pong;
  int64_t widest = 0;
  for (size_t i = 1; i < g.layers.size(); ++i) widest = std::max(widest, g.layers[i].in_features);
  float* hidden[2] = {nullptr, nullptr};
  if (widest > 0) {
    hidden[0] = ping.reserve(static_cast<size_t>(g.batch * widest));
    hidden[1] = pong.reserve(static_cast<size_t>(g.batch * widest));
  }

  // Layers below `floor` need nothing: no parameter gradient and no input gradient.
  const int floor = g.grad_x != nullptr ? 0 : lowest;
  const float* grad_out = g.grad_y;
  for (int i = num_layers - 1; i >= floor; --i) {
    const MlpLayer& layer = g.layers[i];
    LinearBackwardArgs args;
    args.grad_y = grad_out;
    args.y = g.outputs[i];
    args.x = i > 0 ? g.outputs[i - 1] : g.x;
    args.weight = layer.weight;
    args.grad_x = i == 0 ? g.grad_x : (i > floor ? hidden[i % 2] : nullptr);
    args.grad_weight = g.grad_weights[i];
    args.grad_bias = g.grad_biases[i];
    set_layer_fields(args, layer, g, static_cast<size_t>(i));
    args.dropout_scratch = g.dropout_scratch;
    layer_backward(args);
    grad_out = args.grad_x;
  }
}

}  // namespace pyaae
