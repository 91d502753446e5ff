#include "arrays.h"

namespace pyaae::bindings {

FloatArray float_array(py::handle obj, const std::string& name, int ndim, bool writable) {
  if (!PyObject_CheckBuffer(obj.ptr())) {
    throw py::type_error(name + " must be an array supporting the buffer protocol, got " +
                         std::string(py::str(py::type::of(obj).attr("__name__"))));
  }
  py::buffer_info info = py::reinterpret_borrow<py::buffer>(obj).request(writable);
  if (info.format != py::format_descriptor<float>::format() || info.itemsize != sizeof(float)) {
    throw py::type_error(name + " must be float32, got buffer format '" + info.format + "'");
  }
  if (info.ndim != ndim) {
    throw py::value_error(name + " must be " + std::to_string(ndim) + "-D, got " + std::to_string(info.ndim) + "-D");
  }
  py::ssize_t expected = sizeof(float);
  for (int i = ndim - 1; i >= 0; --i) {
    if (info.shape[static_cast<size_t>(i)] > 1 && info.strides[static_cast<size_t>(i)] != expected) {
      throw py::value_error(name + " must be C-contiguous");
    }
    expected *= info.shape[static_cast<size_t>(i)];
  }
  return FloatArray{std::move(info), name};
}

void expect_dim(const FloatArray& a, int i, int64_t want, const char* what, const std::string& context) {
  if (a.dim(i) != want) {
    throw py::value_error(a.name + " has " + std::to_string(a.dim(i)) + " " + what + ", expected " +
                          std::to_string(want) + context);
  }
}

void expect_disjoint(const FloatArray& output, const std::vector<const FloatArray*>& inputs) {
  const auto* begin = static_cast<const char*>(output.info.ptr);
  const auto* end = begin + output.info.size * static_cast<py::ssize_t>(sizeof(float));
  for (const FloatArray* in : inputs) {
    const auto* in_begin = static_cast<const char*>(in->info.ptr);
    const auto* in_end = in_begin + in->info.size * static_cast<py::ssize_t>(sizeof(float));
    if (output.info.size > 0 && in->info.size > 0 && begin < in_end && in_begin < end) {
      throw py::value_error(output.name + " must not overlap " + in->name);
    }
  }
}

int checked_threads(int num_threads) {
  if (num_threads < 1) throw py::value_error("num_threads must be >= 1, got " + std::to_string(num_threads));
  return num_threads;
}

}  // namespace pyaae::bindings
