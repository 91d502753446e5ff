#include "arrays.h"

#include <pybind11/stl.h>

namespace pyaae::bindings {
namespace {

// Raises unless `strides` (in bytes) are those of a C-contiguous array of `shape`;
// extents of 1 may have any stride.
void expect_c_contiguous(const std::vector<int64_t>& shape, const std::vector<int64_t>& strides,
                         int64_t itemsize, const std::string& name) {
  int64_t expected = itemsize;
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

// The buffer-protocol format and the __cuda_array_interface__ typestr of each element type.
template <class T>
struct Dtype;
template <>
struct Dtype<float> {
  static constexpr const char* name = "float32";
  static constexpr const char* typestr = "<f4";
  static bool matches(const py::buffer_info& b) {
    return b.format == py::format_descriptor<float>::format() && b.itemsize == sizeof(float);
  }
};
template <>
struct Dtype<int64_t> {
  static constexpr const char* name = "int64";
  static constexpr const char* typestr = "<i8";
  static bool matches(const py::buffer_info& b) {
    return (b.format == "l" || b.format == "q" || b.format == "<l" || b.format == "<q") && b.itemsize == 8;
  }
};

template <class T>
Array<T> host_array(py::handle obj, const std::string& name, int ndim, bool writable) {
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
  if (!Dtype<T>::matches(*info)) {
    throw py::type_error(name + " must be " + Dtype<T>::name + ", got buffer format '" + info->format + "'");
  }
  expect_ndim(info->ndim, ndim, name);
  Array<T> a;
  a.shape.assign(info->shape.begin(), info->shape.end());
  expect_c_contiguous(a.shape, std::vector<int64_t>(info->strides.begin(), info->strides.end()), sizeof(T), name);
  a.ptr = static_cast<T*>(info->ptr);
  a.size = element_count(a.shape);
  a.name = name;
  a.keep = info;
  return a;
}

template <class T>
Array<T> cuda_array(py::handle obj, const std::string& name, int ndim, bool writable) {
  if (!py::hasattr(obj, "__cuda_array_interface__")) {
    throw py::type_error(name + " must be a CUDA array (torch CUDA tensor or CuPy array), got " +
                         std::string(py::str(py::type::of(obj).attr("__name__"))));
  }
  const py::dict cai = obj.attr("__cuda_array_interface__");
  const std::string typestr = py::str(cai["typestr"]);
  if (typestr != Dtype<T>::typestr) {
    throw py::type_error(name + " must be " + Dtype<T>::name + ", got typestr '" + typestr + "'");
  }
  Array<T> a;
  a.shape = cai["shape"].cast<std::vector<int64_t>>();
  expect_ndim(static_cast<int64_t>(a.shape.size()), ndim, name);
  if (!cai["strides"].is_none()) {
    expect_c_contiguous(a.shape, cai["strides"].cast<std::vector<int64_t>>(), sizeof(T), name);
  }
  const auto data = cai["data"].cast<std::pair<uintptr_t, bool>>();
  if (writable && data.second) throw py::value_error(name + " is read-only");
  a.ptr = reinterpret_cast<T*>(data.first);
  a.size = element_count(a.shape);
  a.name = name;
  return a;
}

template Array<float> host_array<float>(py::handle, const std::string&, int, bool);
template Array<int64_t> host_array<int64_t>(py::handle, const std::string&, int, bool);
template Array<float> cuda_array<float>(py::handle, const std::string&, int, bool);
template Array<int64_t> cuda_array<int64_t>(py::handle, const std::string&, int, bool);

int checked_threads(int num_threads) {
  if (num_threads < 1) throw py::value_error("num_threads must be >= 1, got " + std::to_string(num_threads));
  return num_threads;
}

}  // namespace pyaae::bindings
