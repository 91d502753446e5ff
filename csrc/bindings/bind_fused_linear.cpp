// Bindings of the fused linear layer and of stacks of them (pyaae/fused_mlp.h) over one back end. The
// single-layer functions are the one-layer case of the stack functions, with the single-layer
// argument names.
#include <pybind11/stl.h>

#include <cmath>
#include <functional>
#include <optional>

#include "arrays.h"
#include "bind_fused_linear.h"
#include "pyaae/fused_linear.h"
#include "pyaae/fused_mlp.h"

namespace pyaae::bindings {
namespace {

// Argument names in error messages: "weight" for a single layer, "weights[2]" in a stack.
using Naming = std::function<std::string(const char* kind, size_t i)>;

const Naming kSingleLayer = [](const char* kind, size_t) {
  const std::string k(kind);
  return k == "weights" ? std::string("weight") : k == "biases" ? std::string("bias") : k == "outputs" ? std::string("out")
         : k == "grad_weights" ? std::string("grad_weight") : k == "dropout" ? k : std::string("grad_bias");
};
const Naming kStack = [](const char* kind, size_t i) { return std::string(kind) + "[" + std::to_string(i) + "]"; };

Activation activation_from(int code, float negative_slope) {
  if (code < 0 || code > static_cast<int>(Activation::Tanh)) {
    throw py::value_error("activation code " + std::to_string(code) + " is unknown");
  }
  if (!std::isfinite(negative_slope) || negative_slope < 0.0f) {
    throw py::value_error("negative_slope must be a finite number >= 0, got " + std::to_string(negative_slope));
  }
  return static_cast<Activation>(code);
}

// Per-layer dropout probabilities: empty means none anywhere; otherwise one finite value in [0, 1)
// per layer.
std::vector<float> checked_dropouts(const std::vector<float>& dropouts, size_t layers, const Naming& name) {
  if (dropouts.empty()) return std::vector<float>(layers, 0.0f);
  if (dropouts.size() != layers) {
    throw py::value_error("dropout must have one probability per layer (" + std::to_string(layers) + "), got " +
                          std::to_string(dropouts.size()));
  }
  for (size_t i = 0; i < layers; ++i) {
    const float p = dropouts[i];
    if (!(p >= 0.0f && p < 1.0f)) {
      throw py::value_error(name("dropout", i) + " must be a probability in [0, 1), got " + std::to_string(p));
    }
  }
  return dropouts;
}

// The validated arrays of a stack of layers: input, parameters and per-layer outputs.
struct Stack {
  FloatArray x;
  std::vector<FloatArray> weights;
  std::vector<std::optional<FloatArray>> biases;
  std::vector<FloatArray> outputs;
  std::vector<MlpLayer> layers;
  int64_t batch = 0;

  std::vector<const FloatArray*> inputs() const {
    std::vector<const FloatArray*> all{&x};
    for (const auto& w : weights) all.push_back(&w);
    for (const auto& b : biases) {
      if (b) all.push_back(&*b);
    }
    return all;
  }
};

Stack check_stack(ArrayReader read, py::handle x, const std::vector<py::handle>& weights, const std::vector<py::handle>& biases,
                  const std::vector<py::handle>& outputs, const std::vector<int>& activations, float negative_slope,
                  const std::vector<float>& dropouts, const Naming& name, bool outputs_writable) {
  const size_t n = weights.size();
  if (n == 0) throw py::value_error("a stack needs at least one layer (weights is empty)");
  if (biases.size() != n || outputs.size() != n || activations.size() != n) {
    throw py::value_error("weights, biases, outputs and activations must have the same length, got " +
                          std::to_string(n) + ", " + std::to_string(biases.size()) + ", " +
                          std::to_string(outputs.size()) + ", " + std::to_string(activations.size()));
  }
  const std::vector<float> p = checked_dropouts(dropouts, n, name);
  Stack s{read(x, "x", 2, false), {}, {}, {}, {}, 0};
  s.batch = s.x.dim(0);
  int64_t in_features = s.x.dim(1);
  for (size_t i = 0; i < n; ++i) {
    MlpLayer layer;
    layer.activation = activation_from(activations[i], negative_slope);
    layer.dropout = p[i];
    s.weights.push_back(read(weights[i], name("weights", i), 2, false));
    const FloatArray& w = s.weights.back();
    expect_dim(w, 1, in_features, "columns (input features)",
               i == 0 ? std::string(" to match x") : " to match the outputs of " + name("weights", i - 1));
    layer.in_features = in_features;
    layer.out_features = w.dim(0);
    layer.weight = w.data();
    if (biases[i].is_none()) {
      s.biases.emplace_back();
    } else {
      s.biases.emplace_back(read(biases[i], name("biases", i), 1, false));
      expect_dim(*s.biases.back(), 0, layer.out_features, "elements");
      layer.bias = s.biases.back()->data();
    }
    s.outputs.push_back(read(outputs[i], name("outputs", i), 2, outputs_writable));
    expect_dim(s.outputs.back(), 0, s.batch, "rows");
    expect_dim(s.outputs.back(), 1, layer.out_features, "columns");
    s.layers.push_back(layer);
    in_features = layer.out_features;
  }
  return s;
}

// The dropout of a pass: per-layer probabilities (empty: none), the Philox key and step, and for the
// backward pass the scratch array G is formed in.
struct DropoutArgs {
  std::vector<float> p;
  uint64_t seed = 0;
  uint32_t step = 0;
  uint32_t layer = 0;  // the mask's layer word of the stack's first layer (layer i: layer + i)
  py::handle scratch = py::none();
};

// The optional split-K workspace: a writable 1-D array overlapping nothing else of the call.
std::optional<FloatArray> read_workspace(ArrayReader read, py::handle workspace,
                                         const std::vector<const FloatArray*>& others) {
  if (workspace.is_none()) return std::nullopt;
  FloatArray w = read(workspace, "workspace", 1, true);
  expect_disjoint(w, others);
  return w;
}

void stack_forward(const Backend& backend, py::handle x, const std::vector<py::handle>& weights, const std::vector<py::handle>& biases,
                   const std::vector<py::handle>& outputs, const std::vector<int>& activations, float negative_slope,
                   int num_threads, uintptr_t stream, bool allow_tf32, py::handle workspace, const DropoutArgs& dropout,
                   const Naming& name) {
  MlpForwardArgs args;
  args.num_threads = checked_threads(num_threads);
  args.stream = reinterpret_cast<void*>(stream);
  args.allow_tf32 = allow_tf32;
  args.dropout_seed = dropout.seed;
  args.dropout_step = dropout.step;
  args.dropout_layer = dropout.layer;
  Stack s = check_stack(backend.read, x, weights, biases, outputs, activations, negative_slope, dropout.p, name, true);
  std::vector<const FloatArray*> read = s.inputs();
  for (const FloatArray& out : s.outputs) {
    expect_disjoint(out, read);
    read.push_back(&out);
    args.outputs.push_back(out.data());
  }
  const std::optional<FloatArray> scratch = read_workspace(backend.read, workspace, read);
  if (scratch) args.workspace = scratch->data(), args.workspace_floats = scratch->size;
  args.x = s.x.data();
  args.batch = s.batch;
  args.layers = s.layers;
  args.negative_slope = negative_slope;
  py::gil_scoped_release release;
  mlp_forward(args, backend.forward);
}

void stack_backward(const Backend& backend, py::handle grad_out, py::handle x, const std::vector<py::handle>& weights,
                    const std::vector<py::handle>& biases_or_none, const std::vector<py::handle>& outputs,
                    const std::vector<py::handle>& grad_weights, const std::vector<py::handle>& grad_biases,
                    py::handle grad_x, const std::vector<int>& activations, float negative_slope, int num_threads,
                    uintptr_t stream, bool allow_tf32, py::handle workspace, const DropoutArgs& dropout,
                    const Naming& name) {
  MlpBackwardArgs args;
  args.num_threads = checked_threads(num_threads);
  args.stream = reinterpret_cast<void*>(stream);
  args.allow_tf32 = allow_tf32;
  args.dropout_seed = dropout.seed;
  args.dropout_step = dropout.step;
  args.dropout_layer = dropout.layer;
  Stack s = check_stack(backend.read, x, weights, biases_or_none, outputs, activations, negative_slope, dropout.p, name,
                        false);
  const size_t n = s.layers.size();
  if (n > 1 && !backend.host_memory) {
    throw py::value_error("the backward pass of a stack of several layers needs host arrays; run the "
                          "layers one at a time (linear_backward) on device arrays");
  }
  if (grad_weights.size() != n || grad_biases.size() != n) {
    throw py::value_error("grad_weights and grad_biases must have one entry (an array or None) per layer");
  }
  const FloatArray gy = backend.read(grad_out, "grad_out", 2, false);
  expect_dim(gy, 0, s.batch, "rows");
  expect_dim(gy, 1, s.layers.back().out_features, "columns");
  std::vector<const FloatArray*> read = s.inputs();
  for (const FloatArray& out : s.outputs) read.push_back(&out);
  read.push_back(&gy);
  std::vector<FloatArray> written;
  written.reserve(2 * n + 2);
  auto output = [&](py::handle obj, const std::string& arg, int ndim, int64_t d0, int64_t d1) -> float* {
    if (obj.is_none()) return nullptr;
    written.push_back(backend.read(obj, arg, ndim, true));
    const FloatArray& a = written.back();
    expect_dim(a, 0, d0, ndim == 1 ? "elements" : "rows");
    if (ndim == 2) expect_dim(a, 1, d1, "columns");
    expect_disjoint(a, read);
    read.push_back(&a);
    return a.data();
  };
  for (size_t i = 0; i < n; ++i) {
    const MlpLayer& layer = s.layers[i];
    args.grad_weights.push_back(output(grad_weights[i], name("grad_weights", i), 2, layer.out_features, layer.in_features));
    args.grad_biases.push_back(output(grad_biases[i], name("grad_biases", i), 1, layer.out_features, 0));
  }
  args.grad_x = output(grad_x, "grad_x", 2, s.batch, s.layers.front().in_features);
  const std::optional<FloatArray> scratch = read_workspace(backend.read, workspace, read);
  if (scratch) args.workspace = scratch->data(), args.workspace_floats = scratch->size;
  int64_t mask_floats = 0;
  for (const MlpLayer& layer : s.layers) {
    if (layer.dropout > 0.0f) mask_floats = std::max(mask_floats, s.batch * layer.out_features);
  }
  if (mask_floats > 0) {
    if (dropout.scratch.is_none()) {
      throw py::value_error("dropout_scratch is needed for the backward pass of a layer with dropout (at least " +
                            std::to_string(mask_floats) + " floats)");
    }
    written.push_back(backend.read(dropout.scratch, "dropout_scratch", 1, true));
    const FloatArray& m = written.back();
    if (m.size < mask_floats) {
      throw py::value_error("dropout_scratch has " + std::to_string(m.size) + " elements, expected at least " +
                            std::to_string(mask_floats));
    }
    expect_disjoint(m, read);
    if (scratch) expect_disjoint(m, std::vector<const FloatArray*>{&*scratch});
    args.dropout_scratch = m.data();
  }
  args.grad_y = gy.data();
  args.x = s.x.data();
  args.batch = s.batch;
  args.layers = s.layers;
  for (const FloatArray& out : s.outputs) args.outputs.push_back(out.data());
  args.negative_slope = negative_slope;
  py::gil_scoped_release release;
  mlp_backward(args, backend.backward);
}

}  // namespace

void bind_fused_linear(py::module_& m, const Backend& backend, const std::string& prefix) {
  if (!py::hasattr(m, "ACTIVATIONS")) {
    py::dict activations;
    activations["identity"] = static_cast<int>(Activation::Identity);
    activations["relu"] = static_cast<int>(Activation::ReLU);
    activations["leaky_relu"] = static_cast<int>(Activation::LeakyReLU);
    activations["sigmoid"] = static_cast<int>(Activation::Sigmoid);
    activations["tanh"] = static_cast<int>(Activation::Tanh);
    m.attr("ACTIVATIONS") = activations;
  }
  m.def(
      (prefix + "linear_forward").c_str(),
      [backend](py::handle x, py::handle weight, py::handle bias, py::handle out, int activation, float negative_slope,
                int num_threads, uintptr_t stream, bool allow_tf32, py::handle workspace, float dropout,
                uint64_t dropout_seed, uint32_t dropout_step, uint32_t dropout_layer) {
        stack_forward(backend, x, {weight}, {bias}, {out}, {activation}, negative_slope, num_threads, stream,
                      allow_tf32, workspace, DropoutArgs{{dropout}, dropout_seed, dropout_step, dropout_layer},
                      kSingleLayer);
      },
      py::arg("x"), py::arg("weight"), py::arg("bias"), py::arg("out"), py::arg("activation"),
      py::arg("negative_slope"), py::arg("num_threads"), py::arg("stream") = 0, py::arg("allow_tf32") = false,
      py::arg("workspace") = py::none(), py::arg("dropout") = 0.0f, py::arg("dropout_seed") = 0,
      py::arg("dropout_step") = 0, py::arg("dropout_layer") = 0,
      "out = dropout(act(x @ weight.T + bias)) for C-contiguous float32 arrays; bias may be None; the mask is "
      "keyed by (dropout_seed, dropout_step, dropout_layer, row, column).");
  m.def(
      (prefix + "linear_backward").c_str(),
      [backend](py::handle grad_out, py::handle out, py::handle x, py::handle weight, py::handle grad_x,
                py::handle grad_weight, py::handle grad_bias, int activation, float negative_slope, int num_threads,
                uintptr_t stream, bool allow_tf32, py::handle workspace, float dropout, uint64_t dropout_seed,
                uint32_t dropout_step, uint32_t dropout_layer, py::handle dropout_scratch) {
        const DropoutArgs d{{dropout}, dropout_seed, dropout_step, dropout_layer, dropout_scratch};
        stack_backward(backend, grad_out, x, {weight}, {py::none()}, {out}, {grad_weight}, {grad_bias}, grad_x,
                       {activation}, negative_slope, num_threads, stream, allow_tf32, workspace, d, kSingleLayer);
      },
      py::arg("grad_out"), py::arg("out"), py::arg("x"), py::arg("weight"), py::arg("grad_x"),
      py::arg("grad_weight"), py::arg("grad_bias"), py::arg("activation"), py::arg("negative_slope"),
      py::arg("num_threads"), py::arg("stream") = 0, py::arg("allow_tf32") = false,
      py::arg("workspace") = py::none(), py::arg("dropout") = 0.0f, py::arg("dropout_seed") = 0,
      py::arg("dropout_step") = 0, py::arg("dropout_layer") = 0, py::arg("dropout_scratch") = py::none(),
      "Gradients of the fused linear layer from grad_out and the saved output; any gradient output may be "
      "None to skip it.");
  if (backend.workspace_floats != nullptr) {
    m.def((prefix + "linear_workspace_floats").c_str(), backend.workspace_floats, py::arg("batch"),
          py::arg("in_features"), py::arg("out_features"), py::arg("allow_tf32") = false,
          "Floats of workspace with which a layer's passes may split k over more blocks (0: none needed).");
  }
  m.def(
      (prefix + "mlp_forward").c_str(),
      [backend](py::handle x, const std::vector<py::handle>& weights, const std::vector<py::handle>& biases,
                const std::vector<py::handle>& outputs, const std::vector<int>& activations, float negative_slope,
                int num_threads, uintptr_t stream, bool allow_tf32, py::handle workspace,
                const std::vector<float>& dropout, uint64_t dropout_seed, uint32_t dropout_step, uint32_t dropout_layer) {
        stack_forward(backend, x, weights, biases, outputs, activations, negative_slope, num_threads, stream, allow_tf32,
                      workspace, DropoutArgs{dropout, dropout_seed, dropout_step, dropout_layer}, kStack);
      },
      py::arg("x"), py::arg("weights"), py::arg("biases"), py::arg("outputs"), py::arg("activations"),
      py::arg("negative_slope"), py::arg("num_threads"), py::arg("stream") = 0, py::arg("allow_tf32") = false,
      py::arg("workspace") = py::none(), py::arg("dropout") = std::vector<float>{}, py::arg("dropout_seed") = 0,
      py::arg("dropout_step") = 0, py::arg("dropout_layer") = 0,
      "Forward pass of a stack of fused layers; outputs[i] receives layer i's output (kept for backward).");
  m.def(
      (prefix + "mlp_backward").c_str(),
      [backend](py::handle grad_out, py::handle x, const std::vector<py::handle>& weights,
                const std::vector<py::handle>& biases, const std::vector<py::handle>& outputs,
                const std::vector<py::handle>& grad_weights, const std::vector<py::handle>& grad_biases,
                py::handle grad_x, const std::vector<int>& activations, float negative_slope, int num_threads,
                uintptr_t stream, bool allow_tf32, py::handle workspace, const std::vector<float>& dropout,
                uint64_t dropout_seed, uint32_t dropout_step, uint32_t dropout_layer, py::handle dropout_scratch) {
        stack_backward(backend, grad_out, x, weights, biases, outputs, grad_weights, grad_biases, grad_x, activations,
                       negative_slope, num_threads, stream, allow_tf32, workspace,
                       DropoutArgs{dropout, dropout_seed, dropout_step, dropout_layer, dropout_scratch}, kStack);
      },
      py::arg("grad_out"), py::arg("x"), py::arg("weights"), py::arg("biases"), py::arg("outputs"),
      py::arg("grad_weights"), py::arg("grad_biases"), py::arg("grad_x"), py::arg("activations"),
      py::arg("negative_slope"), py::arg("num_threads"), py::arg("stream") = 0, py::arg("allow_tf32") = false,
      py::arg("workspace") = py::none(), py::arg("dropout") = std::vector<float>{}, py::arg("dropout_seed") = 0,
      py::arg("dropout_step") = 0, py::arg("dropout_layer") = 0, py::arg("dropout_scratch") = py::none(),
      "Backward pass of a stack of fused layers from grad_out of the last output and the saved outputs; "
      "biases are only checked for shape; any gradient output may be None to skip it.");
}

}  // namespace pyaae::bindings
