// Bindings that describe and tune the machine: SIMD level, CUDA availability, FMA peak.
#include <pybind11/stl.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "arrays.h"
#include "pyaae/build_config.h"
#include "pyaae/cpu_features.h"
#include "pyaae/diagnostics.h"
#if defined(PYAAE_WITH_CUDA)
#include "pyaae/cuda_info.h"
#endif

namespace pyaae::bindings {
namespace {

std::vector<std::string> supported_levels() {
  std::vector<std::string> names;
  for (auto level : supported_simd_levels()) names.emplace_back(simd_level_name(level));
  return names;
}

py::dict cuda_info() {
  py::dict info;
#if defined(PYAAE_WITH_CUDA)
  std::string why_none;
  const int devices = cuda_usable_device_count(&why_none);
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

void bind_system(py::module_& m) {
  m.attr("COMPILER") = kCompiler;
  m.def("simd_level", [] { return std::string(simd_level_name(current_simd_level())); },
        "The SIMD level the CPU kernels use now.");
  m.def("supported_simd_levels", &supported_levels, "SIMD levels this build and processor can run.");
  m.def(
      "set_simd_level", [](const std::string& level) { set_simd_level(level); }, py::arg("level"),
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
  m.def("cuda_info", &cuda_info,
        "Whether CUDA kernels were compiled, for which architectures, and how many devices run them.");

  if (const char* level = std::getenv("PYAAE_SIMD")) {
    try {
      set_simd_level(level);
    } catch (const std::invalid_argument& e) {
      throw py::value_error(std::string("environment variable PYAAE_SIMD: ") + e.what());
    }
  }
}

}  // namespace pyaae::bindings
