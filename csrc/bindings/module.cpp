// The one pybind11 module, pyaae._C. Every function validates its arguments (dtype, shape,
// contiguity, aliasing) and raises TypeError/ValueError naming the argument, then releases the GIL
// around the kernel: no kernel ever sees an invalid array.
#include <pybind11/pybind11.h>

#include "bind_fused_linear.h"
#include "pyaae/fused_linear.h"
#if defined(PYAAE_WITH_CUDA)
#include "pyaae/fused_linear_cuda.h"
#endif

namespace py = pybind11;

namespace pyaae::bindings {
void bind_system(py::module_& m);
}  // namespace pyaae::bindings

PYBIND11_MODULE(_C, m) {
  m.doc() = "pyaae kernels (framework-free C++/CUDA core)";
  pyaae::bindings::bind_fused_linear(
      m, {&pyaae::linear_forward_cpu, &pyaae::linear_backward_cpu, &pyaae::bindings::float_array});
#if defined(PYAAE_WITH_CUDA)
  // The same functions on CUDA arrays, prefixed cuda_: single layers only (a stack's hidden
  // gradients live in host workspaces), launched on the stream passed in.
  pyaae::bindings::bind_fused_linear(
      m, {&pyaae::linear_forward_cuda, &pyaae::linear_backward_cuda, &pyaae::bindings::device_array, false},
      "cuda_");
#endif
  pyaae::bindings::bind_system(m);
}
