// Arrays received from Python, checked before any kernel sees them: errors name the argument.
// Host arrays cross through the buffer protocol (NumPy, a torch CPU tensor's .numpy()); device
// arrays through __cuda_array_interface__ (torch CUDA tensors, CuPy arrays).
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace pyaae::bindings {

namespace py = pybind11;

// A C-contiguous float32 array: pointer, shape and the argument's name. `keep` holds whatever keeps
// the memory valid (an acquired buffer) for as long as this object lives.
struct FloatArray {
  float* ptr = nullptr;
  std::vector<int64_t> shape;
  int64_t size = 0;
  std::string name;
  std::shared_ptr<void> keep;
  float* data() const { return ptr; }
  int64_t dim(int i) const { return shape[static_cast<size_t>(i)]; }
};

// How a binding reads its array arguments: float_array (host) or device_array (CUDA).
using ArrayReader = FloatArray (*)(py::handle obj, const std::string& name, int ndim, bool writable);

// Host array. Raises TypeError (not a buffer, not float32) or ValueError (ndim, not C-contiguous).
FloatArray float_array(py::handle obj, const std::string& name, int ndim, bool writable);

// CUDA array, by __cuda_array_interface__. Same checks, and ValueError for a read-only output.
FloatArray device_array(py::handle obj, const std::string& name, int ndim, bool writable);

// Raises ValueError unless dimension i of a has extent want; `what` names the dimension and
// `context` says where want comes from (" to match x").
void expect_dim(const FloatArray& a, int i, int64_t want, const char* what, const std::string& context = "");

// Raises ValueError if output shares memory with any of inputs (outputs written while inputs are read).
void expect_disjoint(const FloatArray& output, const std::vector<const FloatArray*>& inputs);

int checked_threads(int num_threads);

}  // namespace pyaae::bindings
