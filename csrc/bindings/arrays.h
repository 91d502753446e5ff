// Arrays received from Python through the buffer protocol (NumPy, a torch CPU tensor's .numpy()),
// checked before any kernel sees them: errors name the argument.
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <vector>

namespace pyaae::bindings {

namespace py = pybind11;

// A C-contiguous float32 array; the buffer stays acquired as long as this object lives.
struct FloatArray {
  py::buffer_info info;
  std::string name;
  float* data() const { return static_cast<float*>(info.ptr); }
  int64_t dim(int i) const { return static_cast<int64_t>(info.shape[static_cast<size_t>(i)]); }
};

// Raises TypeError (not a buffer, not float32) or ValueError (wrong ndim, not C-contiguous).
FloatArray float_array(py::handle obj, const std::string& name, int ndim, bool writable);

// Raises ValueError unless dimension i of a has extent want; `what` names the dimension and
// `context` says where want comes from (" to match x").
void expect_dim(const FloatArray& a, int i, int64_t want, const char* what, const std::string& context = "");

// Raises ValueError if output shares memory with any of inputs (outputs written while inputs are read).
void expect_disjoint(const FloatArray& output, const std::vector<const FloatArray*>& inputs);

int checked_threads(int num_threads);

}  // namespace pyaae::bindings
