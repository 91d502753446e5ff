// The one pybind11 module, pyaae._C. It validates every argument (dtype, shape, contiguity,
// aliasing), raises TypeError/ValueError naming the argument, turns buffers into raw pointers,
// and releases the GIL around each kernel. No kernel ever sees an invalid array.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "pyaae/build_config.h"
#include "pyaae/cpu_features.h"
#include "pyaae/diagnostics.h"
#include "pyaae/fused_linear.h"
#if defined(PYAAE_WITH_CUDA)
#include "pyaae/cuda_info.h"
#endif

namespace py = pybind11;

namespace {

// A C-contiguous float32 array received through the buffer protocol (NumPy, a torch CPU tensor's
// .numpy(), ...). The buffer stays acquired as long as this object lives.
struct FloatArray {
  py::buffer_info info;
  float* data() const { return static_cast<float*>(info.ptr); }
  int64_t dim(int i) const { return static_cast<int64_t>(info.shape[static_cast<size_t>(i)]); }
  const char* begin() const { return static_cast<const char*>(info.ptr); }
  const char* end() const { return begin() + info.size * static_cast<int64_t>(sizeof(float)); }
};

FloatArray float_array(py::handle obj, const char* name, int ndim, bool writable) {
  if (!PyObject_CheckBuffer(obj.ptr())) {
    throw py::type_error(std::string(name) + " must be an array supporting the buffer protocol, got " +
                         std::string(py::str(py::type::of(obj).attr("__name__"))));
  }
  py::buffer_info info = py::reinterpret_borrow<py::buffer>(obj).request(writable);
  if (info.format != py::format_descriptor<float>::format() || info.itemsize != sizeof(float)) {
    throw py::type_error(std::string(name) + " must be float32, got buffer format '" + info.format + "'");
  }
  if (info.ndim != ndim) {
    throw py::value_error(std::string(name) + " must be " + std::to_string(ndim) + "-D, got " +
                          std::to_string(info.ndim) + "-D");
  }
  py::ssize_t expected = sizeof(float);
  for (int i = ndim - 1; i >= 0; --i) {
    if (info.shape[static_cast<size_t>(i)] > 1 && info.strides[static_cast<size_t>(i)] != expected) {
      throw py::value_error(std::string(name) + " must be C-contiguous");
    }
    expected *= info.shape[static_cast<size_t>(i)];
  }
  return FloatArray{std::move(info)};
}

void expect_dim(const FloatArray& a, int i, int64_t want, const char* name, const char* what) {
  if (a.dim(i) != want) {
    throw py::value_error(std::string(name) + " has " + std::to_string(a.dim(i)) + " " + what +
                          ", expected " + std::to_string(want));
  }
}

void expect_disjoint(const FloatArray& out, const char* out_name, const FloatArray& in, const char* in_name) {
  if (out.info.size > 0 && in.info.size > 0 && out.begin() < in.end() && in.begin() < out.end()) {
    throw py::value_error(std::string(out_name) + " must not overlap " + in_name);
  }
}

pyaae::Activation activation_from(int code, float negative_slope) {
  if (code < 0 || code > static_cast<int>(pyaae::Activation::Tanh)) {
    throw py::value_error("activation code " + std::to_string(code) + " is unknown");
  }
  if (!std::isfinite(negative_slope) || negative_slope < 0.0f) {
    throw py::value_error("negative_slope must be a finite number >= 0, got " + std::to_string(negative_slope));
  }
  return static_cast<pyaae::Activation>(code);
}

int checked_threads(int num_threads) {
  if (num_threads < 1) throw py::value_error("num_threads must be >= 1, got " + std::to_string(num_threads));
  return num_threads;
}

void linear_forward(py::handle x_obj, py::handle w_obj, py::handle b_obj, py::handle y_obj, int activation,
                    float negative_slope, int num_threads) {
  pyaae::LinearForwardArgs args;
  args.activation = activation_from(activation, negative_slope);
  args.negative_slope = negative_slope;
  args.num_threads = checked_threads(num_threads);
  const FloatArray x = float_array(x_obj, "x", 2, false);
  const FloatArray w = float_array(w_obj, "weight", 2, false);
  args.batch = x.dim(0);
  args.in_features = x.dim(1);
  args.out_features = w.dim(0);
  expect_dim(w, 1, args.in_features, "weight", "input features (columns)");
  std::vector<FloatArray> held;
  if (!b_obj.is_none()) {
    held.push_back(float_array(b_obj, "bias", 1, false));
    expect_dim(held.back(), 0, args.out_features, "bias", "elements");
    args.bias = held.back().data();
  }
  const FloatArray y = float_array(y_obj, "out", 2, true);
  expect_dim(y, 0, args.batch, "out", "rows");
  expect_dim(y, 1, args.out_features, "out", "columns");
  expect_disjoint(y, "out", x, "x");
  expect_disjoint(y, "out", w, "weight");
  if (!held.empty()) expect_disjoint(y, "out", held.back(), "bias");
  args.x = x.data();
  args.weight = w.data();
  args.y = y.data();
  py::gil_scoped_release release;
  pyaae::linear_forward_cpu(args);
}

void linear_backward(py::handle gy_obj, py::handle y_obj, py::handle x_obj, py::handle w_obj,
                     py::handle gx_obj, py::handle gw_obj, py::handle gb_obj, int activation,
                     float negative_slope, int num_threads) {
  pyaae::LinearBackwardArgs args;
  args.activation = activation_from(activation, negative_slope);
  args.negative_slope = negative_slope;
  args.num_threads = checked_threads(num_threads);
  const FloatArray gy = float_array(gy_obj, "grad_out", 2, false);
  const FloatArray y = float_array(y_obj, "out", 2, false);
  const FloatArray x = float_array(x_obj, "x", 2, false);
  const FloatArray w = float_array(w_obj, "weight", 2, false);
  args.batch = x.dim(0);
  args.in_features = x.dim(1);
  args.out_features = w.dim(0);
  expect_dim(w, 1, args.in_features, "weight", "input features (columns)");
  expect_dim(gy, 0, args.batch, "grad_out", "rows");
  expect_dim(gy, 1, args.out_features, "grad_out", "columns");
  expect_dim(y, 0, args.batch, "out", "rows");
  expect_dim(y, 1, args.out_features, "out", "columns");
  const std::vector<std::pair<const FloatArray*, const char*>> inputs = {
      {&gy, "grad_out"}, {&y, "out"}, {&x, "x"}, {&w, "weight"}};
  std::vector<FloatArray> outputs;
  outputs.reserve(3);
  auto output = [&](py::handle obj, const char* name, int ndim, int64_t d0, int64_t d1) -> float* {
    if (obj.is_none()) return nullptr;
    outputs.push_back(float_array(obj, name, ndim, true));
    const FloatArray& a = outputs.back();
    expect_dim(a, 0, d0, name, ndim == 1 ? "elements" : "rows");
    if (ndim == 2) expect_dim(a, 1, d1, name, "columns");
    for (const auto& [in, in_name] : inputs) expect_disjoint(a, name, *in, in_name);
    for (size_t i = 0; i + 1 < outputs.size(); ++i) expect_disjoint(a, name, outputs[i], "another gradient output");
    return a.data();
  };
  args.grad_x = output(gx_obj, "grad_x", 2, args.batch, args.in_features);
  args.grad_weight = output(gw_obj, "grad_weight", 2, args.out_features, args.in_features);
  args.grad_bias = output(gb_obj, "grad_bias", 1, args.out_features, 0);
  args.grad_y = gy.data();
  args.y = y.data();
  args.x = x.data();
  args.weight = w.data();
  py::gil_scoped_release release;
  pyaae::linear_backward_cpu(args);
}

std::vector<std::string> supported_simd_levels() {
  std::vector<std::string> names;
  for (auto level : pyaae::supported_simd_levels()) names.emplace_back(pyaae::simd_level_name(level));
  return names;
}

py::dict cuda_info() {
  py::dict info;
#if defined(PYAAE_WITH_CUDA)
  std::string why_none;
  const int devices = pyaae::cuda_usable_device_count(&why_none);
  info["compiled"] = true;
  info["archs"] = kCudaArchs;
  info["device_count"] = devices;
  info["reason"] = devices > 0 ? std::string() : why_none;
#else
  info["compiled"] = false;
  info["archs"] = "";
  info["device_count"] = 0;
  info["reason"] = std::string("CUDA kernels not compiled: ") + kCudaSkipReason;
#endif
  return info;
}

}  // namespace

PYBIND11_MODULE(_C, m) {
  m.doc() = "pyaae kernels (framework-free C++/CUDA core)";

  py::dict activations;
  activations["identity"] = static_cast<int>(pyaae::Activation::Identity);
  activations["relu"] = static_cast<int>(pyaae::Activation::ReLU);
  activations["leaky_relu"] = static_cast<int>(pyaae::Activation::LeakyReLU);
  activations["sigmoid"] = static_cast<int>(pyaae::Activation::Sigmoid);
  activations["tanh"] = static_cast<int>(pyaae::Activation::Tanh);
  m.attr("ACTIVATIONS") = activations;
  m.attr("COMPILER") = kCompiler;

  m.def("linear_forward", &linear_forward, py::arg("x"), py::arg("weight"), py::arg("bias"), py::arg("out"),
        py::arg("activation"), py::arg("negative_slope"), py::arg("num_threads"),
        "out = act(x @ weight.T + bias) for C-contiguous float32 arrays; bias may be None.");
  m.def("linear_backward", &linear_backward, py::arg("grad_out"), py::arg("out"), py::arg("x"),
        py::arg("weight"), py::arg("grad_x"), py::arg("grad_weight"), py::arg("grad_bias"),
        py::arg("activation"), py::arg("negative_slope"), py::arg("num_threads"),
        "Gradients of the fused linear layer from grad_out and the saved output; any gradient "
        "output may be None to skip it.");
  m.def("simd_level", [] { return std::string(pyaae::simd_level_name(pyaae::current_simd_level())); },
        "The SIMD level the CPU kernels use now.");
  m.def("supported_simd_levels", &supported_simd_levels, "SIMD levels this build and processor can run.");
  m.def(
      "set_simd_level", [](const std::string& level) { pyaae::set_simd_level(level); }, py::arg("level"),
      "Choose the CPU kernels' SIMD path: 'auto', 'generic' or 'avx2'.");
  m.def(
      "fma_peak_gflops",
      [](int num_threads, double seconds) {
        checked_threads(num_threads);
        if (!(seconds > 0.0 && seconds <= 60.0)) throw py::value_error("seconds must be in (0, 60]");
        py::gil_scoped_release release;
        return pyaae::fma_peak_gflops(num_threads, seconds);
      },
      py::arg("num_threads") = 1, py::arg("seconds") = 0.2,
      "Measured float32 FMA peak in GFLOP/s (register-only loop) at the current SIMD level.");
  m.def("cuda_info", &cuda_info, "Whether CUDA kernels were compiled, for which architectures, and usable devices.");

  if (const char* level = std::getenv("PYAAE_SIMD")) {
    try {
      pyaae::set_simd_level(level);
    } catch (const std::invalid_argument& e) {
      throw py::value_error(std::string("environment variable PYAAE_SIMD: ") + e.what());
    }
  }
}
