// Binds linear_forward / linear_backward / mlp_forward / mlp_backward to a back end: the CPU kernels
// and (in CUDA builds) the CUDA kernels in pyaae._C, the emulated CUDA kernels in pyaae.emu.
#pragma once

#include <pybind11/pybind11.h>

#include <string>

#include "arrays.h"
#include "pyaae/fused_mlp.h"

namespace pyaae::bindings {

// Floats of split-K workspace a layer's passes can use (CUDA back ends).
using WorkspaceFloatsFn = int64_t (*)(int64_t batch, int64_t in_features, int64_t out_features, bool allow_tf32);

struct Backend {
  LinearForwardFn forward;
  LinearBackwardFn backward;
  ArrayReader read;  // float_array for host back ends, device_array for CUDA
  // Whether the back end works on host memory: only then can stacks of several layers run backward,
  // since their hidden gradients live in host workspaces.
  bool host_memory = true;
  // Set for back ends that take a workspace: then {prefix}linear_workspace_floats is bound too.
  WorkspaceFloatsFn workspace_floats = nullptr;
};

// Binds {prefix}linear_forward, {prefix}linear_backward, {prefix}mlp_forward and {prefix}mlp_backward.
// Every function ends with `stream` (a cudaStream_t as an int), `allow_tf32` (TF32 tensor cores) and
// `workspace` (None or a 1-D float32 array for split-K partial sums), used by CUDA back ends only.
void bind_fused_linear(pybind11::module_& m, const Backend& backend, const std::string& prefix = "");

}  // namespace pyaae::bindings
