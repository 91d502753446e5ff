// The one pybind11 module, pyaae._C. Every function validates its arguments (dtype, shape,
// contiguity, aliasing) and raises TypeError/ValueError naming the argument, then releases the GIL
// around the kernel: no kernel ever sees an invalid array.
#include <pybind11/pybind11.h>

#include "bind_fused_linear.h"
#include "bind_parzen.h"
#include "bind_priors.h"
#include "pyaae/fused_linear.h"
#if defined(PYAAE_WITH_CUDA)
#include "pyaae/fused_linear_cuda.h"
#endif

namespace py = pybind11;

namespace pyaae::bindings {
void bind_system(py::module_& m);
}  // namespace pyaae::bindings

namespace {

void priors_cpu(const pyaae::PriorSampling& p, int num_threads, void*) { pyaae::sample_prior_cpu(p, num_threads); }
#if defined(PYAAE_WITH_CUDA)
void priors_cuda(const pyaae::PriorSampling& p, int, void* stream) { pyaae::sample_prior_cuda(p, stream); }
#endif

}  // namespace

PYBIND11_MODULE(_C, m) {
  m.doc() = "pyaae kernels (framework-free C++/CUDA core)";
  pyaae::bindings::bind_fused_linear(
      m, {&pyaae::linear_forward_cpu, &pyaae::linear_backward_cpu, &pyaae::bindings::float_array});
#if defined(PYAAE_WITH_CUDA)
  // The same functions on CUDA arrays, prefixed cuda_: single layers only (a stack's hidden
  // gradients live in host workspaces), launched on the stream passed in.
  pyaae::bindings::bind_fused_linear(
      m, {&pyaae::linear_forward_cuda, &pyaae::linear_backward_cuda, &pyaae::bindings::device_array, false,
          &pyaae::linear_workspace_floats_cuda},
      "cuda_");
#endif
  pyaae::bindings::bind_priors(m, &priors_cpu, false);
#if defined(PYAAE_WITH_CUDA)
  pyaae::bindings::bind_priors(m, &priors_cuda, true, "cuda_");
#endif
  pyaae::bindings::bind_parzen(m, &pyaae::parzen_cpu, &pyaae::bindings::float_array, true);
#if defined(PYAAE_WITH_CUDA)
  pyaae::bindings::bind_parzen(m, &pyaae::parzen_cuda, &pyaae::bindings::device_array, false, "cuda_");
#endif
  pyaae::bindings::bind_system(m);
}
