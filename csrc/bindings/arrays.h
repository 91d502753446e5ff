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

// A C-contiguous array of T (float or int64): pointer, shape and the argument's name. `keep` holds
// whatever keeps the memory valid (an acquired buffer) for as long as this object lives.
template <class T>
struct Array {
  T* ptr = nullptr;
  std::vector<int64_t> shape;
  int64_t size = 0;
  std::string name;
  std::shared_ptr<void> keep;
  T* data() const { return ptr; }
  int64_t dim(int i) const { return shape[static_cast<size_t>(i)]; }
  const char* begin() const { return reinterpret_cast<const char*>(ptr); }
  const char* end() const { return reinterpret_cast<const char*>(ptr + size); }
};
using FloatArray = Array<float>;
using Int64Array = Array<int64_t>;

// How a binding reads its array arguments: float_array (host) or device_array (CUDA).
using ArrayReader = FloatArray (*)(py::handle obj, const std::string& name, int ndim, bool writable);

// Host array. Raises TypeError (not a buffer, wrong dtype) or ValueError (ndim, not C-contiguous,
// read-only output).
template <class T>
Array<T> host_array(py::handle obj, const std::string& name, int ndim, bool writable);
inline FloatArray float_array(py::handle obj, const std::string& name, int ndim, bool writable) {
  return host_array<float>(obj, name, ndim, writable);
}

// CUDA array, by __cuda_array_interface__. The same checks.
template <class T>
Array<T> cuda_array(py::handle obj, const std::string& name, int ndim, bool writable);
inline FloatArray device_array(py::handle obj, const std::string& name, int ndim, bool writable) {
  return cuda_array<float>(obj, name, ndim, writable);
}

// Raises ValueError unless dimension i of a has extent want; `what` names the dimension and
// `context` says where want comes from (" to match x").
template <class T>
void expect_dim(const Array<T>& a, int i, int64_t want, const char* what, const std::string& context = "") {
  if (a.dim(i) != want) {
    throw py::value_error(a.name + " has " + std::to_string(a.dim(i)) + " " + what + ", expected " +
                          std::to_string(want) + context);
  }
}

// Raises ValueError if output shares memory with any of inputs (outputs written while inputs are read).
template <class T, class U>
void expect_disjoint(const Array<T>& output, const std::vector<const Array<U>*>& inputs) {
  for (const Array<U>* in : inputs) {
    if (output.size > 0 && in->size > 0 && output.begin() < in->end() && in->begin() < output.end()) {
      throw py::value_error(output.name + " must not overlap " + in->name);
    }
  }
}

int checked_threads(int num_threads);

}  // namespace pyaae::bindings
