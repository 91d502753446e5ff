// CUDA fused linear layer: the same passes as the CPU kernels (pyaae/fused_linear.h), on device
// pointers, launched on args.stream (a cudaStream_t; null for the default stream). Nothing is
// allocated and the device is never synchronized. Compiled by nvcc into pyaae._C, and as C++
// under the SIMT emulator into pyaae.emu, where the pointers are host pointers.
#pragma once

#include "pyaae/fused_linear.h"

namespace pyaae {

void linear_forward_cuda(const LinearForwardArgs& args);
// Floats of workspace with which the forward and backward passes of this layer may split k over
// more blocks (0: they never would). Depends on the current device's SM count.
int64_t linear_workspace_floats_cuda(int64_t batch, int64_t in_features, int64_t out_features, bool allow_tf32);
void linear_backward_cuda(const LinearBackwardArgs& args);

}  // namespace pyaae
