#include "arrays.h"

#include <pybind11/stl.h>

namespace pyaae::bindings {
namespace {

// Raises unless `strides` (in bytes) are those of a C-contiguous float32 array of `shape`;
// extents of 1 may have any stride.
void expect_c_contiguous(const std::vector<int64_t>& shape, const std::vector<int64_t>& strides,
                         const std::string& name) {
  int64_t expected = sizeof(float);
  for (int i = static_cast<int>(shape.size()) - 1; i >= 0; --i) {
    if (shape[static_cast<size_t>(i)] > 1 && strides[static_cast<size_t>(i)] != expected) {
      throw py::value_error(name + " must be C-contiguous");
    }
    expected *= shape[static_cast<size_t>(i)];
  }
}

void expect_ndim(int64_t ndim, int want, const std::string& name) {
  if (ndim != want) {
    throw py::value_error(name + " must be " + std::to_string(want) + "-D, got " + std::to_string(ndim) + "-D");
  }
}

int64_t element_count(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

}  // namespace

FloatArray float_array(py::handle obj, const std::string& name, int ndim, bool writable) {
  if (!PyObject_CheckBuffer(obj.ptr())) {
    throw py::type_error(name + " must be an array supporting the buffer protocol, got " +
                         std::string(py::str(py::type::of(obj).attr("__name__"))));
  }
  std::shared_ptr<py::buffer_info> info;
  try {
    info = std::make_shared<py::buffer_info>(py::reinterpret_borrow<py::buffer>(obj).request(writable));
  } catch (const py::error_already_set& e) {
    if (writable && e.matches(PyExc_BufferError)) throw py::value_error(name + " is read-only: " + e.what());
    if (writable && e.matches(PyExc_ValueError)) throw py::value_error(name + " is not writable: " + e.what());
    throw;
  }
  if (info->format != py::format_descriptor<float>::format() || info->itemsize != sizeof(float)) {
    throw py::type_error(name + " must be float32, got buffer format '" + info->format + "'");
  }
  expect_ndim(info->ndim, ndim, name);
  FloatArray a;
  a.shape.assign(info->shape.begin(), info->shape.end());
  expect_c_contiguous(a.shape, std::vector<int64_t>(info->strides.begin(), info->strides.end()), name);
  a.ptr = static_cast<float*>(info->ptr);
  a.size = element_count(a.shape);
  a.name = name;
  a.keep = info;
  return a;
}

FloatArray device_array(py::handle obj, const std::string& name, int ndim, bool writable) {
  if (!py::hasattr(obj, "__cuda_array_interface__")) {
    throw py::type_error(name + " must be a CUDA array (torch CUDA tensor or CuPy array), got " +
                         std::string(py::str(py::type::of(obj).attr("__name__"))));
  }
  const py::dict cai = obj.attr("__cuda_array_interface__");
  const std::string typestr = py::str(cai["typestr"]);
  if (typestr != "<f4") throw py::type_error(name + " must be float32, got typestr '" + typestr + "'");
  FloatArray a;
  a.shape = cai["shape"].cast<std::vector<int64_t>>();
  expect_ndim(static_cast<int64_t>(a.shape.size()), ndim, name);
  if (!cai["strides"].is_none()) expect_c_contiguous(a.shape, cai["strides"].cast<std::vector<int64_t>>(), name);
  const auto data = cai["data"].cast<std::pair<uintptr_t, bool>>();
  if (writable && data.second) throw py::value_error(name + " is read-only");
  a.ptr = reinterpret_cast<float*>(data.first);
  a.size = element_count(a.shape);
  a.name = name;
  return a;
}

void expect_dim(const FloatArray& a, int i, int64_t want, const char* what, const std::string& context) {
  if (a.dim(i) != want) {
    throw py::value_error(a.name + " has " + std::to_string(a.dim(i)) + " " + what + ", expected " +
                          std::to_string(want) + context);
  }
}

void expect_disjoint(const FloatArray& output, const std::vector<const FloatArray*>& inputs) {
  for (const FloatArray* in : inputs) {
    if (output.size > 0 && in->size > 0 && output.ptr < in->ptr + in->size && in->ptr < output.ptr + output.size) {
      throw py::value_error(output.name + " must not overlap " + in->name);
    }
  }
}

int checked_threads(int num_threads) {
  if (num_threads < 1) throw py::value_error("num_threads must be >= 1, got " + std::to_string(num_threads));
  return num_threads;
}

}  // namespace pyaae::bindings
