// Binds linear_forward / linear_backward / mlp_forward / mlp_backward over host arrays to a back end:
// the CPU kernels in pyaae._C, the emulated CUDA kernels in pyaae.emu.
#pragma once

#include <pybind11/pybind11.h>

#include "pyaae/fused_mlp.h"

namespace pyaae::bindings {

struct Backend {
  LinearForwardFn forward;
  LinearBackwardFn backward;
};

void bind_fused_linear(pybind11::module_& m, const Backend& backend);

}  // namespace pyaae::bindings
