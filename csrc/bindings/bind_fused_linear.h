// Binds linear_forward / linear_backward / mlp_forward / mlp_backward to a back end: the CPU kernels
// and (in CUDA builds) the CUDA kernels in pyaae._C, the emulated CUDA kernels in pyaae.emu.
#pragma once

#include <pybind11/pybind11.h>

#include <string>

#include "arrays.h"
#include "pyaae/fused_mlp.h"

namespace pyaae::bindings {

struct Backend {
  LinearForwardFn forward;
  LinearBackwardFn backward;
  ArrayReader read;  // float_array for host back ends, device_array for CUDA
  // Whether the back end works on host memory: only then can stacks of several layers run backward,
  // since their hidden gradients live in host workspaces.
  bool host_memory = true;
};

// Binds {prefix}linear_forward, {prefix}linear_backward, {prefix}mlp_forward and {prefix}mlp_backward.
// Every function ends with `stream` (a cudaStream_t as an int) and `allow_tf32` (TF32 tensor cores),
// both used by CUDA back ends only.
void bind_fused_linear(pybind11::module_& m, const Backend& backend, const std::string& prefix = "");

}  // namespace pyaae::bindings
