// pyaae.emu: the CUDA kernels run on the CPU by the SIMT emulator (csrc/emu/simt.h), on host
// arrays, with the same functions and checks as pyaae._C. For tests: it is slow by design.
#include <pybind11/pybind11.h>

#include "arrays.h"
#include "bind_fused_linear.h"
#include "bind_parzen.h"
#include "bind_priors.h"
#include "pyaae/fused_linear_cuda.h"
#include "pyaae/prior_sampling.h"

namespace {

void priors(const pyaae::PriorSampling& p, int, void* stream) { pyaae::sample_prior_cuda(p, stream); }

}  // namespace

PYBIND11_MODULE(emu, m) {
  m.doc() = "pyaae CUDA kernels under CPU emulation (one OS thread per CUDA thread, one block at a time)";
  pyaae::bindings::bind_fused_linear(m, {&pyaae::linear_forward_cuda, &pyaae::linear_backward_cuda,
                                         &pyaae::bindings::float_array, true, &pyaae::linear_workspace_floats_cuda});
  pyaae::bindings::bind_priors(m, &priors, false);
  pyaae::bindings::bind_parzen(m, &pyaae::parzen_cuda, &pyaae::bindings::float_array, true);
}
