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
         : k == "grad_weights" ? std::string("grad_weight") : std::string("grad_bias");
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
                  const Naming& name, bool outputs_writable) {
  const size_t n = weights.size();
  if (n == 0) throw py::value_error("a stack needs at least one layer (weights is empty)");
  if (biases.size() != n || outputs.size() != n || activations.size() != n) {
    throw py::value_error("weights, biases, outputs and activations must have the same length, got " +
                          std::to_string(n) + ", " + std::to_string(biases.size()) + ", " +
                          std::to_string(outputs.size()) + ", " + std::to_string(activations.size()));
  }
  Stack s{read(x, "x", 2, false), {}, {}, {}, {}, 0};
  s.batch = s.x.dim(0);
  int64_t in_features = s.x.dim(1);
  for (size_t i = 0; i < n; ++i) {
    MlpLayer layer;
    layer.activation = activation_from(activations[i], negative_slope);
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
                   int num_threads, uintptr_t stream, bool allow_tf32, py::handle workspace, const Naming& name) {
  MlpForwardArgs args;
  args.num_threads = checked_threads(num_threads);
  args.stream = reinterpret_cast<void*>(stream);
  args.allow_tf32 = allow_tf32;
  Stack s = check_stack(backend.read, x, weights, biases, outputs, activations, negative_slope, name, true);
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
                    uintptr_t stream, bool allow_tf32, py::handle workspace, const Naming& name) {
  MlpBackwardArgs args;
  args.num_threads = checked_threads(num_threads);
  args.stream = reinterpret_cast<void*>(stream);
  args.allow_tf32 = allow_tf32;
  Stack s = check_stack(backend.read, x, weights, biases_or_none, outputs, activations, negative_slope, name, false);
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
  written.reserve(2 * n + 1);
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
                int num_threads, uintptr_t stream, bool allow_tf32, py::handle workspace) {
        stack_forward(backend, x, {weight}, {bias}, {out}, {activation}, negative_slope, num_threads, stream,
                      allow_tf32, workspace, kSingleLayer);
      },
      py::arg("x"), py::arg("weight"), py::arg("bias"), py::arg("out"), py::arg("activation"),
      py::arg("negative_slope"), py::arg("num_threads"), py::arg("stream") = 0, py::arg("allow_tf32") = false,
      py::arg("workspace") = py::none(),
      "out = act(x @ weight.T + bias) for C-contiguous float32 arrays; bias may be None.");
  m.def(
      (prefix + "linear_backward").c_str(),
      [backend](py::handle grad_out, py::handle out, py::handle x, py::handle weight, py::handle grad_x,
                py::handle grad_weight, py::handle grad_bias, int activation, float negative_slope, int num_threads,
                uintptr_t stream, bool allow_tf32, py::handle workspace) {
        stack_backward(backend, grad_out, x, {weight}, {py::none()}, {out}, {grad_weight}, {grad_bias}, grad_x,
                       {activation}, negative_slope, num_threads, stream, allow_tf32, workspace, kSingleLayer);
      },
      py::arg("grad_out"), py::arg("out"), py::arg("x"), py::arg("weight"), py::arg("grad_x"),
      py::arg("grad_weight"), py::arg("grad_bias"), py::arg("activation"), py::arg("negative_slope"),
      py::arg("num_threads"), py::arg("stream") = 0, py::arg("allow_tf32") = false,
      py::arg("workspace") = py::none(),
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
                int num_threads, uintptr_t stream, bool allow_tf32, py::handle workspace) {
        stack_forward(backend, x, weights, biases, outputs, activations, negative_slope, num_threads, stream, allow_tf32,
                      workspace, kStack);
      },
      py::arg("x"), py::arg("weights"), py::arg("biases"), py::arg("outputs"), py::arg("activations"),
      py::arg("negative_slope"), py::arg("num_threads"), py::arg("stream") = 0, py::arg("allow_tf32") = false,
      py::arg("workspace") = py::none(),
      "Forward pass of a stack of fused layers; outputs[i] receives layer i's output (kept for backward).");
  m.def(
      (prefix + "mlp_backward").c_str(),
      [backend](py::handle grad_out, py::handle x, const std::vector<py::handle>& weights,
                const std::vector<py::handle>& biases, const std::vector<py::handle>& outputs,
                const std::vector<py::handle>& grad_weights, const std::vector<py::handle>& grad_biases,
                py::handle grad_x, const std::vector<int>& activations, float negative_slope, int num_threads,
                uintptr_t stream, bool allow_tf32, py::handle workspace) {
        stack_backward(backend, grad_out, x, weights, biases, outputs, grad_weights, grad_biases, grad_x, activations,
                       negative_slope, num_threads, stream, allow_tf32, workspace, kStack);
      },
      py::arg("grad_out"), py::arg("x"), py::arg("weights"), py::arg("biases"), py::arg("outputs"),
      py::arg("grad_weights"), py::arg("grad_biases"), py::arg("grad_x"), py::arg("activations"),
      py::arg("negative_slope"), py::arg("num_threads"), py::arg("stream") = 0, py::arg("allow_tf32") = false,
      py::arg("workspace") = py::none(),
      "Backward pass of a stack of fused layers from grad_out of the last output and the saved outputs; "
      "biases are only checked for shape; any gradient output may be None to skip it.");
}

}  // namespace pyaae::bindings
